"""REST API of the Zenodo side panel, under ``/mesh-zenodo/zenodo/`` and ``/mesh-zenodo/jobs/``.

Thin handlers: authenticate (Jupyter user + XSRF, as every jupyter_server APIHandler),
validate the input (a malformed request is a 400, never a 500), call the connection, the
client or the pull service, map errors in one place
(:func:`mesh_zenodo.zenodo.errors.http_errors`, :func:`mesh_zenodo.cs3.errors.http_errors`).
Errors are JSON ``{"message", "reason", "errors"?, "retry_after"?}``.
The API is described in ``mesh_zenodo/zenodo/README.md``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..cs3 import errors as cs3_errors
from ..handlers import MeshHandler
from ..jobs import Job, JobItem
from ..pulling import FILE_KEYS, FOLDER_KEYS, ON_CONFLICT, InvalidPull, plan_pull
from . import errors, records
from .client import COMMUNITY_SORTS, RECORD_SORTS

RECORD_ID_RE = re.compile(r"[0-9]{1,20}")
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
TYPE_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
JOB_ID_RE = re.compile(r"[0-9a-f]{32}")
MAX_QUERY = 2000
#: longest long-poll of ``GET /mesh-zenodo/jobs/<id>?wait=``
MAX_WAIT = 30.0


class ZenodoHandler(MeshHandler):
    """Base: holds the Zenodo state, writes JSON errors with field errors when any."""

    def initialize(self, name: str, zenodo=None, **kwargs: Any) -> None:
        super().initialize(name)
        self.zenodo = zenodo

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            self.set_header("Content-Type", "application/json")
            if body.get("retry_after") is not None:
                self.set_header("Retry-After", str(max(1, int(body["retry_after"]))))
            self.log.warning("wrote error: %r", body.get("message"))
            self.finish(json.dumps(body))
            return
        super().write_error(status_code, **kwargs)

    # ------------------------------------------------------------------ input

    def bad_request(self, message: str) -> web.HTTPError:
        return web.HTTPError(400, message, reason="BadRequest")

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self.bad_request(f"{name} must be an integer") from None
        if not low <= value <= high:
            raise self.bad_request(f"{name} must be between {low} and {high}")
        return value

    def bool_argument(self, name: str) -> bool:
        raw = (self.get_query_argument(name, "") or "").lower()
        if raw in ("", "0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        raise self.bad_request(f"{name} must be true or false")

    def choice_argument(self, name: str, choices) -> str | None:
        raw = self.get_query_argument(name, None) or None
        if raw is not None and raw not in choices:
            raise self.bad_request(f"{name} must be one of {', '.join(choices)}")
        return raw

    def query_argument(self) -> str:
        q = self.get_query_argument("q", "") or ""
        if len(q) > MAX_QUERY:
            raise self.bad_request(f"the query is longer than {MAX_QUERY} characters")
        return q

    def json_object(self) -> dict:
        # not APIHandler.get_json_body(): it logs a malformed body, which may hold a token
        raw = self.request.body
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise self.bad_request("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise self.bad_request("the request body must be a JSON object")
        return body

    def zenodo_client(self):
        """The client for this request: the signed-in one, or an anonymous one for the
        ``environment`` / ``base_url`` query argument (searches work signed out)."""
        with errors.http_errors():
            base_url = self.zenodo.connection.resolve_base_url(
                self.get_query_argument("base_url", None), self.get_query_argument("environment", None)
            )
            return self.zenodo.connection.client(base_url)

    def send(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(body))


# ---------------------------------------------------------------------------------------
# sign in
# ---------------------------------------------------------------------------------------


class LoginHandler(ZenodoHandler):
    """``GET`` status, ``POST`` sign in, ``DELETE`` sign out."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.send(await self.zenodo.connection.verify())

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_object()
        token = body.get("token")
        if not isinstance(token, str) or not token.strip():
            raise self.bad_request("token is required: paste a Zenodo personal access token")
        remember = body.get("remember", False)
        if not isinstance(remember, bool):
            raise self.bad_request("remember must be true or false")
        base_url, environment = body.get("base_url"), body.get("environment")
        if base_url is not None and not isinstance(base_url, str):
            raise self.bad_request("base_url must be a string")
        if environment is not None and not isinstance(environment, str):
            raise self.bad_request("environment must be a string")
        connection = self.zenodo.connection
        with errors.http_errors():
            resolved = connection.resolve_base_url(base_url, environment) or connection.default_base_url
            status = await connection.sign_in(token, resolved, remember=remember)
        self.send(status)

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        self.send(await self.zenodo.connection.sign_out())


# ---------------------------------------------------------------------------------------
# search and details
# ---------------------------------------------------------------------------------------


class RecordsHandler(ZenodoHandler):
    """``GET ?q=&type=&sort=&page=&size=&community=&all_versions=``"""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.search(self.get_query_argument("community", None) or None)

    async def search(self, community: str | None) -> None:
        q = self.query_argument()
        rtype = self.get_query_argument("type", None) or None
        if rtype is not None and not TYPE_RE.fullmatch(rtype):
            raise self.bad_request("type must be a resource type such as dataset, software or publication")
        sort = self.choice_argument("sort", RECORD_SORTS)
        page = self.int_argument("page", 1, 1, 10_000)
        size = self.int_argument("size", 10, 1, 100)
        all_versions = self.bool_argument("all_versions")
        if community is not None and not SLUG_RE.fullmatch(community):
            raise self.bad_request("invalid community identifier")
        client = self.zenodo_client()
        size = client.clamp_size(size)
        with errors.http_errors():
            raw = await client.search_records(
                q, type=rtype, sort=sort, page=page, size=size, communities=community, all_versions=all_versions
            )
        result = records.page(raw, client.clamp_page(page, size), size, records.record_summary, client.base_url)
        result["base_url"] = client.base_url
        if community:
            result["community"] = community
        self.send(result)


class RecordHandler(ZenodoHandler):
    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        if not RECORD_ID_RE.fullmatch(record_id):
            raise self.bad_request("a Zenodo record id is a number")
        client = self.zenodo_client()
        with errors.http_errors():
            raw = await client.get_record(record_id)
            if not records.files_of(raw, client.base_url) and not isinstance(raw.get("files"), list):
                raw = {**raw, "files": await client.list_record_files(record_id)}
        details = records.record_details(raw, client.base_url)
        details["base_url"] = client.base_url
        self.send(details)


class CommunitiesHandler(ZenodoHandler):
    """``GET ?q=&sort=&page=&size=&type=``"""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query_argument()
        sort = self.choice_argument("sort", COMMUNITY_SORTS)
        ctype = self.get_query_argument("type", None) or None
        if ctype is not None and not TYPE_RE.fullmatch(ctype):
            raise self.bad_request("type must be a community type such as project, organization, event or topic")
        page = self.int_argument("page", 1, 1, 10_000)
        size = self.int_argument("size", 10, 1, 100)
        client = self.zenodo_client()
        size = client.clamp_size(size)
        with errors.http_errors():
            raw = await client.search_communities(q, sort=sort, page=page, size=size, type=ctype)
        result = records.page(raw, client.clamp_page(page, size), size, records.community_summary, client.base_url)
        result["base_url"] = client.base_url
        self.send(result)


class CommunityHandler(ZenodoHandler):
    @web.authenticated
    @authorized
    async def get(self, slug: str) -> None:
        if not SLUG_RE.fullmatch(slug):
            raise self.bad_request("invalid community identifier")
        client = self.zenodo_client()
        with errors.http_errors():
            raw = await client.get_community(slug)
        self.send(records.community_summary(raw, client.base_url))


class CommunityRecordsHandler(RecordsHandler):
    """``GET communities/<slug>/records?q=&type=&sort=&page=&size=``"""

    @web.authenticated
    @authorized
    async def get(self, slug: str) -> None:
        await self.search(slug)


# ---------------------------------------------------------------------------------------
# pulls
# ---------------------------------------------------------------------------------------


class PullsHandler(ZenodoHandler):
    """``POST {record_id, keys, destination, on_conflict}`` → 202 ``{job}``; ``GET`` lists pulls."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.send({"jobs": [job.to_json() for job in self.zenodo.jobs.list("pull")]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_object()
        record_id = body.get("record_id")
        if isinstance(record_id, bool) or not isinstance(record_id, (int, str)) or not RECORD_ID_RE.fullmatch(str(record_id)):
            raise self.bad_request("record_id is required: the number of a Zenodo record")
        keys = body.get("keys")
        if keys is not None and (
            not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys)
        ):
            raise self.bad_request("keys must be a non-empty list of file names, or null for all files")
        destination = body.get("destination", "")
        if not isinstance(destination, str):
            raise self.bad_request("destination must be a folder path (a string)")
        on_conflict = body.get("on_conflict", "ask")
        if on_conflict not in ON_CONFLICT:
            raise self.bad_request(f"on_conflict must be one of {', '.join(ON_CONFLICT)}")
        base_url, environment = body.get("base_url"), body.get("environment")
        if not isinstance(base_url, (str, type(None))) or not isinstance(environment, (str, type(None))):
            raise self.bad_request("base_url and environment must be strings")
        with errors.http_errors():
            client = self.zenodo.connection.client(self.zenodo.connection.resolve_base_url(base_url, environment))

        cm = self.contents_manager
        from ..contents import CS3ContentsManager

        if not isinstance(cm, CS3ContentsManager):
            raise web.HTTPError(
                409, "pulling from Zenodo needs Jupyter's files on a CS3 storage (mesh-zenodo lab)", reason="NotOnCS3"
            )
        display = destination.strip("/")
        if cm.hidden(display) and not cm.allow_hidden:
            raise self.bad_request(f"cannot pull into the hidden folder /{display}")
        folder = await cm.cs3_path(display)
        with cs3_errors.http_errors():
            info = await cm.client.exists(folder)
        if info is None:
            raise web.HTTPError(404, f"no folder /{display}", reason="NotFound")
        if info.type != spr.RESOURCE_TYPE_CONTAINER:
            raise self.bad_request(f"/{display} is a file, not a folder")

        with errors.http_errors():
            record = await client.get_record(str(record_id))
            if not isinstance(record.get("files"), list):
                record = {**record, "files": await client.list_record_files(str(record_id))}
        try:
            plan = plan_pull(
                record, keys, destination=folder, display=display, on_conflict=on_conflict, base_url=client.base_url
            )
        except InvalidPull as err:
            raise self.bad_request(err.message) from None
        title = (record.get("metadata") or {}).get("title") or record.get("title") or f"record {record_id}"
        job = Job(
            "pull",
            f"{title} → /{display}",
            [JobItem(f.key, f.key, f.size) for f in plan.files],
        )
        pulls, cs3 = self.zenodo.pulls, cm.client
        self.zenodo.jobs.start(job, lambda job: pulls.run(job, plan, client, cs3))
        self.set_header("Location", url_path_join(self.base_url, "mesh-zenodo", "jobs", job.id))
        self.send({"job": job.to_json()}, status=202)


class ProvenanceHandler(ZenodoHandler):
    """``GET ?path=`` → ``{path, zenodo: {record_id, doi, ...} | null}`` (for the INFO view)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        path = (self.get_query_argument("path", "") or "").strip("/")
        cm = self.contents_manager
        from ..contents import CS3ContentsManager

        if not isinstance(cm, CS3ContentsManager):
            self.send({"path": path, "zenodo": None})
            return
        cs3_path = await cm.cs3_path(path)
        keys = tuple(dict.fromkeys(FOLDER_KEYS + FILE_KEYS))
        with cs3_errors.http_errors():
            info = await cm.client.stat(cs3_path, metadata_keys=keys)
        found = {
            key.removeprefix("zenodo."): value
            for key, value in info.arbitrary_metadata.metadata.items()
            if key.startswith("zenodo.") and value
        }
        self.send({"path": path, "zenodo": found or None})


# ---------------------------------------------------------------------------------------
# jobs
# ---------------------------------------------------------------------------------------


class JobsHandler(ZenodoHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        kind = self.get_query_argument("kind", None)
        self.send({"jobs": [job.to_json() for job in self.zenodo.jobs.list(kind)]})


class JobHandler(ZenodoHandler):
    """``GET`` a job (``?wait=s`` long-polls until it changes); ``DELETE`` cancels it."""

    def _job(self, job_id: str) -> Job:
        job = self.zenodo.jobs.get(job_id) if JOB_ID_RE.fullmatch(job_id) else None
        if job is None:
            raise web.HTTPError(404, f"no job {job_id[:40]}", reason="NotFound")
        return job

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        job = self._job(job_id)
        wait = self.get_query_argument("wait", None)
        if wait and job.running:
            try:
                seconds = min(MAX_WAIT, max(0.0, float(wait)))
            except ValueError:
                raise self.bad_request("wait must be a number of seconds") from None
            await job.wait_changed(seconds)
        self.send({"job": job.to_json()})

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        job = self._job(job_id)
        await self.zenodo.jobs.cancel(job.id)
        self.send({"job": job.to_json()})


def handlers(zenodo) -> list[tuple[str, type, dict]]:
    """The URL patterns (relative to the server's base URL), handlers and their kwargs."""
    kwargs = {"zenodo": zenodo}
    prefix = r"/mesh-zenodo/zenodo"
    return [
        (rf"{prefix}/login", LoginHandler, kwargs),
        (rf"{prefix}/records", RecordsHandler, kwargs),
        (rf"{prefix}/records/([^/]+)", RecordHandler, kwargs),
        (rf"{prefix}/communities", CommunitiesHandler, kwargs),
        (rf"{prefix}/communities/([^/]+)", CommunityHandler, kwargs),
        (rf"{prefix}/communities/([^/]+)/records", CommunityRecordsHandler, kwargs),
        (rf"{prefix}/pulls", PullsHandler, kwargs),
        (rf"{prefix}/provenance", ProvenanceHandler, kwargs),
        (r"/mesh-zenodo/jobs", JobsHandler, kwargs),
        (r"/mesh-zenodo/jobs/([^/]+)", JobHandler, kwargs),
    ]
