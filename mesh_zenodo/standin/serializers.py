"""The JSON shapes the stand-in answers with: records in Zenodo's legacy shape
(:func:`record_json`) and InvenioRDM's (:func:`record_rdm_json`), communities,
depositions and bucket objects of the legacy deposit API."""

from __future__ import annotations

import copy
from urllib.parse import quote

from aiohttp import web

from mesh_zenodo.zenodo.vocabulary import DOI_PREFIX, RESOURCE_TITLES

from .model import Bucket, Community, Deposition, Record, Store, StoredFile, iso


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
        "created": iso(record.created),
        "modified": iso(record.updated or record.created),
        "updated": iso(record.updated or record.created),
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
        "created": iso(record.created),
        "updated": iso(record.updated or record.created),
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
        "created": iso(community.created),
        "updated": iso(community.created),
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
    md["prereserve_doi"] = {"doi": f"{DOI_PREFIX}{dep.id}", "recid": dep.id}
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
        "created": iso(dep.created),
        "modified": iso(dep.modified),
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
        body.update(doi=f"{DOI_PREFIX}{dep.id}", doi_url=f"https://doi.org/{DOI_PREFIX}{dep.id}",
                    conceptdoi=f"{DOI_PREFIX}{dep.conceptrecid}")
        links.update(
            record=f"{base}/api/records/{dep.id}",
            record_html=f"{base}/records/{dep.id}",
            doi=f"https://doi.org/{DOI_PREFIX}{dep.id}",
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
        "created": iso(f.created),
        "updated": iso(f.created),
        "links": {"self": url, "version": f"{url}?versionId={f.id}", "uploads": f"{url}?uploads"},
        "is_head": True,
        "delete_marker": False,
    }
