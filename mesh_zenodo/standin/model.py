"""The stand-in's data: accounts, file contents, records, communities, depositions and
buckets, all in memory (uploaded bytes go to the data folder)."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mesh_zenodo.zenodo.vocabulary import DEPOSIT_SCOPES, DOI_PREFIX, MAX_FILES_PER_RECORD, MAX_RECORD_BYTES

#: DOIs of the sandbox (DataCite's test prefix) when the stand-in plays sandbox.zenodo.org
SANDBOX_DOI_PREFIX = "10.5072/zenodo."

# ---------------------------------------------------------------------------------------
# accounts
# ---------------------------------------------------------------------------------------

FULL_SCOPES = DEPOSIT_SCOPES

#: the known tokens: value -> (user id, username, scopes)
DEFAULT_TOKENS: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "standin-full-token": (1, "einstein", FULL_SCOPES),
    "standin-readonly-token": (2, "marie", ()),
    "standin-other-token": (3, "richard", FULL_SCOPES),
}


@dataclass
class User:
    id: int
    username: str
    scopes: tuple[str, ...]

    def can(self, scope: str) -> bool:
        return scope in self.scopes


INVALID = User(-1, "", ())  # a token was sent but is unknown

# ---------------------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------------------

BLOCK = 1 << 16


class GeneratedContent:
    """Deterministic bytes of any size: a 64 KiB block derived from ``seed``, repeated."""

    def __init__(self, seed: str, size: int) -> None:
        self.size = size
        self.block = hashlib.shake_256(seed.encode()).digest(BLOCK)
        self._tile = self.block * 17  # 1 MiB + one block, so any 1 MiB window is a slice
        self.md5: str | None = None

    def compute_md5(self) -> str:
        digest = hashlib.md5()
        full, rest = divmod(self.size, len(self._tile) - BLOCK)
        window = self._tile[: len(self._tile) - BLOCK]
        for _ in range(full):
            digest.update(window)
        digest.update(self._tile[:rest])
        self.md5 = digest.hexdigest()
        return self.md5

    async def chunks(self, start: int, end: int, chunk: int):
        chunk = min(chunk, len(self._tile) - BLOCK)
        view = memoryview(self._tile)
        pos = start
        while pos < end:
            n = min(chunk, end - pos)
            off = pos % BLOCK
            yield view[off : off + n]
            pos += n


class BytesContent:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        self.md5 = hashlib.md5(data).hexdigest()

    async def chunks(self, start: int, end: int, chunk: int):
        view = memoryview(self.data)
        for pos in range(start, end, chunk):
            yield view[pos : min(end, pos + chunk)]


class DiskContent:
    """An uploaded file, kept in the stand-in's data folder."""

    def __init__(self, path: str, size: int, md5: str) -> None:
        self.path = path
        self.size = size
        self.md5 = md5

    async def chunks(self, start: int, end: int, chunk: int):
        loop = asyncio.get_running_loop()
        with open(self.path, "rb") as f:
            f.seek(start)
            pos = start
            while pos < end:
                data = await loop.run_in_executor(None, f.read, min(chunk, end - pos))
                if not data:
                    return
                pos += len(data)
                yield data


@dataclass
class StoredFile:
    key: str
    content: Any
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def size(self) -> int:
        return self.content.size

    @property
    def md5(self) -> str:
        return self.content.md5

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.key)[0] or "application/octet-stream"


# ---------------------------------------------------------------------------------------
# records, communities, depositions
# ---------------------------------------------------------------------------------------


@dataclass
class Community:
    id: str
    slug: str
    title: str
    description: str
    type: str
    website: str
    created: datetime


@dataclass
class Record:
    recid: int
    conceptrecid: int
    metadata: dict
    files: list[StoredFile]
    created: datetime
    owner: int
    doi: str = ""
    updated: datetime | None = None
    concept_doi: str = ""
    #: inclusion requests to communities (slug -> request id), see drafts_api.add_communities
    community_requests: dict[str, str] = field(default_factory=dict)

    @property
    def conceptdoi(self) -> str:
        return self.concept_doi or f"{DOI_PREFIX}{self.conceptrecid}"


@dataclass
class Bucket:
    id: str
    files: dict[str, StoredFile] = field(default_factory=dict)
    locked: bool = False


@dataclass
class Deposition:
    id: int
    conceptrecid: int
    owner: int
    metadata: dict
    bucket: Bucket
    created: datetime
    modified: datetime
    state: str = "unsubmitted"  # unsubmitted | inprogress | done
    submitted: bool = False
    editing: bool = False
    deleted: bool = False
    saved_metadata: dict | None = None  # the published metadata while editing


@dataclass
class DraftFile:
    """A file of a records-API draft: registered (``pending``), its bytes uploaded (still
    ``pending``), then committed (``completed``)."""

    key: str
    content: Any = None
    committed: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    updated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def status(self) -> str:
        return "completed" if self.committed else "pending"

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.key)[0] or "application/octet-stream"


@dataclass
class Draft:
    """A draft of the InvenioRDM records API (``POST /api/records``, ``…/versions``), and,
    once published, the RDM form of the record it became (``published``)."""

    id: int
    parent: int  # the concept (parent) id
    owner: int
    metadata: dict
    access: dict
    files_enabled: bool
    created: datetime
    updated: datetime
    files: dict[str, DraftFile] = field(default_factory=dict)
    pids: dict = field(default_factory=dict)
    index: int = 1  # the version's number within its concept
    revision: int = 1
    published: bool = False
    deleted: bool = False


# ---------------------------------------------------------------------------------------
# store
# ---------------------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat()


class Store:
    """Everything the stand-in serves, in memory: records by id and by concept,
    depositions, buckets, communities, tokens."""

    def __init__(
        self, data_dir: str, *, max_files: int = MAX_FILES_PER_RECORD, max_file_size: int = MAX_RECORD_BYTES
    ) -> None:
        self.data_dir = data_dir
        self.max_files = max_files
        self.max_file_size = max_file_size
        self.next_id = 7_000_001
        self.records: dict[int, Record] = {}
        self.concepts: dict[int, list[int]] = {}
        self.depositions: dict[int, Deposition] = {}
        self.buckets: dict[str, Bucket] = {}
        self.bucket_owner: dict[str, int] = {}
        self.communities: dict[str, Community] = {}
        self.tokens: dict[str, User] = {}
        self.seeded: list[int] = []
        self.big_records: list[int] = []
        # the InvenioRDM records API: drafts (and the RDM form of what they published)
        self.drafts: dict[int, Draft] = {}
        #: the concept DOI of each concept, once a version was published
        self.parent_pids: dict[int, dict] = {}
        #: bytes per record (all files together), as Zenodo's default quota
        self.quota_size = MAX_RECORD_BYTES
        #: ``10.5281/zenodo.`` (zenodo.org) or ``10.5072/zenodo.`` (sandbox-like)
        self.doi_prefix = DOI_PREFIX
        #: legacy ``newversion`` as today's zenodo.org: new version + files import, so it
        #: fails while the concept's next draft exists with files (docs/zenodo-standin.md)
        self.legacy_newversion_quirk = True
        #: InvenioRDM's records API (drafts); off: the legacy deposit API only (404s)
        self.records_api = True
        self._startup: dict[str, Any] = {}
        self.remember_settings()

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    SETTINGS = ("max_files", "max_file_size", "quota_size", "doi_prefix", "legacy_newversion_quirk", "records_api")

    def remember_settings(self) -> None:
        """Keep the current limits and switches as the ones :meth:`restore_settings` restores."""
        self._startup = {name: getattr(self, name) for name in self.SETTINGS}

    def restore_settings(self) -> None:
        for name, value in self._startup.items():
            setattr(self, name, value)

    def settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SETTINGS}

    def add_token(self, value: str, user_id: int, username: str, scopes) -> None:
        self.tokens[value] = User(user_id, username, tuple(scopes))

    def add_record(
        self,
        metadata: dict,
        files: list[StoredFile],
        *,
        created: datetime,
        owner: int = 1,
        conceptrecid: int | None = None,
        recid: int | None = None,
    ) -> Record:
        if conceptrecid is None:
            conceptrecid = self.new_id()
        if recid is None:
            recid = self.new_id()
        record = Record(
            recid=recid,
            conceptrecid=conceptrecid,
            metadata=metadata,
            files=files,
            created=created,
            owner=owner,
            doi=f"{self.doi_prefix}{recid}",
            updated=created,
        )
        earlier = self.concepts.get(conceptrecid)
        record.concept_doi = (
            self.records[earlier[0]].conceptdoi if earlier else f"{self.doi_prefix}{conceptrecid}"
        )
        self.records[recid] = record
        self.concepts.setdefault(conceptrecid, []).append(recid)
        return record

    def versions(self, record: Record) -> list[int]:
        return self.concepts.get(record.conceptrecid, [record.recid])

    def is_latest(self, record: Record) -> bool:
        return self.versions(record)[-1] == record.recid

    def latest_record(self, conceptrecid: int) -> Record | None:
        versions = self.concepts.get(conceptrecid)
        return self.records[versions[-1]] if versions else None

    def open_rdm_draft(self, conceptrecid: int) -> Draft | None:
        """The records-API draft of the concept's next version, if one is open."""
        for draft in self.drafts.values():
            if draft.parent == conceptrecid and not draft.published and not draft.deleted:
                return draft
        return None

    def open_draft(self, conceptrecid: int) -> Deposition | None:
        for dep in self.depositions.values():
            if dep.conceptrecid == conceptrecid and not dep.deleted and not dep.submitted:
                return dep
        return None

    def new_bucket(self, owner: int) -> Bucket:
        bucket = Bucket(id=str(uuid.uuid4()))
        self.buckets[bucket.id] = bucket
        self.bucket_owner[bucket.id] = owner
        return bucket

