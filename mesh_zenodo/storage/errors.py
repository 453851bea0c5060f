"""Errors of the embedded storage: one class per CS3 code. The gRPC service maps ``code``
to ``rpc.Code``, the data gateway maps ``http_status`` to the HTTP answer.

A full disk is never an internal error: :func:`translate` turns SQLite's
``SQLITE_FULL`` and the file system's ``ENOSPC`` / ``EDQUOT`` into
:class:`InsufficientStorage` (``CODE_INSUFFICIENT_STORAGE``, HTTP 507)."""

from __future__ import annotations

import errno
import sqlite3

SQLITE_BUSY = 5
SQLITE_FULL = 13


class StorageError(Exception):
    code = "INTERNAL"
    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(StorageError):
    code, http_status = "INVALID_ARGUMENT", 400


class TooLarge(InvalidArgument):
    """A number too large to be meant (a length of more than 2**63 - 1 bytes)."""

    http_status = 413


class NotFound(StorageError):
    code, http_status = "NOT_FOUND", 404


class AlreadyExists(StorageError):
    code, http_status = "ALREADY_EXISTS", 409


class PermissionDenied(StorageError):
    code, http_status = "PERMISSION_DENIED", 403


class FailedPrecondition(StorageError):
    code, http_status = "FAILED_PRECONDITION", 412


class Locked(StorageError):
    """A write to a file locked by someone else, or without its lock id (Reva edge: HTTP 423)."""

    code, http_status = "LOCKED", 423


class Aborted(StorageError):
    """A wrong lock id (on a write, RefreshLock or Unlock): HTTP 409, as Reva's data path."""

    code, http_status = "ABORTED", 409


class Conflict(StorageError):
    """The target is of the wrong kind (e.g. uploading onto a folder)."""

    code, http_status = "FAILED_PRECONDITION", 409


class InsufficientStorage(StorageError):
    code, http_status = "INSUFFICIENT_STORAGE", 507


class DiskFull(InsufficientStorage):
    """The disk is full (not the quota): it may pass once space is freed."""


class ResourceExhausted(StorageError):
    """An answer that would not fit in one gRPC message."""

    code, http_status = "RESOURCE_EXHAUSTED", 413


class Unavailable(StorageError):
    """Busy for now (another program holds the database): try again."""

    code, http_status = "UNAVAILABLE", 503


class Unimplemented(StorageError):
    """Not served by this storage (clients read it in the status and fall back)."""

    code, http_status = "UNIMPLEMENTED", 501


class Internal(StorageError):
    code, http_status = "INTERNAL", 500


DISK_FULL_MESSAGE = "the storage's disk is full: nothing was changed"


def _sqlite_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF  # the primary code of an extended one


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says that the disk (or the user's disk quota) is full."""
    if isinstance(exc, sqlite3.Error):
        return _sqlite_code(exc) == SQLITE_FULL or "database or disk is full" in str(exc)
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return False


def translate(exc: BaseException) -> BaseException:
    """The storage error a low-level failure stands for (``exc`` itself otherwise)."""
    if isinstance(exc, StorageError):
        return exc
    if is_disk_full(exc):
        return DiskFull(DISK_FULL_MESSAGE)
    if isinstance(exc, sqlite3.Error) and _sqlite_code(exc) == SQLITE_BUSY:
        return Unavailable("the storage's database is busy (locked by another program): try again")
    return exc
