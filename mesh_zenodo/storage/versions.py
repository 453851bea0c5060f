"""File versions: every overwrite keeps the previous content as a version (a hard link in
``ROOT/.mesh-zenodo/versions/<node id>/<key>``), at most ``max_versions`` per file."""

from __future__ import annotations

import contextlib
import os
import stat as statmod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InvalidArgument, NotFound
from .files import copy_with_md5, link_or_copy
from .paths import Loc
from .worker import blocking

if TYPE_CHECKING:
    from .auth import User
    from .store import Store


@dataclass(frozen=True)
class Version:
    key: str
    size: int
    mtime_ns: int
    etag: str


class Versions:
    """The versions of the files of one store (``store.versions``)."""

    def __init__(self, store: Store, max_versions: int):
        self.store = store
        self.max_versions = max(0, max_versions)

    def _file_node(self, user: User, loc: Loc, permission: str) -> str:
        store = self.store
        store.authorize(user, loc, permission)
        st = store._require(loc)
        if statmod.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"folders have no versions: {loc.path}")
        return store.nodes.row(loc, st)[0]

    def list(self, user: User, loc: Loc) -> list[Version]:
        """The versions of a file, newest first."""
        node_id = self._file_node(user, loc, "list_file_versions")
        rows = self.store.db.execute(
            "SELECT key, size, mtime_ns, etag FROM versions WHERE node_id=? ORDER BY seq DESC", (node_id,)
        )
        return [Version(*r) for r in rows]

    def open(self, user: User, loc: Loc, key: str):
        """Open version ``key`` of a file for reading (a download with ``version_key``,
        as Reva's data gateway serves it): (binary file object, the :class:`Version`).
        Needs both the download and the list-versions permission."""
        node_id = self._file_node(user, loc, "list_file_versions")
        self.store.authorize(user, loc, "initiate_file_download")
        row = self.store.db.execute(
            "SELECT key, size, mtime_ns, etag FROM versions WHERE node_id=? AND key=?", (node_id, key)
        ).fetchone()
        if row is None or "/" in key or key in ("", ".", ".."):
            raise NotFound(f"no version {key!r} of {loc.path}")
        try:
            fd = os.open(self.store.versions_dir / node_id / key, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise NotFound(f"no version {key!r} of {loc.path}") from None
        return os.fdopen(fd, "rb"), Version(*row)

    def source(self, user: User, loc: Loc, key: str, lock_id: str = "") -> str:
        """The on-disk path of a version about to be restored (checks permissions and
        the file's lock)."""
        node_id = self._file_node(user, loc, "restore_file_version")
        self.store.locks.check_write(user, loc, lock_id)
        row = self.store.db.execute("SELECT 1 FROM versions WHERE node_id=? AND key=?", (node_id, key)).fetchone()
        path = self.store.versions_dir / node_id / key
        if row is None or "/" in key or key in ("", ".", "..") or not path.is_file():
            raise NotFound(f"no version {key!r} of {loc.path}")
        return str(path)

    async def restore(self, user: User, loc: Loc, key: str, lock_id: str = "") -> None:
        """Make version ``key`` the current content (the current one becomes a version);
        a locked file needs ``lock_id``, checked again at the commit."""
        store = self.store
        source = await store.run(self.source, user, loc, key, lock_id)
        tmp = store.transfers.temp_path("restore")
        try:
            size, md5 = await blocking(copy_with_md5, source, tmp)
            async with store.file_lock(loc):
                await store.run(store.transfers.commit_file, user, loc, tmp, size, md5, lock_id=lock_id)
        finally:
            await blocking(_unlink_quietly, tmp)

    def new_key(self, node_id: str, st: os.stat_result) -> tuple[str, str]:
        """A free key for keeping the current content (of status ``st``) of a node, and
        the path its version will have."""
        db = self.store.db
        vdir = self.store.versions_dir / node_id
        base = str(st.st_mtime_ns)
        key, n = base, 0
        while (vdir / key).exists() or db.execute(
            "SELECT 1 FROM versions WHERE node_id=? AND key=?", (node_id, key)
        ).fetchone():
            n += 1
            key = f"{base}-{n}"
        return key, str(vdir / key)

    def link(self, abs_path: str, version_path: str) -> None:
        """The file-system step of keeping a version: the current content stays in place
        (a hard link), so that the caller can atomically rename the new content over it:
        readers never find the file missing, a crash never loses it."""
        os.makedirs(os.path.dirname(version_path), exist_ok=True)
        link_or_copy(abs_path, version_path)

    def record(self, node_id: str, key: str, st: os.stat_result, etag: str) -> None:
        """The database step of keeping a version (inside the caller's transaction); the
        versions beyond ``max_versions`` are deleted once it committed."""
        db = self.store.db
        vdir = self.store.versions_dir / node_id
        db.execute(
            "INSERT INTO versions(node_id, key, size, mtime_ns, etag) VALUES (?,?,?,?,?)",
            (node_id, key, st.st_size, st.st_mtime_ns, etag),
        )
        if self.max_versions:
            old = db.execute(
                "SELECT seq, key FROM versions WHERE node_id=? ORDER BY seq DESC LIMIT -1 OFFSET ?",
                (node_id, self.max_versions),
            ).fetchall()
            for seq, okey in old:
                db.execute("DELETE FROM versions WHERE seq=?", (seq,))
                self.store.after_commit(lambda path=vdir / okey: _unlink_quietly(path))

    def forget(self, node_id: str) -> None:
        """Drop every version of a node that is gone (inside the caller's transaction;
        the files go to the purge area once it committed)."""
        self.store.db.execute("DELETE FROM versions WHERE node_id=?", (node_id,))
        vdir = self.store.versions_dir / node_id
        if vdir.exists():
            self.store.discard(str(vdir))


def _unlink_quietly(path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
