"""The Jupyter server extension: configuration and handler registration."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Instance

from .contents import CS3ContentsManager
from .cs3.client import CS3Client


class MeshZenodoApp(ExtensionApp):
    """ScienceMesh (CS3) storage and Zenodo in JupyterLab."""

    name = "mesh_zenodo"
    description = __doc__

    cs3 = Instance(CS3Client, allow_none=True, help="The CS3 connection the REST API uses.")

    def initialize_settings(self) -> None:
        contents = self.serverapp.contents_manager
        if isinstance(contents, CS3ContentsManager):
            # one connection (and one sign-in) for Lab's files and the panel
            self.cs3 = contents.client
        else:
            self.cs3 = CS3Client(parent=self.serverapp, log=self.log)

    @property
    def contents_on_cs3(self) -> bool:
        return isinstance(self.serverapp.contents_manager, CS3ContentsManager)

    def initialize_handlers(self) -> None:
        from .handlers import default_handlers

        self.handlers.extend(default_handlers)

    async def stop_extension(self) -> None:
        if self.cs3 is not None:
            await self.cs3.close()
