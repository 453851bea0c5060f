"""``GET /mesh-zenodo/session``: who is signed in, on which storage (the ScienceMesh
panel's header).

``contents`` says where Lab's files are: ``"cs3"`` (``mesh-zenodo lab``, or a server
configured with the CS3 contents manager) or ``"local"`` (plain ``jupyter lab`` with the
package installed: Lab's files are on the local disk, nothing is contacted, and
``message`` says how to work on a CS3 storage). On CS3, ``connected`` is false with a 401
(refused sign-in) or 503 (gateway unreachable) and the reason in ``message``.

``kernels`` says where kernels and terminals work: ``{"mounted": true, "path": ...}`` (the
FUSE mount of the storage), or ``{"mounted": false, "reason": ..., "scratch": ...}``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..contents import CS3ContentsManager
from ..cs3 import errors
from .base import MeshHandler


class SessionHandler(MeshHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        client = self.cs3
        storage = {"gateway": client.gateway, "embedded": client.embedded}
        if not isinstance(self.contents_manager, CS3ContentsManager):
            self.send(
                {
                    "connected": False,
                    "contents": "local",
                    "storage": storage,
                    "message": "Lab's files are on this computer's disk. To work on a CS3 storage, start "
                    "`mesh-zenodo lab` (the embedded storage, or --gateway HOST:PORT for Reva), or set "
                    "c.ServerApp.contents_manager_class = 'mesh_zenodo.contents.CS3ContentsManager' and "
                    "c.CS3Client.gateway.",
                }
            )
            return
        try:
            user = await client.whoami()
            if self.kernel_access is not None:
                await self.kernel_access.ensure_started()
            storage["home"] = await client.get_home()
        except errors.CS3Error as err:
            self.send(
                {"connected": False, "contents": "cs3", "message": err.message, "storage": storage},
                401 if isinstance(err, errors.Unauthenticated) else 503,
            )
            return
        self.send(
            {
                "connected": True,
                "user": {
                    "username": user.username,
                    "display_name": user.display_name,
                    "mail": user.mail,
                    "idp": user.id.idp,
                    "opaque_id": user.id.opaque_id,
                },
                "storage": storage,
                "contents": "cs3",
                "kernels": self.kernel_access.status() if self.kernel_access is not None else None,
            }
        )
