"""Test control of the stand-in: the request log, the rate limits and armed faults.

:class:`Control` holds them; its :meth:`~Control.middleware` is what every request passes
(log, rate limit with ``X-RateLimit-*`` headers and 429, armed fault, error answers) and
its routes are the loopback-only, unauthenticated interface under ``/_standin/``
(see ``docs/zenodo-standin.md``)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mesh_zenodo.zenodo.vocabulary import DOI_PREFIX

from .common import PERMISSION_MESSAGE, PID_MISSING, UNAUTHORIZED_MESSAGE, Problem, auth_kind, html_error, json_error, user_of
from .model import INVALID, SANDBOX_DOI_PREFIX, Store
from .serializers import base_of

log = logging.getLogger("mesh_zenodo.standin")


@dataclass
class Fault:
    """One armed fault: which requests it hits (``path_regex``, ``method``, ``times``;
    ``None`` keeps it armed) and what it does to them."""

    id: int
    path_regex: str = ".*"
    method: str | None = None
    times: int | None = 1
    status: int | None = None
    retry_after: float | None = None
    rate_limit_reset: float | None = None
    body: Any = None
    delay: float = 0.0
    drop: bool = False
    drop_after_bytes: int | None = None
    rate: float | None = None
    corrupt_at: int | None = None
    ignore_range: bool = False
    hold: bool = False
    skip: int = 0
    after_handler: bool = False
    hits: int = 0

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


FAULT_FIELDS = {
    "path_regex": str, "method": str, "times": int, "status": int, "retry_after": float, "rate_limit_reset": float,
    "body": object, "delay": float, "drop": bool, "drop_after_bytes": int, "rate": float, "corrupt_at": int,
    "ignore_range": bool, "hold": bool, "skip": int, "after_handler": bool,
}


#: documented requests per hour for guests and signed-in users (developers.zenodo.org;
#: no hourly limit is documented for search)
RATE_LIMITS_PER_HOUR = {"guest": 2000, "authenticated": 5000, "search": None}


class RateLimiter:
    """Requests per caller for three buckets, in fixed windows of a minute (``limits``)
    and of an hour (``hourly``; ``None`` is no hourly limit)."""

    def __init__(self, guest: int, authenticated: int, search: int, hourly: dict[str, int | None] | None = None) -> None:
        self.limits = {"guest": guest, "authenticated": authenticated, "search": search}
        self.hourly: dict[str, int | None] = {"guest": None, "authenticated": None, "search": None, **(hourly or {})}
        self.startup_hourly = dict(self.hourly)
        self.windows: dict[tuple[str, str, int], tuple[float, int]] = {}

    def _count(self, bucket: str, who: str, span: int, limit: int, now: float) -> tuple[int, int, int, bool]:
        start, count = self.windows.get((bucket, who, span), (now, 0))
        if now - start >= span:
            start, count = now, 0
        count += 1
        self.windows[(bucket, who, span)] = (start, count)
        return limit, max(0, limit - count), int(start + span) + 1, count <= limit

    def hit(self, bucket: str, who: str) -> tuple[int, int, int, bool]:
        """``(limit, remaining, reset_epoch, allowed)`` for one more request: the window
        that refuses it, else the one with the fewest requests left."""
        now = time.time()
        windows = [self._count(bucket, who, 60, self.limits[bucket], now)]
        if self.hourly.get(bucket) is not None:
            windows.append(self._count(bucket, who, 3600, int(self.hourly[bucket]), now))
        refused = [w for w in windows if not w[3]]
        if refused:
            return max(refused, key=lambda w: w[2])
        return min(windows, key=lambda w: w[1])


#: the endpoints under the search rate limit
SEARCH_PATHS = re.compile(r"^/api/(records|communities)/?$|^/api/communities/[^/]+/records/?$")


class Control:
    """The request log, the rate limiter and the armed faults of one stand-in."""

    def __init__(self, store: Store, limiter: RateLimiter) -> None:
        self.store = store
        self.limiter = limiter
        self.faults: list[Fault] = []
        self.fault_ids = 0
        self.requests: deque[dict] = deque(maxlen=20000)
        self.held = asyncio.Event()  # released by POST /_standin/release

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/_standin/faults", self.add_fault)
        router.add_get("/_standin/faults", self.list_faults)
        router.add_delete("/_standin/faults", self.clear_faults)
        router.add_get("/_standin/requests", self.list_requests)
        router.add_delete("/_standin/requests", self.clear_requests)
        router.add_post("/_standin/config", self.set_config)
        router.add_post("/_standin/release", self.release)
        router.add_post("/_standin/reset", self.reset)
        router.add_get("/_standin/info", self.info)
        router.add_get("/_standin/health", self.health)

    # ------------------------------------------------------------------ every request

    def take_fault(self, request: web.Request) -> Fault | None:
        """The first armed fault that matches ``request`` (disarmed once used up)."""
        for fault in self.faults:
            if fault.method and fault.method.upper() != request.method:
                continue
            if not re.search(fault.path_regex, request.path):
                continue
            if fault.skip > 0:  # let this one through: the fault hits a later request
                fault.skip -= 1
                continue
            fault.hits += 1
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        """Log the request, count it against its rate limit, apply an armed fault, and
        turn :class:`~.common.Problem` and unexpected errors into Zenodo's answers."""
        if request.path.startswith("/_standin/"):
            return await handler(request)
        entry = {
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "raw_path": request.raw_path.split("?", 1)[0],
            "query": request.query_string,
            "range": request.headers.get("Range"),
            "auth": auth_kind(request),
            "status": None,
        }
        self.requests.append(entry)
        user = user_of(self.store, request)
        entry["user"] = None if user is None else user.username or "invalid"
        rate_headers: dict[str, str] = {}
        if request.path.startswith("/api/"):
            bucket = "search" if SEARCH_PATHS.match(request.path) else ("authenticated" if user and user is not INVALID else "guest")
            who = f"u{user.id}" if user and user is not INVALID else (request.remote or "?")
            limit, remaining, reset, allowed = self.limiter.hit(bucket, who)
            rate_headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset)}
            request["rate_headers"] = rate_headers
            if not allowed:
                wait = max(1, reset - int(time.time()))
                response = json_error(429, "Too many requests. Please slow down.", headers={**rate_headers, "Retry-After": str(wait)})
                entry["status"] = 429
                return response
        fault = self.take_fault(request)
        request["fault"] = fault
        if fault is not None:
            if fault.hold:
                entry["status"] = "held"
                await self.held.wait()
                entry["status"] = None
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if not fault.after_handler:
                answer = self.fault_answer(request, fault, entry, rate_headers)
                if answer is not None:
                    return answer
        try:
            response = await handler(request)
        except Problem as p:
            response = p.response
        except web.HTTPException as exc:
            if exc.status >= 400 and request.path.startswith("/api/"):
                response = json_error(exc.status, exc.reason)
            else:
                raise
        except (ConnectionResetError, asyncio.CancelledError):
            entry["status"] = entry["status"] or "aborted"
            raise
        except Exception:
            log.exception("stand-in: internal error")
            response = html_error(500)
        if fault is not None and fault.after_handler and not response.prepared:
            # the request did its work; the answer is lost (dropped) or replaced
            answer = self.fault_answer(request, fault, entry, rate_headers)
            if answer is not None:
                return answer
        entry["status"] = entry["status"] or response.status
        return response

    def fault_answer(self, request: web.Request, fault: Fault, entry: dict, rate_headers: dict) -> web.Response | None:
        """The answer ``fault`` gives instead of the handler's (``None``: the handler's
        stands); a dropped connection raises."""
        if fault.drop or (fault.drop_after_bytes is not None and not request.path.endswith("/content")
                          and "/api/files/" not in request.path):
            entry["status"] = "dropped"
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("dropped by an armed fault")
        if not fault.status:
            return None
        entry["status"] = fault.status
        headers = dict(rate_headers)
        if fault.status == 429:
            headers["X-RateLimit-Remaining"] = "0"
            if fault.rate_limit_reset is not None:
                headers["X-RateLimit-Reset"] = str(int(time.time() + fault.rate_limit_reset))
        if fault.retry_after is not None:
            headers["Retry-After"] = str(int(fault.retry_after) if float(fault.retry_after).is_integer() else fault.retry_after)
        if fault.body is not None:
            return web.json_response(fault.body, status=fault.status, headers=headers)
        if fault.status >= 500:
            response = html_error(fault.status)
            response.headers.update(headers)
            return response
        message = {429: "Too many requests. Please slow down.", 404: PID_MISSING, 403: PERMISSION_MESSAGE,
                   401: UNAUTHORIZED_MESSAGE, 409: "The record is being integrated; retry in 5 minutes."}.get(
            fault.status, "Injected error.")
        return json_error(fault.status, message, headers=headers)

    async def on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        for key, value in request.get("rate_headers", {}).items():
            response.headers.setdefault(key, value)

    # ------------------------------------------------------------------ test control

    async def add_fault(self, request: web.Request) -> web.Response:
        try:
            spec = await request.json()
        except ValueError:
            return json_error(400, "invalid JSON")
        specs = spec if isinstance(spec, list) else [spec]
        created = []
        for one in specs:
            if not isinstance(one, dict) or set(one) - set(FAULT_FIELDS):
                return json_error(400, f"unknown fault fields: {sorted(set(one) - set(FAULT_FIELDS)) if isinstance(one, dict) else one}")
            try:
                re.compile(one.get("path_regex", ".*"))
            except re.error as err:
                return json_error(400, f"invalid path_regex: {err}")
            self.fault_ids += 1
            fault = Fault(id=self.fault_ids, **one)
            self.faults.append(fault)
            created.append(fault.to_json())
        return web.json_response(created if isinstance(spec, list) else created[0], status=201)

    async def list_faults(self, request: web.Request) -> web.Response:
        return web.json_response([f.to_json() for f in self.faults])

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.Response(status=204)

    async def list_requests(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.requests))

    async def clear_requests(self, request: web.Request) -> web.Response:
        self.requests.clear()
        return web.Response(status=204)

    async def set_config(self, request: web.Request) -> web.Response:
        """``rate_limit`` (per minute), ``rate_limit_hour`` (``null``: none), ``limits``
        (``max_files``, ``max_file_size``, ``quota_size`` in bytes), ``doi_prefix`` or
        ``sandbox`` (DOIs ``10.5072/zenodo.<id>``), ``legacy_newversion_quirk``, ``records_api``
        (false: a server with the legacy deposit API only, its records API routes 404)."""
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, "invalid JSON")
        unknown = set(body) - {"rate_limit", "rate_limit_hour", "limits", "doi_prefix", "sandbox", "legacy_newversion_quirk",
                               "records_api"}
        if unknown:
            return json_error(400, f"unknown settings: {sorted(unknown)}")
        for name, value in (body.get("rate_limit") or {}).items():
            if name not in self.limiter.limits:
                return json_error(400, f"unknown rate limit {name!r}")
            self.limiter.limits[name] = int(value)
        for name, value in (body.get("rate_limit_hour") or {}).items():
            if name not in self.limiter.hourly:
                return json_error(400, f"unknown rate limit {name!r}")
            self.limiter.hourly[name] = None if value is None else int(value)
        for name, value in (body.get("limits") or {}).items():
            if name not in ("max_files", "max_file_size", "quota_size"):
                return json_error(400, f"unknown limit {name!r}")
            setattr(self.store, name, int(value))
        if "sandbox" in body:
            self.store.doi_prefix = SANDBOX_DOI_PREFIX if body["sandbox"] else DOI_PREFIX
        if "doi_prefix" in body:
            self.store.doi_prefix = str(body["doi_prefix"])
        if "legacy_newversion_quirk" in body:
            self.store.legacy_newversion_quirk = bool(body["legacy_newversion_quirk"])
        if "records_api" in body:
            self.store.records_api = bool(body["records_api"])
        self.limiter.windows.clear()
        return web.json_response(self.settings())

    def settings(self) -> dict:
        return {"rate_limit": self.limiter.limits, "rate_limit_hour": self.limiter.hourly, **self.store.settings()}

    async def release(self, request: web.Request) -> web.Response:
        """Let every request held by a ``hold`` fault go on."""
        held, self.held = self.held, asyncio.Event()
        held.set()
        return web.Response(status=204)

    async def reset(self, request: web.Request) -> web.Response:
        """Release, disarm, forget the log and the windows; the hourly limits, the file
        limits, the DOI prefix and the quirks back to how the stand-in started."""
        await self.release(request)
        self.faults.clear()
        self.requests.clear()
        self.limiter.windows.clear()
        self.limiter.hourly = dict(self.limiter.startup_hourly)
        self.store.restore_settings()
        return web.Response(status=204)

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "url": base_of(request),
                "records": self.store.seeded,
                "big_records": self.store.big_records,
                "communities": sorted(self.store.communities),
                "users": sorted({u.username for u in self.store.tokens.values()}),
                "rate_limit": self.limiter.limits,
                "settings": self.settings(),
            }
        )

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})
