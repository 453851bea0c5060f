"""Saving documents that others edit too: CS3 locks, merges, conflict copies.

Every save of a notebook or file on the storage goes through :meth:`DocumentService.save`:

1. take a short WRITE lock (app name :data:`SAVE_APP`, a fresh lock id, seconds of expiry);
   another server's save lock is waited for, a lock of anything that cannot merge (an office
   editor, a sync client, a user's "Lock for exclusive editing") refuses the save
   (:class:`FileLocked`, HTTP 423) and the user works on a copy instead;
2. compare the storage's etag with the one this server last loaded or saved
   (:mod:`.bases`); if it moved, read theirs and merge base, ours and theirs
   (:mod:`mesh_zenodo.merge`); a binary file is never merged: ours goes to a conflict copy;
3. upload with the lock id and ``if_match``, record who saved, and release the lock.

Two servers saving at the same instant are serialised by the lock; neither loses an edit.
The lock protocol and the statuses accepted from Reva flavours are in ``docs/locks.md``.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from jupyter_core.paths import jupyter_data_dir
from traitlets import Float, Int, Unicode, default
from traitlets.config import LoggingConfigurable

from ..cs3 import errors
from ..cs3.client import CS3Client
from ..cs3.naming import conflict_copy_name
from ..merge import MergeReport, merge_notebooks, merge_text
from .bases import Base, BaseStore, choose_base
from .errors import InvalidRequest, ServiceError
from .jobs import iso_time

#: the app name of the short lock each save takes
SAVE_APP = "mesh-zenodo"
#: the app name of a user's "Lock for exclusive editing"
EXCLUSIVE_APP = "mesh-zenodo exclusive editing"
#: arbitrary metadata: who saved the current version (``{"user", "name", "etag"}``)
SAVED_BY_KEY = "mesh-zenodo.saved-by"
#: arbitrary metadata on a conflict copy: what it is a copy of
COPY_OF_KEY = "mesh-zenodo.copy-of"
#: how many times a save re-reads and merges when the file changed under it anyway
SAVE_ATTEMPTS = 4

Encode = Callable[[Any], Awaitable[bytes]]
Decode = Callable[[bytes], Awaitable[Any]]


class FileLocked(ServiceError):
    """The file is locked by a holder that cannot merge (or our save lock never cleared)."""

    http_status = 423

    def __init__(self, message: str, lock: dict[str, Any]) -> None:
        super().__init__(message)
        self.lock = lock

    def details(self) -> dict:
        return {"lock": self.lock}


@dataclass
class SaveResult:
    """What a save did: the stored etag, and the merge or conflict copy if any."""

    etag: str
    merge: MergeReport | None = None
    conflict_copy: str | None = None
    merged_content: Any = None
    theirs_by: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any] | None:
        if self.merge is None and self.conflict_copy is None:
            return None
        out: dict[str, Any] = {"by": self.theirs_by}
        if self.merge is not None:
            out.update(self.merge.to_json())
        if self.conflict_copy is not None:
            out["conflict_copy"] = self.conflict_copy
        return out


def describe_lock(lock: spr.Lock, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A lock as the REST API and the front end show it."""
    user = lock.user.opaque_id
    created = lock.creation_time.seconds or 0
    expires = lock.expiration.seconds or 0
    return {
        "lock_id_set": bool(lock.lock_id),
        "type": spr.LockType.Name(lock.type).removeprefix("LOCK_TYPE_").lower() if lock.type else "write",
        "user": user,
        "holder": (names or {}).get(user, user),
        "app_name": lock.app_name,
        "since": iso_time(created) if created else None,
        "expires": iso_time(expires) if expires else None,
        "mergeable": lock.app_name == SAVE_APP,
        "exclusive": lock.app_name == EXCLUSIVE_APP,
    }


class DocumentService(LoggingConfigurable):
    """Locked, merging saves; presence; exclusive locks; conflict copies."""

    save_lock_seconds = Int(15, config=True, help="Expiry of the short lock each save takes (seconds).")
    lock_wait_seconds = Float(
        20.0, config=True, help="How long a save waits for another server's save lock to clear (seconds)."
    )
    exclusive_lock_seconds = Int(
        1800, config=True, help="Expiry of a 'Lock for exclusive editing' lock; refreshed while the document is open."
    )
    bases_dir = Unicode(
        "", config=True,
        help="Where this server remembers what its open documents are based on (for merges after a restart). "
        "Empty: in memory only.",
    )
    max_open_size = Int(256 << 20, help="Largest file read for a merge (the contents manager's limit).")

    @default("bases_dir")
    def _default_bases_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "mesh-zenodo", "bases")

    def __init__(self, client: CS3Client, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client = client
        # one namespace per storage and user (several users' servers may share a data dir)
        self.bases = BaseStore(self.bases_dir or None, namespace=f"{client.gateway}/{client.username}")

    # ------------------------------------------------------------------ bases

    async def loaded(self, cs3: str, etag: str, kind: str, content: Any) -> None:
        """An editor of this server was given ``content`` at ``etag``."""
        await self.bases.add(cs3, await Base.make(etag, kind, None if kind == "binary" else content))

    async def renamed(self, old: str, new: str) -> None:
        await self.bases.move(old, new)

    # ------------------------------------------------------------------ save

    async def save(
        self, cs3: str, kind: str, ours: Any, encode: Encode, decode: Decode, *, base: Base | None = None
    ) -> SaveResult:
        """Save ``ours`` (a notebook dict, text, or bytes for ``kind`` "binary") to ``cs3``
        without overwriting what others saved since it was loaded. ``base``: the version
        ``ours`` started from, when the caller knows it (else chosen, see :mod:`.bases`)."""
        for attempt in range(SAVE_ATTEMPTS):
            async with self._save_lock(cs3) as lock_id:
                try:
                    return await self._save_locked(cs3, kind, ours, encode, decode, lock_id, base)
                except (errors.PreconditionFailed, errors.AlreadyExists):
                    # written under us by a client that does not lock (or a flavour that does
                    # not enforce locks): read it again and merge
                    if attempt == SAVE_ATTEMPTS - 1:
                        raise
                    self.log.info("%s changed during the save; merging again", cs3)
        raise AssertionError("unreachable")

    async def _save_locked(
        self, cs3: str, kind: str, ours: Any, encode: Encode, decode: Decode, lock_id: str, base: Base | None
    ) -> SaveResult:
        try:
            info: spr.ResourceInfo | None = await self.client.stat(cs3, (SAVED_BY_KEY,))
        except errors.NotFound:
            info = None
        result = SaveResult(etag="")
        content = ours
        if info is not None:
            history = await self.bases.history(cs3)
            if kind == "binary":
                latest = history[-1] if history else None
                if latest is not None and latest.etag != info.etag:
                    result.theirs_by = self._saved_by(info)
                    result.conflict_copy = await self._write_conflict_copy(cs3, await encode(ours))
                    result.etag = info.etag
                    return result
            else:
                base = base or choose_base(history, kind, ours)
            # never loaded here (a blind PUT of a new version): written as sent; the
            # storage keeps the version it replaces
            if base is not None and (base.etag != info.etag or base.stale) and base.blob is not None:
                result.theirs_by = self._saved_by(info)
                theirs = await decode(await self.client.read_bytes(cs3, max_size=self.max_open_size))
                content, result.merge = await asyncio.to_thread(
                    _merge, kind, base, ours, theirs, self._my_name(), result.theirs_by.get("name", "theirs"),
                )
                result.merged_content = content
        data = await encode(content)
        upload = await self.client.upload(
            cs3, data, if_match=info.etag if info is not None else None, if_not_exist=info is None, lock_id=lock_id
        )
        etag = upload.etag or (await self.client.stat(cs3)).etag
        await self._record_saver(cs3, etag, lock_id)
        result.etag = etag
        stored = None if kind == "binary" else content
        await self.bases.add(cs3, await Base.make(etag, kind, stored))
        if kind != "binary" and result.merge is not None and content != ours:
            # the editor (without a live room) still holds ours, not the merged file: its
            # next save must merge with the stored file again
            await self.bases.add(cs3, await Base.make(etag, kind, ours, stale=True))
        return result

    async def settled(self, cs3: str, etag: str, kind: str, content: Any) -> None:
        """The editor now holds what is stored at ``etag`` (a live room took the merge in)."""
        await self.loaded(cs3, etag, kind, content)

    def _my_name(self) -> str:
        user = self.client.user
        return (user.display_name if user is not None else "") or self.client.username

    def _saved_by(self, info: spr.ResourceInfo) -> dict[str, str]:
        raw = info.arbitrary_metadata.metadata.get(SAVED_BY_KEY, "")
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        if isinstance(data, dict) and data.get("etag") == info.etag and data.get("user"):
            return {"user": str(data["user"]), "name": str(data.get("name") or data["user"])}
        return {"user": "", "name": "someone else"}

    async def _record_saver(self, cs3: str, etag: str, lock_id: str) -> None:
        user = self.client.user
        value = json.dumps({
            "user": self.client.username,
            "name": (user.display_name if user is not None else "") or self.client.username,
            "etag": etag,
        })
        try:
            await self.client.set_arbitrary_metadata(cs3, {SAVED_BY_KEY: value}, lock_id=lock_id)
        except errors.CS3Error as err:  # only a label for others' merge messages
            self.log.debug("could not record who saved %s: %s", cs3, err)

    # ------------------------------------------------------------------ locks

    @asynccontextmanager
    async def _save_lock(self, cs3: str) -> AsyncIterator[str]:
        """The lock id to write ``cs3`` with: a fresh short lock of ours (released after),
        the user's own exclusive lock, or "" for a file that does not exist yet."""
        lock_id = str(uuid.uuid4())
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.02
        while True:
            try:
                await self.client.set_lock(cs3, lock_id, app_name=SAVE_APP, seconds=self.save_lock_seconds)
                break
            except errors.NotFound:
                yield ""  # a new file: nothing to lock; the upload says if_not_exist
                return
            except (errors.PreconditionFailed, errors.Locked, errors.Aborted, errors.AlreadyExists):
                pass
            held = await self.client.get_lock(cs3)
            if held is None:
                continue
            if held.app_name == EXCLUSIVE_APP and self._mine(held):
                yield held.lock_id  # the user's own exclusive lock: write through it
                return
            if held.app_name != SAVE_APP:
                raise await self.locked_error(cs3, held)
            if time.monotonic() > deadline:
                raise FileLocked(
                    f"Cannot save {posixpath.basename(cs3)}: another save has held it for {self.lock_wait_seconds:.0f} "
                    "seconds; try again", await self.describe(held),
                )
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)
        try:
            yield lock_id
        finally:
            try:
                await self.client.unlock(cs3, lock_id, app_name=SAVE_APP)
            except errors.CS3Error as err:  # expired already, or the file was removed
                self.log.debug("releasing the save lock of %s: %s", cs3, err)

    def _mine(self, lock: spr.Lock) -> bool:
        user = self.client.user
        return user is not None and lock.user.opaque_id == user.id.opaque_id and (
            not lock.user.idp or lock.user.idp == user.id.idp
        )

    async def describe(self, lock: spr.Lock) -> dict[str, Any]:
        names: dict[str, str] = {}
        if lock.user.opaque_id:
            try:
                holder = await self.client.get_user(lock.user)
                names[lock.user.opaque_id] = holder.display_name or holder.username
            except errors.CS3Error:
                pass
        described = describe_lock(lock, names)
        described["mine"] = self._mine(lock)
        return described

    async def locked_error(self, cs3: str, lock: spr.Lock) -> FileLocked:
        described = await self.describe(lock)
        since = f" since {described['since']}" if described["since"] else ""
        return FileLocked(
            f"{posixpath.basename(cs3)} is locked by {described['holder']} ({lock.app_name or 'another application'})"
            f"{since}: open a preview, or work on a copy",
            described,
        )

    async def lock_state(self, cs3: str) -> dict[str, Any] | None:
        lock = await self.client.get_lock(cs3)
        return None if lock is None else await self.describe(lock)

    async def lock_exclusive(self, cs3: str) -> dict[str, Any]:
        """"Lock for exclusive editing": others open a preview or a copy until unlocked."""
        held = await self.client.get_lock(cs3)
        if held is not None and held.app_name == EXCLUSIVE_APP and self._mine(held):
            await self.client.refresh_lock(cs3, held.lock_id, app_name=EXCLUSIVE_APP, seconds=self.exclusive_lock_seconds)
            return await self.describe(await self.client.get_lock(cs3) or held)
        if held is not None and held.app_name != SAVE_APP:
            raise await self.locked_error(cs3, held)
        lock_id = str(uuid.uuid4())
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                await self.client.set_lock(cs3, lock_id, app_name=EXCLUSIVE_APP, seconds=self.exclusive_lock_seconds)
                break
            except (errors.PreconditionFailed, errors.Locked, errors.Aborted, errors.AlreadyExists):
                held = await self.client.get_lock(cs3)
                if held is not None and (held.app_name != SAVE_APP or time.monotonic() > deadline):
                    raise await self.locked_error(cs3, held) from None
                await asyncio.sleep(0.1)
        lock = await self.client.get_lock(cs3)
        if lock is None:
            raise InvalidRequest(f"Could not lock {posixpath.basename(cs3)}: the storage did not keep the lock")
        return await self.describe(lock)

    async def unlock_exclusive(self, cs3: str) -> None:
        held = await self.client.get_lock(cs3)
        if held is None:
            return
        if held.app_name != EXCLUSIVE_APP or not self._mine(held):
            raise InvalidRequest(f"{posixpath.basename(cs3)} is not locked by you for exclusive editing")
        await self.client.unlock(cs3, held.lock_id, app_name=EXCLUSIVE_APP)

    async def refresh_exclusive(self, cs3: str) -> None:
        held = await self.client.get_lock(cs3)
        if held is not None and held.app_name == EXCLUSIVE_APP and self._mine(held):
            await self.client.refresh_lock(cs3, held.lock_id, app_name=EXCLUSIVE_APP, seconds=self.exclusive_lock_seconds)

    # ------------------------------------------------------------------ conflict copies

    async def _write_conflict_copy(self, cs3: str, data: bytes) -> str:
        folder, name = posixpath.split(cs3)
        copy = await self._free_copy_path(folder, name)
        await self.client.upload(copy, data, if_not_exist=True)
        return copy

    async def _free_copy_path(self, folder: str, name: str) -> str:
        when = time.time()
        for n in range(100):
            candidate = posixpath.join(folder, conflict_copy_name(name, self.client.username, when + n))
            if await self.client.exists(candidate) is None:
                return candidate
        raise InvalidRequest(f"Could not find a free name for a conflict copy of {name}")

    async def work_on_copy(self, cs3: str, kind: str, decode: Decode) -> str:
        """A conflict copy of ``cs3`` next to it (its content as stored now), to edit while
        the original is locked. The original at copy time is kept as the base for merging
        the copy back (:meth:`merge_copy_back`)."""
        info = await self.client.stat(cs3)
        if info.type == spr.RESOURCE_TYPE_CONTAINER:
            raise InvalidRequest(f"{posixpath.basename(cs3)} is a folder: only files get a conflict copy")
        folder, name = posixpath.split(cs3)
        copy = await self._free_copy_path(folder, name)
        async with self.client.download(cs3) as (headers, chunks):
            size = int(headers.get("Content-Length", info.size))
            await self.client.upload(copy, chunks, size, if_not_exist=True)
        copy_info = await self.client.stat(copy)
        content = None
        if kind != "binary":
            try:
                content = await decode(await self.client.read_bytes(copy, max_size=self.max_open_size))
            except Exception:  # noqa: BLE001 - any decoding failure
                kind = "binary"  # not text after all: a copy to compare by hand
        record = {"path": cs3, "etag": info.etag, "kind": kind}
        await self.client.set_arbitrary_metadata(copy, {COPY_OF_KEY: json.dumps(record)})
        if content is not None:
            await self.bases.add("copy-base:" + copy, await Base.make(info.etag, kind, content))
            await self.loaded(copy, copy_info.etag, kind, content)
        return copy

    async def copy_origin(self, copy: str) -> dict[str, Any] | None:
        info = await self.client.stat(copy, (COPY_OF_KEY,))
        raw = info.arbitrary_metadata.metadata.get(COPY_OF_KEY, "")
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            return None
        return data if isinstance(data, dict) and isinstance(data.get("path"), str) else None

    async def merge_copy_back(self, copy: str, encode: Encode, decode: Decode) -> tuple[str, SaveResult]:
        """Merge a conflict copy into its original (three-way, the original at copy time
        as base) and move the copy to the recycle bin. Returns the original's path."""
        origin = await self.copy_origin(copy)
        if origin is None:
            raise InvalidRequest(f"{posixpath.basename(copy)} is not a conflict copy made by Work on a copy")
        original, kind = origin["path"], origin.get("kind", "text")
        held = await self.client.get_lock(original)
        if held is not None and held.app_name != SAVE_APP and not (held.app_name == EXCLUSIVE_APP and self._mine(held)):
            raise await self.locked_error(original, held)
        if kind == "binary":
            raise InvalidRequest(f"{posixpath.basename(original)} is a binary file: compare the copy yourself")
        base = await self.bases.latest("copy-base:" + copy)
        if base is None:
            raise InvalidRequest(
                f"This server no longer knows what {posixpath.basename(copy)} was copied from; "
                "merge it by hand or copy its cells over"
            )
        ours = await decode(await self.client.read_bytes(copy, max_size=self.max_open_size))
        # the base is the original at copy time: the save merges the copy's edits in
        result = await self.save(original, kind, ours, encode, decode, base=base)
        await self.client.delete(copy)
        await self.bases.forget("copy-base:" + copy)
        await self.bases.forget(copy)
        return original, result


def _merge(kind: str, base: Base, ours: Any, theirs: Any, ours_label: str, theirs_label: str):
    """The three-way merge (in a worker thread: it parses the base too)."""
    if kind == "notebook":
        return merge_notebooks(base.content, ours, theirs, ours_label=ours_label, theirs_label=theirs_label)
    return merge_text(base.content, ours, theirs, ours_label=ours_label, theirs_label=theirs_label)
