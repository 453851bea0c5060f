"""The CS3 error hierarchy: the one place that maps CS3 status codes, gRPC errors and
data-gateway HTTP answers to exceptions, and exceptions to the HTTP status our REST API
answers with.

Messages never contain tokens or passwords: they come from the storage's status message
or from our own wording.
"""

from __future__ import annotations

import grpc
from cs3.rpc.v1beta1 import code_pb2


class CS3Error(Exception):
    """A CS3 operation failed. ``http_status`` is what a REST caller should see."""

    http_status = 500
    cs3_code = code_pb2.CODE_INTERNAL

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message


class InvalidArgument(CS3Error):
    http_status = 400
    cs3_code = code_pb2.CODE_INVALID_ARGUMENT


class Unauthenticated(CS3Error):
    """Wrong credentials, or a token the gateway no longer accepts."""

    http_status = 401
    cs3_code = code_pb2.CODE_UNAUTHENTICATED


class PermissionDenied(CS3Error):
    http_status = 403
    cs3_code = code_pb2.CODE_PERMISSION_DENIED


class NotFound(CS3Error):
    http_status = 404
    cs3_code = code_pb2.CODE_NOT_FOUND


class AlreadyExists(CS3Error):
    http_status = 409
    cs3_code = code_pb2.CODE_ALREADY_EXISTS


class Aborted(CS3Error):
    """A wrong lock id, or a concurrent change that aborted the operation."""

    http_status = 409
    cs3_code = code_pb2.CODE_ABORTED


class Locked(CS3Error):
    http_status = 423
    cs3_code = code_pb2.CODE_LOCKED


class PreconditionFailed(CS3Error):
    """The resource changed since it was read (etag mismatch, if_not_exist, ...)."""

    http_status = 412
    cs3_code = code_pb2.CODE_FAILED_PRECONDITION


class TooLarge(CS3Error):
    http_status = 413
    cs3_code = code_pb2.CODE_RESOURCE_EXHAUSTED


class InsufficientStorage(CS3Error):
    http_status = 507
    cs3_code = code_pb2.CODE_INSUFFICIENT_STORAGE


class Unimplemented(CS3Error):
    http_status = 501
    cs3_code = code_pb2.CODE_UNIMPLEMENTED


class Unavailable(CS3Error):
    """The gateway or the data gateway cannot be reached."""

    http_status = 503
    cs3_code = code_pb2.CODE_UNAVAILABLE


class Internal(CS3Error):
    http_status = 502  # the storage failed; our server is fine
    cs3_code = code_pb2.CODE_INTERNAL


_BY_CS3_CODE: dict[int, type[CS3Error]] = {
    code_pb2.CODE_INVALID_ARGUMENT: InvalidArgument,
    code_pb2.CODE_OUT_OF_RANGE: InvalidArgument,
    code_pb2.CODE_UNAUTHENTICATED: Unauthenticated,
    code_pb2.CODE_PERMISSION_DENIED: PermissionDenied,
    code_pb2.CODE_NOT_FOUND: NotFound,
    code_pb2.CODE_ALREADY_EXISTS: AlreadyExists,
    code_pb2.CODE_ABORTED: Aborted,
    code_pb2.CODE_LOCKED: Locked,
    code_pb2.CODE_FAILED_PRECONDITION: PreconditionFailed,
    code_pb2.CODE_RESOURCE_EXHAUSTED: TooLarge,
    code_pb2.CODE_INSUFFICIENT_STORAGE: InsufficientStorage,
    code_pb2.CODE_UNIMPLEMENTED: Unimplemented,
    code_pb2.CODE_UNAVAILABLE: Unavailable,
    code_pb2.CODE_DEADLINE_EXCEEDED: Unavailable,
}

_BY_GRPC_CODE: dict[grpc.StatusCode, type[CS3Error]] = {
    # Reva answers a missing token with UNAUTHENTICATED, a bad or expired one with
    # PERMISSION_DENIED: both mean "sign in again" to a client holding a token.
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: Unauthenticated,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TooLarge,
}

_BY_HTTP_STATUS: dict[int, type[CS3Error]] = {
    400: InvalidArgument,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Locked,  # Reva master's data path answers every lock conflict with 409
    412: PreconditionFailed,
    413: TooLarge,
    416: InvalidArgument,
    419: InvalidArgument,  # checksum mismatch
    423: Locked,
    501: Unimplemented,
    503: Unavailable,
    507: InsufficientStorage,
}


def from_status(status, action: str, path: str | None = None) -> CS3Error:
    """The exception for a non-OK ``cs3.rpc.v1beta1.Status`` returned by ``action``."""
    cls = _BY_CS3_CODE.get(status.code, Internal)
    detail = status.message or code_pb2.Code.Name(status.code).removeprefix("CODE_").lower()
    return cls(f"{action} failed: {detail}", path=path)


def from_grpc(err: grpc.RpcError, action: str, path: str | None = None) -> CS3Error:
    """The exception for a gRPC-level failure of ``action``."""
    code = err.code() if hasattr(err, "code") else None
    cls = _BY_GRPC_CODE.get(code, Internal)
    details = err.details() if hasattr(err, "details") else None
    if cls is Unavailable:
        return cls(f"{action} failed: the CS3 gateway is unreachable ({_short_reason(details, code)})", path=path)
    if cls is Unauthenticated:
        return cls(f"{action} failed: the CS3 gateway refused the credentials ({details or code})", path=path)
    return cls(f"{action} failed: {details or code}", path=path)


def _short_reason(details: str | None, code) -> str:
    """A few words a user can act on, instead of gRPC's long connection diagnostics."""
    text = (details or "").lower()
    for needle, reason in (
        ("connection refused", "connection refused: is the storage running?"),
        ("deadline", "no answer in time"),
        ("dns", "unknown host"),
        ("ssl", "TLS handshake failed"),
        ("handshake", "TLS handshake failed"),
    ):
        if needle in text:
            return reason
    return code.name.lower().replace("_", " ") if code is not None else "no connection"


def from_http(status: int, body: str, action: str, path: str | None = None) -> CS3Error:
    """The exception for a failed data-gateway request."""
    cls = _BY_HTTP_STATUS.get(status, Internal)
    detail = " ".join(body.split())[:300] or f"HTTP {status}"
    return cls(f"{action} failed: {detail}", path=path)
