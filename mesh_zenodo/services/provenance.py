"""Where files on the storage came from: a Zenodo record's provenance, kept as CS3
arbitrary metadata (``zenodo.*`` keys) on the storage itself, so that it travels with the
files and every CS3 client can read it.

The one place that writes and reads it: a pull records it on each pulled file
(:data:`FILE_KEYS`: which file of which record, with the record's title and version) and
on the destination folder: the last record pulled there as flat keys
(:data:`FOLDER_KEYS`, readable by any CS3 client) and every record that landed files
there as a JSON list (:data:`RECORDS_KEY`). The UI's provenance view reads it back with
:func:`read`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ..cs3.client import CS3Client
from . import records

#: CS3 arbitrary metadata set on the destination folder after a pull
FOLDER_KEYS = (
    "zenodo.record_id",
    "zenodo.conceptrecid",
    "zenodo.doi",
    "zenodo.conceptdoi",
    "zenodo.version",
    "zenodo.title",
    "zenodo.url",
    "zenodo.publication_date",
    "zenodo.pulled_at",
)
#: CS3 arbitrary metadata set on each pulled file
FILE_KEYS = (
    "zenodo.record_id", "zenodo.doi", "zenodo.key", "zenodo.checksum", "zenodo.url", "zenodo.title", "zenodo.version",
)
#: on a folder: every record that landed files there, a JSON list (newest last)
RECORDS_KEY = "zenodo.records"
#: records and file names kept per folder (the oldest records are dropped)
MAX_RECORDS, MAX_KEYS = 50, 200
#: every key, each once (what :func:`read` asks the storage for)
ALL_KEYS = tuple(dict.fromkeys(FOLDER_KEYS + FILE_KEYS + (RECORDS_KEY,)))


def of_record(record: dict, base_url: str) -> dict[str, str]:
    """The folder metadata for a pull of ``record`` (without the time of the pull)."""
    conceptrecid, conceptdoi = records.concept_of(record)
    md = record.get("metadata") or {}
    return {
        "zenodo.record_id": records.record_id(record),
        "zenodo.conceptrecid": conceptrecid or "",
        "zenodo.doi": records.doi_of(record) or "",
        "zenodo.conceptdoi": conceptdoi or "",
        "zenodo.version": str(md.get("version") or ""),
        "zenodo.title": str(md.get("title") or record.get("title") or "")[:1000],
        "zenodo.url": records.html_url(record, base_url),
        "zenodo.publication_date": str(md.get("publication_date") or ""),
    }


def _records_of(metadata: dict[str, str]) -> list[dict]:
    """The folder's list of records (a folder from before the list: its flat keys)."""
    try:
        records_ = json.loads(metadata.get(RECORDS_KEY) or "[]")
    except ValueError:
        records_ = []
    if not isinstance(records_, list):
        records_ = []
    records_ = [r for r in records_ if isinstance(r, dict) and r.get("record_id")]
    if not records_ and metadata.get("zenodo.record_id"):
        records_ = [{key.removeprefix("zenodo."): metadata.get(key, "") for key in FOLDER_KEYS}]
    return records_


async def record_folder(cs3: CS3Client, folder: str, values: dict[str, str], keys: list[str]) -> None:
    """Note on ``folder`` (a CS3 path) that the files ``keys`` of the record ``values``
    landed there (beside the records that landed files there before)."""
    metadata = dict(values)
    metadata["zenodo.pulled_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    info = await cs3.stat(folder, metadata_keys=ALL_KEYS)
    known = _records_of(dict(info.arbitrary_metadata.metadata))
    entry = {key.removeprefix("zenodo."): value for key, value in metadata.items()}
    previous = next((r for r in known if r.get("record_id") == entry["record_id"]), None)
    earlier_keys = previous.get("files", []) if previous else []
    entry["files"] = list(dict.fromkeys([*earlier_keys, *keys]))[:MAX_KEYS]
    known = [r for r in known if r.get("record_id") != entry["record_id"]] + [entry]
    metadata[RECORDS_KEY] = json.dumps(known[-MAX_RECORDS:], separators=(",", ":"))
    await cs3.set_arbitrary_metadata(folder, metadata)


async def record_file(cs3: CS3Client, path: str, values: dict[str, str], *, key: str, md5: str | None, url: str) -> None:
    """Note on the file ``path`` (a CS3 path) which file of which record it is."""
    await cs3.set_arbitrary_metadata(
        path,
        {
            "zenodo.record_id": values.get("zenodo.record_id", ""),
            "zenodo.doi": values.get("zenodo.doi", ""),
            "zenodo.key": key,
            "zenodo.checksum": f"md5:{md5}" if md5 else "",
            "zenodo.url": url,
            "zenodo.title": values.get("zenodo.title", ""),
            "zenodo.version": values.get("zenodo.version", ""),
        },
    )


async def read(cs3: CS3Client, path: str) -> dict:
    """The provenance of a file or folder: ``{"zenodo": {flat keys without "zenodo."} |
    None, "records": [every record that landed files there]}`` (for a file, the one
    record it came from)."""
    info = await cs3.stat(path, metadata_keys=ALL_KEYS)
    metadata = dict(info.arbitrary_metadata.metadata)
    found = {
        key.removeprefix("zenodo."): value
        for key, value in metadata.items()
        if key.startswith("zenodo.") and key != RECORDS_KEY and value
    }
    return {"zenodo": found or None, "records": _records_of(metadata)}
