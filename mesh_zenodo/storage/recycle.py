"""The recycle bin: deleted files and folders wait in ``ROOT/.mesh-zenodo/trash/<owner>/<key>``
(with their node ids, versions and metadata) until they are restored or purged."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import AlreadyExists, NotFound, PermissionDenied
from .paths import HOME, Loc, desc_params, is_descendant_sql

if TYPE_CHECKING:
    from .auth import User
    from .store import Store


@dataclass(frozen=True)
class RecycleItem:
    key: str
    path: str
    is_dir: bool
    size: int
    deletion_ns: int


class RecycleBin:
    """The recycle bins of the homes of one store (``store.recycle``)."""

    def __init__(self, store: Store):
        self.store = store

    def _authorize(self, user: User, loc: Loc, permission: str) -> None:
        """A bin is its whole home's: who reaches ``loc`` only through a share may see
        ``loc`` but not the owner's bin (PERMISSION_DENIED; as on Reva edge, where the
        trash belongs to the space)."""
        self.store.authorize(user, loc, "stat")
        try:
            self.store.authorize(user, Loc(loc.owner, ""), permission)
        except NotFound:
            raise PermissionDenied("the recycle bin belongs to the owner of this storage") from None

    def item_path(self, owner: str, key: str) -> str:
        return str(self.store.trash_dir / owner / key)

    def take(self, loc: Loc, node_id: str, is_dir: bool, size: int) -> str:
        """Move ``loc`` (checked by the caller) into the bin, whole or not at all;
        returns its key. ``size`` is what it counted in the home's usage."""
        store = self.store
        key = uuid.uuid4().hex
        src, dst = store.abs_path(loc), self.item_path(loc.owner, key)

        def rename() -> None:
            (store.trash_dir / loc.owner).mkdir(exist_ok=True)
            os.rename(src, dst)

        def record() -> None:
            store.db.execute(
                f"UPDATE nodes SET trash_key=? WHERE owner=? AND trash_key IS NULL AND {is_descendant_sql()}",
                (key, loc.owner, *desc_params(loc.rel)),
            )
            store.locks.forget_trashed(key)  # a deleted file loses its lock
            store.db.execute(
                "INSERT INTO trash(key, owner, node_id, orig_rel, is_dir, size, deleted_ns) VALUES (?,?,?,?,?,?,?)",
                (key, loc.owner, node_id, loc.rel, int(is_dir), size, time.time_ns()),
            )
            store.usage.add(loc.owner, -size)
            store.nodes.bump(loc.parent)

        journal = store.journal
        journal.run([journal.move_back(dst, src), *journal.mtimes(os.path.dirname(src))], rename, record)
        return key

    def list(self, user: User, loc: Loc, key: str = "") -> list[RecycleItem]:
        self._authorize(user, loc, "list_recycle")
        db = self.store.db
        if key:
            rows = db.execute(
                "SELECT key, orig_rel, is_dir, size, deleted_ns FROM trash WHERE owner=? AND key=?", (loc.owner, key)
            ).fetchall()
            if not rows:
                raise NotFound(f"no recycle bin item {key!r}")
        else:
            rows = db.execute(
                "SELECT key, orig_rel, is_dir, size, deleted_ns FROM trash WHERE owner=? ORDER BY deleted_ns DESC",
                (loc.owner,),
            ).fetchall()
        return [RecycleItem(k, Loc(loc.owner, rel).path, bool(d), s, t) for k, rel, d, s, t in rows]

    def restore(self, user: User, loc: Loc, key: str, target: Loc | None) -> Loc:
        """Put item ``key`` back at ``target`` (default: where it was); returns where."""
        store = self.store
        self._authorize(user, loc, "restore_recycle_item")
        row = store.db.execute("SELECT orig_rel, size FROM trash WHERE owner=? AND key=?", (loc.owner, key)).fetchone()
        if row is None:
            raise NotFound(f"no recycle bin item {key!r}")
        orig_rel, size = row
        dst = target if target is not None else Loc(loc.owner, orig_rel)
        if dst.owner != loc.owner:
            raise PermissionDenied("cannot restore into another user's storage")
        if not dst.rel:
            raise AlreadyExists(f"{HOME} already exists")
        store.authorize(user, dst.parent, "create_container")
        if store._lstat(dst) is not None or os.path.lexists(store.abs_path(dst)):
            raise AlreadyExists(f"already exists: {dst.path}")
        # Recreate missing parents (removed again if the restore does not happen).
        parent_abs = store.abs_path(dst.parent)
        if os.path.lexists(parent_abs) and not os.path.isdir(parent_abs):
            raise AlreadyExists(f"a file is in the way: {dst.parent.path}")
        missing = []
        probe = parent_abs
        while not os.path.lexists(probe):
            missing.append(probe)
            probe = os.path.dirname(probe)
        src = self.item_path(loc.owner, key)
        if not os.path.lexists(src):
            with store._tx():
                store.db.execute("DELETE FROM trash WHERE key=?", (key,))
            raise NotFound(f"recycle bin item {key!r} vanished from disk")
        dst_abs = store.abs_path(dst)

        def rename() -> None:
            os.makedirs(parent_abs, exist_ok=True)
            if os.path.lexists(dst_abs):
                raise AlreadyExists(f"already exists: {dst.path}")
            os.rename(src, dst_abs)

        def record() -> None:
            store.nodes.drop_stale(dst)
            store.db.execute(
                "UPDATE nodes SET trash_key=NULL, path = ? || substr(path, ?) WHERE trash_key=?",
                (dst.rel, len(orig_rel) + 1, key),
            )
            store.db.execute("DELETE FROM trash WHERE key=?", (key,))
            store.usage.add(dst.owner, size)
            store.nodes.bump(dst.parent)

        journal = store.journal
        undo = [
            journal.move_back(dst_abs, src),
            *(journal.remove(d) for d in missing),
            *journal.mtimes(os.path.dirname(missing[-1]) if missing else parent_abs),
        ]
        try:
            journal.run(undo, rename, record)
        except AlreadyExists:
            for d in missing:  # made by this attempt: not wanted any more
                journal.apply([journal.remove(d)])
            raise
        return dst

    def purge(self, user: User, loc: Loc, key: str = "") -> None:
        """Delete item ``key`` (default: every item) for good: its data goes to the purge
        area (see :meth:`Store.purge_pending`) once the rows are gone; the bin does not
        count in the quota. (A crash in between leaves data no row knows: purged at the
        next start, see :meth:`.journal.Journal.reconcile`.)"""
        store = self.store
        self._authorize(user, loc, "purge_recycle")
        if key:
            keys = [r[0] for r in store.db.execute("SELECT key FROM trash WHERE owner=? AND key=?", (loc.owner, key))]
            if not keys:
                raise NotFound(f"no recycle bin item {key!r}")
        else:
            keys = [r[0] for r in store.db.execute("SELECT key FROM trash WHERE owner=?", (loc.owner,))]
        with store._tx():
            for k in keys:
                ids = [r[0] for r in store.db.execute("SELECT id FROM nodes WHERE trash_key=?", (k,))]
                store.nodes.forget(ids)
                store.db.execute("DELETE FROM trash WHERE key=?", (k,))
                store.discard(self.item_path(loc.owner, k))
