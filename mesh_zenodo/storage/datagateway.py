"""Reva-style HTTP data gateway (tornado).

* ``PUT  /data/simple/<upload id>``   whole body, ``Upload-Length`` (or ``Content-Length``)
* ``PATCH|HEAD /data/tus/<upload id>`` tus 1.0.0 core, the length may be deferred
* ``GET|HEAD /data/simple/<download id>`` streamed, single ``Range`` (206 / 416);
  ``?version_key=<key>`` sends one of the file's versions (as Reva's data gateway)
* ``GET|HEAD|PUT|POST /s/<token>[/<path>]`` a public link, for anyone: its page (listing,
  upload form, password form), downloads, uploads (:class:`PublicLinkHandler`, :mod:`.links`)

An upload to a locked file (:mod:`.locks`) is checked when its request starts and again
when it commits: without the lock id (given at ``InitiateFileUpload``, or as the
request's ``X-Lock-Id``) 423, with a wrong one 409; a file changed since an
``if_match`` / ``if_unmodified_since`` given at initiate is 412 (docs/locks.md).

The transfer token comes from ``X-Reva-Transfer``, else from the last path segment
(``/data/simple/<id>/<token>`` or ``/data/simple/<token>``). ``x-access-token`` may be
sent too; the transfer token alone decides. A download's token names its file: starting
one writes nothing.

Bodies are streamed into a temporary file inside the storage root and renamed into place
only when complete: the file and the MD5 each take the body's pieces on a worker thread
while the next ones arrive (:class:`_Lane`, BODY_BUFFER bytes waiting at most); nothing
is held in memory per byte. Store work goes to the store's thread (:meth:`Store.run`),
file work to worker threads (:func:`.worker.blocking`).

Numbers in headers are read by the one strict parser (:mod:`.decimals`): bad input is
400, a length too large to mean anything 413, never a 500. An upload that ends without
finishing (the client went away, or sent nothing for ``idle_timeout`` seconds) ends at
once on the storage: a simple upload's partial data and reservation are dropped (a tus
upload keeps its data for resuming), and one line is logged.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import hmac
import html
import itertools
import json
import logging
import os
import secrets
import stat as statmod
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import tornado.httputil
import tornado.iostream
import tornado.web

from .auth import TokenError, TokenManager
from .decimals import parse_decimal
from .errors import InvalidArgument, NotFound, StorageError, TooLarge, translate
from .files import CHUNK, hash_file, md5_hasher
from .nodes import NodeInfo
from .links import PublicLink, check_password, link_user, password_fingerprint
from .paths import STORAGE_ID, Loc, split_segments
from .store import Store
from .transfers import DownloadSession, OffsetMismatch, Reservation, UploadSession
from .worker import blocking

log = logging.getLogger("mesh_zenodo.storage")

TUS_VERSION = "1.0.0"
TUS_CONTENT_TYPE = "application/offset+octet-stream"
# Reject-with-drain threshold: smaller bodies are read (and discarded) before an error is
# answered, so that the client sees the answer instead of a connection reset.
DRAIN_LIMIT = 16 * 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 600.0
# An upload's body waiting to be written (and hashed): at most this many bytes, then the
# socket is read no further until the disk (or the MD5) catches up.
BODY_BUFFER = 4 * CHUNK
# Downloads are read from the file in pieces of this size, the next while the last is sent.
SEND_CHUNK = 4 * CHUNK


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
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    busy: set[str] = field(default_factory=set)
    cleanups: set[asyncio.Task] = field(default_factory=set)

    def spawn(self, coro) -> None:
        """Run the clean-up ``coro`` in the background (awaited by :meth:`settle`)."""
        task = asyncio.ensure_future(coro)
        self.cleanups.add(task)
        task.add_done_callback(self.cleanups.discard)

    async def settle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for the clean-ups of ended transfers."""
        if self.cleanups:
            await asyncio.wait(list(self.cleanups), timeout=timeout)


def make_app(store: Store, tokens: TokenManager, *, idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> tornado.web.Application:
    state = GatewayState(store, tokens, idle_timeout)
    return tornado.web.Application(
        [
            (r"/data/(simple|tus)/([^/]+)(?:/([^/]+))?/?", TransferHandler, {"state": state}),
            (r"/s/([A-Za-z0-9_-]{1,64})(/.*)?", PublicLinkHandler, {"state": state}),
            (r"/.*", NotFoundHandler),
        ],
        default_handler_class=NotFoundHandler,
        log_function=log_request,
        mz_gateway_state=state,
        cookie_secret=secrets.token_hex(32),  # the public links' password cookies (per run)
    )


def state_of(app: tornado.web.Application) -> GatewayState:
    return app.settings["mz_gateway_state"]


def _redact(path: str) -> str:
    # Transfer tokens may travel as a path segment, a public link's token is one: never log them.
    if path.startswith("/s/"):
        return "/s/<token>" + ("/..." if path.count("/") > 2 else "")
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


def parse_length(value: str, header: str) -> int:
    """A length header: 400 unless ASCII digits, 413 if absurdly large."""
    try:
        return parse_decimal(value, header)
    except TooLarge as exc:
        raise Reject(413, exc.message) from None
    except InvalidArgument as exc:
        raise Reject(400, exc.message) from None


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """A single ``bytes=`` range as (start, end inclusive); None to ignore the header
    (another unit, several ranges, or last < first: the whole file is sent). Raises
    Reject(400) for a malformed byte range, Reject(416) for an unsatisfiable one."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    shown = header[:60].encode("ascii", "backslashreplace").decode("ascii")
    malformed = Reject(400, f"malformed Range header {shown!r}: expected bytes=FIRST-LAST, bytes=FIRST- or bytes=-N")
    if not dash or not (first or last):
        raise malformed

    def number(text: str) -> int | None:
        """The position, or None if it is beyond any file (too many digits)."""
        try:
            return parse_decimal(text, "Range")
        except TooLarge:
            return None
        except InvalidArgument:
            raise malformed from None

    unsatisfiable = Reject(416, f"requested range not satisfiable (size {size})", {"Content-Range": f"bytes */{size}"})
    if not first:  # suffix range: the last N bytes
        n = number(last)
        if n == 0 or size == 0:
            raise unsatisfiable
        return (0, size - 1) if n is None else (max(0, size - n), size - 1)
    start = number(first)
    end = number(last) if last else size - 1
    if start is None or start >= size:
        raise unsatisfiable
    if end is None:
        end = size - 1
    if end < start:
        return None
    return start, min(end, size - 1)


class _PlainErrors(tornado.web.RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def _request_summary(self) -> str:
        # what tornado logs with an error: never a token of the path
        return f"{self.request.method} {_redact(self.request.path)} ({self.request.remote_ip})"

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, tornado.web.HTTPError):
            super().log_exception(typ, value, tb)
            return
        # tornado's default also logs repr(request), whose uri holds the token
        logging.getLogger("tornado.application").error(
            "Uncaught exception %s", self._request_summary(), exc_info=(typ, value, tb)
        )

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



class _FileSender(_PlainErrors):
    """Sends a file's content, streamed, honouring a single ``Range`` (the data gateway's
    downloads and the public links' pages use it alike)."""

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

    async def _send_file(self, fh, info: NodeInfo, *, send_body: bool) -> None:
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

        def read(remaining: int) -> asyncio.Future | None:
            # the next piece, read on a worker thread while the last one is sent
            return asyncio.ensure_future(blocking(fh.read, min(SEND_CHUNK, remaining))) if remaining > 0 else None

        reading = None
        try:
            await blocking(fh.seek, start)
            remaining = length
            reading = read(remaining)
            while reading is not None:
                chunk = await reading
                if not chunk:
                    break
                remaining -= len(chunk)
                reading = read(remaining)
                self.write(chunk)
                await self.flush()
            self.finish()
        except tornado.iostream.StreamClosedError:
            return
        finally:
            if reading is not None:  # the client left: the read ends before the file is closed
                with contextlib.suppress(Exception):
                    await reading



@tornado.web.stream_request_body
class TransferHandler(_FileSender):
    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "PATCH")

    def initialize(self, state: GatewayState) -> None:
        self.state = state
        self.store = state.store
        # idle -> receiving -> committing -> done; or draining (an error answered once the
        # body is read); closed (the client went away or stalled: clean-up under way)
        self._phase = "idle"
        self._prepared = asyncio.Event()
        self._pending: Reject | None = None
        self._fh = None
        self._tmp: str | None = None
        self._md5 = None
        self._received = 0
        self._expected: int | None = None  # bytes this request must carry (None: unknown)
        self._limit: int | None = None  # bytes this request may carry (quota)
        self._start_offset = 0
        self._session_id: str | None = None
        self._busy_id: str | None = None
        self._upload: UploadSession | None = None
        self._reservation: Reservation | None = None
        self._download: DownloadSession | None = None
        self._lanes: tuple[_Lane, ...] = ()  # the body on its way to the file (and the MD5)
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_activity = 0.0
        self._stalled = False
        self._ended = False
        self._ending = asyncio.Lock()

    # -- set-up ------------------------------------------------------------------------
    async def prepare(self) -> None:
        try:
            self._authorize()
            if self.request.method == "PUT":
                await self._start_put()
            elif self.request.method == "PATCH":
                await self._start_patch()
            elif self.request.method == "HEAD" and self._session_id is not None:
                self._upload = await self.store.run(self.store.transfers.get_upload, self._session_id)
                if self._upload is None:
                    raise Reject(404, "upload not found: it finished, expired or was never started")
        except Reject as rej:
            await self._reject(rej)
        except Exception as exc:
            error = translate(exc)
            if not isinstance(error, StorageError):
                raise
            headers = self._tus_headers(getattr(error, "current", None)) if self.request.method == "PATCH" else None
            await self._reject(Reject(error.http_status, error.message, headers))
        finally:
            self._prepared.set()

    async def _reject(self, rej: Reject) -> None:
        await self._end_transfer(keep_tus_data=True)
        if self._phase == "closed":  # nobody to answer
            return
        if self.request.method in ("PUT", "PATCH"):
            try:
                small = parse_decimal(self.request.headers.get("Content-Length", ""), "Content-Length") <= DRAIN_LIMIT
            except InvalidArgument:
                small = False
            if small:
                self._pending = rej
                self._phase = "draining"
                self._arm_watchdog()
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
            node, owner, user = claims.get("node"), claims.get("owner"), claims.get("user")
            if not (isinstance(node, str) and isinstance(owner, str) and isinstance(user, str)):
                raise Reject(404, "download not found (started by an older storage: start it again)")
            self._download = DownloadSession(transfer_id, owner, user, node, int(claims["exp"]))
        else:
            allowed = "PUT" if kind == "simple" else "PATCH, HEAD"
            if method == "GET" or (method == "PUT" and kind != "simple") or (method == "PATCH" and kind != "tus"):
                raise Reject(405, f"{method} is not allowed on a {kind} upload", {"Allow": allowed})
            self._session_id = transfer_id

    def _claim(self, session_id: str) -> None:
        if session_id in self.state.busy:
            raise Reject(409, "another transfer to this upload is in progress")
        self.state.busy.add(session_id)
        self._busy_id = session_id

    async def _start_put(self) -> None:
        raw = self.request.headers.get("Upload-Length")
        header = "Upload-Length"
        if raw is None:
            raw, header = self.request.headers.get("Content-Length"), "Content-Length"
        if raw is None:
            raise Reject(400, "Upload-Length (or Content-Length) is required")
        length = parse_length(raw, header)
        self._claim(self._session_id)
        self._upload, self._reservation = await self.store.run(
            self.store.transfers.begin_put, self._session_id, length, self._lock_id()
        )
        self._expected = length
        self._tmp = self.store.transfers.temp_path(self._session_id)
        self._fh = await blocking(open, self._tmp, "xb")
        self._md5 = md5_hasher()
        self._lanes = (_Lane(self._fh.write), _Lane(self._md5.update))
        self._receive()

    async def _start_patch(self) -> None:
        ctype = self.request.headers.get("Content-Type")
        if ctype is not None and ctype.split(";")[0].strip().lower() != TUS_CONTENT_TYPE:
            raise Reject(415, f"Content-Type must be {TUS_CONTENT_TYPE}", self._tus_headers())
        raw_offset = self.request.headers.get("Upload-Offset")
        if raw_offset is None:
            raise Reject(400, "Upload-Offset is required", self._tus_headers())
        offset = parse_length(raw_offset, "Upload-Offset")
        raw_length = self.request.headers.get("Upload-Length")
        length = parse_length(raw_length, "Upload-Length") if raw_length is not None else None
        self._claim(self._session_id)
        try:
            session, current, reservation, limit = await self.store.run(
                self.store.transfers.begin_patch, self._session_id, offset, length, self._lock_id()
            )
        except OffsetMismatch as exc:
            raise Reject(exc.http_status, exc.message, self._tus_headers(exc.current)) from None
        self._upload, self._reservation, self._limit = session, reservation, limit
        if session.length is not None:
            self._expected = session.length - current
        self._start_offset = current
        self._tmp = self.store.transfers.tus_path(session.id)
        self._fh = await blocking(open, self._tmp, "ab")
        self._lanes = (_Lane(self._fh.write),)
        self._receive()

    def _lock_id(self) -> str | None:
        """The ``X-Lock-Id`` of the request (Reva's data path): the lock id the upload
        gives, instead of the one given at InitiateFileUpload. A locked file answers 423
        without one, 409 with a wrong one (:mod:`.locks`)."""
        return self.request.headers.get("X-Lock-Id", "").strip() or None

    def _receive(self) -> None:
        if self._phase == "closed":  # the client left while we were getting ready
            return
        self._phase = "receiving"
        self._arm_watchdog()

    # -- the idle watchdog -------------------------------------------------------------
    def _arm_watchdog(self) -> None:
        loop = asyncio.get_running_loop()
        self._last_activity = loop.time()
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.state.idle_timeout, self._check_idle)

    def _check_idle(self) -> None:
        self._watchdog = None
        if self._phase not in ("receiving", "draining"):
            return
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._last_activity
        if idle < self.state.idle_timeout:
            self._watchdog = loop.call_later(self.state.idle_timeout - idle, self._check_idle)
            return
        self._stalled = True
        self.request.connection.close()  # -> on_connection_close: the clean-up

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    # -- body --------------------------------------------------------------------------
    async def data_received(self, chunk: bytes) -> None:
        # Each piece goes to the file's lane and the MD5's (:class:`_Lane`): written and
        # hashed on worker threads, at once, while the loop receives the next ones. The
        # socket is read on while less than BODY_BUFFER bytes wait.
        if self._phase not in ("receiving", "draining"):
            return
        self._last_activity = asyncio.get_running_loop().time()
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
        for lane in self._lanes:
            lane.add(chunk)
        self._received = total
        if self._reservation is not None:
            self._reservation.written = self._start_offset + total
        await self._settle_write(BODY_BUFFER)

    async def _settle_write(self, left: int = 0) -> bool:
        """Wait until at most ``left`` bytes of the body are still to be written (and
        hashed; 0: all of it); False (and the body aborted) if writing failed. (A
        clean-up stops the lanes and waits for the piece in progress before it closes
        the file.)"""
        try:
            for lane in self._lanes:
                await lane.wait(left)
        except ValueError:  # the file was closed: the transfer is over already
            return False
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                await self._abort_body(Reject(507, "not enough disk space"))
            else:
                log.error("writing an upload failed: %s", exc.strerror)
                await self._abort_body(Reject(500, "could not write the upload"))
            return False
        if self._phase == "receiving":
            self._last_activity = asyncio.get_running_loop().time()
        return True

    async def _abort_body(self, rej: Reject) -> None:
        """Stop accepting this body: drop what this request wrote, answer ``rej`` once
        the client has finished sending."""
        self._phase = "draining"
        await self._end_transfer(keep_tus_data=True, truncate=True)
        self._pending = rej

    async def _end_transfer(self, *, keep_tus_data: bool, truncate: bool = False) -> None:
        """This request's transfer is over (not committed): stop the lanes (the piece in
        progress is finished), close the temporary file, drop it unless it holds
        resumable tus data (``truncate``: cut it back to where this request started),
        release a simple upload's reservation and the session. Safe to call more than
        once, and at once."""
        async with self._ending:
            await self._end_transfer_now(keep_tus_data=keep_tus_data, truncate=truncate)

    async def _end_transfer_now(self, *, keep_tus_data: bool, truncate: bool) -> None:
        tus = self.request.method == "PATCH"
        lanes, self._lanes = self._lanes, ()
        for lane in lanes:  # what a tus upload received and keeps for resuming is written
            await lane.stop(finish=tus and keep_tus_data and not truncate)
        fh, self._fh = self._fh, None
        tmp, self._tmp = self._tmp, None
        start = self._start_offset

        def drop() -> None:
            if fh is not None:
                if tus and truncate:
                    with contextlib.suppress(OSError, ValueError):
                        fh.flush()
                        fh.truncate(start)
                with contextlib.suppress(OSError):
                    fh.close()
            if tmp is not None and not (keep_tus_data and tus):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

        if fh is not None or tmp is not None:
            await blocking(drop)
        if self._reservation is not None and not tus:
            self._reservation = None
            await self.store.run(self.store.transfers.drop_reservation, self._upload.id)
        if self._busy_id is not None:
            self.state.busy.discard(self._busy_id)
            self._busy_id = None

    def on_connection_close(self) -> None:
        # The client went away (or stalled and we closed the connection). Tornado is told
        # that the body will not come; the transfer ends here, in the background.
        super().on_connection_close()
        if self._ended or self._phase in ("committing", "done", "closed"):
            return
        previous, self._phase = self._phase, "closed"
        self._stop_watchdog()
        self.state.spawn(self._after_close(previous))

    async def _after_close(self, previous: str) -> None:
        await self._prepared.wait()
        received = self._received
        await self._end_transfer(keep_tus_data=True)
        if previous != "receiving" or self._upload is None:
            return
        why = (
            f"the client sent nothing for {self.state.idle_timeout:g} s (connection closed)"
            if self._stalled
            else "the client went away"
        )
        total = "?" if self._expected is None else str(self._expected)
        if self.request.method == "PATCH":
            offset = self._start_offset + received
            log.warning("tus upload %s of %s: %s at byte %d; kept for resuming", self._upload.id, self._upload.name,
                        why, offset)
        else:
            log.warning("upload %s of %s cancelled: %s after %d of %s bytes; nothing was kept",
                        self._upload.id, self._upload.name, why, received, total)

    def on_finish(self) -> None:
        self._stop_watchdog()
        if not self._ended and (self._fh is not None or self._tmp is not None or self._busy_id is not None):
            self.state.spawn(self._end_transfer(keep_tus_data=True))

    # -- uploads -----------------------------------------------------------------------
    def _tus_headers(self, offset: int | None = None) -> dict[str, str]:
        headers = {"Tus-Resumable": TUS_VERSION}
        if offset is not None:
            headers["Upload-Offset"] = str(offset)
        return headers

    async def _finalize(self, size: int, md5: str, extra_headers: dict[str, str], ok_status: int) -> None:
        session = self._upload
        tmp = self._tmp
        transfers = self.store.transfers
        try:
            _user, loc = await self.store.run(transfers.upload_target, session)
            async with self.store.file_lock(loc):
                info = await self.store.run(transfers.finish, session, tmp, size, md5, self._lock_id())
        except Exception as exc:
            error = translate(exc)
            if not isinstance(error, StorageError):
                raise
            self._reservation = None  # released (or the session ended) by finish
            self._tmp = None
            await blocking(_unlink_quietly, tmp)
            log.info("upload to %s failed: %s", session.name, error.message)
            await self._done()
            self._send(error.http_status, error.message, extra_headers if ok_status == 204 else None)
            return
        self._tmp = None
        self._reservation = None
        await self._done()
        self._send(ok_status, "", {**extra_headers, **self._file_headers(info)})

    async def _done(self) -> None:
        self._phase = "done"
        await self._end_transfer(keep_tus_data=True)
        self._ended = True

    async def _flush_and_close(self) -> None:
        """fsync the temporary file and close it (raises Reject(507) on a full disk)."""
        fh, self._fh = self._fh, None

        def finish() -> None:
            try:
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fh.close()

        try:
            await blocking(finish)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise Reject(507, "not enough disk space") from None
            raise

    async def put(self, *_args) -> None:
        await self._settle_write()
        if self._pending is not None:
            rej, self._pending = self._pending, None
            self._send(rej.status, rej.message, rej.headers)
            return
        if self._phase != "receiving":
            return
        self._stop_watchdog()
        if self._received != self._expected:
            await self._done()
            self._send(400, f"body shorter than Upload-Length: got {self._received} of {self._expected} bytes")
            return
        self._phase = "committing"
        try:
            await self._flush_and_close()
        except Reject as rej:
            await self._done()
            self._send(rej.status, rej.message)
            return
        await self._finalize(self._received, self._md5.hexdigest(), {}, 200)

    async def patch(self, *_args) -> None:
        await self._settle_write()
        if self._pending is not None:
            rej, self._pending = self._pending, None
            self._send(rej.status, rej.message, {**self._tus_headers(self._start_offset), **rej.headers})
            return
        if self._phase != "receiving":
            return
        self._stop_watchdog()
        session = self._upload
        offset = self._start_offset + self._received
        if session.length is None or offset < session.length:
            self._phase = "committing"
            try:
                await blocking(self._fh.flush)
            except OSError:
                await self._done()
                self._send(507, "not enough disk space", self._tus_headers(self._start_offset))
                return
            await self._done()
            self._send(204, "", self._tus_headers(offset))
            return
        self._phase = "committing"
        try:
            await self._flush_and_close()
        except Reject as rej:
            await self._done()
            self._send(rej.status, rej.message, self._tus_headers())
            return
        md5 = await blocking(hash_file, self._tmp)
        if md5 is None:  # the partial file vanished or changed under us
            log.error("could not read back the tus upload %s", session.id)
            await self._done()
            self._send(500, "could not read the upload back", self._tus_headers())
            return
        await self._finalize(offset, md5, self._tus_headers(offset), 204)

    # -- downloads and HEAD ------------------------------------------------------------
    async def head(self, *_args) -> None:
        if self._upload is not None:
            session = self._upload
            try:
                offset = await blocking(os.path.getsize, self.store.transfers.tus_path(session.id))
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
            version_key = self.get_query_argument("version_key", "") or None  # empty: the file (as Reva)
            fh, info = await self.store.run(self.store.transfers.open_download, self._download, version_key)
        except StorageError as exc:
            self._send(exc.http_status, exc.message)
            return
        try:
            await self._send_file(fh, info, send_body=send_body)
        finally:
            await blocking(fh.close)


class _Lane:
    """Runs ``work(piece)`` over the pieces given to :meth:`add`, in order, on a worker
    thread (:func:`.worker.blocking`) that takes piece after piece while some are
    waiting: no hand-over between the loop and a thread per piece. An upload has a lane
    for its file and one for its MD5 over the same pieces, which run at once. The first
    error stops the lane; :meth:`wait` raises it."""

    def __init__(self, work: Callable[[bytes], object]) -> None:
        self._work = work
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()  # what the worker thread shares with the loop
        self._pieces: collections.deque[bytes] = collections.deque()
        self._left = 0  # bytes added and not yet done
        self._running = False  # a worker is taking pieces
        self._error: BaseException | None = None
        self._stopped = False
        self._worker: asyncio.Future | None = None
        self._progress = asyncio.Event()

    def add(self, piece: bytes) -> None:
        with self._lock:
            if self._stopped or self._error is not None:
                return
            self._pieces.append(piece)
            self._left += len(piece)
            start = not self._running
            self._running = True
        if start:
            self._worker = asyncio.ensure_future(blocking(self._take_pieces))

    def _take_pieces(self) -> None:  # on a worker thread
        while True:
            with self._lock:
                if not self._pieces:
                    self._running = False
                    break
                piece = self._pieces.popleft()
            try:
                self._work(piece)
            except BaseException as exc:  # for wait() to raise on the loop
                with self._lock:
                    self._error = exc
                    self._pieces.clear()
                    self._running = False
                break
            with self._lock:
                self._left -= len(piece)
            self._wake()
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            self._loop.call_soon_threadsafe(self._progress.set)

    async def wait(self, left: int = 0) -> None:
        """Until at most ``left`` bytes are still to be done (0: all done and the worker
        gone), or the lane is stopped; raises the lane's error."""
        while True:
            with self._lock:
                if self._error is not None:
                    raise self._error
                if self._stopped or (self._left <= left and (left or not self._running)):
                    return
                self._progress.clear()
            await self._progress.wait()

    async def stop(self, *, finish: bool = False) -> None:
        """Take no more pieces and drop those still waiting (``finish``: do them first);
        return once the worker is gone. Whoever waits is let go."""
        with self._lock:
            self._stopped = True
            if not finish:
                self._pieces.clear()
        self._progress.set()
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._worker)


def _unlink_quietly(path: str | None) -> None:
    if path:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


# --------------------------------------------------------------------------------------
# public links: /s/<token>[/<path below the linked folder>] (anonymous; see links.py)
# --------------------------------------------------------------------------------------
#: the cookie that says "this visitor gave the link's password" (signed by the gateway's
#: own secret, made at each start: a restart asks for the password again)
LINK_COOKIE = "mz_link"
LINK_SESSION_DAYS = 1 / 24  # an hour
MAX_FORM_BODY = 4096

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>{title}</title>
<style nonce="{nonce}">body{{font:15px/1.4 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left}}
td.n{{text-align:right;white-space:nowrap}}.msg{{color:#a00}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""

_UPLOAD_FORM = """<form id="mz-upload"><p><input type="file" id="mz-files" multiple required>
<button type="submit">Upload</button></p><p id="mz-status" role="status"></p></form>
<noscript><p class="msg">Uploading needs JavaScript (each file is sent with PUT to this address).</p></noscript>
<script nonce="{nonce}">
document.getElementById("mz-upload").addEventListener("submit", async function (event) {{
  event.preventDefault();
  var status = document.getElementById("mz-status");
  var files = document.getElementById("mz-files").files;
  for (var i = 0; i < files.length; i++) {{
    status.textContent = "Uploading " + files[i].name + "...";
    var res = await fetch({target} + encodeURIComponent(files[i].name), {{method: "PUT", body: files[i]}});
    if (!res.ok) {{ status.textContent = files[i].name + ": " + (await res.text()); return; }}
  }}
  status.textContent = files.length + " file(s) uploaded.";
  {after}
}});
</script>"""

_PASSWORD_FORM = """<form method="post" action="{action}"><p>This link is protected by a password.</p>
{error}<p><label>Password
<input type="password" name="password" autocomplete="current-password" autofocus required></label>
<button type="submit">Open</button></p></form>"""


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _free_name(store: Store, loc: Loc) -> Loc:
    """``loc``, or ``name (1).ext``, ``name (2).ext``... beside it: the first free one."""
    if store._lstat(loc) is None and not os.path.lexists(store.abs_path(loc)):
        return loc
    stem, dot, ext = loc.name.rpartition(".")
    if not stem:  # no extension (or a dot file): "name (1)"
        stem, dot, ext = loc.name, "", ""
    for n in itertools.count(1):
        candidate = loc.parent.child(f"{stem} ({n}){dot}{ext}")
        if store._lstat(candidate) is None and not os.path.lexists(store.abs_path(candidate)):
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


@tornado.web.stream_request_body
class PublicLinkHandler(_FileSender):
    """A public link for anyone: GET shows the linked folder (its listing with download
    links, an upload form for links that upload) or downloads a file (streamed, Range);
    PUT uploads one file (streamed to a temporary file, then put in place atomically);
    POST takes the password (a form) and sets a signed cookie scoped to the link. The
    visitor acts as the link's own user (:func:`.links.link_user`): every store call
    goes through the one ``authorize``. An unknown, removed or expired link is 404;
    paths stay below the linked folder."""

    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "POST")

    def initialize(self, state: GatewayState) -> None:
        self.state = state
        self.store = state.store
        self._link: PublicLink | None = None
        self._base: Loc | None = None
        self._base_is_dir = False
        self._segments: list[str] = []
        self._pending: Reject | None = None
        self._form = bytearray()
        self._fh = None
        self._tmp: str | None = None
        self._md5 = None
        self._received = 0
        self._expected = 0
        self._nonce = secrets.token_urlsafe(12)

    # -- set-up --------------------------------------------------------------------------
    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Referrer-Policy", "no-referrer")  # the token is in the address
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "DENY")

    async def prepare(self) -> None:
        token, sub = self.path_args
        try:
            self._segments = split_segments(sub or "")
            self._link, self._base, self._base_is_dir = await self.store.run(self._open, token)
            method = self.request.method
            if method == "POST":
                self._check_form()
            elif self._link.password_protected and not self._has_session():
                raise Reject(401, "this link needs its password")
            elif method == "PUT":
                await self._start_upload()
        except Reject as rej:
            self._refuse(rej)
        except Exception as exc:
            error = translate(exc)
            if not isinstance(error, StorageError):
                raise
            status = 404 if isinstance(error, NotFound) else error.http_status
            self._refuse(Reject(status, error.message if status != 404 else "no such link, file or folder"))

    def _open(self, token: str) -> tuple[PublicLink, Loc, bool]:
        link = self.store.links.by_token(token)
        base = self.store.links.target(link)
        return link, base, statmod.S_ISDIR(self.store._require(base).st_mode)

    def _refuse(self, rej: Reject) -> None:
        """Answer ``rej`` once the request is read (the connection then stays usable and
        the client sees the answer), or at once for a large or unannounced body."""
        if self.request.method in ("PUT", "POST"):
            try:
                small = parse_decimal(self.request.headers.get("Content-Length", ""), "Content-Length") <= DRAIN_LIMIT
            except InvalidArgument:
                small = False
            if not small:
                self._answer(rej)
                return
        self._pending = rej

    def _answer(self, rej: Reject) -> None:
        if self._finished:
            return
        if rej.status == 401 and self.request.method in ("GET", "HEAD", "POST"):
            self._password_page(rej.status, "")
        elif rej.status == 403 and self._link is not None and self.request.method == "POST":
            self._password_page(403, "<p class=\"msg\">Wrong password.</p>")
        elif rej.status == 404 and self.request.method in ("GET", "HEAD"):
            self._page(404, "Not found", "<p>This link does not exist (any more), or nothing is here.</p>")
        else:
            self._send(rej.status, rej.message, rej.headers)

    def _link_path(self) -> str:
        return "/s/" + self.path_args[0]

    # -- the password --------------------------------------------------------------------
    def _has_session(self) -> bool:
        value = self.get_signed_cookie(LINK_COOKIE, max_age_days=LINK_SESSION_DAYS)
        if value is None:
            return False
        expected = f"{self._link.id}|{password_fingerprint(self._link.password_hash)}".encode()
        return hmac.compare_digest(value, expected)

    def _check_form(self) -> None:
        ctype = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise Reject(415, "send the password as a form (application/x-www-form-urlencoded)")
        try:
            length = parse_decimal(self.request.headers.get("Content-Length", ""), "Content-Length")
        except InvalidArgument:
            raise Reject(411, "Content-Length is required") from None
        if length > MAX_FORM_BODY:
            raise Reject(413, "the form is too large")

    async def post(self, *_args) -> None:
        if self._pending is not None:
            self._answer(self._pending)
            return
        link = self._link
        fields = urllib.parse.parse_qs(bytes(self._form).decode("utf-8", "replace"), keep_blank_values=True)
        given = (fields.get("password") or [""])[0]
        if link.password_protected:
            if not given or not await blocking(check_password, link.password_hash, given):
                self._answer(Reject(403, "wrong password"))
                return
            self.set_signed_cookie(
                LINK_COOKIE,
                f"{link.id}|{password_fingerprint(link.password_hash)}",
                expires_days=None,
                path=self._link_path(),
                httponly=True,
                samesite="Strict",
            )
        self.redirect(self._link_path() + "/", status=303)

    # -- reading -------------------------------------------------------------------------
    def _target(self) -> Loc:
        base = self._base
        if not self._base_is_dir:  # a file link: the file itself, under its name
            if self._segments and self._segments != [base.name]:
                raise NotFound("only the linked file is here")
            return base
        loc = base
        for name in self._segments:
            loc = loc.child(name)
        return loc

    async def get(self, *_args) -> None:
        await self._read(send_body=True)

    async def head(self, *_args) -> None:
        await self._read(send_body=False)

    async def _read(self, *, send_body: bool) -> None:
        if self._pending is not None:
            self._answer(self._pending)
            return
        link = self._link
        user = link_user(link)
        try:
            if "list_container" not in link.permissions:  # file drop: the upload form only
                if self._segments:
                    raise NotFound("nothing to see in a file drop")
                self._page(200, self._title(), self._upload_form(refresh=False))
                return
            loc = self._target()
            info = await self.store.run(self.store.stat, user, loc)
            if info.is_dir:
                await self._listing(user, loc, send_body)
                return
            if not self._base_is_dir and not self._segments:
                self._file_page(info)
                return
            fh, info = await self.store.run(self.store.transfers.open_file, user, loc)
        except Exception as exc:
            error = translate(exc)
            if not isinstance(error, StorageError):
                raise
            status = 404 if isinstance(error, (NotFound, InvalidArgument)) else error.http_status
            self._answer(Reject(status, error.message))
            return
        try:
            disposition = urllib.parse.quote(info.name, safe="")
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{disposition}")
            self.set_header("Content-Security-Policy", "sandbox")
            await self._send_file(fh, info, send_body=send_body)
        finally:
            await blocking(fh.close)

    @staticmethod
    def _file_headers(info: NodeInfo) -> dict[str, str]:
        # what a visitor needs, nothing of the owner (no file id)
        return {"ETag": info.etag, "Last-Modified": tornado.httputil.format_timestamp(info.mtime_ns / 1e9)}

    def _title(self) -> str:
        return html.escape(self._link.display_name or self._base.name)

    def _href(self, names: list[str], *, folder: bool = False) -> str:
        path = "/".join(urllib.parse.quote(n, safe="") for n in names)
        return html.escape(self._link_path() + "/" + path + ("/" if folder and path else ""), quote=True)

    async def _listing(self, user, loc: Loc, send_body: bool) -> None:
        parent_id, names = await self.store.run(self.store.list_names, user, loc)
        infos: list[NodeInfo] = []
        for i in range(0, len(names), 64):
            infos += await self.store.run(self.store.list_batch, user, loc, parent_id, names[i : i + 64])
        rows = []
        if self._segments:
            up = self._href(self._segments[:-1], folder=True)
            rows.append(f'<tr><td><a href="{up}">..</a></td><td></td><td></td></tr>')
        for info in infos:
            trail = self._segments + [info.name]
            label = html.escape(info.name) + ("/" if info.is_dir else "")
            size = "" if info.is_dir else _human_size(info.size)
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(info.mtime_ns / 1e9))
            rows.append(
                f'<tr><td><a href="{self._href(trail, folder=info.is_dir)}">{label}</a></td>'
                f'<td class="n">{size}</td><td class="n">{when} UTC</td></tr>'
            )
        body = "<table><tr><th>Name</th><th>Size</th><th>Modified</th></tr>" + "".join(rows) + "</table>"
        if not infos:
            body += "<p>This folder is empty.</p>"
        if "initiate_file_upload" in self._link.permissions:
            body += self._upload_form(refresh=True)
        where = "/" + "/".join(html.escape(s) for s in self._segments) if self._segments else ""
        self._page(200, self._title() + where, body, send_body=send_body)

    def _file_page(self, info: NodeInfo) -> None:
        body = (
            f'<p><a href="{self._href([info.name])}">{html.escape(info.name)}</a> '
            f"({_human_size(info.size)})</p>"
        )
        self._page(200, self._title(), body, send_body=self.request.method != "HEAD")

    def _upload_form(self, *, refresh: bool) -> str:
        folder = self._link_path() + "/" + "".join(urllib.parse.quote(s, safe="") + "/" for s in self._segments)
        return _UPLOAD_FORM.format(
            nonce=self._nonce, target=json.dumps(folder), after="location.reload();" if refresh else ""
        )

    def _password_page(self, status: int, error: str) -> None:
        action = html.escape(self._link_path(), quote=True)
        self._page(status, "Password required", _PASSWORD_FORM.format(action=action, error=error))

    def _page(self, status: int, title: str, body: str, *, send_body: bool = True) -> None:
        if self._finished:
            return
        nonce = self._nonce
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header(
            "Content-Security-Policy",
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        )
        page = _PAGE.format(title=title, body=body, nonce=nonce).encode("utf-8")
        if send_body:
            self.finish(page)
        else:
            self.set_header("Content-Length", str(len(page)))
            self.finish()

    # -- uploading -----------------------------------------------------------------------
    async def _start_upload(self) -> None:
        link = self._link
        if "initiate_file_upload" not in link.permissions:
            raise Reject(403, "this link does not take uploads")
        if not self._base_is_dir or not self._segments:
            raise Reject(405, "PUT a file below the linked folder: /s/<token>/<name>", {"Allow": "GET, HEAD, POST"})
        if "list_container" not in link.permissions and len(self._segments) != 1:
            raise Reject(404, "a file drop takes files into its folder only")
        raw = self.request.headers.get("Content-Length")
        if raw is None:
            raise Reject(411, "Content-Length is required")
        self._expected = parse_length(raw, "Content-Length")
        await self.store.run(self.store.usage.check_quota, self._base.owner, self._expected)
        self._tmp = self.store.transfers.temp_path("link")
        self._fh = await blocking(open, self._tmp, "xb")
        self._md5 = md5_hasher()

    async def data_received(self, chunk: bytes) -> None:
        if self._pending is not None or self._finished:
            return
        if self.request.method == "POST":
            self._form += chunk
            return
        if self._fh is None:
            return
        self._received += len(chunk)
        try:
            await blocking(self._write, chunk)
        except OSError as exc:
            await self._drop()
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            self._pending = Reject(507 if full else 500, "not enough disk space" if full else "could not write")

    def _write(self, chunk: bytes) -> None:
        self._fh.write(chunk)
        self._md5.update(chunk)

    async def _drop(self) -> None:
        fh, self._fh = self._fh, None
        tmp, self._tmp = self._tmp, None

        def drop() -> None:
            if fh is not None:
                with contextlib.suppress(OSError):
                    fh.close()
            _unlink_quietly(tmp)

        if fh is not None or tmp is not None:
            await blocking(drop)

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if self._fh is not None or self._tmp is not None:
            self.state.spawn(self._drop())

    def on_finish(self) -> None:
        if self._fh is not None or self._tmp is not None:
            self.state.spawn(self._drop())

    async def put(self, *_args) -> None:
        if self._pending is not None:
            self._answer(self._pending)
            return
        if self._received != self._expected:
            await self._drop()
            self._send(400, f"body shorter than Content-Length: got {self._received} of {self._expected} bytes")
            return
        fh, self._fh = self._fh, None

        def close() -> None:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()

        link, size, md5, tmp = self._link, self._received, self._md5.hexdigest(), self._tmp
        user = link_user(link)
        overwrite = "delete" in link.permissions  # edit links replace; upload and file drop never do
        loc = self._target()

        def commit():
            target = loc if overwrite else _free_name(self.store, loc)
            existed = self.store._lstat(target) is not None
            info = self.store.transfers.commit_file(user, target, tmp, size, md5, if_not_exist=not overwrite)
            return info, existed

        try:
            await blocking(close)
            async with self.store.file_lock(loc):
                info, existed = await self.store.run(commit)
        except Exception as exc:
            await self._drop()
            error = translate(exc)
            if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
                self._send(507, "not enough disk space")
                return
            if not isinstance(error, StorageError):
                raise
            self._send(error.http_status, error.message)
            return
        self._tmp = None
        self._send(200 if existed else 201, info.name, self._file_headers(info))
