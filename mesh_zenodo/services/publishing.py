"""Publishing a folder of the storage to Zenodo: a consistent snapshot as a record.

:meth:`PublishService.start` takes a folder (typically a share or project a group worked
in), the record's metadata (``.zenodo.json`` vocabulary, :mod:`.metadata`) and options,
and runs the publication as a job (:mod:`.jobs`), through Zenodo's InvenioRDM records API:

1. **Draft.** Create a draft (or, for a new version, ``POST /api/records/<id>/versions``
   with ``files-import`` of the previous files), reserve its DOI, and note the draft on
   the folder (CS3 arbitrary metadata :data:`PUBLISHING_KEY`) at once: running the same
   publication again after a crash, a restart or a broken network continues this draft,
   never a second one.
2. **Snapshot.** Optionally write the reserved DOI into the folder's ``CITATION.cff`` and
   README; then list the folder and record each file's size and etag. These are the
   files of the publication: a file that changes while it is uploaded stops the
   publication with a message (never a mix of two states).
3. **Layout** (:func:`layout`). Top-level files go as they are; each top-level subfolder
   as one streamed ``<subfolder>.zip`` (:mod:`.zipstream`) with its layout kept; if that
   still makes more than Zenodo's 100 files, the top-level files go into one more zip. A
   ``manifest.json`` (paths, sizes, md5, etags, which upload holds each) goes last.
4. **Upload.** Several files at once, each streamed from the storage into Zenodo and
   checked against Zenodo's md5; files already in the draft with the right md5 are
   skipped (resume), changed ones replaced, removed ones deleted (new version).
5. **Publish**, if asked (a draft is left otherwise). The folder then carries where it was
   published (:data:`PUBLISHED_KEY`: record, DOI, concept DOI, version, URL), shown in
   Lab and used for the next "New version". A folder already published is never
   published again as an unrelated record: :class:`AlreadyPublished` asks for
   ``new_version``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import posixpath
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from jupyter_core.paths import jupyter_data_dir
from traitlets import Instance, Int, Unicode, default
from traitlets.config import LoggingConfigurable

from ..cs3 import errors as cs3_errors
from ..cs3.client import CS3Client
from ..zenodo import errors as zenodo_errors
from ..zenodo.client import ZenodoClient
from . import metadata as md
from .errors import InvalidRequest, ServiceError
from .jobs import DONE, RUNNING, SKIPPED, Job, JobItem, JobRegistry
from .private_files import unlink_quietly, write_private
from .zipstream import ZipMember, ZipStream

#: on the folder: the publication under way (``{base_url, draft_id, new_version_of}``)
PUBLISHING_KEY = "mesh-zenodo.publishing"
#: on the folder: where it was last published (``{base_url, record_id, doi, concept_doi,
#: concept_record_id, version, url, state, published_at}``)
PUBLISHED_KEY = "mesh-zenodo.published"
#: Zenodo's limits
MAX_FILES = 100
MAX_RECORD_BYTES = 50 * 10**9
MANIFEST = "manifest.json"
#: names never published (besides hidden files, unless asked)
SKIPPED_NAMES = {".ipynb_checkpoints", "__pycache__"}
README_NAMES = ("README.md", "README.rst", "README.txt", "README")


class AlreadyPublished(ServiceError):
    """The folder was published before: publish a new version of that record, or nothing."""

    http_status = 409

    def __init__(self, message: str, previous: dict[str, Any]) -> None:
        super().__init__(message)
        self.previous = previous

    def details(self) -> dict:
        return {"previous": self.previous}


class Forbidden(ServiceError):
    """The user may read the folder but not note a publication on it."""

    http_status = 403


class LegacyOnly(ServiceError):
    """The Zenodo server has only the legacy deposit API (no InvenioRDM records API)."""

    http_status = 409


class SnapshotChanged(ServiceError):
    """A file changed while it was being published."""

    http_status = 409


@dataclass
class SnapshotFile:
    """One file of the folder as it was at the snapshot."""

    path: str  # CS3 path
    rel: str  # relative to the folder, "/"-separated
    size: int
    etag: str
    mtime: float
    md5: str | None = None  # the storage's checksum, when it gives one; else computed on upload


@dataclass
class Upload:
    """One file of the record: a file of the folder, or a zip of several."""

    key: str
    members: list[SnapshotFile]
    archive: bool
    size: int = 0
    md5: str | None = None
    state: str = "pending"

    @property
    def member_etags(self) -> dict[str, str]:
        return {m.rel: m.etag for m in self.members}


@dataclass
class PublishRequest:
    folder: str  # CS3 path
    display: str  # as the user sees it
    metadata: dict[str, Any]
    selection: list[str] | None = None  # relative paths; None: all
    publish: bool = False
    new_version: bool = False
    cite_doi: bool = False
    include_hidden: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": self.folder, "display": self.display, "metadata": self.metadata, "selection": self.selection,
            "publish": self.publish, "new_version": self.new_version, "cite_doi": self.cite_doi,
            "include_hidden": self.include_hidden,
        }


@dataclass
class Outcome:
    """What a publication produced (the job's result, the CLI's ``--json``)."""

    record_id: str
    doi: str | None
    concept_doi: str | None
    url: str | None
    state: str  # "draft" | "published"
    files: list[dict[str, Any]] = field(default_factory=list)
    version: str | None = None
    #: communities that could not be asked to include the record
    community_problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id, "doi": self.doi, "concept_doi": self.concept_doi, "url": self.url,
            "state": self.state, "files": self.files, "version": self.version,
            "community_problems": self.community_problems,
        }


def layout(files: list[SnapshotFile], folder_name: str) -> list[Upload]:
    """How the snapshot goes into a record (see the module doc). Raises InvalidRequest
    when even the zipped layout has more than Zenodo's 100 files."""
    top = [f for f in files if "/" not in f.rel]
    groups: dict[str, list[SnapshotFile]] = {}
    for f in files:
        if "/" in f.rel:
            groups.setdefault(f.rel.split("/", 1)[0], []).append(f)
    uploads = [Upload(key=f.rel, members=[f], archive=False, size=f.size) for f in top]
    taken = {u.key for u in uploads} | {MANIFEST}
    for name in sorted(groups):
        key = _free_key(f"{name}.zip", taken)
        taken.add(key)
        uploads.append(Upload(key=key, members=sorted(groups[name], key=lambda m: m.rel), archive=True))
    if len(uploads) + 1 > MAX_FILES and top:
        archives = [u for u in uploads if u.archive]
        key = _free_key(f"{folder_name or 'files'}-files.zip", {u.key for u in archives} | {MANIFEST})
        uploads = [Upload(key=key, members=sorted(top, key=lambda m: m.rel), archive=True), *archives]
    if len(uploads) + 1 > MAX_FILES:
        raise InvalidRequest(
            f"{len(uploads)} uploads (top-level files and subfolders) are more than Zenodo's {MAX_FILES} files per "
            "record: group the subfolders into fewer folders"
        )
    for u in uploads:
        if u.archive:
            u.size = ZipStream([ZipMember(m.rel, m.size, _never, m.mtime) for m in u.members]).size
    total = sum(u.size for u in uploads)
    if total > MAX_RECORD_BYTES:
        raise InvalidRequest(f"the files come to {total} bytes, more than Zenodo's {MAX_RECORD_BYTES} bytes per record")
    return uploads


def _free_key(key: str, taken: set[str]) -> str:
    stem, ext = posixpath.splitext(key)
    n, candidate = 1, key
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{ext}"
    return candidate


@contextlib.asynccontextmanager
async def _never():  # pragma: no cover - only sizes are computed from these members
    raise AssertionError("not readable")
    yield


def _now() -> str:
    return datetime.now(tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class PublishService(LoggingConfigurable):
    """Publishes folders of the storage to Zenodo, each publication a job."""

    jobs = Instance(JobRegistry, help="Where publications run and report their progress.")
    concurrency = Int(3, config=True, help="Files of one publication uploaded at the same time.")
    state_dir = Unicode(config=True, help="Where running publications are remembered across a restart.")

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "mesh-zenodo", "publications")

    # ------------------------------------------------------------------ reading the folder

    async def previous(self, cs3: CS3Client, folder: str) -> tuple[dict | None, dict | None]:
        """(where the folder was last published, the publication under way), from its metadata."""
        info = await cs3.stat(folder, (PUBLISHED_KEY, PUBLISHING_KEY))
        return (_json_value(info, PUBLISHED_KEY), _json_value(info, PUBLISHING_KEY))

    async def snapshot(
        self, cs3: CS3Client, folder: str, *, include_hidden: bool = False, selection: list[str] | None = None
    ) -> list[SnapshotFile]:
        """The folder's files now (recursively), with their sizes and etags."""
        info = await cs3.stat(folder)
        if info.type != spr.RESOURCE_TYPE_CONTAINER:
            raise InvalidRequest(f"{posixpath.basename(folder)} is a file: publish a folder")
        out: list[SnapshotFile] = []
        await self._walk(cs3, folder, "", include_hidden, out)
        if selection is not None:
            wanted = {s.strip("/") for s in selection}
            unknown = sorted(wanted - {f.rel for f in out})
            if unknown:
                raise InvalidRequest(f"not files of the folder: {', '.join(unknown[:5])}")
            out = [f for f in out if f.rel in wanted]
        if not out:
            raise InvalidRequest("there are no files to publish in this folder")
        return sorted(out, key=lambda f: f.rel)

    async def _walk(self, cs3: CS3Client, path: str, rel: str, include_hidden: bool, out: list[SnapshotFile]) -> None:
        for child in await cs3.list_container(path):
            name = child.name or posixpath.basename(child.path)
            if name in SKIPPED_NAMES or (name.startswith(".") and not include_hidden):
                continue
            child_path, child_rel = posixpath.join(path, name), f"{rel}{name}"
            if child.type == spr.RESOURCE_TYPE_CONTAINER:
                await self._walk(cs3, child_path, child_rel + "/", include_hidden, out)
            elif child.type == spr.RESOURCE_TYPE_FILE:
                checksum = child.checksum.sum.lower() if child.checksum.type == spr.RESOURCE_CHECKSUM_TYPE_MD5 else None
                out.append(SnapshotFile(
                    path=child_path, rel=child_rel, size=child.size, etag=child.etag,
                    mtime=child.mtime.seconds + child.mtime.nanos / 1e9, md5=checksum or None,
                ))

    async def prepare(self, cs3: CS3Client, folder: str, *, brief: bool = False) -> dict[str, Any]:
        """What the Publish form starts from: the files, metadata prefilled from the
        folder's ``.zenodo.json`` / ``CITATION.cff`` / ``codemeta.json`` (or its previous
        publication), and where it was published before (only that when ``brief``)."""
        previous, publishing = await self.previous(cs3, folder)
        if brief:
            return {"previous": previous, "publishing": publishing}
        files: list[SnapshotFile] = []
        await self._walk(cs3, folder, "", True, files)
        sources: dict[str, str] = {}
        for f in files:
            if f.rel in (".zenodo.json", "CITATION.cff", "codemeta.json") and f.size < (1 << 20):
                sources[f.rel] = (await cs3.read_bytes(f.path, max_size=1 << 20)).decode("utf-8", "replace")
        prefill, source = md.prefill(sources) if sources else ({}, None)
        if not prefill and previous and isinstance(previous.get("metadata"), dict):
            prefill, source = previous["metadata"], "previous publication"
        files.sort(key=lambda f: f.rel)
        visible = [f for f in files if not any(p.startswith(".") for p in f.rel.split("/"))]
        return {
            "files": [{"path": f.rel, "size": f.size} for f in visible],
            "hidden_files": [{"path": f.rel, "size": f.size} for f in files if f not in visible],
            "prefill": prefill,
            "prefill_source": source,
            "previous": previous,
            "publishing": publishing,
        }

    # ------------------------------------------------------------------ starting

    async def start(self, zenodo: ZenodoClient, cs3: CS3Client, request: PublishRequest) -> Job:
        """Check everything that can be checked before a byte is sent, then start the job.
        Raises :class:`~.metadata.MetadataInvalid` (field errors), :class:`AlreadyPublished`,
        InvalidRequest (folder, layout), or the storage's and Zenodo's errors."""
        request.metadata = md.normalized(request.metadata)
        info = await cs3.stat(request.folder)
        if not info.permission_set.initiate_file_upload:
            raise Forbidden(
                f"/{request.display} is shared with you read-only: publishing notes the record on the folder, "
                "which needs edit access (copy the folder into your own files to publish it)"
            )
        previous, publishing = await self.previous(cs3, request.folder)
        if previous and not request.new_version and not (publishing and previous.get("state") == "draft"):
            raise AlreadyPublished(
                f"/{request.display} was published as record {previous.get('record_id')} "
                f"({previous.get('doi') or previous.get('url')}): publish a new version of it",
                previous,
            )
        if request.new_version and not previous:
            raise InvalidRequest(f"/{request.display} was never published: there is no record to add a version to")
        if not await zenodo.has_records_api():
            raise LegacyOnly(
                f"{zenodo.base_url} has only Zenodo's legacy deposit API (no /api/records drafts): mesh-zenodo "
                "publishes through InvenioRDM's records API, which zenodo.org and every InvenioRDM serve"
            )
        files = await self.snapshot(
            cs3, request.folder, include_hidden=request.include_hidden, selection=request.selection
        )
        layout(files, posixpath.basename(request.folder))  # refuse impossible layouts now
        running = [
            j for j in self.jobs.list("publish")
            if j.running and (j.source or {}).get("path") == request.display
        ]
        if running:
            raise InvalidRequest(f"/{request.display} is being published already (job {running[0].id})")
        job = Job(
            "publish",
            f"/{request.display} → {request.metadata.get('title') or 'Zenodo'}",
            source={"type": "folder", "path": request.display},
            destination={"type": "zenodo", "base_url": zenodo.base_url, "publish": request.publish},
        )
        state = self._remember(job, zenodo, request)
        return self.jobs.start(job, lambda job: self._run_and_forget(job, zenodo, cs3, request, state))

    async def _run_and_forget(self, job, zenodo, cs3, request, state: str) -> None:
        """Run; the note on this server's disk stays only if the server dies meanwhile."""
        try:
            await self.run(job, zenodo, cs3, request)
        finally:
            await asyncio.to_thread(unlink_quietly, state)

    def _remember(self, job: Job, zenodo: ZenodoClient, request: PublishRequest) -> str:
        """A running publication, on this server's disk (so that a restart lists it, to resume)."""
        path = os.path.join(self.state_dir, f"{job.id}.json")
        data = {"job": job.id, "base_url": zenodo.base_url, "request": request.to_json(), "started": _now()}
        with contextlib.suppress(OSError):
            write_private(path, json.dumps(data).encode())
        return path

    def interrupted(self) -> list[dict[str, Any]]:
        """Publications a previous run of this server did not finish (to resume)."""
        out = []
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.state_dir):
                if entry.name.endswith(".json") and entry.is_file() and self.jobs.get(entry.name[:-5]) is None:
                    with contextlib.suppress(OSError, ValueError):
                        with open(entry.path, encoding="utf-8") as fh:
                            note = json.load(fh)
                        if isinstance(note, dict) and isinstance(note.get("job"), str) and isinstance(
                            note.get("request"), dict
                        ):
                            out.append(note)
        return out

    def forget_interrupted(self, job_id: str) -> None:
        unlink_quietly(os.path.join(self.state_dir, f"{job_id}.json"))

    # ------------------------------------------------------------------ running

    async def run(self, job: Job, zenodo: ZenodoClient, cs3: CS3Client, request: PublishRequest) -> Outcome:
        """The publication (see the module doc), reporting on ``job``."""
        previous, publishing = await self.previous(cs3, request.folder)
        draft = await self._draft(job, zenodo, cs3, request, previous, publishing)
        draft_id = str(draft["id"])
        doi = await self._doi(job, zenodo, draft, request)
        job.result = {"record_id": draft_id, "doi": doi, "state": "draft", "url": _html(draft), "files": []}
        if request.cite_doi and doi:
            await self._cite(job, cs3, request.folder, doi)
        files = await self.snapshot(cs3, request.folder, include_hidden=request.include_hidden,
                                    selection=request.selection)
        uploads = layout(files, posixpath.basename(request.folder))
        job.items = [JobItem(u.key, u.key, u.size) for u in uploads] + [JobItem(MANIFEST, MANIFEST, 0)]
        existing = {e["key"]: e for e in await zenodo.list_draft_files(draft_id)}
        wanted = {u.key for u in uploads} | {MANIFEST}
        for key in sorted(set(existing) - wanted):
            job.log("info", f"removing {key} (no longer in the folder)")
            await zenodo.delete_draft_file(draft_id, key)
        semaphore = asyncio.Semaphore(max(1, self.concurrency))

        async def one(upload: Upload) -> None:
            async with semaphore:
                await self._upload(job, zenodo, cs3, draft_id, upload, existing.get(upload.key))

        await asyncio.gather(*(one(u) for u in uploads))
        await self._manifest(job, zenodo, draft_id, request, files, uploads, existing.get(MANIFEST))
        metadata = dict(request.metadata)
        if doi and not metadata.get("doi"):
            metadata["doi"] = doi
        with _fields_of(request.metadata):
            await zenodo.update_draft(draft_id, md.to_rdm(metadata))
        outcome_files = [
            {"key": u.key, "size": u.size, "md5": u.md5} for u in uploads
        ] + [{"key": MANIFEST, "size": job.item(MANIFEST).bytes_total, "md5": job.item(MANIFEST).result["md5"]}]
        if request.publish:
            job.log("info", "publishing the record")
            with _fields_of(request.metadata):
                record = await zenodo.publish_draft(draft_id)
            outcome = _outcome(record, "published", outcome_files)
            outcome.community_problems = await self._communities(job, zenodo, outcome.record_id, request.metadata)
        else:
            outcome = _outcome(await zenodo.get_draft(draft_id), "draft", outcome_files)
            outcome.doi = outcome.doi or doi
        await self._remember_on_folder(cs3, request, zenodo, outcome, previous)
        job.result = outcome.to_json()
        job.log("info", f"{'published' if request.publish else 'draft ready'}: {outcome.doi or outcome.url}")
        return outcome

    async def _draft(self, job, zenodo, cs3, request, previous, publishing) -> dict:
        """The draft to fill: the one under way (resume), a new version's, or a new one."""
        if publishing and publishing.get("base_url") == zenodo.base_url and publishing.get("draft_id"):
            try:
                draft = await zenodo.get_draft(publishing["draft_id"])
                job.log("info", f"continuing draft {publishing['draft_id']}")
                return draft
            except zenodo_errors.NotFound:
                job.log("info", f"draft {publishing['draft_id']} is gone; starting again")
        if request.new_version:
            if not previous or previous.get("base_url") != zenodo.base_url:
                raise InvalidRequest(
                    f"/{request.display} was not published on {zenodo.base_url}: there is no record to add a version to"
                )
            job.log("info", f"new version of record {previous['record_id']}")
            draft = await zenodo.new_version(previous["record_id"])
            await self._note_draft(cs3, request.folder, zenodo, draft, previous["record_id"])
            if not (draft.get("files") or {}).get("count"):  # (a resumed one has them already)
                await zenodo.import_files(draft["id"])
            return draft
        with _fields_of(request.metadata):
            draft = await zenodo.create_draft(md.to_rdm(request.metadata))
        await self._note_draft(cs3, request.folder, zenodo, draft, None)
        job.log("info", f"created draft {draft['id']}")
        return draft

    async def _communities(self, job: Job, zenodo: ZenodoClient, record_id: str, metadata: dict) -> list[str]:
        """Ask the record's communities to include it (their curators decide; a refusal
        is reported, the record stays published)."""
        slugs = md.rdm_communities(metadata)
        if not slugs:
            return []
        try:
            problems = await zenodo.request_communities(record_id, slugs)
        except zenodo_errors.ZenodoError as err:
            problems = [err.message]
        for problem in problems:
            job.log("warning", f"community inclusion {problem}")
        asked = len(slugs) - len(problems)
        if asked > 0:
            job.log("info", f"asked {asked} communit{'y' if asked == 1 else 'ies'} to include the record")
        return problems

    async def _note_draft(self, cs3, folder, zenodo, draft, new_version_of) -> None:
        value = {"base_url": zenodo.base_url, "draft_id": str(draft["id"]), "new_version_of": new_version_of,
                 "started": _now()}
        await cs3.set_arbitrary_metadata(folder, {PUBLISHING_KEY: json.dumps(value)})

    async def _doi(self, job, zenodo, draft, request) -> str | None:
        if request.metadata.get("doi"):
            return request.metadata["doi"]
        reserved = ((draft.get("pids") or {}).get("doi") or {}).get("identifier")
        if reserved:
            return reserved
        doi = await zenodo.reserve_doi(draft["id"])
        job.log("info", f"reserved the DOI {doi}")
        return doi

    async def _cite(self, job: Job, cs3: CS3Client, folder: str, doi: str) -> None:
        """Write the reserved DOI into the folder's CITATION.cff and README (before the snapshot)."""
        for name, change in (("CITATION.cff", md.with_doi_in_citation_cff), *[
            (n, lambda text, doi, n=n: md.with_doi_in_readme(text, doi, markdown=n.endswith(".md"))) for n in README_NAMES
        ]):
            path = posixpath.join(folder, name)
            info = await cs3.exists(path)
            if info is None or info.size > (4 << 20):
                continue
            text = (await cs3.read_bytes(path, max_size=4 << 20)).decode("utf-8")
            changed = change(text, doi)
            if changed != text:
                await cs3.upload(path, changed.encode("utf-8"), if_match=info.etag)
                job.log("info", f"wrote the DOI into {name}")
            if name != "CITATION.cff":
                break  # one README

    async def _upload(self, job, zenodo, cs3, draft_id: str, upload: Upload, present: dict | None) -> None:
        item = job.item(upload.key)
        item.state = RUNNING
        known = upload.members[0].md5 if not upload.archive else None
        stored = md5_of(present)
        if present is not None and stored and known and stored == known:
            upload.md5 = known
            item.bytes_done = upload.size
            item.finish(SKIPPED, "already uploaded", md5=known)
            return
        if present is not None and stored and upload.archive:
            remembered = self._zip_md5(draft_id, upload)
            if remembered and remembered == stored:
                upload.md5 = stored
                item.bytes_done = upload.size
                item.finish(SKIPPED, "already uploaded", md5=stored)
                return
        if present is not None:
            await zenodo.delete_draft_file(draft_id, upload.key)
        stream = _Source(cs3, upload, item)
        await stream.check_all()  # the snapshot content gone: stop before sending anything
        try:
            entry = await self._send(zenodo, draft_id, upload, stream, known)
        except BaseException:
            # cancelled or failed: leave a clean draft (no half-uploaded file entry)
            with contextlib.suppress(Exception):
                await asyncio.shield(zenodo.delete_draft_file(draft_id, upload.key))
            raise
        upload.md5 = md5_of(entry)
        if not upload.archive:
            upload.members[0].md5 = upload.md5
        for member, member_md5 in stream.member_md5.items():
            for m in upload.members:
                if m.rel == member:
                    m.md5 = member_md5
        if upload.archive:
            self._remember_zip(draft_id, upload)
        item.bytes_done = upload.size
        item.finish(DONE, None, md5=upload.md5)

    @staticmethod
    async def _send(zenodo, draft_id: str, upload: Upload, stream: _Source, known: str | None) -> dict:
        """Upload once; if a member moved while it was sent, once more (it is then read
        from the version holding its snapshot content)."""
        for attempt in (1, 2):
            try:
                entry = await zenodo.upload_draft_file(draft_id, upload.key, stream.fresh, upload.size, md5=known)
            except zenodo_errors.ChecksumMismatch:
                stream.raise_if_changed()
                if not stream.again or attempt == 2:
                    raise
            else:
                stream.raise_if_changed()
                if not stream.again:
                    return entry
            if attempt == 1:
                with contextlib.suppress(zenodo_errors.NotFound):
                    await zenodo.delete_draft_file(draft_id, upload.key)
        raise SnapshotChanged(f"{upload.key} kept changing while it was published: publish again")

    async def _manifest(self, job, zenodo, draft_id, request, files, uploads, present) -> None:
        manifest = {
            "folder": "/" + request.display,
            "snapshot": _now(),
            "generator": "mesh-zenodo",
            "files": [
                {"path": f.rel, "size": f.size, "md5": f.md5, "etag": f.etag,
                 "in": next(u.key for u in uploads if f in u.members)}
                for f in files
            ],
            "uploads": [{"key": u.key, "size": u.size, "md5": u.md5, "archive": u.archive} for u in uploads],
        }
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        item = job.item(MANIFEST)
        item.bytes_total = len(body)
        digest = hashlib.md5(body).hexdigest()
        if present is not None and md5_of(present) == digest:
            item.finish(SKIPPED, "already uploaded", md5=digest)
            return
        if present is not None:
            await zenodo.delete_draft_file(draft_id, MANIFEST)
        await zenodo.upload_draft_file(draft_id, MANIFEST, body, len(body), md5=digest)
        item.bytes_done = len(body)
        item.finish(DONE, None, md5=digest)

    async def _remember_on_folder(self, cs3, request, zenodo, outcome: Outcome, previous) -> None:
        value = {
            "base_url": zenodo.base_url, "record_id": outcome.record_id, "doi": outcome.doi,
            "concept_doi": outcome.concept_doi, "version": outcome.version, "url": outcome.url,
            "state": outcome.state, "published_at": _now() if outcome.state == "published" else None,
            "metadata": request.metadata,
        }
        if outcome.state == "draft" and previous and previous.get("state") == "published":
            # a new version left as a draft: the folder still points at the published one
            value = {**previous, "draft": {"record_id": outcome.record_id, "doi": outcome.doi, "url": outcome.url}}
        await cs3.set_arbitrary_metadata(request.folder, {PUBLISHED_KEY: json.dumps(value)})
        if outcome.state == "published":
            await cs3.unset_arbitrary_metadata(request.folder, [PUBLISHING_KEY])

    # ------------------------------------------------------------------ zips across resumes

    def _zip_file(self, draft_id: str) -> str:
        return os.path.join(self.state_dir, "zips", f"{hashlib.sha256(draft_id.encode()).hexdigest()[:16]}.json")

    def _zip_md5(self, draft_id: str, upload: Upload) -> str | None:
        try:
            with open(self._zip_file(draft_id), encoding="utf-8") as fh:
                known = json.load(fh).get(upload.key) or {}
        except (OSError, ValueError):
            return None
        return known.get("md5") if known.get("members") == upload.member_etags else None

    def _remember_zip(self, draft_id: str, upload: Upload) -> None:
        path = self._zip_file(draft_id)
        with contextlib.suppress(OSError, ValueError):
            known = {}
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    known = json.load(fh)
            known[upload.key] = {"members": upload.member_etags, "md5": upload.md5}
            write_private(path, json.dumps(known).encode())


class _Source:
    """The bytes of one upload from the storage (a file, or a zip of files), for each
    attempt a fresh stream of exactly the declared size, always of the snapshot.

    Each member is checked against its snapshot etag before and after it is read. A
    member that moved on is read from the version that keeps its snapshot content (the
    storage keeps the previous content of every overwrite; :attr:`pinned`); one that
    moved while it was being read makes the upload go again (:attr:`again`), from that
    version. Only when the snapshot content is gone (removed, or no version left) is the
    change noted (:attr:`changed`) rather than raised mid-stream (the receiving server
    would wait for the bytes it was promised); :meth:`raise_if_changed` stops the
    publication after the request."""

    def __init__(self, cs3: CS3Client, upload: Upload, item: JobItem) -> None:
        self.cs3, self.upload, self.item = cs3, upload, item
        self.member_md5: dict[str, str] = {}
        self.changed: list[str] = []
        self.pinned: dict[str, str] = {}  # member rel -> version key holding its snapshot
        self.again = False

    async def check_all(self) -> None:
        for member in self.upload.members:
            await self._check(member)
        self.raise_if_changed()

    def raise_if_changed(self) -> None:
        if self.changed:
            raise SnapshotChanged(f"{self.changed[0]}: publish again to take the new state")

    def fresh(self) -> AsyncIterator[bytes]:
        self.item.bytes_done = 0
        self.changed = []
        self.again = False
        if self.upload.archive:
            return self._archive()
        return self._file(self.upload.members[0])

    async def _file(self, member: SnapshotFile) -> AsyncIterator[bytes]:
        # (the Zenodo client hashes what it sends, and checks what Zenodo committed)
        count = 0
        async with self._read(member) as chunks:
            async for chunk in chunks:
                chunk = chunk[: max(0, member.size - count)]
                if not chunk:
                    continue
                count += len(chunk)
                self.item.bytes_done += len(chunk)
                yield chunk
        if count < member.size:  # shrank meanwhile: keep the promised length, go again
            self.again = True
            yield b"\0" * (member.size - count)

    async def _archive(self) -> AsyncIterator[bytes]:
        members = [ZipMember(m.rel, m.size, self._opener(m), m.mtime) for m in self.upload.members]
        stream = ZipStream(members)
        async for chunk in stream.chunks():
            self.item.bytes_done += len(chunk)
            yield chunk
        if stream.problems:  # a member's length moved under the zip: go again
            self.again = True
        self.member_md5 = {m.name: m.md5 for m in members if m.md5}

    def _opener(self, member: SnapshotFile):
        return lambda: self._read(member)

    @contextlib.asynccontextmanager
    async def _read(self, member: SnapshotFile):
        if member.rel not in self.pinned and await self._check(member) and member.rel not in self.pinned:
            yield _nothing()  # its snapshot is gone (noted): padded, and the publication stops after
            return
        key = self.pinned.get(member.rel)
        async with self.cs3.download(member.path, version_key=key) as (_, chunks):
            yield chunks
        if key is None and await self._check(member):
            self.again = True  # moved while it was read: the bytes sent may mix two states

    async def _check(self, member: SnapshotFile) -> bool:
        """Whether ``member`` moved on since the snapshot (then its snapshot content is
        pinned to a version, or the change noted)."""
        try:
            info = await self.cs3.stat(member.path)
        except cs3_errors.NotFound:
            self._note(member, "was removed during the publication")
            return True
        if info.etag == member.etag:
            return False
        key = await self._version_of(member)
        if key is None:
            self._note(member, "changed during the publication and its snapshot version is gone")
        else:
            self.pinned[member.rel] = key
        return True

    async def _version_of(self, member: SnapshotFile) -> str | None:
        try:
            versions = await self.cs3.list_file_versions(member.path)
        except cs3_errors.CS3Error:
            return None
        return next((v.key for v in versions if v.etag == member.etag and v.size == member.size), None)

    def _note(self, member: SnapshotFile, what: str) -> None:
        text = f"{member.rel} {what} (the record would mix two states)"
        if text not in self.changed:
            self.changed.append(text)


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # (an async generator that yields nothing)


@contextlib.contextmanager
def _fields_of(meta: dict):
    """Zenodo's validation errors, mapped back onto the form's fields."""
    try:
        yield
    except zenodo_errors.ValidationError as err:
        problems = md.form_errors(err.errors, meta)
        if not problems:
            raise
        raise md.MetadataInvalid(problems, f"Zenodo refused the metadata: {err.message}") from None


def md5_of(entry: dict | None) -> str | None:
    checksum = (entry or {}).get("checksum") or ""
    return checksum.split(":", 1)[1].lower() if checksum.startswith("md5:") else None


def _html(record: dict) -> str | None:
    links = record.get("links") or {}
    return links.get("self_html") or links.get("html") or links.get("record_html")


def _outcome(record: dict, state: str, files: list[dict]) -> Outcome:
    pids = record.get("pids") or {}
    parent = record.get("parent") or {}
    parent_doi = ((parent.get("pids") or {}).get("doi") or {}).get("identifier")
    return Outcome(
        record_id=str(record.get("id")),
        doi=(pids.get("doi") or {}).get("identifier") or record.get("doi"),
        concept_doi=parent_doi or record.get("conceptdoi"),
        url=_html(record),
        state=state,
        files=files,
        version=(record.get("metadata") or {}).get("version"),
    )


def _json_value(info: spr.ResourceInfo, key: str) -> dict | None:
    raw = info.arbitrary_metadata.metadata.get(key, "")
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None



__all__ = [
    "AlreadyPublished", "MANIFEST", "Outcome", "PUBLISHED_KEY", "PUBLISHING_KEY", "PublishRequest", "PublishService",
    "SnapshotChanged", "SnapshotFile", "Upload", "layout",
]
