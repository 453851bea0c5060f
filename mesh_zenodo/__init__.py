"""mesh-zenodo: JupyterLab on ScienceMesh (CS3/Reva) storage, with Zenodo."""

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - running from a source tree without a build
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "mesh-zenodo"}]


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .app import MeshZenodoApp

    return [{"module": "mesh_zenodo", "app": MeshZenodoApp}]
