"""Folder + SQLite backend of the embedded CS3 storage: :class:`Store`, the namespace.

Layout of the storage root::

    ROOT/home/<username>/...          each user's files, as plain files and folders
    ROOT/.mesh-zenodo/storage.sqlite  node ids, etag generations, checksums, metadata,
                                      versions, recycle bin, upload/download sessions,
                                      the bytes used per home (schema: :mod:`.schema`)
    ROOT/.mesh-zenodo/jwt-secret      HS256 signing secret (0600)
    ROOT/.mesh-zenodo/uploads/        partial uploads (same filesystem: rename into place)
    ROOT/.mesh-zenodo/versions/<node id>/<key>
    ROOT/.mesh-zenodo/trash/<owner id>/<key>
    ROOT/.mesh-zenodo/purge/          things being deleted for good

:class:`Store` opens the root (folders, the SQLite connection, schema migrations) and owns
transactions (:meth:`Store._tx`), per-file locks and the namespace: resolving references,
node ids and etags, stat, list, create, touch, delete, move, metadata and the quota. Its
collaborators hold a reference to it and use the same database, transactions and helpers:

* ``store.versions``  -- :class:`.versions.Versions` (file versions)
* ``store.recycle``   -- :class:`.recycle.RecycleBin` (the recycle bin)
* ``store.transfers`` -- :class:`.transfers.Transfers` (upload/download sessions, commit)
* ``store.access``    -- :class:`.permissions.Access` (who may do what)

Every operation takes the calling :class:`~.auth.User` and a :class:`~.paths.Loc` (owner +
path relative to that owner's home) and checks the permission it needs with
:meth:`Store.authorize`, the one call path to the one decision (:class:`~.permissions.Access`).

All methods are synchronous and meant to be called from the event loop thread: each one
is a handful of syscalls and SQLite statements, so they are atomic with respect to each
other. Only whole-file work (hashing, copying, deleting trees: :mod:`.files`) is run by
callers in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import shutil
import sqlite3
import stat as statmod
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .auth import User, UserDirectory
from .errors import AlreadyExists, InsufficientStorage, InvalidArgument, NotFound, PermissionDenied
from .files import EMPTY_MD5, hash_file, tree_size
from .paths import (
    HOME,
    STORAGE_ID,
    Loc,
    check_name,
    desc_params,
    is_descendant_sql,
    join_relative,
    parse_home_path,
)
from .permissions import Access
from .recycle import RecycleBin
from .schema import migrate
from .transfers import Transfers
from .versions import Versions

log = logging.getLogger("mesh_zenodo.storage")

DIR_MIME = "httpd/unix-directory"
DEFAULT_MAX_VERSIONS = 50

mimetypes.add_type("application/x-ipynb+json", ".ipynb")
mimetypes.add_type("text/markdown", ".md")


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
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            migrate(self.db)
            # The bytes used per home are recounted (one walk, when first needed) by each
            # run: files put into a home while the storage was stopped are counted too.
            self.db.execute("DELETE FROM usage")
        except BaseException:
            self.close()
            raise
        self._tx_depth = 0
        self._file_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self.access = Access(self)
        self.versions = Versions(self, max_versions)
        self.recycle = RecycleBin(self)
        self.transfers = Transfers(self)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    # ---------------------------------------------------------------------------------
    # transactions and locks
    # ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One SQLite transaction (``BEGIN IMMEDIATE``); nested uses join the outer one."""
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
    # permissions: every operation asks here; the decision is :class:`.permissions.Access`
    # ---------------------------------------------------------------------------------
    def permissions(self, user: User, loc: Loc) -> frozenset[str]:
        """What ``user`` may do at ``loc``."""
        return self.access.permissions(user, loc)

    def authorize(self, user: User, loc: Loc, permission: str) -> frozenset[str]:
        """Raise unless ``user`` has ``permission`` at ``loc`` (NotFound if they may not
        even stat it); returns all their permissions there."""
        return self.access.authorize(user, loc, permission)

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
                    f"SELECT id FROM nodes WHERE owner=? AND trash_key IS NULL AND {is_descendant_sql()}",
                    (loc.owner, *desc_params(loc.rel)),
                )
            ]
            self._forget_nodes(ids)

    def _forget_nodes(self, ids: list[str]) -> None:
        """Drop nodes for good, with their metadata and versions (inside a transaction)."""
        for node_id in ids:
            self.db.execute("DELETE FROM metadata WHERE node_id=?", (node_id,))
            self.versions.forget(node_id)
            self.db.execute("DELETE FROM nodes WHERE id=?", (node_id,))

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
                    check_name(name)
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
                (st.st_size, st.st_mtime_ns, EMPTY_MD5, node_id),
            )
            self._add_usage(loc.owner, st.st_size)
            self._bump(parent)

    def delete(self, user: User, loc: Loc) -> str:
        """Move a file or folder to the owner's recycle bin; returns the recycle key."""
        if not loc.rel:
            raise PermissionDenied("the home folder cannot be deleted")
        self.authorize(user, loc, "delete")
        st = self._require(loc)
        is_dir = statmod.S_ISDIR(st.st_mode)
        node_id = self._node_row(loc)[0]
        size = tree_size(self.abs_path(loc)) if is_dir else st.st_size
        return self.recycle.take(loc, node_id, is_dir, size)

    def move(self, user: User, src: Loc, dst: Loc) -> None:
        if not src.rel:
            raise PermissionDenied("the home folder cannot be moved")
        if not dst.rel:
            raise AlreadyExists(f"{HOME} already exists")
        self.authorize(user, src, "move")
        st = self._require(src)
        is_dir = statmod.S_ISDIR(st.st_mode)
        if src.owner != dst.owner:  # (if allowed one day: move the usage in the same transaction)
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
                f"UPDATE nodes SET path = ? || substr(path, ?) WHERE owner=? AND trash_key IS NULL AND {is_descendant_sql()}",
                (dst.rel, len(src.rel) + 1, src.owner, *desc_params(src.rel)),
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
    # quota: a running count of the bytes in each home
    # ---------------------------------------------------------------------------------
    def used_bytes(self, owner: str) -> int:
        """The bytes of the regular files in ``owner``'s home (symlinks not followed; not
        the versions, not the recycle bin). A running count in the ``usage`` table: one
        walk of the home the first time it is needed in a run, then kept up to date by
        every change of size, in that change's transaction (:meth:`_add_usage`)."""
        row = self.db.execute("SELECT bytes FROM usage WHERE owner=?", (owner,)).fetchone()
        if row is not None:
            return max(0, row[0])
        used = tree_size(self.home_dir(owner))
        with self._tx():
            self.db.execute("INSERT OR REPLACE INTO usage(owner, bytes) VALUES (?, ?)", (owner, used))
        return used

    def _add_usage(self, owner: str, delta: int) -> None:
        """Count ``delta`` more bytes in ``owner``'s home (call inside the transaction of
        the change; a home not counted yet is counted by its first walk instead)."""
        if delta:
            self.db.execute("UPDATE usage SET bytes = bytes + ? WHERE owner=?", (delta, owner))

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
    # deleting for good
    # ---------------------------------------------------------------------------------
    def discard(self, path: str) -> None:
        """Move ``path`` (in the storage's own area) to the purge area."""
        with contextlib.suppress(FileNotFoundError):
            os.rename(path, self.purge_dir / uuid.uuid4().hex)

    def purge_pending(self) -> list[str]:
        """Paths waiting to be deleted for good (delete them with :func:`.files.remove_tree`)."""
        return [str(p) for p in self.purge_dir.iterdir()]
