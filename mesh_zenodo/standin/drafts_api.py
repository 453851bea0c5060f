"""The stand-in's InvenioRDM records API (what zenodo.org runs under the legacy deposit
API): drafts (``POST /api/records``, ``…/draft``), their files (register, upload,
commit), DOI reservation, publication, new versions with the files import, and the
redirect to a concept's latest version.

It answers as invenio-rdm-records / invenio-drafts-resources / invenio-records-resources
do with zenodo.org's configuration (docs/zenodo-standin.md: what is documented, what is
read in their source and what is a guess): drafts are saved with their field errors
reported in the answer (``errors``) and published only when valid; a published record
joins the records the search and the record routes serve (legacy shape).
"""

from __future__ import annotations

import copy
import html
import uuid
from urllib.parse import quote

from aiohttp import web

from .common import UNAUTHORIZED_MESSAGE, Routes, html_error, problem, receive_file
from .model import INVALID, Draft, DraftFile, Record, StoredFile, User, utcnow
from .rdm import (
    RelationError,
    check_access,
    check_metadata,
    default_access,
    from_legacy,
    new_version_metadata,
    normalized,
    to_legacy,
)
from .serializers import (
    base_of,
    draft_file_json,
    draft_files_json,
    draft_json,
    draft_zenodo_json,
    parent_pids,
    wants_rdm,
)

DENIED = "Permission denied."
NO_PID = "The persistent identifier does not exist."
UNREGISTERED = "The persistent identifier is not registered."
VALIDATION = "A validation error occurred."
MISSING_FILES = "Missing uploaded files. To disable files for this record please mark it as metadata-only."
PENDING_FILES = "One or more files have not completed their transfer, please wait."


def validation(errors: list[dict]) -> Exception:
    return problem(400, VALIDATION, errors)


class _Switched:
    """Adds routes that answer 404 while ``enabled()`` is false (a server as zenodo.org
    was before InvenioRDM: the legacy deposit API only; setting ``records_api``)."""

    def __init__(self, router: web.UrlDispatcher, enabled) -> None:
        self._router, self._enabled = router, enabled

    def __getattr__(self, name: str):
        add = getattr(self._router, name)

        def adding(path: str, handler, **kwargs):
            async def switched(request: web.Request) -> web.StreamResponse:
                if not self._enabled():
                    raise problem(404, "The requested URL was not found on the server.")
                return await handler(request)

            return add(path, switched, **kwargs)

        return adding


class DraftsAPI(Routes):
    """``/api/records`` writes, ``/api/records/:id/draft…``, ``/versions``, ``/api/user/records``."""

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router = _Switched(router, lambda: self.store.records_api)
        for prefix in ("/api/records", "/api/records/"):
            router.add_post(prefix, self.create)
        router.add_get("/api/user/records", self.user_records)
        router.add_get("/api/records/{rid}/draft", self.read)
        router.add_put("/api/records/{rid}/draft", self.update)
        router.add_delete("/api/records/{rid}/draft", self.delete)
        router.add_post("/api/records/{rid}/draft/pids/{scheme}", self.reserve_pid)
        router.add_delete("/api/records/{rid}/draft/pids/{scheme}", self.discard_pid)
        router.add_post("/api/records/{rid}/draft/actions/publish", self.publish)
        router.add_post("/api/records/{rid}/draft/actions/files-import", self.import_files)
        router.add_get("/api/records/{rid}/draft/files", self.list_files)
        router.add_post("/api/records/{rid}/draft/files", self.init_files)
        router.add_get("/api/records/{rid}/draft/files/{key}", self.read_file)
        router.add_delete("/api/records/{rid}/draft/files/{key}", self.delete_file)
        router.add_put("/api/records/{rid}/draft/files/{key}/content", self.put_content)
        router.add_get("/api/records/{rid}/draft/files/{key}/content", self.get_content)
        router.add_post("/api/records/{rid}/draft/files/{key}/commit", self.commit_file)
        router.add_post("/api/records/{rid}/versions", self.new_version)
        router.add_post("/api/records/{rid}/communities", self.add_communities)
        router.add_get("/api/records/{rid}/versions/latest", self.latest)
        router.add_get("/uploads/{rid}", self.upload_page)
        router.add_get("/records/{rid}/latest", self.latest_page)

    # ------------------------------------------------------------------ plumbing

    def caller(self, request: web.Request, scope: str | None = "deposit:write") -> User:
        user = self.user(request)
        if user is INVALID:
            raise problem(401, UNAUTHORIZED_MESSAGE)
        # scopes: our model (zenodo-rdm defines deposit:write/actions but its RDM routes
        # only check the user's permissions)
        if user is None or (scope is not None and not user.can(scope)):
            raise problem(403, DENIED)
        return user

    def draft_or_404(self, request: web.Request, user: User) -> Draft:
        rid = request.match_info["rid"]
        draft = self.store.drafts.get(int(rid)) if rid.isdigit() else None
        if draft is None or draft.deleted or draft.published:
            raise problem(404, NO_PID)
        if draft.owner != user.id:
            raise problem(403, DENIED)
        return draft

    def answer(self, request: web.Request, draft: Draft, status: int = 200, errors: list | None = None) -> web.Response:
        """The draft as the caller asked: InvenioRDM's JSON (with the save's ``errors``) for
        ``Accept: application/vnd.inveniordm.v1+json``, else zenodo.org's default shape."""
        base = base_of(request)
        if wants_rdm(request):
            return web.json_response(draft_json(self.store, draft, base, errors), status=status)
        return web.json_response(draft_zenodo_json(self.store, draft, base), status=status)

    @staticmethod
    async def json_body(request: web.Request, kind: type = dict):
        ctype = request.headers.get("Content-Type")
        if ctype is not None and request.content_type != "application/json" and not request.content_type.endswith("+json"):
            raise problem(415, "The server does not support the media type transmitted in the request.")
        try:
            body = await request.json() if request.can_read_body else kind()
        except ValueError:
            raise problem(400, "Unable to decode JSON data in request body.") from None
        if not isinstance(body, kind):
            raise validation([{"field": "_schema", "messages": ["Invalid input type."]}])
        return body

    def apply(self, draft: Draft, body: dict, *, creating: bool) -> list[dict]:
        """Save ``body`` into ``draft`` as InvenioRDM saves a draft: the valid parts are kept
        and the field errors returned; a refused access change or an unknown vocabulary id
        refuses the whole save."""
        metadata = body.get("metadata", {})
        try:
            errors = check_metadata(metadata)
        except RelationError as err:
            raise problem(400, str(err)) from None
        access_errors, refusals = check_access(body["access"]) if "access" in body else ([], [])
        if refusals:
            raise validation(refusals)
        errors += access_errors
        if isinstance(metadata, dict):
            bad = {e["field"].split(".")[1] for e in errors if e["field"].startswith("metadata.")}
            draft.metadata = normalized({k: v for k, v in metadata.items() if k not in bad})
        if "access" in body and not access_errors:
            draft.access = {**default_access(), **copy.deepcopy(body["access"])}
            draft.access["status"] = "embargoed" if (draft.access.get("embargo") or {}).get("active") else (
                "restricted" if draft.access.get("files") == "restricted" else "open")
        enabled = (body.get("files") or {}).get("enabled", True)
        if enabled is not draft.files_enabled:
            # zenodo.org: RDM_ALLOW_METADATA_ONLY_RECORDS = False, so nobody may toggle files
            errors.append({"field": "files.enabled", "messages": ["You don't have permissions to manage files options."]})
        elif not creating and draft.files_enabled and not draft.files:
            errors.append({"field": "files.enabled", "messages": ["Missing uploaded files."]})
        if "pids" in body:
            pids = body["pids"]
            reserved = f"{self.store.doi_prefix}{draft.id}"
            doi = pids.get("doi") if isinstance(pids, dict) else None
            if not isinstance(pids, dict) or (doi is not None and not (
                isinstance(doi, dict) and doi.get("identifier")
                and (doi.get("provider") == "external" or doi["identifier"] == reserved)
            )):
                errors.append({"field": "pids.doi", "messages": ["Invalid value."]})
            else:
                draft.pids = copy.deepcopy(pids)
        draft.updated = utcnow()
        draft.revision += 1
        return errors

    # ------------------------------------------------------------------ drafts

    async def create(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        body = await self.json_body(request)
        now = utcnow()
        draft = Draft(
            id=self.store.new_id(), parent=0, owner=user.id, metadata={}, access=default_access(),
            files_enabled=True, created=now, updated=now, revision=0,
        )
        errors = self.apply(draft, body, creating=True)
        draft.parent = self.store.new_id()
        self.store.drafts[draft.id] = draft
        return self.answer(request, draft, 201, errors)

    async def read(self, request: web.Request) -> web.Response:
        user = self.caller(request, None)
        return self.answer(request, self.draft_or_404(request, user))

    async def update(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        body = await self.json_body(request)
        errors = self.apply(draft, body, creating=False)  # a refused save raises before changing anything
        return self.answer(request, draft, 200, errors)

    async def delete(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        draft.deleted = True
        draft.pids = {}
        return web.Response(status=204)

    async def user_records(self, request: web.Request) -> web.Response:
        user = self.caller(request, None)
        page, size = self.page_args(request)
        mine = sorted((d for d in self.store.drafts.values() if d.owner == user.id and not d.deleted),
                      key=lambda d: d.updated, reverse=True)
        base = base_of(request)
        return web.json_response({
            "hits": {"hits": [draft_json(self.store, d, base) for d in mine[(page - 1) * size : page * size]],
                     "total": len(mine)},
            "links": self.links(request, page, size, len(mine)),
            "sortBy": "updated-desc",
        })

    # ------------------------------------------------------------------ pids

    async def reserve_pid(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        scheme = request.match_info["scheme"]
        if scheme != "doi":
            raise problem(400, f"No PID provider for the scheme {scheme}.")
        if (draft.pids.get("doi") or {}).get("identifier"):
            raise validation([{"field": "pids.doi", "messages": ["A PID already exists for type doi"]}])
        draft.pids["doi"] = {"identifier": f"{self.store.doi_prefix}{draft.id}", "provider": "datacite",
                             "client": "datacite"}
        draft.updated = utcnow()
        return self.answer(request, draft, 201)

    async def discard_pid(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        scheme = request.match_info["scheme"]
        if not (draft.pids.get(scheme) or {}).get("identifier"):
            raise problem(400, f"The draft has no {scheme} to discard.")
        draft.pids.pop(scheme)
        draft.updated = utcnow()
        return self.answer(request, draft)

    # ------------------------------------------------------------------ publish

    async def add_communities(self, request: web.Request) -> web.Response:
        """``POST /api/records/{id}/communities`` ``{"communities": [{"id": slug-or-uuid}]}``:
        one inclusion request per community (InvenioRDM's RecordCommunitiesResource):
        ``{"processed": [{"community_id", "request_id", "request": {...}}], "errors": [...]}``,
        200 when any was processed, else 400. Guess: the request is accepted at once as
        "submitted", and a repeat for the same community is an error, as for an open request."""
        user = self.caller(request, "deposit:write")
        rid = request.match_info["rid"]
        record = self.store.records.get(int(rid)) if rid.isdigit() else None
        if record is None or record.owner != user.id:
            raise problem(404, "The persistent identifier does not exist.")
        body = await self.json_body(request)
        wanted = body.get("communities")
        if not isinstance(wanted, list) or not wanted:
            raise problem(400, "A validation error occurred.")
        processed, errors = [], []
        for entry in wanted:
            ident = entry.get("id") if isinstance(entry, dict) else None
            community = next((c for c in self.store.communities.values() if ident in (c.slug, c.id)), None)
            if community is None:
                errors.append({"community": ident, "message": "Community not found."})
            elif community.slug in record.community_requests:
                errors.append({"community": ident, "message": "There is already an open inclusion request."})
            else:
                request_id = uuid.uuid4().hex
                record.community_requests[community.slug] = request_id
                processed.append({"community_id": community.id, "request_id": request_id,
                                  "request": {"id": request_id, "status": "submitted", "type": "community-inclusion"}})
        return web.json_response({"processed": processed, "errors": errors}, status=200 if processed else 400)

    async def publish(self, request: web.Request) -> web.Response:
        user = self.caller(request, "deposit:actions")
        draft = self.draft_or_404(request, user)
        try:
            errors = check_metadata(draft.metadata)
        except RelationError as err:
            raise problem(400, str(err)) from None
        access_errors, refusals = check_access(draft.access)
        if errors or access_errors or refusals:
            raise validation(errors + access_errors + refusals)
        if draft.files_enabled and not draft.files:
            raise validation([{"field": "files.enabled", "messages": [MISSING_FILES]}])
        if draft.files_enabled and any(not f.committed for f in draft.files.values()):
            raise validation([{"field": "files", "messages": [PENDING_FILES]}])
        now = utcnow()
        doi = draft.pids.get("doi") or {"identifier": f"{self.store.doi_prefix}{draft.id}", "provider": "datacite",
                                         "client": "datacite"}
        draft.pids["doi"] = doi
        concept = parent_pids(self.store, draft.parent) or {
            "doi": {"identifier": f"{self.store.doi_prefix}{draft.parent}", "provider": "datacite", "client": "datacite"}
        }
        self.store.parent_pids[draft.parent] = concept
        files = [StoredFile(f.key, f.content, id=f.id, created=f.created) for f in draft.files.values()]
        record: Record = self.store.add_record(
            to_legacy(draft.metadata, draft.access), files, created=now, owner=draft.owner,
            conceptrecid=draft.parent, recid=draft.id,
        )
        record.doi = doi["identifier"]
        record.concept_doi = concept["doi"]["identifier"]
        draft.published = True
        draft.updated = now
        draft.index = len(self.store.versions(record))
        return self.answer(request, draft, 202)

    # ------------------------------------------------------------------ versions

    def record_of(self, request: web.Request) -> Record:
        rid = request.match_info["rid"]
        if rid.isdigit() and int(rid) in self.store.records:
            return self.store.records[int(rid)]
        if rid.isdigit() and int(rid) in self.store.drafts and not self.store.drafts[int(rid)].deleted:
            raise problem(404, UNREGISTERED)
        raise problem(404, NO_PID)

    async def new_version(self, request: web.Request) -> web.Response:
        user = self.caller(request, "deposit:actions")
        record = self.record_of(request)
        if record.owner != user.id:
            raise problem(403, DENIED)
        concept = record.conceptrecid
        draft = self.store.open_rdm_draft(concept)
        if draft is not None:  # the next draft exists: InvenioRDM answers it
            return self.answer(request, draft, 201)
        legacy = self.store.open_draft(concept)
        if legacy is not None:
            raise problem(400, f"A new version is open in the deposit API (deposition {legacy.id}): publish or "
                               "delete it first.")
        latest = self.store.latest_record(concept) or record
        published = self.store.drafts.get(latest.recid)
        if published is not None and published.published:
            metadata, access = copy.deepcopy(published.metadata), copy.deepcopy(published.access)
        else:
            metadata, access = from_legacy(latest.metadata)
        now = utcnow()
        draft = Draft(
            id=self.store.new_id(), parent=concept, owner=record.owner, metadata=new_version_metadata(metadata),
            access=access, files_enabled=True, created=now, updated=now,
            index=len(self.store.versions(latest)) + 1,
        )
        self.store.drafts[draft.id] = draft
        return self.answer(request, draft, 201)

    async def import_files(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        if not draft.files_enabled:
            raise validation([{"field": "files.enabled", "messages": ["Files support must be enabled."]}])
        if draft.files:
            raise validation([{"field": "files.enabled", "messages": ["Please remove all files first."]}])
        latest = self.store.latest_record(draft.parent)
        if latest is None:
            raise problem(404, "Not found.")
        if not latest.files:
            raise validation([{"field": "files.enabled", "messages": ["The record has no files."]}])
        for f in latest.files:
            draft.files[f.key] = DraftFile(f.key, f.content, committed=True)
        draft.updated = utcnow()
        listing = draft_files_json(draft, base_of(request))
        return web.json_response(listing, status=201)

    async def latest(self, request: web.Request) -> web.Response:
        """301 to the concept's latest published version (``{rid}`` may be a version or the
        concept), with invenio-drafts-resources' JSON body."""
        self.check_bad_token(request)
        rid = request.match_info["rid"]
        concept = None
        if rid.isdigit() and int(rid) in self.store.records:
            concept = self.store.records[int(rid)].conceptrecid
        elif rid.isdigit() and int(rid) in self.store.concepts:
            concept = int(rid)
        latest = self.store.latest_record(concept) if concept is not None else None
        if latest is None:
            raise problem(404, NO_PID)
        location = f"{base_of(request)}/api/records/{latest.recid}"
        return web.json_response({"status": 301, "message": "Redirecting...", "location": location}, status=301,
                                 headers={"Location": location})

    # ------------------------------------------------------------------ files

    def file_or_404(self, request: web.Request, draft: Draft) -> DraftFile:
        key = request.match_info["key"]
        f = draft.files.get(key)
        if f is None:
            raise problem(404, f"Record '{draft.id}' has no file '{key}'.")
        return f

    async def list_files(self, request: web.Request) -> web.Response:
        user = self.caller(request, None)
        draft = self.draft_or_404(request, user)
        return web.json_response(draft_files_json(draft, base_of(request)))

    async def init_files(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        entries = await self.json_body(request, list)
        if not entries:
            raise validation([{"field": "_schema", "messages": ["No files to upload."]}])
        errors = []
        for i, entry in enumerate(entries):
            key = entry.get("key") if isinstance(entry, dict) else None
            if not isinstance(key, str) or not key:
                errors.append({"field": f"{i}.key", "messages": ["Missing data for required field."]})
            elif "/" in key or key in (".", ".."):
                # our guess: zenodo.org's uploader has no folders (InvenioRDM takes <path:key>)
                errors.append({"field": f"{i}.key", "messages": ["A file name cannot contain '/' or be '.' or '..'."]})
        if errors:
            raise validation(errors)
        if not draft.files_enabled:
            raise validation([{"field": "files.enabled", "messages": ["Files support must be enabled."]}])
        count = len(draft.files) + len(entries)
        if len(draft.files) <= self.store.max_files < count:
            raise problem(400, "Uploading selected files will result in exceeding the max amount per record.")
        for entry in entries:
            if entry["key"] in draft.files:
                raise problem(400, f"File with key {entry['key']} already exists.")
        for entry in entries:
            draft.files[entry["key"]] = DraftFile(entry["key"])
        draft.updated = utcnow()
        return web.json_response(draft_files_json(draft, base_of(request)), status=201)

    async def read_file(self, request: web.Request) -> web.Response:
        user = self.caller(request, None)
        draft = self.draft_or_404(request, user)
        return web.json_response(draft_file_json(draft, self.file_or_404(request, draft), base_of(request)))

    async def delete_file(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        f = self.file_or_404(request, draft)
        del draft.files[f.key]
        draft.updated = utcnow()
        return web.Response(status=204)

    async def put_content(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        f = self.file_or_404(request, draft)
        if f.committed:
            raise problem(400, f'File with key "{f.key}" is already committed.')
        if request.content_length is None:
            # never store 0 bytes; 411 is our guess at what nginx answers a chunked upload
            raise problem(411, "A Content-Length header is required.")
        used = sum(o.content.size for o in draft.files.values() if o.content is not None and o is not f)
        quota_left = self.store.quota_size - used
        if request.content_length > min(quota_left, self.store.max_file_size):
            # invenio-files-rest: the lowest of the bucket's limits, with its reason
            reason = "Bucket quota exceeded." if quota_left < self.store.max_file_size else "Maximum file size exceeded."
            raise problem(400, reason)
        f.content = await receive_file(request, self.store.data_dir, "Content-Length does not match file size.")
        f.updated = utcnow()
        return web.json_response(draft_file_json(draft, f, base_of(request)))

    async def get_content(self, request: web.Request) -> web.StreamResponse:
        user = self.caller(request, None)
        draft = self.draft_or_404(request, user)
        f = self.file_or_404(request, draft)
        if not f.committed:
            raise problem(404, f"Record '{draft.id}' has no file '{f.key}'.")
        return await self.send_file(request, StoredFile(f.key, f.content, id=f.id, created=f.created))

    async def commit_file(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        draft = self.draft_or_404(request, user)
        f = self.file_or_404(request, draft)
        if f.content is None:
            # invenio-records-resources raises a bare Exception ("not uploaded yet"): a 500
            return html_error(500)
        f.committed = True
        f.updated = utcnow()
        return web.json_response(draft_file_json(draft, f, base_of(request)))

    # ------------------------------------------------------------------ HTML

    async def upload_page(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        draft = self.store.drafts.get(int(rid)) if rid.isdigit() else None
        if draft is None or draft.deleted:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        title = html.escape(str(draft.metadata.get("title") or "New upload"))
        return web.Response(text=f"<!DOCTYPE html><html><body><h1>{title}</h1><p>Draft {draft.id}</p></body></html>",
                            content_type="text/html")

    async def latest_page(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        record = self.store.records.get(int(rid)) if rid.isdigit() else None
        if record is None:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        latest = self.store.latest_record(record.conceptrecid) or record
        raise web.HTTPFound(f"/records/{quote(str(latest.recid))}")
