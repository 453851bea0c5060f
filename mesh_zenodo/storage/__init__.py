"""Embedded CS3 storage: a ``cs3.gateway.v1beta1.GatewayAPI`` gRPC server and a Reva-style
HTTP data gateway, backed by a folder and SQLite.

Run it with ``python -m mesh_zenodo.storage --root DIR`` (or ``mesh-zenodo storage``), or
from Python with :func:`main` (argv list, returns the exit code) or the :func:`serve`
coroutine.
"""

from __future__ import annotations

from .auth import ConfigError
from .program import StartupError, main, serve

__all__ = ["ConfigError", "StartupError", "main", "serve"]
