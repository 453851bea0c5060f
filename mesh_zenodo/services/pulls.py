"""Pull a Zenodo record's files into a folder on the CS3 storage.

Each file streams from Zenodo straight into the storage: the bytes pass through the
server's memory a chunk at a time and never touch its local disk. For each file:

1. the name is checked against the folder: an existing file is never overwritten
   silently (``on_conflict``: ``ask`` fails that item as a *conflict* the UI resolves by
   asking again with ``rename`` or ``overwrite``; ``rename`` picks ``name (1).ext`` as
   Reva/ownCloud do; ``overwrite`` replaces it, the old content going to the recycle
   bin; ``skip`` leaves it). A file already there with the record's md5 is *skipped*.
2. the content is uploaded under a hidden temporary name in the destination folder
   (``.<name>.<job>.mesh-zenodo-part``), its md5 computed on the way. The last chunk is
   held back until the md5 is known: on a mismatch the upload is aborted before the
   storage commits anything, so a corrupt file never exists, even under the temporary
   name.
3. a dropped connection, a 429 or a 5xx in the middle of a file is resumed with a
   ``Range`` request from the last byte received (or, when the server ignores ranges,
   by reading past the bytes already sent), a bounded number of times; then the file
   fails cleanly.
4. on success the temporary file is moved to its final name (atomic on the storage);
   on any failure or cancel it is removed (and purged from the recycle bin).

When at least one file landed, the destination folder and each pulled file get the
record's provenance (:mod:`.provenance`).

:meth:`PullService.start` is the whole request: it checks the destination folder, fetches
the record, plans the files and starts the job. No tornado and no HTTP codes here: the
errors are :class:`~mesh_zenodo.services.errors.ServiceError`, CS3 and Zenodo errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import posixpath
import unicodedata
from dataclasses import dataclass, field

from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from traitlets import Bool, Float, Instance, Int
from traitlets.config import LoggingConfigurable

from ..cs3 import errors as cs3_errors
from ..cs3.client import CS3Client
from ..zenodo import errors as zenodo_errors
from . import records
from ..zenodo.client import ZenodoClient
from . import provenance
from .errors import InvalidRequest
from .jobs import CANCELLED, CONFLICT, DONE, FAILED, RUNNING, SKIPPED, Job, JobItem, JobRegistry

ON_CONFLICT = ("ask", "rename", "overwrite", "skip")
PARTIAL_SUFFIX = ".mesh-zenodo-part"

#: errors after which a file transfer is resumed rather than failed at once
RESUMABLE = (
    zenodo_errors.Unreachable,  # includes TransferInterrupted, Timeout, ServiceUnavailable
    zenodo_errors.RateLimited,
    zenodo_errors.ServerError,
)

log = logging.getLogger("mesh_zenodo.pulls")


class InvalidPull(InvalidRequest):
    """A pull that cannot be carried out as asked (unknown keys...)."""


@dataclass
class PullFile:
    key: str
    size: int
    md5: str | None
    url: str


@dataclass
class PullPlan:
    record: dict
    files: list[PullFile]
    #: CS3 path of the destination folder
    destination: str
    #: the same folder as the user sees it (Jupyter contents path), for results and messages
    display: str
    on_conflict: str = "ask"
    base_url: str = ""
    provenance: dict[str, str] = field(default_factory=dict)


def unsafe_name(key: str) -> str | None:
    """Why ``key`` cannot be a file name in the destination folder, or None."""
    if not key or key in (".", ".."):
        return "an empty or relative file name"
    if "/" in key or "\\" in key:
        return "a file name with a path separator"
    if any(unicodedata.category(c) == "Cc" for c in key):
        return "a file name with control characters"
    if len(key.encode()) > 255:
        return "a file name longer than 255 bytes"
    if key.endswith(PARTIAL_SUFFIX):
        return "a file name reserved for partial downloads"
    return None


_DOUBLE_EXTENSIONS = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".nii.gz")


def renamed(name: str, n: int) -> str:
    """``data (n).csv`` for ``data.csv``, as Reva/ownCloud name a copy."""
    lower = name.lower()
    for ext in _DOUBLE_EXTENSIONS:
        if lower.endswith(ext) and len(name) > len(ext):
            return f"{name[: -len(ext)]} ({n}){name[-len(ext):]}"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:  # no extension, or a dot file
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"


def temp_name(name: str, job_id: str) -> str:
    return f".{name}.{job_id[:8]}{PARTIAL_SUFFIX}"


def plan_pull(
    record: dict,
    keys: list[str] | None,
    *,
    destination: str,
    display: str,
    on_conflict: str = "ask",
    base_url: str,
) -> PullPlan:
    """What to pull: the record's files named by ``keys`` (all when None)."""
    if on_conflict not in ON_CONFLICT:
        raise InvalidPull(f"on_conflict must be one of {', '.join(ON_CONFLICT)}")
    available = records.files_of(record, base_url)
    by_key = {f["key"]: f for f in available}
    if keys is None:
        chosen = available
    else:
        unknown = [k for k in keys if k not in by_key]
        if unknown:
            shown = ", ".join(repr(k) for k in unknown[:5])
            raise InvalidPull(f"record {records.record_id(record)} has no file {shown}")
        seen: set[str] = set()
        chosen = []
        for k in keys:
            if k not in seen:
                seen.add(k)
                chosen.append(by_key[k])
    if not chosen:
        raise InvalidPull(f"record {records.record_id(record)} has no files to pull")
    return PullPlan(
        record=record,
        files=[PullFile(f["key"], f["size"], f["md5"], f["url"]) for f in chosen],
        destination=destination.rstrip("/") or "/",
        display=display.strip("/"),
        on_conflict=on_conflict,
        base_url=base_url,
        provenance=provenance.of_record(record, base_url),
    )


class PullService(LoggingConfigurable):
    """Pulls Zenodo records into the storage, each as a job (see :mod:`.jobs`)."""

    jobs = Instance(JobRegistry, help="Where pulls run and report their progress.")

    concurrency = Int(2, config=True, help="Files of one pull transferred at the same time.")
    attempts = Int(
        5,
        config=True,
        help="Attempts per file when the transfer breaks off (dropped connection, 429, 5xx): "
        "each resumes where the previous one stopped.",
    )
    retry_delay = Float(1.0, config=True, help="Seconds before resuming a broken transfer (doubles each time).")
    verify_with_storage_checksum = Bool(
        True,
        config=True,
        help="Once the storage has shown (on a file this server hashed itself) that it reports correct MD5 "
        "checksums, verify later files with the storage's checksum instead of hashing every byte here "
        "(about 2 CPU-seconds per GiB less in the Jupyter server). A mismatch still fails the file and removes it.",
    )
    hash_in_thread = Int(
        256 << 10,
        config=True,
        help="Chunks of at least this many bytes are hashed in a worker thread, off the event loop.",
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        #: does the storage report MD5 checksums that match? None until a file told
        self._storage_md5: bool | None = None

    async def start(
        self,
        zenodo: ZenodoClient,
        cs3: CS3Client,
        record_id: str,
        keys: list[str] | None,
        *,
        folder: str,
        display: str,
        on_conflict: str = "ask",
    ) -> Job:
        """Start pulling the files ``keys`` (all when None) of the record ``record_id``
        into ``folder`` (a CS3 path; ``display`` is the same folder as the user sees it).
        Returns the running job. Raises before anything is written: NotFound or
        InvalidRequest for the folder, Zenodo's errors for the record, InvalidPull for
        the keys."""
        display = display.strip("/")
        info = await cs3.exists(folder)
        if info is None:
            raise cs3_errors.NotFound(f"no folder /{display}")
        if info.type != spr.RESOURCE_TYPE_CONTAINER:
            raise InvalidRequest(f"/{display} is a file, not a folder")
        record = await records.fetch_record(zenodo, record_id)
        plan = plan_pull(
            record, keys, destination=folder, display=display, on_conflict=on_conflict, base_url=zenodo.base_url
        )
        values = plan.provenance
        title = values.get("zenodo.title") or f"record {record_id}"
        job = Job(
            "pull",
            f"{title} → /{display}",
            [JobItem(f.key, f.key, f.size) for f in plan.files],
            source={
                "type": "zenodo-record",
                "record_id": values.get("zenodo.record_id") or str(record_id),
                "title": title,
                "doi": values.get("zenodo.doi") or None,
                "version": values.get("zenodo.version") or None,
                "base_url": zenodo.base_url,
            },
            destination={"type": "folder", "path": display},
        )
        return self.jobs.start(job, lambda job: self.run(job, plan, zenodo, cs3))

    async def run(self, job: Job, plan: PullPlan, zenodo: ZenodoClient, cs3: CS3Client) -> None:
        """Pull ``plan`` into the storage, reporting on ``job``'s items (one per file,
        ``id`` = the file's key). Returns normally when every file reached a final
        state; cancelling the task aborts transfers and removes partial files."""
        job.result = {
            "record_id": plan.provenance.get("zenodo.record_id"),
            "doi": plan.provenance.get("zenodo.doi") or None,
            "version": plan.provenance.get("zenodo.version") or None,
            "destination": plan.display,
            "files": [],
        }
        existing = await self._names(cs3, plan.destination)
        reserved: set[str] = set()
        semaphore = asyncio.Semaphore(max(1, self.concurrency))

        async def one(pf: PullFile) -> None:
            async with semaphore:
                await self._pull_file(job, plan, pf, zenodo, cs3, existing, reserved)

        job.log("info", f"pulling {len(plan.files)} file(s) of record {job.result['record_id']} into /{plan.display}")
        await asyncio.gather(*(one(pf) for pf in plan.files))

        landed = [i for i in job.items if i.state == DONE]
        job.result["files"] = [i.result for i in job.items if i.result]
        if landed:
            try:
                keys = [i.result["key"] for i in landed if i.result and i.result.get("key")]
                await provenance.record_folder(cs3, plan.destination, plan.provenance, keys)
            except cs3_errors.CS3Error as err:
                job.log("warning", f"could not record the provenance on /{plan.display}: {err.message}")
        summary = {state: sum(1 for i in job.items if i.state == state) for state in (DONE, SKIPPED, CONFLICT, FAILED)}
        job.log("info", ", ".join(f"{n} {state}" for state, n in summary.items() if n) or "nothing to do")

    # ------------------------------------------------------------------ one file

    async def _pull_file(self, job, plan, pf: PullFile, zenodo, cs3, existing: set[str], reserved: set[str]) -> None:
        item = job.item(pf.key)
        reason = unsafe_name(pf.key)
        if reason:
            item.finish(FAILED, f"not pulled: {reason}")
            return
        item.state = RUNNING
        temp = None
        try:
            name, overwrite = await self._choose_name(job, item, plan, pf, cs3, existing, reserved)
            if name is None:
                return
            temp = posixpath.join(plan.destination, temp_name(name, job.id))
            await self._transfer(job, item, pf, temp, zenodo, cs3)
            name = await self._place(job, plan, pf, temp, name, overwrite, cs3, existing, reserved)
            temp = None
            if name is None:
                return
            target = posixpath.join(plan.destination, name)
            try:
                await provenance.record_file(cs3, target, plan.provenance, key=pf.key, md5=pf.md5, url=pf.url)
            except cs3_errors.CS3Error as err:
                job.log("warning", f"{name}: could not record its provenance: {err.message}")
            path = f"{plan.display}/{name}" if plan.display else name
            message = None if name == pf.key else f"saved as {name}"
            item.finish(DONE, message, path=path, name=name, key=pf.key, size=pf.size, md5=pf.md5)
        except asyncio.CancelledError:
            item.finish(CANCELLED, "cancelled")
            if temp is not None:
                await self._discard(cs3, temp)
            raise
        except (zenodo_errors.ZenodoError, cs3_errors.CS3Error) as err:
            item.finish(FAILED, err.message)
            job.log("error", f"{pf.key}: {err.message}")
            if temp is not None:
                await self._discard(cs3, temp)
        except Exception as err:  # never let one file take the others down
            log.exception("mesh-zenodo: pulling %s failed", pf.key)
            item.finish(FAILED, f"internal error ({type(err).__name__}); see the server log")
            if temp is not None:
                await self._discard(cs3, temp)

    async def _choose_name(self, job, item: JobItem, plan: PullPlan, pf: PullFile, cs3, existing, reserved):
        """``(name, overwrite)``, or ``(None, False)`` when the item ended here."""
        name = pf.key
        info = await cs3.exists(posixpath.join(plan.destination, name))
        if info is None and name not in reserved:
            reserved.add(name)
            return name, False
        is_folder = info is not None and info.type == spr.RESOURCE_TYPE_CONTAINER
        if (
            info is not None
            and not is_folder
            and pf.md5
            and info.checksum.type == spr.RESOURCE_CHECKSUM_TYPE_MD5
            and info.checksum.sum.lower() == pf.md5
            and plan.on_conflict != "rename"
        ):
            path = f"{plan.display}/{name}" if plan.display else name
            item.bytes_done = item.bytes_total
            item.finish(SKIPPED, "already there, with the same content", path=path, name=name, key=pf.key, size=pf.size, md5=pf.md5)
            return None, False
        if plan.on_conflict == "ask":
            item.finish(CONFLICT, f"{name} already exists in /{plan.display}")
            return None, False
        if plan.on_conflict == "skip":
            item.finish(SKIPPED, f"{name} already exists; left as it is")
            return None, False
        if plan.on_conflict == "overwrite":
            if is_folder:
                item.finish(FAILED, f"{name} is a folder; it is not replaced by a file")
                return None, False
            reserved.add(name)
            return name, True
        existing.add(name)
        name = self._free_name(pf.key, existing, reserved)
        reserved.add(name)
        return name, False

    @staticmethod
    def _free_name(key: str, existing: set[str], reserved: set[str]) -> str:
        n = 1
        while True:
            candidate = renamed(key, n)
            if candidate not in existing and candidate not in reserved:
                return candidate
            n += 1

    async def _place(self, job, plan, pf, temp: str, name: str, overwrite: bool, cs3, existing, reserved) -> str | None:
        """Move the verified temporary file to its final name; returns that name."""
        for _ in range(20):
            target = posixpath.join(plan.destination, name)
            if overwrite:
                try:
                    await cs3.delete(target)  # the old content goes to the recycle bin
                except cs3_errors.NotFound:
                    pass
            try:
                await cs3.move(temp, target)
                existing.add(name)
                return name
            except (cs3_errors.AlreadyExists, cs3_errors.PreconditionFailed):
                # the name was taken while the file was transferring
                existing.add(name)
                if plan.on_conflict == "rename":
                    name = self._free_name(pf.key, existing, reserved)
                    reserved.add(name)
                    continue
                if overwrite:
                    continue
                await self._discard(cs3, temp)
                item = job.item(pf.key)
                if plan.on_conflict == "skip":
                    item.finish(SKIPPED, f"{name} appeared meanwhile; left as it is")
                else:
                    item.finish(CONFLICT, f"{name} already exists in /{plan.display}")
                return None
        raise cs3_errors.AlreadyExists(f"could not find a free name for {pf.key}")

    async def _names(self, cs3, folder: str) -> set[str]:
        infos = await cs3.list_container(folder)
        return {info.name or posixpath.basename(info.path) for info in infos}

    async def _discard(self, cs3, temp: str) -> None:
        """Remove a temporary file (and its recycle-bin entry); never raises."""
        try:
            await cs3.delete(temp)
        except cs3_errors.NotFound:
            return
        except Exception as err:  # noqa: BLE001 - clean-up is best effort
            log.warning("mesh-zenodo: could not remove the partial file %s: %s", temp, err)
            return
        try:
            for entry in await cs3.list_recycle(posixpath.dirname(temp)):
                if entry.ref.path == temp:
                    await cs3.purge_recycle(posixpath.dirname(temp), entry.key)
        except Exception as err:  # noqa: BLE001 - the storage may not allow purging
            log.info("mesh-zenodo: the partial file %s stays in the recycle bin: %s", temp, err)

    # ------------------------------------------------------------------ transfer

    async def _transfer(self, job: Job, item: JobItem, pf: PullFile, temp: str, zenodo, cs3) -> None:
        """Stream ``pf`` into ``temp`` with one storage upload, resuming broken downloads,
        and verify its md5: here while streaming (the last chunk held back, so that a
        mismatch aborts the upload before the storage commits anything), or, once the
        storage has shown that it reports MD5 checksums, by comparing the checksum it
        computed (the temporary file is then removed on a mismatch)."""
        trust_storage = self.verify_with_storage_checksum and self._storage_md5 is True and pf.md5 is not None
        failure: dict[str, BaseException] = {}
        digest = None if trust_storage else hashlib.md5()
        body = self._body(job, item, pf, zenodo, failure, digest)
        try:
            await cs3.upload(temp, body, pf.size)
        except cs3_errors.CS3Error:
            if "error" in failure:
                raise failure["error"] from None
            raise
        finally:
            # the HTTP client runs the body in its own task; it may still be unwinding
            with contextlib.suppress(RuntimeError):
                await body.aclose()
        if "error" in failure:  # the body failed but the storage still answered: be safe
            raise failure["error"]
        if not self.verify_with_storage_checksum or pf.md5 is None or self._storage_md5 is False:
            return
        info = await cs3.stat(temp)
        stored = info.checksum.sum.lower() if info.checksum.type == spr.RESOURCE_CHECKSUM_TYPE_MD5 else None
        if digest is not None:  # verified here; learn whether the storage's checksum can be trusted
            if self._storage_md5 is None:
                self._storage_md5 = stored == digest.hexdigest()
            return
        if stored is None:
            self._storage_md5 = False
            raise zenodo_errors.ChecksumMismatch(
                f"{pf.key}: the storage reported no md5 to verify the file with; pull it again"
            )
        if stored != pf.md5:
            raise zenodo_errors.ChecksumMismatch(
                f"{pf.key}: the md5 of the bytes received ({stored}) is not the record's ({pf.md5}); "
                "the file was not saved"
            )

    async def _body(self, job: Job, item: JobItem, pf: PullFile, zenodo, failure: dict, md5):
        offset = 0
        attempts = 0
        etag = None
        held: bytes | None = None
        try:
            while offset < pf.size:
                try:
                    async with zenodo.open_file(pf.url, offset=offset, if_range=etag, action=f"downloading {pf.key}") as stream:
                        if etag is None:
                            etag = stream.etag
                        if stream.size is not None and stream.size != pf.size:
                            raise zenodo_errors.ChecksumMismatch(
                                f"downloading {pf.key} failed: Zenodo sent {stream.size} bytes, the record says {pf.size}"
                            )
                        skip = offset - stream.offset  # > 0 when the server ignored the Range
                        async for chunk in stream.chunks():
                            if skip:
                                if len(chunk) <= skip:
                                    skip -= len(chunk)
                                    continue
                                chunk = chunk[skip:]
                                skip = 0
                            if offset + len(chunk) > pf.size:
                                raise zenodo_errors.ChecksumMismatch(
                                    f"downloading {pf.key} failed: Zenodo sent more than the {pf.size} bytes announced"
                                )
                            if md5 is not None:
                                if len(chunk) >= self.hash_in_thread:
                                    await asyncio.to_thread(md5.update, chunk)
                                else:
                                    md5.update(chunk)
                            offset += len(chunk)
                            item.bytes_done = offset
                            if md5 is None:
                                yield chunk
                                continue
                            if held is not None:
                                yield held
                            held = chunk
                        if offset < pf.size:
                            raise zenodo_errors.TransferInterrupted(
                                f"downloading {pf.key} failed: the download ended after {offset} of {pf.size} bytes"
                            )
                except RESUMABLE as err:
                    attempts += 1
                    if attempts >= self.attempts:
                        raise
                    delay = self.retry_delay * (2 ** (attempts - 1))
                    if isinstance(err, zenodo_errors.RateLimited) and err.retry_after:
                        delay = max(delay, min(err.retry_after, 60.0))
                    job.log("warning", f"{pf.key}: {err.message}; resuming at byte {offset} (attempt {attempts + 1} of {self.attempts})")
                    await asyncio.sleep(delay)
            if md5 is not None:
                digest = md5.hexdigest()
                if pf.md5 and digest != pf.md5:
                    raise zenodo_errors.ChecksumMismatch(
                        f"{pf.key}: the md5 of the bytes received ({digest}) is not the record's ({pf.md5}); "
                        "the file was not saved"
                    )
                if held is not None:
                    yield held  # only now can the storage commit the file
        except (zenodo_errors.ZenodoError, asyncio.CancelledError) as err:
            failure["error"] = err
            raise
