"""Project spaces as the Projects tab sees them: the user's projects with role and quota,
creating one, its members. Paths are CS3 paths; the REST layer maps them for Lab."""

from __future__ import annotations

from typing import Any

from cs3.storage.provider.v1beta1 import resources_pb2 as spr

from ..cs3 import errors as cs3_errors
from ..cs3.client import CS3Client
from ..cs3.sharing import Sharing
from ..cs3.spaces import SPACE_ROLES, Spaces, opaque_text
from .errors import InvalidRequest

MAX_NAME = 255


class SpaceService:
    """The project requests of the signed-in CS3 user."""

    def __init__(self, cs3: CS3Client, sharing: Sharing) -> None:
        self.cs3 = cs3
        self.spaces = Spaces(cs3)
        self.sharing = sharing

    async def space_json(self, space: spr.StorageSpace) -> dict[str, Any]:
        path = opaque_text(space, "path") or space.root_info.path
        total, used = space.quota.quota_max_bytes, None
        if path:
            try:
                total, used = await self.cs3.get_quota(path)
            except cs3_errors.CS3Error:  # the list still shows the space, without usage
                used = None
        return {
            "id": space.id.opaque_id,
            "name": space.name,
            "role": opaque_text(space, "role") or None,
            "path": path,
            "quota": {"used": used, "total": total or None},
            "owner": space.owner.username or None,
        }

    async def list(self) -> list[dict[str, Any]]:
        return [await self.space_json(space) for space in await self.spaces.list_projects()]

    async def create(self, name: str, quota: int) -> dict[str, Any]:
        name = name.strip()
        if not name or len(name.encode("utf-8")) > MAX_NAME or "/" in name or name in (".", ".."):
            raise InvalidRequest("a project's name is 1 to 255 bytes, without '/'")
        if quota < 0:
            raise InvalidRequest("quota must be a number of bytes (0: no limit)")
        return await self.space_json(await self.spaces.create(name, quota))

    async def _space(self, space_id: str) -> spr.StorageSpace:
        for space in await self.spaces.list_projects():
            if space.id.opaque_id == space_id:
                return space
        raise InvalidRequest(f"you are not a member of a project {space_id[:100]!r}")

    async def members(self, space_id: str) -> list[dict[str, Any]]:
        space = await self._space(space_id)
        members = []
        for user_id, role in await self.spaces.members(space.root):
            user = await self.cs3.get_user(user_id)
            members.append({"name": user.username, "display_name": user.display_name or user.username, "role": role})
        return members

    async def set_member(self, space_id: str, username: str, role: str) -> list[dict[str, Any]]:
        if role not in SPACE_ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(SPACE_ROLES)}")
        space = await self._space(space_id)
        user = await self.sharing.user_by_name(username)
        current = {uid.opaque_id for uid, _ in await self.spaces.members(space.root)}
        await self.spaces.set_member(space.root, user.id, role, new=user.id.opaque_id not in current)
        return await self.members(space_id)

    async def remove_member(self, space_id: str, username: str) -> list[dict[str, Any]]:
        space = await self._space(space_id)
        user = await self.sharing.user_by_name(username)
        await self.spaces.remove_member(space.root, user.id)
        return await self.members(space_id)

    async def quota(self, path: str) -> dict[str, int | None]:
        total, used = await self.cs3.get_quota(path)
        return {"used": used, "total": total or None, "remaining": (total - used) if total else None}
