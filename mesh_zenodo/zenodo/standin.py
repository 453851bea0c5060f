"""A local Zenodo: a real HTTP server (aiohttp.web) that behaves as zenodo.org does, for
the tests and for offline demos. ``mesh-zenodo zenodo-standin --port N``.

It is a separate program: the Zenodo client never imports it.

What it reproduces (see /work/shared/notes/zenodo-api.md):

* records search ``GET /api/records`` with a subset of the query-string syntax (free
  words, ``"phrases"``, ``field:value`` for title, doi, creators(.name), description,
  keywords, communities, resource_type.type, ``AND``/``OR``/``NOT``/``-``, parentheses,
  trailing ``*``), ``type``, ``communities``, ``sort`` (bestmatch, mostrecent, newest,
  oldest), ``all_versions``, paging with ``links.next`` and ``hits.total``; page size
  capped at 25 anonymous / 100 authenticated (400 above); only the latest version of
  each concept unless ``all_versions``;
* ``GET /api/records/:id``, ``/files``, ``/files/:key``, ``/files/:key/content`` with
  ``Content-Length``, ``Content-MD5``, ``ETag: "md5:..."``, ``Range`` (206/416) and
  ``If-Range``; file content is generated deterministically (no disk needed, even for
  ``--big-record 20:50``);
* communities: ``GET /api/communities``, ``/api/communities/:slug``,
  ``/api/communities/:slug/records`` (InvenioRDM shape), ``GET /api/user/communities``;
* the deposit API with the codes the real server answers: 201 create with
  ``metadata.prereserve_doi``, bucket ``PUT`` 201 with ``checksum: "md5:..."`` (411
  without ``Content-Length``), 202 publish, 404 for PUT/DELETE/publish after
  publication, ``newversion`` returning the new draft (``links.latest_draft``), 204
  draft deletion (404 when repeated), edit/discard, 415 for non-JSON bodies, both
  validation-error body forms (``errors[].message`` from ``PUT`` metadata checks,
  ``errors[].messages[]`` from publish checks);
* auth: ``Authorization: Bearer`` (and ``?access_token=``); anonymous, bad or
  scope-less tokens get 403 on the deposit API; a bad token gets 401 elsewhere;
* ``X-RateLimit-Limit/Remaining/Reset`` on every API response, 429 with ``Retry-After``
  when over the (configurable) per-minute limits; 500 pages without a JSON body.

Test control (loopback only, no auth) under ``/_standin/``:

* ``POST /_standin/faults`` ``{"path_regex": "...", "method": "GET", "times": 1, ...}``
  arms a fault for the next matching requests (the first armed fault that matches is
  used): ``"status": 429|500|503`` (with ``"retry_after": s`` or ``"rate_limit_reset": s``
  and an optional JSON ``"body"``), ``"delay": s``, ``"drop": true`` (close without an
  answer), ``"drop_after_bytes": n`` (cut a download after n bytes), ``"rate": bytes/s``
  (slow download), ``"corrupt_at": n`` (flip byte n of a download), ``"ignore_range":
  true`` (answer 200 with the whole file), ``"hold": true`` (keep the request waiting
  until ``POST /_standin/release``). ``"times": null`` keeps it armed.
  ``GET`` lists them, ``DELETE`` clears them.
* ``GET /_standin/requests`` (``DELETE`` clears): the requests seen (method, path, raw
  query, status, Range, how the caller authenticated), never the token itself.
* ``POST /_standin/config`` ``{"rate_limit": {"guest": n, "authenticated": n, "search": n}}``.
* ``POST /_standin/reset``: faults, request log and rate-limit windows cleared.
* ``GET /_standin/info``: URL, record ids (seeded and ``--big-record``), tokens' users.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import fnmatch
import hashlib
import html
import json
import logging
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

log = logging.getLogger("mesh_zenodo.standin")

# ---------------------------------------------------------------------------------------
# accounts
# ---------------------------------------------------------------------------------------

FULL_SCOPES = ("deposit:write", "deposit:actions")

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
        import mimetypes

        return mimetypes.guess_type(self.key)[0] or "application/octet-stream"


# ---------------------------------------------------------------------------------------
# store
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

    @property
    def conceptdoi(self) -> str:
        return f"10.5281/zenodo.{self.conceptrecid}"


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


RESOURCE_TITLES = {
    "publication": "Publication",
    "poster": "Poster",
    "presentation": "Presentation",
    "dataset": "Dataset",
    "image": "Image",
    "video": "Video/Audio",
    "software": "Software",
    "lesson": "Lesson",
    "physicalobject": "Physical object",
    "other": "Other",
}
PUBLICATION_TYPES = (
    "annotationcollection book section conferencepaper datamanagementplan article patent preprint deliverable "
    "milestone proposal report softwaredocumentation taxonomictreatment technicalnote thesis workingpaper other"
).split()
IMAGE_TYPES = "figure plot drawing diagram photo other".split()
ACCESS_RIGHTS = ("open", "embargoed", "restricted", "closed")
LICENSES = {
    "cc-by-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/legalcode"),
    "cc-by-sa-4.0": ("Creative Commons Attribution Share Alike 4.0 International", "https://creativecommons.org/licenses/by-sa/4.0/legalcode"),
    "cc0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/legalcode"),
    "mit": ("MIT License", "https://opensource.org/licenses/MIT"),
    "apache-2.0": ("Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "bsd-3-clause": ("BSD 3-Clause \"New\" or \"Revised\" License", "https://opensource.org/licenses/BSD-3-Clause"),
    "gpl-3.0-or-later": ("GNU General Public License v3.0 or later", "https://www.gnu.org/licenses/gpl-3.0-standalone.html"),
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class Store:
    def __init__(self, data_dir: str, *, max_files: int = 100, max_file_size: int = 50 * 10**9) -> None:
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

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

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
            doi=f"10.5281/zenodo.{recid}",
            updated=created,
        )
        self.records[recid] = record
        self.concepts.setdefault(conceptrecid, []).append(recid)
        return record

    def versions(self, record: Record) -> list[int]:
        return self.concepts.get(record.conceptrecid, [record.recid])

    def is_latest(self, record: Record) -> bool:
        return self.versions(record)[-1] == record.recid

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


# ---------------------------------------------------------------------------------------
# seed data
# ---------------------------------------------------------------------------------------


def _csv(seed: str, rows: int, header: str, fmt) -> bytes:
    rng = random.Random(seed)
    lines = [header]
    for i in range(rows):
        lines.append(fmt(i, rng))
    return ("\n".join(lines) + "\n").encode()


def seed(store: Store) -> None:
    """A handful of realistic records and communities (fixed ids, dates and bytes)."""
    day = lambda s: datetime.fromisoformat(s + "T09:30:00+00:00")  # noqa: E731
    for slug, title, description, ctype, website, created in [
        ("escape2020", "ESCAPE 2020",
         "European Science Cluster of Astronomy & Particle physics ESFRI research infrastructures: the "
         "Open-source Scientific Software and Service Repository (OSSR).", "project", "https://projectescape.eu",
         "2019-05-02"),
        ("cern", "CERN", "Research outputs of CERN, the European Organization for Nuclear Research.",
         "organization", "https://home.cern", "2018-02-11"),
        ("sciencemesh", "ScienceMesh", "The CS3MESH4EOSC ScienceMesh: federated sync-and-share for research.",
         "project", "https://sciencemesh.io", "2020-09-15"),
        ("climate-data", "Climate data collection", "Open climate observation and reanalysis datasets.",
         "topic", "https://example.org/climate", "2021-01-20"),
        ("cs3-2023", "CS3 2023 workshop", "Contributions to the CS3 2023 workshop on cloud storage services.",
         "event", "https://cs3-2023.example.org", "2022-11-30"),
    ]:
        store.communities[slug] = Community(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"standin/{slug}")), slug=slug, title=title,
            description=description, type=ctype, website=website, created=day(created),
        )

    def text(s: str) -> BytesContent:
        return BytesContent(s.encode())

    def add(meta, files, created, **kw):
        rec = store.add_record(meta, files, created=day(created), **kw)
        store.seeded.append(rec.recid)
        return rec

    # 1-3: three versions of one software concept (ESCAPE OSSR)
    concept = store.new_id()
    creators = [
        {"name": "Vuillaume, Thomas", "affiliation": "LAPP, CNRS, Univ. Savoie Mont Blanc", "orcid": "0000-0002-5686-2078"},
        {"name": "Garcia, Enrique", "affiliation": "LAPP, CNRS"},
        {"name": "Nöthe, Maximilian", "affiliation": "TU Dortmund University"},
    ]
    for version, created, extra in [("v1.0.0", "2021-03-01", ""), ("v1.1.0", "2022-06-15", " Adds CodeMeta 2.0 support."),
                                    ("v2.0.0", "2024-01-10", " Python 3.10+, new Zenodo client.")]:
        add(
            {
                "title": f"eossr: the ESCAPE OSSR library {version}",
                "description": "<p>The <b>eossr</b> library gathers tools to interact with the ESCAPE Open-source "
                "Scientific Software and Service Repository (OSSR) on Zenodo: metadata conversion from CodeMeta, "
                f"uploads and continuous deployment.{extra}</p>",
                "creators": creators,
                "publication_date": created,
                "resource_type": {"type": "software"},
                "license": {"id": "mit"},
                "communities": [{"id": "escape2020"}],
                "keywords": ["ESCAPE", "OSSR", "Zenodo", "CodeMeta", "python"],
                "version": version,
                "access_right": "open",
            },
            [
                StoredFile(f"eossr-{version}.zip", GeneratedContent(f"eossr-{version}.zip", 180_000 + len(version) * 1000)),
                StoredFile("codemeta.json", text(json.dumps({"@context": "https://doi.org/10.5063/schema/codemeta-2.0",
                                                            "name": "eossr", "version": version}, indent=2) + "\n")),
            ],
            created,
            conceptrecid=concept,
        )

    # 4: dataset with several files (CERN)
    add(
        {
            "title": "CMS Open Data: dimuon invariant mass spectrum, Run 2012B",
            "description": "<p>Dimuon events selected from the CMS 2012 DoubleMuParked dataset, with the "
            "invariant mass of each muon pair. Prepared for the ScienceMesh Jupyter demo.</p>",
            "creators": [
                {"name": "McCauley, Thomas", "affiliation": "University of Notre Dame"},
                {"name": "Lassila-Perini, Kati", "affiliation": "Helsinki Institute of Physics"},
            ],
            "publication_date": "2023-04-18",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc0-1.0"},
            "communities": [{"id": "cern"}],
            "keywords": ["CMS", "open data", "dimuon", "particle physics"],
            "version": "1.0",
            "access_right": "open",
        },
        [
            StoredFile("dimuon.csv", BytesContent(_csv("dimuon", 4000, "run,event,pt1,pt2,eta1,eta2,mass",
                       lambda i, r: f"195013,{100000 + i},{r.uniform(5, 80):.3f},{r.uniform(5, 80):.3f},"
                                    f"{r.uniform(-2.4, 2.4):.3f},{r.uniform(-2.4, 2.4):.3f},{r.lognormvariate(2.5, 1):.4f}"))),
            StoredFile("README.md", text("# Dimuon spectrum\n\nColumns: run, event, transverse momenta, pseudorapidities, "
                                        "invariant mass (GeV).\n")),
            StoredFile("selection.py", text("import pandas as pd\n\ndf = pd.read_csv('dimuon.csv')\n"
                                           "print(df[df.mass.between(80, 100)].describe())\n")),
        ],
        "2023-04-18",
    )

    # 5: publication
    add(
        {
            "title": "Sync and share for science: a survey of ScienceMesh deployments",
            "description": "<p>We survey twelve sites of the ScienceMesh federation and their use of CS3 APIs, "
            "Reva and open cloud mesh (OCM) shares for research data.</p>",
            "creators": [
                {"name": "Mościcki, Jakub T.", "affiliation": "CERN"},
                {"name": "Lo Presti, Giuseppe", "affiliation": "CERN"},
                {"name": "Ziemba, Michiel", "affiliation": "SURF"},
            ],
            "publication_date": "2022-10-03",
            "resource_type": {"type": "publication", "subtype": "article"},
            "license": {"id": "cc-by-4.0"},
            "communities": [{"id": "sciencemesh"}],
            "keywords": ["sync and share", "CS3", "ScienceMesh", "OCM"],
            "access_right": "open",
        },
        [StoredFile("sciencemesh-survey.pdf", GeneratedContent("survey.pdf", 1_250_000))],
        "2022-10-03",
    )

    # 6: presentation in two communities
    add(
        {
            "title": "Integrating Jupyter with CS3 storage: lessons from SWAN",
            "description": "<p>Slides of the CS3 2023 talk on JupyterLab, CERNBox and the CS3 APIs.</p>",
            "creators": [{"name": "Piparo, Danilo", "affiliation": "CERN"}, {"name": "Tejedor, Enric", "affiliation": "CERN"}],
            "publication_date": "2023-03-07",
            "resource_type": {"type": "presentation"},
            "license": {"id": "cc-by-4.0"},
            "communities": [{"id": "cs3-2023"}, {"id": "cern"}, {"id": "sciencemesh"}],
            "keywords": ["Jupyter", "SWAN", "CERNBox", "CS3"],
            "access_right": "open",
        },
        [StoredFile("slides.pdf", GeneratedContent("slides.pdf", 2_400_000))],
        "2023-03-07",
    )

    # 7: climate dataset with a bigger file
    add(
        {
            "title": "Global ocean temperature anomalies 1950-2020 (monthly, 1 degree)",
            "description": "<p>Monthly sea-surface temperature anomalies relative to 1981-2010, gridded at one "
            "degree, with a CSV summary of global means.</p>",
            "creators": [{"name": "Hausfather, Zeke", "affiliation": "Berkeley Earth"},
                         {"name": "Rohde, Robert", "affiliation": "Berkeley Earth"}],
            "publication_date": "2021-09-21",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc-by-4.0"},
            "communities": [{"id": "climate-data"}],
            "keywords": ["climate", "ocean", "temperature", "anomaly"],
            "version": "2021.09",
            "access_right": "open",
        },
        [
            StoredFile("sst_anomalies.nc", GeneratedContent("sst_anomalies.nc", 5 * (1 << 20) + 12345)),
            StoredFile("global_means.csv", BytesContent(_csv("global", 852, "year,month,anomaly",
                       lambda i, r: f"{1950 + i // 12},{i % 12 + 1},{r.gauss(0.1 + i / 2000, 0.15):.3f}"))),
        ],
        "2021-09-21",
    )

    # 8: poster
    add(
        {
            "title": "Poster: Gamma-ray burst afterglows seen by CTA prototypes",
            "description": "<p>Poster presented at the ESCAPE summer school on the detection of GRB afterglows.</p>",
            "creators": [{"name": "Kerszberg, Daniel", "affiliation": "IFAE-BIST"}],
            "publication_date": "2022-07-12",
            "resource_type": {"type": "poster"},
            "license": {"id": "cc-by-sa-4.0"},
            "communities": [{"id": "escape2020"}],
            "keywords": ["gamma-ray bursts", "CTA", "astronomy"],
            "access_right": "open",
        },
        [StoredFile("poster.png", GeneratedContent("poster.png", 640_000))],
        "2022-07-12",
    )

    # 9: many small files, names that need quoting
    files = [StoredFile(f"sample_{i:02d}.txt", text(f"sample {i}\n" + "x" * (97 * i))) for i in range(1, 11)]
    files.append(StoredFile("Measurements (raw) #1.csv", text("t,value\n0,1.5\n1,1.7\n")))
    files.append(StoredFile("empty.dat", BytesContent(b"")))
    add(
        {
            "title": "mesh-zenodo test fixture: many small files",
            "description": "<p>A record with a dozen small files, one with spaces and a hash sign in its "
            "name and one empty file.</p>",
            "creators": [{"name": "Einstein, Albert", "affiliation": "ScienceMesh demo"}],
            "publication_date": "2024-05-02",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc0-1.0"},
            "communities": [{"id": "sciencemesh"}],
            "keywords": ["test"],
            "version": "1",
            "access_right": "open",
        },
        files,
        "2024-05-02",
    )


def add_big_record(store: Store, n_files: int, size_mib: float) -> Record:
    size = int(size_mib * (1 << 20))
    files = [
        StoredFile(f"part-{i:02d}.bin", GeneratedContent(f"big-{store.next_id}-{i}", size)) for i in range(1, n_files + 1)
    ]
    rec = store.add_record(
        {
            "title": f"Benchmark record: {n_files} files of {size_mib:g} MiB",
            "description": "<p>Generated content for the pull benchmark.</p>",
            "creators": [{"name": "Benchmark, Bench", "affiliation": "mesh-zenodo"}],
            "publication_date": "2024-06-01",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc0-1.0"},
            "communities": [],
            "keywords": ["benchmark"],
            "version": "1",
            "access_right": "open",
        },
        files,
        created=datetime(2024, 6, 1, tzinfo=timezone.utc),
    )
    store.big_records.append(rec.recid)
    return rec


# ---------------------------------------------------------------------------------------
# query-string subset
# ---------------------------------------------------------------------------------------


class QuerySyntaxError(ValueError):
    pass


FIELD_ALIASES = {
    "title": "title", "metadata.title": "title", "titles": "title",
    "description": "description", "metadata.description": "description",
    "creators": "creators.name", "creators.name": "creators.name", "creator": "creators.name",
    "metadata.creators.name": "creators.name", "metadata.creators.person_or_org.name": "creators.name",
    "creators.affiliation": "creators.affiliation", "metadata.creators.affiliations.name": "creators.affiliation",
    "keywords": "keywords", "metadata.keywords": "keywords", "metadata.subjects.subject": "keywords",
    "doi": "doi", "pids.doi.identifier": "doi", "conceptdoi": "conceptdoi",
    "communities": "communities", "communities.id": "communities", "communities.slug": "communities",
    "parent.communities.entries.slug": "communities",
    "resource_type.type": "resource_type.type", "resource_type": "resource_type.type", "type": "resource_type.type",
    "metadata.resource_type.id": "resource_type.type", "upload_type": "resource_type.type",
    "resource_type.subtype": "resource_type.subtype",
    "publication_date": "publication_date", "metadata.publication_date": "publication_date",
    "version": "version", "metadata.version": "version",
    "recid": "recid", "id": "recid", "conceptrecid": "conceptrecid",
    "license": "license", "license.id": "license", "access_right": "access_right",
    "filename": "filename", "files.key": "filename",
}
WEIGHTS = {"title": 3.0, "creators.name": 2.0, "keywords": 2.0}
EXACT_FIELDS = {"doi", "conceptdoi", "recid", "conceptrecid", "communities", "resource_type.type", "license"}
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _words(value: str) -> list[str]:
    return WORD.findall(value.lower())


def tokenize(query: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c == "(":
            tokens.append(("(", None))
            i += 1
            continue
        if c == ")":
            tokens.append((")", None))
            i += 1
            continue
        neg = False
        if c in "+-!" and i + 1 < n and not query[i + 1].isspace():
            neg = c in "-!"
            i += 1
        fieldname = None
        m = re.match(r"([A-Za-z_][\w.]*):(?!/)", query[i:])
        if m:
            fieldname = m.group(1)
            i += m.end()
            if i < n and query[i] == "(":
                tokens.append(("fieldgroup", (fieldname, neg)))
                i += 1
                continue
        if i < n and query[i] == '"':
            j = i + 1
            buf = []
            while j < n and query[j] != '"':
                if query[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(query[j])
                j += 1
            if j >= n:
                raise QuerySyntaxError("unbalanced quotes")
            tokens.append(("term", (fieldname, "".join(buf), True, neg)))
            i = j + 1
            continue
        buf = []
        while i < n and not query[i].isspace() and query[i] not in "()":
            if query[i] == "\\" and i + 1 < n:
                i += 1
            elif query[i] == '"':
                raise QuerySyntaxError("a quote inside a word")
            buf.append(query[i])
            i += 1
        word = "".join(buf)
        if not word:
            if fieldname:
                raise QuerySyntaxError(f"{fieldname}: has no value")
            continue
        if fieldname is None and not neg and word in ("AND", "OR", "NOT", "&&", "||"):
            tokens.append(("op", {"&&": "AND", "||": "OR"}.get(word, word)))
            continue
        tokens.append(("term", (fieldname, word, False, neg)))
    return tokens


class Parser:
    """``or := and (OR and)*``, ``and := unary ([AND] unary)*``, ``unary := NOT unary | primary``."""

    def __init__(self, tokens) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            return ("all",)
        node = self.parse_or(None)
        if self.pos != len(self.tokens):
            raise QuerySyntaxError("unexpected closing parenthesis")
        return node

    def parse_or(self, fieldname):
        nodes = [self.parse_and(fieldname)]
        while self.peek() == ("op", "OR"):
            self.take()
            nodes.append(self.parse_and(fieldname))
        return nodes[0] if len(nodes) == 1 else ("or", nodes)

    def parse_and(self, fieldname):
        nodes = [self.parse_unary(fieldname)]
        while True:
            kind, value = self.peek()
            if kind is None or kind == ")" or (kind, value) == ("op", "OR"):
                break
            if (kind, value) == ("op", "AND"):
                self.take()
            nodes.append(self.parse_unary(fieldname))
        return nodes[0] if len(nodes) == 1 else ("and", nodes)

    def parse_unary(self, fieldname):
        kind, value = self.peek()
        if (kind, value) == ("op", "NOT"):
            self.take()
            return ("not", self.parse_unary(fieldname))
        return self.parse_primary(fieldname)

    def parse_primary(self, fieldname):
        kind, value = self.take()
        if kind == "(":
            node = self.parse_or(fieldname)
            if self.take()[0] != ")":
                raise QuerySyntaxError("unbalanced parentheses")
            return node
        if kind == "fieldgroup":
            name, neg = value
            node = self.parse_or(name)
            if self.take()[0] != ")":
                raise QuerySyntaxError("unbalanced parentheses")
            return ("not", node) if neg else node
        if kind == "term":
            name, text, phrase, neg = value
            node = ("term", name or fieldname, text, phrase)
            return ("not", node) if neg else node
        raise QuerySyntaxError("a query cannot end with an operator or start with one")


def parse_query(query: str):
    return Parser(tokenize(query or "")).parse()


def _match_term(doc: dict[str, list[str]], fieldname: str | None, text: str, phrase: bool) -> float:
    if fieldname is not None:
        key = FIELD_ALIASES.get(fieldname.lower())
        if key is None:
            return 0.0  # Elasticsearch: a field no record has matches nothing
        fields = [key]
    else:
        fields = [k for k in doc if not k.startswith("_")]
    score = 0.0
    lowered = text.lower().strip()
    for key in fields:
        values = doc.get(key, [])
        weight = WEIGHTS.get(key, 1.0)
        if key in EXACT_FIELDS and fieldname is not None:
            if any(v.lower() == lowered for v in values):
                score += weight * 2
                continue
        for value in values:
            words = _words(value)
            if "*" in text or "?" in text:
                pattern = lowered
                score += weight * sum(1 for w in words if fnmatch.fnmatchcase(w, pattern))
                continue
            wanted = _words(text)
            if not wanted:
                continue
            if len(wanted) == 1:
                score += weight * words.count(wanted[0])
                continue
            # a phrase (or a value like a DOI that splits into several words)
            for start in range(len(words) - len(wanted) + 1):
                if words[start : start + len(wanted)] == wanted:
                    score += weight * len(wanted)
    return score


def evaluate(node, doc) -> tuple[bool, float]:
    kind = node[0]
    if kind == "all":
        return True, 1.0
    if kind == "term":
        score = _match_term(doc, node[1], node[2], node[3])
        return score > 0, score
    if kind == "not":
        matched, _ = evaluate(node[1], doc)
        return (not matched), 0.0
    results = [evaluate(child, doc) for child in node[1]]
    if kind == "and":
        return all(m for m, _ in results), sum(s for _, s in results)
    return any(m for m, _ in results), sum(s for m, s in results if m)


def _strip_html(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text or ""))


def record_doc(record: Record) -> dict[str, list[str]]:
    md = record.metadata
    return {
        "title": [md.get("title", "")],
        "description": [_strip_html(md.get("description", ""))],
        "creators.name": [c.get("name", "") for c in md.get("creators", [])],
        "creators.affiliation": [c.get("affiliation", "") or "" for c in md.get("creators", [])],
        "keywords": list(md.get("keywords", [])),
        "doi": [record.doi],
        "conceptdoi": [record.conceptdoi],
        "communities": [c.get("id", "") for c in md.get("communities", [])],
        "resource_type.type": [md.get("resource_type", {}).get("type", "")],
        "resource_type.subtype": [md.get("resource_type", {}).get("subtype", "") or ""],
        "publication_date": [md.get("publication_date", "")],
        "version": [md.get("version", "") or ""],
        "recid": [str(record.recid)],
        "conceptrecid": [str(record.conceptrecid)],
        "license": [(md.get("license") or {}).get("id", "")],
        "access_right": [md.get("access_right", "open")],
        "filename": [f.key for f in record.files],
    }


def community_doc(community: Community) -> dict[str, list[str]]:
    return {
        "title": [community.title],
        "description": [community.description],
        "slug": [community.slug],
        "type": [community.type],
    }


# ---------------------------------------------------------------------------------------
# serialisation
# ---------------------------------------------------------------------------------------


def base_of(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def file_links(base: str, recid: int, key: str) -> dict:
    k = quote(key, safe="")
    return {
        "self": f"{base}/api/records/{recid}/files/{k}",
        "content": f"{base}/api/records/{recid}/files/{k}/content",
    }


def record_json(store: Store, record: Record, base: str) -> dict:
    md = copy.deepcopy(record.metadata)
    md["doi"] = record.doi
    versions = store.versions(record)
    index = versions.index(record.recid) if record.recid in versions else 0
    latest = versions[-1]
    md["relations"] = {
        "version": [
            {
                "index": index,
                "is_last": latest == record.recid,
                "count": len(versions),
                "parent": {"pid_type": "recid", "pid_value": str(record.conceptrecid)},
                "last_child": {"pid_type": "recid", "pid_value": str(latest)},
            }
        ]
    }
    md["resource_type"] = dict(md.get("resource_type", {}))
    md["resource_type"]["title"] = RESOURCE_TITLES.get(md["resource_type"].get("type", ""), "Other")
    return {
        "created": _iso(record.created),
        "modified": _iso(record.updated or record.created),
        "updated": _iso(record.updated or record.created),
        "id": record.recid,
        "recid": str(record.recid),
        "conceptrecid": str(record.conceptrecid),
        "doi": record.doi,
        "conceptdoi": record.conceptdoi,
        "doi_url": f"https://doi.org/{record.doi}",
        "title": md.get("title", ""),
        "metadata": md,
        "owners": [record.owner],
        "revision": 1,
        "status": "published",
        "state": "done",
        "submitted": True,
        "stats": {"downloads": 0, "unique_downloads": 0, "views": 0, "unique_views": 0, "version_downloads": 0,
                  "version_unique_downloads": 0, "version_unique_views": 0, "version_views": 0},
        "files": [
            {
                "id": f.id,
                "key": f.key,
                "size": f.size,
                "checksum": f"md5:{f.md5}",
                "links": {"self": file_links(base, record.recid, f.key)["content"]},
            }
            for f in record.files
        ],
        "links": {
            "self": f"{base}/api/records/{record.recid}",
            "self_html": f"{base}/records/{record.recid}",
            "html": f"{base}/records/{record.recid}",
            "doi": f"https://doi.org/{record.doi}",
            "self_doi": f"https://doi.org/{record.doi}",
            "parent_doi": f"https://doi.org/{record.conceptdoi}",
            "badge": f"{base}/badge/doi/{record.doi}.svg",
            "files": f"{base}/api/records/{record.recid}/files",
            "latest": f"{base}/api/records/{latest}",
            "latest_html": f"{base}/records/{latest}",
            "versions": f"{base}/api/records/{record.recid}/versions",
        },
    }


def record_rdm_json(store: Store, record: Record, base: str) -> dict:
    md = record.metadata
    creators = []
    for c in md.get("creators", []):
        family, _, given = c.get("name", "").partition(", ")
        entry = {"person_or_org": {"type": "personal", "name": c.get("name", ""), "family_name": family, "given_name": given}}
        if c.get("affiliation"):
            entry["affiliations"] = [{"name": c["affiliation"]}]
        creators.append(entry)
    rtype = md.get("resource_type", {})
    type_id = rtype.get("type", "other") + (f"-{rtype['subtype']}" if rtype.get("subtype") else "")
    return {
        "id": str(record.recid),
        "created": _iso(record.created),
        "updated": _iso(record.updated or record.created),
        "pids": {"doi": {"identifier": record.doi, "provider": "datacite"}},
        "parent": {
            "id": str(record.conceptrecid),
            "pids": {"doi": {"identifier": record.conceptdoi}},
            "communities": {"ids": [store.communities[c["id"]].id for c in md.get("communities", []) if c["id"] in store.communities]},
        },
        "metadata": {
            "title": md.get("title", ""),
            "description": md.get("description", ""),
            "publication_date": md.get("publication_date", ""),
            "creators": creators,
            "resource_type": {"id": type_id, "title": {"en": RESOURCE_TITLES.get(rtype.get("type", ""), "Other")}},
            "rights": [{"id": (md.get("license") or {}).get("id", "")}] if md.get("license") else [],
            "version": md.get("version"),
            "subjects": [{"subject": k} for k in md.get("keywords", [])],
        },
        "files": {
            "enabled": True,
            "count": len(record.files),
            "total_bytes": sum(f.size for f in record.files),
            "entries": {
                f.key: {"key": f.key, "size": f.size, "checksum": f"md5:{f.md5}", "links": file_links(base, record.recid, f.key)}
                for f in record.files
            },
        },
        "versions": {"index": store.versions(record).index(record.recid) + 1, "is_latest": store.is_latest(record)},
        "links": {"self": f"{base}/api/records/{record.recid}", "self_html": f"{base}/records/{record.recid}"},
    }


def community_json(community: Community, base: str) -> dict:
    return {
        "id": community.id,
        "slug": community.slug,
        "created": _iso(community.created),
        "updated": _iso(community.created),
        "revision_id": 1,
        "access": {"visibility": "public", "member_policy": "open", "record_policy": "open"},
        "metadata": {
            "title": community.title,
            "description": community.description,
            "type": {"id": community.type},
            "website": community.website,
        },
        "links": {
            "self": f"{base}/api/communities/{community.id}",
            "self_html": f"{base}/communities/{community.slug}",
            "logo": f"{base}/api/communities/{community.id}/logo",
            "records": f"{base}/api/communities/{community.id}/records",
        },
    }


def deposition_json(store: Store, dep: Deposition, base: str) -> dict:
    api = f"{base}/api/deposit/depositions/{dep.id}"
    bucket = f"{base}/api/files/{dep.bucket.id}"
    md = copy.deepcopy(dep.metadata)
    md["prereserve_doi"] = {"doi": f"10.5281/zenodo.{dep.id}", "recid": dep.id}
    links = {
        "self": api,
        "html": f"{base}/deposit/{dep.id}",
        "badge": f"{base}/badge/doi/.svg",
        "files": f"{api}/files",
        "bucket": bucket,
        "publish": f"{api}/actions/publish",
        "edit": f"{api}/actions/edit",
        "discard": f"{api}/actions/discard",
        "newversion": f"{api}/actions/newversion",
        "registerconceptdoi": f"{api}/actions/registerconceptdoi",
        "latest_draft": api,
        "latest_draft_html": f"{base}/deposit/{dep.id}",
    }
    draft = store.open_draft(dep.conceptrecid)
    if draft is not None:
        links["latest_draft"] = f"{base}/api/deposit/depositions/{draft.id}"
        links["latest_draft_html"] = f"{base}/deposit/{draft.id}"
    body = {
        "created": _iso(dep.created),
        "modified": _iso(dep.modified),
        "id": dep.id,
        "conceptrecid": str(dep.conceptrecid),
        "record_id": dep.id,
        "owner": dep.owner,
        "metadata": md,
        "title": md.get("title", ""),
        "state": dep.state,
        "submitted": dep.submitted,
        "doi": "",
        "doi_url": "",
        "files": [
            {
                "id": f.id,
                "filename": f.key,
                "filesize": f.size,
                "checksum": f.md5,
                "links": {"self": f"{api}/files/{f.id}", "download": f"{bucket}/{quote(f.key, safe='')}"},
            }
            for f in dep.bucket.files.values()
        ],
        "links": links,
    }
    if dep.submitted:
        versions = store.concepts.get(dep.conceptrecid, [dep.id])
        body.update(doi=f"10.5281/zenodo.{dep.id}", doi_url=f"https://doi.org/10.5281/zenodo.{dep.id}",
                    conceptdoi=f"10.5281/zenodo.{dep.conceptrecid}")
        links.update(
            record=f"{base}/api/records/{dep.id}",
            record_html=f"{base}/records/{dep.id}",
            doi=f"https://doi.org/10.5281/zenodo.{dep.id}",
            latest=f"{base}/api/records/{versions[-1]}",
            latest_html=f"{base}/records/{versions[-1]}",
        )
    return body


def bucket_file_json(bucket: Bucket, f: StoredFile, base: str) -> dict:
    url = f"{base}/api/files/{bucket.id}/{quote(f.key, safe='')}"
    return {
        "key": f.key,
        "mimetype": f.mimetype,
        "checksum": f"md5:{f.md5}",
        "version_id": f.id,
        "size": f.size,
        "created": _iso(f.created),
        "updated": _iso(f.created),
        "links": {"self": url, "version": f"{url}?versionId={f.id}", "uploads": f"{url}?uploads"},
        "is_head": True,
        "delete_marker": False,
    }


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------

PERMISSION_MESSAGE = (
    "You don't have the permission to access the requested resource. It is either read-protected or not "
    "readable by the server."
)
UNAUTHORIZED_MESSAGE = (
    "The server could not verify that you are authorized to access the URL requested. You either supplied the "
    "wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials "
    "required."
)
PID_MISSING = "PID does not exist."


def json_error(status: int, message: str, errors: list | None = None, headers: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    return web.json_response(body, status=status, headers=headers)


def html_error(status: int) -> web.Response:
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(
        status, "Error"
    )
    page = (
        f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>{status} {reason}</title>\n'
        f"<h1>{reason}</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n"
    )
    return web.Response(status=status, text=page, content_type="text/html")


class Problem(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def problem(status: int, message: str, errors: list | None = None) -> Problem:
    return Problem(json_error(status, message, errors))


# ---------------------------------------------------------------------------------------
# faults and rate limits
# ---------------------------------------------------------------------------------------


@dataclass
class Fault:
    id: int
    path_regex: str = ".*"
    method: str | None = None
    times: int | None = 1
    status: int | None = None
    retry_after: float | None = None
    rate_limit_reset: float | None = None
    body: Any = None
    delay: float = 0.0
    drop: bool = False
    drop_after_bytes: int | None = None
    rate: float | None = None
    corrupt_at: int | None = None
    ignore_range: bool = False
    hold: bool = False
    hits: int = 0

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


FAULT_FIELDS = {
    "path_regex": str, "method": str, "times": int, "status": int, "retry_after": float, "rate_limit_reset": float,
    "body": object, "delay": float, "drop": bool, "drop_after_bytes": int, "rate": float, "corrupt_at": int,
    "ignore_range": bool, "hold": bool,
}


class RateLimiter:
    def __init__(self, guest: int, authenticated: int, search: int) -> None:
        self.limits = {"guest": guest, "authenticated": authenticated, "search": search}
        self.windows: dict[tuple[str, str], tuple[float, int]] = {}

    def hit(self, bucket: str, who: str) -> tuple[int, int, int, bool]:
        """``(limit, remaining, reset_epoch, allowed)`` for one more request."""
        limit = self.limits[bucket]
        now = time.time()
        start, count = self.windows.get((bucket, who), (now, 0))
        if now - start >= 60:
            start, count = now, 0
        count += 1
        self.windows[(bucket, who)] = (start, count)
        reset = int(start + 60) + 1
        return limit, max(0, limit - count), reset, count <= limit


# ---------------------------------------------------------------------------------------
# the application
# ---------------------------------------------------------------------------------------

SEARCH_PATHS = re.compile(r"^/api/(records|communities)/?$|^/api/communities/[^/]+/records/?$")


class StandIn:
    def __init__(self, store: Store, limiter: RateLimiter) -> None:
        self.store = store
        self.limiter = limiter
        self.faults: list[Fault] = []
        self.fault_ids = 0
        self.requests: deque[dict] = deque(maxlen=20000)
        self.held = asyncio.Event()  # released by POST /_standin/release

    # ------------------------------------------------------------------ plumbing

    def user(self, request: web.Request) -> User | None:
        header = request.headers.get("Authorization", "")
        token = None
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
        elif "access_token" in request.query:
            token = request.query["access_token"]
        if token is None:
            return None
        return self.store.tokens.get(token, INVALID)

    def auth_kind(self, request: web.Request) -> str:
        if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
            return "bearer"
        if "access_token" in request.query:
            return "query"
        return "none"

    def take_fault(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if fault.method and fault.method.upper() != request.method:
                continue
            if not re.search(fault.path_regex, request.path):
                continue
            fault.hits += 1
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if request.path.startswith("/_standin/"):
            return await handler(request)
        entry = {
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "raw_path": request.raw_path.split("?", 1)[0],
            "query": request.query_string,
            "range": request.headers.get("Range"),
            "auth": self.auth_kind(request),
            "status": None,
        }
        self.requests.append(entry)
        user = self.user(request)
        entry["user"] = None if user is None else user.username or "invalid"
        rate_headers: dict[str, str] = {}
        if request.path.startswith("/api/"):
            bucket = "search" if SEARCH_PATHS.match(request.path) else ("authenticated" if user and user is not INVALID else "guest")
            who = f"u{user.id}" if user and user is not INVALID else (request.remote or "?")
            limit, remaining, reset, allowed = self.limiter.hit(bucket, who)
            rate_headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset)}
            request["rate_headers"] = rate_headers
            if not allowed:
                wait = max(1, reset - int(time.time()))
                response = json_error(429, "Too many requests. Please slow down.", headers={**rate_headers, "Retry-After": str(wait)})
                entry["status"] = 429
                return response
        fault = self.take_fault(request)
        request["fault"] = fault
        if fault is not None:
            if fault.hold:
                entry["status"] = "held"
                await self.held.wait()
                entry["status"] = None
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop or (fault.drop_after_bytes is not None and not request.path.endswith("/content")
                              and "/api/files/" not in request.path):
                entry["status"] = "dropped"
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("dropped by an armed fault")
            if fault.status:
                entry["status"] = fault.status
                headers = dict(rate_headers)
                if fault.status == 429:
                    headers["X-RateLimit-Remaining"] = "0"
                    if fault.rate_limit_reset is not None:
                        headers["X-RateLimit-Reset"] = str(int(time.time() + fault.rate_limit_reset))
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after) if float(fault.retry_after).is_integer() else fault.retry_after)
                if fault.body is not None:
                    return web.json_response(fault.body, status=fault.status, headers=headers)
                if fault.status >= 500:
                    response = html_error(fault.status)
                    response.headers.update(headers)
                    return response
                message = {429: "Too many requests. Please slow down.", 404: PID_MISSING, 403: PERMISSION_MESSAGE,
                           401: UNAUTHORIZED_MESSAGE, 409: "The record is being integrated; retry in 5 minutes."}.get(
                    fault.status, "Injected error.")
                return json_error(fault.status, message, headers=headers)
        try:
            response = await handler(request)
        except Problem as p:
            response = p.response
        except web.HTTPException as exc:
            if exc.status >= 400 and request.path.startswith("/api/"):
                response = json_error(exc.status, exc.reason)
            else:
                raise
        except (ConnectionResetError, asyncio.CancelledError):
            entry["status"] = entry["status"] or "aborted"
            raise
        except Exception:
            log.exception("stand-in: internal error")
            response = html_error(500)
        entry["status"] = entry["status"] or response.status
        return response

    async def on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        for key, value in request.get("rate_headers", {}).items():
            response.headers.setdefault(key, value)

    # ------------------------------------------------------------------ helpers

    def page_args(self, request: web.Request, default_size: int = 10) -> tuple[int, int]:
        user = self.user(request)
        try:
            page = int(request.query.get("page", "1") or 1)
            size = int(request.query.get("size", str(default_size)) or default_size)
        except ValueError:
            raise problem(400, "Invalid page or size: not a valid integer.") from None
        if page < 1 or size < 1:
            raise problem(400, "Invalid page or size: must be greater than or equal to 1.")
        cap = 100 if user and user is not INVALID else 25
        if size > cap:
            raise problem(400, f"Page size cannot be greater than {cap}.")
        if page * size > 10_000:
            raise problem(400, "Maximum number of results have been reached.")
        return page, size

    def check_bad_token(self, request: web.Request) -> None:
        if self.user(request) is INVALID:
            raise problem(401, UNAUTHORIZED_MESSAGE)

    def deposit_user(self, request: web.Request, scope: str = "deposit:write") -> User:
        user = self.user(request)
        # the legacy deposit API answers anonymous, bad and scope-less tokens alike: 403
        if user is None or user is INVALID or not user.can(scope):
            raise problem(403, PERMISSION_MESSAGE)
        return user

    def links(self, request: web.Request, page: int, size: int, total: int, path: str | None = None) -> dict:
        base = base_of(request)
        path = path or request.path
        params = {k: v for k, v in request.query.items() if k not in ("page", "size", "access_token")}

        def url(p: int) -> str:
            return f"{base}{path}?{urlencode({**params, 'page': p, 'size': size})}"

        links = {"self": url(page)}
        if page * size < total:
            links["next"] = url(page + 1)
        if page > 1:
            links["prev"] = url(page - 1)
        return links

    def record_or_404(self, request: web.Request) -> Record:
        recid = request.match_info["recid"]
        if not recid.isdigit() or int(recid) not in self.store.records:
            raise problem(404, PID_MISSING)
        return self.store.records[int(recid)]

    # ------------------------------------------------------------------ records

    def search(self, request: web.Request, community: str | None = None) -> tuple[list[Record], dict]:
        q = request.query.get("q", "")
        try:
            tree = parse_query(q)
        except QuerySyntaxError:
            raise problem(400, "Invalid query string syntax.") from None
        all_versions = request.query.get("all_versions", "").lower() in ("1", "true", "yes", "on")
        community = community or request.query.get("communities") or None
        rtype = request.query.get("type") or None
        subtype = request.query.get("subtype") or None
        scored = []
        type_counts: dict[str, int] = {}
        for record in self.store.records.values():
            if not all_versions and not self.store.is_latest(record):
                continue
            md = record.metadata
            if community and community not in [c.get("id") for c in md.get("communities", [])]:
                continue
            matched, score = evaluate(tree, record_doc(record))
            if not matched:
                continue
            rt = md.get("resource_type", {})
            type_counts[rt.get("type", "other")] = type_counts.get(rt.get("type", "other"), 0) + 1
            if rtype and rt.get("type") != rtype:
                continue
            if subtype and rt.get("subtype") != subtype:
                continue
            scored.append((score, record))
        sort = request.query.get("sort") or ("bestmatch" if q.strip() else "mostrecent")
        key_recent = lambda item: (item[1].created, item[1].recid)  # noqa: E731
        if sort in ("mostrecent", "newest", "-oldest"):
            scored.sort(key=key_recent, reverse=True)
        elif sort in ("-mostrecent", "oldest", "-newest"):
            scored.sort(key=key_recent)
        elif sort in ("bestmatch", "-bestmatch"):
            scored.sort(key=lambda item: (item[0], item[1].created, item[1].recid), reverse=sort == "bestmatch")
        else:
            raise problem(400, f"Invalid sort option: {sort}.")
        aggregations = {
            "resource_type": {
                "buckets": [
                    {"key": key, "doc_count": count, "label": RESOURCE_TITLES.get(key, key)}
                    for key, count in sorted(type_counts.items(), key=lambda kv: (-kv[1], kv[0]))
                ]
            }
        }
        return [r for _, r in scored], aggregations

    async def records(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        page, size = self.page_args(request)
        found, aggregations = self.search(request)
        base = base_of(request)
        hits = [record_json(self.store, r, base) for r in found[(page - 1) * size : page * size]]
        return web.json_response(
            {
                "aggregations": aggregations,
                "hits": {"hits": hits, "total": len(found)},
                "links": self.links(request, page, size, len(found)),
            }
        )

    async def record(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record = self.record_or_404(request)
        return web.json_response(record_json(self.store, record, base_of(request)))

    async def record_versions(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record = self.record_or_404(request)
        page, size = self.page_args(request)
        versions = [self.store.records[i] for i in reversed(self.store.versions(record)) if i in self.store.records]
        base = base_of(request)
        return web.json_response(
            {
                "hits": {"hits": [record_json(self.store, r, base) for r in versions[(page - 1) * size : page * size]],
                         "total": len(versions)},
                "links": self.links(request, page, size, len(versions)),
            }
        )

    async def record_files(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record = self.record_or_404(request)
        base = base_of(request)
        entries = [
            {
                "key": f.key,
                "size": f.size,
                "checksum": f"md5:{f.md5}",
                "mimetype": f.mimetype,
                "file_id": f.id,
                "status": "completed",
                "storage_class": "L",
                "created": _iso(f.created),
                "updated": _iso(f.created),
                "metadata": None,
                "links": file_links(base, record.recid, f.key),
            }
            for f in record.files
        ]
        return web.json_response(
            {
                "enabled": True,
                "entries": entries,
                "order": [],
                "default_preview": None,
                "links": {"self": f"{base}/api/records/{record.recid}/files"},
            }
        )

    def record_file(self, request: web.Request) -> tuple[Record, StoredFile]:
        record = self.record_or_404(request)
        key = request.match_info["key"]
        for f in record.files:
            if f.key == key:
                return record, f
        raise problem(404, "The file does not exist.")

    async def record_file_meta(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record, f = self.record_file(request)
        return web.json_response(
            {"key": f.key, "size": f.size, "checksum": f"md5:{f.md5}", "mimetype": f.mimetype,
             "links": file_links(base_of(request), record.recid, f.key)}
        )

    async def record_file_content(self, request: web.Request) -> web.StreamResponse:
        self.check_bad_token(request)
        _, f = self.record_file(request)
        return await self.send_file(request, f)

    async def send_file(self, request: web.Request, f: StoredFile) -> web.StreamResponse:
        fault: Fault | None = request.get("fault")
        size = f.size
        etag = f'"md5:{f.md5}"'
        start, end = 0, size
        status = 200
        range_header = request.headers.get("Range", "")
        if_range = request.headers.get("If-Range")
        use_range = bool(range_header) and not (fault and fault.ignore_range) and (if_range is None or if_range == etag)
        if use_range:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
                else:
                    start, end = max(0, size - int(m.group(2))), size
                if start >= size or end <= start:
                    return web.Response(status=416, headers={"Content-Range": f"bytes */{size}", **request.get("rate_headers", {})})
                status = 206
        response = web.StreamResponse(status=status)
        response.content_type = f.mimetype
        response.content_length = end - start
        response.headers["ETag"] = etag
        response.headers["Content-MD5"] = base64.b64encode(bytes.fromhex(f.md5)).decode()
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f.key)}"
        response.headers["Last-Modified"] = f.created.strftime("%a, %d %b %Y %H:%M:%S GMT")
        if status == 206:
            response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        await response.prepare(request)
        if request.method == "HEAD" or end == start:
            await response.write_eof()
            return response
        chunk = 1 << 20
        rate = fault.rate if fault and fault.rate else None
        if rate:
            chunk = max(1024, min(chunk, int(rate / 10)))
        drop_at = fault.drop_after_bytes if fault and fault.drop_after_bytes is not None else None
        corrupt_at = fault.corrupt_at if fault and fault.corrupt_at is not None else None
        sent = 0
        pos = start
        async for piece in f.content.chunks(start, end, chunk):
            if corrupt_at is not None and pos <= corrupt_at < pos + len(piece):
                piece = bytearray(piece)
                piece[corrupt_at - pos] ^= 0xFF
            if drop_at is not None and sent + len(piece) >= drop_at:
                await response.write(piece[: max(0, drop_at - sent)])
                await asyncio.sleep(0.05)  # let the bytes leave before the connection is cut
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("dropped by an armed fault")
            await response.write(piece)
            sent += len(piece)
            pos += len(piece)
            if rate:
                await asyncio.sleep(len(piece) / rate)
        await response.write_eof()
        return response

    # ------------------------------------------------------------------ communities

    async def communities(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        page, size = self.page_args(request)
        q = request.query.get("q", "")
        try:
            tree = parse_query(q)
        except QuerySyntaxError:
            raise problem(400, "Invalid query string syntax.") from None
        ctype = request.query.get("type") or None
        found = []
        for community in self.store.communities.values():
            if ctype and community.type != ctype:
                continue
            doc = community_doc(community)
            matched, score = evaluate(tree, {**doc, "title": doc["title"]})
            if matched:
                found.append((score, community))
        sort = request.query.get("sort") or ("bestmatch" if q.strip() else "newest")
        if sort in ("newest", "updated-desc"):
            found.sort(key=lambda item: item[1].created, reverse=True)
        elif sort in ("oldest", "updated-asc"):
            found.sort(key=lambda item: item[1].created)
        elif sort == "bestmatch":
            found.sort(key=lambda item: (item[0], item[1].created), reverse=True)
        else:
            raise problem(400, f"Invalid sort option: {sort}.")
        base = base_of(request)
        hits = [community_json(c, base) for _, c in found[(page - 1) * size : page * size]]
        return web.json_response(
            {"hits": {"hits": hits, "total": len(found)}, "sortBy": sort, "links": self.links(request, page, size, len(found)),
             "aggregations": {}}
        )

    def community_or_404(self, request: web.Request) -> Community:
        ident = request.match_info["slug"]
        for community in self.store.communities.values():
            if ident in (community.slug, community.id):
                return community
        raise problem(404, "The community does not exist.")

    async def community(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        return web.json_response(community_json(self.community_or_404(request), base_of(request)))

    async def community_records(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        community = self.community_or_404(request)
        page, size = self.page_args(request)
        found, aggregations = self.search(request, community=community.slug)
        base = base_of(request)
        hits = [record_rdm_json(self.store, r, base) for r in found[(page - 1) * size : page * size]]
        return web.json_response(
            {"hits": {"hits": hits, "total": len(found)}, "aggregations": aggregations,
             "links": self.links(request, page, size, len(found)), "sortBy": request.query.get("sort", "newest")}
        )

    async def user_communities(self, request: web.Request) -> web.Response:
        user = self.user(request)
        if user is None:
            raise problem(403, PERMISSION_MESSAGE)
        if user is INVALID:
            raise problem(401, UNAUTHORIZED_MESSAGE)
        return web.json_response({"hits": {"hits": [], "total": 0}, "links": {}})

    async def licenses(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "").lower()
        hits = [
            {"id": lid, "title": {"en": title}, "props": {"url": url}}
            for lid, (title, url) in LICENSES.items()
            if not q or q in lid or q in title.lower()
        ]
        return web.json_response({"hits": {"hits": hits, "total": len(hits)}})

    # ------------------------------------------------------------------ depositions

    async def json_body(self, request: web.Request) -> dict:
        if request.content_type != "application/json":
            raise problem(415, "The server does not support the media type transmitted in the request.")
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            raise problem(400, "Invalid JSON body.") from None
        if not isinstance(body, dict):
            raise problem(400, "Invalid JSON body: an object was expected.")
        return body

    def deposition_or_404(self, request: web.Request, user: User) -> Deposition:
        did = request.match_info["did"]
        dep = self.store.depositions.get(int(did)) if did.isdigit() else None
        if dep is None or dep.deleted:
            raise problem(404, PID_MISSING)
        if dep.owner != user.id:
            raise problem(403, PERMISSION_MESSAGE)
        return dep

    @staticmethod
    def check_metadata_types(metadata: Any) -> list[dict]:
        """What ``PUT`` checks (documented error form: ``errors[].message``)."""
        errors: list[dict] = []
        if not isinstance(metadata, dict):
            return [{"field": "metadata", "message": "Not a valid mapping type."}]
        upload_type = metadata.get("upload_type")
        if upload_type is not None and upload_type not in RESOURCE_TITLES:
            errors.append({"field": "metadata.upload_type", "message": f"Invalid upload type: {upload_type!r}."})
        creators = metadata.get("creators")
        if creators is not None:
            if not isinstance(creators, list):
                errors.append({"field": "metadata.creators", "message": "Not a valid list."})
            else:
                for i, c in enumerate(creators):
                    if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"].strip():
                        errors.append({"field": f"metadata.creators.{i}.name", "message": "Name is required."})
        communities = metadata.get("communities")
        if communities is not None and (
            not isinstance(communities, list) or not all(isinstance(c, dict) and "identifier" in c for c in communities)
        ):
            errors.append({"field": "metadata.communities", "message": "Not a valid list of communities: "
                           "[{\"identifier\": \"<slug>\"}] expected."})
        pub_date = metadata.get("publication_date")
        if pub_date is not None:
            try:
                date.fromisoformat(str(pub_date))
            except ValueError:
                errors.append({"field": "metadata.publication_date", "message": "Not a valid date."})
        access = metadata.get("access_right")
        if access is not None and access not in ACCESS_RIGHTS:
            errors.append({"field": "metadata.access_right", "message": f"Invalid access right: {access!r}."})
        return errors

    def check_publishable(self, dep: Deposition) -> list[dict]:
        """What publish checks (the form the server really sends: ``errors[].messages[]``)."""
        md = dep.metadata
        missing = "Missing data for required field."
        errors: list[dict] = []
        for name in ("title", "description"):
            if not str(md.get(name, "") or "").strip():
                errors.append({"field": f"metadata.{name}", "messages": [missing]})
        if not md.get("creators"):
            errors.append({"field": "metadata.creators", "messages": [missing]})
        upload_type = md.get("upload_type")
        if not upload_type:
            errors.append({"field": "metadata.upload_type", "messages": [missing]})
        elif upload_type == "publication" and md.get("publication_type") not in PUBLICATION_TYPES:
            errors.append({"field": "metadata.publication_type", "messages": [missing]})
        elif upload_type == "image" and md.get("image_type") not in IMAGE_TYPES:
            errors.append({"field": "metadata.image_type", "messages": [missing]})
        access = md.get("access_right", "open")
        if access == "embargoed" and not md.get("embargo_date"):
            errors.append({"field": "metadata.embargo_date", "messages": [missing]})
        if access == "restricted" and not md.get("access_conditions"):
            errors.append({"field": "metadata.access_conditions", "messages": [missing]})
        license_id = md.get("license")
        if isinstance(license_id, dict):
            license_id = license_id.get("id")
        if license_id and str(license_id).lower() not in LICENSES and str(license_id).lower() not in ("cc-zero", "cc-by"):
            errors.append({"field": "metadata.license", "messages": [f"Invalid license: {license_id!r}."]})
        for c in md.get("communities") or []:
            if c.get("identifier") not in self.store.communities:
                errors.append({"field": "communities", "messages": [f"Community {c.get('identifier')!r} does not exist."]})
        if not dep.bucket.files:
            errors.append({"field": "files", "messages": ["Minimum one file must be provided."]})
        return errors

    async def list_depositions(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        try:
            page = max(1, int(request.query.get("page", "1") or 1))
            size = min(100, max(1, int(request.query.get("size", "10") or 10)))
        except ValueError:
            raise problem(400, "Invalid page or size.") from None
        status = request.query.get("status")
        q = request.query.get("q", "").lower()
        deps = [
            d for d in self.store.depositions.values()
            if d.owner == user.id and not d.deleted
            and (status is None or (status == "published") == d.submitted)
            and (not q or q in str(d.metadata.get("title", "")).lower())
        ]
        deps.sort(key=lambda d: d.modified, reverse=True)
        base = base_of(request)
        return web.json_response([deposition_json(self.store, d, base) for d in deps[(page - 1) * size : page * size]])

    async def create_deposition(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        body = await self.json_body(request)
        metadata = body.get("metadata", {})
        errors = self.check_metadata_types(metadata)
        if errors:
            raise problem(400, "Validation error.", errors)
        metadata = {k: v for k, v in metadata.items() if k != "prereserve_doi"}
        now = _now()
        recid = self.store.new_id()
        concept = self.store.new_id()
        dep = Deposition(
            id=recid, conceptrecid=concept, owner=user.id, metadata=metadata, bucket=self.store.new_bucket(user.id),
            created=now, modified=now,
        )
        self.store.depositions[dep.id] = dep
        return web.json_response(deposition_json(self.store, dep, base_of(request)), status=201)

    async def get_deposition(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        dep = self.deposition_or_404(request, user)
        return web.json_response(deposition_json(self.store, dep, base_of(request)))

    async def update_deposition(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        dep = self.deposition_or_404(request, user)
        if dep.submitted and not dep.editing:
            raise problem(404, PID_MISSING)  # the real server: 404 (the docs say 403)
        body = await self.json_body(request)
        metadata = body.get("metadata")
        if metadata is None:
            raise problem(400, "Validation error.", [{"field": "metadata", "message": "Missing data for required field."}])
        errors = self.check_metadata_types(metadata)
        if errors:
            raise problem(400, "Validation error.", errors)
        dep.metadata = {k: v for k, v in metadata.items() if k not in ("prereserve_doi", "doi")}
        dep.modified = _now()
        return web.json_response(deposition_json(self.store, dep, base_of(request)))

    async def delete_deposition(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        dep = self.deposition_or_404(request, user)
        if dep.submitted:
            raise problem(404, PID_MISSING)  # published: cannot be deleted (the docs say 403)
        dep.deleted = True
        self.store.buckets.pop(dep.bucket.id, None)
        return web.Response(status=204)

    async def deposition_action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        handler = {
            "publish": self.publish, "newversion": self.new_version, "edit": self.edit, "discard": self.discard,
        }.get(action)
        if handler is None:
            raise problem(404, "The requested URL was not found on the server.")
        user = self.deposit_user(request, "deposit:actions")
        dep = self.deposition_or_404(request, user)
        return await handler(request, dep)

    async def publish(self, request: web.Request, dep: Deposition) -> web.Response:
        if dep.submitted and not dep.editing:
            raise problem(404, PID_MISSING)
        errors = self.check_publishable(dep)
        if errors:
            raise problem(400, "A validation error occurred.", errors)
        md = copy.deepcopy(dep.metadata)
        upload_type = md.pop("upload_type")
        resource_type = {"type": upload_type}
        if upload_type == "publication":
            resource_type["subtype"] = md.pop("publication_type")
        elif upload_type == "image":
            resource_type["subtype"] = md.pop("image_type")
        md["resource_type"] = resource_type
        license_id = md.get("license") or ("cc0-1.0" if upload_type == "dataset" else "cc-by-4.0")
        if isinstance(license_id, dict):
            license_id = license_id.get("id")
        license_id = {"cc-zero": "cc0-1.0", "cc-by": "cc-by-4.0"}.get(str(license_id).lower(), str(license_id).lower())
        md["license"] = {"id": license_id}
        md["communities"] = [{"id": c["identifier"]} for c in md.get("communities") or []]
        md.setdefault("publication_date", date.today().isoformat())
        md.setdefault("access_right", "open")
        now = _now()
        if dep.editing:
            record = self.store.records[dep.id]
            record.metadata = md
            record.updated = now
            dep.editing = False
            dep.saved_metadata = None
        else:
            files = list(dep.bucket.files.values())
            self.store.add_record(md, files, created=now, owner=dep.owner, conceptrecid=dep.conceptrecid, recid=dep.id)
        dep.state = "done"
        dep.submitted = True
        dep.bucket.locked = True
        dep.modified = now
        return web.json_response(deposition_json(self.store, dep, base_of(request)), status=202)

    async def new_version(self, request: web.Request, dep: Deposition) -> web.Response:
        if not dep.submitted:
            raise problem(400, "The deposit must be published to create a new version.")
        draft = self.store.open_draft(dep.conceptrecid)
        if draft is None:
            now = _now()
            bucket = self.store.new_bucket(dep.owner)
            for f in dep.bucket.files.values():
                bucket.files[f.key] = StoredFile(f.key, f.content)
            md = {k: v for k, v in copy.deepcopy(dep.metadata).items() if k not in ("doi", "prereserve_doi")}
            draft = Deposition(
                id=self.store.new_id(), conceptrecid=dep.conceptrecid, owner=dep.owner, metadata=md, bucket=bucket,
                created=now, modified=now,
            )
            self.store.depositions[draft.id] = draft
        # the real server answers with the new draft (the docs say: the original deposit)
        return web.json_response(deposition_json(self.store, draft, base_of(request)), status=201)

    async def edit(self, request: web.Request, dep: Deposition) -> web.Response:
        if not dep.submitted:
            raise problem(400, "The deposit is not published.")
        if dep.editing:
            raise problem(403, "The deposit is already open for editing.")
        dep.editing = True
        dep.saved_metadata = copy.deepcopy(dep.metadata)
        dep.state = "inprogress"
        return web.json_response(deposition_json(self.store, dep, base_of(request)), status=201)

    async def discard(self, request: web.Request, dep: Deposition) -> web.Response:
        if not dep.editing:
            raise problem(400, "The deposit is not being edited.")
        dep.metadata = dep.saved_metadata or dep.metadata
        dep.editing = False
        dep.saved_metadata = None
        dep.state = "done"
        return web.json_response(deposition_json(self.store, dep, base_of(request)), status=201)

    async def deposition_files(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        dep = self.deposition_or_404(request, user)
        return web.json_response(deposition_json(self.store, dep, base_of(request))["files"])

    async def delete_deposition_file(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        dep = self.deposition_or_404(request, user)
        if dep.bucket.locked:
            raise problem(404, PID_MISSING)
        for key, f in list(dep.bucket.files.items()):
            if f.id == request.match_info["file_id"]:
                del dep.bucket.files[key]
                return web.Response(status=204)
        raise problem(404, "The file does not exist.")

    # ------------------------------------------------------------------ buckets

    def bucket_or_404(self, request: web.Request, user: User) -> Bucket:
        bucket = self.store.buckets.get(request.match_info["bucket"])
        if bucket is None:
            raise problem(404, "Bucket does not exist.")
        if self.store.bucket_owner.get(bucket.id) != user.id:
            raise problem(403, PERMISSION_MESSAGE)
        return bucket

    async def get_bucket(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        bucket = self.bucket_or_404(request, user)
        base = base_of(request)
        contents = [bucket_file_json(bucket, f, base) for f in bucket.files.values()]
        return web.json_response(
            {
                "id": bucket.id,
                "contents": contents,
                "size": sum(f.size for f in bucket.files.values()),
                "quota_size": self.store.max_file_size,
                "max_file_size": self.store.max_file_size,
                "locked": bucket.locked,
                "links": {"self": f"{base}/api/files/{bucket.id}"},
            }
        )

    async def put_bucket_file(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        bucket = self.bucket_or_404(request, user)
        key = request.match_info["key"]
        if bucket.locked:
            raise problem(403, "Bucket is locked for modifications.")
        if request.content_length is None:
            # what nginx in front of Zenodo answers a chunked upload: never store 0 bytes
            raise problem(411, "A Content-Length header is required.")
        if "/" in key or key in (".", ".."):
            raise problem(400, "Invalid file name.")
        if request.content_length > self.store.max_file_size:
            raise problem(400, f"File size limit exceeded: at most {self.store.max_file_size} bytes per file.")
        if key not in bucket.files and len(bucket.files) >= self.store.max_files:
            raise problem(400, f"Too many files: at most {self.store.max_files} files per record.")
        path = os.path.join(self.store.data_dir, "blobs", uuid.uuid4().hex)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        digest = hashlib.md5()
        size = 0
        loop = asyncio.get_running_loop()
        try:
            with open(path, "wb") as out:
                async for chunk in request.content.iter_chunked(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    await loop.run_in_executor(None, out.write, chunk)
        except BaseException:
            os.unlink(path)
            raise
        if size != request.content_length:
            os.unlink(path)
            raise problem(400, "The upload was incomplete (fewer bytes than Content-Length).")
        stored = StoredFile(key, DiskContent(path, size, digest.hexdigest()))
        bucket.files[key] = stored
        return web.json_response(bucket_file_json(bucket, stored, base_of(request)), status=201)

    async def get_bucket_file(self, request: web.Request) -> web.StreamResponse:
        user = self.deposit_user(request)
        bucket = self.bucket_or_404(request, user)
        f = bucket.files.get(request.match_info["key"])
        if f is None:
            raise problem(404, "Object does not exist.")
        return await self.send_file(request, f)

    async def delete_bucket_file(self, request: web.Request) -> web.Response:
        user = self.deposit_user(request)
        bucket = self.bucket_or_404(request, user)
        if bucket.locked:
            raise problem(403, "Bucket is locked for modifications.")
        if bucket.files.pop(request.match_info["key"], None) is None:
            raise problem(404, "Object does not exist.")
        return web.Response(status=204)

    # ------------------------------------------------------------------ HTML

    async def record_page(self, request: web.Request) -> web.Response:
        recid = request.match_info["recid"]
        record = self.store.records.get(int(recid)) if recid.isdigit() else None
        if record is None:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        md = record.metadata
        esc = html.escape
        files = "".join(
            f'<li><a href="{esc(file_links(base_of(request), record.recid, f.key)["content"])}">{esc(f.key)}</a> '
            f"({f.size} bytes, md5:{f.md5})</li>"
            for f in record.files
        )
        page = (
            f"<!DOCTYPE html><html><head><title>{esc(md['title'])} | Zenodo stand-in</title></head><body>"
            f"<h1>{esc(md['title'])}</h1><p>DOI: {esc(record.doi)} &middot; {esc(md.get('publication_date', ''))}"
            f" &middot; {esc(md.get('version') or '')}</p>"
            f"<p>{esc(', '.join(c['name'] for c in md.get('creators', [])))}</p>"
            f"<div>{_strip_html(md.get('description', ''))}</div><ul>{files}</ul></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def community_page(self, request: web.Request) -> web.Response:
        try:
            community = self.community_or_404(request)
        except Problem:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        return web.Response(
            text=f"<!DOCTYPE html><html><body><h1>{html.escape(community.title)}</h1>"
            f"<p>{html.escape(community.description)}</p></body></html>",
            content_type="text/html",
        )

    # ------------------------------------------------------------------ test control

    async def add_fault(self, request: web.Request) -> web.Response:
        try:
            spec = await request.json()
        except ValueError:
            return json_error(400, "invalid JSON")
        specs = spec if isinstance(spec, list) else [spec]
        created = []
        for one in specs:
            if not isinstance(one, dict) or set(one) - set(FAULT_FIELDS):
                return json_error(400, f"unknown fault fields: {sorted(set(one) - set(FAULT_FIELDS)) if isinstance(one, dict) else one}")
            try:
                re.compile(one.get("path_regex", ".*"))
            except re.error as err:
                return json_error(400, f"invalid path_regex: {err}")
            self.fault_ids += 1
            fault = Fault(id=self.fault_ids, **one)
            self.faults.append(fault)
            created.append(fault.to_json())
        return web.json_response(created if isinstance(spec, list) else created[0], status=201)

    async def list_faults(self, request: web.Request) -> web.Response:
        return web.json_response([f.to_json() for f in self.faults])

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.Response(status=204)

    async def list_requests(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.requests))

    async def clear_requests(self, request: web.Request) -> web.Response:
        self.requests.clear()
        return web.Response(status=204)

    async def set_config(self, request: web.Request) -> web.Response:
        body = await request.json()
        for name, value in (body.get("rate_limit") or {}).items():
            if name not in self.limiter.limits:
                return json_error(400, f"unknown rate limit {name!r}")
            self.limiter.limits[name] = int(value)
        self.limiter.windows.clear()
        return web.json_response({"rate_limit": self.limiter.limits})

    async def release(self, request: web.Request) -> web.Response:
        """Let every request held by a ``hold`` fault go on."""
        held, self.held = self.held, asyncio.Event()
        held.set()
        return web.Response(status=204)

    async def reset(self, request: web.Request) -> web.Response:
        await self.release(request)
        self.faults.clear()
        self.requests.clear()
        self.limiter.windows.clear()
        return web.Response(status=204)

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "url": base_of(request),
                "records": self.store.seeded,
                "big_records": self.store.big_records,
                "communities": sorted(self.store.communities),
                "users": sorted({u.username for u in self.store.tokens.values()}),
                "rate_limit": self.limiter.limits,
            }
        )

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    # ------------------------------------------------------------------ routes

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.middleware], client_max_size=1 << 20)
        app.on_response_prepare.append(self.on_prepare)
        r = app.router
        for prefix in ("/api/records", "/api/records/"):
            r.add_get(prefix, self.records)
        r.add_get("/api/records/{recid}", self.record)
        r.add_get("/api/records/{recid}/versions", self.record_versions)
        r.add_get("/api/records/{recid}/files", self.record_files)
        r.add_get("/api/records/{recid}/files/{key}/content", self.record_file_content)
        r.add_get("/api/records/{recid}/files/{key}", self.record_file_meta)
        r.add_get("/api/communities", self.communities)
        r.add_get("/api/communities/", self.communities)
        r.add_get("/api/communities/{slug}", self.community)
        r.add_get("/api/communities/{slug}/records", self.community_records)
        r.add_get("/api/user/communities", self.user_communities)
        r.add_get("/api/licenses", self.licenses)
        r.add_get("/api/deposit/depositions", self.list_depositions)
        r.add_post("/api/deposit/depositions", self.create_deposition)
        r.add_get("/api/deposit/depositions/{did}", self.get_deposition)
        r.add_put("/api/deposit/depositions/{did}", self.update_deposition)
        r.add_delete("/api/deposit/depositions/{did}", self.delete_deposition)
        r.add_post("/api/deposit/depositions/{did}/actions/{action}", self.deposition_action)
        r.add_get("/api/deposit/depositions/{did}/files", self.deposition_files)
        r.add_delete("/api/deposit/depositions/{did}/files/{file_id}", self.delete_deposition_file)
        r.add_get("/api/files/{bucket}", self.get_bucket)
        r.add_put("/api/files/{bucket}/{key}", self.put_bucket_file)
        r.add_get("/api/files/{bucket}/{key}", self.get_bucket_file)
        r.add_delete("/api/files/{bucket}/{key}", self.delete_bucket_file)
        r.add_get("/records/{recid}", self.record_page)
        r.add_get("/communities/{slug}", self.community_page)
        r.add_post("/_standin/faults", self.add_fault)
        r.add_get("/_standin/faults", self.list_faults)
        r.add_delete("/_standin/faults", self.clear_faults)
        r.add_get("/_standin/requests", self.list_requests)
        r.add_delete("/_standin/requests", self.clear_requests)
        r.add_post("/_standin/config", self.set_config)
        r.add_post("/_standin/release", self.release)
        r.add_post("/_standin/reset", self.reset)
        r.add_get("/_standin/info", self.info)
        r.add_get("/_standin/health", self.health)
        return app


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------


class AccessLogger(AbstractAccessLogger):
    """Method, path (no query string: it could hold ``access_token``), status, size, time."""

    def log(self, request, response, time):  # noqa: A002
        self.logger.info(
            "%s %s %s %s %.3fs", request.method, request.path, response.status, response.body_length, time
        )


def _parse_token(value: str) -> tuple[str, str]:
    name, sep, token = value.partition("=")
    if not sep or not name or not token:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, token


def _parse_big(value: str) -> tuple[int, float]:
    try:
        n, size = value.split(":")
        return int(n), float(size)
    except ValueError:
        raise argparse.ArgumentTypeError("expected N_FILES:SIZE_MIB, e.g. 20:50") from None


def _parse_limits(value: str) -> tuple[int, int, int]:
    try:
        parts = [int(p) for p in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected GUEST,AUTHENTICATED[,SEARCH] requests per minute") from None
    if len(parts) == 2:
        parts.append(30)
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("expected GUEST,AUTHENTICATED[,SEARCH] requests per minute")
    return parts[0], parts[1], parts[2]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mesh-zenodo zenodo-standin",
        description="A local Zenodo for tests and offline demos (records, communities, files, deposit API, "
        "rate limits, fault injection under /_standin/).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5080, help="port (default: 5080; 0 picks a free one)")
    parser.add_argument("--data", metavar="DIR", help="folder for uploaded files (default: a temporary folder)")
    parser.add_argument(
        "--token", action="append", type=_parse_token, default=[], metavar="NAME=VALUE",
        help="add an access token with the deposit:write and deposit:actions scopes for user NAME",
    )
    parser.add_argument(
        "--readonly-token", action="append", type=_parse_token, default=[], metavar="NAME=VALUE",
        help="add an access token without deposit scopes for user NAME",
    )
    parser.add_argument("--no-default-tokens", action="store_true", help="do not accept the built-in demo tokens")
    parser.add_argument(
        "--big-record", action="append", type=_parse_big, default=[], metavar="N_FILES:SIZE_MIB",
        help="add a record of N generated files of SIZE_MIB each (repeatable)",
    )
    parser.add_argument(
        "--rate-limit", type=_parse_limits, default=(60, 100, 30), metavar="GUEST,AUTH[,SEARCH]",
        help="requests per minute before 429 (default: 60,100,30 as documented by Zenodo)",
    )
    parser.add_argument("--max-files", type=int, default=100, help="files per deposition (default: 100)")
    parser.add_argument("--access-log", action="store_true", help="log every request (without tokens)")
    return parser


async def serve(args: argparse.Namespace) -> None:
    data = args.data or tempfile.mkdtemp(prefix="zenodo-standin-")
    store = Store(data, max_files=args.max_files)
    if not args.no_default_tokens:
        for value, (uid, name, scopes) in DEFAULT_TOKENS.items():
            store.add_token(value, uid, name, scopes)
    next_uid = 100
    for name, value in args.token:
        next_uid += 1
        store.add_token(value, next_uid, name, FULL_SCOPES)
    for name, value in args.readonly_token:
        next_uid += 1
        store.add_token(value, next_uid, name, ())
    seed(store)
    for n_files, size_mib in args.big_record:
        add_big_record(store, n_files, size_mib)
    pending = [
        f.content for r in store.records.values() for f in r.files if getattr(f.content, "md5", "x") is None
    ]
    if pending:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, c.compute_md5) for c in pending))
    standin = StandIn(store, RateLimiter(*args.rate_limit))
    app = standin.app()
    runner = web.AppRunner(app, access_log=log if args.access_log else None, access_log_class=AccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    port = sockets[0].getsockname()[1] if sockets else args.port
    host = args.host if ":" not in args.host else f"[{args.host}]"
    print(f"mesh-zenodo zenodo-standin: listening on http://{host}:{port}", flush=True)
    if store.big_records:
        print(f"mesh-zenodo zenodo-standin: big records {' '.join(map(str, store.big_records))}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if not args.data:
            shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s zenodo-standin %(message)s")
    # aiohttp logs "Error handling request" when a fault cuts a connection: expected here
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
