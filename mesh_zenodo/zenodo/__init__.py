"""Zenodo in mesh-zenodo: the REST client (:mod:`.client`), its errors (:mod:`.errors`),
the signed-in account (:mod:`.connection`), the UI's shapes of records
(:mod:`.records`), the REST handlers (:mod:`.handlers`) and a local stand-in server for
tests and demos (:mod:`.standin`, a separate program the rest never imports).

The server extension wires it in with::

    from .zenodo import setup_zenodo, stop_zenodo, zenodo_classes

    class MeshZenodoApp(ExtensionApp):
        classes = [*ExtensionApp.classes, *zenodo_classes()]  # c.ZenodoClient.*, c.ZenodoConnection.*, c.PullService.*

        def initialize_handlers(self):
            self.handlers.extend(default_handlers)
            self.handlers.extend(setup_zenodo(self))

        async def stop_extension(self):
            await stop_zenodo(self)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client import ENVIRONMENTS, SANDBOX_URL, ZENODO_URL, ZenodoClient  # noqa: F401
from .connection import ZenodoConnection


@dataclass
class Zenodo:
    """What the Zenodo handlers share: the sign-in, the jobs, the pull service."""

    connection: ZenodoConnection
    jobs: Any  # mesh_zenodo.jobs.JobRegistry
    pulls: Any  # mesh_zenodo.pulling.PullService

    async def close(self) -> None:
        await self.jobs.close()
        await self.connection.close()


def zenodo_classes() -> list[type]:
    """The configurable classes (for ``MeshZenodoApp.classes``, so ``--help-all`` lists them)."""
    from ..pulling import PullService

    return [ZenodoClient, ZenodoConnection, PullService]


def setup_zenodo(app) -> list[tuple[str, type, dict]]:
    """Create the Zenodo state on the extension ``app`` (as ``app.zenodo``; the job
    registry as ``app.jobs`` unless the app already has one), read a remembered token,
    and return the handler tuples (paths relative to the server's base URL) for
    ``app.handlers``. Configuration comes from ``app``'s config."""
    from ..jobs import JobRegistry
    from ..pulling import PullService
    from .handlers import handlers

    jobs = getattr(app, "jobs", None)
    if jobs is None:
        jobs = JobRegistry(log=app.log)
        app.jobs = jobs
    connection = ZenodoConnection(parent=app, log=app.log)
    connection.load_remembered()
    state = Zenodo(connection=connection, jobs=jobs, pulls=PullService(parent=app, log=app.log))
    app.zenodo = state
    return handlers(state)


async def stop_zenodo(app) -> None:
    """Cancel running jobs (their partial files are removed) and close connections."""
    state = getattr(app, "zenodo", None)
    if state is not None:
        await state.close()
