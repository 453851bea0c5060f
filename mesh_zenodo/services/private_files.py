"""Files this Jupyter server keeps for its user alone (a remembered Zenodo token, merge
bases, running publications): written atomically (a temporary file renamed over the old
one, so a crash or a full disk leaves the previous file whole), mode 0600 in folders of
mode 0700, never through a symbolic link."""

from __future__ import annotations

import contextlib
import os


def write_private(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically, readable by the user only (even briefly).
    Raises OSError (the old content stays)."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)  # an existing temporary file kept its mode
        os.replace(tmp, path)
    except BaseException:
        unlink_quietly(tmp)
        raise


def unlink_quietly(path: str | os.PathLike) -> None:
    """Remove ``path`` if it is there."""
    with contextlib.suppress(OSError):
        os.unlink(path)
