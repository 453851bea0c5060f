"""Jupyter contents models from CS3 ResourceInfo, and file content in and out of them.

Pure functions, no I/O: the contents manager calls them, the CPU-heavy ones
(:func:`decode`, :func:`encode`) from a worker thread.
"""

from __future__ import annotations

import base64
import mimetypes
from datetime import datetime, timezone

import pybase64
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from tornado import web

CONTAINER = spr.RESOURCE_TYPE_CONTAINER


def mtime(info: spr.ResourceInfo) -> datetime:
    """A ResourceInfo's modification time, to the nanosecond the storage gave."""
    return datetime.fromtimestamp(info.mtime.seconds + info.mtime.nanos / 1e9, tz=timezone.utc)


def base_model(path: str, info: spr.ResourceInfo) -> dict:
    last_modified = mtime(info)
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "last_modified": last_modified,
        # CS3 has no creation time; the first write is the best we know
        "created": last_modified,
        "content": None,
        "format": None,
        "mimetype": None,
        "size": info.size,
        "writable": bool(info.permission_set.initiate_file_upload),
        "hash": None,
        "hash_algorithm": None,
    }


def model_from_info(path: str, info: spr.ResourceInfo, type: str | None = None) -> dict:
    """A content-less model straight from a ResourceInfo (no extra round trip)."""
    model = base_model(path, info)
    if info.type == CONTAINER:
        model.update(type="directory", size=None)
    elif type == "notebook" or (type is None and path.endswith(".ipynb")):
        model["type"] = "notebook"
    else:
        model.update(type="file", mimetype=mimetypes.guess_type(path)[0])
    return model


def decode(content: str, format: str | None, path: str) -> bytes:
    """The bytes of a file model's content, as jupyter_server decodes them."""
    if format not in {"text", "base64"}:
        raise web.HTTPError(400, "Must specify format of file contents as 'text' or 'base64'")
    if not isinstance(content, str):
        raise web.HTTPError(400, f"Encoding error saving {path}: the content must be a string")
    try:
        if format == "text":
            return content.encode("utf8")
        # strict: characters outside the alphabet are an error, not silently dropped
        return pybase64.b64decode(content.replace("\n", "").replace("\r", ""), validate=True)
    except Exception as e:
        raise web.HTTPError(400, f"Encoding error saving {path}: {type(e).__name__}") from e


def encode(raw: bytes, format: str | None, path: str) -> tuple[str, str]:
    """``(content, format)`` of a file's bytes for its model, as jupyter_server encodes them."""
    if format == "text" or format is None:
        try:
            return raw.decode("utf8"), "text"
        except UnicodeError:
            if format == "text":
                raise web.HTTPError(400, f"{path} is not UTF-8 encoded", reason="bad format") from None
    return base64.encodebytes(raw).decode("ascii"), "base64"
