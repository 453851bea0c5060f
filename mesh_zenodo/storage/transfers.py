"""Data transfers: upload and download sessions (started over gRPC, carried out by the
HTTP data gateway), the temporary files of uploads in ``ROOT/.mesh-zenodo/uploads/``, the
space uploads reserve, and the commit that puts a finished upload in place.

* Upload sessions are rows of the ``uploads`` table (a tus upload resumes across
  restarts). Download sessions need no row: the transfer token carries the file's node
  id (as Reva's stateless transfer tokens carry their target), so a download can start
  on a full disk.
* An upload reserves the length it announces (at ``InitiateFileUpload``, or the
  ``Upload-Length`` of its first request) against the owner's quota and the disk's free
  space, counting every other reservation, until it ends: finished, failed, cancelled
  (the client went away) or expired. Two uploads that each fit but not together cannot
  both start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import stat as statmod
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import (
    AlreadyExists,
    Conflict,
    DiskFull,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    StorageError,
    translate,
)
from .paths import Loc, normalize_etag

if TYPE_CHECKING:
    from .auth import User
    from .nodes import NodeInfo
    from .store import Store


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
    """What a download's transfer token says (no row: nothing to write to start one)."""

    id: str
    owner: str
    user_id: str
    node_id: str
    expires: int


@dataclass
class Reservation:
    """Space held by one upload session until it ends."""

    session_id: str
    owner: str
    length: int  # bytes of the finished file
    growth: int  # bytes it adds to the home's usage (length - replaced size, >= 0)
    written: int = 0  # bytes of it already on disk (tus data so far, or received so far)


class Reservations:
    """The reservations of the running uploads (in memory: rebuilt at start-up from the
    sessions that hold data or an announced length)."""

    def __init__(self) -> None:
        self._held: dict[str, Reservation] = {}

    def get(self, session_id: str) -> Reservation | None:
        return self._held.get(session_id)

    def add(self, reservation: Reservation) -> None:
        self._held[reservation.session_id] = reservation

    def release(self, session_id: str) -> Reservation | None:
        return self._held.pop(session_id, None)

    def growth(self, owner: str, exclude: str | None = None) -> int:
        """What the reservations of ``owner``'s uploads add to the home."""
        return sum(r.growth for r in list(self._held.values()) if r.owner == owner and r.session_id != exclude)

    def unwritten(self, exclude: str | None = None) -> int:
        """The bytes the running uploads still have to write to the disk."""
        return sum(max(0, r.length - r.written) for r in list(self._held.values()) if r.session_id != exclude)

    def __len__(self) -> int:
        return len(self._held)


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
        self.reservations = Reservations()

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
        parent = store.check_upload(user, loc)
        st = store._lstat(loc)
        if st is not None and statmod.S_ISDIR(st.st_mode):
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        if st is not None:  # checked again when the upload finishes (commit_file)
            store.locks.check_write(user, loc, opts.lock_id)
        if opts.if_not_exist and st is not None:
            raise AlreadyExists(f"already exists: {loc.path}")
        if opts.if_match is not None:
            if st is None:
                raise FailedPrecondition(f"etag mismatch: {loc.path} does not exist")
            row = store.nodes.row(loc)
            if normalize_etag(opts.if_match) not in ("*", normalize_etag(store.nodes.etag(row[0], row[1], st))):
                raise FailedPrecondition(f"etag mismatch: {loc.path} was changed since it was read")
        if opts.if_unmodified_since_ns is not None and st is not None and st.st_mtime_ns > opts.if_unmodified_since_ns:
            raise FailedPrecondition(f"modified since the given time: {loc.path}")
        parent_id = store.nodes.row(parent, strict=True)[0]
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
        if opts.length is not None:
            self._reserve(session, loc, opts.length)
        try:
            self._insert(session)
        except BaseException:
            self.reservations.release(session.id)
            raise
        return session

    def _insert(self, session: UploadSession) -> None:
        store = self.store
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

    # -- reservations ------------------------------------------------------------------
    def _replaced(self, loc: Loc) -> int:
        st = self.store._lstat(loc)
        return st.st_size if st is not None and statmod.S_ISREG(st.st_mode) else 0

    def _reserve(self, session: UploadSession, loc: Loc, length: int, written: int = 0) -> Reservation:
        """Check that ``length`` fits (quota and disk, with every other reservation
        counted) and reserve it for ``session`` (replacing what it held)."""
        replaced = self._replaced(loc)
        self.store.usage.check_quota(loc.owner, length, replaced, written=written, exclude=session.id)
        reservation = Reservation(session.id, loc.owner, length, max(0, length - replaced), written)
        self.reservations.add(reservation)
        return reservation

    def begin_put(
        self, session_id: str, length: int, lock_id: str | None = None
    ) -> tuple[UploadSession, Reservation]:
        """A simple PUT of ``length`` bytes starts: the session (NotFound if gone) and its
        reservation (the one made at initiate, else a new one). ``lock_id``: the
        request's ``X-Lock-Id`` (else the session's); a locked file refuses the body
        before it is sent (LOCKED, ABORTED), and is checked again at the commit."""
        session = self.get_upload(session_id)
        if session is None:
            raise NotFound("upload not found: it finished, expired or was never started")
        if session.length is not None and session.length != length:
            raise InvalidArgument(
                f"Upload-Length {length} differs from the Upload-Length given at InitiateFileUpload ({session.length})"
            )
        user, loc = self.upload_target(session)
        self._check_lock(user, loc, session, lock_id)
        held = self.reservations.get(session.id)
        if held is None or held.length != length:
            held = self._reserve(session, loc, length)
        held.written = 0
        return session, held

    def begin_patch(
        self, session_id: str, offset: int, length: int | None, lock_id: str | None = None
    ) -> tuple[UploadSession, int, Reservation | None, int | None]:
        """A tus PATCH at ``offset`` starts (``length``: its Upload-Length, if any;
        ``lock_id``: as for :meth:`begin_put`). Returns (session, current offset,
        reservation or None, bytes this request may carry when the length is still
        unknown, or None)."""
        session = self.get_upload(session_id)
        if session is None:
            raise NotFound("upload not found: it finished, expired or was never started")
        try:
            current = os.path.getsize(self.tus_path(session.id))
        except FileNotFoundError:
            current = 0
        if offset != current:
            raise OffsetMismatch(current, f"Upload-Offset {offset} does not match the current offset {current}")
        if length is not None:
            if session.length is not None and session.length != length:
                raise InvalidArgument(f"Upload-Length {length} differs from the announced length {session.length}")
            if length < current:
                raise InvalidArgument(f"Upload-Length {length} is smaller than the data already received ({current})")
        user, loc = self.upload_target(session)
        self._check_lock(user, loc, session, lock_id)
        announced = session.length if session.length is not None else length
        if announced is None:  # deferred length: what the quota still allows
            quota = self.store.usage.limit(loc.owner)  # the home's, or the project space's
            if quota is None:
                return session, current, None, None
            used = self.store.usage.used_bytes(loc.owner) + self.reservations.growth(loc.owner, session.id)
            allowance = max(0, quota - used + self._replaced(loc))
            return session, current, None, max(0, allowance - current)
        held = self.reservations.get(session.id)
        if held is None or held.length != announced:
            held = self._reserve(session, loc, announced, written=current)
        held.written = current
        if session.length is None:
            try:
                self.set_upload_length(session.id, announced)
            except BaseException:
                self.reservations.release(session.id)
                raise
            session.length = announced
        return session, current, held, None

    def _check_lock(self, user: User, loc: Loc, session: UploadSession, lock_id: str | None) -> None:
        st = self.store._lstat(loc)
        if st is not None and statmod.S_ISREG(st.st_mode):
            self.store.locks.check_write(user, loc, lock_id or session.lock_id)

    def drop_reservation(self, session_id: str) -> None:
        """A simple upload's transfer failed or was cancelled: what it reserved is free
        again (a new attempt reserves anew)."""
        self.reservations.release(session_id)

    def finish(
        self, session: UploadSession, tmp_path: str, size: int, md5: str, lock_id: str | None = None
    ) -> NodeInfo:
        """Commit a finished upload and end its session (whole or not at all). A failure
        that a new attempt cannot fix (gone, precondition, lock, quota) ends the session
        too. ``lock_id``: the last request's ``X-Lock-Id`` (else the session's)."""
        user, loc = self.upload_target(session)
        try:
            return self.commit_file(
                user,
                loc,
                tmp_path,
                size,
                md5,
                if_match=session.if_match,
                if_not_exist=session.if_not_exist,
                if_unmodified_since_ns=session.if_unmodified_since_ns,
                session_id=session.id,
                lock_id=lock_id or session.lock_id,
            )
        except Exception as exc:
            error = translate(exc)
            if isinstance(error, StorageError) and error.http_status != 500 and not isinstance(error, DiskFull):
                self.end_upload(session.id)
            else:  # may pass on a new attempt: the session stays, without its reservation
                self.reservations.release(session.id)
            raise

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
        """The session is over: its reservation, its tus data and its row go."""
        self.reservations.release(session_id)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tus_path(session_id))
        self.store._try_write(lambda: self.store.db.execute("DELETE FROM uploads WHERE id=?", (session_id,)))

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
        session_id: str | None = None,
        lock_id: str = "",
    ) -> NodeInfo:
        """Put a finished temp file in place atomically; the previous content becomes a
        version. Conditions are re-checked here (call under :meth:`Store.file_lock`).
        The home's usage changes by the new minus the replaced size, in the same
        transaction (no walk of the home), which also ends the upload ``session_id``.
        Whole or not at all (:mod:`.journal`): if it cannot commit, the previous
        content is back in place and ``tmp_path`` holds the new one again. A locked
        file needs ``lock_id`` (:meth:`.locks.Locks.check_write`), checked here too."""
        store = self.store
        parent = store.check_upload(user, loc)
        abs_path = store.abs_path(loc)
        st = store._lstat(loc)
        if st is None and os.path.lexists(abs_path):
            raise Conflict(f"cannot write over a special file or link: {loc.path}")
        if st is not None and statmod.S_ISDIR(st.st_mode):
            raise Conflict(f"cannot upload onto a folder: {loc.path}")
        if st is not None:
            store.locks.check_write(user, loc, lock_id)
        row = store.nodes.row(loc) if st is not None else None
        current_etag = store.nodes.etag(row[0], row[1], st) if st is not None else None
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
            store.usage.check_quota(loc.owner, size, replaced, disk=False, exclude=session_id)
        journal = store.journal
        if st is not None:
            node_id = row[0]
            key, version_path = store.versions.new_key(node_id, st)
            undo = [journal.move_back(version_path, abs_path, replace=True)]
        else:
            node_id, key, version_path = None, None, None
            undo = [journal.move_back(abs_path, tmp_path)]
        undo += journal.mtimes(os.path.dirname(abs_path))

        def put_in_place() -> None:
            if version_path is not None:
                store.versions.link(abs_path, version_path)
            elif os.path.lexists(abs_path):
                raise Conflict(f"something appeared at {loc.path} meanwhile")
            os.rename(tmp_path, abs_path)

        def record() -> None:
            nonlocal node_id
            if version_path is not None:
                store.versions.record(node_id, key, st, current_etag)
            else:
                node_id = store.nodes.fresh(loc)
            nst = os.lstat(abs_path)
            store.db.execute(
                "UPDATE nodes SET cks_size=?, cks_mtime_ns=?, md5=?, gen = gen + 1 WHERE id=?",
                (nst.st_size, nst.st_mtime_ns, md5, node_id),
            )
            store.usage.add(loc.owner, nst.st_size - replaced)
            store.nodes.bump(parent)
            if session_id is not None:
                store.db.execute("DELETE FROM uploads WHERE id=?", (session_id,))

        journal.run(undo, put_in_place, record)
        if session_id is not None:
            self.reservations.release(session_id)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tus_path(session_id))
        return store.stat(user, loc)

    # ---------------------------------------------------------------------------------
    # downloads
    # ---------------------------------------------------------------------------------
    def initiate_download(self, user: User, loc: Loc) -> str:
        """Check that ``user`` may download ``loc``; returns its node id (for the
        transfer token: nothing is written)."""
        store = self.store
        store.authorize(user, loc, "initiate_file_download")
        st = store._require(loc)
        if statmod.S_ISDIR(st.st_mode):
            raise FailedPrecondition(f"cannot download a folder: {loc.path}")
        return store.nodes.row(loc, st)[0]

    def download_target(self, session: DownloadSession) -> tuple[User, Loc]:
        user = self.store.users.by_id(session.user_id)
        if user is None:
            raise NotFound("the user of this download no longer exists")
        row = self.store.db.execute(
            "SELECT owner, path FROM nodes WHERE id=? AND trash_key IS NULL", (session.node_id,)
        ).fetchone()
        if row is None or row[0] != session.owner:
            raise NotFound("the file of this download no longer exists")
        return user, Loc(row[0], row[1])

    def open_file(self, user: User, loc: Loc):
        """Open a file for reading; returns (binary file object, NodeInfo of exactly the
        content opened)."""
        store = self.store
        store.authorize(user, loc, "initiate_file_download")
        path = store.abs_path(loc)
        try:
            # O_NONBLOCK: a FIFO put in the file's place must not block the store's thread
            # (it is refused below); reading regular files ignores the flag.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
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
        try:
            info = store.nodes.info(user, loc, st, store.nodes.row(loc, st), None, ())
        except BaseException:
            os.close(fd)
            raise
        return os.fdopen(fd, "rb"), info

    def open_download(self, session: DownloadSession, version_key: str | None = None):
        """:meth:`open_file` for the file of a download, or for one of its versions
        (``version_key``): then the info describes that version's content."""
        user, loc = self.download_target(session)
        if version_key is None:
            return self.open_file(user, loc)
        fh, version = self.store.versions.open(user, loc, version_key)
        try:
            st = self.store._require(loc)
            info = self.store.nodes.info(user, loc, st, self.store.nodes.row(loc, st), None, ())
        except BaseException:
            fh.close()
            raise
        info = dataclasses.replace(info, size=version.size, etag=version.etag, mtime_ns=version.mtime_ns, md5=None)
        return fh, info

    # ---------------------------------------------------------------------------------
    # housekeeping
    # ---------------------------------------------------------------------------------
    def cleanup(self, *, startup: bool = False) -> None:
        """Forget expired sessions (and their partial data); at start-up also remove
        stray temporary files left by a crash, and reserve again what the surviving
        sessions announced."""
        store = self.store
        now = int(time.time())
        for (sid,) in store.db.execute("SELECT id FROM uploads WHERE expires < ?", (now,)).fetchall():
            self.end_upload(sid)
        if not startup:
            return
        live = {}
        for sid, owner, length in store.db.execute("SELECT id, owner, length FROM uploads").fetchall():
            live[sid] = (owner, length)
        for entry in store.uploads_dir.iterdir():
            if entry.name.endswith(".tus") and entry.name[: -len(".tus")] in live:
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    store.discard(str(entry))
                else:
                    entry.unlink()
        for sid, (owner, length) in live.items():
            if length is None:
                continue
            try:
                written = os.path.getsize(self.tus_path(sid))
            except OSError:
                written = 0
            self.reservations.add(Reservation(sid, owner, length, length, written))


class OffsetMismatch(StorageError):
    """A tus PATCH at another offset than the data received so far."""

    code, http_status = "FAILED_PRECONDITION", 409

    def __init__(self, current: int, message: str):
        super().__init__(message)
        self.current = current
