"""The REST API of the extension, under ``/mesh-zenodo/``: thin jupyter_server handlers
over the services (see :mod:`.base`). One module per area; :func:`routes` lists them all.

======================================  =======================================
``/mesh-zenodo/session``                :mod:`.session`
``/mesh-zenodo/upload/<path>``          :mod:`.upload`
``/files/<path>`` (Jupyter's route)     :mod:`.files` (the contents manager's)
``/mesh-zenodo/zenodo/...``             :mod:`.zenodo` (sign in, search, details)
``/mesh-zenodo/zenodo/pulls``           :mod:`.pulls`
``/mesh-zenodo/zenodo/publish...``      :mod:`.publishing`
``/mesh-zenodo/zenodo/provenance``      :mod:`.provenance`
``/mesh-zenodo/jobs[/<id>]``            :mod:`.jobs`
``/mesh-zenodo/documents/...``          :mod:`.documents` (presence, locks, copies)
======================================  =======================================
"""

from __future__ import annotations

from typing import Any

from . import documents, health, jobs, provenance, publishing, pulls, session, sharing, spaces, upload, zenodo
from .base import access_log

__all__ = ["access_log", "routes"]


def routes(**services: Any) -> list[tuple[str, type, dict[str, Any]]]:
    """Every route of the extension (relative to the server's base URL), each handler
    given the services (see :meth:`.base.MeshHandler.initialize`)."""
    table = [
        (r"/mesh-zenodo/session", session.SessionHandler),
        (r"/mesh-zenodo/health", health.HealthHandler),
        (r"/mesh-zenodo/upload/(?P<path>.+)", upload.UploadHandler),
        *zenodo.routes(),
        *pulls.routes(),
        *publishing.routes(),
        *provenance.routes(),
        *jobs.routes(),
        *sharing.routes(),
        *spaces.routes(),
        *documents.routes(),
    ]
    return [(pattern, handler, dict(services)) for pattern, handler in table]
