"""Zenodo records and communities, reshaped for the UI (pure functions, but
:func:`fetch_record`, the one way to read a record with its files).

Zenodo answers in two shapes: the legacy one (``/api/records`` with
``Accept: application/json``: ``metadata.creators[].name``, ``metadata.resource_type.type``,
``metadata.license.id``, ``files[]``) and InvenioRDM's (``/api/communities/:id/records``:
``metadata.creators[].person_or_org.name``, ``metadata.resource_type.id``,
``metadata.rights[]``, ``files.entries{}``). Both become the same small JSON here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..zenodo.client import checksum_md5
from ..zenodo.vocabulary import LICENSES_WITH_ALIASES, RESOURCE_TITLES

#: the resource types the search filter offers (Zenodo's ``type`` parameter)
RESOURCE_TYPES = [{"id": key, "title": title} for key, title in RESOURCE_TITLES.items()]



def _text(value: Any) -> str:
    if isinstance(value, dict):  # RDM i18n titles {"en": "..."}
        value = value.get("en") or next(iter(value.values()), "")
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int_or_str(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def record_id(record: dict) -> str:
    return str(record.get("id") or record.get("recid") or "")


def resource_type(record: dict) -> dict:
    rt = (record.get("metadata") or {}).get("resource_type") or {}
    if "id" in rt:  # RDM: "publication-article"
        type_, _, subtype = str(rt["id"]).partition("-")
        title = _text(rt.get("title")) or RESOURCE_TITLES.get(type_, type_.title())
    else:
        type_ = rt.get("type") or "other"
        subtype = rt.get("subtype") or ""
        title = _text(rt.get("title")) or RESOURCE_TITLES.get(type_, type_.title())
    return {"type": type_, "subtype": subtype or None, "title": title}


def creators(record: dict) -> list[dict]:
    out = []
    for creator in (record.get("metadata") or {}).get("creators") or []:
        if not isinstance(creator, dict):
            continue
        if "person_or_org" in creator:
            person = creator["person_or_org"] or {}
            name = person.get("name") or ", ".join(
                p for p in (person.get("family_name"), person.get("given_name")) if p
            )
            affiliations = [a.get("name", "") for a in creator.get("affiliations") or [] if isinstance(a, dict)]
            orcid = next(
                (i.get("identifier") for i in person.get("identifiers") or [] if i.get("scheme") == "orcid"), None
            )
        else:
            name = creator.get("name", "")
            affiliation = creator.get("affiliation")
            affiliations = [affiliation] if affiliation else []
            orcid = creator.get("orcid")
        out.append({"name": name, "affiliations": [a for a in affiliations if a], "orcid": orcid or None})
    return out


def license_of(record: dict) -> dict | None:
    md = record.get("metadata") or {}
    lic = md.get("license")
    if lic is None and md.get("rights"):
        lic = md["rights"][0]
    if not lic:
        return None
    if isinstance(lic, str):
        lic = {"id": lic}
    lid = str(lic.get("id") or "").lower()
    title, url = LICENSES_WITH_ALIASES.get(lid, (_text(lic.get("title")) or lid, (lic.get("props") or {}).get("url") or lic.get("link")))
    return {"id": lid, "title": title, "url": url}


def doi_of(record: dict) -> str | None:
    doi = record.get("doi") or (record.get("metadata") or {}).get("doi")
    if not doi:
        doi = ((record.get("pids") or {}).get("doi") or {}).get("identifier")
    return doi or None


def concept_of(record: dict) -> tuple[str | None, str | None]:
    """``(conceptrecid, conceptdoi)``."""
    if record.get("conceptrecid"):
        return str(record["conceptrecid"]), record.get("conceptdoi") or None
    parent = record.get("parent") or {}
    return (str(parent["id"]) if parent.get("id") else None), ((parent.get("pids") or {}).get("doi") or {}).get("identifier")


def communities_of(record: dict) -> list[str]:
    md = record.get("metadata") or {}
    ids = [c.get("id") or c.get("identifier") for c in md.get("communities") or [] if isinstance(c, dict)]
    if not ids:
        parent = (record.get("parent") or {}).get("communities") or {}
        ids = [e.get("slug") or e.get("id") for e in parent.get("entries") or []] or list(parent.get("ids") or [])
    return [i for i in ids if i]


def html_url(record: dict, base_url: str) -> str:
    links = record.get("links") or {}
    return links.get("self_html") or links.get("html") or f"{base_url}/records/{record_id(record)}"


def version_info(record: dict) -> dict:
    md = record.get("metadata") or {}
    info: dict[str, Any] = {"version": md.get("version") or None, "index": None, "count": None, "is_latest": None}
    relation = ((md.get("relations") or {}).get("version") or [None])[0]
    if isinstance(relation, dict):
        index = relation.get("index")
        info.update(
            index=index + 1 if isinstance(index, int) else None,
            count=relation.get("count"),
            is_latest=relation.get("is_last"),
        )
    elif isinstance(record.get("versions"), dict):
        info.update(index=record["versions"].get("index"), is_latest=record["versions"].get("is_latest"))
    return info


def files_of(record: dict, base_url: str) -> list[dict]:
    """``[{key, size, checksum, md5, url}]``: ``url`` is the content link Zenodo gave
    (or the documented one when it gave none)."""
    raw = record.get("files") or []
    if isinstance(raw, dict):  # RDM: {"enabled": .., "entries": {key: entry}}
        entries = raw.get("entries") or {}
        raw = list(entries.values()) if isinstance(entries, dict) else list(entries)
    rid = record_id(record)
    out = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        key = entry.get("key") or entry.get("filename")
        if not isinstance(key, str):
            continue
        links = entry.get("links") or {}
        url = links.get("content")
        if not url:
            url = links.get("self") if str(links.get("self", "")).endswith("/content") else None
        if not url:
            url = f"{base_url}/api/records/{rid}/files/{quote(key, safe='')}/content"
        checksum = entry.get("checksum")
        out.append(
            {
                "key": key,
                "size": int(entry.get("size") or entry.get("filesize") or 0),
                "checksum": checksum,
                "md5": checksum_md5(checksum),
                "url": url,
            }
        )
    return out


def record_summary(record: dict, base_url: str) -> dict:
    """One row of the results table."""
    md = record.get("metadata") or {}
    conceptrecid, _ = concept_of(record)
    return {
        "id": _int_or_str(record_id(record)),
        "conceptrecid": conceptrecid,
        "doi": doi_of(record),
        "title": _text(md.get("title") or record.get("title")),
        "resource_type": resource_type(record),
        "publication_date": md.get("publication_date") or None,
        "creators": [c["name"] for c in creators(record)],
        "version": md.get("version") or None,
        "access_right": md.get("access_right") or (record.get("access") or {}).get("record") or None,
        "communities": communities_of(record),
        "url": html_url(record, base_url),
    }


def record_details(record: dict, base_url: str) -> dict:
    """Everything the record details view shows."""
    md = record.get("metadata") or {}
    conceptrecid, conceptdoi = concept_of(record)
    doi = doi_of(record)
    files = files_of(record, base_url)
    for f in files:
        del f["url"]  # the server keeps the links; the UI asks for pulls by key
    keywords = md.get("keywords") or [s.get("subject") for s in md.get("subjects") or [] if isinstance(s, dict)]
    return {
        **record_summary(record, base_url),
        "doi_url": record.get("doi_url") or (f"https://doi.org/{doi}" if doi else None),
        "conceptdoi": conceptdoi,
        "conceptrecid": conceptrecid,
        "description": md.get("description") or "",
        "creators": creators(record),
        "license": license_of(record),
        "keywords": [k for k in keywords if k],
        "versions": version_info(record),
        "files": files,
        "files_total_size": sum(f["size"] for f in files),
        "created": record.get("created"),
        "updated": record.get("updated") or record.get("modified"),
    }


def community_summary(community: dict, base_url: str) -> dict:
    md = community.get("metadata") or {}
    ctype = md.get("type")
    links = community.get("links") or {}
    slug = community.get("slug") or community.get("id")
    return {
        "id": community.get("id"),
        "slug": slug,
        "title": _text(md.get("title")) or slug,
        "description": _text(md.get("description")),
        "type": _text(ctype.get("id") if isinstance(ctype, dict) else ctype) or None,
        "website": md.get("website") or None,
        "url": links.get("self_html") or f"{base_url}/communities/{slug}",
        "logo": links.get("logo"),
        "created": community.get("created"),
    }


def page(raw: dict, page_number: int, size: int, shape, base_url: str) -> dict:
    """A search answer as ``{total, page, size, has_next, has_prev, hits, aggregations?}``."""
    hits = (raw or {}).get("hits") or {}
    total = hits.get("total", 0)
    if isinstance(total, dict):  # Elasticsearch 7 style {"value": N}
        total = total.get("value", 0)
    links = (raw or {}).get("links") or {}
    out = {
        "total": int(total or 0),
        "page": page_number,
        "size": size,
        "has_next": bool(links.get("next")) if links else page_number * size < int(total or 0),
        "has_prev": page_number > 1,
        "hits": [shape(h, base_url) for h in hits.get("hits") or [] if isinstance(h, dict)],
    }
    buckets = (((raw or {}).get("aggregations") or {}).get("resource_type") or {}).get("buckets")
    if isinstance(buckets, list):
        out["aggregations"] = {
            "resource_type": [
                {"key": b.get("key"), "count": b.get("doc_count", 0), "title": _text(b.get("label")) or RESOURCE_TITLES.get(b.get("key"), b.get("key"))}
                for b in buckets
                if isinstance(b, dict)
            ]
        }
    return out


async def fetch_record(client, record_id: str) -> dict:
    """A record with its files (``client``: a :class:`~mesh_zenodo.zenodo.client.ZenodoClient`):
    when the answer carries no file list (InvenioRDM may leave the entries out), the
    files are asked for separately."""
    record = await client.get_record(record_id)
    if not files_of(record, client.base_url) and not isinstance(record.get("files"), list):
        record = {**record, "files": await client.list_record_files(record_id)}
    return record
