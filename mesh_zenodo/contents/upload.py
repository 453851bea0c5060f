"""A file's raw bytes streamed straight into the storage as they arrive.

Lab's file browser sends large files as base64 JSON chunks through ``/api/contents``;
the labextension sends them instead as one ``PUT /mesh-zenodo/upload/<path>`` of the raw
bytes, and the REST handler feeds each piece it receives to a :class:`StreamedUpload`.
The rules of such an upload live here, beside the contents manager that owns the paths:
what may be written where, when an existing file may be replaced, and that the new
content appears atomically with the last byte (a broken or cancelled upload leaves the
previous content intact).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tornado import web

from ..http_errors import http_errors
from .models import CONTAINER

if TYPE_CHECKING:  # for the annotation only: the manager imports this module
    from .manager import CS3ContentsManager


class StreamedUpload:
    """One streamed upload: :meth:`feed` the bytes as they come, then :meth:`finish`;
    :meth:`abort` when the sender went away.

    The pieces of the body (64 KiB each, as tornado reads them) are handed over to the
    upload in batches of the client's ``chunk_size``: one hand-over per batch, not per
    piece, and no piece copied."""

    #: batches in flight between the sender and the storage
    QUEUE_BATCHES = 4

    def __init__(self, manager: CS3ContentsManager, path: str, cs3_path: str, length: int, *, replaces: bool) -> None:
        self.manager = manager
        self.path = path
        self.length = length
        self._queue: asyncio.Queue[list[bytes] | None] = asyncio.Queue(self.QUEUE_BATCHES)
        self._pieces: list[bytes] = []  # the batch being gathered
        self._gathered = 0
        self._task = asyncio.ensure_future(
            manager.client.upload(cs3_path, self._chunks(), length, if_not_exist=not replaces)
        )

    @classmethod
    async def open(cls, manager: CS3ContentsManager, path: str, length: int, *, overwrite: bool) -> StreamedUpload:
        """Check that ``path`` (a Jupyter path) may receive ``length`` bytes and open the
        upload. An existing file is replaced only with ``overwrite`` (Lab asks the user
        first); an existing folder never."""
        path = path.strip("/")
        if not path or (not manager.allow_hidden and manager.hidden(path)):
            raise web.HTTPError(400, f"Cannot upload to {path!r}")
        cs3_path = await manager.cs3_path(path)
        existing = await manager.stat(path, "")
        if existing is not None and (existing.type == CONTAINER or not overwrite):
            raise web.HTTPError(409, f"File already exists: {path}")
        return cls(manager, path, cs3_path, length, replaces=existing is not None)

    async def _chunks(self) -> AsyncIterator[bytes]:
        while (pieces := await self._queue.get()) is not None:
            for piece in pieces:
                yield piece

    async def feed(self, piece: bytes) -> None:
        """Take one piece of the body; pass on a batch once one is gathered (waits while
        the storage is behind: back pressure)."""
        if self._task.done():
            return  # the storage refused; finish() reports why
        self._pieces.append(piece)
        self._gathered += len(piece)
        if self._gathered >= self.manager.client.chunk_size:
            await self._pass_on(self._pieces)

    async def _pass_on(self, pieces: list[bytes] | None) -> None:
        """Queue ``pieces`` (None: the end) for the storage, unless the storage refused
        meanwhile (its error follows in :meth:`finish`)."""
        self._pieces, self._gathered = [], 0
        if not self._queue.full():
            self._queue.put_nowait(pieces)
            return
        put = asyncio.ensure_future(self._queue.put(pieces))
        await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()

    async def finish(self) -> dict:
        """Wait for the storage to commit the file; its contents model."""
        if self._pieces and not self._task.done():
            await self._pass_on(self._pieces)
        if not self._task.done():
            await self._pass_on(None)
        with http_errors():
            await self._task
        model = await self.manager.get(self.path, content=False)
        self.manager.emit(data={"action": "save", "path": self.path})
        return model

    def abort(self) -> None:
        """The sender went away: the storage drops the half-written upload."""
        if not self._task.done():
            self._task.cancel()
