"""Health: is the storage reachable, is Zenodo, and (for admins) versions and details.

Probes are cheap and cached briefly: the storage's ``WhoAmI`` (every call), Zenodo's
``GET /api/records?size=1`` at most once a minute (it counts against Zenodo's search rate
limit). ``ok`` means the storage answers; Zenodo away makes it ``degraded`` (Lab's files
still work); the storage away makes it ``down``."""

from __future__ import annotations

import asyncio
import platform
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .. import __version__
from ..cs3 import errors as cs3_errors
from ..cs3.client import CS3Client
from ..zenodo import errors as zenodo_errors
from .kernel_access import KernelAccess
from .zenodo_connection import ZenodoConnection

#: seconds a Zenodo probe is trusted
ZENODO_PROBE_TTL = 60.0
#: seconds a probe may take before the service counts as unreachable
PROBE_TIMEOUT = 5.0
PACKAGES = ("jupyter_server", "jupyterlab", "jupyter-collaboration", "grpcio", "cs3apis", "aiohttp", "tornado")


class HealthService:
    def __init__(self, cs3: CS3Client | None, connection: ZenodoConnection, kernel_access: KernelAccess | None) -> None:
        self.cs3 = cs3
        self.connection = connection
        self.kernel_access = kernel_access
        self._zenodo: tuple[float, dict[str, Any]] | None = None

    async def check(self, *, details: bool) -> dict[str, Any]:
        storage, zenodo = await asyncio.gather(self._storage(), self._zenodo_probe())
        state = "down" if not storage["reachable"] else ("ok" if zenodo["reachable"] else "degraded")
        answer: dict[str, Any] = {
            "status": state,
            "storage": {k: storage[k] for k in ("reachable", "message") if k in storage},
            "zenodo": {k: zenodo[k] for k in ("reachable", "message") if k in zenodo},
        }
        if details:
            answer["details"] = {
                "versions": versions(),
                "storage": storage,
                "zenodo": zenodo,
                "kernels": self.kernel_access.status() if self.kernel_access is not None else None,
            }
        return answer

    async def _storage(self) -> dict[str, Any]:
        if self.cs3 is None:
            return {"reachable": False, "message": "no CS3 storage is configured"}
        started = time.monotonic()
        try:
            user = await asyncio.wait_for(self.cs3.whoami(), PROBE_TIMEOUT)
        except asyncio.TimeoutError:
            return {"reachable": False, "message": f"the gateway {self.cs3.gateway} did not answer in time",
                    "gateway": self.cs3.gateway}
        except cs3_errors.CS3Error as err:
            return {"reachable": False, "message": err.message, "gateway": self.cs3.gateway}
        return {"reachable": True, "gateway": self.cs3.gateway, "user": user.username,
                "latency_ms": round(1000 * (time.monotonic() - started), 1)}

    async def _zenodo_probe(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._zenodo is not None and now - self._zenodo[0] < ZENODO_PROBE_TTL:
            return self._zenodo[1]
        client = self.connection.client()
        started = time.monotonic()
        try:
            await asyncio.wait_for(client.search_records(size=1), PROBE_TIMEOUT)
            result = {"reachable": True, "base_url": client.base_url,
                      "latency_ms": round(1000 * (time.monotonic() - started), 1)}
        except asyncio.TimeoutError:
            result = {"reachable": False, "base_url": client.base_url, "message": "Zenodo did not answer in time"}
        except zenodo_errors.ZenodoError as err:
            result = {"reachable": False, "base_url": client.base_url, "message": err.message}
        self._zenodo = (now, result)
        return result


def versions() -> dict[str, str]:
    found = {"mesh-zenodo": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
