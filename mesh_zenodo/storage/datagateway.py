"""Reva-style HTTP data gateway (tornado).

* ``PUT  /data/simple/<upload id>``   whole body, ``Upload-Length`` (or ``Content-Length``)
* ``PATCH|HEAD /data/tus/<upload id>`` tus 1.0.0 core, the length may be deferred
* ``GET|HEAD /data/simple/<download id>`` streamed, single ``Range`` (206 / 416)

The transfer token comes from ``X-Reva-Transfer``, else from the last path segment
(``/data/simple/<id>/<token>`` or ``/data/simple/<token>``). ``x-access-token`` may be
sent too; the transfer token alone decides.

Bodies are streamed into a temporary file inside the storage root (1 MiB at a time at
most) and renamed into place only when complete; nothing is held in memory per byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from dataclasses import dataclass, field

import tornado.httputil
import tornado.iostream
import tornado.web

from .auth import TokenError, TokenManager
from .errors import StorageError
from .files import CHUNK, hash_file, md5_hasher
from .paths import STORAGE_ID
from .store import NodeInfo, Store
from .transfers import DownloadSession, UploadSession

log = logging.getLogger("mesh_zenodo.storage")

TUS_VERSION = "1.0.0"
TUS_CONTENT_TYPE = "application/offset+octet-stream"
# Reject-with-drain threshold: smaller bodies are read (and discarded) before an error is
# answered, so that the client sees the answer instead of a connection reset.
DRAIN_LIMIT = 16 * 1024 * 1024


class Reject(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class GatewayState:
    store: Store
    tokens: TokenManager
    busy: set[str] = field(default_factory=set)


def make_app(store: Store, tokens: TokenManager) -> tornado.web.Application:
    state = GatewayState(store, tokens)
    return tornado.web.Application(
        [
            (r"/data/(simple|tus)/([^/]+)(?:/([^/]+))?/?", TransferHandler, {"state": state}),
            (r"/.*", NotFoundHandler),
        ],
        default_handler_class=NotFoundHandler,
        log_function=log_request,
    )


def _redact(path: str) -> str:
    # Transfer tokens may travel as a path segment: never log them.
    return "/".join("<token>" if "." in seg or len(seg) > 64 else seg for seg in path.split("/"))


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Like tornado's access log, without query strings and tokens."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    access_log = logging.getLogger("tornado.access")
    if access_log.isEnabledFor(level):
        request = handler.request
        access_log.log(
            level,
            "%d %s %s (%s) %.2fms",
            status,
            request.method,
            _redact(request.path),
            request.remote_ip,
            1000.0 * request.request_time(),
        )


def _parse_length(value: str, header: str) -> int:
    value = value.strip()
    if not value.isdigit():
        raise Reject(400, f"{header} must be a non-negative integer")
    return int(value)


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """A single ``bytes=`` range as (start, end inclusive); None to ignore the header
    (malformed or multiple ranges: the whole file is sent). Raises Reject(416)."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
        return None
    unsatisfiable = Reject(416, f"requested range not satisfiable (size {size})", {"Content-Range": f"bytes */{size}"})
    if not first:  # suffix range: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise unsatisfiable
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise unsatisfiable
    return start, min(end, size - 1)


class _PlainErrors(tornado.web.RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")

    def _send(self, status: int, message: str = "", headers: dict[str, str] | None = None) -> None:
        if self._finished:
            return
        self.set_status(status)
        for key, value in (headers or {}).items():
            self.set_header(key, value)
        if message and status not in (204, 304):
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(message + "\n")
        else:
            self.finish()


class NotFoundHandler(_PlainErrors):
    def prepare(self) -> None:
        self._send(404, "not found: the data gateway serves /data/simple/<id> and /data/tus/<id>")


@tornado.web.stream_request_body
class TransferHandler(_PlainErrors):
    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "PATCH")

    def initialize(self, state: GatewayState) -> None:
        self.state = state
        self.store = state.store
        self._phase = "idle"  # receiving -> committing -> done | draining | closed
        self._pending: Reject | None = None
        self._fh = None
        self._tmp: str | None = None
        self._md5 = None
        self._received = 0
        self._expected: int | None = None  # bytes this request must carry (None: unknown)
        self._limit: int | None = None  # bytes this request may carry (quota)
        self._start_offset = 0
        self._busy_id: str | None = None
        self._upload: UploadSession | None = None
        self._download: DownloadSession | None = None
        self._writing: asyncio.Future | None = None  # the chunk being written on a worker thread

    # -- set-up ------------------------------------------------------------------------
    async def prepare(self) -> None:
        try:
            self._authorize()
            if self.request.method == "PUT":
                self._start_put()
            elif self.request.method == "PATCH":
                self._start_patch()
        except Reject as rej:
            self._reject(rej)
        except StorageError as exc:
            self._reject(Reject(exc.http_status, exc.message))

    def _reject(self, rej: Reject) -> None:
        self._release(keep_tus_data=True)
        if self.request.method in ("PUT", "PATCH"):
            length = self.request.headers.get("Content-Length", "")
            if length.strip().isdigit() and int(length) <= DRAIN_LIMIT:
                self._pending = rej
                self._phase = "draining"
                return
        self._send(rej.status, rej.message, rej.headers)

    def _authorize(self) -> None:
        kind, seg, seg2 = self.path_args
        header = self.request.headers.get("X-Reva-Transfer", "").strip()
        if header:
            token, transfer_id = header, seg
        elif seg2:
            token, transfer_id = seg2, seg
        else:
            token, transfer_id = seg, None
        try:
            claims = self.state.tokens.verify_transfer(token)
        except TokenError as exc:
            raise Reject(403, f"transfer token rejected: {exc}") from None
        if transfer_id is None:
            transfer_id = claims["target"]
        elif claims["target"] != transfer_id:
            raise Reject(403, "transfer token rejected: it is not for this transfer")
        method = self.request.method
        if claims["kind"] == "download":
            if kind != "simple" or method not in ("GET", "HEAD"):
                raise Reject(405, f"{method} is not allowed on a download", {"Allow": "GET, HEAD"})
            self._download = self.store.transfers.get_download(transfer_id)
            if self._download is None:
                raise Reject(404, "download not found (expired?)")
        else:
            allowed = "PUT" if kind == "simple" else "PATCH, HEAD"
            if method == "GET" or (method == "PUT" and kind != "simple") or (method == "PATCH" and kind != "tus"):
                raise Reject(405, f"{method} is not allowed on a {kind} upload", {"Allow": allowed})
            self._upload = self.store.transfers.get_upload(transfer_id)
            if self._upload is None:
                raise Reject(404, "upload not found: it finished, expired or was never started")

    def _claim(self, session_id: str) -> None:
        if session_id in self.state.busy:
            raise Reject(409, "another transfer to this upload is in progress")
        self.state.busy.add(session_id)
        self._busy_id = session_id

    def _allowance(self, session: UploadSession) -> tuple[int | None, int]:
        """(bytes the finished file may have under the quota or None, current size)."""
        _user, loc = self.store.transfers.upload_target(session)
        try:
            replaced = os.lstat(self.store.abs_path(loc)).st_size
        except OSError:
            replaced = 0
        if self.store.quota is None:
            return None, replaced
        return max(0, self.store.quota - self.store.used_bytes(loc.owner) + replaced), replaced

    def _start_put(self) -> None:
        session = self._upload
        raw = self.request.headers.get("Upload-Length")
        header = "Upload-Length"
        if raw is None:
            raw, header = self.request.headers.get("Content-Length"), "Content-Length"
        if raw is None:
            raise Reject(400, "Upload-Length (or Content-Length) is required")
        length = _parse_length(raw, header)
        if session.length is not None and session.length != length:
            raise Reject(
                400, f"{header} {length} differs from the Upload-Length given at InitiateFileUpload ({session.length})"
            )
        _user, loc = self.store.transfers.upload_target(session)
        _allow, replaced = self._allowance(session)
        self.store.check_quota(loc.owner, length, replaced)
        self._claim(session.id)
        self._expected = length
        self._tmp = self.store.transfers.temp_path(session.id)
        self._fh = open(self._tmp, "xb")  # noqa: SIM115 - closed in _release
        self._md5 = md5_hasher()
        self._phase = "receiving"

    def _start_patch(self) -> None:
        session = self._upload
        ctype = self.request.headers.get("Content-Type")
        if ctype is not None and ctype.split(";")[0].strip().lower() != TUS_CONTENT_TYPE:
            raise Reject(415, f"Content-Type must be {TUS_CONTENT_TYPE}", self._tus_headers())
        raw_offset = self.request.headers.get("Upload-Offset")
        if raw_offset is None:
            raise Reject(400, "Upload-Offset is required", self._tus_headers())
        offset = _parse_length(raw_offset, "Upload-Offset")
        self._claim(session.id)
        path = self.store.transfers.tus_path(session.id)
        try:
            current = os.path.getsize(path)
        except FileNotFoundError:
            current = 0
        if offset != current:
            raise Reject(
                409, f"Upload-Offset {offset} does not match the current offset {current}", self._tus_headers(current)
            )
        raw_length = self.request.headers.get("Upload-Length")
        if raw_length is not None:
            length = _parse_length(raw_length, "Upload-Length")
            if session.length is not None and session.length != length:
                raise Reject(400, f"Upload-Length {length} differs from the announced length {session.length}")
            if length < current:
                raise Reject(400, f"Upload-Length {length} is smaller than the data already received ({current})")
            if session.length is None:
                self.store.transfers.set_upload_length(session.id, length)
                session.length = length
        allowance, replaced = self._allowance(session)
        if session.length is not None:
            _user, loc = self.store.transfers.upload_target(session)
            self.store.check_quota(loc.owner, session.length, replaced, disk=False)
            self.store.check_disk(session.length - current)
            self._expected = session.length - current
        elif allowance is not None:
            self._limit = allowance - current
        self._start_offset = current
        self._tmp = path
        self._fh = open(path, "ab")  # noqa: SIM115 - closed in _release
        self._phase = "receiving"

    # -- body --------------------------------------------------------------------------
    async def data_received(self, chunk: bytes) -> None:
        # Each chunk is written and hashed on a worker thread while the loop receives the
        # next one (one chunk in flight): the disk write and the MD5 do not stall the
        # socket, and memory stays at two chunks.
        if self._phase != "receiving":
            return
        total = self._received + len(chunk)
        if self._expected is not None and total > self._expected:
            what = "Upload-Length" if self.request.method == "PUT" else "the remaining Upload-Length"
            await self._abort_body(Reject(400, f"body longer than {what} ({self._expected} bytes)"))
            return
        if self._limit is not None and total > self._limit:
            await self._abort_body(Reject(507, "quota exceeded"))
            return
        if not await self._settle_write():
            return
        self._writing = asyncio.get_running_loop().run_in_executor(None, self._write_chunk, self._fh, chunk)
        self._received = total

    def _write_chunk(self, fh, chunk: bytes) -> None:
        fh.write(chunk)
        if self._md5 is not None:
            self._md5.update(chunk)

    async def _settle_write(self) -> bool:
        """Wait for the chunk in flight; False (and the body aborted) if writing failed."""
        writing, self._writing = self._writing, None
        if writing is None:
            return True
        try:
            await writing
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                await self._abort_body(Reject(507, "not enough disk space"))
            else:
                log.error("writing an upload failed: %s", exc.strerror)
                await self._abort_body(Reject(500, "could not write the upload"))
            return False
        except ValueError:  # the file was closed under it: the request is already over
            return False
        return True

    async def _abort_body(self, rej: Reject) -> None:
        """Stop accepting this body: drop what this request wrote, answer ``rej`` once
        the client has finished sending."""
        writing, self._writing = self._writing, None
        if writing is not None:
            with contextlib.suppress(OSError, ValueError):
                await writing
        if self.request.method == "PATCH" and self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.flush()
                self._fh.truncate(self._start_offset)
        self._release(keep_tus_data=True)
        self._pending = rej
        self._phase = "draining"

    def _release(self, *, keep_tus_data: bool) -> None:
        """Close the temp file; remove it unless it holds resumable tus data."""
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
        if self._tmp is not None:
            if not (keep_tus_data and self.request.method == "PATCH"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._tmp)
            self._tmp = None
        if self._busy_id is not None:
            self.state.busy.discard(self._busy_id)
            self._busy_id = None

    def on_connection_close(self) -> None:
        # The client went away mid-request: a simple upload leaves nothing behind; tus
        # keeps the bytes received so far (resumable with HEAD + PATCH).
        if self._phase in ("receiving", "draining", "idle"):
            self._phase = "closed"
            self._release(keep_tus_data=True)

    def on_finish(self) -> None:
        self._release(keep_tus_data=True)

    # -- uploads -----------------------------------------------------------------------
    def _tus_headers(self, offset: int | None = None) -> dict[str, str]:
        headers = {"Tus-Resumable": TUS_VERSION}
        if offset is not None:
            headers["Upload-Offset"] = str(offset)
        return headers

    @staticmethod
    def _file_headers(info: NodeInfo) -> dict[str, str]:
        headers = {
            "ETag": info.etag,
            "OC-ETag": info.etag,
            "OC-FileId": f"{STORAGE_ID}${info.owner}!{info.id}",
            "Last-Modified": tornado.httputil.format_timestamp(info.mtime_ns / 1e9),
        }
        if info.md5:
            headers["OC-Checksum"] = f"MD5:{info.md5}"
        return headers

    async def _finalize(self, size: int, md5: str, extra_headers: dict[str, str], ok_status: int) -> None:
        session = self._upload
        tmp = self._tmp
        try:
            user, loc = self.store.transfers.upload_target(session)
            async with self.store.file_lock(loc):
                info = self.store.transfers.commit_file(
                    user,
                    loc,
                    tmp,
                    size,
                    md5,
                    if_match=session.if_match,
                    if_not_exist=session.if_not_exist,
                    if_unmodified_since_ns=session.if_unmodified_since_ns,
                )
        except StorageError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if exc.http_status != 500:
                self.store.transfers.end_upload(session.id)
            log.info("upload to %s failed: %s", session.name, exc.message)
            self._phase = "done"
            self._release(keep_tus_data=False)
            self._send(exc.http_status, exc.message, extra_headers if ok_status == 204 else None)
            return
        self.store.transfers.end_upload(session.id)
        self._tmp = None
        self._phase = "done"
        self._release(keep_tus_data=False)
        self._send(ok_status, "", {**extra_headers, **self._file_headers(info)})

    async def put(self, *_args) -> None:
        await self._settle_write()
        if self._pending is not None:
            rej, self._pending = self._pending, None
            self._send(rej.status, rej.message, rej.headers)
            return
        if self._phase != "receiving":
            return
        if self._received != self._expected:
            self._phase = "done"
            self._release(keep_tus_data=False)
            self._send(400, f"body shorter than Upload-Length: got {self._received} of {self._expected} bytes")
            return
        self._phase = "committing"
        fh, self._fh = self._fh, None
        try:
            fh.flush()
            await asyncio.to_thread(os.fsync, fh.fileno())
        finally:
            fh.close()
        await self._finalize(self._received, self._md5.hexdigest(), {}, 200)

    async def patch(self, *_args) -> None:
        await self._settle_write()
        if self._pending is not None:
            rej, self._pending = self._pending, None
            self._send(rej.status, rej.message, {**self._tus_headers(self._start_offset), **rej.headers})
            return
        if self._phase != "receiving":
            return
        session = self._upload
        offset = self._start_offset + self._received
        fh, self._fh = self._fh, None
        fh.flush()
        if session.length is None or offset < session.length:
            fh.close()
            self._phase = "done"
            self._release(keep_tus_data=True)
            self._send(204, "", self._tus_headers(offset))
            return
        self._phase = "committing"
        try:
            await asyncio.to_thread(os.fsync, fh.fileno())
        finally:
            fh.close()
        md5 = await asyncio.to_thread(hash_file, self._tmp)
        if md5 is None:  # the partial file vanished or changed under us
            log.error("could not read back the tus upload %s", session.id)
            self._phase = "done"
            self._release(keep_tus_data=True)
            self._send(500, "could not read the upload back", self._tus_headers())
            return
        await self._finalize(offset, md5, self._tus_headers(offset), 204)

    # -- downloads and HEAD ------------------------------------------------------------
    async def head(self, *_args) -> None:
        if self._upload is not None:
            session = self._upload
            try:
                offset = os.path.getsize(self.store.transfers.tus_path(session.id))
            except FileNotFoundError:
                offset = 0
            headers = self._tus_headers(offset)
            if session.length is not None:
                headers["Upload-Length"] = str(session.length)
            else:
                headers["Upload-Defer-Length"] = "1"
            headers["Upload-Expires"] = tornado.httputil.format_timestamp(session.expires)
            self._send(200, "", headers)
            return
        await self._download_file(send_body=False)

    async def get(self, *_args) -> None:
        await self._download_file(send_body=True)

    async def _download_file(self, *, send_body: bool) -> None:
        try:
            user, loc = self.store.transfers.download_target(self._download)
            fh, info = self.store.transfers.open_file(user, loc)
        except StorageError as exc:
            self._send(exc.http_status, exc.message)
            return
        with fh:
            size = info.size
            start, end = 0, size - 1
            status = 200
            range_header = self.request.headers.get("Range")
            if range_header:
                try:
                    wanted = parse_range(range_header, size)
                except Reject as rej:
                    self._send(rej.status, rej.message, rej.headers)
                    return
                if wanted is not None:
                    start, end = wanted
                    status = 206
                    self.set_header("Content-Range", f"bytes {start}-{end}/{size}")
            length = max(0, end - start + 1)
            self.set_status(status)
            for key, value in self._file_headers(info).items():
                self.set_header(key, value)
            self.set_header("Content-Type", info.mime_type)
            self.set_header("Accept-Ranges", "bytes")
            self.set_header("Content-Length", str(length))
            if not send_body:
                self.finish()
                return
            fh.seek(start)
            remaining = length
            try:
                while remaining > 0:
                    chunk = fh.read(min(CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    self.write(chunk)
                    await self.flush()
                self.finish()
            except tornado.iostream.StreamClosedError:
                return
