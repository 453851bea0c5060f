"""ZenodoClient: the one place that speaks Zenodo's REST API.

Async (``aiohttp``), so nothing here blocks the Jupyter server's event loop. One client
is one (base URL, access token) pair: the token travels only in an
``Authorization: Bearer`` header, and only to the client's own origin (never in a query
string, a log line, an exception message or the environment).

Every request has connect and read timeouts. Idempotent requests (GET, HEAD, PUT of
metadata, DELETE) are retried with exponential backoff and jitter on 5xx answers and
connection errors; every request is retried after a 429 once the server's
``Retry-After`` (or ``X-RateLimit-Reset``) has passed, capped and a bounded number of
times, since a 429 means the server did nothing. What still fails leaves as a
:class:`~mesh_zenodo.zenodo.errors.ZenodoError` carrying Zenodo's message.

Configuration is traitlets (``c.ZenodoClient.read_timeout = 600``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import json
import random
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from traitlets import Bool, Float, Int, Unicode, default, validate, TraitError
from traitlets.config import LoggingConfigurable

from .. import __version__
from . import errors
from .drafts import DraftsMixin, check_key, hashing_body
from .vocabulary import (
    ANONYMOUS_PAGE_SIZE,
    AUTHENTICATED_PAGE_SIZE,
    COMMUNITY_SORT_WITHOUT_QUERY,
    MAX_RESULT_WINDOW,
    RECORD_SORT_WITHOUT_QUERY,
    SORT_WITH_QUERY,
)

#: longest base URL accepted (a host name is at most 253 characters)
MAX_BASE_URL = 2000

ZENODO_URL = "https://zenodo.org"
SANDBOX_URL = "https://sandbox.zenodo.org"
#: the environments the UI offers by name; any other http(s) base URL is allowed too
ENVIRONMENTS = {"zenodo": ZENODO_URL, "sandbox": SANDBOX_URL}

BodySource = bytes | Callable[[], AsyncIterable[bytes]]


def normalize_base_url(url: str) -> str:
    """``https://zenodo.org`` from ``https://zenodo.org/``, ``https://zenodo.org/api``...;
    refuses anything but a plain http(s) URL (no credentials, query or fragment, no
    control characters, a host name that DNS can carry)."""
    if not isinstance(url, str) or not url.strip():
        raise errors.InvalidBaseURL("the Zenodo base URL is empty")
    url = url.strip()
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.InvalidBaseURL("the Zenodo base URL is not valid text (a lone surrogate)") from None
    if len(url) > MAX_BASE_URL or any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in url):
        raise errors.InvalidBaseURL("the Zenodo base URL is too long or contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        raise errors.InvalidBaseURL("the Zenodo base URL is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme[:20] or "none"
        raise errors.InvalidBaseURL(f"the Zenodo base URL must start with https:// or http:// (scheme: {shown})")
    if not parts.hostname:
        raise errors.InvalidBaseURL("the Zenodo base URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise errors.InvalidBaseURL("the Zenodo base URL must not contain credentials; use the access token")
    if parts.query or parts.fragment:
        raise errors.InvalidBaseURL("the Zenodo base URL must not have a query string or fragment")
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path[: -len("/api")]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    else:
        try:  # what the HTTP client will do with it: a label over 63 characters, a bad IDN...
            host.encode("idna")
        except UnicodeError:
            raise errors.InvalidBaseURL("the Zenodo base URL's host name is not a valid domain name") from None
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme.lower()}://{netloc}{path}"


def environment_of(base_url: str) -> str:
    """``zenodo``, ``sandbox`` or ``custom``."""
    for name, url in ENVIRONMENTS.items():
        if base_url == url:
            return name
    return "custom"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _wait_from_headers(headers, now: float | None = None) -> float | None:
    """Seconds to wait before retrying, from ``Retry-After`` (seconds or HTTP date) or
    else ``X-RateLimit-Reset`` (epoch seconds, or seconds when small)."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - now)
            except (TypeError, ValueError):
                pass
    value = headers.get("X-RateLimit-Reset")
    if value:
        try:
            reset = float(value.strip())
        except ValueError:
            return None
        return max(0.0, reset - now) if reset > 1e9 else max(0.0, reset)
    return None


def md5_from_headers(headers) -> str | None:
    """The md5 (lowercase hex) a download announces in ``ETag: "md5:..."`` or ``Content-MD5``."""
    etag = (headers.get("ETag") or "").strip().strip('"')
    if etag.lower().startswith("md5:"):
        return etag[4:].lower()
    value = (headers.get("Content-MD5") or "").strip()
    if len(value) == 32:
        try:
            bytes.fromhex(value)
            return value.lower()
        except ValueError:
            pass
    if value:
        try:
            raw = base64.b64decode(value, validate=True)
            if len(raw) == 16:
                return raw.hex()
        except (binascii.Error, ValueError):
            pass
    return None


def checksum_md5(checksum: str | None) -> str | None:
    """``abc...`` from Zenodo's ``"md5:abc..."`` (or a bare 32-hex checksum)."""
    if not checksum:
        return None
    algo, _, value = checksum.partition(":")
    if not value:
        algo, value = "md5", algo
    return value.lower() if algo.lower() == "md5" and len(value) == 32 else None


@dataclass
class Account:
    """What a token check found out."""

    base_url: str
    #: the Zenodo user id, when the server revealed it (owner of a deposition)
    user_id: str | None
    #: the token may create and edit depositions
    deposit: bool


class FileStream:
    """An open download: headers known, body not yet read. ``offset`` is where the body
    starts (0 when the server ignored a Range), ``size`` the whole file's size."""

    def __init__(self, response: aiohttp.ClientResponse, chunk_size: int, action: str, scrub) -> None:
        self._response = response
        self._chunk_size = chunk_size
        self._action = action
        self._scrub = scrub
        self.status = response.status
        self.headers = response.headers
        self.etag = response.headers.get("ETag")
        self.md5 = md5_from_headers(response.headers)
        self.offset = 0
        self.length = response.content_length
        self.size = response.content_length
        content_range = response.headers.get("Content-Range", "")
        if response.status == 206 and content_range.startswith("bytes "):
            span, _, total = content_range[6:].partition("/")
            start, _, end = span.partition("-")
            try:
                self.offset = int(start)
                self.length = int(end) - int(start) + 1
                self.size = int(total) if total.strip() != "*" else None
            except ValueError:
                pass

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body in chunks of up to ``chunk_size`` bytes. Raises
        :class:`~errors.TransferInterrupted` if the connection breaks or ends short."""
        received = 0
        try:
            async for chunk in self._response.content.iter_chunked(self._chunk_size):
                received += len(chunk)
                yield chunk
        except (aiohttp.ClientError, ConnectionError) as err:
            raise errors.TransferInterrupted(
                f"{self._action} failed: the connection broke off after {received} bytes ({type(err).__name__})"
            ) from None
        except asyncio.TimeoutError:
            raise errors.Timeout(f"{self._action} failed: no data for too long after {received} bytes") from None
        if self.length is not None and received < self.length:
            raise errors.TransferInterrupted(
                f"{self._action} failed: the server sent {received} of {self.length} bytes"
            )


class ZenodoClient(DraftsMixin, LoggingConfigurable):
    """A connection to one Zenodo (or InvenioRDM) server, with or without a token. The
    records API (drafts, versions) is :class:`~mesh_zenodo.zenodo.drafts.DraftsMixin`."""

    base_url = Unicode(
        ZENODO_URL,
        config=True,
        help=f"Base URL of the Zenodo server: {ZENODO_URL}, the sandbox {SANDBOX_URL}, or any "
        "InvenioRDM/Zenodo server (e.g. the local stand-in, `mesh-zenodo zenodo-standin`).",
    )

    @validate("base_url")
    def _validate_base_url(self, proposal) -> str:
        try:
            return normalize_base_url(proposal["value"])
        except errors.InvalidBaseURL as err:
            raise TraitError(err.message) from None

    connect_timeout = Float(10.0, config=True, help="Seconds to wait for a connection to Zenodo.")
    read_timeout = Float(
        300.0,
        config=True,
        help="Seconds a response may stall (no bytes arriving) before it is abandoned. Long, "
        "because Zenodo is slow under load; it is not a limit on a whole transfer.",
    )
    retries = Int(4, config=True, help="Retries of an idempotent request after a 5xx answer or a connection error.")
    backoff = Float(0.5, config=True, help="Seconds before the first retry; doubles on each retry (with jitter).")
    max_backoff = Float(20.0, config=True, help="Longest wait between two retries.")
    rate_limit_retries = Int(
        3, config=True, help="Retries after a 429 answer, each after the wait the server asked for."
    )
    max_rate_limit_wait = Float(
        60.0, config=True, help="Longest wait honoured after a 429 (Retry-After / X-RateLimit-Reset are capped to it)."
    )
    chunk_size = Int(1 << 20, config=True, help="Bytes per chunk of streamed downloads and uploads.")
    trust_env = Bool(
        False, config=True, help="Use the HTTP(S)_PROXY environment variables to reach Zenodo."
    )
    user_agent = Unicode(config=True, help="User-Agent header sent to Zenodo.")

    @default("user_agent")
    def _default_user_agent(self) -> str:
        return f"mesh-zenodo/{__version__} (JupyterLab ScienceMesh plugin; aiohttp/{aiohttp.__version__})"

    def __init__(self, token: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._token = token or None
        self._session: aiohttp.ClientSession | None = None
        self._host = urlsplit(self.base_url).netloc
        self._records_api: bool | None = None

    def __repr__(self) -> str:  # never the token
        auth = "token" if self._token else "anonymous"
        return f"<ZenodoClient {self.base_url} ({auth})>"

    def forget_token(self) -> None:
        """Continue anonymously (after sign-out: running jobs keep working on public files)."""
        self._token = None

    @property
    def authenticated(self) -> bool:
        return self._token is not None

    @property
    def page_size_cap(self) -> int:
        return AUTHENTICATED_PAGE_SIZE if self._token else ANONYMOUS_PAGE_SIZE

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def _rid(value: int | str) -> str:
        return _record_id(value)

    @staticmethod
    def _stored_md5(checksum: str | None) -> str | None:
        return checksum_md5(checksum)

    def _scrub(self, text: str) -> str:
        """``text`` with the token replaced (in case a server echoed it)."""
        if self._token and self._token in text:
            text = text.replace(self._token, "***")
        return text

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=self.connect_timeout * 3,  # name resolution + a free pooled connection + connect
                sock_connect=self.connect_timeout,
                sock_read=self.read_timeout,
            )
            self._session = aiohttp.ClientSession(
                timeout=timeout,
                connector=aiohttp.TCPConnector(limit=16, ttl_dns_cache=300),
                headers={"User-Agent": self.user_agent},
                trust_env=self.trust_env,
                read_bufsize=self.chunk_size,
                raise_for_status=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ZenodoClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def url(self, path: str) -> str:
        """Absolute URL of an API path (``/api/records``) on this server."""
        return self.base_url + "/" + path.lstrip("/")

    def _headers(self, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if extra:
            headers.update(extra)
        # the token goes to this client's server only, never to a link pointing elsewhere
        if self._token and _origin(url) == _origin(self.base_url):
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _check_url(self, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            url = self.url(url)
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise errors.BadRequest("refusing a Zenodo link with credentials in it")
        return url

    def _backoff(self, attempt: int) -> float:
        delay = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return delay * (0.5 + random.random() / 2)

    @asynccontextmanager
    async def _open(
        self,
        method: str,
        url: str,
        *,
        action: str,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        body: BodySource | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send a request (with the retry rules above) and yield the successful response
        with its body unread; raise the :class:`ZenodoError` for anything else."""
        url = self._check_url(url)
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        if params:
            params = {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in params.items() if v is not None}
        retryable_body = body is None or isinstance(body, (bytes, bytearray)) or callable(body)
        attempt = 0
        rate_waits = 0
        session = self._http()
        while True:
            request_headers = self._headers(url, headers)
            data: Any = None
            if json_body is not None:
                data = json.dumps(json_body).encode()
                request_headers["Content-Type"] = "application/json"
            elif body is not None:
                data = body() if callable(body) else body
            try:
                response = await session.request(
                    method, url, params=params, data=data, headers=request_headers, allow_redirects=True
                )
            except asyncio.TimeoutError:  # before ClientConnectionError: ServerTimeoutError is both
                if idempotent and retryable_body and attempt < self.retries:
                    attempt += 1
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise errors.Timeout(f"{action} failed: {self._host} did not answer in time") from None
            except aiohttp.InvalidURL:
                raise errors.BadRequest(f"{action} failed: invalid URL") from None
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ConnectionError) as err:
                if idempotent and retryable_body and attempt < self.retries:
                    attempt += 1
                    delay = self._backoff(attempt)
                    self.log.debug("Zenodo: %s %s: %s; retry %d in %.1fs", method, self._host, type(err).__name__, attempt, delay)
                    await asyncio.sleep(delay)
                    continue
                raise self._unreachable(action, err) from None

            if response.status < 400:
                try:
                    yield response
                finally:
                    response.release()
                return

            try:
                raw = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                raw = b""
            finally:
                response.release()
            status = response.status
            if status == 429:
                wait = _wait_from_headers(response.headers)
                if rate_waits < self.rate_limit_retries and retryable_body:
                    rate_waits += 1
                    delay = min(self.max_rate_limit_wait, wait if wait is not None else self._backoff(rate_waits))
                    self.log.info(
                        "Zenodo: %s rate-limited (429) %s; waiting %.1fs (retry %d of %d)",
                        self._host, action, delay, rate_waits, self.rate_limit_retries,
                    )
                    await asyncio.sleep(delay)
                    continue
                error = errors.from_response(status, raw, action, self._host)
                error.retry_after = wait
                raise self._scrubbed(error)
            if status >= 500 and idempotent and retryable_body and attempt < self.retries:
                attempt += 1
                delay = self._backoff(attempt)
                self.log.debug("Zenodo: %s %s answered %d; retry %d in %.1fs", method, self._host, status, attempt, delay)
                await asyncio.sleep(delay)
                continue
            raise self._scrubbed(errors.from_response(status, raw, action, self._host))

    def _scrubbed(self, error: errors.ZenodoError) -> errors.ZenodoError:
        error.message = self._scrub(error.message)
        error.args = (error.message,)
        for field in error.errors:
            field["messages"] = [self._scrub(m) for m in field["messages"]]
        return error

    def _unreachable(self, action: str, err: BaseException) -> errors.ZenodoError:
        if isinstance(err, aiohttp.ClientPayloadError):
            return errors.TransferInterrupted(f"{action} failed: the connection to {self._host} broke off")
        return errors.Unreachable(f"{action} failed: cannot reach {self._host} ({type(err).__name__})")

    async def _json(self, method: str, path_or_url: str, *, action: str, **kwargs) -> Any:
        async with self._open(method, path_or_url, action=action, **kwargs) as response:
            if response.status == 204:
                return None
            try:
                raw = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                raise self._unreachable(action, err) from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise errors.ServerError(
                f"{action} failed: {self._host} did not answer with JSON; is {self.base_url} a Zenodo server?",
                status=response.status,
            ) from None

    # ------------------------------------------------------------------ account

    async def check_token(self) -> Account:
        """Validate the token against the deposit API (``GET /api/deposit/depositions?size=1``).

        Zenodo answers a bad token 401 or 403 (anonymous callers get 403 too), and a valid
        token without the deposit scopes 403 as well; a second request that needs a
        valid token but no scope (``GET /api/user/communities``) tells these apart.
        """
        if not self._token:
            raise errors.InvalidToken("no access token was given")
        action = f"checking the access token with {self._host}"
        try:
            depositions = await self._json("GET", "/api/deposit/depositions", action=action, params={"size": 1})
        except (errors.InvalidToken, errors.Forbidden) as err:
            if "scope" in err.message.lower():
                raise errors.MissingScope(self._missing_scope_message(), status=err.status) from None
            if await self._token_valid_without_scope():
                raise errors.MissingScope(self._missing_scope_message(), status=err.status) from None
            raise errors.InvalidToken(
                f"{self._host} refused the access token (HTTP {err.status}): it is unknown, revoked or "
                f"for another server (a sandbox token does not work on zenodo.org and vice versa)",
                status=err.status,
            ) from None
        except errors.NotFound:
            raise errors.ServerError(
                f"{action} failed: {self.base_url} has no deposit API; is it a Zenodo or InvenioRDM server?",
                status=404,
            ) from None
        if not isinstance(depositions, list):
            raise errors.ServerError(f"{action} failed: unexpected answer from {self._host}")
        owner = None
        if depositions and isinstance(depositions[0], dict):
            value = depositions[0].get("owner")
            owner = str(value) if value not in (None, "") else None
        return Account(base_url=self.base_url, user_id=owner, deposit=True)

    async def _token_valid_without_scope(self) -> bool:
        try:
            await self._json(
                "GET", "/api/user/communities", action="checking the access token", params={"size": 1}
            )
        except errors.ZenodoError:
            return False
        return True

    def _missing_scope_message(self) -> str:
        return (
            f"the access token is valid but lacks the deposit:write and deposit:actions scopes; create "
            f"a token with both at {self.base_url}/account/settings/applications/tokens/new/"
        )

    # ------------------------------------------------------------------ records

    def clamp_size(self, size: int | None, default: int = 10) -> int:
        """A page size within the server's cap for this caller (25 anonymous, 100 with a token)."""
        if size is None:
            size = default
        return max(1, min(int(size), self.page_size_cap))

    @staticmethod
    def clamp_page(page: int | None, size: int) -> int:
        page = max(1, int(page or 1))
        return min(page, max(1, MAX_RESULT_WINDOW // size))

    async def search_records(
        self,
        q: str = "",
        *,
        type: str | None = None,
        subtype: str | None = None,
        sort: str | None = None,
        page: int = 1,
        size: int = 10,
        communities: str | None = None,
        all_versions: bool = False,
    ) -> dict:
        """``GET /api/records``: ``{"hits": {"hits": [...], "total": N}, "links", "aggregations"}``."""
        size = self.clamp_size(size)
        params = {
            "q": q or "",
            "type": type or None,
            "subtype": subtype or None,
            "sort": sort or (SORT_WITH_QUERY if q else RECORD_SORT_WITHOUT_QUERY),
            "page": self.clamp_page(page, size),
            "size": size,
            "communities": communities or None,
            "all_versions": True if all_versions else None,
        }
        return await self._json("GET", "/api/records", action="searching records", params=params)

    async def get_record(self, record_id: int | str) -> dict:
        rid = _record_id(record_id)
        return await self._json("GET", f"/api/records/{rid}", action=f"reading record {rid}")

    async def list_record_files(self, record_id: int | str) -> list[dict]:
        """``GET /api/records/:id/files`` entries (``key``, ``size``, ``checksum``, ``links``)."""
        rid = _record_id(record_id)
        data = await self._json("GET", f"/api/records/{rid}/files", action=f"listing the files of record {rid}")
        entries = (data or {}).get("entries", [])
        if isinstance(entries, dict):  # RDM serialises entries as a mapping key -> entry
            entries = list(entries.values())
        return entries

    def file_content_url(self, record_id: int | str, key: str) -> str:
        return self.url(f"/api/records/{_record_id(record_id)}/files/{quote(key, safe='')}/content")

    # ------------------------------------------------------------------ communities

    async def search_communities(
        self, q: str = "", *, sort: str | None = None, page: int = 1, size: int = 10, type: str | None = None
    ) -> dict:
        size = self.clamp_size(size)
        params = {
            "q": q or "",
            "sort": sort or (SORT_WITH_QUERY if q else COMMUNITY_SORT_WITHOUT_QUERY),
            "page": self.clamp_page(page, size),
            "size": size,
            "type": type or None,
        }
        return await self._json("GET", "/api/communities", action="searching communities", params=params)

    async def get_community(self, slug: str) -> dict:
        return await self._json(
            "GET", f"/api/communities/{quote(slug, safe='')}", action=f"reading community {slug!r}"
        )

    async def community_records(self, slug: str, q: str = "", **kwargs) -> dict:
        """Records of a community, in the same (legacy) shape as :meth:`search_records`."""
        return await self.search_records(q, communities=slug, **kwargs)

    # ------------------------------------------------------------------ file content

    @asynccontextmanager
    async def open_file(
        self, url: str, *, offset: int = 0, if_range: str | None = None, action: str | None = None
    ) -> AsyncIterator[FileStream]:
        """Open a file's content link for streaming (``async with client.open_file(u) as f:
        async for chunk in f.chunks(): ...``), from byte ``offset`` when the server
        supports ranges (check ``f.offset``: 0 means it sent the whole file)."""
        extra = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if offset:
            extra["Range"] = f"bytes={offset}-"
            if if_range:
                extra["If-Range"] = if_range
        action = action or "downloading a file"
        async with self._open("GET", url, action=action, headers=extra, idempotent=True) as response:
            yield FileStream(response, self.chunk_size, action, self._scrub)

    # ------------------------------------------------------------------ depositions

    async def list_depositions(self, *, q: str = "", status: str | None = None, page: int = 1, size: int = 10) -> list[dict]:
        params = {"q": q or None, "status": status, "page": page, "size": min(max(1, size), 100)}
        return await self._json("GET", "/api/deposit/depositions", action="listing depositions", params=params)

    async def create_deposition(self, metadata: dict | None = None) -> dict:
        """``POST /api/deposit/depositions`` → 201; ``metadata.prereserve_doi.doi`` is set."""
        body = {"metadata": metadata} if metadata else {}
        return await self._json("POST", "/api/deposit/depositions", action="creating a deposition", json_body=body)

    async def get_deposition(self, deposition_id: int | str) -> dict:
        did = _record_id(deposition_id)
        return await self._json("GET", f"/api/deposit/depositions/{did}", action=f"reading deposition {did}")

    async def update_deposition(self, deposition_id: int | str, metadata: dict) -> dict:
        """``PUT`` the whole metadata object (Zenodo replaces it)."""
        did = _record_id(deposition_id)
        return await self._json(
            "PUT", f"/api/deposit/depositions/{did}", action=f"updating deposition {did}", json_body={"metadata": metadata}
        )

    async def delete_deposition(self, deposition_id: int | str) -> None:
        """Delete an unpublished draft (204; 404 once published or already deleted)."""
        did = _record_id(deposition_id)
        await self._json("DELETE", f"/api/deposit/depositions/{did}", action=f"deleting draft {did}")

    async def _action(self, deposition_id: int | str, name: str, verb: str) -> dict:
        did = _record_id(deposition_id)
        return await self._json(
            "POST", f"/api/deposit/depositions/{did}/actions/{name}", action=f"{verb} deposition {did}", idempotent=False
        )

    async def publish(self, deposition_id: int | str) -> dict:
        """202 with ``state: "done"``, ``doi``, ``record_id``, ``links.record_html``."""
        return await self._action(deposition_id, "publish", "publishing")

    async def new_deposition_version(self, deposition_id: int | str) -> dict:
        """Legacy ``newversion``: the next version's draft with the files imported, read
        from ``links.latest_draft``. zenodo.org refuses it (400 ``files.enabled``) while
        that draft is open with files: prefer :meth:`new_version` and :meth:`import_files`."""
        answer = await self._action(deposition_id, "newversion", "opening a new version of")
        latest = (answer.get("links") or {}).get("latest_draft")
        if latest:
            return await self._json("GET", latest, action="reading the new version's draft")
        return answer

    async def edit(self, deposition_id: int | str) -> dict:
        return await self._action(deposition_id, "edit", "editing")

    async def discard(self, deposition_id: int | str) -> dict:
        return await self._action(deposition_id, "discard", "discarding the edits of")

    async def list_bucket(self, bucket_url: str) -> dict:
        return await self._json("GET", bucket_url, action="listing the deposition's files")

    async def upload_file(self, bucket_url: str, key: str, body: BodySource, size: int) -> dict:
        """Stream a file to ``PUT {bucket}/{key}`` (201). ``body`` is bytes or a callable
        returning a fresh async iterable of chunks (so a 429 can be retried). The md5 of
        the bytes sent is compared with the ``checksum`` Zenodo answers."""
        url = bucket_url.rstrip("/") + "/" + quote(check_key(key), safe="")
        fresh, digest = hashing_body(body)

        extra = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        result = await self._json(
            "PUT", url, action=f"uploading {key} to Zenodo", body=fresh, headers=extra, idempotent=False
        )
        sent = digest["md5"].hexdigest()
        stored = checksum_md5((result or {}).get("checksum"))
        if stored is not None and stored != sent:
            raise errors.ChecksumMismatch(
                f"uploading {key} to Zenodo failed: Zenodo stored md5 {stored}, but {sent} was sent"
            )
        return result

    async def delete_file(self, bucket_url: str, key: str) -> None:
        url = bucket_url.rstrip("/") + "/" + quote(key, safe="")
        await self._json("DELETE", url, action=f"deleting {key} from the deposition")


def _record_id(value: int | str) -> str:
    """A record / deposition id as Zenodo spells it (digits); anything else is refused
    here rather than sent (it would land in a URL path)."""
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,20}", text):
        raise errors.BadRequest(f"invalid Zenodo record id: {text[:40]!r}")
    return text.lstrip("0") or "0"
