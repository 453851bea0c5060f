"""Folder + SQLite backend of the embedded CS3 storage.

Layout of the storage root::

    ROOT/home/<username>/...          each user's files, as plain files and folders
    ROOT/.mesh-zenodo/storage.sqlite  node ids, etag generations, checksums, metadata,
                                      versions, recycle bin, upload/download sessions
    ROOT/.mesh-zenodo/jwt-secret      HS256 signing secret (0600)
    ROOT/.mesh-zenodo/uploads/        partial uploads (same filesystem: rename into place)
    ROOT/.mesh-zenodo/versions/<node id>/<key>
    ROOT/.mesh-zenodo/trash/<owner id>/<key>
    ROOT/.mesh-zenodo/purge/          things being deleted for good

Every operation takes the calling :class:`~.auth.User` and a :class:`Loc` (owner + path
relative to that owner's home) and checks the permission it needs with :meth:`Store.authorize`,
the one place where permissions are decided.

All methods are synchronous and meant to be called from the event loop thread: each one
is a handful of syscalls and SQLite statements, so they are atomic with respect to each
other. Only whole-file work (hashing, copying, deleting trees) is done by the module-level
helpers that callers run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import mimetypes
import os
import shutil
import sqlite3
import stat as statmod
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .auth import User, UserDirectory

log = logging.getLogger("mesh_zenodo.storage")

STORAGE_ID = "mesh-zenodo"
HOME = "/home"
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
CHUNK = 1024 * 1024
DIR_MIME = "httpd/unix-directory"
DEFAULT_MAX_VERSIONS = 50

mimetypes.add_type("application/x-ipynb+json", ".ipynb")
mimetypes.add_type("text/markdown", ".md")

# The fields of cs3.storage.provider.v1beta1.ResourcePermissions.
PERMISSIONS: tuple[str, ...] = (
    "add_grant",
    "create_container",
    "delete",
    "get_path",
    "get_quota",
    "initiate_file_download",
    "initiate_file_upload",
    "list_grants",
    "list_container",
    "list_file_versions",
    "list_recycle",
    "move",
    "remove_grant",
    "purge_recycle",
    "restore_file_version",
    "restore_recycle_item",
    "stat",
    "update_grant",
    "deny_grant",
    "delete_container",
    "move_container",
    "set_immutable_file",
    "set_immutable_container",
)
ALL_PERMISSIONS = frozenset(PERMISSIONS)
NO_PERMISSIONS: frozenset[str] = frozenset()


# --------------------------------------------------------------------------------------
# Errors: one class per CS3 code; the server maps ``code`` to rpc.Code, the data gateway
# maps ``http_status`` to the HTTP answer.
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Value types
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Loc:
    """A place in a home: the owner's opaque id and a path relative to the home root
    ("" is the home itself, no leading or trailing slash)."""

    owner: str
    rel: str

    @property
    def path(self) -> str:
        return HOME + ("/" + self.rel if self.rel else "")

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1] if self.rel else "home"

    @property
    def parent(self) -> Loc:
        if not self.rel:
            raise InvalidArgument("the home folder has no parent")
        return Loc(self.owner, self.rel.rsplit("/", 1)[0] if "/" in self.rel else "")

    def child(self, name: str) -> Loc:
        return Loc(self.owner, f"{self.rel}/{name}" if self.rel else name)


@dataclass
class NodeInfo:
    id: str
    owner: str
    parent_id: str | None
    path: str
    name: str
    is_dir: bool
    size: int
    mtime_ns: int
    etag: str
    mime_type: str
    md5: str | None
    permissions: frozenset[str]
    metadata: dict[str, str] = field(default_factory=dict)
    abs_path: str = ""


@dataclass(frozen=True)
class Version:
    key: str
    size: int
    mtime_ns: int
    etag: str


@dataclass(frozen=True)
class RecycleItem:
    key: str
    path: str
    is_dir: bool
    size: int
    deletion_ns: int


@dataclass
class UploadSession:
    id: str
    owner: str
    user_id: str
    parent_id: str
    name: str
    length: int | None
    if_match: str | None
    if_not_exist: bool
    if_unmodified_since_ns: int | None
    lock_id: str
    expires: int


@dataclass
class DownloadSession:
    id: str
    owner: str
    user_id: str
    node_id: str
    expires: int


@dataclass
class UploadOptions:
    length: int | None = None
    if_match: str | None = None
    if_not_exist: bool = False
    if_unmodified_since_ns: int | None = None
    lock_id: str = ""


# --------------------------------------------------------------------------------------
# Path validation
# --------------------------------------------------------------------------------------
def _check_name(name: str) -> None:
    if "\x00" in name:
        raise InvalidArgument("path contains a NUL byte")
    if name == "..":
        raise InvalidArgument("path must not contain '..' segments")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidArgument(f"name longer than {MAX_NAME_BYTES} bytes: {name[:40]}...")


def _split_segments(path: str) -> list[str]:
    if "\x00" in path:
        raise InvalidArgument("path contains a NUL byte")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidArgument(f"path longer than {MAX_PATH_BYTES} bytes")
    segments = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        _check_name(seg)
        segments.append(seg)
    return segments


def parse_home_path(path: str) -> str:
    """Validate an absolute CS3 path and return it relative to /home."""
    if not path.startswith("/"):
        raise InvalidArgument(f"path must be absolute (start with {HOME}): {path[:200]!r}")
    segments = _split_segments(path)
    if not segments or segments[0] != "home":
        raise InvalidArgument(f"path is outside {HOME}: {path[:200]!r}")
    return "/".join(segments[1:])


def join_relative(base_rel: str, relative: str) -> str:
    """Append a relative reference path ("./a/b", "a/b", "." or "") to ``base_rel``."""
    if relative.startswith("/"):
        raise InvalidArgument("a path relative to a resource id must not start with '/'")
    segments = _split_segments(relative)
    rel = "/".join([base_rel, *segments] if base_rel else segments)
    if len((HOME + "/" + rel).encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidArgument(f"path longer than {MAX_PATH_BYTES} bytes")
    return rel


def normalize_etag(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


# --------------------------------------------------------------------------------------
# Whole-file helpers (run these in a worker thread)
# --------------------------------------------------------------------------------------
def hash_file(path: str) -> str | None:
    """MD5 of a file, streamed; None if the file changed or vanished meanwhile."""
    try:
        with open(path, "rb") as fh:
            before = os.fstat(fh.fileno())
            md5 = hashlib.md5()
            while chunk := fh.read(CHUNK):
                md5.update(chunk)
        after = os.lstat(path)
    except OSError:
        return None
    if (before.st_size, before.st_mtime_ns, before.st_ino) != (after.st_size, after.st_mtime_ns, after.st_ino):
        return None
    return md5.hexdigest()


def copy_with_md5(src: str, dst: str) -> tuple[int, str]:
    """Copy ``src`` to a new file ``dst`` in chunks; returns (size, md5)."""
    md5 = hashlib.md5()
    size = 0
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(CHUNK):
            md5.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return size, md5.hexdigest()


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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    path TEXT NOT NULL,
    gen INTEGER NOT NULL DEFAULT 0,
    trash_key TEXT,
    cks_size INTEGER,
    cks_mtime_ns INTEGER,
    md5 TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS nodes_live_path ON nodes(owner, path) WHERE trash_key IS NULL;
CREATE INDEX IF NOT EXISTS nodes_trash ON nodes(trash_key) WHERE trash_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS metadata (
    node_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (node_id, key)
);
CREATE TABLE IF NOT EXISTS versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL,
    UNIQUE (node_id, key)
);
CREATE TABLE IF NOT EXISTS trash (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    node_id TEXT NOT NULL,
    orig_rel TEXT NOT NULL,
    is_dir INTEGER NOT NULL,
    size INTEGER NOT NULL,
    deleted_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trash_owner ON trash(owner);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    user_id TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    name TEXT NOT NULL,
    length INTEGER,
    if_match TEXT,
    if_not_exist INTEGER NOT NULL DEFAULT 0,
    if_unmodified_since_ns INTEGER,
    lock_id TEXT NOT NULL DEFAULT '',
    expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS downloads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    user_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    expires INTEGER NOT NULL
);
"""


def _is_descendant_sql(column: str = "path") -> str:
    # "path = ? OR path starts with ?/" without LIKE (names may contain % and _).
    return f"({column} = ? OR substr({column}, 1, ?) = ?)"


def _desc_params(rel: str) -> tuple[str, int, str]:
    return (rel, len(rel) + 1, rel + "/")


class Store:
    """The storage backend of one root (one SQLite connection; call :meth:`close` when done)."""

    def __init__(
        self,
        root: Path,
        users: UserDirectory,
        *,
        quota: int | None = None,
        max_versions: int = DEFAULT_MAX_VERSIONS,
    ):
        self.root = Path(os.path.realpath(root))
        self.users = users
        self.quota = quota
        self.max_versions = max(0, max_versions)
        self.meta_dir = self.root / ".mesh-zenodo"
        self.homes_dir = self.root / "home"
        self.uploads_dir = self.meta_dir / "uploads"
        self.versions_dir = self.meta_dir / "versions"
        self.trash_dir = self.meta_dir / "trash"
        self.purge_dir = self.meta_dir / "purge"
        for d in (
            self.root,
            self.meta_dir,
            self.homes_dir,
            self.uploads_dir,
            self.versions_dir,
            self.trash_dir,
            self.purge_dir,
        ):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.meta_dir, 0o700)
        self.db = sqlite3.connect(self.meta_dir / "storage.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._tx_depth = 0
        self._file_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    # ---------------------------------------------------------------------------------
    # transactions and locks
    # ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield
            finally:
                self._tx_depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._tx_depth = 1
        try:
            yield
        except BaseException:
            self._tx_depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._tx_depth = 0
        self.db.execute("COMMIT")

    @contextlib.asynccontextmanager
    async def file_lock(self, loc: Loc):
        """A per-file asyncio lock (serialises the finish of writes to one path)."""
        key = (loc.owner, loc.rel)
        lock, users = self._file_locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._file_locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock_, users = self._file_locks[key]
            if users <= 1:
                del self._file_locks[key]
            else:
                self._file_locks[key] = (lock_, users - 1)

    # ---------------------------------------------------------------------------------
    # permissions: the one place where they are decided
    # ---------------------------------------------------------------------------------
    def permissions(self, user: User, loc: Loc) -> frozenset[str]:
        """What ``user`` may do at ``loc``. Today: everything in their own home, nothing
        elsewhere (sharing will add grants here)."""
        if user.opaque_id == loc.owner:
            return ALL_PERMISSIONS
        return NO_PERMISSIONS

    def authorize(self, user: User, loc: Loc, permission: str) -> frozenset[str]:
        """Raise unless ``user`` has ``permission`` at ``loc``. Resources the user cannot
        even stat are reported as not found, to not leak their existence."""
        perms = self.permissions(user, loc)
        if "stat" not in perms:
            raise NotFound(f"no such file or folder: {self._display(user, loc)}")
        if permission not in perms:
            raise PermissionDenied(f"permission denied ({permission}) on {self._display(user, loc)}")
        return perms

    @staticmethod
    def _display(user: User, loc: Loc) -> str:
        return loc.path if user.opaque_id == loc.owner else "the requested resource"

    # ---------------------------------------------------------------------------------
    # homes, paths, nodes
    # ---------------------------------------------------------------------------------
    def owner_user(self, owner: str) -> User:
        user = self.users.by_id(owner)
        if user is None:
            raise NotFound("the owner of this resource is unknown")
        return user

    def home_dir(self, owner: str) -> str:
        return str(self.homes_dir / self.owner_user(owner).username)

    def ensure_home(self, user: User) -> Loc:
        home = self.home_dir(user.opaque_id)
        os.makedirs(home, exist_ok=True)
        with self._tx():
            row = self.db.execute(
                "SELECT id FROM nodes WHERE owner=? AND path='' AND trash_key IS NULL", (user.opaque_id,)
            ).fetchone()
            if row is None:
                self.db.execute("DELETE FROM nodes WHERE id=?", (user.opaque_id,))
                self.db.execute(
                    "INSERT INTO nodes(id, owner, path) VALUES (?, ?, '')", (user.opaque_id, user.opaque_id)
                )
        return Loc(user.opaque_id, "")

    def abs_path(self, loc: Loc) -> str:
        home = self.home_dir(loc.owner)
        path = os.path.join(home, loc.rel) if loc.rel else home
        # Never follow a symbolic link out of (or within) a home.
        if os.path.realpath(path) != path:
            raise NotFound(f"no such file or folder: {loc.path}")
        return path

    def _lstat(self, loc: Loc) -> os.stat_result | None:
        path = self.abs_path(loc)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not (statmod.S_ISDIR(st.st_mode) or statmod.S_ISREG(st.st_mode)):
            return None
        return st

    def resolve_path(self, user: User, path: str) -> Loc:
        """An absolute path: always in the caller's own home."""
        rel = parse_home_path(path)
        self.ensure_home(user)
        return Loc(user.opaque_id, rel)

    def resolve_id(self, user: User, storage_id: str, space_id: str, opaque_id: str, relative: str = "") -> Loc:
        """A resource id (+ optional relative path)."""
        if not opaque_id:
            raise InvalidArgument("resource id without opaque_id")
        if "\x00" in opaque_id:
            raise InvalidArgument("resource id contains a NUL byte")
        not_found = NotFound("no such resource id")
        if storage_id and storage_id != STORAGE_ID:
            raise not_found
        if opaque_id == user.opaque_id:
            self.ensure_home(user)
        row = self.db.execute("SELECT owner, path FROM nodes WHERE id=? AND trash_key IS NULL", (opaque_id,)).fetchone()
        if row is None:
            raise not_found
        owner, rel = row
        if space_id and space_id != owner:
            raise not_found
        if self.users.by_id(owner) is None:
            raise not_found
        loc = Loc(owner, rel)
        if "stat" not in self.permissions(user, loc):
            raise not_found
        try:
            exists = self._lstat(loc) is not None
        except NotFound:
            exists = False
        if not exists:
            if rel:
                self._drop_stale(loc)
            raise not_found
        return Loc(owner, join_relative(rel, relative)) if relative else loc

    def _row(self, loc: Loc) -> tuple | None:
        return self.db.execute(
            "SELECT id, gen, cks_size, cks_mtime_ns, md5 FROM nodes WHERE owner=? AND path=? AND trash_key IS NULL",
            (loc.owner, loc.rel),
        ).fetchone()

    def _node_row(self, loc: Loc) -> tuple:
        """The node row of an existing path, created on first sight."""
        row = self._row(loc)
        if row is None:
            node_id = loc.owner if not loc.rel else str(uuid.uuid4())
            with self._tx():
                self.db.execute("INSERT INTO nodes(id, owner, path) VALUES (?, ?, ?)", (node_id, loc.owner, loc.rel))
            row = (node_id, 0, None, None, None)
        return row

    def _drop_stale(self, loc: Loc) -> None:
        """Forget the nodes recorded at and below ``loc`` (vanished from disk)."""
        with self._tx():
            ids = [
                r[0]
                for r in self.db.execute(
                    f"SELECT id FROM nodes WHERE owner=? AND trash_key IS NULL AND {_is_descendant_sql()}",
                    (loc.owner, *_desc_params(loc.rel)),
                )
            ]
            self._forget_nodes(ids)

    def _forget_nodes(self, ids: list[str]) -> None:
        for node_id in ids:
            self.db.execute("DELETE FROM metadata WHERE node_id=?", (node_id,))
            self.db.execute("DELETE FROM versions WHERE node_id=?", (node_id,))
            self.db.execute("DELETE FROM nodes WHERE id=?", (node_id,))
            vdir = self.versions_dir / node_id
            if vdir.exists():
                self._to_purge(str(vdir))

    def _fresh_node(self, loc: Loc) -> str:
        """A new node id for a path that is being created."""
        self._drop_stale(loc)
        node_id = str(uuid.uuid4())
        with self._tx():
            self.db.execute("INSERT INTO nodes(id, owner, path) VALUES (?, ?, ?)", (node_id, loc.owner, loc.rel))
        return node_id

    def _bump(self, loc: Loc, *, include_self: bool = True) -> None:
        """Change the etag of ``loc`` and of every folder above it."""
        paths = [loc.rel] if include_self else []
        rel = loc.rel
        while rel:
            rel = rel.rsplit("/", 1)[0] if "/" in rel else ""
            paths.append(rel)
        if not paths:
            return
        marks = ",".join("?" * len(paths))
        with self._tx():
            self.db.execute(
                f"UPDATE nodes SET gen = gen + 1 WHERE owner=? AND trash_key IS NULL AND path IN ({marks})",
                (loc.owner, *paths),
            )

    @staticmethod
    def _etag(node_id: str, gen: int, st: os.stat_result) -> str:
        if statmod.S_ISDIR(st.st_mode):
            basis = f"{node_id}:{gen}:d:{st.st_mtime_ns}"
        else:
            basis = f"{node_id}:{gen}:f:{st.st_size}:{st.st_mtime_ns}"
        return '"' + hashlib.md5(basis.encode()).hexdigest() + '"'

    def _info(self, user: User, loc: Loc, st: os.stat_result, row: tuple, parent_id: str | None, md_keys) -> NodeInfo:
        node_id, gen, cks_size, cks_mtime_ns, md5 = row
        is_dir = statmod.S_ISDIR(st.st_mode)
        if is_dir:
            mime = DIR_MIME
            md5 = None
        else:
            mime = mimetypes.guess_type(loc.name, strict=False)[0] or "application/octet-stream"
            if cks_size != st.st_size or cks_mtime_ns != st.st_mtime_ns:
                md5 = None
        info = NodeInfo(
            id=node_id,
            owner=loc.owner,
            parent_id=parent_id,
            path=loc.path,
            name=loc.name,
            is_dir=is_dir,
            size=0 if is_dir else st.st_size,
            mtime_ns=st.st_mtime_ns,
            etag=self._etag(node_id, gen, st),
            mime_type=mime,
            md5=md5,
            permissions=self.permissions(user, loc),
            abs_path=self.abs_path(loc),
        )
        if md_keys:
            info.metadata = self._metadata(node_id, md_keys)
        return info

    def _metadata(self, node_id: str, keys) -> dict[str, str]:
        keys = list(keys)
        if "*" in keys:
            rows = self.db.execute("SELECT key, value FROM metadata WHERE node_id=?", (node_id,))
        else:
            marks = ",".join("?" * len(keys))
            rows = self.db.execute(
                f"SELECT key, value FROM metadata WHERE node_id=? AND key IN ({marks})", (node_id, *keys)
            )
        return dict(rows.fetchall())

    def _parent_id(self, loc: Loc) -> str | None:
        if not loc.rel:
            return None
        return self._node_row(loc.parent)[0]

    def _require(self, loc: Loc) -> os.stat_result:
        st = self._lstat(loc)
        if st is None:
            raise NotFound(f"no such file or folder: {loc.path}")
        return st

    # ---------------------------------------------------------------------------------
    # read operations
    # ---------------------------------------------------------------------------------
    def stat(self, user: User, loc: Loc, md_keys=()) -> NodeInfo:
        self.authorize(user, loc, "stat")
        st = self._require(loc)
        return self._info(user, loc, st, self._node_row(loc), self._parent_id(loc), md_keys)

    def list_container(self, user: User, loc: Loc, md_keys=(), after: str | None = None, limit: int = 0):
        """Entries of a folder sorted by name, starting after ``after``; returns
        (infos, next_after or None)."""
        self.authorize(user, loc, "list_container")
        st = self._require(loc)
        if not statmod.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"not a folder: {loc.path}")
        parent_id = self._node_row(loc)[0]
        names = []
        with os.scandir(self.abs_path(loc)) as it:
            for entry in it:
                name = entry.name
                if after is not None and name <= after:
                    continue
                try:
                    name.encode("utf-8")
                    _check_name(name)
                except (UnicodeEncodeError, InvalidArgument):
                    continue  # not representable in CS3 (undecodable or too long)
                names.append(name)
        names.sort()
        more = None
        if limit and len(names) > limit:
            names = names[:limit]
            more = names[-1]
        infos = []
        with self._tx():
            for name in names:
                child = loc.child(name)
                try:
                    cst = os.lstat(os.path.join(self.abs_path(loc), name))
                except OSError:
                    continue
                if not (statmod.S_ISDIR(cst.st_mode) or statmod.S_ISREG(cst.st_mode)):
                    continue
                infos.append(self._info(user, child, cst, self._node_row(child), parent_id, md_keys))
        return infos, more

    def record_checksum(self, info: NodeInfo, md5: str) -> None:
        """Remember a lazily computed checksum if the file did not change meanwhile."""
        try:
            st = os.lstat(info.abs_path)
        except OSError:
            return
        if st.st_size == info.size and st.st_mtime_ns == info.mtime_ns:
            with self._tx():
                self.db.execute(
                    "UPDATE nodes SET cks_size=?, cks_mtime_ns=?, md5=? WHERE id=?",
                    (st.st_size, st.st_mtime_ns, md5, info.id),
                )
            info.md5 = md5

    async def fill_checksums(self, infos: list[NodeInfo]) -> None:
        """Compute (in a worker thread) the MD5 of files that appeared by other means."""
        for info in infos:
            if not info.is_dir and info.md5 is None:
                md5 = await asyncio.to_thread(hash_file, info.abs_path)
                if md5 is not None:
                    self.record_checksum(info, md5)

    # ---------------------------------------------------------------------------------
    # write operations
    # ---------------------------------------------------------------------------------
    def _check_parent(self, user: User, loc: Loc, permission: str) -> Loc:
        if not loc.rel:
            raise AlreadyExists(f"{HOME} already exists")
        parent = loc.parent
        self.authorize(user, parent, permission)
        pst = self._lstat(parent)
        if pst is None:
            raise NotFound(f"parent folder does not exist: {parent.path}")
        if not statmod.S_ISDIR(pst.st_mode):
            raise NotFound(f"parent is not a folder: {parent.path}")
        return parent

    def create_container(self, user: User, loc: Loc) -> None:
        parent = self._check_parent(user, loc, "create_container")
        path = self.abs_path(loc)
        try:
            os.mkdir(path)
        except FileExistsError:
            raise AlreadyExists(f"already exists: {loc.path}") from None
        with self._tx():
            self._fresh_node(loc)
            self._bump(parent)

    def touch_file(self, user: User, loc: Loc) -> None:
        parent = self._check_parent(user, loc, "initiate_file_upload")
        path = self.abs_path(loc)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise AlreadyExists(f"already exists: {loc.path}") from None
        os.close(fd)
        st = os.lstat(path)
        with self._tx():
            node_id = self._fresh_node(loc)
            self.db.execute(
                "UPDATE nodes SET cks_size=?, cks_mtime_ns=?, md5=? WHERE id=?",
                (st.st_size, st.st_mtime_ns, hashlib.md5(b"").hexdigest(), node_id),
            )
            self._bump(parent)

    def delete(self, user: User, loc: Loc) -> str:
        """Move a file or folder to the owner's recycle bin; returns the recycle key."""
        if not loc.rel:
            raise PermissionDenied("the home folder cannot be deleted")
        self.authorize(user, loc, "delete")
        st = self._require(loc)
        is_dir = statmod.S_ISDIR(st.st_mode)
        node_id = self._node_row(loc)[0]
        key = uuid.uuid4().hex
        bin_dir = self.trash_dir / loc.owner
        bin_dir.mkdir(exist_ok=True)
        src = self.abs_path(loc)
        dst = str(bin_dir / key)
        size = tree_size(src) if is_dir else st.st_size
        os.rename(src, dst)
        with self._tx():
            self.db.execute(
                f"UPDATE nodes SET trash_key=? WHERE owner=? AND trash_key IS NULL AND {_is_descendant_sql()}",
                (key, loc.owner, *_desc_params(loc.rel)),
            )
            self.db.execute(
                "INSERT INTO trash(key, owner, node_id, orig_rel, is_dir, size, deleted_ns) VALUES (?,?,?,?,?,?,?)",
                (key, loc.owner, node_id, loc.rel, int(is_dir), size, time.time_ns()),
            )
            self._bump(loc.parent)
        return key

    def move(self, user: User, src: Loc, dst: Loc) -> None:
        if not src.rel:
            raise PermissionDenied("the home folder cannot be moved")
        if not dst.rel:
            raise AlreadyExists(f"{HOME} already exists")
        self.authorize(user, src, "move")
        st = self._require(src)
        is_dir = statmod.S_ISDIR(st.st_mode)
        if src.owner != dst.owner:
            raise PermissionDenied("cannot move between different users' storage")
        if dst.rel == src.rel:
            raise AlreadyExists(f"already exists: {dst.path}")
        if dst.rel.startswith(src.rel + "/"):
            raise InvalidArgument(f"cannot move a folder into itself: {src.path} -> {dst.path}")
        dparent = self._check_parent(user, dst, "create_container" if is_dir else "initiate_file_upload")
        if self._lstat(dst) is not None or os.path.lexists(self.abs_path(dst)):
            raise AlreadyExists(f"already exists: {dst.path}")
        self._node_row(src)  # make sure the moved node keeps a recorded id
        os.rename(self.abs_path(src), self.abs_path(dst))
        with self._tx():
            self._drop_stale(dst)
            self.db.execute(
                f"UPDATE nodes SET path = ? || substr(path, ?) WHERE owner=? AND trash_key IS NULL AND {_is_descendant_sql()}",
                (dst.rel, len(src.rel) + 1, src.owner, *_desc_params(src.rel)),
            )
            self._bump(src.parent)
            self._bump(dparent)

    # ---------------------------------------------------------------------------------
    # arbitrary metadata
    # ---------------------------------------------------------------------------------
    def set_metadata(self, user: User, loc: Loc, items: dict[str, str]) -> None:
        self.authorize(user, loc, "initiate_file_upload")
        self._require(loc)
        for key in items:
            if not key or "\x00" in key or len(key.encode()) > 1024:
                raise InvalidArgument("metadata keys must be non-empty strings of at most 1024 bytes")
            if key == "*":
                raise InvalidArgument("'*' is not a valid metadata key")
        node_id = self._node_row(loc)[0]
        with self._tx():
            for key, value in items.items():
                self.db.execute(
                    "INSERT OR REPLACE INTO metadata(node_id, key, value) VALUES (?,?,?)", (node_id, key, value)
                )

    def unset_metadata(self, user: User, loc: Loc, keys) -> None:
        self.authorize(user, loc, "initiate_file_upload")
        self._require(loc)
        node_id = self._node_row(loc)[0]
        with self._tx():
            for key in keys:
                self.db.execute("DELETE FROM metadata WHERE node_id=? AND key=?", (node_id, key))

    # ---------------------------------------------------------------------------------
    # quota
    # ---------------------------------------------------------------------------------
    def used_bytes(self, owner: str) -> int:
        return tree_size(self.home_dir(owner))

    def quota_of(self, user: User, loc: Loc) -> tuple[int, int, int]:
        """(total, used, remaining) bytes of the home containing ``loc``."""
        self.authorize(user, loc, "get_quota")
        used = self.used_bytes(loc.owner)
        free = shutil.disk_usage(self.root).free
        if self.quota is None:
            return used + free, used, free
        remaining = max(0, min(self.quota - used, free))
        return self.quota, used, remaining

    def check_disk(self, new_bytes: int) -> None:
        if new_bytes > shutil.disk_usage(self.root).free:
            raise InsufficientStorage(f"not enough disk space for {new_bytes} bytes")

    def check_quota(self, owner: str, new_bytes: int, replaced_bytes: int = 0, *, disk: bool = True) -> None:
        """Raise :class:`InsufficientStorage` unless a file of ``new_bytes`` replacing one of
        ``replaced_bytes`` fits. The quota counts the current files of a home (not versions
        nor the recycle bin); the disk must hold the new bytes in full, since the replaced
        content is kept as a version."""
        if disk:
            self.check_disk(new_bytes)
        if self.quota is not None:
            used = self.used_bytes(owner)
            if used - replaced_bytes + new_bytes > self.quota:
                raise InsufficientStorage(
                    f"quota exceeded: {new_bytes} bytes would not fit ({used} of {self.quota} bytes used)"
                )

    # ---------------------------------------------------------------------------------
    # versions
    # ---------------------------------------------------------------------------------
    def list_versions(self, user: User, loc: Loc) -> list[Version]:
        self.authorize(user, loc, "list_file_versions")
        st = self._require(loc)
        if statmod.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"folders have no versions: {loc.path}")
        node_id = self._node_row(loc)[0]
        rows = self.db.execute(
            "SELECT key, size, mtime_ns, etag FROM versions WHERE node_id=? ORDER BY seq DESC", (node_id,)
        )
        return [Version(*r) for r in rows]

    def version_source(self, user: User, loc: Loc, key: str) -> str:
        """The on-disk path of a version about to be restored (checks permissions)."""
        self.authorize(user, loc, "restore_file_version")
        st = self._require(loc)
        if statmod.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"folders have no versions: {loc.path}")
        node_id = self._node_row(loc)[0]
        row = self.db.execute("SELECT 1 FROM versions WHERE node_id=? AND key=?", (node_id, key)).fetchone()
        path = self.versions_dir / node_id / key
        if row is None or "/" in key or key in ("", ".", "..") or not path.is_file():
            raise NotFound(f"no version {key!r} of {loc.path}")
        return str(path)

    def _make_version(self, node_id: str, abs_path: str, st: os.stat_result, etag: str) -> None:
        """Keep the current content of ``abs_path`` as a version. The file itself stays in
        place (hard link), so that the caller can atomically rename the new content over
        it: readers never find the file missing, a crash never loses it."""
        vdir = self.versions_dir / node_id
        vdir.mkdir(exist_ok=True)
        base = str(st.st_mtime_ns)
        key, n = base, 0
        while (vdir / key).exists() or self.db.execute(
            "SELECT 1 FROM versions WHERE node_id=? AND key=?", (node_id, key)
        ).fetchone():
            n += 1
            key = f"{base}-{n}"
        try:
            os.link(abs_path, vdir / key, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
                raise
            shutil.copy2(abs_path, vdir / key)  # filesystems without hard links
        self.db.execute(
            "INSERT INTO versions(node_id, key, size, mtime_ns, etag) VALUES (?,?,?,?,?)",
            (node_id, key, st.st_size, st.st_mtime_ns, etag),
        )
        if self.max_versions:
            old = self.db.execute(
                "SELECT seq, key FROM versions WHERE node_id=? ORDER BY seq DESC LIMIT -1 OFFSET ?",
                (node_id, self.max_versions),
            ).fetchall()
            for seq, okey in old:
                self.db.execute("DELETE FROM versions WHERE seq=?", (seq,))
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(vdir / okey)

    def temp_path(self, prefix: str) -> str:
        return str(self.uploads_dir / f"{prefix}.{uuid.uuid4().hex}.tmp")

    def commit_file(
        self,
        user: User,
        loc: Loc,
        tmp_path: str,
        size: int,
        md5: str,
        *,
        if_match: str | None = None,
        if_not_exist: bool = False,
        if_unmodified_since_ns: int | None = None,
        check_quota: bool = True,
    ) -> NodeInfo:
        """Put a finished temp file in place atomically; the previous content becomes a
        version. Conditions are re-checked here (call under :meth:`file_lock`)."""
        parent = self._check_parent(user, loc, "initiate_file_upload")
        abs_path = self.abs_path(loc)
        st = self._lstat(loc)
        if st is None and os.path.lexists(abs_path):
            raise Conflict(f"cannot write over a special file or link: {loc.path}")
        if st is not None and statmod.S_ISDIR(st.st_mode):
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        row = self._node_row(loc) if st is not None else None
        current_etag = self._etag(row[0], row[1], st) if st is not None else None
        if if_not_exist and st is not None:
            raise FailedPrecondition(f"already exists: {loc.path}")
        if if_match is not None and (
            current_etag is None or normalize_etag(if_match) not in ("*", normalize_etag(current_etag))
        ):
            raise FailedPrecondition(f"etag mismatch: {loc.path} was changed since it was read")
        if if_unmodified_since_ns is not None and st is not None and st.st_mtime_ns > if_unmodified_since_ns:
            raise FailedPrecondition(f"modified since the given time: {loc.path}")
        if check_quota:  # the bytes are on disk already: only the quota matters now
            self.check_quota(loc.owner, size, st.st_size if st is not None else 0, disk=False)
        with self._tx():
            if st is not None:
                node_id = row[0]
                self._make_version(node_id, abs_path, st, current_etag)
            else:
                node_id = self._fresh_node(loc)
            os.rename(tmp_path, abs_path)
            nst = os.lstat(abs_path)
            self.db.execute(
                "UPDATE nodes SET cks_size=?, cks_mtime_ns=?, md5=?, gen = gen + 1 WHERE id=?",
                (nst.st_size, nst.st_mtime_ns, md5, node_id),
            )
            self._bump(parent)
        return self.stat(user, loc)

    # ---------------------------------------------------------------------------------
    # recycle bin
    # ---------------------------------------------------------------------------------
    def list_recycle(self, user: User, loc: Loc, key: str = "") -> list[RecycleItem]:
        home = Loc(loc.owner, "")
        self.authorize(user, home, "list_recycle")
        if key:
            rows = self.db.execute(
                "SELECT key, orig_rel, is_dir, size, deleted_ns FROM trash WHERE owner=? AND key=?", (loc.owner, key)
            ).fetchall()
            if not rows:
                raise NotFound(f"no recycle bin item {key!r}")
        else:
            rows = self.db.execute(
                "SELECT key, orig_rel, is_dir, size, deleted_ns FROM trash WHERE owner=? ORDER BY deleted_ns DESC",
                (loc.owner,),
            ).fetchall()
        return [RecycleItem(k, Loc(loc.owner, rel).path, bool(d), s, t) for k, rel, d, s, t in rows]

    def restore_recycle(self, user: User, loc: Loc, key: str, target: Loc | None) -> Loc:
        home = Loc(loc.owner, "")
        self.authorize(user, home, "restore_recycle_item")
        row = self.db.execute("SELECT orig_rel FROM trash WHERE owner=? AND key=?", (loc.owner, key)).fetchone()
        if row is None:
            raise NotFound(f"no recycle bin item {key!r}")
        orig_rel = row[0]
        dst = target if target is not None else Loc(loc.owner, orig_rel)
        if dst.owner != loc.owner:
            raise PermissionDenied("cannot restore into another user's storage")
        if not dst.rel:
            raise AlreadyExists(f"{HOME} already exists")
        self.authorize(user, dst.parent, "create_container")
        if self._lstat(dst) is not None or os.path.lexists(self.abs_path(dst)):
            raise AlreadyExists(f"already exists: {dst.path}")
        # Recreate missing parents.
        parent_abs = self.abs_path(dst.parent)
        if os.path.lexists(parent_abs) and not os.path.isdir(parent_abs):
            raise AlreadyExists(f"a file is in the way: {dst.parent.path}")
        os.makedirs(parent_abs, exist_ok=True)
        src = str(self.trash_dir / loc.owner / key)
        if not os.path.lexists(src):
            with self._tx():
                self.db.execute("DELETE FROM trash WHERE key=?", (key,))
            raise NotFound(f"recycle bin item {key!r} vanished from disk")
        os.rename(src, self.abs_path(dst))
        with self._tx():
            self._drop_stale(dst)
            self.db.execute(
                "UPDATE nodes SET trash_key=NULL, path = ? || substr(path, ?) WHERE trash_key=?",
                (dst.rel, len(orig_rel) + 1, key),
            )
            self.db.execute("DELETE FROM trash WHERE key=?", (key,))
            self._bump(dst.parent)
        return dst

    def purge_recycle(self, user: User, loc: Loc, key: str = "") -> None:
        home = Loc(loc.owner, "")
        self.authorize(user, home, "purge_recycle")
        if key:
            keys = [r[0] for r in self.db.execute("SELECT key FROM trash WHERE owner=? AND key=?", (loc.owner, key))]
            if not keys:
                raise NotFound(f"no recycle bin item {key!r}")
        else:
            keys = [r[0] for r in self.db.execute("SELECT key FROM trash WHERE owner=?", (loc.owner,))]
        with self._tx():
            for k in keys:
                ids = [r[0] for r in self.db.execute("SELECT id FROM nodes WHERE trash_key=?", (k,))]
                self._forget_nodes(ids)
                self.db.execute("DELETE FROM trash WHERE key=?", (k,))
                self._to_purge(str(self.trash_dir / loc.owner / k))

    def _to_purge(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.rename(path, self.purge_dir / uuid.uuid4().hex)

    def purge_pending(self) -> list[str]:
        """Paths waiting to be deleted for good (delete them with :func:`remove_tree`)."""
        return [str(p) for p in self.purge_dir.iterdir()]

    # ---------------------------------------------------------------------------------
    # upload and download sessions
    # ---------------------------------------------------------------------------------
    def initiate_upload(
        self, user: User, loc: Loc, opts: UploadOptions, session_id: str, expires: int
    ) -> UploadSession:
        if not loc.rel:
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        parent = self._check_parent(user, loc, "initiate_file_upload")
        st = self._lstat(loc)
        if st is not None and statmod.S_ISDIR(st.st_mode):
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        if opts.if_not_exist and st is not None:
            raise AlreadyExists(f"already exists: {loc.path}")
        if opts.if_match is not None:
            if st is None:
                raise FailedPrecondition(f"etag mismatch: {loc.path} does not exist")
            row = self._node_row(loc)
            if normalize_etag(opts.if_match) not in ("*", normalize_etag(self._etag(row[0], row[1], st))):
                raise FailedPrecondition(f"etag mismatch: {loc.path} was changed since it was read")
        if opts.if_unmodified_since_ns is not None and st is not None and st.st_mtime_ns > opts.if_unmodified_since_ns:
            raise FailedPrecondition(f"modified since the given time: {loc.path}")
        if opts.length is not None:
            self.check_quota(loc.owner, opts.length, st.st_size if st is not None else 0)
        parent_id = self._node_row(parent)[0]
        session = UploadSession(
            id=session_id,
            owner=loc.owner,
            user_id=user.opaque_id,
            parent_id=parent_id,
            name=loc.name,
            length=opts.length,
            if_match=opts.if_match,
            if_not_exist=opts.if_not_exist,
            if_unmodified_since_ns=opts.if_unmodified_since_ns,
            lock_id=opts.lock_id,
            expires=expires,
        )
        with self._tx():
            self.db.execute(
                "INSERT INTO uploads(id, owner, user_id, parent_id, name, length, if_match, if_not_exist,"
                " if_unmodified_since_ns, lock_id, expires) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    session.id,
                    session.owner,
                    session.user_id,
                    session.parent_id,
                    session.name,
                    session.length,
                    session.if_match,
                    int(session.if_not_exist),
                    session.if_unmodified_since_ns,
                    session.lock_id,
                    session.expires,
                ),
            )
        return session

    def get_upload(self, session_id: str) -> UploadSession | None:
        row = self.db.execute(
            "SELECT id, owner, user_id, parent_id, name, length, if_match, if_not_exist, if_unmodified_since_ns,"
            " lock_id, expires FROM uploads WHERE id=?",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        session = UploadSession(*row)
        session.if_not_exist = bool(session.if_not_exist)
        if session.expires < time.time():
            self.end_upload(session_id)
            return None
        return session

    def set_upload_length(self, session_id: str, length: int) -> None:
        with self._tx():
            self.db.execute("UPDATE uploads SET length=? WHERE id=?", (length, session_id))

    def tus_path(self, session_id: str) -> str:
        return str(self.uploads_dir / f"{session_id}.tus")

    def end_upload(self, session_id: str) -> None:
        with self._tx():
            self.db.execute("DELETE FROM uploads WHERE id=?", (session_id,))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tus_path(session_id))

    def upload_target(self, session: UploadSession) -> tuple[User, Loc]:
        """Where a finished upload goes: the session's folder (wherever it is now)."""
        user = self.users.by_id(session.user_id)
        if user is None:
            raise NotFound("the user of this upload no longer exists")
        row = self.db.execute(
            "SELECT owner, path FROM nodes WHERE id=? AND trash_key IS NULL", (session.parent_id,)
        ).fetchone()
        if row is None:
            raise NotFound("the folder of this upload no longer exists")
        loc = Loc(row[0], row[1]).child(session.name)
        return user, loc

    def initiate_download(self, user: User, loc: Loc, session_id: str, expires: int) -> DownloadSession:
        self.authorize(user, loc, "initiate_file_download")
        st = self._require(loc)
        if statmod.S_ISDIR(st.st_mode):
            raise FailedPrecondition(f"cannot download a folder: {loc.path}")
        node_id = self._node_row(loc)[0]
        session = DownloadSession(session_id, loc.owner, user.opaque_id, node_id, expires)
        with self._tx():
            self.db.execute(
                "INSERT INTO downloads(id, owner, user_id, node_id, expires) VALUES (?,?,?,?,?)",
                (session.id, session.owner, session.user_id, session.node_id, session.expires),
            )
        return session

    def open_file(self, user: User, loc: Loc):
        """Open a file for reading; returns (binary file object, NodeInfo of exactly the
        content opened)."""
        self.authorize(user, loc, "initiate_file_download")
        path = self.abs_path(loc)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no such file: {loc.path}") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise NotFound(f"no such file: {loc.path}") from None
            raise
        st = os.fstat(fd)
        if not statmod.S_ISREG(st.st_mode):
            os.close(fd)
            raise FailedPrecondition(f"not a file: {loc.path}")
        info = self._info(user, loc, st, self._node_row(loc), None, ())
        return os.fdopen(fd, "rb"), info

    def get_download(self, session_id: str) -> DownloadSession | None:
        row = self.db.execute(
            "SELECT id, owner, user_id, node_id, expires FROM downloads WHERE id=?", (session_id,)
        ).fetchone()
        if row is None:
            return None
        session = DownloadSession(*row)
        if session.expires < time.time():
            with self._tx():
                self.db.execute("DELETE FROM downloads WHERE id=?", (session_id,))
            return None
        return session

    def download_target(self, session: DownloadSession) -> tuple[User, Loc]:
        user = self.users.by_id(session.user_id)
        if user is None:
            raise NotFound("the user of this download no longer exists")
        row = self.db.execute(
            "SELECT owner, path FROM nodes WHERE id=? AND trash_key IS NULL", (session.node_id,)
        ).fetchone()
        if row is None:
            raise NotFound("the file of this download no longer exists")
        return user, Loc(row[0], row[1])

    def cleanup(self, *, startup: bool = False) -> None:
        """Forget expired sessions (and their partial data); at start-up also remove
        stray temporary files left by a crash."""
        now = int(time.time())
        with self._tx():
            expired = [r[0] for r in self.db.execute("SELECT id FROM uploads WHERE expires < ?", (now,))]
            for sid in expired:
                self.end_upload(sid)
            self.db.execute("DELETE FROM downloads WHERE expires < ?", (now,))
        if not startup:
            return
        live = {r[0] for r in self.db.execute("SELECT id FROM uploads")}
        for entry in self.uploads_dir.iterdir():
            if entry.name.endswith(".tus") and entry.name[: -len(".tus")] in live:
                continue
            with contextlib.suppress(OSError):
                entry.unlink()
