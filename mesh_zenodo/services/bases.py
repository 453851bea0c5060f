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

Versions are kept in memory (at most ``max_bytes``; the last :data:`HISTORY` per
document) and the newest :data:`ON_DISK` on this server's disk, so that a Jupyter restart
while a browser holds unsaved edits still merges instead of overwriting: one JSON file per
document under ``directory``, readable only by the user. Binary files keep only their
etag (their content is never merged, only copied aside).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

#: documents remembered on disk (the least recently used are dropped beyond)
MAX_FILES = 500
#: versions of one document remembered in memory
HISTORY = 64
#: of which on disk
ON_DISK = 3


@dataclass
class Base:
    """A version of a document that an editor of this server may be based on."""

    etag: str
    kind: str  # "notebook" | "text" | "binary"
    content: Any  # nbformat dict, str, or None for binary files
    stale: bool = False
    size: int = 0


def _weight(content: Any) -> int:
    if content is None:
        return 64
    if isinstance(content, str):
        return len(content) + 64
    return len(json.dumps(content)) + 64


def _cells(nb: Any) -> dict[str, str]:
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    out = {}
    for i, cell in enumerate(cells):
        source = cell.get("source", "")
        out[str(cell.get("id") or f"#{i}")] = source if isinstance(source, str) else "".join(source)
    return out


def distance(kind: str, a: Any, b: Any) -> int:
    """How far apart two versions are: cells (or lines) in one and not the other."""
    if kind == "notebook":
        ca, cb = _cells(a), _cells(b)
        return sum(1 for k in ca.keys() | cb.keys() if ca.get(k) != cb.get(k))
    la, lb = str(a).splitlines(), str(b).splitlines()
    return len(set(la) ^ set(lb)) + abs(len(la) - len(lb))


def choose_base(history: list[Base], kind: str, ours: Any) -> Base | None:
    """The remembered version ``ours`` most likely started from (see the module doc)."""
    candidates = [b for b in history if b.kind == kind and b.content is not None]
    if not candidates:
        return None
    best, best_d = None, None
    for base in candidates:  # oldest first: a tie keeps the older one
        d = distance(kind, base.content, ours)
        if best_d is None or d < best_d:
            best, best_d = base, d
    return best


class BaseStore:
    """The recent versions of one Jupyter server's documents, by CS3 path."""

    def __init__(self, directory: str | None, max_bytes: int = 64 << 20, namespace: str = "") -> None:
        self.directory = directory
        self.namespace = namespace
        self.max_bytes = max_bytes
        self._memory: OrderedDict[str, list[Base]] = OrderedDict()
        self._bytes = 0

    def _file(self, key: str) -> str | None:
        if not self.directory:
            return None
        name = hashlib.sha256(f"{self.namespace}\0{key}".encode()).hexdigest()
        return os.path.join(self.directory, name + ".json")

    async def history(self, key: str) -> list[Base]:
        """The remembered versions of ``key``, oldest first."""
        versions = self._memory.get(key)
        if versions is not None:
            self._memory.move_to_end(key)
            return list(versions)
        path = self._file(key)
        if path is None:
            return []
        versions = await asyncio.to_thread(_read, path, key)
        if versions:
            self._set(key, versions)
        return list(versions)

    async def latest(self, key: str) -> Base | None:
        versions = await self.history(key)
        return versions[-1] if versions else None

    async def add(self, key: str, base: Base) -> None:
        """Remember one more version of ``key`` (the newest)."""
        versions = [v for v in await self.history(key) if not (v.etag == base.etag and v.content == base.content)]
        versions.append(base)
        self._set(key, versions[-HISTORY:])
        await self._persist(key)

    async def forget(self, key: str) -> None:
        self._drop(key)
        path = self._file(key)
        if path is not None:
            await asyncio.to_thread(_unlink, path)

    async def move(self, old_key: str, new_key: str) -> None:
        """A document renamed on this server keeps its versions."""
        versions = await self.history(old_key)
        if versions:
            await self.forget(old_key)
            self._set(new_key, versions)
            await self._persist(new_key)

    async def _persist(self, key: str) -> None:
        path = self._file(key)
        if path is not None:
            await asyncio.to_thread(_write, path, key, self._memory.get(key, [])[-ON_DISK:], self.directory)

    def _drop(self, key: str) -> None:
        old = self._memory.pop(key, None)
        if old is not None:
            self._bytes -= sum(v.size for v in old)

    def _set(self, key: str, versions: list[Base]) -> None:
        self._drop(key)
        for v in versions:
            v.size = v.size or _weight(v.content)
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
            versions.append(Base(etag=str(item["etag"]), kind=str(item["kind"]), content=item.get("content"),
                                 stale=bool(item.get("stale"))))
        except (KeyError, TypeError):
            continue
    return versions


def _write(path: str, key: str, versions: list[Base], directory: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    data = {"key": key, "versions": [
        {"etag": v.etag, "kind": v.kind, "content": v.content, "stale": v.stale} for v in versions
    ]}
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        _unlink(tmp)
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
        _unlink(entry.path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
