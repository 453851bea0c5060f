"""The stand-in's legacy deposit API: depositions (``/api/deposit/depositions``), their
actions (publish, newversion, edit, discard), draft files, and buckets
(``/api/files/:bucket/:key``), with the status codes the real server answers."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from aiohttp import web

from mesh_zenodo.zenodo.vocabulary import (
    ACCESS_RIGHTS,
    DEFAULT_ACCESS_RIGHT,
    IMAGE_TYPES,
    LICENSE_ALIASES,
    LICENSES,
    PUBLICATION_TYPES,
    UPLOAD_TYPES,
    default_license,
)

from .common import PERMISSION_MESSAGE, PID_MISSING, Routes, problem, receive_file
from .model import Bucket, Deposition, StoredFile, User, utcnow
from .serializers import base_of, bucket_file_json, deposition_json


class DepositAPI(Routes):
    """Routes that need a token with a deposit scope (403 otherwise, as Zenodo answers)."""

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/api/deposit/depositions", self.list_depositions)
        router.add_post("/api/deposit/depositions", self.create_deposition)
        router.add_get("/api/deposit/depositions/{did}", self.get_deposition)
        router.add_put("/api/deposit/depositions/{did}", self.update_deposition)
        router.add_delete("/api/deposit/depositions/{did}", self.delete_deposition)
        router.add_post("/api/deposit/depositions/{did}/actions/{action}", self.deposition_action)
        router.add_get("/api/deposit/depositions/{did}/files", self.deposition_files)
        router.add_delete("/api/deposit/depositions/{did}/files/{file_id}", self.delete_deposition_file)
        router.add_get("/api/files/{bucket}", self.get_bucket)
        router.add_put("/api/files/{bucket}/{key}", self.put_bucket_file)
        router.add_get("/api/files/{bucket}/{key}", self.get_bucket_file)
        router.add_delete("/api/files/{bucket}/{key}", self.delete_bucket_file)

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
        if upload_type is not None and upload_type not in UPLOAD_TYPES:
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
        access = md.get("access_right", DEFAULT_ACCESS_RIGHT)
        if access == "embargoed" and not md.get("embargo_date"):
            errors.append({"field": "metadata.embargo_date", "messages": [missing]})
        if access == "restricted" and not md.get("access_conditions"):
            errors.append({"field": "metadata.access_conditions", "messages": [missing]})
        license_id = md.get("license")
        if isinstance(license_id, dict):
            license_id = license_id.get("id")
        if license_id and str(license_id).lower() not in LICENSES and str(license_id).lower() not in LICENSE_ALIASES:
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
        now = utcnow()
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
        dep.modified = utcnow()
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
        license_id = md.get("license") or default_license(upload_type)
        if isinstance(license_id, dict):
            license_id = license_id.get("id")
        license_id = LICENSE_ALIASES.get(str(license_id).lower(), str(license_id).lower())
        md["license"] = {"id": license_id}
        md["communities"] = [{"id": c["identifier"]} for c in md.get("communities") or []]
        md.setdefault("publication_date", date.today().isoformat())
        md.setdefault("access_right", DEFAULT_ACCESS_RIGHT)
        now = utcnow()
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
        if self.store.legacy_newversion_quirk:
            # today's zenodo.org: newversion is the records API's new version (which returns
            # the concept's open next draft, if any) plus its files import, and the import
            # refuses a draft that has files (zenodo-rdm legacy/resources.py,
            # invenio-drafts-resources' DraftFilesComponent.import_files)
            rdm_draft = self.store.open_rdm_draft(dep.conceptrecid)
            if (draft is not None and draft.bucket.files) or (rdm_draft is not None and rdm_draft.files):
                raise problem(400, "A validation error occurred.",
                              [{"field": "files.enabled", "messages": ["Please remove all files first."]}])
            if rdm_draft is not None:
                raise problem(400, "A new version is open in the records API "
                              f"(draft {rdm_draft.id}): publish or delete it first.")
            latest = self.store.latest_record(dep.conceptrecid)
            if draft is not None and latest is not None:  # emptied by the user: imported again
                for f in latest.files:
                    draft.bucket.files[f.key] = StoredFile(f.key, f.content)
        if draft is None:
            now = utcnow()
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
            # never store 0 bytes; 411 is our guess at what nginx in front of Zenodo answers
            # a chunked upload (docs/zenodo-standin.md lists the guesses)
            raise problem(411, "A Content-Length header is required.")
        if "/" in key or key in (".", ".."):
            raise problem(400, "Invalid file name.")
        if request.content_length > self.store.max_file_size:
            raise problem(400, f"File size limit exceeded: at most {self.store.max_file_size} bytes per file.")
        if key not in bucket.files and len(bucket.files) >= self.store.max_files:
            raise problem(400, f"Too many files: at most {self.store.max_files} files per record.")
        content = await receive_file(request, self.store.data_dir, "The upload was incomplete (fewer bytes than Content-Length).")
        stored = StoredFile(key, content)
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
