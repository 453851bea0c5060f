"""Data transfers: upload and download sessions (started over gRPC, carried out by the
HTTP data gateway), the temporary files of uploads in ``ROOT/.mesh-zenodo/uploads/``, and
the commit that puts a finished upload in place."""

from __future__ import annotations

import contextlib
import errno
import os
import stat as statmod
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import AlreadyExists, Conflict, FailedPrecondition, NotFound
from .paths import Loc, normalize_etag

if TYPE_CHECKING:
    from .auth import User
    from .store import NodeInfo, Store


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


class Transfers:
    """Upload and download sessions of one store (``store.transfers``)."""

    def __init__(self, store: Store):
        self.store = store

    # ---------------------------------------------------------------------------------
    # uploads
    # ---------------------------------------------------------------------------------
    def temp_path(self, prefix: str) -> str:
        return str(self.store.uploads_dir / f"{prefix}.{uuid.uuid4().hex}.tmp")

    def tus_path(self, session_id: str) -> str:
        return str(self.store.uploads_dir / f"{session_id}.tus")

    def initiate_upload(
        self, user: User, loc: Loc, opts: UploadOptions, session_id: str, expires: int
    ) -> UploadSession:
        store = self.store
        if not loc.rel:
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        parent = store._check_parent(user, loc, "initiate_file_upload")
        st = store._lstat(loc)
        if st is not None and statmod.S_ISDIR(st.st_mode):
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        if opts.if_not_exist and st is not None:
            raise AlreadyExists(f"already exists: {loc.path}")
        if opts.if_match is not None:
            if st is None:
                raise FailedPrecondition(f"etag mismatch: {loc.path} does not exist")
            row = store._node_row(loc)
            if normalize_etag(opts.if_match) not in ("*", normalize_etag(store._etag(row[0], row[1], st))):
                raise FailedPrecondition(f"etag mismatch: {loc.path} was changed since it was read")
        if opts.if_unmodified_since_ns is not None and st is not None and st.st_mtime_ns > opts.if_unmodified_since_ns:
            raise FailedPrecondition(f"modified since the given time: {loc.path}")
        if opts.length is not None:
            store.check_quota(loc.owner, opts.length, st.st_size if st is not None else 0)
        parent_id = store._node_row(parent)[0]
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
        with store._tx():
            store.db.execute(
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
        row = self.store.db.execute(
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
        with self.store._tx():
            self.store.db.execute("UPDATE uploads SET length=? WHERE id=?", (length, session_id))

    def end_upload(self, session_id: str) -> None:
        with self.store._tx():
            self.store.db.execute("DELETE FROM uploads WHERE id=?", (session_id,))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tus_path(session_id))

    def upload_target(self, session: UploadSession) -> tuple[User, Loc]:
        """Where a finished upload goes: the session's folder (wherever it is now)."""
        user = self.store.users.by_id(session.user_id)
        if user is None:
            raise NotFound("the user of this upload no longer exists")
        row = self.store.db.execute(
            "SELECT owner, path FROM nodes WHERE id=? AND trash_key IS NULL", (session.parent_id,)
        ).fetchone()
        if row is None:
            raise NotFound("the folder of this upload no longer exists")
        loc = Loc(row[0], row[1]).child(session.name)
        return user, loc

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
        version. Conditions are re-checked here (call under :meth:`Store.file_lock`).
        The home's usage changes by the new minus the replaced size, in the same
        transaction (no walk of the home)."""
        store = self.store
        parent = store._check_parent(user, loc, "initiate_file_upload")
        abs_path = store.abs_path(loc)
        st = store._lstat(loc)
        if st is None and os.path.lexists(abs_path):
            raise Conflict(f"cannot write over a special file or link: {loc.path}")
        if st is not None and statmod.S_ISDIR(st.st_mode):
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        row = store._node_row(loc) if st is not None else None
        current_etag = store._etag(row[0], row[1], st) if st is not None else None
        if if_not_exist and st is not None:
            raise FailedPrecondition(f"already exists: {loc.path}")
        if if_match is not None and (
            current_etag is None or normalize_etag(if_match) not in ("*", normalize_etag(current_etag))
        ):
            raise FailedPrecondition(f"etag mismatch: {loc.path} was changed since it was read")
        if if_unmodified_since_ns is not None and st is not None and st.st_mtime_ns > if_unmodified_since_ns:
            raise FailedPrecondition(f"modified since the given time: {loc.path}")
        replaced = st.st_size if st is not None else 0
        if check_quota:  # the bytes are on disk already: only the quota matters now
            store.check_quota(loc.owner, size, replaced, disk=False)
        with store._tx():
            if st is not None:
                node_id = row[0]
                store.versions.keep(node_id, abs_path, st, current_etag)
            else:
                node_id = store._fresh_node(loc)
            os.rename(tmp_path, abs_path)
            nst = os.lstat(abs_path)
            store.db.execute(
                "UPDATE nodes SET cks_size=?, cks_mtime_ns=?, md5=?, gen = gen + 1 WHERE id=?",
                (nst.st_size, nst.st_mtime_ns, md5, node_id),
            )
            store._add_usage(loc.owner, nst.st_size - replaced)
            store._bump(parent)
        return store.stat(user, loc)

    # ---------------------------------------------------------------------------------
    # downloads
    # ---------------------------------------------------------------------------------
    def initiate_download(self, user: User, loc: Loc, session_id: str, expires: int) -> DownloadSession:
        store = self.store
        store.authorize(user, loc, "initiate_file_download")
        st = store._require(loc)
        if statmod.S_ISDIR(st.st_mode):
            raise FailedPrecondition(f"cannot download a folder: {loc.path}")
        node_id = store._node_row(loc)[0]
        session = DownloadSession(session_id, loc.owner, user.opaque_id, node_id, expires)
        with store._tx():
            store.db.execute(
                "INSERT INTO downloads(id, owner, user_id, node_id, expires) VALUES (?,?,?,?,?)",
                (session.id, session.owner, session.user_id, session.node_id, session.expires),
            )
        return session

    def get_download(self, session_id: str) -> DownloadSession | None:
        row = self.store.db.execute(
            "SELECT id, owner, user_id, node_id, expires FROM downloads WHERE id=?", (session_id,)
        ).fetchone()
        if row is None:
            return None
        session = DownloadSession(*row)
        if session.expires < time.time():
            with self.store._tx():
                self.store.db.execute("DELETE FROM downloads WHERE id=?", (session_id,))
            return None
        return session

    def download_target(self, session: DownloadSession) -> tuple[User, Loc]:
        user = self.store.users.by_id(session.user_id)
        if user is None:
            raise NotFound("the user of this download no longer exists")
        row = self.store.db.execute(
            "SELECT owner, path FROM nodes WHERE id=? AND trash_key IS NULL", (session.node_id,)
        ).fetchone()
        if row is None:
            raise NotFound("the file of this download no longer exists")
        return user, Loc(row[0], row[1])

    def open_file(self, user: User, loc: Loc):
        """Open a file for reading; returns (binary file object, NodeInfo of exactly the
        content opened)."""
        store = self.store
        store.authorize(user, loc, "initiate_file_download")
        path = store.abs_path(loc)
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
        info = store._info(user, loc, st, store._node_row(loc), None, ())
        return os.fdopen(fd, "rb"), info

    # ---------------------------------------------------------------------------------
    # housekeeping
    # ---------------------------------------------------------------------------------
    def cleanup(self, *, startup: bool = False) -> None:
        """Forget expired sessions (and their partial data); at start-up also remove
        stray temporary files left by a crash."""
        store = self.store
        now = int(time.time())
        with store._tx():
            expired = [r[0] for r in store.db.execute("SELECT id FROM uploads WHERE expires < ?", (now,))]
            for sid in expired:
                self.end_upload(sid)
            store.db.execute("DELETE FROM downloads WHERE expires < ?", (now,))
        if not startup:
            return
        live = {r[0] for r in store.db.execute("SELECT id FROM uploads")}
        for entry in store.uploads_dir.iterdir():
            if entry.name.endswith(".tus") and entry.name[: -len(".tus")] in live:
                continue
            with contextlib.suppress(OSError):
                entry.unlink()
