"""The request id: one per REST call of ours (taken from the caller's ``X-Request-Id`` when
it is a sane one, else made), answered in the response's ``X-Request-Id``, and carried
into every storage call made for it: gRPC metadata ``x-request-id`` and the data
gateway's ``X-Request-Id`` header, as Reva's services pass it on. Logs on both sides name
it, so one user's failed click can be followed from Lab to the storage."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

#: the id of the request being served (a context variable: each request's task has its own)
REQUEST_ID: ContextVar[str | None] = ContextVar("mesh_zenodo_request_id", default=None)

_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def begin(incoming: str | None) -> str:
    """Start serving a request: its id (the caller's if sane) becomes the current one."""
    rid = incoming if incoming and _SANE.fullmatch(incoming) else uuid.uuid4().hex
    REQUEST_ID.set(rid)
    return rid


def current() -> str | None:
    return REQUEST_ID.get()
