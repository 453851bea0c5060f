"""CS3 locks on files (``store.locks``): SetLock, GetLock, RefreshLock, Unlock, and the
check every mutation of a file makes (:meth:`Locks.check_write`). docs/locks.md has
the whole table of cases, and which of them come from Reva and which are our choice.

* A lock is a row of the ``locks`` table (schema V7), keyed by the file's node id: it
  follows the file when it is moved or overwritten (the node id stays) and goes with it
  when it is deleted (:meth:`Locks.forget_trashed`) or forgotten (``Nodes.forget``).
* Only files are locked (a folder: INVALID_ARGUMENT at SetLock; GetLock: NOT_FOUND).
* An expired lock is gone: it is dropped when it is read (if the disk allows; it is
  ignored either way).
* Taking, refreshing and releasing a lock need the upload permission on the file; every
  change runs in one transaction on the store's thread, so of two SetLocks at once
  exactly one wins.
* SHARED locks are advisory (they block no write, and anyone who may write the file may
  refresh or release them). WRITE and EXCL locks block writes by anyone but their
  holder with the lock's id; both let everyone read (as Reva's drivers do).
"""

from __future__ import annotations

import stat as statmod
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import Aborted, FailedPrecondition, InvalidArgument, Locked, NotFound, PermissionDenied
from .paths import Loc, desc_params, is_descendant_sql

if TYPE_CHECKING:
    import os

    from .auth import User
    from .store import Store

# cs3.storage.provider.v1beta1.LockType
SHARED, WRITE, EXCL = 1, 2, 3
LOCK_TYPES = {SHARED: "shared", WRITE: "write", EXCL: "exclusive"}
#: the latest time a lock may expire (nanoseconds in a signed 64-bit SQLite integer)
MAX_TIME_NS = 2**63 - 1

_COLUMNS = "node_id, lock_id, type, user_id, idp, app_name, expiration_ns, creation_ns"


@dataclass(frozen=True)
class Lock:
    """A lock on a file, as stored."""

    node_id: str
    lock_id: str
    type: int
    user_id: str  # the holder's opaque id
    idp: str
    app_name: str
    expiration_ns: int  # 0: no expiry
    creation_ns: int

    def expired(self, now_ns: int | None = None) -> bool:
        return bool(self.expiration_ns) and self.expiration_ns <= (time.time_ns() if now_ns is None else now_ns)

    @property
    def blocks_writes(self) -> bool:
        return self.type != SHARED


@dataclass(frozen=True)
class LockSpec:
    """A lock as a request gives it (SetLock, RefreshLock, Unlock)."""

    lock_id: str
    type: int = WRITE
    user_id: str = ""  # empty: the caller
    app_name: str = ""
    expiration_ns: int = 0  # 0: no expiry


def _when(ns: int) -> str:
    """A UTC time for a message: the time of day if within a day, else the date too."""
    seconds = ns / 1e9
    fmt = "%H:%M:%SZ" if abs(seconds - time.time()) < 86400 else "%Y-%m-%dT%H:%M:%SZ"
    return time.strftime(fmt, time.gmtime(seconds))


class Locks:
    """The locks of the files of one store (``store.locks``)."""

    def __init__(self, store: Store):
        self.store = store

    # ---------------------------------------------------------------------------------
    # reading
    # ---------------------------------------------------------------------------------
    def get(self, node_id: str) -> Lock | None:
        """The unexpired lock of a node, or None (an expired one is dropped on the way)."""
        row = self.store.db.execute(f"SELECT {_COLUMNS} FROM locks WHERE node_id=?", (node_id,)).fetchone()
        if row is None:
            return None
        lock = Lock(*row)
        if lock.expired():
            self.store._try_write(
                lambda: self.store.db.execute(
                    "DELETE FROM locks WHERE node_id=? AND lock_id=? AND expiration_ns=?",
                    (node_id, lock.lock_id, lock.expiration_ns),
                )
            )
            return None
        return lock

    def at(self, loc: Loc) -> Lock | None:
        """The unexpired lock of the file at ``loc`` (None for a folder, or nothing there)."""
        row = self.store.nodes.find(loc)
        return self.get(row[0]) if row is not None else None

    def holder(self, lock: Lock) -> str:
        """Who holds ``lock``, for messages: "marie (app mesh-zenodo) until 12:00:05Z"."""
        found = self.store.users.by_id(lock.user_id)
        text = found.username if found is not None else lock.user_id
        if lock.app_name:
            text += f" (app {lock.app_name})"
        text += f" until {_when(lock.expiration_ns)}" if lock.expiration_ns else ", no expiry"
        return text

    def describe(self, user: User, loc: Loc, lock: Lock) -> str:
        kind = "" if lock.type == WRITE else f" ({LOCK_TYPES.get(lock.type, 'unknown')} lock)"
        return f"{self.store.access.display(user, loc)} is locked by {self.holder(lock)}{kind}"

    def get_for(self, user: User, loc: Loc) -> Lock:
        """GetLock: the lock of a file anyone who may stat it may see (NOT_FOUND if none)."""
        self.store.authorize(user, loc, "stat")
        self.store._require(loc)
        lock = self.at(loc)
        if lock is None:
            raise NotFound(f"{self.store.access.display(user, loc)} is not locked")
        return lock

    # ---------------------------------------------------------------------------------
    # SetLock, RefreshLock, Unlock
    # ---------------------------------------------------------------------------------
    def _file(self, user: User, loc: Loc, action: str) -> os.stat_result:
        """Check that ``user`` may lock ``loc`` (the upload permission) and that it is a
        file; returns its status."""
        self.store.authorize(user, loc, "initiate_file_upload")
        st = self.store._require(loc)
        if statmod.S_ISDIR(st.st_mode):
            shown = self.store.access.display(user, loc)
            raise InvalidArgument(f"only files can be locked ({action}): {shown} is a folder")
        return st

    @staticmethod
    def _validate(spec: LockSpec) -> None:
        if not spec.lock_id:
            raise InvalidArgument("the lock needs a lock_id")
        if len(spec.lock_id.encode("utf-8")) > 1024 or "\x00" in spec.lock_id:
            raise InvalidArgument("the lock_id must be at most 1024 bytes, without NUL")
        if spec.type not in LOCK_TYPES:
            raise InvalidArgument("the lock type must be SHARED, WRITE or EXCL")
        if len(spec.app_name.encode("utf-8")) > 1024:
            raise InvalidArgument("the lock's app_name must be at most 1024 bytes")
        if spec.expiration_ns and not time.time_ns() < spec.expiration_ns <= MAX_TIME_NS:
            raise InvalidArgument("the lock's expiration must be in the future (or unset: no expiry)")

    def set(self, user: User, loc: Loc, spec: LockSpec) -> Lock:
        """SetLock: FAILED_PRECONDITION if the file holds an unexpired lock (anyone's,
        the caller's too: refresh it instead)."""
        store = self.store
        st = self._file(user, loc, "SetLock")
        self._validate(spec)
        if spec.user_id and spec.user_id != user.opaque_id:
            raise PermissionDenied("a lock is taken in the caller's own name (lock.user must be you)")
        with store._tx():  # one transaction: of two SetLocks at once, exactly one wins
            node_id = store.nodes.row(loc, st, strict=True)[0]
            current = self.get(node_id)
            if current is not None:
                raise FailedPrecondition(f"{self.describe(user, loc, current)}: it is already locked")
            lock = Lock(
                node_id, spec.lock_id, spec.type, user.opaque_id, user.idp, spec.app_name, spec.expiration_ns,
                time.time_ns(),
            )
            self._write(lock)
        return lock

    def _current(self, user: User, loc: Loc, action: str) -> Lock:
        """The lock that RefreshLock or Unlock acts on (FAILED_PRECONDITION if none)."""
        self.store.authorize(user, loc, "initiate_file_upload")
        self.store._require(loc)
        current = self.at(loc)
        if current is None:
            raise FailedPrecondition(f"{self.store.access.display(user, loc)} is not locked: nothing to {action}")
        return current

    def _check_holder(self, user: User, loc: Loc, current: Lock, spec: LockSpec, action: str) -> None:
        """Only the holder refreshes or releases a WRITE or EXCL lock (anyone who may
        write the file a SHARED one): the same app if either lock names one, else the
        same user (Reva master's sameHolder), and the lock's user is the caller (edge)."""
        if current.type == SHARED:
            return
        if current.app_name or spec.app_name:
            same = current.app_name == spec.app_name
        else:
            same = (spec.user_id or user.opaque_id) == current.user_id
        if not same or current.user_id != user.opaque_id or (spec.user_id and spec.user_id != current.user_id):
            raise PermissionDenied(f"{self.describe(user, loc, current)}: only its holder may {action} it")

    def refresh(self, user: User, loc: Loc, spec: LockSpec, existing_lock_id: str = "") -> Lock:
        """RefreshLock: replace the lock (new id if ``existing_lock_id`` names the old
        one, type, expiration); its holder and creation time stay."""
        self._validate(spec)
        with self.store._tx():
            current = self._current(user, loc, "refresh")
            expected = existing_lock_id or spec.lock_id
            if current.lock_id != expected:
                raise Aborted(f"wrong lock id: {self.describe(user, loc, current)}")
            self._check_holder(user, loc, current, spec, "refresh")
            lock = Lock(
                current.node_id, spec.lock_id, spec.type, current.user_id, current.idp, spec.app_name,
                spec.expiration_ns, current.creation_ns,
            )
            self._write(lock)
        return lock

    def unlock(self, user: User, loc: Loc, spec: LockSpec) -> None:
        """Unlock: the lock's id and holder must match."""
        with self.store._tx():
            current = self._current(user, loc, "unlock")
            if current.lock_id != spec.lock_id:
                raise Aborted(f"wrong lock id: {self.describe(user, loc, current)}")
            self._check_holder(user, loc, current, spec, "unlock")
            self.store.db.execute("DELETE FROM locks WHERE node_id=?", (current.node_id,))

    def _write(self, lock: Lock) -> None:
        self.store.db.execute(
            f"INSERT OR REPLACE INTO locks({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            (lock.node_id, lock.lock_id, lock.type, lock.user_id, lock.idp, lock.app_name, lock.expiration_ns,
             lock.creation_ns),
        )

    # ---------------------------------------------------------------------------------
    # the check of every mutation
    # ---------------------------------------------------------------------------------
    def check_write(self, user: User, loc: Loc, lock_id: str | None) -> None:
        """May ``user`` change the file at ``loc``, giving ``lock_id``? Unlocked, or a
        SHARED lock: yes (a lock id given for an unlocked file is ignored). A WRITE or
        EXCL lock: LOCKED without a lock id, ABORTED with another one, LOCKED with the
        right one from anyone but its holder."""
        lock = self.at(loc)
        if lock is not None:
            self._check(user, loc, lock, lock_id or "")

    def check_tree(self, user: User, loc: Loc, lock_id: str | None) -> None:
        """:meth:`check_write` for a folder and everything in it (deleting a folder that
        holds a locked file is refused, as deleting that file would be)."""
        store = self.store
        rows = store.db.execute(
            f"SELECT n.path, {', '.join('l.' + c.strip() for c in _COLUMNS.split(','))} FROM locks l"
            f" JOIN nodes n ON n.id = l.node_id WHERE n.owner=? AND n.trash_key IS NULL"
            f" AND {is_descendant_sql('n.path')} AND l.type != ? ORDER BY n.path",
            (loc.owner, *desc_params(loc.rel), SHARED),
        ).fetchall()
        for rel, *fields in rows:
            lock = Lock(*fields)
            if not lock.expired():
                inner = Loc(loc.owner, rel, loc.view)
                self._check(user, inner, lock, lock_id or "", f" (in {self.store.access.display(user, loc)})")

    def _check(self, user: User, loc: Loc, lock: Lock, lock_id: str, where: str = "") -> None:
        if not lock.blocks_writes:
            return
        what = self.describe(user, loc, lock) + where
        if not lock_id:
            raise Locked(f"{what}: give its lock id to change it")
        if lock_id != lock.lock_id:
            raise Aborted(f"wrong lock id: {what}")
        if lock.user_id != user.opaque_id:
            raise Locked(f"{what}: only its holder may change it")

    # ---------------------------------------------------------------------------------
    # housekeeping
    # ---------------------------------------------------------------------------------
    def forget_trashed(self, trash_key: str) -> None:
        """The nodes of a recycle bin item lose their locks (inside the deletion's
        transaction): a restored file comes back unlocked."""
        self.store.db.execute(
            "DELETE FROM locks WHERE node_id IN (SELECT id FROM nodes WHERE trash_key=?)", (trash_key,)
        )

    def forget(self, node_id: str) -> None:
        self.store.db.execute("DELETE FROM locks WHERE node_id=?", (node_id,))
