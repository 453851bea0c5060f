"""Folder + SQLite backend of the embedded CS3 storage: :class:`Store`, the namespace.

Layout of the storage root::

    ROOT/home/<username>/...          each user's files, as plain files and folders
    ROOT/spaces/<space id>/...        each project space's files (see :mod:`.spaces`)
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
stat, list, create, touch, delete, move and metadata. Its collaborators hold a reference
to it and use the same database, transactions and helpers:

* ``store.nodes``     -- :class:`.nodes.Nodes` (node ids, etags, :class:`.nodes.NodeInfo`)
* ``store.usage``     -- :class:`.quota.Usage` (bytes used per home, quota and disk checks)
* ``store.versions``  -- :class:`.versions.Versions` (file versions)
* ``store.recycle``   -- :class:`.recycle.RecycleBin` (the recycle bin)
* ``store.transfers`` -- :class:`.transfers.Transfers` (upload/download sessions, commit)
* ``store.access``    -- :class:`.permissions.Access` (who may do what)
* ``store.shares``    -- :class:`.shares.Shares` (user and group shares, their grants, the
  mounts under ``/home/Shares``)
* ``store.spaces``    -- :class:`.spaces.Spaces` (project spaces: ``ROOT/spaces/<id>``)
* ``store.links``     -- :class:`.links.Links` (public links)
* ``store.locks``     -- :class:`.locks.Locks` (CS3 locks on files; every mutation of a
  file asks :meth:`.locks.Locks.check_write` with the request's lock id)

Every operation takes the calling :class:`~.auth.User` and a :class:`~.paths.Loc` (owner +
path relative to that owner's home) and checks the permission it needs with
:meth:`Store.authorize`, the one call path to the one decision (:class:`~.permissions.Access`).

All methods are synchronous. Once the storage serves they run on the store's own thread
(:meth:`Store.run`, :mod:`.worker`): one call at a time, so each call is atomic with
respect to the others, and the event loop never waits for SQLite or the file system.
Whole-file work (hashing, copying, deleting trees: :mod:`.files`) runs in worker threads
(:func:`.worker.blocking`).

Every mutation is whole or not at all (:mod:`.journal`): its file-system step is undone
when its transaction fails, and a crash between the two is repaired at the next start.
A full disk is :class:`~.errors.InsufficientStorage`, never an internal error; reading
never needs to write (ids of files seen for the first time, checksums and usage counts
are recorded when the disk allows it, and answered all the same).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import sqlite3
import stat as statmod
import uuid
from collections.abc import Iterator
from pathlib import Path

from .auth import User, UserDirectory
from .errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    StorageError,
    is_disk_full,
    translate,
)
from .files import EMPTY_MD5, hash_file, tree_size
from .journal import Journal
from .links import Links
from .locks import Locks
from .nodes import NodeInfo, Nodes
from .paths import (
    HOME,
    PROJECTS_PATH,
    PROJECTS_REL,
    SHARES_PATH,
    SHARES_REL,
    STORAGE_ID,
    Loc,
    check_name,
    desc_params,
    is_descendant_sql,
    join_relative,
    parse_home_path,
)
from .permissions import Access
from .quota import Usage
from .recycle import RecycleBin
from .schema import migrate
from .shares import Shares
from .spaces import Spaces
from .transfers import Transfers
from .versions import Versions
from .worker import StoreThread, blocking

log = logging.getLogger("mesh_zenodo.storage")

DEFAULT_MAX_VERSIONS = 50
#: seconds a transaction waits for another program's lock on the database
DB_BUSY_TIMEOUT = 15.0


def _disk_nearly_full(path: Path) -> bool:
    """Whether there is no room left for SQLite's shared-memory index (32 KiB)."""
    try:
        return shutil.disk_usage(path).free < 64 * 1024
    except OSError:
        return False


class Store:
    """The storage backend of one root (one SQLite connection; call :meth:`close` when done)."""

    def __init__(
        self,
        root: Path,
        users: UserDirectory,
        *,
        quota: int | None = None,
        max_versions: int = DEFAULT_MAX_VERSIONS,
        fault: str | None = None,
    ):
        self.root = Path(os.path.realpath(root))
        self.users = users
        self.quota = quota
        self.fault = fault
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
        self._thread: StoreThread | None = None
        self.db = self._open_database(exclusive=False)
        self._tx_depth = 0
        self._after_commit: list = []
        self._file_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self.nodes = Nodes(self)
        self.spaces = Spaces(self)  # project spaces (spaces.py), before anything asks home_dir
        self.links = Links(self)  # public links (links.py)
        self.locks = Locks(self)  # CS3 locks on files (locks.py)
        self.usage = Usage(self)
        self.access = Access(self)
        self.shares = Shares(self)  # user and group shares (shares.py), asked by self.access
        self.journal = Journal(self)
        self.versions = Versions(self, max_versions)
        self.recycle = RecycleBin(self)
        self.transfers = Transfers(self)

    def _open_database(self, *, exclusive: bool) -> sqlite3.Connection:
        """The connection to ``storage.sqlite`` (WAL), migrated. Used by one thread at a
        time: the opener's until the storage serves, then only the store's own thread
        (every call goes through :meth:`run`).

        WAL mode shares its index with other processes through a ``-shm`` file that
        SQLite makes when the database is opened; on a full disk that fails ("disk I/O
        error"), and the database is then opened for this process alone (``EXCLUSIVE``
        locking: the index lives in memory), so that the storage still starts and serves
        reads."""
        db = sqlite3.connect(
            self.meta_dir / "storage.sqlite", isolation_level=None, check_same_thread=False, timeout=DB_BUSY_TIMEOUT
        )
        try:
            if exclusive:
                db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            migrate(db)
        except sqlite3.OperationalError as exc:
            with contextlib.suppress(sqlite3.Error):
                db.close()
            if exclusive or not _disk_nearly_full(self.meta_dir):
                raise
            log.warning("the disk is full (%s): the database is opened for this process alone", exc)
            return self._open_database(exclusive=True)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.close()
            raise
        return db

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
            self._thread = None
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    # ---------------------------------------------------------------------------------
    # the store's thread, transactions and locks
    # ---------------------------------------------------------------------------------
    async def run(self, fn, /, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` (store work: anything that touches the database)
        on the store's thread; a full disk comes out as :class:`InsufficientStorage`."""
        if self._thread is None:
            self._thread = StoreThread()
        return await self._thread.run(self._call, fn, args, kwargs)

    @staticmethod
    def _call(fn, args, kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            translated = translate(exc)
            if translated is exc:
                raise
            raise translated from None

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One SQLite transaction (``BEGIN IMMEDIATE``); nested uses join the outer one.

        If it does not commit (an error inside, or at the commit: a full disk), it is
        rolled back and the error propagates; what :meth:`after_commit` registered runs
        only once it committed."""
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield
            finally:
                self._tx_depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._tx_depth = 1
        self._after_commit = []
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self._tx_depth = 0
            self._after_commit = []
            if self.db.in_transaction:  # SQLite may already have rolled back (SQLITE_FULL)
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            raise
        self._tx_depth = 0
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                action()
            except Exception:
                log.exception("an action after a commit failed")

    def after_commit(self, action) -> None:
        """Run ``action()`` once the current transaction committed (at once outside one):
        for what cannot be undone, such as sending data to the purge area."""
        if self._tx_depth:
            self._after_commit.append(action)
        else:
            action()

    def _try_write(self, fn) -> bool:
        """Run ``fn()`` in a transaction of its own if the disk allows it: for what a
        read records on the way (ids, checksums, counts). False if the disk is full.
        Inside a caller's transaction it is part of that transaction (errors propagate)."""
        if self._tx_depth:
            fn()
            return True
        try:
            with self._tx():
                fn()
        except (sqlite3.Error, OSError) as exc:
            if not is_disk_full(exc):
                raise
            log.info("not recorded for now (the disk is full)")
            return False
        return True

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
        space_dir = self.spaces.root_dir(owner)  # a project space: ROOT/spaces/<id>
        if space_dir is not None:
            return space_dir
        return str(self.homes_dir / self.owner_user(owner).username)

    def ensure_home(self, user: User) -> Loc:
        """The user's home (made on first use; its node id is the user's id)."""
        home = self.home_dir(user.opaque_id)
        if not os.path.isdir(home):
            os.makedirs(home, exist_ok=True)
        row = self.db.execute(
            "SELECT id FROM nodes WHERE owner=? AND path='' AND trash_key IS NULL", (user.opaque_id,)
        ).fetchone()
        if row is None:

            def record() -> None:
                self.db.execute("DELETE FROM nodes WHERE id=?", (user.opaque_id,))
                self.db.execute(
                    "INSERT INTO nodes(id, owner, path) VALUES (?, ?, '')", (user.opaque_id, user.opaque_id)
                )

            self._try_write(record)
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
        space = self.spaces.resolve_path(user, rel)  # /home/Projects/<name>/...
        if space is not None:
            return space
        if rel == "Projects" or rel.startswith("Projects/"):
            # the virtual folder of the user's spaces; below it, no space of theirs: a
            # place nobody may use (as an unmounted name under /home/Shares)
            view = (PROJECTS_REL, PROJECTS_PATH)
            return Loc(user.opaque_id, "/".join([PROJECTS_REL, *rel.split("/")[1:]]), view)
        if rel == "Shares" or rel.startswith("Shares/"):
            return self._resolve_shares(user, rel.split("/")[1:])
        return Loc(user.opaque_id, rel)

    def _resolve_shares(self, user: User, segments: list[str]) -> Loc:
        """``/home/Shares/...``: the user's virtual folder of accepted shares; below a
        mount point, the shared resource in its owner's tree (seen through the mount)."""
        root = Loc(user.opaque_id, SHARES_REL, (SHARES_REL, SHARES_PATH))
        if not segments:
            return root
        mounted = self.shares.mount(user, segments[0])
        if mounted is None:  # nothing mounted there: a place nobody may use but to create
            return Loc(user.opaque_id, "/".join([SHARES_REL, *segments]), root.view)
        return Loc(mounted.owner, join_relative(mounted.rel, "/".join(segments[1:])), mounted.view)

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
        if self.users.by_id(owner) is None and self.spaces.get(owner) is None:
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
                self._try_write(lambda: self.nodes.drop_stale(loc))
            raise not_found
        return Loc(owner, join_relative(rel, relative)) if relative else loc

    def _shares_folder(self, user: User, loc: Loc) -> NodeInfo:
        """The NodeInfo of the user's virtual ``/home/Shares`` (its etag changes with
        the mounts in it)."""
        mounts = self.shares.mounts(user)
        return self._virtual_folder(
            user, loc, "shares", SHARES_PATH,
            mtime_ns=max([share.mtime_ns for _n, share, _l in mounts], default=0),
            contents=[(n, s.id, s.mtime_ns) for n, s, _l in mounts],
        )

    def _projects_folder(self, user: User, loc: Loc) -> NodeInfo:
        """The NodeInfo of the user's virtual ``/home/Projects`` (its etag changes with
        the spaces in it: joined, left, renamed, their role)."""
        spaces = self.spaces.of_user(user)
        return self._virtual_folder(
            user, loc, "projects", PROJECTS_PATH,
            mtime_ns=max([space.ctime_ns for space, _role in spaces], default=0),
            contents=[(s.id, s.name, role) for s, role in spaces],
        )

    def _virtual_folder(self, user: User, loc: Loc, kind: str, path: str, *, mtime_ns: int, contents: list) -> NodeInfo:
        """A folder that exists only in the user's view (``/home/Shares``, ``/home/Projects``);
        its etag is derived from what it lists."""
        tag = hashlib.md5(repr(contents).encode()).hexdigest()
        return NodeInfo(
            id=f"{user.opaque_id}:{kind}",
            owner=user.opaque_id,
            parent_id=user.opaque_id,
            path=path,
            name=path.rsplit("/", 1)[-1],
            is_dir=True,
            size=0,
            mtime_ns=mtime_ns,
            etag=f'"{tag}"',
            mime_type="httpd/unix-directory",
            md5=None,
            permissions=self.permissions(user, loc),
        )

    def _require(self, loc: Loc) -> os.stat_result:
        st = self._lstat(loc)
        if st is None:
            raise NotFound(f"no such file or folder: {loc.path}")
        return st

    # ---------------------------------------------------------------------------------
    # read operations (never need to write: see Nodes.row)
    # ---------------------------------------------------------------------------------
    def stat(self, user: User, loc: Loc, md_keys=()) -> NodeInfo:
        self.authorize(user, loc, "stat")
        if loc.rel == SHARES_REL:
            return self._shares_folder(user, loc)
        if loc.rel == PROJECTS_REL:
            return self._projects_folder(user, loc)
        st = self._require(loc)
        return self.nodes.info(user, loc, st, self.nodes.row(loc, st), self.nodes.parent_id(loc), md_keys)

    def stat_many(self, user: User, locs: list[Loc]) -> list[NodeInfo | None]:
        """:meth:`stat` of each place (None where it fails), for listings of many places
        (shares): the grants are read once (:meth:`.shares.Shares.prepared`), each
        folder's real path and node row are looked up once."""
        real: dict[str, bool] = {}
        parents: dict[tuple[str, str], str | None] = {}
        infos: list[NodeInfo | None] = []
        with self.shares.prepared(user):
            for loc in locs:
                try:
                    infos.append(self._stat_in_many(user, loc, real, parents))
                except StorageError:
                    infos.append(None)
        return infos

    def _stat_in_many(
        self, user: User, loc: Loc, real: dict[str, bool], parents: dict[tuple[str, str], str | None]
    ) -> NodeInfo:
        if loc.rel in (SHARES_REL, PROJECTS_REL):  # (below them: not found, as authorize says)
            return self.stat(user, loc)
        self.authorize(user, loc, "stat")
        home = self.home_dir(loc.owner)
        path = os.path.join(home, loc.rel) if loc.rel else home
        # abs_path's check (no symbolic link on the way), a folder at a time: the last
        # component is no link either, as _lstat below accepts folders and files only
        folder = os.path.dirname(path)
        if folder not in real:
            real[folder] = os.path.realpath(folder) == folder
        if not real[folder] or os.path.basename(path) in ("", ".", ".."):
            raise NotFound(f"no such file or folder: {loc.path}")
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is None or not (statmod.S_ISDIR(st.st_mode) or statmod.S_ISREG(st.st_mode)):
            raise NotFound(f"no such file or folder: {loc.path}")
        if loc.rel:
            key = (loc.owner, loc.parent.rel)
            if key not in parents:
                parents[key] = self.nodes.row(loc.parent)[0]
            parent_id = parents[key]
        else:
            parent_id = None
        return self.nodes.info(user, loc, st, self.nodes.row(loc, st), parent_id, (), abs_path=path)

    def list_names(self, user: User, loc: Loc, after: str | None = None) -> tuple[str, list[str]]:
        """The names in a folder, sorted, after ``after``; returns (folder id, names).
        Read the entries themselves with :meth:`list_batch`, a batch per call."""
        self.authorize(user, loc, "list_container")
        if loc.rel == SHARES_REL:
            names = [name for name, _share, _loc in self.shares.mounts(user) if after is None or name > after]
            return self._shares_folder(user, loc).id, names
        if loc.rel == PROJECTS_REL:
            names = [space.name for space, _role in self.spaces.of_user(user) if after is None or space.name > after]
            return f"{user.opaque_id}:projects", names
        st = self._require(loc)
        if not statmod.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"not a folder: {loc.path}")
        parent_id = self.nodes.row(loc, st)[0]
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
        return parent_id, names

    def list_batch(self, user: User, loc: Loc, parent_id: str, names: list[str], md_keys=()) -> list[NodeInfo]:
        """The entries ``names`` of the folder ``loc`` (those still there)."""
        self.authorize(user, loc, "list_container")
        if loc.rel == SHARES_REL:
            mounts = {name: mounted for name, _share, mounted in self.shares.mounts(user)}
            infos = []
            for name in names:
                if name in mounts:
                    with contextlib.suppress(NotFound):
                        infos.append(self.stat(user, mounts[name], md_keys))
            return infos
        if loc.rel == PROJECTS_REL:  # each space's root, seen at /home/Projects/<name>
            roots = {space.name: Loc(space.id, "") for space, _role in self.spaces.of_user(user)}
            infos = []
            for name in names:
                if name in roots:
                    with contextlib.suppress(NotFound):
                        infos.append(self.stat(user, roots[name], md_keys))
            return infos
        folder = self.abs_path(loc)
        infos = []
        unrecorded = []
        for name in names:
            child = loc.child(name)
            path = os.path.join(folder, name)
            try:
                cst = os.lstat(path)
            except OSError:
                continue
            if not (statmod.S_ISDIR(cst.st_mode) or statmod.S_ISREG(cst.st_mode)):
                continue
            row = self.nodes.find(child)
            if row is None:
                row = (self.nodes.new_id(child, cst), 0, None, None, None)
                unrecorded.append((row[0], child))
            infos.append(self.nodes.info(user, child, cst, row, parent_id, md_keys, abs_path=path))
        if unrecorded:

            def record() -> None:
                self.db.executemany(
                    "INSERT OR IGNORE INTO nodes(id, owner, path) VALUES (?, ?, ?)",
                    [(node_id, child.owner, child.rel) for node_id, child in unrecorded],
                )

            self._try_write(record)
        return infos

    def record_checksums(self, sums: list[tuple[NodeInfo, str]]) -> None:
        """Remember lazily computed checksums of files that did not change meanwhile (if
        the disk allows: the answer has them either way)."""
        rows = []
        for info, md5 in sums:
            try:
                st = os.lstat(info.abs_path)
            except OSError:
                continue
            if st.st_size == info.size and st.st_mtime_ns == info.mtime_ns:
                info.md5 = md5
                rows.append((st.st_size, st.st_mtime_ns, md5, info.id))
        if rows:
            self._try_write(
                lambda: self.db.executemany("UPDATE nodes SET cks_size=?, cks_mtime_ns=?, md5=? WHERE id=?", rows)
            )

    async def fill_checksums(self, infos: list[NodeInfo]) -> None:
        """Compute (in a worker thread) the MD5 of files that appeared by other means."""
        missing = [info for info in infos if not info.is_dir and info.md5 is None]
        if not missing:
            return
        sums = await blocking(lambda: [hash_file(info.abs_path) for info in missing])
        await self.run(self.record_checksums, [(i, md5) for i, md5 in zip(missing, sums) if md5 is not None])

    # ---------------------------------------------------------------------------------
    # write operations: whole or not at all (store.journal)
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

    def check_upload(self, user: User, loc: Loc) -> Loc:
        """May ``user`` write the file ``loc``? An existing file needs the upload
        permission on itself (a share of one file grants it there, not on its owner's
        folder) and, to be replaced, the download permission too (an uploader adds
        files, never replaces them); a new file needs it on its folder. Returns the
        folder."""
        if not loc.rel:
            raise AlreadyExists(f"{HOME} already exists")
        try:
            st = self._lstat(loc)
        except (NotFound, ValueError):  # behind a link, or a virtual folder (/home/Projects)
            st = None
        if st is not None and not statmod.S_ISDIR(st.st_mode):
            granted = self.authorize(user, loc, "initiate_file_upload")
            if "initiate_file_download" not in granted:
                raise PermissionDenied(f"you may add files here but not replace {loc.name}")
            return loc.parent
        return self._check_parent(user, loc, "initiate_file_upload")

    def create_container(self, user: User, loc: Loc) -> None:
        parent = self._check_parent(user, loc, "create_container")
        path = self.abs_path(loc)
        if os.path.lexists(path):
            raise AlreadyExists(f"already exists: {loc.path}")

        def make() -> None:
            try:
                os.mkdir(path)
            except FileExistsError:
                raise AlreadyExists(f"already exists: {loc.path}") from None

        def record() -> None:
            self.nodes.fresh(loc)
            self.nodes.bump(parent)

        undo = [self.journal.remove(path), *self.journal.mtimes(os.path.dirname(path))]
        self.journal.run(undo, make, record)

    def touch_file(self, user: User, loc: Loc, lock_id: str = "") -> None:
        parent = self._check_parent(user, loc, "initiate_file_upload")
        path = self.abs_path(loc)
        if os.path.lexists(path):
            self.locks.check_write(user, loc, lock_id)  # a locked file: LOCKED before ALREADY_EXISTS
            raise AlreadyExists(f"already exists: {loc.path}")

        def make() -> None:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raise AlreadyExists(f"already exists: {loc.path}") from None
            os.close(fd)

        def record() -> None:
            st = os.lstat(path)
            node_id = self.nodes.fresh(loc)
            self.db.execute(
                "UPDATE nodes SET cks_size=?, cks_mtime_ns=?, md5=? WHERE id=?",
                (st.st_size, st.st_mtime_ns, EMPTY_MD5, node_id),
            )
            self.usage.add(loc.owner, st.st_size)
            self.nodes.bump(parent)

        undo = [self.journal.remove(path), *self.journal.mtimes(os.path.dirname(path))]
        self.journal.run(undo, make, record)

    def delete(self, user: User, loc: Loc, lock_id: str = "") -> str:
        """Move a file or folder to the owner's recycle bin (with its lock: a folder
        holding a locked file is refused, as that file is); returns the recycle key."""
        if not loc.rel:
            raise PermissionDenied("the home folder cannot be deleted")
        self.authorize(user, loc, "delete")
        st = self._require(loc)
        is_dir = statmod.S_ISDIR(st.st_mode)
        (self.locks.check_tree if is_dir else self.locks.check_write)(user, loc, lock_id)
        node_id = self.nodes.row(loc, st, strict=True)[0]
        size = tree_size(self.abs_path(loc)) if is_dir else st.st_size
        return self.recycle.take(loc, node_id, is_dir, size)

    def move(self, user: User, src: Loc, dst: Loc, lock_id: str = "") -> None:
        """Rename ``src`` to the free place ``dst``; a locked file keeps its lock (its
        node id stays)."""
        if not src.rel:
            raise PermissionDenied("the home folder cannot be moved")
        if not dst.rel:
            raise AlreadyExists(f"{HOME} already exists")
        self.authorize(user, src, "move")
        st = self._require(src)
        is_dir = statmod.S_ISDIR(st.st_mode)
        if not is_dir:
            self.locks.check_write(user, src, lock_id)
        if src.owner != dst.owner:  # (if allowed one day: move the usage in the same transaction)
            # as Reva across spaces: a share and one's home (or two owners' shares) are
            # different storages; copy instead
            raise PermissionDenied(
                "cannot move between different owners' storage (a share and your home): copy it instead"
            )
        if dst.rel == src.rel:
            raise AlreadyExists(f"already exists: {dst.path}")
        if dst.rel.startswith(src.rel + "/"):
            raise InvalidArgument(f"cannot move a folder into itself: {src.path} -> {dst.path}")
        dparent = self._check_parent(user, dst, "create_container" if is_dir else "initiate_file_upload")
        src_abs, dst_abs = self.abs_path(src), self.abs_path(dst)
        if self._lstat(dst) is not None or os.path.lexists(dst_abs):
            self.locks.check_write(user, dst, lock_id)  # a locked file there: LOCKED first
            raise AlreadyExists(f"already exists: {dst.path}")
        self.nodes.row(src, st, strict=True)  # the moved node keeps a recorded id

        def rename() -> None:
            if os.path.lexists(dst_abs):
                raise AlreadyExists(f"already exists: {dst.path}")
            os.rename(src_abs, dst_abs)

        def record() -> None:
            self.nodes.drop_stale(dst)
            self.db.execute(
                f"UPDATE nodes SET path = ? || substr(path, ?) WHERE owner=? AND trash_key IS NULL AND {is_descendant_sql()}",
                (dst.rel, len(src.rel) + 1, src.owner, *desc_params(src.rel)),
            )
            self.nodes.bump(src.parent)
            self.nodes.bump(dparent)

        undo = [
            self.journal.move_back(dst_abs, src_abs),
            *self.journal.mtimes(os.path.dirname(src_abs), os.path.dirname(dst_abs)),
        ]
        self.journal.run(undo, rename, record)

    # ---------------------------------------------------------------------------------
    # arbitrary metadata
    # ---------------------------------------------------------------------------------
    def set_metadata(self, user: User, loc: Loc, items: dict[str, str], lock_id: str = "") -> None:
        self.authorize(user, loc, "initiate_file_upload")
        st = self._require(loc)
        self.locks.check_write(user, loc, lock_id)
        for key in items:
            if not key or "\x00" in key or len(key.encode()) > 1024:
                raise InvalidArgument("metadata keys must be non-empty strings of at most 1024 bytes")
            if key == "*":
                raise InvalidArgument("'*' is not a valid metadata key")
        with self._tx():
            node_id = self.nodes.row(loc, st, strict=True)[0]
            for key, value in items.items():
                self.db.execute(
                    "INSERT OR REPLACE INTO metadata(node_id, key, value) VALUES (?,?,?)", (node_id, key, value)
                )

    def unset_metadata(self, user: User, loc: Loc, keys, lock_id: str = "") -> None:
        self.authorize(user, loc, "initiate_file_upload")
        st = self._require(loc)
        self.locks.check_write(user, loc, lock_id)
        with self._tx():
            node_id = self.nodes.row(loc, st, strict=True)[0]
            for key in keys:
                self.db.execute("DELETE FROM metadata WHERE node_id=? AND key=?", (node_id, key))

    # ---------------------------------------------------------------------------------
    # the quota (store.usage; ``self.quota`` is the limit per home, None: the disk's)
    # ---------------------------------------------------------------------------------
    def used_bytes(self, owner: str) -> int:
        return self.usage.used_bytes(owner)

    def quota_of(self, user: User, loc: Loc) -> tuple[int, int, int]:
        return self.usage.quota_of(user, loc)

    def check_quota(
        self,
        owner: str,
        new_bytes: int,
        replaced_bytes: int = 0,
        *,
        disk: bool = True,
        written: int = 0,
        exclude: str | None = None,
    ) -> None:
        self.usage.check_quota(owner, new_bytes, replaced_bytes, disk=disk, written=written, exclude=exclude)

    # ---------------------------------------------------------------------------------
    # deleting for good
    # ---------------------------------------------------------------------------------
    def discard(self, path: str) -> None:
        """Move ``path`` (in the storage's own area) to the purge area (once the current
        transaction committed: a rolled-back purge keeps its data)."""

        def move() -> None:
            with contextlib.suppress(FileNotFoundError):
                os.rename(path, self.purge_dir / uuid.uuid4().hex)

        self.after_commit(move)

    def purge_pending(self) -> list[str]:
        """Paths waiting to be deleted for good (delete them with :func:`.files.remove_tree`)."""
        return [str(p) for p in self.purge_dir.iterdir()]
