"""The one map from our error hierarchies to HTTP answers.

Three hierarchies reach the Jupyter server's handlers: :class:`~.cs3.errors.CS3Error`
(the storage), :class:`~.zenodo.errors.ZenodoError` (Zenodo) and
:class:`~.services.errors.ServiceError` (the product's own refusals). Each error class
names the HTTP status a caller should see; :func:`http_errors` turns any of them into
the ``tornado.web.HTTPError`` that jupyter_server's handlers answer with, carrying the
one error body shape of the REST API::

    {"message": "...", "reason": "<error class>", "errors"?: [...], "retry_after"?: s}

It sits below the REST handlers (:mod:`mesh_zenodo.rest`) *and* the contents manager
(:mod:`mesh_zenodo.contents`), because jupyter_server's own ``/api/contents`` handlers
call the contents manager and expect ``HTTPError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tornado import web

from .cs3.errors import CS3Error
from .services.errors import ServiceError
from .zenodo.errors import ZenodoError

MAPPED = (CS3Error, ZenodoError, ServiceError)


class APIError(web.HTTPError):
    """An ``HTTPError`` with the JSON body to answer (see the module docstring)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body["message"], reason=body["reason"])
        self.body = body


def to_http(err: CS3Error | ZenodoError | ServiceError) -> APIError:
    """The HTTP answer for one of our errors."""
    if isinstance(err, ZenodoError):
        return APIError(err.http_status, err.to_json())
    body = {"message": err.message, "reason": type(err).__name__}
    if isinstance(err, ServiceError):
        body.update(err.details())
    return APIError(err.http_status, body)


@contextmanager
def http_errors() -> Iterator[None]:
    """Turn an error of one of our hierarchies raised inside the block into its HTTP answer."""
    try:
        yield
    except MAPPED as err:
        raise to_http(err) from None
