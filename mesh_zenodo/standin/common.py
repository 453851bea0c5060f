"""What the stand-in's route modules share: error answers (both of Zenodo's shapes),
who is calling, paging and its links, and streaming a file with ``Range`` support and
the download faults (:mod:`.faults`) applied."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web

from mesh_zenodo.zenodo.vocabulary import ANONYMOUS_PAGE_SIZE, AUTHENTICATED_PAGE_SIZE, MAX_RESULT_WINDOW

from .model import INVALID, DiskContent, Store, StoredFile, User
from .serializers import base_of

if TYPE_CHECKING:
    from .faults import Fault

# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------

PERMISSION_MESSAGE = (
    "You don't have the permission to access the requested resource. It is either read-protected or not "
    "readable by the server."
)
UNAUTHORIZED_MESSAGE = (
    "The server could not verify that you are authorized to access the URL requested. You either supplied the "
    "wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials "
    "required."
)
PID_MISSING = "PID does not exist."


def json_error(status: int, message: str, errors: list | None = None, headers: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    return web.json_response(body, status=status, headers=headers)


def html_error(status: int) -> web.Response:
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(
        status, "Error"
    )
    page = (
        f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>{status} {reason}</title>\n'
        f"<h1>{reason}</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n"
    )
    return web.Response(status=status, text=page, content_type="text/html")


class Problem(Exception):
    """Raised by a handler; the middleware answers with its ``response``."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def problem(status: int, message: str, errors: list | None = None) -> Problem:
    return Problem(json_error(status, message, errors))


async def receive_file(request: web.Request, data_dir: str, short_message: str) -> DiskContent:
    """The request's body, streamed to the data folder (md5 computed on the way); nothing
    is kept when it is shorter than its ``Content-Length`` (400 ``short_message``)."""
    path = os.path.join(data_dir, "blobs", uuid.uuid4().hex)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    digest = hashlib.md5()
    size = 0
    loop = asyncio.get_running_loop()
    fault = request.get("fault")
    rate = fault.rate if fault and fault.rate else None  # a slow link (see faults)
    started = loop.time()
    try:
        with open(path, "wb") as out:
            async for chunk in request.content.iter_chunked(max(1024, min(1 << 20, int(rate / 10))) if rate else 1 << 20):
                digest.update(chunk)
                size += len(chunk)
                await loop.run_in_executor(None, out.write, chunk)
                if rate:  # no faster than the link: wait until size/rate seconds have passed
                    await asyncio.sleep(max(0.0, started + size / rate - loop.time()))
    except BaseException:
        os.unlink(path)
        raise
    if size != request.content_length:
        os.unlink(path)
        raise problem(400, short_message)
    return DiskContent(path, size, digest.hexdigest())


# ---------------------------------------------------------------------------------------
# who is calling
# ---------------------------------------------------------------------------------------


def user_of(store: Store, request: web.Request) -> User | None:
    """The caller: ``None`` when anonymous, :data:`~.model.INVALID` for an unknown token."""
    header = request.headers.get("Authorization", "")
    token = None
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
    elif "access_token" in request.query:
        token = request.query["access_token"]
    if token is None:
        return None
    return store.tokens.get(token, INVALID)


def auth_kind(request: web.Request) -> str:
    """How the caller authenticated (for the request log): ``bearer``, ``query`` or ``none``."""
    if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
        return "bearer"
    if "access_token" in request.query:
        return "query"
    return "none"


# ---------------------------------------------------------------------------------------
# shared by the route modules
# ---------------------------------------------------------------------------------------


class Routes:
    """Route handlers over one :class:`~.model.Store` (subclasses add ``add_routes``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def user(self, request: web.Request) -> User | None:
        return user_of(self.store, request)

    def page_args(self, request: web.Request, default_size: int = 10) -> tuple[int, int]:
        user = self.user(request)
        try:
            page = int(request.query.get("page", "1") or 1)
            size = int(request.query.get("size", str(default_size)) or default_size)
        except ValueError:
            raise problem(400, "Invalid page or size: not a valid integer.") from None
        if page < 1 or size < 1:
            raise problem(400, "Invalid page or size: must be greater than or equal to 1.")
        cap = AUTHENTICATED_PAGE_SIZE if user and user is not INVALID else ANONYMOUS_PAGE_SIZE
        if size > cap:
            raise problem(400, f"Page size cannot be greater than {cap}.")
        if page * size > MAX_RESULT_WINDOW:
            raise problem(400, "Maximum number of results have been reached.")
        return page, size

    def check_bad_token(self, request: web.Request) -> None:
        if self.user(request) is INVALID:
            raise problem(401, UNAUTHORIZED_MESSAGE)

    def deposit_user(self, request: web.Request, scope: str = "deposit:write") -> User:
        user = self.user(request)
        # the legacy deposit API answers anonymous, bad and scope-less tokens alike: 403
        if user is None or user is INVALID or not user.can(scope):
            raise problem(403, PERMISSION_MESSAGE)
        return user

    def links(self, request: web.Request, page: int, size: int, total: int, path: str | None = None) -> dict:
        base = base_of(request)
        path = path or request.path
        params = {k: v for k, v in request.query.items() if k not in ("page", "size", "access_token")}

        def url(p: int) -> str:
            return f"{base}{path}?{urlencode({**params, 'page': p, 'size': size})}"

        links = {"self": url(page)}
        if page * size < total:
            links["next"] = url(page + 1)
        if page > 1:
            links["prev"] = url(page - 1)
        return links

    async def send_file(self, request: web.Request, f: StoredFile) -> web.StreamResponse:
        """``f``'s bytes with ``ETag``/``Content-MD5``, ``Range`` (206/416) and ``If-Range``,
        slowed, cut or corrupted as the request's armed fault says."""
        fault: Fault | None = request.get("fault")
        size = f.size
        etag = f'"md5:{f.md5}"'
        start, end = 0, size
        status = 200
        range_header = request.headers.get("Range", "")
        if_range = request.headers.get("If-Range")
        use_range = bool(range_header) and not (fault and fault.ignore_range) and (if_range is None or if_range == etag)
        if use_range:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
                else:
                    start, end = max(0, size - int(m.group(2))), size
                if start >= size or end <= start:
                    return web.Response(status=416, headers={"Content-Range": f"bytes */{size}", **request.get("rate_headers", {})})
                status = 206
        response = web.StreamResponse(status=status)
        response.content_type = f.mimetype
        response.content_length = end - start
        response.headers["ETag"] = etag
        response.headers["Content-MD5"] = base64.b64encode(bytes.fromhex(f.md5)).decode()
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f.key)}"
        response.headers["Last-Modified"] = f.created.strftime("%a, %d %b %Y %H:%M:%S GMT")
        if status == 206:
            response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        await response.prepare(request)
        if request.method == "HEAD" or end == start:
            await response.write_eof()
            return response
        chunk = 1 << 20
        rate = fault.rate if fault and fault.rate else None
        if rate:
            chunk = max(1024, min(chunk, int(rate / 10)))
        drop_at = fault.drop_after_bytes if fault and fault.drop_after_bytes is not None else None
        corrupt_at = fault.corrupt_at if fault and fault.corrupt_at is not None else None
        sent = 0
        pos = start
        async for piece in f.content.chunks(start, end, chunk):
            if corrupt_at is not None and pos <= corrupt_at < pos + len(piece):
                piece = bytearray(piece)
                piece[corrupt_at - pos] ^= 0xFF
            if drop_at is not None and sent + len(piece) >= drop_at:
                await response.write(piece[: max(0, drop_at - sent)])
                await asyncio.sleep(0.05)  # let the bytes leave before the connection is cut
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("dropped by an armed fault")
            await response.write(piece)
            sent += len(piece)
            pos += len(piece)
            if rate:
                await asyncio.sleep(len(piece) / rate)
        await response.write_eof()
        return response
