"""Jupyter's contents API on a CS3 storage: :class:`CS3ContentsManager` (what
jupyter_server calls for every file operation), :class:`CS3Checkpoints` (the storage's
file versions), the models built from CS3 ResourceInfo and the streamed upload.

Configure with ``c.ServerApp.contents_manager_class = "mesh_zenodo.contents.CS3ContentsManager"``.
"""

from .checkpoints import CS3Checkpoints
from .manager import CS3ContentsManager

__all__ = ["CS3Checkpoints", "CS3ContentsManager"]
