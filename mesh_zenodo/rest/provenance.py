"""``GET /mesh-zenodo/zenodo/provenance?path=`` → ``{path, zenodo: {record_id, doi, title,
...} | null, records: [...]}``: which Zenodo records a file or folder came from (the
provenance dialog). ``zenodo`` is a file's record, or the last record pulled into a
folder; ``records`` lists every record that landed files in a folder."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..contents import CS3ContentsManager
from ..http_errors import http_errors
from ..services import provenance
from .base import MeshHandler


class ProvenanceHandler(MeshHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        path = (self.get_query_argument("path", "") or "").strip("/")
        cm = self.contents_manager
        if not isinstance(cm, CS3ContentsManager):
            self.send({"path": path, "zenodo": None, "records": []})  # local files carry no provenance
            return
        cs3_path = await cm.cs3_path(path)
        with http_errors():
            found = await provenance.read(cm.client, cs3_path)
        self.send({"path": path, **found})


def routes() -> list[tuple[str, type]]:
    return [(r"/mesh-zenodo/zenodo/provenance", ProvenanceHandler)]
