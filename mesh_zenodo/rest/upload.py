"""``PUT /mesh-zenodo/upload/<path>[?overwrite=1]``: a file's raw bytes, streamed
straight into the CS3 storage as they arrive (the labextension uses it for Lab's large
uploads instead of base64 JSON chunks). Answers 201 with the file's contents model; an
existing file without ``overwrite=1`` is a 409. The rules of the upload live in
:mod:`mesh_zenodo.contents.upload`."""

from __future__ import annotations

import json

from jupyter_client.jsonutil import json_default
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import MeshHandler


@web.stream_request_body
class UploadHandler(MeshHandler):
    async def prepare(self) -> None:
        # the body streams in before put() runs: authenticate and authorize here
        await super().prepare()
        if self.request.method != "PUT":
            raise web.HTTPError(405)  # before any upload is opened
        if self.current_user is None:
            raise web.HTTPError(403, "Not signed in to Jupyter")
        if not await ensure_async(self.authorizer.is_authorized(self, self.current_user, "write", self.auth_resource)):
            raise web.HTTPError(403, "Not allowed to write files")
        cm = self.cs3_contents("streaming an upload")
        length = self.length_header()
        self.upload = await cm.open_streamed_upload(
            self.path_kwargs["path"], length, overwrite=self.bool_argument("overwrite")
        )
        self.request.connection.set_max_body_size(length)

    async def data_received(self, chunk: bytes) -> None:
        await self.upload.feed(chunk)

    def on_connection_close(self) -> None:
        self.on_finish()

    def on_finish(self) -> None:
        upload = getattr(self, "upload", None)
        if upload is not None:
            upload.abort()  # nothing once finished; else the storage drops the half-written upload

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        model = await self.upload.finish()
        self.set_status(201)
        self.finish(json.dumps(model, default=json_default))
