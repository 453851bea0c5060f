"""Project spaces over the CS3 APIs: list, create, rename, resize, delete, and members
with space roles (viewer, editor, manager) as grants on the space root.

The grant RPCs are the storage provider API's (the GatewayAPI has none); Reva serves
them where the space lives, and the embedded storage on the gateway's address. A space's
role for the caller and its path come in the space's ``opaque`` (``role``, ``path``).
"""

from __future__ import annotations

from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.storage.provider.v1beta1 import spaces_api_pb2 as spaces_api

from .client import CS3Client
from .sharing import permissions_of, role_of

#: the roles a space member may have (a subset of the sharing roles)
SPACE_ROLES = ("viewer", "editor", "manager")


def opaque_text(space: spr.StorageSpace, key: str) -> str:
    entry = space.opaque.map.get(key)
    return entry.value.decode("utf-8", "replace") if entry is not None else ""


class Spaces:
    """The space calls of one signed-in :class:`CS3Client`."""

    def __init__(self, client: CS3Client) -> None:
        self.client = client

    async def list_projects(self) -> list[spr.StorageSpace]:
        me = await self.client.whoami()
        kind = spaces_api.ListStorageSpacesRequest.Filter
        request = spaces_api.ListStorageSpacesRequest(filters=[
            kind(type=kind.TYPE_SPACE_TYPE, space_type="project"), kind(type=kind.TYPE_USER, user=me.id),
        ])
        return list((await self.client.call("ListStorageSpaces", request, "listing your projects")).storage_spaces)

    async def create(self, name: str, quota: int = 0) -> spr.StorageSpace:
        request = spaces_api.CreateStorageSpaceRequest(type="project", name=name, quota=spr.Quota(quota_max_bytes=quota))
        return (await self.client.call("CreateStorageSpace", request, f"creating the project {name}")).storage_space

    async def update(self, space_id: str, *, name: str | None = None, quota: int | None = None) -> spr.StorageSpace:
        space = spr.StorageSpace(id=spr.StorageSpaceId(opaque_id=space_id))
        if name is not None:
            space.name = name
        if quota is not None:
            space.quota.CopyFrom(spr.Quota(quota_max_bytes=quota))
        request = spaces_api.UpdateStorageSpaceRequest(storage_space=space)
        return (await self.client.call("UpdateStorageSpace", request, "changing the project")).storage_space

    async def delete(self, space_id: str) -> None:
        request = spaces_api.DeleteStorageSpaceRequest(id=spr.StorageSpaceId(opaque_id=space_id))
        await self.client.call("DeleteStorageSpace", request, "deleting the project")

    async def members(self, root: spr.ResourceId) -> list[tuple[user_res.UserId, str]]:
        response = await self.client.call(
            "ListGrants", sp.ListGrantsRequest(ref=spr.Reference(resource_id=root)), "listing the project's members",
            provider=True,
        )
        return [(g.grantee.user_id, role_of(g.permissions)) for g in response.grants]

    async def set_member(self, root: spr.ResourceId, user_id: user_res.UserId, role: str, *, new: bool) -> None:
        grant = spr.Grant(grantee=spr.Grantee(type=spr.GRANTEE_TYPE_USER, user_id=user_id), permissions=permissions_of(role))
        ref = spr.Reference(resource_id=root)
        if new:
            await self.client.call("AddGrant", sp.AddGrantRequest(ref=ref, grant=grant), "adding a member", provider=True)
        else:
            await self.client.call("UpdateGrant", sp.UpdateGrantRequest(ref=ref, grant=grant), "changing a member's role",
                                   provider=True)

    async def remove_member(self, root: spr.ResourceId, user_id: user_res.UserId) -> None:
        grant = spr.Grant(grantee=spr.Grantee(type=spr.GRANTEE_TYPE_USER, user_id=user_id))
        await self.client.call("RemoveGrant", sp.RemoveGrantRequest(ref=spr.Reference(resource_id=root), grant=grant),
                               "removing a member", provider=True)
