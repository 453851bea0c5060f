"""All-or-nothing mutations (``store.journal``).

A mutation changes the file system (a rename into the recycle bin or to a new path, an
upload put in place, a folder made) and the database (node paths, recycle-bin rows,
versions, the usage count). Either may fail half-way: the disk fills up before SQLite
commits, or the process dies between the two. :meth:`Journal.run` makes the pair whole:

1. the *undo* of the file-system step is written to the ``pending`` table and committed
   (on a full disk this already fails, and nothing has changed);
2. the file-system step;
3. the database step and the removal of that ``pending`` row, in one transaction.

If step 2 or 3 fails, the undo is applied at once and the error goes to the caller
(a full disk becomes ``INSUFFICIENT_STORAGE``); the old state is whole. If the process
dies between 2 and 3, :meth:`Journal.reconcile` finds the row at the next start and
applies the undo. Rows whose undo was applied but that could not be removed (the disk
was full) are settled by the next mutation, in the transaction of its own step 1,
before it changes anything.

An undo is a list of steps on paths relative to the storage root, each of them harmless
when it has nothing to do (so applying one twice is safe):

* ``["move", src, dst, replace]`` -- rename ``src`` back to ``dst`` if ``src`` exists;
  with ``replace`` over whatever is at ``dst``, else only if ``dst`` is free (something
  that appeared there meanwhile is kept, and ``src`` goes next to it, renamed);
* ``["remove", path]`` -- remove ``path`` if it is an empty folder or an empty file;
* ``["mtime", folder, ns]`` -- give ``folder`` back its modification time (a folder's
  etag includes it: an undone mutation leaves it as it was).

:meth:`Journal.reconcile` also removes, at start-up, what a crash can leave behind after
a commit: recycle-bin items and file versions that no row knows any more (their rows
were removed, their data not yet), so that no bytes leak.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat as statmod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import AlreadyExists

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger("mesh_zenodo.storage")

T = TypeVar("T")
Undo = list[list[Any]]

#: ``--fault`` values understood here (fault injection for the tests of crash recovery)
CRASH_AFTER_FS_STEP = "crash-after-fs-step"
FAULTS = (CRASH_AFTER_FS_STEP,)


class Journal:
    """Runs the mutations of one store whole or not at all."""

    def __init__(self, store: Store):
        self.store = store
        self._settled: set[int] = set()  # rows of this run already undone (not yet removed)

    # -- paths -------------------------------------------------------------------------
    def rel(self, path: str | os.PathLike[str]) -> str:
        """A path inside the storage root, relative to it (what an undo records)."""
        rel = os.path.relpath(os.fspath(path), self.store.root)
        if rel.startswith(".." + os.sep) or rel == ".." or os.path.isabs(rel):
            raise ValueError(f"not inside the storage root: {path}")
        return rel

    def move_back(self, src: str | os.PathLike[str], dst: str | os.PathLike[str], *, replace: bool = False) -> list:
        """The undo step "rename ``src`` back to ``dst``"."""
        return ["move", self.rel(src), self.rel(dst), bool(replace)]

    def remove(self, path: str | os.PathLike[str]) -> list:
        """The undo step "remove ``path`` if it is an empty folder or file"."""
        return ["remove", self.rel(path)]

    def mtimes(self, *folders: str | os.PathLike[str]) -> list[list]:
        """The undo steps "give these folders back their current modification time"
        (put them last: after the steps that change the folders)."""
        steps = []
        for folder in dict.fromkeys(os.fspath(f) for f in folders):
            with contextlib.suppress(FileNotFoundError):
                steps.append(["mtime", self.rel(folder), os.lstat(folder).st_mtime_ns])
        return steps

    # -- running a mutation ------------------------------------------------------------
    def run(self, undo: Undo, fs_step: Callable[[], None], db_step: Callable[[], T]) -> T:
        """``fs_step()`` then ``db_step()`` (inside one transaction), whole or not at
        all; returns what ``db_step`` returns. An ``fs_step`` that finds its target
        taken (``FileExistsError`` or :class:`~.errors.AlreadyExists`) has changed
        nothing: its undo is not applied."""
        store = self.store
        leftovers = self._leftovers()
        for row_id, old_undo in leftovers:
            if row_id not in self._settled:
                self.apply(old_undo)
        with store._tx():
            if leftovers:
                marks = ",".join("?" * len(leftovers))
                store.db.execute(f"DELETE FROM pending WHERE id IN ({marks})", [row_id for row_id, _ in leftovers])
            row_id = store.db.execute("INSERT INTO pending(undo) VALUES (?)", (json.dumps(undo),)).lastrowid
        self._settled.clear()
        try:
            fs_step()
        except BaseException as exc:
            if not isinstance(exc, (FileExistsError, AlreadyExists)):
                self.apply(undo)
            self._forget(row_id)
            raise
        if store.fault == CRASH_AFTER_FS_STEP:
            log.error("fault injection: the storage stops between a file-system step and its commit")
            os._exit(70)
        try:
            with store._tx():
                result = db_step()
                store.db.execute("DELETE FROM pending WHERE id=?", (row_id,))
        except BaseException as exc:
            log.info("a mutation could not commit (%s); its file-system step was undone", exc)
            self.apply(undo)
            self._forget(row_id)
            raise
        return result

    def _forget(self, row_id: int) -> None:
        """Remove the row of a mutation that was undone (or never happened)."""
        try:
            with self.store._tx():
                self.store.db.execute("DELETE FROM pending WHERE id=?", (row_id,))
        except Exception as exc:  # a full disk: the next mutation removes it
            self._settled.add(row_id)
            log.info("the journal keeps an undone mutation for now: %s", exc)

    def _leftovers(self) -> list[tuple[int, Undo]]:
        rows = self.store.db.execute("SELECT id, undo FROM pending ORDER BY id").fetchall()
        out = []
        for row_id, text in rows:
            try:
                out.append((row_id, json.loads(text)))
            except ValueError:
                log.error("the journal holds an unreadable entry %d; dropping it", row_id)
                out.append((row_id, []))
        return out

    # -- undoing -----------------------------------------------------------------------
    def apply(self, undo: Undo) -> bool:
        """Apply the steps of ``undo`` in order; False if one of them failed (logged)."""
        done = True
        for step in undo:
            try:
                self._step(step)
            except Exception as exc:  # keep going: later steps are independent
                log.error("could not undo %s: %s", step, exc)
                done = False
        return done

    def _step(self, step: list) -> None:
        root = self.store.root
        kind = step[0]
        if kind == "move":
            _kind, src_rel, dst_rel, replace = step
            src, dst = os.path.join(root, src_rel), os.path.join(root, dst_rel)
            if not os.path.lexists(src):
                return
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if not replace and os.path.lexists(dst):
                dst = _free_name(dst)
                log.warning("undo: %s was taken meanwhile; the item goes back as %s", dst_rel, self.rel(dst))
            os.rename(src, dst)
        elif kind == "remove":
            path = os.path.join(root, step[1])
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                return
            if statmod.S_ISDIR(st.st_mode):
                with contextlib.suppress(OSError):  # not empty: something was put in, keep it
                    os.rmdir(path)
            elif statmod.S_ISREG(st.st_mode) and st.st_size == 0:
                os.unlink(path)
        elif kind == "mtime":
            path = os.path.join(root, step[1])
            with contextlib.suppress(FileNotFoundError):
                st = os.lstat(path)
                if statmod.S_ISDIR(st.st_mode):
                    os.utime(path, ns=(st.st_atime_ns, step[2]), follow_symlinks=False)
        else:
            raise ValueError(f"unknown undo step {kind!r}")

    # -- start-up ----------------------------------------------------------------------
    def reconcile(self) -> None:
        """At start-up, before serving: undo the mutations a crash interrupted, and send
        to the purge area the recycle-bin items and versions no row knows."""
        store = self.store
        leftovers = self._leftovers()
        for row_id, undo in leftovers:
            log.warning("completing the undo of an interrupted mutation (journal entry %d)", row_id)
            self.apply(undo)
        if leftovers:
            try:
                with store._tx():
                    store.db.execute("DELETE FROM pending")
            except Exception as exc:
                log.warning("the journal could not be emptied yet (%s); the next mutation does it", exc)
        self._sweep_trash()
        self._sweep_versions()

    def _sweep_trash(self) -> None:
        store = self.store
        known = {(owner, key) for owner, key in store.db.execute("SELECT owner, key FROM trash")}
        for owner_dir in _entries(store.trash_dir):
            for item in _entries(owner_dir):
                if (owner_dir.name, item.name) not in known:
                    log.warning("recycle bin: %s/%s belongs to no item; purging it", owner_dir.name, item.name)
                    store.discard(str(item))

    def _sweep_versions(self) -> None:
        store = self.store
        known: dict[str, set[str]] = {}
        for node_id, key in store.db.execute("SELECT node_id, key FROM versions"):
            known.setdefault(node_id, set()).add(key)
        for node_dir in _entries(store.versions_dir):
            keys = known.get(node_dir.name)
            if not keys:
                if any(True for _ in _entries(node_dir)):
                    log.warning("versions: %s belongs to no file; purging it", node_dir.name)
                store.discard(str(node_dir))
                continue
            for item in _entries(node_dir):
                if item.name not in keys:
                    log.warning("versions: %s/%s belongs to no version; purging it", node_dir.name, item.name)
                    store.discard(str(item))


def _entries(path):
    try:
        return list(path.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _free_name(path: str) -> str:
    base = path
    n = 1
    while os.path.lexists(path):
        path = f"{base} (recovered {n})" if n > 1 else f"{base} (recovered)"
        n += 1
    return path
