"""``/mesh-zenodo/jobs``: the long jobs (pulls, later publishing) and their progress.
``GET`` lists them (``?kind=pull``); ``GET <id>`` is one job; ``DELETE <id>`` cancels it.
The panel polls (JupyterLab's ``Poll``) while a job runs."""

from __future__ import annotations

import re

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..services.jobs import Job
from .base import MeshHandler

JOB_ID_RE = re.compile(r"[0-9a-f]{32}")


class JobsHandler(MeshHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        kind = self.get_query_argument("kind", None)
        self.send({"jobs": [job.to_json() for job in self.jobs.list(kind)]})


class JobHandler(MeshHandler):
    def _job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id) if JOB_ID_RE.fullmatch(job_id) else None
        if job is None:
            raise web.HTTPError(404, f"no job {job_id[:40]}", reason="NotFound")
        return job

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.send({"job": self._job(job_id).to_json()})

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        job = self._job(job_id)
        await self.jobs.cancel(job.id)
        self.send({"job": job.to_json()})


def routes() -> list[tuple[str, type]]:
    return [(r"/mesh-zenodo/jobs", JobsHandler), (r"/mesh-zenodo/jobs/([^/]+)", JobHandler)]
