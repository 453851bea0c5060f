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

    def item_path(self, owner: str, key: str) -> str:
        return str(self.store.trash_dir / owner / key)

    def take(self, loc: Loc, node_id: str, is_dir: bool, size: int) -> str:
        """Move ``loc`` (checked by the caller) into the bin; returns its key. ``size``
        is what it counted in the home's usage."""
        store = self.store
        key = uuid.uuid4().hex
        (store.trash_dir / loc.owner).mkdir(exist_ok=True)
        os.rename(store.abs_path(loc), self.item_path(loc.owner, key))
        with store._tx():
            store.db.execute(
                f"UPDATE nodes SET trash_key=? WHERE owner=? AND trash_key IS NULL AND {is_descendant_sql()}",
                (key, loc.owner, *desc_params(loc.rel)),
            )
            store.db.execute(
                "INSERT INTO trash(key, owner, node_id, orig_rel, is_dir, size, deleted_ns) VALUES (?,?,?,?,?,?,?)",
                (key, loc.owner, node_id, loc.rel, int(is_dir), size, time.time_ns()),
            )
            store._add_usage(loc.owner, -size)
            store._bump(loc.parent)
        return key

    def list(self, user: User, loc: Loc, key: str = "") -> list[RecycleItem]:
        self.store.authorize(user, Loc(loc.owner, ""), "list_recycle")
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
        store.authorize(user, Loc(loc.owner, ""), "restore_recycle_item")
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
        # Recreate missing parents.
        parent_abs = store.abs_path(dst.parent)
        if os.path.lexists(parent_abs) and not os.path.isdir(parent_abs):
            raise AlreadyExists(f"a file is in the way: {dst.parent.path}")
        os.makedirs(parent_abs, exist_ok=True)
        src = self.item_path(loc.owner, key)
        if not os.path.lexists(src):
            with store._tx():
                store.db.execute("DELETE FROM trash WHERE key=?", (key,))
            raise NotFound(f"recycle bin item {key!r} vanished from disk")
        os.rename(src, store.abs_path(dst))
        with store._tx():
            store._drop_stale(dst)
            store.db.execute(
                "UPDATE nodes SET trash_key=NULL, path = ? || substr(path, ?) WHERE trash_key=?",
                (dst.rel, len(orig_rel) + 1, key),
            )
            store.db.execute("DELETE FROM trash WHERE key=?", (key,))
            store._add_usage(dst.owner, size)
            store._bump(dst.parent)
        return dst

    def purge(self, user: User, loc: Loc, key: str = "") -> None:
        """Delete item ``key`` (default: every item) for good: its data goes to the purge
        area (see :meth:`Store.purge_pending`); the bin does not count in the quota."""
        store = self.store
        store.authorize(user, Loc(loc.owner, ""), "purge_recycle")
        if key:
            keys = [r[0] for r in store.db.execute("SELECT key FROM trash WHERE owner=? AND key=?", (loc.owner, key))]
            if not keys:
                raise NotFound(f"no recycle bin item {key!r}")
        else:
            keys = [r[0] for r in store.db.execute("SELECT key FROM trash WHERE owner=?", (loc.owner,))]
        with store._tx():
            for k in keys:
                ids = [r[0] for r in store.db.execute("SELECT id FROM nodes WHERE trash_key=?", (k,))]
                store._forget_nodes(ids)
                store.db.execute("DELETE FROM trash WHERE key=?", (k,))
                store.discard(self.item_path(loc.owner, k))
