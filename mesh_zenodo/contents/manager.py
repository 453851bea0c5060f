"""CS3ContentsManager: Jupyter's contents API on a CS3 storage.

Every file operation Lab makes (open, save, autosave, rename, move, delete, new, copy,
download, chunked upload, checkpoints) goes to the CS3 gateway and its data gateway
through :class:`~mesh_zenodo.cs3.client.CS3Client`. The answers follow jupyter_server's
own ``AsyncFileContentsManager`` (same models, same 400/404/409 cases); where that
manager would answer 500 (a missing parent folder, a storage failure) this one answers
with the CS3 error's 4xx/5xx status and message.

Checkpoints are CS3 file versions: the storage keeps the previous content on every
write, so "create checkpoint" costs nothing and "revert" restores a version.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import mimetypes
import posixpath
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from jupyter_server.services.contents.manager import AsyncContentsManager, copy_pat
from tornado import web
from traitlets import Instance, Int, Unicode, default

from ..cs3 import errors
from ..cs3.client import CS3Client, TusUpload
from ..http_errors import http_errors
from ..services.documents import DocumentService
from ..services.presence import PresenceService
from .checkpoints import CS3Checkpoints
from .models import CONTAINER, decode, encode, model_from_info
from .upload import StreamedUpload

#: a file name extension: a dot and a name (no separators, NUL, or dot-only names)
EXTENSION_RE = re.compile(r"\.(?!\.*$)[^/\\\x00]{1,64}")
#: how long an unfinished chunked upload is remembered (Lab sends chunks back to back)
UPLOAD_IDLE_SECONDS = 3600
#: the Jupyter event a merging save emits (schema: mesh_zenodo/events/merge.yaml)
MERGE_EVENT = "https://mesh-zenodo.readthedocs.io/events/merge/v1"
MERGE_EVENT_SCHEMA = Path(__file__).resolve().parent.parent / "events" / "merge.yaml"
#: the ``/files/`` handler: a REST handler, named here by import string as jupyter_server
#: names its own configurable classes (the contents layer does not import the REST layer)
FILES_HANDLER = "mesh_zenodo.rest.files.CS3FilesHandler"


def _parse_notebook(raw: bytes, validation_error: dict):
    """Decode, parse and validate a notebook (in a worker thread: large ones take a while)."""
    return nbformat.reads(raw.decode("utf8"), as_version=4, capture_validation_error=validation_error)


def _plain_copy(nb) -> dict:
    """A plain JSON copy of a notebook without Jupyter's ``trusted`` cell flags (the base
    must not change with the editor's model, and the flags are never stored)."""
    copy = json.loads(json.dumps(nb))
    _take_trust(copy)
    return copy


def _take_trust(nb: dict) -> dict:
    """Remove the ``trusted`` flags Jupyter adds to cells it hands out (the stored file
    never has them: they would look like an edit to every cell), by cell id."""
    trust = {}
    for i, cell in enumerate(nb.get("cells") or []):
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        if isinstance(metadata, dict) and "trusted" in metadata:
            trust[cell.get("id") or i] = metadata.pop("trusted")
    return trust


async def _encode_text(text: str) -> bytes:
    return text.encode("utf8")


async def _decode_text(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf8")
    except UnicodeDecodeError:
        raise web.HTTPError(409, f"{path} is no longer text on the storage; save a copy instead") from None


def _looks_like_text(path: str, info: spr.ResourceInfo) -> bool:
    guessed = mimetypes.guess_type(path)[0] or ""
    return guessed.startswith("text/") or guessed in ("application/json", "application/javascript") or (
        not guessed and info.size < (8 << 20)
    )


async def _identity(data: bytes) -> bytes:
    return data


class CS3ContentsManager(AsyncContentsManager):
    """Jupyter contents on a CS3 storage (Reva or the embedded one)."""

    client = Instance(CS3Client, help="The CS3 connection; configured as c.CS3Client.*")

    @default("client")
    def _default_client(self) -> CS3Client:
        return CS3Client(parent=self, log=self.log)

    documents = Instance(DocumentService, help="Locked, merging saves; configured as c.DocumentService.*")

    @default("documents")
    def _default_documents(self) -> DocumentService:
        return DocumentService(self.client, parent=self, log=self.log, max_open_size=self.max_open_size)

    presence = Instance(PresenceService, help="Who else has a document open; configured as c.PresenceService.*")

    @default("presence")
    def _default_presence(self) -> PresenceService:
        return PresenceService(self.client, parent=self, log=self.log)

    root_path = Unicode(
        "",
        config=True,
        help="The CS3 path that Lab's file browser shows as its root. Default: the user's home (GetHome).",
    )
    max_open_size = Int(
        256 << 20,
        config=True,
        help="Largest file (bytes) opened into Lab's editor; larger files are downloaded, not opened.",
    )

    @default("checkpoints_class")
    def _checkpoints_class_default(self):
        return CS3Checkpoints

    @default("files_handler_class")
    def _files_handler_class_default(self):
        return FILES_HANDLER

    @default("files_handler_params")
    def _files_handler_params_default(self):
        return {}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._uploads: dict[str, tuple[TusUpload, float]] = {}
        self._root: str | None = None

    # ------------------------------------------------------------------ paths

    async def cs3_path(self, path: str) -> str:
        """The CS3 path of a Jupyter API path. A path is names joined by ``/``: a NUL, a
        lone surrogate, or a ``.`` or ``..`` segment is refused with 400 (never resolved
        as text, which would reach another folder than the one named)."""
        if not isinstance(path, str):
            raise web.HTTPError(400, "Invalid path: it must be a string")
        if "\0" in path:
            raise web.HTTPError(400, "Invalid path: it contains a NUL character")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            raise web.HTTPError(400, "Invalid path: it is not valid text (a lone surrogate)") from None
        segments = [segment for segment in path.split("/") if segment]
        if any(segment in (".", "..") for segment in segments):
            raise web.HTTPError(400, f"Invalid path {path[:200]!r}: '.' and '..' are not names of files or folders")
        normalized = "/".join(segments)
        if self._root is None:
            with http_errors():
                self._root = (self.root_path or await self.client.get_home()).rstrip("/") or "/"
        return posixpath.join(self._root, normalized) if normalized else self._root

    def api_path(self, cs3_path: str) -> str | None:
        """The Jupyter path of a CS3 path under this manager's root (None when outside)."""
        root = self._root
        if root is None or not cs3_path:
            return None
        if cs3_path == root:
            return ""
        prefix = root.rstrip("/") + "/"
        return cs3_path[len(prefix):] if cs3_path.startswith(prefix) else None

    def with_api_path(self, described: dict) -> dict:
        """A share (or anything with a ``resource``) with the resource's Jupyter path."""
        resource = described.get("resource")
        if resource:
            resource["api_path"] = self.api_path(resource.get("path", ""))
        return described

    @staticmethod
    def hidden(path: str) -> bool:
        """Whether a Jupyter path has a hidden (dot) segment, as jupyter_server judges it."""
        return any(part.startswith(".") for part in path.strip("/").split("/") if part not in ("", ".", ".."))

    async def stat(self, path: str, four_o_four: str) -> spr.ResourceInfo | None:
        """The CS3 ResourceInfo of a Jupyter path. When there is none: a 404 with the
        message ``four_o_four``, or None if that message is empty."""
        cs3 = await self.cs3_path(path)
        with http_errors():
            try:
                return await self.client.stat(cs3)
            except errors.NotFound:
                if four_o_four:
                    raise web.HTTPError(404, four_o_four) from None
                return None

    # ------------------------------------------------------------------ existence

    async def dir_exists(self, path: str) -> bool:
        info = await self.stat(path, "")
        return info is not None and info.type == CONTAINER

    async def file_exists(self, path: str = "") -> bool:
        info = await self.stat(path, "")
        return info is not None and info.type != CONTAINER

    async def exists(self, path: str) -> bool:
        return await self.stat(path, "") is not None

    async def is_hidden(self, path: str) -> bool:
        if not isinstance(path, str):  # jupyter_server passes a model's "path" as it came
            raise web.HTTPError(400, "Invalid path: it must be a string")
        return self.hidden(path)

    # ------------------------------------------------------------------ models

    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        path = path.strip("/")
        info = await self.stat(path, f"No such file or directory: {path}")
        if not self.allow_hidden and self.hidden(path):
            self.log.info("Refusing to serve hidden file or directory %r, via 404 Error", path)
            raise web.HTTPError(404, f"file or directory does not exist: {path!r}")
        if info.type == CONTAINER:
            if type not in (None, "directory"):
                raise web.HTTPError(400, f"{path} is a directory, not a {type}", reason="bad type")
            model = await self._dir_model(path, info, content)
        else:
            if type == "directory":
                raise web.HTTPError(400, f"{path} is not a directory", reason="bad type")
            model = model_from_info(path, info, type)
            raw = None
            if content:
                raw = await self._read(path)
                if model["type"] == "notebook":
                    await self._fill_notebook(model, raw, path)
                else:
                    content, format = await asyncio.to_thread(encode, raw, format, path)
                    if model["mimetype"] is None:
                        model["mimetype"] = {"text": "text/plain", "base64": "application/octet-stream"}[format]
                    model.update(content=content, format=format)
                await self._loaded(path, info, model)
            if require_hash:
                model.update(await self._hash(path, info, raw))
        self.emit(data={"action": "get", "path": path})
        return model

    async def _dir_model(self, path: str, info: spr.ResourceInfo, content: bool) -> dict:
        model = model_from_info(path, info)
        if content:
            with http_errors():
                children = await self.client.list_container(await self.cs3_path(path))
            # thousands of models take a while to build: off the event loop
            model["content"] = await asyncio.to_thread(self._listing, path, children)
            model["format"] = "json"
        return model

    def _listing(self, path: str, children) -> list[dict]:
        listing = []
        for child in children:
            name = child.name or posixpath.basename(child.path)
            if not self.should_list(name) or (not self.allow_hidden and name.startswith(".")):
                continue
            listing.append(model_from_info(f"{path}/{name}" if path else name, child))
        return listing

    async def _read(self, path: str) -> bytes:
        with http_errors():
            return await self.client.read_bytes(await self.cs3_path(path), max_size=self.max_open_size)

    async def _fill_notebook(self, model: dict, raw: bytes, path: str) -> None:
        validation_error: dict = {}
        try:
            # parsing and validating a large notebook takes a while: off the event loop
            nb = await asyncio.to_thread(_parse_notebook, raw, validation_error)
        except Exception as e:
            raise web.HTTPError(400, f"Unreadable Notebook: {path} {e!r}") from e
        self.mark_trusted_cells(nb, path)
        model["content"] = nb
        model["format"] = "json"
        self.validate_notebook_model(model, validation_error)

    async def _hash(self, path: str, info: spr.ResourceInfo, raw: bytes | None) -> dict:
        """The storage's checksum when it has one; else an MD5 computed while streaming."""
        if info.checksum.sum and info.checksum.type == spr.RESOURCE_CHECKSUM_TYPE_MD5:
            return {"hash": info.checksum.sum.lower(), "hash_algorithm": "md5"}
        digest = hashlib.md5()
        if raw is not None:
            await asyncio.to_thread(digest.update, raw)
        else:
            with http_errors():
                async with self.client.download(await self.cs3_path(path)) as (_, chunks):
                    async for chunk in chunks:
                        await asyncio.to_thread(digest.update, chunk)
        return {"hash": digest.hexdigest(), "hash_algorithm": "md5"}

    # ------------------------------------------------------------------ save

    async def save(self, model, path=""):
        path = path.strip("/")
        chunk = model.get("chunk", None)
        if chunk is not None:
            return await self._save_chunk(model, path, chunk)

        self.run_pre_save_hooks(model=model, path=path)
        if "type" not in model:
            raise web.HTTPError(400, "No file type provided")
        if "content" not in model and model["type"] != "directory":
            raise web.HTTPError(400, "No file content provided")
        cs3 = await self.cs3_path(path)
        if not path:
            raise web.HTTPError(400, "Cannot save over the root folder")

        validation_error: dict = {}
        result = None
        with http_errors():
            async with self._explain_refused_write(cs3, path):
                if model["type"] == "notebook":
                    if not isinstance(model["content"], dict):
                        raise web.HTTPError(400, f"Invalid notebook content for {path}: not a notebook")
                    try:
                        ours = await asyncio.to_thread(nbformat.from_dict, model["content"])
                    except Exception as e:
                        raise web.HTTPError(400, f"Invalid notebook content for {path}: {e}") from e
                    trust = _take_trust(ours)
                    result = await self.documents.save(
                        cs3, "notebook", ours,
                        lambda nb: self._encode_notebook(nb, path, validation_error, trust),
                        lambda raw: self._decode_notebook(raw, path),
                    )
                elif model["type"] == "file":
                    data = await asyncio.to_thread(decode, model["content"], model.get("format"), path)
                    if model.get("format") == "text":
                        result = await self.documents.save(
                            cs3, "text", model["content"], _encode_text, lambda raw: _decode_text(raw, path)
                        )
                    else:
                        result = await self.documents.save(cs3, "binary", data, _identity, _identity)
                elif model["type"] == "directory":
                    await self._save_directory(cs3, path)
                else:
                    raise web.HTTPError(400, f"Unhandled contents type: {model['type']}")

        message = None
        if model["type"] == "notebook":
            self.validate_notebook_model(model, validation_error=validation_error)
            message = model.get("message")
        saved = await self.get(path, content=False)
        if message:
            saved["message"] = message
        merge = result.to_json() if result is not None else None
        if merge is not None:
            if merge.get("conflict_copy"):
                merge["conflict_copy"] = self.api_path(merge["conflict_copy"])
            saved["merge"] = merge
            self.announce_merge(path, merge)
        self.emit(data={"action": "save", "path": path})
        return saved

    def announce_merge(self, path: str, merge: dict) -> None:
        """Tell the log and the front ends (Jupyter's event stream) what a save merged."""
        summary = merge.get("summary") or (
            f"your version was saved as {merge['conflict_copy']}" if merge.get("conflict_copy") else "merged"
        )
        self.log.info("Saved %s: %s", path, summary)
        if MERGE_EVENT not in self.event_logger.schemas.schema_ids:
            return  # the extension is not loaded (a bare contents manager)
        data = {"path": path, "summary": summary, "by": (merge.get("by") or {}).get("name", ""),
                "conflicts": len(merge.get("conflicts") or [])}
        if merge.get("conflict_copy"):
            data["conflict_copy"] = merge["conflict_copy"]
        self.event_logger.emit(schema_id=MERGE_EVENT, data=data)

    async def _encode_notebook(self, nb, path: str, validation_error: dict, trust: dict | None = None) -> bytes:
        """The bytes of a notebook, signed when every code cell the editor had was trusted."""
        try:
            nb = await asyncio.to_thread(nbformat.from_dict, nb)
            for i, cell in enumerate(nb.get("cells") or []):
                key = cell.get("id") or i
                if trust and key in trust:
                    cell.setdefault("metadata", {})["trusted"] = trust[key]
            self.check_and_sign(nb, path)  # the notary's database belongs to this thread
            raw = await asyncio.to_thread(
                nbformat.writes, nb, version=nbformat.NO_CONVERT, capture_validation_error=validation_error
            )
        except Exception as e:
            raise web.HTTPError(400, f"Invalid notebook content for {path}: {e}") from e
        # as nbformat.write does: the file ends with a newline
        return (raw if raw.endswith("\n") else raw + "\n").encode("utf8")

    async def _decode_notebook(self, raw: bytes, path: str):
        try:
            return await asyncio.to_thread(_parse_notebook, raw, {})
        except Exception as e:
            raise web.HTTPError(400, f"Unreadable Notebook: {path} {e!r}") from e

    def _codec(self, path: str) -> tuple[str, object, object]:
        """How a document of ``path`` is merged: its kind, encoder and decoder."""
        if path.endswith(".ipynb"):
            return (
                "notebook",
                lambda nb: self._encode_notebook(nb, path, {}),
                lambda raw: self._decode_notebook(raw, path),
            )
        return "text", _encode_text, lambda raw: _decode_text(raw, path)

    async def work_on_copy(self, path: str) -> str:
        """A conflict copy of a locked file, next to it; returns its Jupyter path."""
        info = await self.stat(path, f"No such file: {path}")
        if info.type == CONTAINER:
            raise web.HTTPError(400, f"{path} is a folder: only files get a conflict copy")
        kind, _, decode = self._codec(path)
        if kind == "text" and not _looks_like_text(path, info):
            kind = "binary"
        with http_errors():
            copy = await self.documents.work_on_copy(await self.cs3_path(path), kind, decode)
        api = self.api_path(copy)
        self.emit(data={"action": "copy", "path": api, "source_path": path})
        return api

    async def merge_copy_back(self, copy_path: str) -> dict:
        """Merge a conflict copy into its original; the copy goes to the recycle bin."""
        await self.stat(copy_path, f"No such file: {copy_path}")
        cs3 = await self.cs3_path(copy_path)
        with http_errors():
            origin = await self.documents.copy_origin(cs3)
            original_api = self.api_path(origin["path"]) if origin else None
            if original_api is None:
                original_api = copy_path  # refused below with a clear message
            _, encode, decode = self._codec(original_api)
            original, result = await self.documents.merge_copy_back(cs3, encode, decode)
        api = self.api_path(original)
        self.emit(data={"action": "save", "path": api})
        self.emit(data={"action": "delete", "path": copy_path})
        unchanged = {"merged": True, "conflicts": [], "changes": [],
                     "summary": f"the copy's changes were saved into {posixpath.basename(original)} (it had not changed)"}
        return {"path": api, "merge": result.to_json() or unchanged}

    async def _loaded(self, path: str, info: spr.ResourceInfo, model: dict) -> None:
        """Remember what the editor was given: the base of its next save's merge."""
        if model["type"] == "notebook":
            kind, content = "notebook", await asyncio.to_thread(_plain_copy, model["content"])
        elif model.get("format") == "text":
            kind, content = "text", model["content"]
        else:
            kind, content = "binary", None
        await self.documents.loaded(await self.cs3_path(path), info.etag, kind, content)

    @contextlib.asynccontextmanager
    async def _explain_refused_write(self, cs3: str, path: str):
        """A refused write in a share says why, in the user's terms: "you have view
        access to this share" rather than the storage's "permission denied"."""
        try:
            yield
        except errors.PermissionDenied as err:
            info = await self.client.exists(cs3) or await self.client.exists(posixpath.dirname(cs3))
            perms = info.permission_set if info is not None else None
            if perms is not None and perms.initiate_file_download and not perms.initiate_file_upload:
                raise web.HTTPError(
                    403, f"Cannot save {path}: you have view access to this share. Ask its owner for edit "
                    "access, or save a copy in your own files."
                ) from None
            raise err

    async def _save_directory(self, cs3: str, path: str) -> None:
        if not self.allow_hidden and self.hidden(path):
            raise web.HTTPError(400, f"Cannot create hidden directory {path!r}")
        info = await self.client.exists(cs3)
        if info is None:
            await self.client.create_container(cs3)
        elif info.type != CONTAINER:
            raise web.HTTPError(400, f"Not a directory: {path}")

    async def _save_chunk(self, model: dict, path: str, chunk: int) -> dict:
        """Lab's chunked upload (files over 1 MiB): each chunk is appended on the
        storage over tus; the file appears, atomically, when chunk -1 arrives."""
        if chunk == 1:
            self.run_pre_save_hooks(model=model, path=path)
        if model.get("type") != "file":
            raise web.HTTPError(
                400, f'File type "{model.get("type")}" is not supported for large file transfer'
            )
        if "content" not in model:
            raise web.HTTPError(400, "No file content provided")
        data = await asyncio.to_thread(decode, model["content"], model.get("format"), path)
        cs3 = await self.cs3_path(path)
        self._forget_idle_uploads()
        last = chunk == -1
        with http_errors():
            entry = self._uploads.pop(path, None)
            if chunk == 1 or (entry is None and last):
                upload = await self.client.start_tus_upload(cs3)
            elif entry is None:
                raise web.HTTPError(
                    400, f"Upload of {path} was interrupted (chunk {chunk} arrived without its predecessors); upload it again"
                )
            else:
                upload = entry[0]
            await self.client.append_tus_upload(upload, data, last=last)
        if not last:
            self._uploads[path] = (upload, time.monotonic())
            # the file is not visible until the last chunk: describe the upload so far
            now = datetime.now(tz=timezone.utc)
            return {
                "name": path.rsplit("/", 1)[-1], "path": path, "type": "file", "format": None,
                "content": None, "mimetype": mimetypes.guess_type(path)[0], "size": upload.offset,
                "last_modified": now, "created": now, "writable": True, "hash": None, "hash_algorithm": None,
            }
        saved = await self.get(path, content=False)
        self.emit(data={"action": "save", "path": path})
        return saved

    async def new_untitled(self, path="", type="", ext=""):
        """As jupyter_server's, but an extension is ``.`` and a name, nothing else: not a
        path (``/../x``), not a NUL or a lone surrogate."""
        if ext:
            if not isinstance(ext, str) or not EXTENSION_RE.fullmatch(ext):
                raise web.HTTPError(400, f"Invalid extension {str(ext)[:100]!r}: a '.' and a name, such as '.py'")
            try:
                ext.encode("utf-8")
            except UnicodeEncodeError:
                raise web.HTTPError(400, "Invalid extension: it is not valid text (a lone surrogate)") from None
        return await super().new_untitled(path=path, type=type, ext=ext)

    async def open_streamed_upload(self, path: str, length: int, *, overwrite: bool) -> StreamedUpload:
        """A raw byte stream of ``length`` bytes into ``path`` (see :mod:`.upload`)."""
        return await StreamedUpload.open(self, path, length, overwrite=overwrite)

    def _forget_idle_uploads(self) -> None:
        cutoff = time.monotonic() - UPLOAD_IDLE_SECONDS
        for key in [k for k, (_, t) in self._uploads.items() if t < cutoff]:
            del self._uploads[key]

    # ------------------------------------------------------------------ delete, rename, copy

    async def delete_file(self, path):
        path = path.strip("/")
        if not self.allow_hidden and self.hidden(path):
            raise web.HTTPError(400, f"Cannot delete file or directory {path!r}")
        info = await self.stat(path, f"File or directory does not exist: {path}")
        if not info.permission_set.delete:
            raise web.HTTPError(403, f"Permission denied: {path}")
        with http_errors():
            # the storage moves it to the recycle bin, like delete_to_trash
            await self.client.delete(await self.cs3_path(path))

    async def rename_file(self, old_path, new_path):
        old_path, new_path = old_path.strip("/"), new_path.strip("/")
        if new_path == old_path:
            return
        if not self.allow_hidden and (self.hidden(old_path) or self.hidden(new_path)):
            raise web.HTTPError(400, f"Cannot rename file or directory {old_path!r}")
        if await self.exists(new_path):
            raise web.HTTPError(409, f"File already exists: {new_path}")
        await self.stat(old_path, f"File or directory does not exist: {old_path}")
        old_cs3, new_cs3 = await self.cs3_path(old_path), await self.cs3_path(new_path)
        with http_errors():
            await self.client.move(old_cs3, new_cs3)
        await self.documents.renamed(old_cs3, new_cs3)

    async def copy(self, from_path, to_path=None):
        """Copy a file or folder on the storage, streaming (never a whole file in memory)."""
        path = from_path.strip("/")
        from_dir, _, from_name = path.rpartition("/")
        info = await self.stat(path, f"No such file or directory: {path}")
        if not self.allow_hidden and self.hidden(path):
            raise web.HTTPError(404, f"file or directory does not exist: {path!r}")
        destination = from_dir if to_path is None else to_path.strip("/")
        if await self.dir_exists(destination):
            name = await self.increment_filename(copy_pat.sub(".", from_name), destination, insert="-Copy")
            destination = f"{destination}/{name}" if destination else name
        elif to_path is None:
            raise web.HTTPError(404, f"No such directory: {destination}")
        else:
            parent = destination.rpartition("/")[0]
            if not await self.dir_exists(parent):
                raise web.HTTPError(404, f"No such parent directory: {parent} to copy file in")
        if info.type == CONTAINER and (destination + "/").startswith(path + "/"):
            raise web.HTTPError(400, f"Cannot copy the folder {path} into itself")
        with http_errors():
            await self._copy_tree(await self.cs3_path(path), info, await self.cs3_path(destination))
        model = await self.get(destination, content=False)
        self.emit(data={"action": "copy", "path": destination, "source_path": from_path})
        return model

    async def _copy_tree(self, source: str, info: spr.ResourceInfo, destination: str) -> None:
        if info.type == CONTAINER:
            await self.client.create_container(destination)
            for child in await self.client.list_container(source):
                name = child.name or posixpath.basename(child.path)
                await self._copy_tree(posixpath.join(source, name), child, posixpath.join(destination, name))
            return
        async with self.client.download(source) as (headers, chunks):
            size = int(headers.get("Content-Length", info.size))
            await self.client.upload(destination, chunks, size, if_not_exist=True)

    def info_string(self) -> str:
        return f"Serving notebooks from the CS3 storage at {self.client.gateway} as {self.client.username}"

    async def get_kernel_path(self, path, model=None):
        """The folder a kernel for ``path`` starts in (the kernel manager maps it onto the
        FUSE mount, or onto its scratch folder without one): the notebook's folder, by
        its name alone (no storage call: a kernel must start even with the storage away)."""
        if not isinstance(path, str):
            return ""
        return posixpath.dirname(path.strip("/"))
