"""``GET /mesh-zenodo/health``: the storage's and Zenodo's reachability (200 when the
storage answers, ``status`` ``ok`` or ``degraded`` without Zenodo; 503 ``down`` without
the storage), and for admins ``details``: versions, the gateway, latencies, the kernels'
mount. An admin is the hub's admin under JupyterHub (the hub user's ``admin`` flag), or
the one user of a server without a hub."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import MeshHandler


def is_admin(user) -> bool:
    hub_user = getattr(user, "hub_user", None)
    if isinstance(hub_user, dict):  # JupyterHub's single-user server: the hub says
        return bool(hub_user.get("admin"))
    return True  # a server of one user: its user runs it


class HealthHandler(MeshHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        answer = await self.health.check(details=is_admin(self.current_user))
        self.send(answer, 503 if answer["status"] == "down" else 200)
