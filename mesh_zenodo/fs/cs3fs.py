"""``cs3://``: the CS3 storage as an fsspec filesystem, for kernels and scripts.

``pandas.read_csv("cs3://home/analysis/dimuon.csv")``, ``xarray.open_dataset(...)`` and
``fsspec.open(...)`` reach the storage through :class:`CS3FileSystem`, registered under
fsspec's ``fsspec.specs`` entry point. A URL's path is the CS3 path: ``cs3://home/a.csv``
is ``/home/a.csv`` (the file browser's ``a.csv``).

Configuration, the same as ``mesh-zenodo lab`` (arguments win over the environment):

* ``gateway`` or ``MESH_ZENODO_CS3_GATEWAY`` (default the embedded storage's address);
* in a kernel started by the server: ``MESH_ZENODO_CS3_TOKEN_FILE``, a short-lived token
  the server renews while the kernel lives (never a password in a kernel);
* elsewhere ``username`` / ``MESH_ZENODO_CS3_USER`` and ``password`` /
  ``MESH_ZENODO_CS3_PASSWORD``; ``tls`` and ``root_certificates`` as ``c.CS3Client``.

Reads stream: a file opened for reading fetches ranges of ``block_size`` (8 MiB) as it is
read, whatever the file's size. Writes go to a local temporary file and become one CS3
upload when the file is closed (so a new version, never a half-written file). Errors are
the Python exceptions fsspec users expect: ``FileNotFoundError``, ``PermissionError``,
``FileExistsError``, ``IsADirectoryError``, ``NotADirectoryError``, ``OSError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import posixpath
import tempfile
from collections.abc import AsyncIterator

from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from fsspec.asyn import AsyncFileSystem, sync, sync_wrapper
from fsspec.spec import AbstractBufferedFile

from ..cs3 import errors
from ..cs3.client import CS3Client

#: bytes per range fetched by an open file, and per chunk of a streamed local transfer
BLOCK_SIZE = 8 << 20


@contextlib.contextmanager
def translated(path: str):
    """CS3 errors as the OSError subclasses Python and fsspec users expect."""
    try:
        yield
    except errors.NotFound as err:
        raise FileNotFoundError(errno.ENOENT, str(err), path) from None
    except (errors.PermissionDenied, errors.Unauthenticated) as err:
        raise PermissionError(errno.EACCES, str(err), path) from None
    except errors.AlreadyExists as err:
        raise FileExistsError(errno.EEXIST, str(err), path) from None
    except errors.Locked as err:
        raise PermissionError(errno.EBUSY, str(err), path) from None
    except errors.InvalidArgument as err:
        raise OSError(errno.EINVAL, str(err), path) from None
    except errors.InsufficientStorage as err:
        raise OSError(errno.ENOSPC, str(err), path) from None
    except errors.CS3Error as err:
        raise OSError(errno.EIO, str(err), path) from None


def entry(info: spr.ResourceInfo, path: str) -> dict:
    """fsspec's description of one resource."""
    is_dir = info.type == spr.RESOURCE_TYPE_CONTAINER
    md5 = info.checksum.sum if info.checksum.type == spr.RESOURCE_CHECKSUM_TYPE_MD5 else None
    perms = info.permission_set
    return {
        "name": path,
        "size": 0 if is_dir else int(info.size),
        "type": "directory" if is_dir else "file",
        "mtime": info.mtime.seconds + info.mtime.nanos / 1e9,
        "etag": info.etag,
        "md5": md5 or None,
        "writable": bool(perms.initiate_file_upload) if info.HasField("permission_set") else True,
    }


class CS3FileSystem(AsyncFileSystem):
    """The CS3 storage (the embedded storage or Reva) as an fsspec filesystem."""

    protocol = "cs3"
    root_marker = "/"
    async_impl = True
    cachable = True

    def __init__(self, gateway: str | None = None, *, token_file: str | None = None, username: str | None = None,
                 password: str | None = None, tls: bool | None = None, root_certificates: str | None = None,
                 asynchronous: bool = False, loop=None, **kwargs) -> None:
        super().__init__(asynchronous=asynchronous, loop=loop, **kwargs)
        options = {"gateway": gateway, "token_file": token_file, "username": username, "password": password,
                   "tls": tls, "root_certificates": root_certificates}
        self._options = {k: v for k, v in options.items() if v is not None}
        self._client: CS3Client | None = None

    # ------------------------------------------------------------------ paths and client

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        if path.startswith("cs3://"):
            path = path[len("cs3://"):]
        path = "/" + path.lstrip("/")
        normalized = posixpath.normpath(path)
        return "/" if normalized in ("/", "//") else normalized.rstrip("/")

    def unstrip_protocol(self, name: str) -> str:
        return "cs3://" + self._strip_protocol(name).lstrip("/")

    @staticmethod
    def _get_kwargs_from_urls(path):
        return {}

    def client(self) -> CS3Client:
        """The CS3 client (made on first use, on this filesystem's event loop)."""
        if self._client is None:
            self._client = CS3Client(**self._options)
        return self._client

    # ------------------------------------------------------------------ reading the tree

    async def _info(self, path, **kwargs):
        path = self._strip_protocol(path)
        with translated(path):
            return entry(await self.client().stat(path), path)

    async def _ls(self, path, detail=True, **kwargs):
        path = self._strip_protocol(path)
        with translated(path):
            info = await self.client().stat(path)
            if info.type != spr.RESOURCE_TYPE_CONTAINER:
                entries = [entry(info, path)]
            else:
                infos = await self.client().list_container(path)
                entries = [entry(i, posixpath.join(path, i.name or posixpath.basename(i.path))) for i in infos]
        entries.sort(key=lambda e: e["name"])
        return entries if detail else [e["name"] for e in entries]

    async def _exists(self, path, **kwargs):
        try:
            await self._info(path)
        except FileNotFoundError:
            return False
        return True

    async def _cat_file(self, path, start=None, end=None, size=None, **kwargs):
        """The bytes of ``path`` from ``start`` to ``end`` (a range: never the whole of a
        large file unless asked). ``size``, when the caller knows it, saves a Stat."""
        path = self._strip_protocol(path)
        if size is None and (start or (end is not None and end < 0)):
            size = (await self._info(path))["size"]
        start = 0 if start is None else (max(0, size + start) if start < 0 else start)
        if end is not None:
            end = min(max(0, size + end) if end < 0 else end, size if size is not None else end)
        if (end is not None and end <= start) or (size is not None and start >= size):
            return b""  # an empty range, or one past the end: nothing, as local files answer
        length = None if end is None else end - start
        buf = bytearray()
        with translated(path):
            async with self.client().download(path, offset=start, length=length) as (_, chunks):
                async for chunk in chunks:
                    buf += chunk
        return bytes(buf if length is None else buf[:length])

    async def _get_file(self, rpath, lpath, **kwargs):
        """Stream ``rpath`` into the local file ``lpath``."""
        rpath = self._strip_protocol(rpath)
        if os.path.isdir(lpath):
            return
        with translated(rpath), open(lpath, "wb") as out:
            async with self.client().download(rpath) as (_, chunks):
                async for chunk in chunks:
                    await asyncio.to_thread(out.write, chunk)

    # ------------------------------------------------------------------ writing

    async def _pipe_file(self, path, value, mode="overwrite", **kwargs):
        path = self._strip_protocol(path)
        with translated(path):
            await self.client().upload(path, bytes(value), if_not_exist=(mode == "create"))
        self.invalidate_cache(path)

    async def _put_file(self, lpath, rpath, mode="overwrite", **kwargs):
        """Stream the local file ``lpath`` into ``rpath`` as one upload."""
        rpath = self._strip_protocol(rpath)
        if os.path.isdir(lpath):
            await self._makedirs(rpath, exist_ok=True)
            return
        size = os.path.getsize(lpath)
        with translated(rpath):
            await self.client().upload(rpath, _local_chunks(lpath), size, if_not_exist=(mode == "create"))
        self.invalidate_cache(rpath)

    async def _mkdir(self, path, create_parents=True, **kwargs):
        path = self._strip_protocol(path)
        if create_parents:
            await self._makedirs(path, exist_ok=True)
            return
        with translated(path):
            await self.client().create_container(path)
        self.invalidate_cache(path)

    async def _makedirs(self, path, exist_ok=False):
        path = self._strip_protocol(path)
        missing = []
        probe = path
        while probe != "/":
            try:
                info = await self._info(probe)
            except FileNotFoundError:
                missing.append(probe)
                probe = posixpath.dirname(probe)
                continue
            if probe == path and (info["type"] != "directory" or not exist_ok):
                raise FileExistsError(errno.EEXIST, "already exists", path)
            if info["type"] != "directory":
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", probe)
            break
        for folder in reversed(missing):
            with translated(folder), contextlib.suppress(errors.AlreadyExists):
                await self.client().create_container(folder)
        self.invalidate_cache(path)

    async def _rm_file(self, path, **kwargs):
        path = self._strip_protocol(path)
        with translated(path):
            await self.client().delete(path)
        self.invalidate_cache(path)

    async def _rm(self, path, recursive=False, **kwargs):
        """Delete (to the storage's recycle bin). A folder needs ``recursive``; it goes
        as a whole, as the file browser deletes it."""
        paths = path if isinstance(path, list) else [path]
        for p in paths:
            p = self._strip_protocol(p)
            info = await self._info(p)
            if info["type"] == "directory" and not recursive:
                with translated(p):
                    if await self.client().list_container(p):
                        raise IsADirectoryError(errno.EISDIR, "a folder: remove it with recursive=True", p)
            await self._rm_file(p)

    async def _mv(self, path1, path2, recursive=True, maxdepth=None, **kwargs):
        """Rename or move in one CS3 call (the resource keeps its id, versions and shares)."""
        path1, path2 = self._strip_protocol(path1), self._strip_protocol(path2)
        with translated(path1):
            await self.client().move(path1, path2)
        self.invalidate_cache(path1)
        self.invalidate_cache(path2)

    mv = sync_wrapper(_mv)

    def checksum(self, path):
        """The file's MD5 as an int (the storage's checksum), else fsspec's token of
        its details."""
        md5 = self.info(path).get("md5")
        return int(md5, 16) if md5 else super().checksum(path)

    def ukey(self, path):
        return self.info(path)["etag"]

    def invalidate_cache(self, path=None):
        if path is None:
            self.dircache.clear()
        else:
            path = self._strip_protocol(path)
            self.dircache.pop(path, None)
            self.dircache.pop(posixpath.dirname(path), None)

    # ------------------------------------------------------------------ open files

    def _open(self, path, mode="rb", block_size=None, autocommit=True, cache_type="readahead",
              cache_options=None, **kwargs):
        return CS3File(self, self._strip_protocol(path), mode=mode, block_size=block_size or BLOCK_SIZE,
                       autocommit=autocommit, cache_type=cache_type, cache_options=cache_options, **kwargs)


class CS3File(AbstractBufferedFile):
    """A file of the storage, open for reading (ranges fetched as read) or writing
    (spooled to a local temporary file, uploaded as one version at close)."""

    def __init__(self, fs: CS3FileSystem, path: str, mode: str = "rb", **kwargs) -> None:
        if "a" in mode:
            raise ValueError("appending is not supported on cs3:// (write the whole file)")
        self._spool = None
        super().__init__(fs, path, mode=mode, **kwargs)
        if mode == "rb" and self.details["type"] == "directory":
            raise IsADirectoryError(errno.EISDIR, "a folder, not a file", path)

    def _fetch_range(self, start: int, end: int) -> bytes:
        return sync(self.fs.loop, self.fs._cat_file, self.path, start, end, self.size)

    def _initiate_upload(self) -> None:
        self._spool = tempfile.NamedTemporaryFile(prefix="mz-cs3fs-", suffix=".part", delete=False)

    def _upload_chunk(self, final: bool = False) -> bool:
        if self._spool is None:
            self._initiate_upload()
        self._spool.write(self.buffer.getvalue())
        if final:
            self._spool.close()
            try:
                sync(self.fs.loop, self.fs._put_file, self._spool.name, self.path)
            finally:
                os.unlink(self._spool.name)
                self._spool = None
        return True

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.close()
            with contextlib.suppress(OSError):
                os.unlink(self._spool.name)
            self._spool = None


async def _local_chunks(path: str) -> AsyncIterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := await asyncio.to_thread(fh.read, BLOCK_SIZE):
            yield chunk
