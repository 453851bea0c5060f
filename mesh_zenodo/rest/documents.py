"""Working together on documents: presence, exclusive locks, conflict copies.

Saves themselves go through Jupyter's own ``PUT /api/contents/<path>``: the contents
manager locks, merges and answers with a ``merge`` report in the model (see
:mod:`mesh_zenodo.services.documents`).

===============================================  =================================================
``GET /mesh-zenodo/documents/presence?path=``      ``{others: [{user, name, server, same_user}],
                                                   lock: {...}|null, interval}``
``POST /mesh-zenodo/documents/presence``           ``{path}``: I have it open (heartbeat) → as GET
``DELETE /mesh-zenodo/documents/presence?path=``   I closed it → 204
``POST /mesh-zenodo/documents/lock``               ``{path}``: Lock for exclusive editing → ``{lock}``
``DELETE /mesh-zenodo/documents/lock?path=``       unlock → 204
``POST /mesh-zenodo/documents/copies``             ``{path}``: Work on a copy → 201 ``{copy, original}``
``GET /mesh-zenodo/documents/copies?path=<copy>``  ``{original, lock}``: what the copy is a copy of
``POST /mesh-zenodo/documents/copies/merge``       ``{path: <copy>}`` → ``{path, merge}`` (copy to trash)
===============================================  =================================================
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..contents import CS3ContentsManager
from ..http_errors import http_errors
from .base import MeshHandler


class DocumentHandler(MeshHandler):
    def path_in_body(self, cm: CS3ContentsManager, what: str) -> str:
        path = self.json_object().get("path")
        if not isinstance(path, str) or not path.strip("/"):
            raise self.bad_request(f"path is required: the {what}")
        return path.strip("/")

    def path_in_query(self, what: str) -> str:
        path = self.get_query_argument("path", "") or ""
        if not path.strip("/"):
            raise self.bad_request(f"path is required: the {what}")
        return path.strip("/")

    async def state(self, cm: CS3ContentsManager, cs3: str, others: list | None = None) -> dict:
        if others is None:
            others = await cm.presence.others(cs3)
        return {"others": others, "lock": await cm.documents.lock_state(cs3), "interval": cm.presence.interval}


class PresenceHandler(DocumentHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.cs3_contents("presence")
        cs3 = await cm.cs3_path(self.path_in_query("open document"))
        with http_errors():
            self.send(await self.state(cm, cs3))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cm = self.cs3_contents("presence")
        cs3 = await cm.cs3_path(self.path_in_body(cm, "open document"))
        with http_errors():
            await cm.documents.refresh_exclusive(cs3)
            self.send(await self.state(cm, cs3, await cm.presence.heartbeat(cs3)))

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        cm = self.cs3_contents("presence")
        cs3 = await cm.cs3_path(self.path_in_query("closed document"))
        await cm.presence.leave(cs3)
        self.set_status(204)
        self.finish()


class LockHandler(DocumentHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        cm = self.cs3_contents("locking")
        cs3 = await cm.cs3_path(self.path_in_body(cm, "file to lock"))
        with http_errors():
            self.send({"lock": await cm.documents.lock_exclusive(cs3)})

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        cm = self.cs3_contents("unlocking")
        cs3 = await cm.cs3_path(self.path_in_query("file to unlock"))
        with http_errors():
            await cm.documents.unlock_exclusive(cs3)
        self.set_status(204)
        self.finish()


class CopiesHandler(DocumentHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.cs3_contents("conflict copies")
        cs3 = await cm.cs3_path(self.path_in_query("conflict copy"))
        with http_errors():
            origin = await cm.documents.copy_origin(cs3)
            if origin is None:
                self.send({"original": None, "lock": None})
                return
            lock = await cm.documents.lock_state(origin["path"])
        self.send({"original": cm.api_path(origin["path"]), "lock": lock})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cm = self.cs3_contents("Work on a copy")
        path = self.path_in_body(cm, "locked file")
        copy = await cm.work_on_copy(path)
        self.send({"copy": copy, "original": path}, status=201)


class MergeCopyHandler(DocumentHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        cm = self.cs3_contents("merging a copy back")
        path = self.path_in_body(cm, "conflict copy")
        self.send(await cm.merge_copy_back(path))


def routes() -> list[tuple[str, type]]:
    return [
        (r"/mesh-zenodo/documents/presence", PresenceHandler),
        (r"/mesh-zenodo/documents/lock", LockHandler),
        (r"/mesh-zenodo/documents/copies", CopiesHandler),
        (r"/mesh-zenodo/documents/copies/merge", MergeCopyHandler),
    ]
