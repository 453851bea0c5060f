"""REST API of the extension, under ``/mesh-zenodo/``.

Handlers are thin: authenticate (Jupyter user + XSRF, as every jupyter_server
APIHandler), call the client or a service, map errors with
:func:`~mesh_zenodo.cs3.errors.http_errors`. Errors are JSON ``{"message": ...}``.
"""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .cs3 import errors

AUTH_RESOURCE = "contents"


class MeshHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def cs3(self):
        return self.extensionapp.cs3


class SessionHandler(MeshHandler):
    """Who is signed in, on which storage: what the ScienceMesh panel's header shows."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        client = self.cs3
        storage = {"gateway": client.gateway, "embedded": client.embedded}
        try:
            user = await client.whoami()
            storage["home"] = await client.get_home()
        except errors.CS3Error as err:
            self.set_status(401 if isinstance(err, errors.Unauthenticated) else 503)
            self.finish(json.dumps({"connected": False, "message": err.message, "storage": storage}))
            return
        self.finish(
            json.dumps(
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
                    "contents": "cs3" if self.extensionapp.contents_on_cs3 else "local",
                }
            )
        )


default_handlers = [
    (r"/mesh-zenodo/session", SessionHandler),
]
