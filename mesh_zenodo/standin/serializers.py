"""The JSON shapes the stand-in answers with: records in Zenodo's legacy shape
(:func:`record_json`) and InvenioRDM's (:func:`record_rdm_json`), communities,
depositions and bucket objects of the legacy deposit API."""

from __future__ import annotations

import copy
import uuid
from urllib.parse import quote

from aiohttp import web

from mesh_zenodo.zenodo.vocabulary import RESOURCE_TITLES

from .model import Bucket, Community, Deposition, Draft, DraftFile, Record, Store, StoredFile, iso
from .rdm import to_legacy


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
            # as zenodo.org: the redirect to the latest version, not the latest's own URL
            "latest": f"{base}/api/records/{record.recid}/versions/latest",
            "latest_html": f"{base}/records/{record.recid}/latest",
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
    md["prereserve_doi"] = {"doi": f"{store.doi_prefix}{dep.id}", "recid": dep.id}
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
        record = store.records.get(dep.id)
        doi = record.doi if record else f"{store.doi_prefix}{dep.id}"
        body.update(doi=doi, doi_url=f"https://doi.org/{doi}",
                    conceptdoi=record.conceptdoi if record else f"{store.doi_prefix}{dep.conceptrecid}")
        links.update(
            record=f"{base}/api/records/{dep.id}",
            record_html=f"{base}/records/{dep.id}",
            doi=f"https://doi.org/{doi}",
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


# ---------------------------------------------------------------------------------------
# the InvenioRDM records API (drafts and what they published)
# ---------------------------------------------------------------------------------------

#: the media type that asks for InvenioRDM's JSON; zenodo.org answers ``application/json``
#: (and no Accept) with its own "zenodo" serializer (zenodo-rdm ``resources.py``)
RDM_JSON = "application/vnd.inveniordm.v1+json"


def wants_rdm(request: web.Request) -> bool:
    return RDM_JSON in request.headers.get("Accept", "")


def parent_pids(store: Store, parent: int) -> dict:
    """The concept DOI of ``parent`` once one of its versions was published."""
    if parent in store.parent_pids:
        return store.parent_pids[parent]
    record = store.latest_record(parent)
    if record is None:
        return {}
    return {"doi": {"identifier": record.conceptdoi, "provider": "datacite", "client": "datacite"}}


def draft_file_json(draft: Draft, f: DraftFile, base: str, published: bool = False) -> dict:
    api = f"{base}/api/records/{draft.id}" + ("" if published else "/draft")
    k = quote(f.key, safe="")
    body = {
        "key": f.key,
        "created": iso(f.created),
        "updated": iso(f.updated),
        "status": f.status,
        "metadata": {},
        "access": {"hidden": False},
        "storage_class": "L",
        "transfer": {"type": "L"},
        "links": {"self": f"{api}/files/{k}", "content": f"{api}/files/{k}/content"},
    }
    if not published:
        body["links"]["commit"] = f"{api}/files/{k}/commit"
    if f.committed:  # before the commit the file record has no file: no checksum, no size
        body.update(checksum=f"md5:{f.content.md5}", size=f.content.size, mimetype=f.mimetype, file_id=f.id,
                    version_id=f.id, bucket_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bucket/{draft.id}")))
    return body


def draft_files_json(draft: Draft, base: str) -> dict:
    return {
        "enabled": draft.files_enabled,
        "default_preview": None,
        "order": [],
        "entries": [draft_file_json(draft, f, base) for f in draft.files.values()],
        "links": {"self": f"{base}/api/records/{draft.id}/draft/files"},
    }


def _draft_links(store: Store, draft: Draft, base: str) -> dict:
    api = f"{base}/api/records/{draft.id}"
    links = {
        "reserve_doi": f"{api}/draft/pids/doi",
        "versions": f"{api}/versions",
        "communities": f"{api}/communities",
        "requests": f"{api}/requests",
        "access_links": f"{api}/access/links",
    }
    concept = parent_pids(store, draft.parent).get("doi")
    if concept:
        links["parent_doi"] = f"https://doi.org/{concept['identifier']}"
    if draft.published:
        doi = draft.pids["doi"]["identifier"]
        links.update(
            self=api, self_html=f"{base}/records/{draft.id}", doi=f"https://doi.org/{doi}",
            self_doi=f"https://doi.org/{doi}", parent=f"{base}/api/records/{draft.parent}",
            parent_html=f"{base}/records/{draft.parent}", files=f"{api}/files", archive=f"{api}/files-archive",
            latest=f"{api}/versions/latest", latest_html=f"{base}/records/{draft.id}/latest", draft=f"{api}/draft",
        )
    else:
        links.update(
            self=f"{api}/draft", self_html=f"{base}/uploads/{draft.id}",
            preview_html=f"{base}/records/{draft.id}?preview=1", files=f"{api}/draft/files",
            archive=f"{api}/draft/files-archive", record=api, record_html=f"{base}/records/{draft.id}",
            publish=f"{api}/draft/actions/publish", review=f"{api}/draft/review",
        )
    return links


def draft_json(store: Store, draft: Draft, base: str, errors: list | None = None) -> dict:
    """A draft (or the record it published) in InvenioRDM's JSON (``RDM_JSON``)."""
    record = store.records.get(draft.id) if draft.published else None
    entries = {f.key: draft_file_json(draft, f, base, draft.published) for f in draft.files.values()}
    body = {
        "id": str(draft.id),
        "recid": str(draft.id),
        "created": iso(draft.created),
        "updated": iso(draft.updated),
        "revision_id": draft.revision,
        "is_draft": not draft.published,
        "is_published": draft.published,
        "status": "published" if draft.published else ("draft" if draft.index == 1 else "new_version_draft"),
        "pids": copy.deepcopy(draft.pids),
        "parent": {
            "id": str(draft.parent),
            "access": {"owned_by": {"user": str(draft.owner)}},
            "communities": {},
            "pids": copy.deepcopy(parent_pids(store, draft.parent)),
        },
        "versions": {
            "index": draft.index,
            "is_latest": bool(record and store.is_latest(record)),
            "is_latest_draft": not draft.published or store.open_rdm_draft(draft.parent) is None,
        },
        "metadata": copy.deepcopy(draft.metadata),
        "access": copy.deepcopy(draft.access),
        "custom_fields": {},
        "files": {
            "enabled": draft.files_enabled,
            "order": [],
            "default_preview": None,
            "count": len(draft.files),
            "total_bytes": sum(f.content.size for f in draft.files.values() if f.content is not None),
            "entries": entries,
        },
        "media_files": {"enabled": False, "order": [], "count": 0, "total_bytes": 0, "entries": {}},
        "links": _draft_links(store, draft, base),
    }
    if draft.published:
        body["pids"].setdefault("oai", {"identifier": f"oai:zenodo.org:{draft.id}", "provider": "oai"})
        body["stats"] = {"this_version": {"views": 0, "downloads": 0}, "all_versions": {"views": 0, "downloads": 0}}
    if errors:
        body["errors"] = errors
    return body


def draft_zenodo_json(store: Store, draft: Draft, base: str) -> dict:
    """What zenodo.org answers the records API with ``Accept: application/json``: its
    legacy-like "zenodo" serializer, which drops ``errors`` (zenodo-rdm ``legacy/serializers``)."""
    record = store.records.get(draft.id) if draft.published else None
    if record is not None:
        body = record_json(store, record, base)
        body["links"] = _draft_links(store, draft, base)
        return body
    md = to_legacy(draft.metadata, draft.access)
    doi = (draft.pids.get("doi") or {}).get("identifier")
    concept = (parent_pids(store, draft.parent).get("doi") or {}).get("identifier")
    body = {
        "created": iso(draft.created),
        "modified": iso(draft.updated),
        "updated": iso(draft.updated),
        "id": draft.id,
        "recid": str(draft.id),
        "conceptrecid": str(draft.parent),
        "title": md.get("title", ""),
        "metadata": md,
        "owners": [{"id": str(draft.owner)}],
        "revision": draft.revision,
        "status": "draft",
        "state": "unsubmitted",
        "submitted": False,
        "files": [
            {"id": f.id, "key": f.key, "size": f.content.size, "checksum": f"md5:{f.content.md5}",
             "links": {"self": f"{base}/api/records/{draft.id}/draft/files/{quote(f.key, safe='')}/content"}}
            for f in draft.files.values() if f.committed
        ],
        "links": _draft_links(store, draft, base),
    }
    if doi:
        body.update(doi=doi, doi_url=f"https://doi.org/{doi}")
    if concept:
        body["conceptdoi"] = concept
    return body
