"""The node records of the store (``store.nodes``): the rows of the ``nodes`` table that
give each file and folder a stable id and an etag generation, recorded the first time
a path is seen, and the :class:`NodeInfo` a stat or a listing answers.

A read never needs to write: on a full disk a node seen for the first time gets the id
it will be recorded with (derived from where it is, :meth:`Nodes.new_id`).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat as statmod
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .paths import Loc, desc_params, is_descendant_sql

if TYPE_CHECKING:
    from .auth import User
    from .locks import Lock
    from .store import Store

DIR_MIME = "httpd/unix-directory"
#: node ids of files seen for the first time: derived from where they are (see Nodes.new_id)
_NODE_NS = uuid.UUID("6f6d9c0e-3b1e-4d36-a5a8-8b8e1f5f2a10")

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
    lock: Lock | None = None  # a file's unexpired lock (locks.py)


class Nodes:
    """The node records of one store (``store.nodes``); every method runs inside the
    store's transactions (:meth:`Store._tx`)."""

    def __init__(self, store: Store):
        self.store = store

    def find(self, loc: Loc) -> tuple | None:
        return self.store.db.execute(
            "SELECT id, gen, cks_size, cks_mtime_ns, md5 FROM nodes WHERE owner=? AND path=? AND trash_key IS NULL",
            (loc.owner, loc.rel),
        ).fetchone()

    def row(self, loc: Loc, st: os.stat_result | None = None, *, strict: bool = False) -> tuple:
        """The node row of an existing path, recorded on first sight. On a full disk a
        read goes on with the id the node will be recorded with (``strict``: a
        mutation needs it recorded, and fails with :class:`InsufficientStorage`)."""
        row = self.find(loc)
        if row is None:
            node_id = loc.owner if not loc.rel else self.new_id(loc, st)

            def record() -> None:
                self.store.db.execute(
                    "INSERT INTO nodes(id, owner, path) VALUES (?, ?, ?)", (node_id, loc.owner, loc.rel)
                )

            if strict:
                with self.store._tx():
                    record()
            else:
                self.store._try_write(record)
            row = (node_id, 0, None, None, None)
        return row

    def new_id(self, loc: Loc, st: os.stat_result | None) -> str:
        """The id of a node seen for the first time: derived from its owner, path and
        inode, so that reads on a full disk (which cannot record it) agree on it; a
        random one if that id is taken."""
        if st is None:
            try:
                st = os.lstat(self.store.abs_path(loc))
            except OSError:
                return str(uuid.uuid4())
        node_id = str(uuid.uuid5(_NODE_NS, f"{loc.owner}\0{loc.rel}\0{st.st_dev}\0{st.st_ino}"))
        if self.store.db.execute("SELECT 1 FROM nodes WHERE id=?", (node_id,)).fetchone() is not None:
            return str(uuid.uuid4())
        return node_id

    def drop_stale(self, loc: Loc) -> None:
        """Forget the nodes recorded at and below ``loc`` (vanished from disk)."""
        with self.store._tx():
            ids = [
                r[0]
                for r in self.store.db.execute(
                    f"SELECT id FROM nodes WHERE owner=? AND trash_key IS NULL AND {is_descendant_sql()}",
                    (loc.owner, *desc_params(loc.rel)),
                )
            ]
            self.forget(ids)

    def forget(self, ids: list[str]) -> None:
        """Drop nodes for good, with their metadata, versions and locks (inside a
        transaction; their version files go to the purge area once it committed)."""
        for node_id in ids:
            self.store.db.execute("DELETE FROM metadata WHERE node_id=?", (node_id,))
            self.store.locks.forget(node_id)
            self.store.versions.forget(node_id)
            self.store.db.execute("DELETE FROM nodes WHERE id=?", (node_id,))

    def fresh(self, loc: Loc) -> str:
        """A new node id for a path that is being created."""
        self.drop_stale(loc)
        node_id = str(uuid.uuid4())
        with self.store._tx():
            self.store.db.execute("INSERT INTO nodes(id, owner, path) VALUES (?, ?, ?)", (node_id, loc.owner, loc.rel))
        return node_id

    def bump(self, loc: Loc, *, include_self: bool = True) -> None:
        """Change the etag of ``loc`` and of every folder above it."""
        paths = [loc.rel] if include_self else []
        rel = loc.rel
        while rel:
            rel = rel.rsplit("/", 1)[0] if "/" in rel else ""
            paths.append(rel)
        if not paths:
            return
        marks = ",".join("?" * len(paths))
        with self.store._tx():
            self.store.db.execute(
                f"UPDATE nodes SET gen = gen + 1 WHERE owner=? AND trash_key IS NULL AND path IN ({marks})",
                (loc.owner, *paths),
            )

    @staticmethod
    def etag(node_id: str, gen: int, st: os.stat_result) -> str:
        if statmod.S_ISDIR(st.st_mode):
            basis = f"{node_id}:{gen}:d:{st.st_mtime_ns}"
        else:
            basis = f"{node_id}:{gen}:f:{st.st_size}:{st.st_mtime_ns}"
        return '"' + hashlib.md5(basis.encode()).hexdigest() + '"'

    def info(
        self,
        user: User,
        loc: Loc,
        st: os.stat_result,
        row: tuple,
        parent_id: str | None,
        md_keys,
        abs_path: str | None = None,
    ) -> NodeInfo:
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
            etag=self.etag(node_id, gen, st),
            mime_type=mime,
            md5=md5,
            permissions=self.store.permissions(user, loc),
            abs_path=abs_path if abs_path is not None else self.store.abs_path(loc),
        )
        if md_keys:
            info.metadata = self.metadata(node_id, md_keys)
        if not is_dir:
            info.lock = self.store.locks.get(node_id)
        return info

    def metadata(self, node_id: str, keys) -> dict[str, str]:
        keys = list(keys)
        if "*" in keys:
            rows = self.store.db.execute("SELECT key, value FROM metadata WHERE node_id=?", (node_id,))
        else:
            marks = ",".join("?" * len(keys))
            rows = self.store.db.execute(
                f"SELECT key, value FROM metadata WHERE node_id=? AND key IN ({marks})", (node_id, *keys)
            )
        return dict(rows.fetchall())

    def parent_id(self, loc: Loc) -> str | None:
        if not loc.rel:
            return None
        return self.row(loc.parent)[0]
