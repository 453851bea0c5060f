"""``/files/<path>`` on a CS3 storage: streams a file from the data gateway (downloads,
images, ``?download=1``), in bounded memory, with ``Range``. The contents manager names
this class as its ``files_handler_class``."""

from __future__ import annotations

import mimetypes

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from ..contents import CS3ContentsManager
from ..contents.models import CONTAINER, mtime
from ..http_errors import http_errors
from .base import DECIMAL_RE


class CS3FilesHandler(JupyterHandler):
    """``/files/<path>``: streams a file from the data gateway (downloads, images,
    ``?download=1``), in bounded memory, with Range support."""

    auth_resource = "contents"

    @property
    def content_security_policy(self) -> str:
        # as jupyter_server's FilesHandler: confine scripts in served HTML/SVG
        return super().content_security_policy + "; sandbox allow-scripts"

    @web.authenticated
    @authorized
    async def head(self, path: str) -> None:
        await self.get(path, include_body=False)

    @web.authenticated
    @authorized
    async def get(self, path: str, include_body: bool = True) -> None:
        self.check_xsrf_cookie()  # /files/ requests must originate from the same site
        cm: CS3ContentsManager = self.contents_manager
        path = path.strip("/")
        if not cm.allow_hidden and cm.hidden(path):
            raise web.HTTPError(404)
        info = await cm.stat(path, f"No such file: {path}")
        if info.type == CONTAINER:
            raise web.HTTPError(400, f"{path} is a directory, not a file", reason="bad type")
        name = path.rsplit("/", 1)[-1]
        if self.get_argument("download", None):
            self.set_attachment_header(name)
        self.set_header("Content-Type", self._content_type(name))
        self.set_header("Last-Modified", mtime(info))
        self.set_header("Accept-Ranges", "bytes")
        if info.etag:
            self.set_header("ETag", info.etag)
        offset, length = self._range(info.size)
        if offset is not None:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {offset}-{offset + length - 1}/{info.size}")
            self.set_header("Content-Length", length)
        else:
            self.set_header("Content-Length", info.size)
        if not include_body or info.size == 0 or length == 0:
            return
        with http_errors():
            async with cm.client.download(await cm.cs3_path(path), offset=offset or 0, length=length) as (_, chunks):
                pending = 0
                async for chunk in chunks:
                    self.write(chunk)
                    pending += len(chunk)
                    if pending >= cm.client.chunk_size:  # flush in large writes, wait for the socket
                        pending = 0
                        await self.flush()

    def _range(self, size: int) -> tuple[int | None, int | None]:
        header = self.request.headers.get("Range", "")
        if not header.startswith("bytes=") or "," in header:
            return None, None
        start_s, _, end_s = header[6:].strip().partition("-")
        if any(part and not DECIMAL_RE.fullmatch(part) for part in (start_s, end_s)) or not (start_s or end_s):
            return None, None  # not a range we understand: the whole file, as RFC 9110 allows
        if start_s:
            start = int(start_s)
            end = min(int(end_s), size - 1) if end_s else size - 1
        else:
            start, end = max(size - int(end_s), 0), size - 1
        if start >= size or end < start:
            self.set_header("Content-Range", f"bytes */{size}")
            raise web.HTTPError(416, "Requested range not satisfiable")
        return start, end - start + 1

    @staticmethod
    def _content_type(name: str) -> str:
        if name.lower().endswith(".ipynb"):
            return "application/x-ipynb+json"
        mime, encoding = mimetypes.guess_type(name)
        if encoding == "gzip":
            return "application/gzip"
        if encoding is not None or mime is None:
            return "application/octet-stream"
        if mime == "text/plain":
            return "text/plain; charset=UTF-8"
        return mime
