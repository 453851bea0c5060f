"""``GET /mesh-zenodo/session``: who is signed in, on which storage (the ScienceMesh
panel's header)."""

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
        try:
            user = await client.whoami()
            storage["home"] = await client.get_home()
        except errors.CS3Error as err:
            self.send(
                {"connected": False, "message": err.message, "storage": storage},
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
                "contents": "cs3" if isinstance(self.contents_manager, CS3ContentsManager) else "local",
            }
        )
