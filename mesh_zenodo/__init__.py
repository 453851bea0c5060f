"""mesh-zenodo: JupyterLab on ScienceMesh (CS3/Reva) storage, with Zenodo."""

import os

# gRPC core's fork handlers (on by default on Linux) run in every child a process with gRPC
# channels forks, and now and then kill it before it execs: a terminal's shell (forked by
# terminado), fusermount3 (forked by libfuse in the mount program). Our children never use
# gRPC after a fork (they exec at once; grpc.aio does not support fork anyway), so the
# handlers are turned off before anything of ours starts gRPC. A deployment that sets the
# variable keeps its own choice.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - running from a source tree without a build
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "mesh-zenodo"}]


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .app import MeshZenodoApp

    return [{"module": "mesh_zenodo", "app": MeshZenodoApp}]
