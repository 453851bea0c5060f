"""The Zenodo error hierarchy: the one place that turns Zenodo's answers (status codes,
both forms of error bodies, connection failures) into exceptions, and exceptions into
the HTTP status our REST API answers with (as data: :mod:`mesh_zenodo.http_errors`
turns it into an HTTP answer).

Zenodo's validation errors come in two shapes: the documented
``{"errors": [{"field": ..., "message": "..."}]}`` and the one the server really sends,
``{"errors": [{"field": ..., "messages": ["...", ...]}]}``. Both become
``errors = [{"field": ..., "messages": [...]}]`` here.

Messages never contain the access token: they are our own wording plus Zenodo's
``message``, and :class:`~mesh_zenodo.zenodo.client.ZenodoClient` scrubs the token out
of anything the server echoed.
"""

from __future__ import annotations

import json
from typing import Any



class ZenodoError(Exception):
    """A Zenodo operation failed. ``http_status`` is what a REST caller should see."""

    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: the status Zenodo answered with (None when it did not answer)
        self.status = status
        #: field errors, normalised to ``[{"field": str | None, "messages": [str, ...]}]``
        self.errors = errors or []
        #: seconds Zenodo asked us to wait (429)
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "reason": type(self).__name__}
        if self.errors:
            body["errors"] = self.errors
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return body


class BadRequest(ZenodoError):
    """Zenodo refused the request as malformed (e.g. a query-string syntax error)."""

    http_status = 400


class ValidationError(BadRequest):
    """Deposition metadata Zenodo will not accept; ``errors`` names the fields. A draft
    save of the records API (:meth:`~.drafts.DraftsMixin.update_draft`) keeps the valid
    parts: the draft as saved is ``draft``."""

    draft: dict[str, Any] | None = None


class InvalidBaseURL(BadRequest):
    """The base URL is not an http(s) URL of a Zenodo / InvenioRDM server."""


class InvalidToken(ZenodoError):
    """The access token is unknown, revoked or expired (Zenodo answers 401 or 403)."""

    http_status = 401


class Forbidden(ZenodoError):
    """The token is valid but not allowed to do this (not the owner, locked bucket...)."""

    http_status = 403


class MissingScope(Forbidden):
    """The token is valid but lacks the ``deposit:write`` / ``deposit:actions`` scope."""


class NotFound(ZenodoError):
    http_status = 404


class Conflict(ZenodoError):
    """409: e.g. a record still being integrated just after publication."""

    http_status = 409


class TooLarge(ZenodoError):
    http_status = 413


class RateLimited(ZenodoError):
    """429 after the bounded waits and retries; ``retry_after`` tells when to try again."""

    http_status = 429


class Unreachable(ZenodoError):
    """Zenodo could not be reached, or the connection broke."""

    http_status = 502


class Timeout(Unreachable):
    http_status = 504


class TransferInterrupted(Unreachable):
    """A download broke off (connection dropped, fewer bytes than announced)."""


class ServiceUnavailable(Unreachable):
    """Zenodo answered 503 (overloaded or in maintenance)."""

    http_status = 503


class ServerError(ZenodoError):
    """Zenodo answered 5xx (after the retries for idempotent requests)."""

    http_status = 502


class ChecksumMismatch(ZenodoError):
    """The bytes received (or stored by Zenodo) do not have the announced md5."""

    http_status = 502


class RangeNotSatisfiable(ZenodoError):
    http_status = 416


_BY_STATUS: dict[int, type[ZenodoError]] = {
    400: BadRequest,
    401: InvalidToken,
    403: Forbidden,
    404: NotFound,
    405: BadRequest,
    409: Conflict,
    410: NotFound,
    411: BadRequest,
    413: TooLarge,
    415: BadRequest,
    416: RangeNotSatisfiable,
    422: ValidationError,
    429: RateLimited,
    503: ServiceUnavailable,
}


def parse_error_body(body: bytes | str | None) -> tuple[str | None, list[dict[str, Any]]]:
    """``(message, errors)`` from a Zenodo error body, whichever form it takes.

    ``errors`` is normalised to ``[{"field": ..., "messages": [...]}]`` from either
    ``{"field", "message"}`` (the documented form) or ``{"field", "messages": [...]}``
    (what the server sends). Non-JSON bodies (500 pages, proxies) give ``(None, [])``.
    """
    if not body:
        return None, []
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError:
        return None, []
    if not isinstance(data, dict):
        return None, []
    message = data.get("message")
    if not isinstance(message, str):
        message = data.get("error_description") or data.get("error")
        message = message if isinstance(message, str) else None
    fields: list[dict[str, Any]] = []
    raw_errors = data.get("errors")
    if isinstance(raw_errors, list):
        for entry in raw_errors:
            if isinstance(entry, str):
                fields.append({"field": None, "messages": [entry]})
                continue
            if not isinstance(entry, dict):
                continue
            messages = entry.get("messages")
            if isinstance(messages, str):
                messages = [messages]
            elif isinstance(messages, dict):  # nested marshmallow errors
                messages = [f"{k}: {v}" for k, v in messages.items()]
            elif not isinstance(messages, list):
                messages = []
            single = entry.get("message")
            if isinstance(single, str) and single not in messages:
                messages = [*messages, single]
            fields.append({"field": entry.get("field"), "messages": [str(m) for m in messages]})
    return message, fields


def from_response(status: int, body: bytes | str | None, action: str, host: str) -> ZenodoError:
    """The exception for Zenodo's error answer ``status`` + ``body`` to ``action``."""
    message, fields = parse_error_body(body)
    if status >= 500:
        cls = _BY_STATUS.get(status, ServerError)
    else:
        cls = _BY_STATUS.get(status, BadRequest)
    if cls is BadRequest and fields:
        cls = ValidationError
    detail = message or {
        400: "bad request",
        401: "the access token was not accepted",
        403: "permission denied",
        404: "not found",
        409: "conflict",
        429: "too many requests",
        500: "internal server error",
        502: "bad gateway",
        503: "service unavailable",
        504: "gateway timeout",
    }.get(status, f"HTTP {status}")
    detail = " ".join(str(detail).split())[:500]
    if fields:
        summary = "; ".join(
            f"{f['field']}: {' '.join(f['messages'])}" if f["field"] else " ".join(f["messages"]) for f in fields
        )
        detail = f"{detail} ({summary[:500]})"
    return cls(f"{action} failed: {host} answered {status}: {detail}", status=status, errors=fields)
