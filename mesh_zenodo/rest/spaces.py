"""Project spaces and quota under ``/mesh-zenodo/``.

=========================================================  =========================================
``GET /mesh-zenodo/spaces``                                my projects: ``{spaces: [{id, name, role,
                                                           path, api_path, quota: {used, total}}]}``
``POST /mesh-zenodo/spaces``                               ``{name, quota?}`` → 201 ``{space}``
``GET /mesh-zenodo/spaces/<id>/members``                   ``{members: [{name, display_name, role}]}``
``POST /mesh-zenodo/spaces/<id>/members``                  ``{name, role}`` (add or change) → members
``DELETE /mesh-zenodo/spaces/<id>/members/<name>``         → members
``GET /mesh-zenodo/quota?path=``                           ``{used, total, remaining}`` of that space
=========================================================  =========================================
"""

from __future__ import annotations

import re

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..http_errors import http_errors
from .base import MeshHandler

SPACE_ID_RE = re.compile(r"[A-Za-z0-9:._$!-]{1,300}")
NAME_RE = re.compile(r"[A-Za-z0-9._@-]{1,200}")


class SpaceHandler(MeshHandler):
    def space_id(self, raw: str) -> str:
        if not SPACE_ID_RE.fullmatch(raw):
            raise self.bad_request("that is not a project id")
        return raw

    def with_api_path(self, cm, space: dict) -> dict:
        space["api_path"] = cm.api_path(space.get("path") or "")
        return space


class SpacesHandler(SpaceHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.cs3_contents("projects")
        await cm.cs3_path("")  # the root, so that api paths can be given
        with http_errors():
            self.send({"spaces": [self.with_api_path(cm, s) for s in await self.spaces.list()]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cm = self.cs3_contents("projects")
        body = self.json_object()
        name, quota = body.get("name"), body.get("quota", 0)
        if not isinstance(name, str):
            raise self.bad_request("name is required")
        if isinstance(quota, bool) or not isinstance(quota, int) or not 0 <= quota < 2**62:
            raise self.bad_request("quota must be a number of bytes (0: no limit)")
        await cm.cs3_path("")
        with http_errors():
            space = await self.spaces.create(name, quota)
        self.send({"space": self.with_api_path(cm, space)}, status=201)


class MembersHandler(SpaceHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str) -> None:
        with http_errors():
            self.send({"members": await self.spaces.members(self.space_id(space_id))})

    @web.authenticated
    @authorized
    async def post(self, space_id: str) -> None:
        body = self.json_object()
        name, role = body.get("name"), body.get("role")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise self.bad_request("name is required: the username of the member")
        if not isinstance(role, str):
            raise self.bad_request("role is required: viewer, editor or manager")
        with http_errors():
            self.send({"members": await self.spaces.set_member(self.space_id(space_id), name, role)})


class MemberHandler(SpaceHandler):
    @web.authenticated
    @authorized
    async def delete(self, space_id: str, name: str) -> None:
        if not NAME_RE.fullmatch(name):
            raise self.bad_request("that is not a username")
        with http_errors():
            self.send({"members": await self.spaces.remove_member(self.space_id(space_id), name)})


class QuotaHandler(MeshHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.cs3_contents("quota")
        cs3_path = await cm.cs3_path(self.get_query_argument("path", "") or "")
        with http_errors():
            self.send(await self.spaces.quota(cs3_path))


def routes() -> list[tuple[str, type]]:
    return [
        (r"/mesh-zenodo/spaces", SpacesHandler),
        (r"/mesh-zenodo/spaces/([^/]+)/members", MembersHandler),
        (r"/mesh-zenodo/spaces/([^/]+)/members/([^/]+)", MemberHandler),
        (r"/mesh-zenodo/quota", QuotaHandler),
    ]
