"""Errors of the embedded storage: one class per CS3 code. The gRPC service maps ``code``
to ``rpc.Code``, the data gateway maps ``http_status`` to the HTTP answer."""

from __future__ import annotations


class StorageError(Exception):
    code = "INTERNAL"
    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(StorageError):
    code, http_status = "INVALID_ARGUMENT", 400


class NotFound(StorageError):
    code, http_status = "NOT_FOUND", 404


class AlreadyExists(StorageError):
    code, http_status = "ALREADY_EXISTS", 409


class PermissionDenied(StorageError):
    code, http_status = "PERMISSION_DENIED", 403


class FailedPrecondition(StorageError):
    code, http_status = "FAILED_PRECONDITION", 412


class Conflict(StorageError):
    """The target is of the wrong kind (e.g. uploading onto a folder)."""

    code, http_status = "FAILED_PRECONDITION", 409


class InsufficientStorage(StorageError):
    code, http_status = "INSUFFICIENT_STORAGE", 507


class Internal(StorageError):
    code, http_status = "INTERNAL", 500
