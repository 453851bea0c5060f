"""Sharing routes under ``/mesh-zenodo/``: grantee search, shares I made, shares with me.

======================================================  ============================================
``GET /mesh-zenodo/grantees?q=``                        users and groups matching (3+ characters)
``GET /mesh-zenodo/shares[?path=]``                     my shares (of one file or folder)
``POST /mesh-zenodo/shares``                            ``{path, grantee: {type, name}, role, expiration?}`` → 201
``PATCH /mesh-zenodo/shares/<id>``                      ``{role?, expiration?: ISO date | null}``
``DELETE /mesh-zenodo/shares/<id>``                     → 204
``GET /mesh-zenodo/received-shares``                    shares with me, pending first
``PATCH /mesh-zenodo/received-shares/<id>``             ``{state?: accepted | rejected | pending, hidden?}``
``GET /mesh-zenodo/links[?path=]``                      my public links
``POST /mesh-zenodo/links``                             ``{path, type, password?, expiration?, display_name?}`` → 201
``PATCH /mesh-zenodo/links/<id>``                       ``{type?, password?, expiration?, display_name?}``
``DELETE /mesh-zenodo/links/<id>``                      → 204
======================================================  ============================================

Roles: viewer, editor, uploader (folders), manager (see ``docs/sharing.md``). The
storage decides who may share what; its refusals come back as 4xx with its message.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..http_errors import http_errors
from .base import MeshHandler

SHARE_ID_RE = re.compile(r"[A-Za-z0-9:._-]{1,200}")


class SharingHandler(MeshHandler):
    def share_id(self, raw: str) -> str:
        if not SHARE_ID_RE.fullmatch(raw):
            raise self.bad_request("that is not a share id")
        return raw

    def expiration(self, body: dict) -> datetime | None | bool:
        """``False`` when the body does not set it, None to remove it, else a future time."""
        if "expiration" not in body:
            return False
        value = body["expiration"]
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.bad_request("expiration must be an ISO date or null")
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.bad_request("expiration must be an ISO date such as 2027-01-31") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        if moment <= datetime.now(timezone.utc):
            raise self.bad_request("expiration must be in the future")
        if moment.year >= 2200:
            raise self.bad_request("expiration must be before 2200")
        return moment


class GranteesHandler(SharingHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.get_query_argument("q", "") or ""
        if len(query) > 200:
            raise self.bad_request("the query is too long")
        with http_errors():
            self.send(await self.sharing.find_grantees(query))


class SharesHandler(SharingHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.cs3_contents("sharing")
        path = self.get_query_argument("path", None)
        cs3_path = await cm.cs3_path(path) if path is not None else None
        with http_errors():
            self.send({"shares": [cm.with_api_path(s) for s in await self.sharing.list_mine(cs3_path)]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cm = self.cs3_contents("sharing")
        body = self.json_object()
        path, grantee, role = body.get("path"), body.get("grantee"), body.get("role")
        if not isinstance(path, str) or not path.strip("/"):
            raise self.bad_request("path is required: the file or folder to share")
        if not isinstance(grantee, dict) or not isinstance(grantee.get("name"), str) or not grantee.get("name"):
            raise self.bad_request("grantee is required: {type: user | group, name}")
        if not isinstance(role, str):
            raise self.bad_request("role is required: viewer, editor, uploader or manager")
        expiration = self.expiration(body)
        cs3_path = await cm.cs3_path(path)
        with http_errors():
            share = await self.sharing.create(
                cs3_path, str(grantee.get("type", "user")), grantee["name"], role, expiration or None
            )
        self.send({"share": cm.with_api_path(share)}, status=201)


class ShareHandler(SharingHandler):
    @web.authenticated
    @authorized
    async def patch(self, share_id: str) -> None:
        cm = self.cs3_contents("sharing")
        body = self.json_object()
        role = body.get("role")
        if role is not None and not isinstance(role, str):
            raise self.bad_request("role must be viewer, editor, uploader or manager")
        with http_errors():
            share = await self.sharing.update(self.share_id(share_id), role, self.expiration(body))
        self.send({"share": cm.with_api_path(share)})

    @web.authenticated
    @authorized
    async def delete(self, share_id: str) -> None:
        with http_errors():
            await self.sharing.remove(self.share_id(share_id))
        self.set_status(204)
        self.finish()


class ReceivedSharesHandler(SharingHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.cs3_contents("sharing")
        with http_errors():
            self.send({"shares": [cm.with_api_path(s) for s in await self.sharing.list_received()]})


class ReceivedShareHandler(SharingHandler):
    @web.authenticated
    @authorized
    async def patch(self, share_id: str) -> None:
        cm = self.cs3_contents("sharing")
        body = self.json_object()
        state, hidden = body.get("state"), body.get("hidden")
        if state is not None and not isinstance(state, str):
            raise self.bad_request("state must be accepted, rejected or pending")
        if hidden is not None and not isinstance(hidden, bool):
            raise self.bad_request("hidden must be true or false")
        if state is None and hidden is None:
            raise self.bad_request("nothing to change: give state and/or hidden")
        with http_errors():
            share = await self.sharing.update_received(self.share_id(share_id), state, hidden)
        self.send({"share": cm.with_api_path(share)})


class LinksHandler(SharingHandler):
    """``GET ?path=`` my public links (of one file or folder); ``POST {path, type, password?,
    expiration?, display_name?}`` → 201. Types: view, upload, edit, filedrop (folders only:
    upload and filedrop)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.cs3_contents("public links")
        path = self.get_query_argument("path", None)
        cs3_path = await cm.cs3_path(path) if path is not None else None
        with http_errors():
            self.send({"links": [cm.with_api_path(link) for link in await self.sharing.list_links(cs3_path)]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cm = self.cs3_contents("public links")
        body = self.json_object()
        path, kind = body.get("path"), body.get("type", "view")
        password, name = body.get("password", ""), body.get("display_name", "")
        if not isinstance(path, str) or not path.strip("/"):
            raise self.bad_request("path is required: the file or folder to link to")
        if not isinstance(kind, str) or not isinstance(password, str) or not isinstance(name, str):
            raise self.bad_request("type, password and display_name must be strings")
        if len(name) > 255 or len(password) > 1024:
            raise self.bad_request("display_name or password is too long")
        expiration = self.expiration(body)
        cs3_path = await cm.cs3_path(path)
        with http_errors():
            link = await self.sharing.create_link(cs3_path, kind, password, expiration or None, name)
        self.send({"link": cm.with_api_path(link)}, status=201)


class LinkHandler(SharingHandler):
    """``PATCH {type?, password? ("" removes it), expiration?, display_name?}``; ``DELETE``."""

    @web.authenticated
    @authorized
    async def patch(self, link_id: str) -> None:
        cm = self.cs3_contents("public links")
        body = self.json_object()
        kind, password, name = body.get("type"), body.get("password"), body.get("display_name")
        for field, value in (("type", kind), ("password", password), ("display_name", name)):
            if value is not None and not isinstance(value, str):
                raise self.bad_request(f"{field} must be a string")
        with http_errors():
            link = await self.sharing.update_link(self.share_id(link_id), kind, password, self.expiration(body), name)
        self.send({"link": cm.with_api_path(link)})

    @web.authenticated
    @authorized
    async def delete(self, link_id: str) -> None:
        with http_errors():
            await self.sharing.remove_link(self.share_id(link_id))
        self.set_status(204)
        self.finish()


def routes() -> list[tuple[str, type]]:
    return [
        (r"/mesh-zenodo/grantees", GranteesHandler),
        (r"/mesh-zenodo/shares", SharesHandler),
        (r"/mesh-zenodo/shares/([^/]+)", ShareHandler),
        (r"/mesh-zenodo/received-shares", ReceivedSharesHandler),
        (r"/mesh-zenodo/received-shares/([^/]+)", ReceivedShareHandler),
        (r"/mesh-zenodo/links", LinksHandler),
        (r"/mesh-zenodo/links/([^/]+)", LinkHandler),
    ]
