"""The Jupyter server extension: configuration and handler registration."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Any, Instance

from .contents import CS3ContentsManager
from .cs3.client import CS3Client
from .zenodo import setup_zenodo, stop_zenodo, zenodo_classes


class MeshZenodoApp(ExtensionApp):
    """ScienceMesh (CS3) storage and Zenodo in JupyterLab."""

    name = "mesh_zenodo"
    description = __doc__

    # c.CS3Client.*, c.ZenodoClient.*, c.ZenodoConnection.*, c.PullService.* (listed by --help-all)
    classes = [*ExtensionApp.classes, CS3Client, CS3ContentsManager, *zenodo_classes()]

    cs3 = Instance(CS3Client, allow_none=True, help="The CS3 connection the REST API uses.")
    zenodo = Any(None, allow_none=True, help="The Zenodo sign-in, jobs and pull service (set up at start).")
    jobs = Any(None, allow_none=True, help="The long-running jobs (pulls, publishing) and their progress.")

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
        self.handlers.extend(setup_zenodo(self))

    async def stop_extension(self) -> None:
        await stop_zenodo(self)  # first: cancelled pulls clean up through the CS3 client
        if self.cs3 is not None:
            await self.cs3.close()
