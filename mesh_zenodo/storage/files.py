"""Whole-file utilities of the storage: the one MD5 of a file (and the one incremental
hasher that streamed uploads feed), copying, hard-linking, removing and measuring trees.

Everything here reads or writes whole files: run it in a worker thread
(:func:`.worker.blocking`), except :func:`link_or_copy` on the same filesystem (a link).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import stat as statmod

log = logging.getLogger("mesh_zenodo.storage")

CHUNK = 1024 * 1024


def md5_hasher():
    """The incremental MD5 (``update(bytes)``, ``hexdigest()``) every checksum comes from."""
    return hashlib.md5()


EMPTY_MD5 = md5_hasher().hexdigest()


def hash_file(path: str) -> str | None:
    """MD5 of a file, streamed; None if the file changed or vanished meanwhile."""
    try:
        with open(path, "rb") as fh:
            before = os.fstat(fh.fileno())
            md5 = md5_hasher()
            while chunk := fh.read(CHUNK):
                md5.update(chunk)
        after = os.lstat(path)
    except OSError:
        return None
    if (before.st_size, before.st_mtime_ns, before.st_ino) != (after.st_size, after.st_mtime_ns, after.st_ino):
        return None
    return md5.hexdigest()


def copy_with_md5(src: str, dst: str) -> tuple[int, str]:
    """Copy ``src`` to a new file ``dst`` in chunks, fsynced; returns (size, md5)."""
    md5 = md5_hasher()
    size = 0
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(CHUNK):
            md5.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return size, md5.hexdigest()


def link_or_copy(src: str, dst: str) -> None:
    """Hard-link ``src`` as ``dst`` (a copy on filesystems without hard links; ``dst``
    appears only once complete)."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
            raise
        part = dst + ".part"
        try:
            shutil.copy2(src, part)
            os.rename(part, dst)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
            raise


def remove_tree(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc.strerror)


def tree_size(path: str) -> int:
    """Total size of the regular files under ``path`` (symlinks not followed)."""
    try:
        st = os.lstat(path)
    except OSError:
        return 0
    if not statmod.S_ISDIR(st.st_mode):
        return st.st_size if statmod.S_ISREG(st.st_mode) else 0
    total = 0
    stack = [path]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total
