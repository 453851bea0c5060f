"""Sharing as the Lab panel sees it: shares I made, shares with me, grantee search.

Paths here are CS3 paths; :mod:`mesh_zenodo.rest.sharing` maps them to and from the
Jupyter paths Lab shows. Shares are described in the small JSON the UI needs (no
protobuf outside this module and :mod:`mesh_zenodo.cs3.sharing`).
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any

from cs3.identity.group.v1beta1 import resources_pb2 as group_res
from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.sharing.collaboration.v1beta1 import resources_pb2 as share_res
from cs3.sharing.link.v1beta1 import resources_pb2 as link_res
from cs3.storage.provider.v1beta1 import resources_pb2 as spr

from ..cs3 import errors as cs3_errors
from ..cs3.client import CS3Client
from ..cs3.sharing import LINK_TYPES, ROLES, STATE_NAMES, STATES, Sharing, link_type_of, moment, role_of
from .errors import InvalidRequest

#: the shortest grantee query (as CERNBox: fewer characters match too many people)
MIN_QUERY = 3
#: most grantees answered for one query
MAX_GRANTEES = 50


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _user_json(user: user_res.User) -> dict[str, Any]:
    return {
        "type": "user",
        "id": user.id.opaque_id,
        "idp": user.id.idp,
        "name": user.username,
        "display_name": user.display_name or user.username,
        "mail": user.mail,
    }


def _group_json(group: group_res.Group) -> dict[str, Any]:
    return {
        "type": "group",
        "id": group.id.opaque_id,
        "idp": group.id.idp,
        "name": group.group_name,
        "display_name": group.display_name or group.group_name,
        "mail": group.mail,
    }


def _resource_json(info: spr.ResourceInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "path": info.path,
        "name": info.name or posixpath.basename(info.path),
        "type": "directory" if info.type == spr.RESOURCE_TYPE_CONTAINER else "file",
        "size": info.size,
        "etag": info.etag,
    }


class SharingService:
    """The sharing requests of the signed-in CS3 user."""

    def __init__(self, cs3: CS3Client) -> None:
        self.cs3 = cs3
        self.sharing = Sharing(cs3)
        self._users: dict[tuple[str, str], dict[str, Any]] = {}

    # ------------------------------------------------------------------ grantees

    async def find_grantees(self, query: str) -> dict[str, list[dict[str, Any]]]:
        """Users and groups whose name, username or mail contains ``query``."""
        query = query.strip()
        if len(query) < MIN_QUERY:
            raise InvalidRequest(f"type at least {MIN_QUERY} characters of a name, username or mail")
        me = (await self.cs3.whoami()).id.opaque_id
        users = [u for u in await self.sharing.find_users(query) if u.id.opaque_id != me]
        try:
            groups = await self.sharing.find_groups(query)
        except cs3_errors.Unimplemented:  # a gateway without groups: users only
            groups = []
        return {
            "users": [_user_json(u) for u in users[:MAX_GRANTEES]],
            "groups": [_group_json(g) for g in groups[:MAX_GRANTEES]],
        }

    async def _grantee(self, kind: str, name: str) -> spr.Grantee:
        if kind == "user":
            user = await self.sharing.user_by_name(name)
            return spr.Grantee(type=spr.GRANTEE_TYPE_USER, user_id=user.id)
        if kind == "group":
            group = await self.sharing.group_by_name(name)
            return spr.Grantee(type=spr.GRANTEE_TYPE_GROUP, group_id=group.id)
        raise InvalidRequest("grantee.type must be user or group")

    async def _describe_grantee(self, grantee: spr.Grantee) -> dict[str, Any]:
        if grantee.type == spr.GRANTEE_TYPE_GROUP:
            key = ("group", grantee.group_id.opaque_id)
            if key not in self._users:
                try:
                    self._users[key] = _group_json(await self.sharing.get_group(grantee.group_id))
                except cs3_errors.CS3Error:
                    self._users[key] = {"type": "group", "id": key[1], "name": key[1], "display_name": key[1]}
            return self._users[key]
        key = ("user", grantee.user_id.opaque_id)
        if key not in self._users:
            try:
                self._users[key] = _user_json(await self.cs3.get_user(grantee.user_id))
            except cs3_errors.CS3Error:
                self._users[key] = {"type": "user", "id": key[1], "name": key[1], "display_name": key[1]}
        return self._users[key]

    async def _user_by_id(self, user_id: user_res.UserId) -> dict[str, Any]:
        return await self._describe_grantee(spr.Grantee(type=spr.GRANTEE_TYPE_USER, user_id=user_id))

    # ------------------------------------------------------------------ shares I made

    async def share_json(self, share: share_res.Share, info: spr.ResourceInfo | None) -> dict[str, Any]:
        return {
            "id": share.id.opaque_id,
            "resource": _resource_json(info),
            "grantee": await self._describe_grantee(share.grantee),
            "role": role_of(share.permissions.permissions),
            "expiration": _iso(moment(share.expiration)),
            "created": _iso(moment(share.ctime)),
            "owner": await self._user_by_id(share.owner),
        }

    async def create(self, path: str, grantee_type: str, grantee_name: str, role: str,
                     expiration: datetime | None) -> dict[str, Any]:
        if role not in ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(ROLES)}")
        grantee = await self._grantee(grantee_type, grantee_name)
        share = await self.sharing.create(path, grantee, role, expiration)
        return await self.share_json(share, await self.cs3.stat(path))

    async def list_mine(self, path: str | None = None) -> list[dict[str, Any]]:
        resource = (await self.cs3.stat(path)).id if path else None
        return [await self.share_json(share, info) for share, info in await self.sharing.list_mine(resource)]

    async def update(self, share_id: str, role: str | None, expiration: datetime | None | bool) -> dict[str, Any]:
        if role is not None and role not in ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(ROLES)}")
        share = await self.sharing.update(share_id, role=role, expiration=expiration)
        info = await self.sharing.resource_info(share.resource_id)
        return await self.share_json(share, info)

    async def remove(self, share_id: str) -> None:
        await self.sharing.remove(share_id)

    # ------------------------------------------------------------------ shares with me

    async def received_json(self, received: share_res.ReceivedShare, info: spr.ResourceInfo | None) -> dict[str, Any]:
        share = received.share
        return {
            "id": share.id.opaque_id,
            "state": STATE_NAMES.get(received.state, "pending"),
            "hidden": received.hidden,
            "mount_point": received.mount_point.path or None,
            "resource": _resource_json(info),
            "role": role_of(share.permissions.permissions),
            "owner": await self._user_by_id(share.owner),
            "created": _iso(moment(share.ctime)),
            "expiration": _iso(moment(share.expiration)),
        }

    async def list_received(self) -> list[dict[str, Any]]:
        entries = [await self.received_json(r, info) for r, info in await self.sharing.list_received()]
        order = {"pending": 0, "accepted": 1, "rejected": 2}
        return sorted(entries, key=lambda e: (order.get(e["state"], 3), e["created"] or ""), reverse=False)

    async def update_received(self, share_id: str, state: str | None, hidden: bool | None) -> dict[str, Any]:
        if state is not None and state not in STATES:
            raise InvalidRequest(f"state must be one of {', '.join(STATES)}")
        received = await self.sharing.update_received(share_id, state=state, hidden=hidden)
        info = await self.sharing.resource_info(received.share.resource_id)
        return await self.received_json(received, info)


    # ------------------------------------------------------------------ public links

    def link_json(self, link: link_res.PublicShare, info: spr.ResourceInfo | None) -> dict[str, Any]:
        base = self.cs3.public_links_url
        return {
            "id": link.id.opaque_id,
            "url": f"{base.rstrip('/')}/{link.token}" if base else None,
            "token": link.token,
            "type": link_type_of(link.permissions.permissions),
            "display_name": link.display_name,
            "password_protected": link.password_protected,
            "expiration": _iso(moment(link.expiration)),
            "created": _iso(moment(link.ctime)),
            "resource": _resource_json(info),
        }

    async def create_link(self, path: str, kind: str, password: str, expiration: datetime | None,
                          display_name: str) -> dict[str, Any]:
        if kind not in LINK_TYPES:
            raise InvalidRequest(f"type must be one of {', '.join(LINK_TYPES)}")
        info = await self.cs3.stat(path)
        if LINK_TYPES[kind][1] is None and info.type != spr.RESOURCE_TYPE_CONTAINER:
            raise InvalidRequest(f"a {kind} link is for folders only")
        link = await self.sharing.create_link(path, kind, password=password, expiration=expiration,
                                              display_name=display_name)
        return self.link_json(link, info)

    async def list_links(self, path: str | None = None) -> list[dict[str, Any]]:
        resource = (await self.cs3.stat(path)).id if path else None
        return [self.link_json(link, info) for link, info in await self.sharing.list_links(resource)]

    async def update_link(self, link_id: str, kind: str | None, password: str | None,
                          expiration: datetime | None | bool, display_name: str | None) -> dict[str, Any]:
        if kind is not None and kind not in LINK_TYPES:
            raise InvalidRequest(f"type must be one of {', '.join(LINK_TYPES)}")
        current = await self.sharing.update_link(link_id)  # reads it: which resource, folder or file
        info = await self.sharing.resource_info(current.resource_id)
        is_folder = info is not None and info.type == spr.RESOURCE_TYPE_CONTAINER
        if kind is not None and LINK_TYPES[kind][1] is None and not is_folder:
            raise InvalidRequest(f"a {kind} link is for folders only")
        link = await self.sharing.update_link(link_id, kind=kind, is_folder=is_folder, password=password,
                                              expiration=expiration, display_name=display_name)
        return self.link_json(link, info)

    async def remove_link(self, link_id: str) -> None:
        await self.sharing.remove_link(link_id)
