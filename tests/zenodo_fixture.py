"""Start the Zenodo stand-in (``python -m mesh_zenodo.zenodo.standin``) as a subprocess.

Plain helpers, not fixtures (like ``storage_fixture.start_storage``)::

    standin = start_standin(tmp_path / "zenodo")
    ... standin.url, standin.arm(status=429, retry_after=1, path_regex="/api/records$") ...
    standin.stop()       # SIGTERM, wait, assert exit code 0

The stand-in knows these tokens (see ``mesh_zenodo.zenodo.standin.DEFAULT_TOKENS``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from mesh_zenodo.launcher import ProgramProcess, spawn_standin
from storage_fixture import source_tree_env


FULL_TOKEN = "standin-full-token"  # deposit:write deposit:actions (user einstein)
READONLY_TOKEN = "standin-readonly-token"  # no deposit scope (user marie)
OTHER_TOKEN = "standin-other-token"  # full scope, another user (richard)

#: generous limits so that a whole test session stays under them; tests that need a
#: real 429 lower them at run time with ``standin.config(rate_limit=...)``
TEST_RATE_LIMITS = "100000,100000,100000"


class StandinProcess:
    """The running stand-in (``mesh_zenodo.launcher.spawn_standin``) plus its control API."""

    def __init__(self, program: ProgramProcess, data: Path) -> None:
        self.program = program
        self.process = program.process
        self.data = data
        self.url = program.ready["url"]
        self.http = requests.Session()

    @property
    def pid(self) -> int:
        return self.program.pid

    @property
    def output(self) -> str:
        return self.program.output

    # ------------------------------------------------------------------ control API

    def arm(self, **fault) -> dict:
        """Arm one fault (see the stand-in's docstring): ``arm(status=500, times=2)``."""
        response = self.http.post(f"{self.url}/_standin/faults", json=fault, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def release(self) -> None:
        """Let the requests held by ``arm(hold=True)`` go on."""
        response = self.http.post(f"{self.url}/_standin/release", timeout=10)
        assert response.status_code == 204, response.text

    def faults(self) -> list[dict]:
        return self.http.get(f"{self.url}/_standin/faults", timeout=10).json()

    def requests(self, path_regex: str = "") -> list[dict]:
        """Requests the stand-in saw (optionally only those whose path matches)."""
        seen = self.http.get(f"{self.url}/_standin/requests", timeout=10).json()
        return [r for r in seen if re.search(path_regex, r["path"])] if path_regex else seen

    def config(self, **config) -> dict:
        response = self.http.post(f"{self.url}/_standin/config", json=config, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def reset(self) -> None:
        """Disarm every fault, forget the request log and the rate-limit windows."""
        response = self.http.post(f"{self.url}/_standin/reset", timeout=10)
        assert response.status_code == 204, response.text
        self.config(rate_limit={"guest": 100000, "authenticated": 100000, "search": 100000})

    def info(self) -> dict:
        return self.http.get(f"{self.url}/_standin/info", timeout=10).json()

    def get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.get(self.url + path, headers=headers, timeout=30, **kw)

    # ------------------------------------------------------------------ lifecycle

    def stop(self, timeout: float = 20.0) -> int:
        self.http.close()
        return self.program.stop(timeout=timeout)


def start_standin(data: Path, extra_args: Sequence[str] = (), *, timeout: float = 60.0) -> StandinProcess:
    """The stand-in on a free loopback port, with generous rate limits, running this tree's code."""
    program = spawn_standin(Path(data), ["--rate-limit", TEST_RATE_LIMITS, *extra_args], timeout=timeout, env=source_tree_env())
    return StandinProcess(program, Path(data))


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        time.sleep(interval)


def zenodo_api_for(serverapp):
    """The running test server's mesh_zenodo extension (its ``zenodo`` and ``jobs``)."""
    return next(iter(serverapp.extension_manager.extension_apps["mesh_zenodo"]))


async def wait_job(fetch, job_id: str, timeout: float = 120.0, until=None) -> dict:
    """Poll ``GET /mesh-zenodo/jobs/<id>`` (long-polling) until the job finished, or until
    ``until(job)`` is true. A deadline, not a timing assertion."""
    import json as _json

    deadline = time.monotonic() + timeout
    while True:
        response = await fetch("mesh-zenodo", "jobs", job_id, params={"wait": "1"})
        job = _json.loads(response.body)["job"]
        if (until is not None and until(job)) or (until is None and job["state"] != "running"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['state']} after {timeout:.0f} s: {job}")
