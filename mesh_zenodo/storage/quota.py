"""The quota and the disk: a running count of the bytes in each home (the ``usage``
table), and the checks that a new file fits, counting what the running uploads reserved
(``store.transfers.reservations``) and a margin for the database.

:class:`Usage` is a collaborator of the store (``store.usage``); the quota itself is the
store's setting ``store.quota`` (bytes per home, or None: the disk is the limit); a
project space has its own (:meth:`Usage.limit`). An owner id is a user's (their home) or
a space's: the count is kept per owner either way.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from .errors import InsufficientStorage
from .files import tree_size
from .paths import Loc

if TYPE_CHECKING:
    from .auth import User
    from .store import Store

#: free disk space an upload must leave, so that the database can still record things
DB_MARGIN = 1 << 20


class Usage:
    """The bytes used in the homes of one store, and the quota and disk checks
    (``store.usage``)."""

    def __init__(self, store: Store):
        self.store = store
        # The bytes used per home are recounted (one walk, when first needed) by each
        # run: files put into a home while the storage was stopped are counted too.
        self._counted: set[str] = set()

    def used_bytes(self, owner: str) -> int:
        """The bytes of the regular files in ``owner``'s home (symlinks not followed; not
        the versions, not the recycle bin). A running count in the ``usage`` table: one
        walk of the home the first time it is needed in a run, then kept up to date by
        every change of size, in that change's transaction (:meth:`add`)."""
        store = self.store
        if owner in self._counted:
            row = store.db.execute("SELECT bytes FROM usage WHERE owner=?", (owner,)).fetchone()
            if row is not None:
                return max(0, row[0])
        used = tree_size(store.home_dir(owner))

        def record() -> None:
            store.db.execute("INSERT OR REPLACE INTO usage(owner, bytes) VALUES (?, ?)", (owner, used))

        if store._try_write(record):
            self._counted.add(owner)
        return used

    def counted(self, owner: str) -> None:
        """``owner``'s count is exact already (a new, empty project space)."""
        self._counted.add(owner)

    def limit(self, owner: str) -> int | None:
        """The quota of ``owner``: a project space's own (None: none), else the store's
        quota per home."""
        space = self.store.spaces.get(owner)
        if space is not None:
            return space.quota
        return self.store.quota

    def add(self, owner: str, delta: int) -> None:
        """Count ``delta`` more bytes in ``owner``'s home (call inside the transaction of
        the change; a home not counted yet in this run is counted by its first walk)."""
        if delta and owner in self._counted:
            self.store.db.execute("UPDATE usage SET bytes = bytes + ? WHERE owner=?", (delta, owner))

    def quota_of(self, user: User, loc: Loc) -> tuple[int, int, int]:
        """(total, used, remaining) bytes of the home containing ``loc``; what running
        uploads have reserved is not remaining."""
        store = self.store
        store.authorize(user, loc, "get_quota")
        used = self.used_bytes(loc.owner)
        reservations = store.transfers.reservations
        free = max(0, shutil.disk_usage(store.root).free - reservations.unwritten())
        quota = self.limit(loc.owner)
        if quota is None:
            return used + free, used, free
        remaining = max(0, min(quota - used - reservations.growth(loc.owner), free))
        return quota, used, remaining

    def check_disk(self, new_bytes: int, *, exclude: str | None = None) -> None:
        """Raise unless ``new_bytes`` more fit on the disk, with what other uploads still
        have to write and a margin for the database."""
        store = self.store
        free = shutil.disk_usage(store.root).free - store.transfers.reservations.unwritten(exclude)
        if new_bytes > 0 and new_bytes + DB_MARGIN > free:
            raise InsufficientStorage(
                f"not enough disk space for {new_bytes} bytes ({max(0, free - DB_MARGIN)} bytes available)"
            )

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
        """Raise :class:`InsufficientStorage` unless a file of ``new_bytes`` replacing one of
        ``replaced_bytes`` fits, counting what the other running uploads reserved (all
        but the upload ``exclude``). The quota counts the current files of a home (not
        versions nor the recycle bin); the disk must hold the new bytes in full (but the
        ``written`` already there), since the replaced content is kept as a version."""
        store = self.store
        if disk:
            self.check_disk(new_bytes - written, exclude=exclude)
        quota = self.limit(owner)
        if quota is not None:
            used = self.used_bytes(owner)
            reserved = store.transfers.reservations.growth(owner, exclude)
            if used + reserved - replaced_bytes + new_bytes > quota:
                held = f", {reserved} reserved by uploads under way" if reserved else ""
                raise InsufficientStorage(
                    f"quota exceeded: {new_bytes} bytes would not fit ({used} of {quota} bytes used{held})"
                )
