"""The FUSE mount of the user's CS3 space, as Lab's file browser shows it (a program).

``python -m mesh_zenodo.fs.mount MOUNTPOINT --root /home`` mounts the CS3 folder ``--root``
(the file browser's ``/``: the home with ``Shares/`` and ``Projects/``) at ``MOUNTPOINT``
until it is stopped (SIGTERM, SIGINT, or ``fusermount3 -u``). The server extension runs it
for its kernels and terminals (services/kernel_access.py) with a short-lived token in a
file it renews (``MESH_ZENODO_CS3_TOKEN_FILE``); the gateway from
``MESH_ZENODO_CS3_GATEWAY`` or ``--gateway``.

Why mfusepy (ctypes over Debian's libfuse3): it needs no compiler and no build of
libfuse's headers on the user's machine, works with libfuse 2 and 3, and its threaded
high-level API fits blocking calls into the storage; pyfuse3 needs a C build against
libfuse3-dev and trio. The CS3 side is :class:`~.cs3fs.CS3FileSystem` (one way to reach
the storage from kernels).

Behaviour:

* reads stream through the data gateway in ranges (8 MiB read ahead per open file);
* writes go to a local temporary file, uploaded as one CS3 upload on close, flush or
  fsync (a new version, never a half-written file); a file opened for writing without
  truncation first gets its current content;
* stats and listings are cached for :data:`TTL` seconds (the kernel's attribute and entry
  caches too) and dropped on our own writes, so others' changes show within two seconds;
* roles hold: a resource without upload permission (a viewer share) is read-only here:
  opening it for writing, creating in it, deleting or renaming fail with EACCES;
* a rename onto an existing file replaces it (as POSIX rename does: pandas and editors
  write a temporary file and rename it over the old one);
* a file that cannot be written at close (locked by another application, quota, a role
  lost meanwhile) fails the close with the reason (EBUSY, ENOSPC, EACCES) and its
  content is kept beside it as a conflict copy (``<name>.<user>.<time>.conflict<ext>``);
  when even that cannot be written (the storage away or full), in ``--kept-dir`` on this
  machine, and the log says where.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import posixpath
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import mfusepy
from fsspec.asyn import sync

from ..cs3.naming import conflict_copy_name
from .cs3fs import CS3FileSystem

#: seconds a stat or listing is trusted (ours and the kernel's caches)
TTL = 1.0
#: bytes per streamed copy between the spool and the storage
CHUNK = 8 << 20
#: bytes the kernel reads ahead of a sequential reader (each a read request to us)
READAHEAD = 1 << 20

log = logging.getLogger("mesh_zenodo.mount")


@dataclass
class Handle:
    """One open file: a reader (ranges fetched as read) or a spool (written locally,
    uploaded when it is closed, flushed or synced)."""

    path: str  # CS3 path
    reader: object | None = None
    spool: object | None = None
    dirty: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class CS3Mount(mfusepy.Operations):
    """FUSE operations over a CS3 folder (``root``)."""

    use_ns = True

    def __init__(self, fs: CS3FileSystem, root: str, spool_dir: str | None = None, kept_dir: str | None = None) -> None:
        self.fs = fs
        self.root = root.rstrip("/") or "/"
        self.spool_dir = spool_dir
        self.kept_dir = kept_dir or os.path.join(spool_dir or tempfile.gettempdir(), "kept")
        self.uid, self.gid = os.getuid(), os.getgid()
        self._attrs: dict[str, tuple[float, dict | None]] = {}
        self._lists: dict[str, tuple[float, list[str]]] = {}
        self._handles: dict[int, Handle] = {}
        self._next = 1
        self._lock = threading.Lock()
        self.mounted = False

    def init_with_config(self, conn_info, config_3) -> None:
        """Mounted: ask the kernel to read ahead a megabyte at a time (it grants up to its
        own limit: 128 KiB on common kernels, where reads then come 128 KiB at a time)."""
        self.mounted = True
        if conn_info is not None:
            conn_info.max_readahead = READAHEAD

    # ------------------------------------------------------------------ helpers

    def _cs3(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.root, path.lstrip("/"))) if path != "/" else self.root

    def _call(self, name: str, *args, **kwargs):
        """A CS3FileSystem coroutine, run on its loop; errors become FuseOSError."""
        try:
            return sync(self.fs.loop, getattr(self.fs, name), *args, **kwargs)
        except OSError as err:
            raise mfusepy.FuseOSError(err.errno or errno.EIO) from None

    def _info(self, cs3_path: str) -> dict | None:
        now = time.monotonic()
        cached = self._attrs.get(cs3_path)
        if cached and now - cached[0] < TTL:
            return cached[1]
        try:
            info = sync(self.fs.loop, self.fs._info, cs3_path)
        except FileNotFoundError:
            info = None
        except OSError as err:
            raise mfusepy.FuseOSError(err.errno or errno.EIO) from None
        self._attrs[cs3_path] = (now, info)
        return info

    def _require(self, cs3_path: str) -> dict:
        info = self._info(cs3_path)
        if info is None:
            raise mfusepy.FuseOSError(errno.ENOENT)
        return info

    def _require_writable(self, cs3_path: str) -> None:
        if not self._require(cs3_path).get("writable", True):
            raise mfusepy.FuseOSError(errno.EACCES)

    def _changed(self, *cs3_paths: str) -> None:
        for p in cs3_paths:
            self._attrs.pop(p, None)
            self._lists.pop(p, None)
            parent = posixpath.dirname(p)
            self._attrs.pop(parent, None)
            self._lists.pop(parent, None)
        self.fs.invalidate_cache()

    def _new_handle(self, handle: Handle) -> int:
        with self._lock:
            fh, self._next = self._next, self._next + 1
            self._handles[fh] = handle
        return fh

    def _handle(self, fh: int) -> Handle:
        try:
            return self._handles[fh]
        except KeyError:
            raise mfusepy.FuseOSError(errno.EBADF) from None

    def _pending_size(self, cs3_path: str) -> int | None:
        """The size of a file being written here (its spool), if any."""
        for h in list(self._handles.values()):
            if h.path == cs3_path and h.spool is not None:
                return os.fstat(h.spool.fileno()).st_size
        return None

    def _spool(self, cs3_path: str, with_content: bool):
        try:
            spool = tempfile.TemporaryFile(prefix="mz-mount-", dir=self.spool_dir, buffering=0)
        except OSError as err:
            raise mfusepy.FuseOSError(err.errno or errno.EIO) from None
        if with_content:
            offset, size = 0, self._require(cs3_path)["size"]
            while offset < size:
                chunk = self._call("_cat_file", cs3_path, offset, min(size, offset + CHUNK), size)
                if not chunk:
                    break
                spool.write(chunk)
                offset += len(chunk)
        return spool

    def _commit(self, handle: Handle) -> None:
        """Upload a written file (one CS3 upload, streamed from its spool)."""
        if not handle.dirty or handle.spool is None:
            return
        path = f"/proc/self/fd/{handle.spool.fileno()}"
        self._call("_put_file", path, handle.path)
        handle.dirty = False
        self._changed(handle.path)

    # ------------------------------------------------------------------ metadata

    def getattr(self, path: str, fh: int | None = None) -> dict:
        cs3_path = self._cs3(path)
        pending = self._pending_size(cs3_path)
        info = self._info(cs3_path)
        if info is None and pending is None:
            raise mfusepy.FuseOSError(errno.ENOENT)
        info = info or {"type": "file", "size": 0, "mtime": time.time(), "writable": True}
        is_dir = info["type"] == "directory"
        writable = info.get("writable", True)
        mode = (stat.S_IFDIR | (0o755 if writable else 0o555)) if is_dir else (
            stat.S_IFREG | (0o644 if writable else 0o444))
        mtime_ns = int(info.get("mtime", 0) * 1e9)
        size = pending if pending is not None else info["size"]
        return {
            "st_mode": mode, "st_nlink": 2 if is_dir else 1, "st_size": size,
            "st_uid": self.uid, "st_gid": self.gid, "st_blocks": (size + 511) // 512, "st_blksize": 1 << 20,
            "st_mtime": mtime_ns, "st_ctime": mtime_ns, "st_atime": mtime_ns,
        }

    def readdir(self, path: str, fh: int) -> list:
        cs3_path = self._cs3(path)
        now = time.monotonic()
        cached = self._lists.get(cs3_path)
        if cached and now - cached[0] < TTL:
            return [".", "..", *cached[1]]
        entries = self._call("_ls", cs3_path, detail=True)
        names = []
        for e in entries:
            name = posixpath.basename(e["name"])
            self._attrs[e["name"]] = (now, e)
            names.append(name)
        self._lists[cs3_path] = (now, names)
        return [".", "..", *names]

    def statfs(self, path: str) -> dict:
        block = 1 << 20
        try:
            total, used = sync(self.fs.loop, self.fs.client().get_quota, self.root)
        except Exception:  # noqa: BLE001 - a storage without quotas: say "large"
            total, used = 1 << 50, 0
        free = max(0, total - used) // block
        return {"f_bsize": block, "f_frsize": block, "f_blocks": max(1, total // block), "f_bfree": free,
                "f_bavail": free, "f_namemax": 255}

    def chmod(self, path: str, mode: int) -> int:
        self._require(self._cs3(path))
        return 0  # the storage keeps no modes: roles decide

    def chown(self, path: str, uid: int, gid: int) -> int:
        self._require(self._cs3(path))
        return 0

    def utimens(self, path: str, times=None) -> int:
        self._require(self._cs3(path))
        return 0  # the storage sets mtimes itself

    # ------------------------------------------------------------------ tree changes

    def mkdir(self, path: str, mode: int) -> int:
        cs3_path = self._cs3(path)
        self._require_writable(posixpath.dirname(cs3_path))
        self._call("_mkdir", cs3_path, create_parents=False)
        self._changed(cs3_path)
        return 0

    def rmdir(self, path: str) -> int:
        cs3_path = self._cs3(path)
        if self._call("_ls", cs3_path, detail=False):
            raise mfusepy.FuseOSError(errno.ENOTEMPTY)
        self._require_writable(cs3_path)
        self._call("_rm_file", cs3_path)
        self._changed(cs3_path)
        return 0

    def unlink(self, path: str) -> int:
        cs3_path = self._cs3(path)
        self._require_writable(cs3_path)
        self._call("_rm_file", cs3_path)
        self._changed(cs3_path)
        return 0

    def rename(self, old: str, new: str) -> int:
        source, target = self._cs3(old), self._cs3(new)
        self._require_writable(source)
        existing = self._info(target)
        if existing is not None:
            if existing["type"] == "directory":
                if self._call("_ls", target, detail=False):
                    raise mfusepy.FuseOSError(errno.ENOTEMPTY)
            self._require_writable(target)
            self._call("_rm_file", target)
        self._call("_mv", source, target)
        self._changed(source, target)
        return 0

    def truncate(self, path: str, length: int, fh: int | None = None) -> int:
        cs3_path = self._cs3(path)
        if fh is not None and self._handles.get(fh) and self._handles[fh].spool is not None:
            handle = self._handles[fh]
            with handle.lock:
                handle.spool.truncate(length)
                handle.dirty = True
            return 0
        self._require_writable(cs3_path)
        handle = Handle(cs3_path, spool=self._spool(cs3_path, with_content=length > 0), dirty=True)
        try:
            handle.spool.truncate(length)
            self._commit(handle)
        finally:
            handle.spool.close()
        return 0

    # ------------------------------------------------------------------ files

    def create(self, path: str, mode: int, fi=None) -> int:
        cs3_path = self._cs3(path)
        self._require_writable(posixpath.dirname(cs3_path))
        handle = Handle(cs3_path, spool=self._spool(cs3_path, with_content=False), dirty=True)
        fh = self._new_handle(handle)
        self._changed(cs3_path)
        return fh

    def open(self, path: str, flags: int) -> int:
        cs3_path = self._cs3(path)
        info = self._require(cs3_path)
        if info["type"] == "directory":
            raise mfusepy.FuseOSError(errno.EISDIR)
        if flags & (os.O_WRONLY | os.O_RDWR):
            if not info.get("writable", True):
                raise mfusepy.FuseOSError(errno.EACCES)
            truncate = bool(flags & os.O_TRUNC)
            handle = Handle(cs3_path, spool=self._spool(cs3_path, with_content=not truncate), dirty=truncate)
            return self._new_handle(handle)
        try:
            reader = self.fs.open(cs3_path, "rb")
        except OSError as err:
            raise mfusepy.FuseOSError(err.errno or errno.EIO) from None
        return self._new_handle(Handle(cs3_path, reader=reader))

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        handle = self._handle(fh)
        with handle.lock:
            try:
                if handle.spool is not None:
                    return os.pread(handle.spool.fileno(), size, offset)
                handle.reader.seek(offset)
                return handle.reader.read(size)
            except OSError as err:
                raise mfusepy.FuseOSError(err.errno or errno.EIO) from None

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        handle = self._handle(fh)
        if handle.spool is None:
            raise mfusepy.FuseOSError(errno.EBADF)
        with handle.lock:
            try:
                written = os.pwrite(handle.spool.fileno(), data, offset)
            except OSError as err:  # the local disk is full: the writer is told (ENOSPC)
                raise mfusepy.FuseOSError(err.errno or errno.EIO) from None
            handle.dirty = True
        return written

    def flush(self, path: str, fh: int) -> int:
        handle = self._handle(fh)
        with handle.lock:
            self._commit(handle)
        return 0

    def fsync(self, path: str, datasync: int, fh: int) -> int:
        return self.flush(path, fh)

    def release(self, path: str, fh: int) -> int:
        with self._lock:
            handle = self._handles.pop(fh, None)
        if handle is None:
            return 0
        with handle.lock:
            try:
                self._commit(handle)
            except mfusepy.FuseOSError as err:
                self._keep_as_copy(handle, err)
            finally:
                if handle.spool is not None:
                    handle.spool.close()
                if handle.reader is not None:
                    handle.reader.close()
        return 0


    def _keep_as_copy(self, handle: Handle, err: mfusepy.FuseOSError) -> None:
        """The file could not be written (locked by another application, no more quota,
        a role lost meanwhile): nothing typed is lost, it goes beside it as a conflict
        copy, as CERNBox names them."""
        folder, name = posixpath.split(handle.path)
        user = self.fs.client().user.username if self.fs.client().user else "kernel"
        copy = posixpath.join(folder, conflict_copy_name(name, user))
        try:
            self._call("_put_file", f"/proc/self/fd/{handle.spool.fileno()}", copy, mode="create")
        except mfusepy.FuseOSError:  # the storage is away or full: keep it on this machine
            kept = self._keep_locally(handle, conflict_copy_name(name, user))
            log.warning("writing %s failed (%s) and so did keeping it as %s: its content is kept at %s",
                        handle.path, os.strerror(err.errno), copy, kept or "(nowhere: the local disk is full too)")
            return
        log.warning("writing %s failed (%s): its content is kept as %s", handle.path, os.strerror(err.errno), copy)
        self._changed(copy)


    def _keep_locally(self, handle: Handle, name: str) -> str | None:
        """The spool's content as a file of its own in ``kept_dir`` (on this machine)."""
        try:
            os.makedirs(self.kept_dir, mode=0o700, exist_ok=True)
            target = os.path.join(self.kept_dir, name)
            handle.spool.seek(0)
            with open(target, "xb") as out:
                while chunk := handle.spool.read(CHUNK):
                    out.write(chunk)
            return target
        except OSError:
            return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mesh_zenodo.fs.mount", description=__doc__.split("\n\n")[0])
    parser.add_argument("mountpoint")
    parser.add_argument("--root", default="/home", help="the CS3 folder to mount (default /home)")
    parser.add_argument("--gateway", default=None, help="HOST:PORT of the CS3 gateway")
    parser.add_argument("--spool-dir", default=None, help="where files being written wait for their upload")
    parser.add_argument("--kept-dir", default=None,
                        help="where a file that could be written neither in place nor as a conflict copy is kept")
    parser.add_argument("--tls", action="store_true", default=None)
    parser.add_argument("--root-certificates", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="mesh-zenodo mount: %(message)s")
    # No storage call before the mount: libfuse forks fusermount3 to mount, and a gRPC
    # channel made before a fork loses its poller ("epoll_wait error: Bad file
    # descriptor"). The server checked the root folder and the token before it ran us.
    fs = CS3FileSystem(gateway=args.gateway, tls=args.tls, root_certificates=args.root_certificates,
                       skip_instance_cache=True)
    operations = CS3Mount(fs, args.root, args.spool_dir, args.kept_dir)
    try:
        mfusepy.FUSE(operations, args.mountpoint, foreground=True, nothreads=False, fsname="cs3",
                     subtype="mesh-zenodo", attr_timeout=TTL, entry_timeout=TTL, negative_timeout=TTL,
                     max_threads=16)
    except RuntimeError as err:
        if not operations.mounted:  # (libfuse answers non-zero after a signal too: not an error then)
            print(f"mesh-zenodo mount: mounting {args.mountpoint} failed (libfuse: {err})", file=sys.stderr)
            return 4
    finally:
        if fs._client is not None:
            sync(fs.loop, fs._client.close)
        if os.path.ismount(args.mountpoint):  # (libfuse could not unmount: never leave a dead mount)
            subprocess.run(["fusermount3", "-u", "-z", args.mountpoint], check=False, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
