"""The one base of the REST handlers under ``/mesh-zenodo/``.

Every handler is a jupyter_server ``APIHandler``: each method is decorated with
``@web.authenticated`` and ``@authorized`` (the Jupyter user, its permission on
:data:`AUTH_RESOURCE`, and XSRF for unsafe methods, as jupyter_server's own handlers).
Handlers are thin: they parse and check the request with the helpers here, call one
service method, and map errors with :func:`mesh_zenodo.http_errors.http_errors`.
Errors have one JSON shape, ``{"message", "reason", "errors"?, "retry_after"?}``.

The services a handler uses arrive as keyword arguments of its route (see
:func:`mesh_zenodo.rest.routes`), built once by the composition root
(:class:`mesh_zenodo.app.MeshZenodoApp`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..contents import CS3ContentsManager
from ..cs3.client import CS3Client
from ..http_errors import to_http
from ..services.errors import NotOnCS3
from ..cs3 import request_id
from ..services.health import HealthService
from ..services.jobs import JobRegistry
from ..services.kernel_access import KernelAccess
from ..services.pulls import PullService
from ..services.sharing import SharingService
from ..services.spaces import SpaceService
from ..services.publishing import PublishService
from ..services.zenodo_connection import ZenodoConnection

#: plain ASCII numbers, bounded (``int()`` alone accepts "٣", "1_000" and 4,000 digits)
DECIMAL_RE = re.compile(r"[0-9]{1,18}")
INTEGER_RE = re.compile(r"-?[0-9]{1,18}")

#: the jupyter_server authorization resource of our routes: they read and write files
AUTH_RESOURCE = "contents"


class MeshHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every mesh-zenodo REST handler."""

    auth_resource = AUTH_RESOURCE

    def initialize(
        self,
        name: str,
        *,
        cs3: CS3Client | None = None,
        connection: ZenodoConnection | None = None,
        jobs: JobRegistry | None = None,
        pulls: PullService | None = None,
        sharing: SharingService | None = None,
        spaces: SpaceService | None = None,
        publishing: PublishService | None = None,
        kernel_access: KernelAccess | None = None,
        health: HealthService | None = None,
        **kwargs: Any,
    ) -> None:
        super().initialize(name, **kwargs)
        self.cs3 = cs3
        self.connection = connection
        self.jobs = jobs
        self.pulls = pulls
        self.sharing = sharing
        self.spaces = spaces
        self.publishing = publishing
        self.kernel_access = kernel_access
        self.health = health

    async def prepare(self) -> None:
        # the request id: answered, logged, and carried into the storage calls made for it
        self.request_id = request_id.begin(self.request.headers.get("X-Request-Id"))
        self.set_header("X-Request-Id", self.request_id)
        await super().prepare()

    # ------------------------------------------------------------------ answers

    def send(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(body))

    def log_exception(self, typ, value, tb) -> None:
        """Our own errors are expected events (bad input, Zenodo or the storage
        unreachable): :func:`access_log` writes them as one line with their message.
        Anything else is a bug and is logged by tornado, with its traceback."""
        if isinstance(value, web.HTTPError) and value.status_code != 500:
            self.expected_error = value.log_message % value.args if value.args else value.log_message
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """One error body for every route: ours carry their JSON body
        (:class:`~mesh_zenodo.http_errors.APIError`); anything else is answered as
        jupyter_server's APIHandler answers it."""
        if getattr(self, "request_id", None):  # (send_error cleared the headers)
            self.set_header("X-Request-Id", self.request_id)
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            self.set_header("Content-Type", "application/json")
            if body.get("retry_after") is not None:
                self.set_header("Retry-After", str(max(1, int(body["retry_after"]))))
            self.finish(json.dumps(body))
            return
        super().write_error(status_code, **kwargs)

    # ------------------------------------------------------------------ input

    def bad_request(self, message: str) -> web.HTTPError:
        return web.HTTPError(400, message, reason="BadRequest")

    def cs3_contents(self, action: str) -> CS3ContentsManager:
        """The contents manager, when Lab's files are on CS3 (else a 409 saying so)."""
        cm = self.contents_manager
        if not isinstance(cm, CS3ContentsManager):
            raise to_http(NotOnCS3(f"{action} needs Jupyter's files on a CS3 storage (mesh-zenodo lab)"))
        return cm

    def length_header(self, name: str = "Content-Length", limit: int = 1 << 50) -> int:
        """A byte count from a header: plain ASCII digits only (``str.isdigit`` also takes
        "²" and "٣"), at most ``limit``; else 411 when missing, 400 when malformed."""
        raw = self.request.headers.get(name)
        if raw is None:
            raise web.HTTPError(411, f"{name} is required")
        if not DECIMAL_RE.fullmatch(raw) or int(raw) > limit:
            raise web.HTTPError(400, f"{name} must be a number of bytes (0 to {limit})")
        return int(raw)

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        if not INTEGER_RE.fullmatch(raw):
            raise self.bad_request(f"{name} must be an integer")
        value = int(raw)
        if not low <= value <= high:
            raise self.bad_request(f"{name} must be between {low} and {high}")
        return value

    def bool_argument(self, name: str) -> bool:
        raw = (self.get_query_argument(name, "") or "").lower()
        if raw in ("", "0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        raise self.bad_request(f"{name} must be true or false")

    def choice_argument(self, name: str, choices) -> str | None:
        raw = self.get_query_argument(name, None) or None
        if raw is not None and raw not in choices:
            raise self.bad_request(f"{name} must be one of {', '.join(choices)}")
        return raw

    def json_object(self) -> dict:
        """The request's JSON object body (``{}`` when empty)."""
        # not APIHandler.get_json_body(): it logs a malformed body, which may hold a token
        raw = self.request.body
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise self.bad_request("the request body is not valid JSON") from None
        except RecursionError:
            raise self.bad_request("the request body is nested too deeply") from None
        if not isinstance(body, dict):
            raise self.bad_request("the request body must be a JSON object")
        return body


def access_log(log_function):
    """Wrap jupyter_server's access log (the tornado ``log_function`` setting) so that a
    request of ours that ended in an expected error is one line, at WARNING, with the
    reason: not a WARNING from tornado plus an ERROR access line (plus a dump of the
    request headers for a 503) for the same event. Every other request is logged as
    jupyter_server logs it."""

    def log_request(handler) -> None:
        message = getattr(handler, "expected_error", None)
        if not isinstance(handler, MeshHandler) or message is None:
            log_function(handler)
            return
        request = handler.request
        handler.log.warning(
            "%d %s %s: %s (%.2f ms) request_id=%s",
            handler.get_status(),
            request.method,
            request.path,
            message,
            1000.0 * request.request_time(),
            getattr(handler, "request_id", "-"),
        )

    return log_request
