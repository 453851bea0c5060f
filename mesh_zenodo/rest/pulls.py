"""``/mesh-zenodo/zenodo/pulls``: pull a Zenodo record's files into a folder on the
storage (``POST {record_id, keys, destination, on_conflict, base_url?, environment?}``
→ 202 ``{job}``), list the pulls (``GET``). The work is :meth:`PullService.start`."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..http_errors import http_errors
from ..services.pulls import ON_CONFLICT
from .zenodo import RECORD_ID_RE, ZenodoHandler


class PullsHandler(ZenodoHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.send({"jobs": [job.to_json() for job in self.jobs.list("pull")]})

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
        client = self.zenodo_client(base_url, environment)
        cm = self.cs3_contents("pulling from Zenodo")
        display = destination.strip("/")
        if cm.hidden(display) and not cm.allow_hidden:
            raise self.bad_request(f"cannot pull into the hidden folder /{display}")
        folder = await cm.cs3_path(display)
        with http_errors():
            job = await self.pulls.start(
                client, cm.client, str(record_id), keys, folder=folder, display=display, on_conflict=on_conflict
            )
        self.set_header("Location", url_path_join(self.base_url, "mesh-zenodo", "jobs", job.id))
        self.send({"job": job.to_json()}, status=202)


def routes() -> list[tuple[str, type]]:
    return [(r"/mesh-zenodo/zenodo/pulls", PullsHandler)]
