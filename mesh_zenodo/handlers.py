"""REST API of the extension, under ``/mesh-zenodo/``.

Handlers are thin: authenticate (Jupyter user + XSRF, as every jupyter_server
APIHandler), call the client or a service, map errors with
:func:`~mesh_zenodo.cs3.errors.http_errors`. Errors are JSON ``{"message": ...}``.
"""

from __future__ import annotations

import asyncio
import json

from jupyter_client.jsonutil import json_default
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .cs3 import errors

AUTH_RESOURCE = "contents"


class MeshHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def cs3(self):
        return self.extensionapp.cs3


class SessionHandler(MeshHandler):
    """Who is signed in, on which storage: what the ScienceMesh panel's header shows."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        client = self.cs3
        storage = {"gateway": client.gateway, "embedded": client.embedded}
        try:
            user = await client.whoami()
            storage["home"] = await client.get_home()
        except errors.CS3Error as err:
            self.set_status(401 if isinstance(err, errors.Unauthenticated) else 503)
            self.finish(json.dumps({"connected": False, "message": err.message, "storage": storage}))
            return
        self.finish(
            json.dumps(
                {
                    "connected": True,
                    "user": {
                        "username": user.username,
                        "display_name": user.display_name,
                        "mail": user.mail,
                        "idp": user.id.idp,
                        "opaque_id": user.id.opaque_id,
                    },
                    "storage": storage,
                    "contents": "cs3" if self.extensionapp.contents_on_cs3 else "local",
                }
            )
        )


@web.stream_request_body
class UploadHandler(MeshHandler):
    """``PUT /mesh-zenodo/upload/<path>``: a file's raw bytes, streamed straight into the
    CS3 storage as they arrive (the labextension uses it for Lab's large uploads instead
    of base64 JSON chunks). The new content appears atomically when the last byte has
    arrived; a broken or cancelled upload leaves the previous content intact. Answers
    the contents model of the file. ``?overwrite=1`` replaces an existing file (Lab asks
    the user first); otherwise an existing file is a 409."""

    QUEUE_CHUNKS = 16  # chunks in flight between the browser and the storage

    async def prepare(self) -> None:
        # the body streams in before put() runs: authenticate and authorize here
        await super().prepare()
        if self.current_user is None:
            raise web.HTTPError(403, "Not signed in to Jupyter")
        if not self.authorizer.is_authorized(self, self.current_user, "write", self.auth_resource):
            raise web.HTTPError(403, "Not allowed to write files")
        from .contents import CONTAINER, CS3ContentsManager

        cm = self.contents_manager
        if not isinstance(cm, CS3ContentsManager):
            raise web.HTTPError(409, "Lab's files are not on a CS3 storage")
        length = self.request.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise web.HTTPError(411, "Content-Length is required")
        path = self.path_kwargs["path"].strip("/")
        if not path or (not cm.allow_hidden and cm.hidden(path)):
            raise web.HTTPError(400, f"Cannot upload to {path!r}")
        cs3 = await cm.cs3_path(path)
        existing = await cm.stat(path, "")
        if existing is not None and (existing.type == CONTAINER or self.get_argument("overwrite", "0") != "1"):
            raise web.HTTPError(409, f"File already exists: {path}")
        self.request.connection.set_max_body_size(int(length))
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(self.QUEUE_CHUNKS)
        self._task = asyncio.ensure_future(
            cm.client.upload(cs3, self._chunks(), int(length), if_not_exist=existing is None)
        )

    async def _chunks(self):
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    async def data_received(self, chunk: bytes) -> None:
        if self._task.done():
            return  # the storage refused; put() reports why
        put = asyncio.ensure_future(self._queue.put(chunk))
        await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()

    def on_connection_close(self) -> None:
        task = getattr(self, "_task", None)
        if task is not None and not task.done():
            task.cancel()  # the storage drops the half-written upload

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        if not self._task.done():
            await self._queue.put(None)
        with errors.http_errors():
            await self._task
        model = await self.contents_manager.get(path.strip("/"), content=False)
        self.contents_manager.emit(data={"action": "save", "path": path.strip("/")})
        self.set_status(201)
        self.finish(json.dumps(model, default=json_default))


default_handlers = [
    (r"/mesh-zenodo/session", SessionHandler),
    (r"/mesh-zenodo/upload/(?P<path>.+)", UploadHandler),
]
