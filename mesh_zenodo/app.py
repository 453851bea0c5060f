"""The Jupyter server extension, and the composition root of the plugin.

:class:`MeshZenodoApp` builds, once per server, everything the REST API works with:
the CS3 client (shared with the contents manager when Lab's files are on CS3), the Zenodo
connection, the job registry and the services, and hands them to the handlers as keyword
arguments of their routes (:func:`mesh_zenodo.rest.routes`). Nothing else creates them.
"""

from __future__ import annotations

from importlib.util import find_spec

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.log import log_request
from traitlets import Instance, default

from . import rest
from .kernels import CS3KernelManager
from .launcher import die_with_parent_hook
from .contents import CS3ContentsManager
from .contents.manager import MERGE_EVENT, MERGE_EVENT_SCHEMA
from .cs3.client import CS3Client
from .services.health import HealthService
from .services.jobs import JobRegistry
from .services.kernel_access import KernelAccess
from .services.publishing import PublishService
from .services.pulls import PullService
from .services.sharing import SharingService
from .services.spaces import SpaceService
from .services.zenodo_connection import ZenodoConnection
from .zenodo.client import ZenodoClient

if find_spec("jupyter_server_ydoc") is not None:  # jupyter-collaboration: live rooms that merge
    from .rooms import install as install_rooms
else:
    install_rooms = None


class MeshZenodoApp(ExtensionApp):
    """ScienceMesh (CS3) storage and Zenodo in JupyterLab."""

    name = "mesh_zenodo"
    description = __doc__

    # c.CS3Client.*, c.CS3ContentsManager.*, c.ZenodoClient.*, c.ZenodoConnection.*,
    # c.PullService.* (listed by --help-all)
    classes = [
        *ExtensionApp.classes, CS3Client, CS3ContentsManager, ZenodoClient, ZenodoConnection, PullService, PublishService,
        KernelAccess,
    ]

    cs3 = Instance(CS3Client, help="The CS3 connection of the REST API (the contents manager's, on CS3).")
    zenodo_connection = Instance(ZenodoConnection, help="The signed-in Zenodo account of this server.")
    jobs = Instance(JobRegistry, help="The long jobs (pulls, publishing) and their progress.")
    pulls = Instance(PullService, help="Pulls Zenodo records into the storage.")
    sharing = Instance(SharingService, help="Shares, shares with me and grantee search on the CS3 storage.")
    spaces = Instance(SpaceService, help="Project spaces, their members and quota.")
    publishing = Instance(PublishService, help="Publishes folders of the storage to Zenodo.")
    health = Instance(HealthService, help="Whether the storage and Zenodo answer (GET /mesh-zenodo/health).")
    kernel_access = Instance(KernelAccess, allow_none=True,
                             help="The FUSE mount and tokens of kernels and terminals (Lab's files on CS3 only).")

    @default("cs3")
    def _default_cs3(self) -> CS3Client:
        contents = self.serverapp.contents_manager
        if isinstance(contents, CS3ContentsManager):
            return contents.client  # one connection (and one sign-in) for Lab's files and the panel
        return CS3Client(parent=self.serverapp, log=self.log)

    @default("zenodo_connection")
    def _default_zenodo_connection(self) -> ZenodoConnection:
        contents = self.serverapp.contents_manager
        account = f"{self.cs3.gateway}/{self.cs3.username}" if isinstance(contents, CS3ContentsManager) else ""
        connection = ZenodoConnection(parent=self, log=self.log, cs3_account=account)
        connection.load_remembered()
        return connection

    @default("jobs")
    def _default_jobs(self) -> JobRegistry:
        return JobRegistry(log=self.log)

    @default("pulls")
    def _default_pulls(self) -> PullService:
        return PullService(parent=self, log=self.log, jobs=self.jobs)

    @default("publishing")
    def _default_publishing(self) -> PublishService:
        return PublishService(parent=self, log=self.log, jobs=self.jobs)

    @default("sharing")
    def _default_sharing(self) -> SharingService:
        return SharingService(self.cs3)

    @default("spaces")
    def _default_spaces(self) -> SpaceService:
        return SpaceService(self.cs3, self.sharing.sharing)

    @default("kernel_access")
    def _default_kernel_access(self) -> KernelAccess | None:
        contents = self.serverapp.contents_manager
        if not isinstance(contents, CS3ContentsManager):
            return None
        return KernelAccess(parent=self, log=self.log, cs3=self.cs3, root=lambda: contents.cs3_path(""),
                            scratch=self.serverapp.root_dir, preexec_fn=die_with_parent_hook(),
                            on_mount=self._terminals_on_mount)

    @default("health")
    def _default_health(self) -> HealthService:
        on_cs3 = isinstance(self.serverapp.contents_manager, CS3ContentsManager)
        return HealthService(self.cs3 if on_cs3 else None, self.zenodo_connection, self.kernel_access)

    def initialize_settings(self) -> None:
        if MERGE_EVENT not in self.serverapp.event_logger.schemas.schema_ids:
            self.serverapp.event_logger.register_event_schema(MERGE_EVENT_SCHEMA)
        if install_rooms is not None and isinstance(self.serverapp.contents_manager, CS3ContentsManager):
            install_rooms(self.serverapp)
        kernels = self.serverapp.kernel_manager
        if self.kernel_access is not None and isinstance(kernels, CS3KernelManager):
            kernels.kernel_access = self.kernel_access
        elif self.kernel_access is not None:
            self.log.warning("mesh-zenodo: kernels start in %s, not on the storage: set "
                             "c.ServerApp.kernel_manager_class = 'mesh_zenodo.kernels.CS3KernelManager'",
                             self.serverapp.root_dir)

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        if self.kernel_access is not None:  # mount at start (kernels and the panel also ask)
            await self.kernel_access.ensure_started()

    async def _terminals_on_mount(self, mount_root: str, token_file: str) -> None:
        """Terminals start in the mount (or the folder asked for, below it), with a token
        of their own for cs3://."""
        settings = self.serverapp.web_app.settings
        terminals = settings.get("terminal_manager")
        if terminals is None:
            return
        settings["server_root_dir"] = mount_root  # (what POST /api/terminals resolves "cwd" against)
        terminals.term_settings = {**getattr(terminals, "term_settings", {}), "cwd": mount_root}
        terminals.extra_env = {**(terminals.extra_env or {}), **self.kernel_access.environment(token_file)}

    def initialize_handlers(self) -> None:
        settings = self.serverapp.web_app.settings
        settings["log_function"] = rest.access_log(settings.get("log_function") or log_request)
        self.handlers.extend(
            rest.routes(
                cs3=self.cs3, connection=self.zenodo_connection, jobs=self.jobs, pulls=self.pulls, sharing=self.sharing,
                spaces=self.spaces, publishing=self.publishing, kernel_access=self.kernel_access,
                health=self.health,
            )
        )

    async def stop_extension(self) -> None:
        contents = self.serverapp.contents_manager
        if isinstance(contents, CS3ContentsManager):
            # what open documents are based on survives the restart (merges, not overwrites)
            await contents.documents.bases.flush()
        # first the jobs: cancelled pulls clean up through the CS3 client
        await self.jobs.close()
        if self.kernel_access is not None:
            await self.kernel_access.stop()
        await self.zenodo_connection.close()
        await self.cs3.close()
