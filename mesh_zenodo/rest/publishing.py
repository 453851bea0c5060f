"""Publishing folders to Zenodo (the work: :class:`~mesh_zenodo.services.publishing.PublishService`).

==================================================  ==============================================
``GET /mesh-zenodo/zenodo/publish?path=[&brief=1]``    what the Publish form starts from: ``{files,
                                                       hidden_files, prefill, prefill_source,
                                                       previous, publishing}`` (brief: only
                                                       the last two, without listing the folder)
``POST /mesh-zenodo/zenodo/publications``              ``{path, metadata, files?, publish, new_version,
                                                       cite_doi, include_hidden}`` → 202 ``{job}``;
                                                       400 ``{message, errors: [{field, messages}]}``
                                                       for metadata; 409 ``{message, previous}`` for a
                                                       folder published before (ask for new_version)
``GET /mesh-zenodo/zenodo/publications``               ``{jobs, interrupted}``: this server's
                                                       publications, and those a restart interrupted
``POST /mesh-zenodo/zenodo/publications/<id>/resume``  continue an interrupted one → 202 ``{job}``
``POST /mesh-zenodo/zenodo/metadata/check``            ``{metadata}`` → ``{errors: [...]}`` (the form's
                                                       checks, nothing sent to Zenodo)
==================================================  ==============================================
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..http_errors import http_errors, to_http
from ..services import metadata as md
from ..services.publishing import PublishRequest
from ..zenodo import errors as zenodo_errors
from .zenodo import ZenodoHandler

BOOL_FIELDS = ("publish", "new_version", "cite_doi", "include_hidden")


class PublishingHandler(ZenodoHandler):
    def signed_in_client(self):
        if not self.connection.signed_in:
            raise to_http(zenodo_errors.InvalidToken("Sign in to Zenodo first (in the Zenodo panel) to publish"))
        return self.connection.client()

    async def start(self, body: dict) -> None:
        path = body.get("path")
        if not isinstance(path, str) or not path.strip("/"):
            raise self.bad_request("path is required: the folder to publish")
        metadata = body.get("metadata")
        if not isinstance(metadata, dict):
            raise self.bad_request("metadata is required: the record's metadata (as in .zenodo.json)")
        selection = body.get("files")
        if selection is not None and (
            not isinstance(selection, list) or not selection or not all(isinstance(f, str) and f for f in selection)
        ):
            raise self.bad_request("files must be a non-empty list of the folder's file paths, or null for all")
        flags = {}
        for name in BOOL_FIELDS:
            value = body.get(name, False)
            if not isinstance(value, bool):
                raise self.bad_request(f"{name} must be true or false")
            flags[name] = value
        cm = self.cs3_contents("publishing to Zenodo")
        display = path.strip("/")
        client = self.signed_in_client()
        request = PublishRequest(
            folder=await cm.cs3_path(display), display=display, metadata=metadata, selection=selection, **flags
        )
        with http_errors():
            job = await self.publishing.start(client, cm.client, request)
        self.set_header("Location", url_path_join(self.base_url, "mesh-zenodo", "jobs", job.id))
        self.send({"job": job.to_json()}, status=202)


class PrepareHandler(PublishingHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        path = (self.get_query_argument("path", "") or "").strip("/")
        if not path:
            raise self.bad_request("path is required: the folder to publish")
        cm = self.cs3_contents("publishing to Zenodo")
        folder = await cm.cs3_path(path)
        with http_errors():
            self.send(await self.publishing.prepare(cm.client, folder, brief=self.bool_argument("brief")))


class PublicationsHandler(PublishingHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.send({
            "jobs": [job.to_json() for job in self.jobs.list("publish")],
            "interrupted": [
                {"id": p["job"], "path": p["request"]["display"], "title": p["request"]["metadata"].get("title"),
                 "started": p.get("started"), "base_url": p.get("base_url")}
                for p in self.publishing.interrupted()
            ],
        })

    @web.authenticated
    @authorized
    async def post(self) -> None:
        await self.start(self.json_object())


class ResumeHandler(PublishingHandler):
    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        found = next((p for p in self.publishing.interrupted() if p.get("job") == job_id), None)
        if found is None:
            raise web.HTTPError(404, f"no interrupted publication {job_id[:64]!r}")
        request = dict(found["request"])
        body = {
            "path": request["display"], "metadata": request["metadata"], "files": request.get("selection"),
            **{name: bool(request.get(name)) for name in BOOL_FIELDS},
        }
        self.publishing.forget_interrupted(job_id)
        await self.start(body)


class CheckHandler(PublishingHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        meta = self.json_object().get("metadata")
        if not isinstance(meta, dict):
            raise self.bad_request("metadata is required")
        with http_errors():
            errors = md.validate(meta)
        self.send({"errors": [{"field": e.field, "messages": [e.message]} for e in errors]})


def routes() -> list[tuple[str, type]]:
    return [
        (r"/mesh-zenodo/zenodo/publish", PrepareHandler),
        (r"/mesh-zenodo/zenodo/publications", PublicationsHandler),
        (r"/mesh-zenodo/zenodo/publications/(?P<job_id>[^/]+)/resume", ResumeHandler),
        (r"/mesh-zenodo/zenodo/metadata/check", CheckHandler),
    ]


