"""Jupyter checkpoints on a CS3 storage: the storage's file versions."""

from __future__ import annotations

from datetime import datetime, timezone

from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from tornado import web

from ..http_errors import http_errors
from .models import CONTAINER, mtime


class CS3Checkpoints(AsyncCheckpoints):
    """Checkpoints as CS3 file versions.

    The current content is a checkpoint whose id is its etag; every earlier content the
    storage kept is a checkpoint whose id is the version key. Creating a checkpoint
    writes nothing: the storage keeps the content as a version when it is next
    overwritten, under the same etag.
    """

    @property
    def _cm(self):  # the CS3ContentsManager
        return self.parent

    @staticmethod
    def _current(info: spr.ResourceInfo) -> dict:
        return {"id": info.etag.strip('"'), "last_modified": mtime(info)}

    async def create_checkpoint(self, contents_mgr, path):
        info = await contents_mgr.stat(path.strip("/"), f"No such file: {path}")
        return self._current(info)

    async def list_checkpoints(self, path):
        info = await self._cm.stat(path.strip("/"), "")
        if info is None or info.type == CONTAINER:
            return []
        with http_errors():
            versions = await self._cm.client.list_file_versions(await self._cm.cs3_path(path))
        checkpoints = [self._current(info)]
        for version in sorted(versions, key=lambda v: v.mtime, reverse=True):
            checkpoints.append(
                {"id": version.key, "last_modified": datetime.fromtimestamp(version.mtime, tz=timezone.utc)}
            )
        return checkpoints

    async def restore_checkpoint(self, contents_mgr, checkpoint_id, path):
        info = await contents_mgr.stat(path.strip("/"), f"No such file: {path}")
        if checkpoint_id == info.etag.strip('"'):
            return  # the checkpoint is the current content
        cs3 = await contents_mgr.cs3_path(path)
        with http_errors():
            versions = await contents_mgr.client.list_file_versions(cs3)
            for version in versions:
                if checkpoint_id in (version.key, version.etag.strip('"')):
                    await contents_mgr.client.restore_file_version(cs3, version.key)
                    return
        raise web.HTTPError(404, f"Checkpoint does not exist: {path}@{checkpoint_id}")

    async def delete_checkpoint(self, checkpoint_id, path):
        raise web.HTTPError(400, "The storage keeps file versions; they cannot be deleted one by one")

    async def rename_checkpoint(self, checkpoint_id, old_path, new_path):
        pass  # versions move with the file on the storage

    async def rename_all_checkpoints(self, old_path, new_path):
        pass  # versions move with the file on the storage

    async def delete_all_checkpoints(self, path):
        pass  # versions go to the recycle bin with the file


