"""Sharing over the CS3 APIs, as Reva speaks them: roles, user and group shares, received
shares, grantee search.

The calls go through :class:`~mesh_zenodo.cs3.client.CS3Client` (its one gRPC channel,
token renewal and error map); this module adds what sharing needs on top: the roles and
their ``ResourcePermissions`` as Reva maps them (``pkg/conversions/role.go``), and the
request messages. Roles are recognised from a permission set by exact match, as Reva
does; anything else is ``custom``.

Where Reva flavours differ the client accepts both: ``ListExisting*`` (with the shared
resource's ResourceInfo) is tried first; a gateway that answers ``CODE_UNIMPLEMENTED``
gets ``ListShares`` / ``ListReceivedShares`` and a ``Stat`` per share.
"""

from __future__ import annotations

from datetime import datetime, timezone

from cs3.identity.group.v1beta1 import group_api_pb2 as group_api
from cs3.identity.group.v1beta1 import resources_pb2 as group_res
from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.sharing.collaboration.v1beta1 import collaboration_api_pb2 as collab
from cs3.sharing.collaboration.v1beta1 import resources_pb2 as share_res
from cs3.sharing.link.v1beta1 import link_api_pb2 as link_api
from cs3.sharing.link.v1beta1 import resources_pb2 as link_res
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.types.v1beta1 import types_pb2
from cs3.rpc.v1beta1 import code_pb2
from google.protobuf import field_mask_pb2

from . import errors
from .client import CS3Client

_VIEWER = ("stat", "get_path", "get_quota", "initiate_file_download", "list_container", "list_recycle",
           "list_file_versions")
_EDITOR = _VIEWER + ("create_container", "delete", "initiate_file_upload", "move", "restore_recycle_item",
                     "restore_file_version")
#: role -> the ResourcePermissions fields set to true (Reva's map; see docs/sharing.md)
ROLES: dict[str, tuple[str, ...]] = {
    "viewer": _VIEWER,
    "editor": _EDITOR,
    "uploader": ("stat", "get_path", "create_container", "initiate_file_upload"),
    "manager": _EDITOR + ("add_grant", "update_grant", "remove_grant", "list_grants", "purge_recycle"),
}
_LINK_VIEW = ("stat", "get_path", "get_quota", "list_container", "initiate_file_download")
_LINK_UPLOAD = _LINK_VIEW + ("create_container", "initiate_file_upload")
#: public link type -> (permissions on a folder, on a file or None: folders only), as oCIS's link types
LINK_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "view": (_LINK_VIEW, _LINK_VIEW),
    "upload": (_LINK_UPLOAD, None),
    "edit": (_LINK_UPLOAD + ("delete", "move"), _LINK_VIEW + ("initiate_file_upload",)),
    "filedrop": (("stat", "get_path", "create_container", "initiate_file_upload"), None),
}

STATES = {
    "pending": share_res.SHARE_STATE_PENDING,
    "accepted": share_res.SHARE_STATE_ACCEPTED,
    "rejected": share_res.SHARE_STATE_REJECTED,
}
STATE_NAMES = {value: name for name, value in STATES.items()}


def permissions_of(role: str) -> spr.ResourcePermissions:
    """The ResourcePermissions of a role (ValueError for an unknown one)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use {', '.join(ROLES)}")
    return spr.ResourcePermissions(**{name: True for name in ROLES[role]})


def role_of(permissions: spr.ResourcePermissions) -> str:
    """The role whose permission set this is exactly, else ``custom``."""
    granted = {field.name for field, value in permissions.ListFields() if value is True}
    for role, names in ROLES.items():
        if granted == set(names):
            return role
    return "custom"


def link_permissions(kind: str, is_folder: bool) -> spr.ResourcePermissions:
    """The ResourcePermissions of a public link type on a folder or a file."""
    if kind not in LINK_TYPES:
        raise ValueError(f"unknown link type {kind!r}; use {', '.join(LINK_TYPES)}")
    on_folder, on_file = LINK_TYPES[kind]
    names = on_folder if is_folder else on_file
    if names is None:
        raise ValueError(f"a {kind} link is for folders only")
    return spr.ResourcePermissions(**{name: True for name in names})


def link_type_of(permissions: spr.ResourcePermissions) -> str:
    granted = {field.name for field, value in permissions.ListFields() if value is True}
    for kind, sets in LINK_TYPES.items():
        if any(names is not None and granted == set(names) for names in sets):
            return kind
    return "custom"


def timestamp(moment: datetime | None) -> types_pb2.Timestamp | None:
    if moment is None:
        return None
    return types_pb2.Timestamp(seconds=int(moment.timestamp()), nanos=moment.microsecond * 1000)


def moment(ts: types_pb2.Timestamp) -> datetime | None:
    if not ts.seconds and not ts.nanos:
        return None
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, tz=timezone.utc)


class Sharing:
    """The sharing calls of one signed-in :class:`CS3Client`."""

    def __init__(self, client: CS3Client) -> None:
        self.client = client

    # ------------------------------------------------------------------ grantees

    async def find_users(self, query: str) -> list[user_res.User]:
        return await self.client.find_users(query)

    async def find_groups(self, query: str) -> list[group_res.Group]:
        request = group_api.FindGroupsRequest(
            filters=[group_api.Filter(type=group_api.Filter.TYPE_QUERY, query=query)], skip_fetching_members=True
        )
        response = await self.client.call("FindGroups", request, f"searching groups for {query!r}")
        return list(response.groups)

    async def user_by_name(self, username: str) -> user_res.User:
        return await self.client.get_user_by_claim("username", username)

    async def get_group(self, group_id: group_res.GroupId) -> group_res.Group:
        request = group_api.GetGroupRequest(group_id=group_id, skip_fetching_members=True)
        return (await self.client.call("GetGroup", request, "looking up a group")).group

    async def group_by_name(self, name: str) -> group_res.Group:
        request = group_api.GetGroupByClaimRequest(claim="group_name", value=name, skip_fetching_members=True)
        response = await self.client.call("GetGroupByClaim", request, f"looking up the group {name!r}")
        return response.group

    # ------------------------------------------------------------------ shares I made

    async def create(
        self, path: str, grantee: spr.Grantee, role: str, expiration: datetime | None = None
    ) -> share_res.Share:
        info = await self.client.stat(path)
        grant = share_res.ShareGrant(
            grantee=grantee, permissions=share_res.SharePermissions(permissions=permissions_of(role))
        )
        if expiration is not None:
            grant.expiration.CopyFrom(timestamp(expiration))
        response = await self.client.call(
            "CreateShare", collab.CreateShareRequest(resource_info=info, grant=grant), f"sharing {path}", path
        )
        return response.share

    async def list_mine(self, resource: spr.ResourceId | None = None) -> list[tuple[share_res.Share, spr.ResourceInfo | None]]:
        """My shares (of ``resource`` only, when given), each with its resource's info."""
        filters = []
        if resource is not None:
            filters.append(share_res.Filter(type=share_res.Filter.TYPE_RESOURCE_ID, resource_id=resource))
        request = collab.ListSharesRequest(filters=filters)
        response = await self.client.call("ListExistingShares", request, "listing your shares", check=False)
        if response.status.code == code_pb2.CODE_UNIMPLEMENTED:
            plain = await self.client.call("ListShares", request, "listing your shares")
            return [(share, await self.resource_info(share.resource_id)) for share in plain.shares]
        if response.status.code != code_pb2.CODE_OK:
            raise errors.from_status(response.status, "listing your shares")
        return [(entry.share, entry.resource_info if entry.HasField("resource_info") else None)
                for entry in response.share_infos]

    async def update(self, share_id: str, *, role: str | None = None, expiration: datetime | None | bool = False) -> share_res.Share:
        """Change a share's role and/or its expiry (``expiration=None`` removes it)."""
        share = None
        ref = share_res.ShareReference(id=share_res.ShareId(opaque_id=share_id))
        if role is not None:
            field = collab.UpdateShareRequest.UpdateField(
                permissions=share_res.SharePermissions(permissions=permissions_of(role))
            )
            share = (await self.client.call("UpdateShare", collab.UpdateShareRequest(ref=ref, field=field),
                                            "changing the share's role")).share
        if expiration is not False:
            field = collab.UpdateShareRequest.UpdateField(expiration=timestamp(expiration) or types_pb2.Timestamp())
            share = (await self.client.call("UpdateShare", collab.UpdateShareRequest(ref=ref, field=field),
                                            "changing the share's expiry")).share
        if share is None:
            share = (await self.client.call("GetShare", collab.GetShareRequest(ref=ref), "reading the share")).share
        return share

    async def remove(self, share_id: str) -> None:
        ref = share_res.ShareReference(id=share_res.ShareId(opaque_id=share_id))
        await self.client.call("RemoveShare", collab.RemoveShareRequest(ref=ref), "removing the share")

    # ------------------------------------------------------------------ shares with me

    async def list_received(self) -> list[tuple[share_res.ReceivedShare, spr.ResourceInfo | None]]:
        request = collab.ListReceivedSharesRequest()
        response = await self.client.call("ListExistingReceivedShares", request, "listing shares with you", check=False)
        if response.status.code == code_pb2.CODE_UNIMPLEMENTED:
            plain = await self.client.call("ListReceivedShares", request, "listing shares with you")
            return [(received, await self.resource_info(received.share.resource_id)) for received in plain.shares]
        if response.status.code != code_pb2.CODE_OK:
            raise errors.from_status(response.status, "listing shares with you")
        return [(entry.received_share, entry.resource_info if entry.HasField("resource_info") else None)
                for entry in response.share_infos]

    async def update_received(
        self, share_id: str, *, state: str | None = None, hidden: bool | None = None
    ) -> share_res.ReceivedShare:
        """Accept, decline or hide a share with me."""
        received = share_res.ReceivedShare(share=share_res.Share(id=share_res.ShareId(opaque_id=share_id)))
        paths = []
        if state is not None:
            received.state = STATES[state]
            paths.append("state")
        if hidden is not None:
            received.hidden = hidden
            paths.append("hidden")
        request = collab.UpdateReceivedShareRequest(share=received, update_mask=field_mask_pb2.FieldMask(paths=paths))
        return (await self.client.call("UpdateReceivedShare", request, "updating the share")).share

    async def resource_info(self, resource: spr.ResourceId) -> spr.ResourceInfo | None:
        """The shared resource's info as the caller may see it, or None."""
        try:
            return await self.client.stat_id(resource)
        except errors.CS3Error:
            return None

    # ------------------------------------------------------------------ public links

    async def create_link(self, path: str, kind: str, *, password: str = "", expiration: datetime | None = None,
                          display_name: str = "") -> link_res.PublicShare:
        info = await self.client.stat(path)
        grant = link_res.Grant(
            permissions=link_res.PublicSharePermissions(
                permissions=link_permissions(kind, info.type == spr.RESOURCE_TYPE_CONTAINER)
            ),
            password=password,
        )
        if expiration is not None:
            grant.expiration.CopyFrom(timestamp(expiration))
        request = link_api.CreatePublicShareRequest(resource_info=info, grant=grant)
        if display_name:
            request.opaque.map["name"].CopyFrom(types_pb2.OpaqueEntry(decoder="plain", value=display_name.encode()))
        return (await self.client.call("CreatePublicShare", request, f"creating a public link to {path}", path)).share

    async def list_links(self, resource: spr.ResourceId | None = None) -> list[tuple[link_res.PublicShare, spr.ResourceInfo | None]]:
        filters = []
        if resource is not None:
            filters.append(link_api.ListPublicSharesRequest.Filter(
                type=link_api.ListPublicSharesRequest.Filter.TYPE_RESOURCE_ID, resource_id=resource))
        request = link_api.ListPublicSharesRequest(filters=filters)
        response = await self.client.call("ListExistingPublicShares", request, "listing your public links", check=False)
        if response.status.code == code_pb2.CODE_UNIMPLEMENTED:
            plain = await self.client.call("ListPublicShares", request, "listing your public links")
            return [(link, await self.resource_info(link.resource_id)) for link in plain.share]
        if response.status.code != code_pb2.CODE_OK:
            raise errors.from_status(response.status, "listing your public links")
        return [(entry.public_share, entry.resource_info if entry.HasField("resource_info") else None)
                for entry in response.share_infos]

    async def update_link(self, link_id: str, *, kind: str | None = None, is_folder: bool = True,
                          password: str | None = None, expiration: datetime | None | bool = False,
                          display_name: str | None = None) -> link_res.PublicShare:
        ref = link_res.PublicShareReference(id=link_res.PublicShareId(opaque_id=link_id))
        kinds = link_api.UpdatePublicShareRequest.Update
        updates = []
        if kind is not None:
            updates.append(kinds(type=kinds.TYPE_PERMISSIONS, grant=link_res.Grant(
                permissions=link_res.PublicSharePermissions(permissions=link_permissions(kind, is_folder)))))
        if password is not None:
            updates.append(kinds(type=kinds.TYPE_PASSWORD, grant=link_res.Grant(password=password)))
        if expiration is not False:
            grant = link_res.Grant()
            if expiration is not None:
                grant.expiration.CopyFrom(timestamp(expiration))
            updates.append(kinds(type=kinds.TYPE_EXPIRATION, grant=grant))
        if display_name is not None:
            updates.append(kinds(type=kinds.TYPE_DISPLAYNAME, display_name=display_name))
        link = None
        for update in updates:
            request = link_api.UpdatePublicShareRequest(ref=ref, update=update)
            link = (await self.client.call("UpdatePublicShare", request, "changing the public link")).share
        if link is None:
            link = (await self.client.call("GetPublicShare", link_api.GetPublicShareRequest(ref=ref),
                                           "reading the public link")).share
        return link

    async def remove_link(self, link_id: str) -> None:
        ref = link_res.PublicShareReference(id=link_res.PublicShareId(opaque_id=link_id))
        await self.client.call("RemovePublicShare", link_api.RemovePublicShareRequest(ref=ref), "removing the public link")
