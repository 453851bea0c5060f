"""A ZIP archive written as a stream, of a size known before the first byte.

Zenodo takes plain uploads of a declared length; a folder's subfolders go there as ZIP
archives. :class:`ZipStream` never holds a member (or the archive) in memory or on disk:
each member is read once, as a stream, into the archive. Members are *stored* (not
compressed: notebooks and data are compressed at rest on Zenodo's side, and only stored
members give a length known in advance), with their CRC-32 and sizes in a data
descriptor after the data (general purpose flag bit 3) and in the central directory.
ZIP64 records are used for members or offsets beyond 4 GiB. Names are UTF-8 (bit 11).

The archive's length is computed from the members' names and sizes (:attr:`size`), and
the stream always has that length: a member that yields more or fewer bytes than declared
(it changed meanwhile) is cut or padded and listed in :attr:`problems`, for the caller to
discard the upload (failing the stream half-way would leave the receiving server waiting
for the bytes it was promised). Every member's MD5 is computed on the way (``md5``).
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

#: one member's bytes: an async context manager giving an async iterator of chunks
Opener = Callable[[], AbstractAsyncContextManager[AsyncIterator[bytes]]]

_LIMIT = 0xFFFFFFFF
_FLAGS = 0x0008 | 0x0800  # data descriptor, UTF-8 names
#: chunks at least this big are hashed in a worker thread, off the event loop
_HASH_IN_THREAD = 256 << 10


@dataclass
class ZipMember:
    name: str  # the path inside the archive ("sub/dir/file.csv")
    size: int
    open: Opener
    mtime: float = 0.0
    md5: str | None = field(default=None, init=False)
    crc: int = field(default=0, init=False)
    offset: int = field(default=0, init=False)

    @property
    def encoded(self) -> bytes:
        return self.name.encode("utf-8")

    @property
    def zip64(self) -> bool:
        return self.size >= _LIMIT


def _dos_time(moment: float) -> tuple[int, int]:
    t = time.gmtime(max(moment, 315532800))  # the DOS epoch is 1980
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday


def _local_header_size(m: ZipMember) -> int:
    return 30 + len(m.encoded) + (20 if m.zip64 else 0)


def _descriptor_size(m: ZipMember) -> int:
    return 24 if m.zip64 else 16


def _central_extra(m: ZipMember) -> bytes:
    values = []
    if m.zip64:
        values += [m.size, m.size]
    if m.offset >= _LIMIT:
        values.append(m.offset)
    if not values:
        return b""
    return struct.pack("<HH", 0x0001, 8 * len(values)) + struct.pack(f"<{len(values)}Q", *values)


class ZipStream:
    """A stored ZIP of ``members``, streamed by :meth:`chunks`, ``size`` bytes long."""

    def __init__(self, members: list[ZipMember]) -> None:
        names = [m.name for m in members]
        if len(set(names)) != len(names):
            raise ValueError("two members of one archive have the same name")
        self.members = members
        offset = 0
        for m in members:
            m.offset = offset
            offset += _local_header_size(m) + m.size + _descriptor_size(m)
        self._central_offset = offset
        self._central_size = sum(46 + len(m.encoded) + len(_central_extra(m)) for m in members)
        end = self._central_offset + self._central_size
        self._zip64_end = len(members) >= 0xFFFF or self._central_offset >= _LIMIT or self._central_size >= _LIMIT
        self.size = end + (56 + 20 if self._zip64_end else 0) + 22
        #: members that did not have their declared size (the archive is then unusable)
        self.problems: list[str] = []

    async def chunks(self) -> AsyncIterator[bytes]:
        """The archive, member after member, exactly :attr:`size` bytes."""
        for m in self.members:
            yield self._local_header(m)
            crc, digest, count = 0, hashlib.md5(), 0
            async with m.open() as chunks:
                async for chunk in chunks:
                    if count + len(chunk) > m.size:
                        chunk = chunk[: m.size - count]
                        if f"{m.name} grew while it was being archived" not in self.problems:
                            self.problems.append(f"{m.name} grew while it was being archived")
                    if not chunk:
                        continue
                    count += len(chunk)
                    if len(chunk) >= _HASH_IN_THREAD:
                        crc = await asyncio.to_thread(zlib.crc32, chunk, crc)
                        await asyncio.to_thread(digest.update, chunk)
                    else:
                        crc = zlib.crc32(chunk, crc)
                        digest.update(chunk)
                    yield chunk
            if count < m.size:
                self.problems.append(f"{m.name} has {count} bytes, not the {m.size} it had at the snapshot")
                while count < m.size:
                    pad = b"\0" * min(1 << 20, m.size - count)
                    count += len(pad)
                    yield pad
            m.crc, m.md5 = crc, digest.hexdigest()
            yield self._descriptor(m)
        yield b"".join(self._central(m) for m in self.members)
        yield self._end()

    def _local_header(self, m: ZipMember) -> bytes:
        mod_time, mod_date = _dos_time(m.mtime)
        extra = struct.pack("<HHQQ", 0x0001, 16, 0, 0) if m.zip64 else b""
        sizes = _LIMIT if m.zip64 else 0
        return struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 45 if m.zip64 else 20, _FLAGS, 0, mod_time, mod_date, 0, sizes, sizes,
            len(m.encoded), len(extra),
        ) + m.encoded + extra

    @staticmethod
    def _descriptor(m: ZipMember) -> bytes:
        if m.zip64:
            return struct.pack("<IIQQ", 0x08074B50, m.crc, m.size, m.size)
        return struct.pack("<IIII", 0x08074B50, m.crc, m.size, m.size)

    @staticmethod
    def _central(m: ZipMember) -> bytes:
        mod_time, mod_date = _dos_time(m.mtime)
        extra = _central_extra(m)
        size = _LIMIT if m.zip64 else m.size
        offset = _LIMIT if m.offset >= _LIMIT else m.offset
        needed = 45 if extra else 20
        return struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 45, needed, _FLAGS, 0, mod_time, mod_date, m.crc, size, size,
            len(m.encoded), len(extra), 0, 0, 0, (0o100644 << 16), offset,
        ) + m.encoded + extra

    def _end(self) -> bytes:
        count = len(self.members)
        out = b""
        if self._zip64_end:
            end64 = self._central_offset + self._central_size
            out += struct.pack(
                "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, self._central_size, self._central_offset
            )
            out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
        return out + struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
            min(self._central_size, _LIMIT), min(self._central_offset, _LIMIT), 0,
        )
