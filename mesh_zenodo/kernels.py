"""Kernels on the CS3 storage: jupyter_server's kernel manager, starting each kernel in
the FUSE mount's folder of its notebook, with a short-lived CS3 token of its own
(services/kernel_access.py).

``mesh-zenodo lab`` sets ``c.ServerApp.kernel_manager_class`` to
:class:`CS3KernelManager`; a site's configuration does the same (docs/kernels.md).
Without a mount (no FUSE) kernels start where jupyter_server would start them: under
``root_dir``, the scratch folder of ``mesh-zenodo lab``.
"""

from __future__ import annotations

import os
import uuid

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Instance

from .services.kernel_access import KernelAccess


class CS3KernelManager(AsyncMappingKernelManager):
    """Kernels that work on the CS3 storage: their notebook's folder of the mount as the
    working directory, ``MESH_ZENODO_CS3_TOKEN_FILE`` for ``cs3://``."""

    kernel_access = Instance(KernelAccess, allow_none=True,
                             help="Set by the mesh_zenodo extension once it is loaded.")

    async def start_kernel(self, *, kernel_id=None, path=None, **kwargs):
        access = self.kernel_access
        if access is None or (kernel_id is not None and kernel_id in self):
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        await access.ensure_started()  # a kernel asked for at start-up waits for the mount
        if path is None:  # (POST /api/kernels without a path: the file browser's root)
            path = ""
        kernel_id = kernel_id or str(uuid.uuid4())
        name = f"kernel-{kernel_id}"
        token_file = await access.issue(name)
        env = access.environment(token_file, base=kwargs.pop("env", None) or dict(os.environ))
        try:
            return await super().start_kernel(kernel_id=kernel_id, path=path, env=env, **kwargs)
        except BaseException:
            access.drop(name)
            raise

    def cwd_for_path(self, path, **kwargs):
        cwd = self.kernel_access.cwd(path) if self.kernel_access is not None else None
        return cwd or super().cwd_for_path(path, **kwargs)

    def remove_kernel(self, kernel_id):
        if self.kernel_access is not None:
            self.kernel_access.drop(f"kernel-{kernel_id}")  # (shut down, or died)
        return super().remove_kernel(kernel_id)
