"""The one way the storage runs blocking work off the event loop.

Two kinds of blocking work, two entry points, nothing else in the storage starts threads
or calls ``asyncio.to_thread`` / ``run_in_executor`` (``tests/test_storage_listing.py``
holds this on the source):

* :class:`StoreThread` -- the store's namespace and database work (SQLite statements and
  the handful of syscalls of an operation: resolve, stat, list a batch, create, move,
  commit an upload, ...). ONE thread per store runs it, one call at a time, in order:
  the sqlite3 connection is used by that thread only once the storage serves, and each
  call is atomic with respect to the others (as the store's methods were when they ran
  on the event loop), without holding the loop. ``await store.run(fn, *args)``.
* :func:`blocking` -- whole-file work that touches no database: writing and hashing
  upload chunks, fsync, reading download chunks, copying versions, removing trees. Any
  number may run at once in asyncio's default pool (``asyncio.to_thread``), so a big
  hash never delays a ``Stat``.

Long store work is cut into calls by its caller (a listing is read in batches), so that
other clients' calls get their turn in between.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class StoreThread:
    """A single worker thread that runs every call of one store, in order."""

    def __init__(self, name: str = "mesh-zenodo-store"):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._ident: int | None = None
        self._pool.submit(self._remember).result()

    def _remember(self) -> None:
        self._ident = threading.get_ident()

    def on_thread(self) -> bool:
        """True when called from the store's thread."""
        return threading.get_ident() == self._ident

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the store's thread and return its result.

        Cancelling the awaiting task does not interrupt ``fn``: a store call always runs
        to its end (all or nothing), its result is then dropped."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Wait for the call in progress, then stop the thread."""
        self._pool.shutdown(wait=True)


async def blocking(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run whole-file work (no database) in a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)
