"""What the open documents of this Jupyter server are based on: the merge bases.

A three-way merge needs the version both sides started from. For every notebook or text
file this server loads or saves, :class:`BaseStore` keeps the recent versions it handed
out or wrote (the storage's etag and the content). Several editors may work on one
document through one server (two browser tabs, or scripts, without a live room), each
from the version it loaded; a save therefore picks, among the recent versions, the one
its content is closest to (:func:`choose_base`; on a tie the older one, which can only
add a flagged conflict, never drop an edit) and merges it with what is stored.

After a save that merged another server's edits, the editor (without a live room) still
holds its own version, not the merged file: that version is remembered too (with the
stored etag, *stale*), so that the editor's next save merges again rather than writing
over the merged file.

Versions are kept compact (the content as JSON bytes, and one hash per cell or line to
compare them): a large notebook kept as Python objects, many times over, would make every
garbage collection of the Jupyter server slow. At most :data:`HISTORY` versions per
document and ``max_bytes`` in all are kept in memory, and the newest :data:`ON_DISK` on
this server's disk (written a moment after the last change, off the event loop), so that
a Jupyter restart while a browser holds unsaved edits still merges instead of
overwriting: one JSON file per document under ``directory``, readable only by the user.
Binary files keep only their etag (their content is never merged, only copied aside).

A save whose true base was forgotten (more than :data:`HISTORY` versions of the document
handed out since it was loaded, or the memory limit reached) merges against a version
chosen among those remembered; see docs/collaboration.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..merge import CONFLICT_KEY
from .private_files import unlink_quietly, write_private

#: documents remembered on disk (the least recently used are dropped beyond)
MAX_FILES = 500
#: versions of one document remembered in memory
HISTORY = 64
#: of which on disk
ON_DISK = 2


def fingerprint(kind: str, content: Any) -> dict[Any, int]:
    """What :func:`choose_base` compares: for a notebook, each cell id and a hash of its
    source; for text, each distinct line (hashed) and how often it occurs."""
    out: dict[Any, int] = {}
    if kind == "notebook":
        cells = content.get("cells", []) if isinstance(content, dict) else []
        for i, cell in enumerate(cells):
            source = cell.get("source", "")
            source = source if isinstance(source, str) else "".join(source)
            out[str(cell.get("id") or f"#{i}")] = hash(source)
        return out
    for line in str(content).splitlines():
        key = hash(line)
        out[key] = out.get(key, 0) + 1
    return out


@dataclass(eq=False)
class Base:
    """A version of a document that an editor of this server may be based on."""

    etag: str
    kind: str  # "notebook" | "text" | "binary"
    blob: bytes | None  # the content as JSON (None: binary)
    parts: dict[Any, int]
    stale: bool = False

    @classmethod
    def of(cls, etag: str, kind: str, content: Any, stale: bool = False) -> Base:
        """A version from its content (in a worker thread for large documents)."""
        if kind == "binary" or content is None:
            return cls(etag=etag, kind=kind, blob=None, parts={}, stale=stale)
        blob = json.dumps(content, separators=(",", ":")).encode()
        return cls(etag=etag, kind=kind, blob=blob, parts=fingerprint(kind, content), stale=stale)

    @classmethod
    async def make(cls, etag: str, kind: str, content: Any, stale: bool = False) -> Base:
        return await asyncio.to_thread(cls.of, etag, kind, content, stale)

    @property
    def content(self) -> Any:
        """The content (parsed anew on each call: call it once, off the event loop)."""
        return None if self.blob is None else json.loads(self.blob)

    @property
    def size(self) -> int:
        return 128 + (len(self.blob) if self.blob is not None else 0) + 40 * len(self.parts)

    def same(self, other: Base) -> bool:
        return self.etag == other.etag and self.stale == other.stale and self.blob == other.blob


_ABSENT = object()


def choose_base(history: list[Base], kind: str, ours: Any) -> Base | None:
    """The remembered version ``ours`` started from, judged cell by cell (or line by line):

    * ours *saw* a version when it holds a value that version was the first to have (a
      cell it added or changed): the base is that version or a newer one;
    * a newer version is *ahead* of ours when ours still holds, for some cell, the value an
      older version had and this one changed: ours was loaded before that change, and
      merging with it as base would undo it;
    * of the versions neither ahead nor older than what ours saw, the newest whose changes
      ours still holds (:func:`_keeps`) is the base; else the oldest of them: an older base
      than the true one can only flag a conflict, never lose an edit."""
    candidates = [b for b in history if b.kind == kind and b.blob is not None]
    if not candidates:
        return None
    mine = fingerprint(kind, ours)
    older: dict[Any, set] = {}
    lower, ahead = 0, []
    for i, base in enumerate(candidates):
        parts = base.parts
        keys = older.keys() | parts.keys() | mine.keys()
        saw = i > 0 and any(
            mine.get(k, _ABSENT) == parts.get(k, _ABSENT) and parts.get(k, _ABSENT) not in older.get(k, {_ABSENT})
            for k in keys
        )
        if saw:
            lower = i
        ahead.append(any(
            mine.get(k, _ABSENT) in values and mine.get(k, _ABSENT) != parts.get(k, _ABSENT)
            for k, values in older.items()
        ))
        for k in older.keys() | parts.keys():
            older.setdefault(k, {_ABSENT} if i else set()).add(parts.get(k, _ABSENT))
    floor = candidates[lower]
    for i in range(len(candidates) - 1, lower, -1):
        if not ahead[i] and _keeps(kind, ours, mine, candidates[i], floor):
            return candidates[i]
    return floor


def _sources(content: Any, side: str | None = None) -> dict[str, str]:
    """Each cell's source by id (only the cells a merge flagged as ``side``, if given)."""
    cells = content.get("cells", []) if isinstance(content, dict) else []
    out = {}
    for i, cell in enumerate(cells):
        if side is not None:
            flag = ((cell.get("metadata") or {}).get(CONFLICT_KEY) or {}).get("conflict") or {}
            if flag.get("side") != side:
                continue
        source = cell.get("source", "")
        out[str(cell.get("id") or f"#{i}")] = source if isinstance(source, str) else "".join(source)
    return out


def _subsequence(small: str, big: str) -> bool:
    """Whether ``big`` has every character of ``small``, in order (``big`` only added)."""
    it = iter(big)
    return all(ch in it for ch in small)


def _keeps(kind: str, ours: Any, mine: dict, base: Base, oldest: Base) -> bool:
    """Whether ``ours`` was plausibly edited from ``base``: wherever ``base`` changed
    something since ``oldest`` and ours differs from it, ours still holds all of base's
    text there (the editor typed on top of it). A change of base's that ours lacks means
    ours started before it: base is too new."""
    changed = [
        k for k in mine.keys() | base.parts.keys()
        if mine.get(k, _ABSENT) != base.parts.get(k, _ABSENT)
        and base.parts.get(k, _ABSENT) != oldest.parts.get(k, _ABSENT)
    ]
    if not changed:
        return True
    if kind == "notebook":
        a, b = _sources(ours), _sources(base.content)
        # a merge keeps their version of a conflicting cell next to ours, flagged
        kept_theirs = set(_sources(ours, side="theirs").values())
        return all(k in b and (_subsequence(b[k], a.get(k, "")) or b[k] in kept_theirs) for k in changed)
    ours_counts = fingerprint("text", ours)
    missing = {k for k in changed if k in base.parts and ours_counts.get(k, 0) < base.parts[k]}
    if not missing:
        return True
    # base's lines that ours lacks: kept if ours has each of them typed on (a line of ours
    # holding all of its characters, in order)
    ours_lines = [line for line in str(ours).splitlines() if hash(line) not in base.parts]
    return all(
        any(_subsequence(line, candidate) for candidate in ours_lines)
        for line in str(base.content).splitlines() if hash(line) in missing
    )


class BaseStore:
    """The recent versions of one Jupyter server's documents, by CS3 path."""

    def __init__(
        self, directory: str | None, max_bytes: int = 64 << 20, namespace: str = "", persist_delay: float = 2.0
    ) -> None:
        self.directory = directory
        self.persist_delay = persist_delay
        self.namespace = namespace
        self.max_bytes = max_bytes
        self._memory: OrderedDict[str, list[Base]] = OrderedDict()
        self._bytes = 0
        self._writing: set[str] = set()
        self._dirty: set[str] = set()
        self._tasks: set[asyncio.Future] = set()
        self._lock = asyncio.Lock()

    def _file(self, key: str) -> str | None:
        if not self.directory:
            return None
        name = hashlib.sha256(f"{self.namespace}\0{key}".encode()).hexdigest()
        return os.path.join(self.directory, name + ".json")

    async def history(self, key: str) -> list[Base]:
        """The remembered versions of ``key``, oldest first."""
        async with self._lock:
            return await self._history(key)

    async def _history(self, key: str) -> list[Base]:
        versions = self._memory.get(key)
        if versions is not None:
            self._memory.move_to_end(key)
            return list(versions)
        path = self._file(key)
        versions = await asyncio.to_thread(_read, path, key) if path is not None else []
        self._set(key, versions)
        return list(versions)

    async def latest(self, key: str) -> Base | None:
        versions = await self.history(key)
        return versions[-1] if versions else None

    async def add(self, key: str, base: Base) -> None:
        """Remember one more version of ``key`` (the newest)."""
        async with self._lock:  # two loads at once must both be remembered
            versions = [v for v in await self._history(key) if not v.same(base)]
            versions.append(base)
            self._set(key, versions[-HISTORY:])
        await self._persist(key)

    async def forget(self, key: str) -> None:
        self._drop(key)
        path = self._file(key)
        if path is not None:
            await self.flush()
            await asyncio.to_thread(unlink_quietly, path)

    async def move(self, old_key: str, new_key: str) -> None:
        """A document renamed on this server keeps its versions."""
        versions = await self.history(old_key)
        if versions:
            await self.forget(old_key)
            async with self._lock:
                self._set(new_key, versions)
            await self._persist(new_key)

    async def _persist(self, key: str) -> None:
        """Write the newest versions of ``key`` to disk, behind the caller's back (one
        write at a time per document; a burst of saves ends with one more write)."""
        if self._file(key) is None:
            return
        if key in self._writing:
            self._dirty.add(key)
            return
        self._writing.add(key)
        task = asyncio.ensure_future(self._write_behind(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_behind(self, key: str) -> None:
        try:
            while True:
                # a burst of loads and saves (autosave, several editors) ends in one write
                await asyncio.sleep(self.persist_delay)
                self._dirty.discard(key)
                path = self._file(key)
                versions = self._memory.get(key, [])[-ON_DISK:]
                if path is None or not versions:
                    return
                await asyncio.to_thread(_write, path, key, versions, self.directory)
                if key not in self._dirty:
                    return
        finally:
            self._writing.discard(key)

    async def flush(self) -> None:
        """Write now what is waiting to be written (at shutdown, and before a file is
        removed): cancel the delayed writes and do them."""
        keys = self._writing | self._dirty
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._dirty.clear()
        for key in keys:
            path = self._file(key)
            versions = self._memory.get(key, [])[-ON_DISK:]
            if path is not None and versions:
                await asyncio.to_thread(_write, path, key, versions, self.directory)

    def _drop(self, key: str) -> None:
        old = self._memory.pop(key, None)
        if old is not None:
            self._bytes -= sum(v.size for v in old)

    def _set(self, key: str, versions: list[Base]) -> None:
        self._drop(key)
        self._memory[key] = versions
        self._bytes += sum(v.size for v in versions)
        while self._bytes > self.max_bytes and len(self._memory) > 1:
            _, dropped = self._memory.popitem(last=False)
            self._bytes -= sum(v.size for v in dropped)


def _read(path: str, key: str) -> list[Base]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("versions"), list):
        return []
    versions = []
    for item in data["versions"]:
        try:
            versions.append(Base.of(str(item["etag"]), str(item["kind"]), item.get("content"), bool(item.get("stale"))))
        except (KeyError, TypeError, AttributeError):
            continue
    return versions


def _write(path: str, key: str, versions: list[Base], directory: str) -> None:
    # the contents are JSON already: spliced in, not parsed and serialised again
    parts = [b'{"key":' + json.dumps(key).encode() + b',"versions":[']
    for i, v in enumerate(versions):
        head = {"etag": v.etag, "kind": v.kind, "stale": v.stale}
        parts.append((b"," if i else b"") + json.dumps(head).encode()[:-1] + b',"content":')
        parts.append((v.blob if v.blob is not None else b"null") + b"}")
    parts.append(b"]}")
    try:
        write_private(path, b"".join(parts))
    except OSError:
        return
    _prune(directory)


def _prune(directory: str) -> None:
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(".json")]
        if len(entries) <= MAX_FILES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime)
    except OSError:
        return
    for entry in entries[: len(entries) - MAX_FILES]:
        unlink_quietly(entry.path)

