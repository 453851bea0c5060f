"""Where files on the storage came from: a Zenodo record's provenance, kept as CS3
arbitrary metadata (``zenodo.*`` keys) on the storage itself, so that it travels with the
files and every CS3 client can read it.

The one place that writes and reads it: a pull records it on the destination folder
(:data:`FOLDER_KEYS`) and on each pulled file (:data:`FILE_KEYS`); the UI's provenance
view reads it back with :func:`read`.
"""

from __future__ import annotations

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
FILE_KEYS = ("zenodo.record_id", "zenodo.doi", "zenodo.key", "zenodo.checksum", "zenodo.url")
#: every key, each once (what :func:`read` asks the storage for)
ALL_KEYS = tuple(dict.fromkeys(FOLDER_KEYS + FILE_KEYS))


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


async def record_folder(cs3: CS3Client, folder: str, values: dict[str, str]) -> None:
    """Note on ``folder`` (a CS3 path) that files of the record ``values`` landed there."""
    metadata = dict(values)
    metadata["zenodo.pulled_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
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
        },
    )


async def read(cs3: CS3Client, path: str) -> dict[str, str] | None:
    """The provenance of a file or folder (keys without ``zenodo.``), or None."""
    info = await cs3.stat(path, metadata_keys=ALL_KEYS)
    found = {
        key.removeprefix("zenodo."): value
        for key, value in info.arbitrary_metadata.metadata.items()
        if key.startswith("zenodo.") and value
    }
    return found or None
