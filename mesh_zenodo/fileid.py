"""File ids that are the CS3 resource ids, so that a live room follows a file renamed anywhere.

jupyter-collaboration names a room after a file id (``json:notebook:<file id>``) and asks
:class:`~jupyter_server_fileid.manager.BaseFileIdManager` for the file's current path
every time it loads, saves or polls the file. Its default manager learns of renames only
from this server's own contents events, so a notebook renamed on another Jupyter server
(or in the storage's web UI) goes 404 in the room. Here a file id *is* the resource id
the storage gives the file (``storage_id``, ``space_id``, ``opaque_id``, as one URL-safe
string), which a move does not change, and a path is found again by a ``Stat`` by id.

``BaseFileIdManager`` is synchronous and jupyter_server_ydoc calls it on the event loop
(``FileLoader.path`` on every poll, load and save). So:

* :meth:`~CS3FileIdManager.get_path` answers from a cache; an entry older than
  :attr:`~CS3FileIdManager.path_ttl` is checked again *in the background* through the
  contents manager's asynchronous CS3 client (``stat_id``), never blocking the loop. A
  rename elsewhere is seen at most one poll later (that poll may log one 404; a room's
  save that meets the 404 looks the path up at once, :meth:`~CS3FileIdManager.refresh`).
* Only a path or id not seen before (a document opened: ``index``; a room of an id this
  server never looked up: ``get_path``) costs a synchronous ``Stat`` on a small blocking
  gRPC channel of this manager's, with a short deadline (:attr:`~CS3FileIdManager.rpc_timeout`).
  Measured on loopback against the embedded storage: about 1 ms per ``Stat``; the first
  call also signs in once.
* This server's own renames and deletes (jupyter_server's contents events) update the
  cache at once, without a call.

A ``Stat`` by id answers with a path, but for a file someone else owns (reached through
a share or a project space) that path may be in the *owner's* namespace (the embedded
storage answers ``/home/proj/a.ipynb`` to the grantee of ``/home/Shares/proj``). So a
path is trusted as it comes only for the user's own files; otherwise the file's parent
folder, when its path is known here (every look-up by path learns its parent's id), gives
``<parent path>/<name>``, and any such candidate is checked by a ``Stat`` of that path
(same id). When nothing checks out, the last known path stays: never a wrong file.

Nothing is written to disk (the storage keeps the ids): ``db_path`` is unused.
:func:`mesh_zenodo.rooms.install` hands the manager Lab's contents manager
(:meth:`~CS3FileIdManager.attach`); configure it with
``c.FileIdExtension.file_id_manager_class = "mesh_zenodo.fileid.CS3FileIdManager"``
(``mesh-zenodo lab`` does).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import posixpath
import threading
import time
from typing import Any, Callable, Optional

import grpc
import jwt
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from jupyter_server_fileid.manager import BaseFileIdManager
from traitlets import Float

from .contents import CS3ContentsManager
from .cs3 import errors

#: renew the sign-in of the synchronous channel when its token has less left (seconds)
TOKEN_MARGIN = 60


def encode_id(resource_id: spr.ResourceId) -> str:
    """A ResourceId as one URL-safe string without ``:`` or ``/`` (a room id is
    ``format:type:file_id`` and travels in a URL path)."""
    raw = "\n".join((resource_id.storage_id, resource_id.space_id, resource_id.opaque_id))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_id(file_id: str) -> spr.ResourceId | None:
    """The ResourceId of a file id made by :func:`encode_id` (None if it is not one)."""
    try:
        raw = base64.urlsafe_b64decode(file_id + "=" * (-len(file_id) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split("\n")
    if len(parts) != 3 or not parts[2]:
        return None
    return spr.ResourceId(storage_id=parts[0], space_id=parts[1], opaque_id=parts[2])


class _BlockingStat:
    """``Stat`` on a blocking gRPC channel of its own (signed in as the contents manager's
    user), for the few lookups that cannot wait for the event loop."""

    def __init__(self, cm: CS3ContentsManager, timeout: float) -> None:
        self.client = cm.client
        self.timeout = timeout
        self._channel: grpc.Channel | None = None
        self._stub: gw_grpc.GatewayAPIStub | None = None
        self._token = ""
        self._token_exp = 0.0
        self._lock = threading.Lock()
        #: the signed-in user's opaque id (once signed in)
        self.user_id = ""

    def _gateway(self) -> gw_grpc.GatewayAPIStub:
        if self._stub is None:
            client = self.client
            if client.tls:
                pem = None
                if client.root_certificates:
                    with open(client.root_certificates, "rb") as f:
                        pem = f.read()
                self._channel = grpc.secure_channel(client.gateway, grpc.ssl_channel_credentials(root_certificates=pem))
            else:
                self._channel = grpc.insecure_channel(client.gateway)
            self._stub = gw_grpc.GatewayAPIStub(self._channel)
        return self._stub

    def _sign_in(self) -> str:
        client = self.client
        request = gw.AuthenticateRequest(
            type=client.auth_type, client_id=client.username, client_secret=client.password
        )
        try:
            response = self._gateway().Authenticate(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise errors.from_grpc(err, f"signing in to {client.gateway} as {client.username}") from None
        if response.status.code != code_pb2.CODE_OK:
            raise errors.from_status(response.status, f"signing in to {client.gateway} as {client.username}")
        self._token = response.token
        self.user_id = response.user.id.opaque_id
        try:
            claims = jwt.decode(response.token, options={"verify_signature": False})
            self._token_exp = float(claims.get("exp", time.time() + 3600))
        except jwt.PyJWTError:
            self._token_exp = time.time() + 3600
        return self._token

    def _access_token(self, renew: bool) -> str:
        if renew or not self._token or self._token_exp - time.time() < TOKEN_MARGIN:
            return self._sign_in()
        return self._token

    def stat(self, ref: spr.Reference, action: str) -> spr.ResourceInfo | None:
        """The ResourceInfo at ``ref``; None when there is nothing there (or not for us)."""
        with self._lock:
            for attempt in (1, 2):
                token = self._access_token(renew=attempt == 2)
                try:
                    response = self._gateway().Stat(
                        sp.StatRequest(ref=ref), metadata=(("x-access-token", token),), timeout=self.timeout
                    )
                except grpc.RpcError as err:
                    error = errors.from_grpc(err, action)
                    if isinstance(error, errors.Unauthenticated) and attempt == 1:
                        continue
                    raise error from None
                code = response.status.code
                if code == code_pb2.CODE_UNAUTHENTICATED and attempt == 1:
                    continue
                if code in (code_pb2.CODE_NOT_FOUND, code_pb2.CODE_PERMISSION_DENIED):
                    return None
                if code != code_pb2.CODE_OK:
                    raise errors.from_status(response.status, action)
                return response.info
        raise AssertionError("unreachable")

    def home(self) -> str:
        with self._lock:
            for attempt in (1, 2):
                token = self._access_token(renew=attempt == 2)
                try:
                    response = self._gateway().GetHome(
                        sp.GetHomeRequest(), metadata=(("x-access-token", token),), timeout=self.timeout
                    )
                except grpc.RpcError as err:
                    error = errors.from_grpc(err, "looking up the home folder")
                    if isinstance(error, errors.Unauthenticated) and attempt == 1:
                        continue
                    raise error from None
                if response.status.code == code_pb2.CODE_UNAUTHENTICATED and attempt == 1:
                    continue
                if response.status.code != code_pb2.CODE_OK:
                    raise errors.from_status(response.status, "looking up the home folder")
                return response.path.rstrip("/") or "/"
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None


#: what a resolution concludes besides a path: the file is gone, or keep what is known
GONE, KEEP = object(), object()


def _key(resource_id: spr.ResourceId) -> str:
    return encode_id(resource_id)


class CS3FileIdManager(BaseFileIdManager):
    """File ids that are CS3 resource ids; paths looked up on the storage (see the module doc)."""

    path_ttl = Float(
        1.0, config=True,
        help="Seconds a file's looked-up path is used before it is checked again on the storage (in the "
        "background: the answer meanwhile is the path known). A rename on another server shows up this late "
        "at most, plus one poll of the collaboration's file watcher.",
    )
    rpc_timeout = Float(
        3.0, config=True,
        help="Deadline (seconds) of the synchronous Stat made for a path or id not looked up before.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cm: CS3ContentsManager | None = None
        self._blocking: _BlockingStat | None = None
        self._root: str | None = None
        #: file id -> (Jupyter path, monotonic time it was last confirmed)
        self._paths: dict[str, tuple[str, float]] = {}
        #: Jupyter path -> file id (the reverse of ``_paths``)
        self._ids: dict[str, str] = {}
        #: folder id -> its Jupyter path, as last seen (the parents of the files looked up)
        self._folders: dict[str, str] = {}
        self._refreshing: dict[str, asyncio.Task] = {}

    # ------------------------------------------------------------------ wiring

    def attach(self, contents_manager: CS3ContentsManager) -> None:
        """Look files up through ``contents_manager``'s CS3 connection and folder."""
        self._cm = contents_manager
        if self._blocking is not None:
            self._blocking.close()
        self._blocking = _BlockingStat(contents_manager, self.rpc_timeout)
        self._root = None

    def _stat(self, ref: spr.Reference) -> spr.ResourceInfo | None:
        """A blocking Stat (None: nothing there for us; other failures raise CS3Error)."""
        if self._blocking is None:
            raise errors.Unavailable("CS3FileIdManager: no CS3 contents manager (is Lab's the CS3 one?)")
        return self._blocking.stat(ref, "looking up a file for collaboration")

    async def _astat(self, ref: spr.Reference) -> spr.ResourceInfo | None:
        """The same through the contents manager's asynchronous client."""
        assert self._cm is not None
        try:
            if ref.HasField("resource_id"):
                return await self._cm.client.stat_id(ref.resource_id)
            return await self._cm.client.stat(ref.path)
        except (errors.NotFound, errors.PermissionDenied):
            return None

    def _cs3_root(self) -> str | None:
        if self._root is None and self._cm is not None and self._blocking is not None:
            if self._cm.root_path:
                self._root = self._cm.root_path.rstrip("/") or "/"
            else:
                try:
                    self._root = self._blocking.home()
                except errors.CS3Error as err:
                    self.log.warning("CS3FileIdManager: %s", err)
        return self._root

    def _me(self) -> str:
        user = self._cm.client.user if self._cm is not None else None
        if user is not None:
            return user.id.opaque_id
        return self._blocking.user_id if self._blocking is not None else ""

    # ------------------------------------------------------------------ paths

    @staticmethod
    def _clean(path: str) -> str:
        return "/".join(part for part in path.replace("\\", "/").split("/") if part)

    def _normalize_path(self, path: str) -> str:
        """The CS3 path of a Jupyter path."""
        root = self._cs3_root() or ""
        path = self._clean(path)
        return posixpath.join(root, path) if path else root

    def _from_normalized_path(self, path: Optional[str]) -> Optional[str]:
        """The Jupyter path of a CS3 path (None when it is outside Lab's folder)."""
        root = self._cs3_root()
        if path is None or root is None:
            return None
        if path.rstrip("/") == root:
            return ""
        prefix = root.rstrip("/") + "/"
        return path[len(prefix):] if path.startswith(prefix) else None

    def _remember(self, file_id: str, path: str, info: spr.ResourceInfo | None = None) -> None:
        old = self._paths.get(file_id)
        if old is not None and self._ids.get(old[0]) == file_id:
            del self._ids[old[0]]
        self._paths[file_id] = (path, time.monotonic())
        self._ids[path] = file_id
        if info is not None:
            self._note_parent(info, path)

    def _note_parent(self, info: spr.ResourceInfo, path: str) -> None:
        """Remember where the parent folder of ``info`` (at ``path``) is."""
        if info.parent_id.opaque_id and path:
            self._folders[_key(info.parent_id)] = posixpath.dirname(path)

    def _forget(self, file_id: str) -> None:
        old = self._paths.pop(file_id, None)
        if old is not None and self._ids.get(old[0]) == file_id:
            del self._ids[old[0]]

    def _resolution(self, file_id: str):
        """The current Jupyter path of ``file_id``, without I/O: a generator that yields
        the References to Stat and is sent their ResourceInfo (None: nothing there);
        returns a path, :data:`GONE` or :data:`KEEP` (see the module doc)."""
        resource_id = decode_id(file_id)
        if resource_id is None:
            return GONE
        info = yield spr.Reference(resource_id=resource_id)
        if info is None:
            return GONE  # deleted, or no longer shared with us
        direct = self._from_normalized_path(info.path)
        me = self._me()
        if direct is not None and me and info.owner.opaque_id == me:
            self._note_parent(info, direct)
            return direct  # one of the user's own files: its path is in the user's namespace
        candidates = []
        folder = self._folders.get(_key(info.parent_id)) if info.parent_id.opaque_id else None
        if folder is not None and info.name:
            candidates.append(posixpath.join(folder, info.name) if folder else info.name)
        if direct is not None and direct not in candidates:
            candidates.append(direct)
        for candidate in candidates:
            seen = yield spr.Reference(path=self._normalize_path(candidate))
            if seen is not None and encode_id(seen.id) == file_id:
                self._note_parent(seen, candidate)
                return candidate
        return KEEP

    def _settle(self, file_id: str, result: Any) -> Optional[str]:
        if result is GONE:
            self._forget(file_id)
            return None
        entry = self._paths.get(file_id)
        if result is KEEP:
            if entry is None:
                return None
            self._paths[file_id] = (entry[0], time.monotonic())
            return entry[0]
        self._remember(file_id, result)
        return result

    def _look_up(self, file_id: str) -> Optional[str]:
        """A blocking resolution (a file id not seen before, or off the event loop)."""
        steps = self._resolution(file_id)
        try:
            ref = next(steps)
            while True:
                ref = steps.send(self._stat(ref))
        except StopIteration as done:
            return self._settle(file_id, done.value)
        except errors.CS3Error as err:
            self.log.warning("CS3FileIdManager: %s", err)
            entry = self._paths.get(file_id)
            return entry[0] if entry else None

    async def _refresh(self, file_id: str) -> None:
        try:
            steps = self._resolution(file_id)
            try:
                ref = next(steps)
                while True:
                    ref = steps.send(await self._astat(ref))
            except StopIteration as done:
                self._settle(file_id, done.value)
            except errors.CS3Error as err:  # the storage is away: keep the path known, try later
                self.log.debug("CS3FileIdManager: %s", err)
                self._settle(file_id, KEEP)
        finally:
            self._refreshing.pop(file_id, None)

    # ------------------------------------------------------------------ the API

    def index(self, path: str) -> Optional[str]:
        """The resource id of the file at ``path`` (None if there is none)."""
        path = self._clean(path)
        known = self._ids.get(path)
        if known is not None and time.monotonic() - self._paths[known][1] <= self.path_ttl:
            return known
        try:
            info = self._stat(spr.Reference(path=self._normalize_path(path)))
        except errors.CS3Error as err:
            self.log.warning("CS3FileIdManager: %s", err)
            return known
        if info is None or not info.id.opaque_id:
            if known is not None:
                self._forget(known)
            return None
        file_id = encode_id(info.id)
        self._remember(file_id, path, info)
        return file_id

    def get_id(self, path: str) -> Optional[str]:
        # on CS3 every file has its id already: looking it up is indexing
        return self.index(path)

    def get_path(self, id: str) -> Optional[str]:
        """The current Jupyter path of the file ``id`` (see the module doc for the cache)."""
        entry = self._paths.get(id)
        if entry is None:
            return self._look_up(id)
        path, checked = entry
        if time.monotonic() - checked > self.path_ttl:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the event loop: a blocking look-up costs nobody
                return self._look_up(id)
            if id not in self._refreshing and self._cm is not None:
                self._refreshing[id] = loop.create_task(self._refresh(id))
        return path

    async def refresh(self, id: str) -> Optional[str]:
        """Look the path of ``id`` up now, without blocking; returns it."""
        task = self._refreshing.get(id)
        if task is None:
            task = self._refreshing[id] = asyncio.get_running_loop().create_task(self._refresh(id))
        await asyncio.shield(task)
        entry = self._paths.get(id)
        return entry[0] if entry else None

    def move(self, old_path: str, new_path: str) -> Optional[str]:
        """This server renamed ``old_path``: the ids under it keep theirs, at new paths."""
        old_path, new_path = self._clean(old_path), self._clean(new_path)
        prefix = old_path + "/"
        for file_id, (path, _) in list(self._paths.items()):
            if path == old_path:
                self._remember(file_id, new_path)
            elif path.startswith(prefix):
                self._remember(file_id, new_path + path[len(old_path):])
        for folder_id, path in list(self._folders.items()):
            if path == old_path or path.startswith(prefix):
                self._folders[folder_id] = new_path + path[len(old_path):]
        return self._ids.get(new_path)

    def copy(self, from_path: str, to_path: str) -> Optional[str]:
        return None  # a copy is a new resource: its id is looked up when it is opened

    def delete(self, path: str) -> None:
        path = self._clean(path)
        prefix = path + "/"
        for file_id, (known, _) in list(self._paths.items()):
            if known == path or known.startswith(prefix):
                self._forget(file_id)
        for folder_id, known in list(self._folders.items()):
            if known == path or known.startswith(prefix):
                del self._folders[folder_id]

    def save(self, path: str) -> Optional[str]:
        return self._ids.get(self._clean(path))

    def get_handlers_by_action(self) -> dict[str, Optional[Callable[[dict[str, Any]], Any]]]:
        return {
            "get": None,
            "save": None,
            "rename": lambda data: self.move(data["source_path"], data["path"]),
            "copy": None,
            "delete": lambda data: self.delete(data["path"]),
        }
