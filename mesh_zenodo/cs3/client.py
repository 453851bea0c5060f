"""CS3Client: the one place that speaks the CS3 protocol.

gRPC (``grpc.aio``) to a CS3 ``GatewayAPI`` (Reva or the embedded storage) and HTTP
(``aiohttp``) to its data gateway. Paths here are CS3 paths (``/home/a.ipynb``); the
contents manager maps Jupyter paths onto them. Every failure leaves as a
:class:`~mesh_zenodo.cs3.errors.CS3Error`.

Configuration is traitlets (``c.CS3Client.gateway = ...``). The password is a secret and
never travels in a traitlets ``Config`` that Jupyter logs: ``mesh-zenodo lab`` hands it
over a pipe (``c.CS3Client.password_fd``, read once and closed). It may also come from the
``MESH_ZENODO_CS3_PASSWORD`` environment variable, which is removed from ``os.environ`` as
soon as it is read (the process's initial environment keeps it: ``mesh-zenodo lab``
re-executes itself without it), or from ``c.CS3Client.password`` in a config file.

At a site, instead of a password (docs/deployment.md):

* an OIDC bearer token (Reva's ``bearer`` auth type: ``Authenticate(type="bearer",
  client_secret=<token>)``): ``c.CS3Client.bearer_token_file`` (read again at each
  sign-in, so a refreshed token is picked up), ``MESH_ZENODO_CS3_BEARER_TOKEN`` or
  ``c.CS3Client.bearer_token``;
* a ready CS3 access token: ``c.CS3Client.token_file`` (read again whenever it was
  rewritten or is about to expire), ``MESH_ZENODO_CS3_TOKEN`` or ``c.CS3Client.access_token``.
  That is how kernels and the FUSE mount work: the server issues them short-lived tokens
  and renews the files (services/kernel_access.py).

Secrets in the environment are removed from ``os.environ`` when read; files are the way
that keeps them out of every process environment.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import grpc
import jwt
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.identity.user.v1beta1 import user_api_pb2 as user_api
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import provider_api_pb2_grpc as sp_grpc
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.types.v1beta1 import types_pb2
from traitlets import Bool, Float, Int, Unicode, default
from traitlets.config import LoggingConfigurable

from . import errors, request_id

PASSWORD_ENV = "MESH_ZENODO_CS3_PASSWORD"
USER_ENV = "MESH_ZENODO_CS3_USER"
GATEWAY_ENV = "MESH_ZENODO_CS3_GATEWAY"
TOKEN_FILE_ENV = "MESH_ZENODO_CS3_TOKEN_FILE"
TOKEN_ENV = "MESH_ZENODO_CS3_TOKEN"
BEARER_ENV = "MESH_ZENODO_CS3_BEARER_TOKEN"
BEARER_FILE_ENV = "MESH_ZENODO_CS3_BEARER_TOKEN_FILE"
TLS_ENV = "MESH_ZENODO_CS3_TLS"
ROOT_CERTIFICATES_ENV = "MESH_ZENODO_CS3_ROOT_CERTIFICATES"
#: secrets read from the environment once and removed from it (kernels never see them)
SECRET_ENVS = (PASSWORD_ENV, TOKEN_ENV, BEARER_ENV)

#: renew the access token when it has less than this many seconds left
TOKEN_RENEW_MARGIN = 60
#: entries asked for per ListContainer page (a server may answer fewer, see list_container)
LIST_PAGE_SIZE = 1000


def _token_expiry(token: str) -> float:
    """When an access token expires (its JWT ``exp``); an opaque token is renewed after a
    conservative hour."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return float(claims.get("exp", time.time() + 3600))
    except jwt.PyJWTError:
        return time.time() + 3600


def reference(path: str) -> spr.Reference:
    return spr.Reference(path=path)


def read_secret_fd(fd: int) -> str:
    """Everything readable from ``fd`` (UTF-8, one trailing newline dropped); ``fd`` is closed."""
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    finally:
        os.close(fd)
    text = b"".join(chunks).decode("utf-8", "surrogateescape")
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


#: passwords read from ``CS3Client.password_fd``, by descriptor: each is read once per
#: process (a second client with the same configuration must not read whatever file a
#: later ``open`` was given that descriptor number)
_FD_PASSWORDS: dict[int, str] = {}


def _password_from_fd(fd: int) -> str:
    if fd not in _FD_PASSWORDS:
        try:
            _FD_PASSWORDS[fd] = read_secret_fd(fd)
        except OSError as err:
            raise ValueError(f"CS3Client.password_fd: cannot read the password from descriptor {fd}: "
                             f"{err.strerror or err}") from None
    return _FD_PASSWORDS[fd]


@dataclass
class TusUpload:
    """An upload in progress over the ``tus`` protocol (Lab's chunked uploads)."""

    path: str
    endpoint: str
    token: str
    offset: int = 0


@dataclass
class UploadResult:
    etag: str
    file_id: str


class CS3Client(LoggingConfigurable):
    """An authenticated connection to a CS3 gateway and its data gateway."""

    gateway = Unicode(
        config=True,
        help="HOST:PORT of the CS3 gateway (Reva's gatewaysvc). "
        f"Default: ${GATEWAY_ENV}, else 127.0.0.1:19000 (the embedded storage).",
    )

    @default("gateway")
    def _default_gateway(self) -> str:
        return os.environ.get(GATEWAY_ENV, "127.0.0.1:19000")

    public_links_url = Unicode(
        "",
        config=True,
        help="Where the site serves public links, e.g. https://cernbox.example.org/s/ (the link's token is "
        "appended). mesh-zenodo lab sets it for the embedded storage. Empty: links are shown by token only.",
    )
    username = Unicode(config=True, help=f"CS3 user to sign in as. Default: ${USER_ENV}, else einstein.")

    @default("username")
    def _default_username(self) -> str:
        return os.environ.get(USER_ENV, "einstein")

    password = Unicode(
        config=True,
        help=f"The CS3 user's password (client_secret). Default: ${PASSWORD_ENV}, which is "
        "removed from the environment once read. Set here, it is logged at DEBUG level by traitlets "
        "('Config changed: ...'): prefer password_fd, or the environment variable with `mesh-zenodo lab`.",
    )
    password_fd = Int(
        -1,
        config=True,
        help="A file descriptor (e.g. the read end of a pipe) to read the CS3 password from, once at "
        "start, up to its end; it is then closed. A trailing newline is dropped. Takes precedence over "
        "password. `mesh-zenodo lab` hands the password over this way.",
    )

    token_file = Unicode(
        config=True,
        help=f"A file holding a ready CS3 access token, used instead of signing in; read again when it is "
        f"rewritten or about to expire (kernels get one from the server). Default: ${TOKEN_FILE_ENV}.",
    )

    @default("token_file")
    def _default_token_file(self) -> str:
        return os.environ.get(TOKEN_FILE_ENV, "")

    access_token = Unicode(
        config=True, help=f"A ready CS3 access token (default ${TOKEN_ENV}, removed from the environment once "
        "read). Logged at DEBUG by traitlets when set here: prefer token_file.")
    bearer_token = Unicode(
        config=True, help=f"An OIDC access token, exchanged with Reva's 'bearer' auth (default ${BEARER_ENV}, "
        "removed from the environment once read). Logged at DEBUG by traitlets when set here: prefer bearer_token_file.")
    bearer_token_file = Unicode(
        config=True, help=f"A file holding the OIDC access token, read again at each sign-in (a refreshed token "
        f"is picked up). Default: ${BEARER_FILE_ENV}.")

    @default("bearer_token_file")
    def _default_bearer_token_file(self) -> str:
        return os.environ.get(BEARER_FILE_ENV, "")

    auth_type = Unicode("basic", config=True, help="CS3 auth type (Reva's auth provider name) for passwords; "
                        "'bearer' is used for OIDC tokens.")
    tls = Bool(config=True, help=f"Use TLS for the gRPC channel to the gateway (default ${TLS_ENV}=1, else no).")

    @default("tls")
    def _default_tls(self) -> bool:
        return os.environ.get(TLS_ENV, "") in ("1", "true", "yes")

    root_certificates = Unicode(
        config=True, help="PEM file of CA certificates for gRPC TLS and the data gateway (default "
        f"${ROOT_CERTIFICATES_ENV}, else the system CAs)."
    )

    @default("root_certificates")
    def _default_root_certificates(self) -> str:
        return os.environ.get(ROOT_CERTIFICATES_ENV, "")
    embedded = Bool(
        False, config=True, help="True when the gateway is the embedded storage started by `mesh-zenodo lab`."
    )
    chunk_size = Int(1 << 20, config=True, help="Bytes per chunk for streamed transfers.")
    rpc_timeout = Float(30.0, config=True, help="Seconds before a gRPC call is abandoned.")
    transfer_timeout = Float(
        600.0, config=True, help="Seconds a data transfer may stall (no bytes moving) before it is abandoned."
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # read once, then gone from the environment that kernels and subprocesses inherit
        env_password, env_token, env_bearer = (os.environ.pop(name, None) for name in SECRET_ENVS)
        if self.password_fd >= 0:
            self.password = _password_from_fd(self.password_fd)
        elif env_password and not self.password:
            self.password = env_password
        if env_token and not self.access_token:
            self.access_token = env_token
        if env_bearer and not self.bearer_token:
            self.bearer_token = env_bearer
        self._channel: grpc.aio.Channel | None = None
        self._stub: gw_grpc.GatewayAPIStub | None = None
        self._http: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_exp: float = 0.0
        self._token_stamp = 0  # the token file's mtime when it was last read
        self._user: user_res.User | None = None
        self._auth_lock: asyncio.Lock | None = None
        self._home: str | None = None
        self._pem: bytes | None = None

    # ------------------------------------------------------------------ connection

    def _root_pem(self) -> bytes | None:
        """The configured root certificates (PEM), read once and the file closed."""
        if not self.root_certificates:
            return None
        if self._pem is None:
            with open(self.root_certificates, "rb") as f:
                self._pem = f.read()
        return self._pem

    def _gateway_stub(self) -> gw_grpc.GatewayAPIStub:
        if self._stub is None:
            options = [("grpc.max_receive_message_length", 64 << 20)]
            if self.tls:
                creds = grpc.ssl_channel_credentials(root_certificates=self._root_pem())
                self._channel = grpc.aio.secure_channel(self.gateway, creds, options=options)
            else:
                self._channel = grpc.aio.insecure_channel(self.gateway, options=options)
            self._stub = gw_grpc.GatewayAPIStub(self._channel)
        return self._stub

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            context: object = None
            if self.root_certificates:
                pem = self._root_pem() or b""
                try:
                    context = ssl.create_default_context(cadata=pem.decode("ascii"))  # PEM text
                except (UnicodeDecodeError, ssl.SSLError):
                    raise errors.InvalidArgument(
                        f"the root certificates in {self.root_certificates} are not PEM certificates"
                    ) from None
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.rpc_timeout, sock_read=self.transfer_timeout)
            self._http = aiohttp.ClientSession(
                timeout=timeout,
                connector=aiohttp.TCPConnector(ssl=context, limit=16),
                auto_decompress=False,
                read_bufsize=self.chunk_size,
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
            self._stub = None

    # ------------------------------------------------------------------ auth

    async def authenticate(self) -> user_res.User:
        """Sign in with the configured credentials; returns the CS3 user."""
        if self._auth_lock is None:
            self._auth_lock = asyncio.Lock()
        async with self._auth_lock:
            return await self._authenticate()

    async def _authenticate(self) -> user_res.User:
        if self.token_file or self.access_token:
            return await self._ready_token()
        response = await self._authenticate_request(*self._credentials())
        self._token = response.token
        self._user = response.user
        self._token_exp = _token_expiry(response.token)
        if response.user.username and (self.bearer_token or self.bearer_token_file):
            self.username = response.user.username  # the OIDC token says who this is
        return response.user

    def _credentials(self) -> tuple[str, str, str, str]:
        """(auth type, client id, secret, who: for messages) of a sign-in: an OIDC token
        (Reva's bearer auth) if one is configured, else the password."""
        if self.bearer_token or self.bearer_token_file:
            return "bearer", "", self._bearer(), "with the OIDC token"
        if not self.username:
            raise errors.Unauthenticated("no CS3 user is configured (CS3Client.username)")
        return self.auth_type, self.username, self.password, f"as {self.username}"

    def _bearer(self) -> str:
        if not self.bearer_token_file:
            return self.bearer_token
        try:
            with open(self.bearer_token_file, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as err:
            raise errors.Unauthenticated(
                f"cannot read the OIDC token file {self.bearer_token_file}: {err.strerror or err}") from None

    async def _authenticate_request(self, auth_type: str, client_id: str, secret: str, who: str):
        request = gw.AuthenticateRequest(type=auth_type, client_id=client_id, client_secret=secret)
        try:
            response = await self._gateway_stub().Authenticate(request, timeout=self.rpc_timeout)
        except grpc.aio.AioRpcError as err:
            raise errors.from_grpc(err, f"signing in to {self.gateway} {who}") from None
        if response.status.code != code_pb2.CODE_OK:
            raise errors.from_status(response.status, f"signing in to {self.gateway} {who}")
        return response

    async def _ready_token(self) -> user_res.User:
        """Take the ready token (the file's, as it is now) and, once, who it belongs to."""
        where = self.token_file or "c.CS3Client.access_token"
        token = self.access_token
        if self.token_file:
            try:
                with open(self.token_file, encoding="utf-8") as fh:
                    token = fh.read().strip()
            except OSError as err:
                raise errors.Unauthenticated(
                    f"cannot read the CS3 token file {self.token_file}: {err.strerror or err}") from None
        exp = _token_expiry(token)
        if not token or exp <= time.time():
            raise errors.Unauthenticated(f"the CS3 token in {where} has expired (or is empty)")
        self._token, self._token_exp = token, exp
        if self._user is None:
            try:
                response = await self._gateway_stub().WhoAmI(
                    gw.WhoAmIRequest(token=token), metadata=(("x-access-token", token),), timeout=self.rpc_timeout)
            except grpc.aio.AioRpcError as err:
                raise errors.from_grpc(err, f"checking the CS3 token in {where}") from None
            if response.status.code != code_pb2.CODE_OK:
                raise errors.from_status(response.status, f"checking the CS3 token in {where}")
            self._user = response.user
            self.username = response.user.username  # the token says who this is
        return self._user

    async def new_token(self) -> tuple[str, float]:
        """A new access token for someone else (a kernel, the FUSE mount), and when it
        expires: signed in afresh with this client's credentials, so it lives only the
        gateway's token lifetime. A client that itself runs on a ready token hands on its
        own (it has nothing else to give)."""
        if self.token_file or self.access_token:
            token = await self._access_token()
            return token, self._token_exp
        response = await self._authenticate_request(*self._credentials())
        return response.token, _token_expiry(response.token)

    async def _access_token(self) -> str:
        if self._token is None or self._token_exp - time.time() < TOKEN_RENEW_MARGIN or self._file_moved():
            await self.authenticate()
        assert self._token is not None
        return self._token

    def _file_moved(self) -> bool:
        """Whether the token file was rewritten since it was read (a renewed token)."""
        if not self.token_file:
            return False
        try:
            stamp = os.stat(self.token_file).st_mtime_ns
        except OSError:
            return False
        moved, self._token_stamp = stamp != self._token_stamp, stamp
        return moved

    @property
    def user(self) -> user_res.User | None:
        """The signed-in user, once :meth:`authenticate` succeeded."""
        return self._user

    # ------------------------------------------------------------------ calls

    async def call(self, method: str, request, action: str, path: str | None = None, *, check: bool = True,
                   provider: bool = False):
        """Call a GatewayAPI ``method`` (for :mod:`.sharing` and :mod:`.spaces`), or with
        ``provider`` the storage provider API on the gateway's address (the grant RPCs the
        gateway does not carry): a status other than OK raises the matching
        :class:`~.errors.CS3Error` unless ``check`` is false."""
        return await self._call(method, request, action, path, check=check, provider=provider)

    async def _call(self, method: str, request, action: str, path: str | None = None, *, check: bool = True,
                    provider: bool = False):
        """Call a GatewayAPI ``method``; renew the token once if the gateway refuses it."""
        stub = self._gateway_stub()
        if provider:
            stub = sp_grpc.ProviderAPIStub(self._channel)
        for attempt in (1, 2):
            token = await self._access_token()
            metadata = [("x-access-token", token)]
            if (rid := request_id.current()) is not None:
                metadata.append(("x-request-id", rid))
            try:
                response = await getattr(stub, method)(request, metadata=tuple(metadata), timeout=self.rpc_timeout)
            except grpc.aio.AioRpcError as err:
                error = errors.from_grpc(err, action, path)
                if isinstance(error, errors.Unauthenticated) and attempt == 1:
                    self._token = None  # expired or revoked on the server side: sign in again
                    continue
                raise error from None
            if check and response.status.code != code_pb2.CODE_OK:
                raise errors.from_status(response.status, action, path)
            return response
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ identity

    async def whoami(self) -> user_res.User:
        token = await self._access_token()
        response = await self._call("WhoAmI", gw.WhoAmIRequest(token=token), "looking up the signed-in user")
        return response.user

    async def get_home(self) -> str:
        if self._home is None:
            response = await self._call("GetHome", sp.GetHomeRequest(), "looking up the home folder")
            self._home = response.path.rstrip("/") or "/"
        return self._home

    async def get_user(self, user_id: user_res.UserId) -> user_res.User:
        response = await self._call("GetUser", user_api.GetUserRequest(user_id=user_id), "looking up a user")
        return response.user

    async def get_user_by_claim(self, claim: str, value: str) -> user_res.User:
        request = user_api.GetUserByClaimRequest(claim=claim, value=value)
        response = await self._call("GetUserByClaim", request, f"looking up the user with {claim} {value!r}")
        return response.user

    async def find_users(self, query: str) -> list[user_res.User]:
        request = user_api.FindUsersRequest(
            filters=[user_api.Filter(type=user_api.Filter.TYPE_QUERY, query=query)]
        )
        response = await self._call("FindUsers", request, f"searching users for {query!r}")
        return list(response.users)

    # ------------------------------------------------------------------ namespace

    async def stat(self, path: str, metadata_keys: tuple[str, ...] = ()) -> spr.ResourceInfo:
        request = sp.StatRequest(ref=reference(path), arbitrary_metadata_keys=list(metadata_keys))
        response = await self._call("Stat", request, f"reading {path}", path)
        return response.info

    async def stat_id(self, resource_id: spr.ResourceId, relative: str = "") -> spr.ResourceInfo:
        """Stat by ResourceId (and a relative path below it), as a grantee reaches a share."""
        ref = spr.Reference(resource_id=resource_id, path=relative)
        response = await self._call("Stat", sp.StatRequest(ref=ref), "looking up a shared resource")
        return response.info

    async def exists(self, path: str) -> spr.ResourceInfo | None:
        """The resource at ``path``, or None when there is none."""
        try:
            return await self.stat(path)
        except errors.NotFound:
            return None

    async def list_container(self, path: str, metadata_keys: tuple[str, ...] = ()) -> list[spr.ResourceInfo]:
        """Every entry of the folder ``path``, page after page (``next_page_token``; a
        server may cut a page shorter than asked, to keep it under gRPC's message
        limit). A server that ignores paging answers everything at once, and that is
        fine; one that answers a token it does not honour (the same token again, or an
        empty page with a token) is an error rather than an endless loop."""
        infos: list[spr.ResourceInfo] = []
        page_token = ""
        seen_tokens: set[str] = set()
        while True:
            request = sp.ListContainerRequest(
                ref=reference(path),
                arbitrary_metadata_keys=list(metadata_keys),
                page_size=LIST_PAGE_SIZE,
                page_token=page_token,
            )
            response = await self._call("ListContainer", request, f"listing {path}", path)
            infos.extend(response.infos)
            page_token = response.next_page_token
            if not page_token:
                return infos
            if page_token in seen_tokens or not response.infos:
                raise errors.Internal(
                    f"listing {path} failed: the gateway's paging does not advance "
                    f"(page token repeated or empty page after {len(infos)} entries)",
                    path=path,
                )
            seen_tokens.add(page_token)

    async def create_container(self, path: str) -> None:
        await self._call("CreateContainer", sp.CreateContainerRequest(ref=reference(path)), f"creating folder {path}", path)

    async def touch_file(self, path: str) -> None:
        await self._call("TouchFile", sp.TouchFileRequest(ref=reference(path)), f"creating {path}", path)

    async def delete(self, path: str, lock_id: str = "") -> None:
        await self._call("Delete", sp.DeleteRequest(ref=reference(path), lock_id=lock_id), f"deleting {path}", path)

    async def move(self, source: str, destination: str, lock_id: str = "") -> None:
        request = sp.MoveRequest(source=reference(source), destination=reference(destination), lock_id=lock_id)
        await self._call("Move", request, f"moving {source} to {destination}", source)

    async def set_arbitrary_metadata(self, path: str, metadata: dict[str, str], lock_id: str = "") -> None:
        request = sp.SetArbitraryMetadataRequest(
            ref=reference(path), arbitrary_metadata=spr.ArbitraryMetadata(metadata=metadata), lock_id=lock_id
        )
        await self._call("SetArbitraryMetadata", request, f"setting metadata on {path}", path)

    async def unset_arbitrary_metadata(self, path: str, keys: list[str], lock_id: str = "") -> None:
        request = sp.UnsetArbitraryMetadataRequest(ref=reference(path), arbitrary_metadata_keys=keys, lock_id=lock_id)
        await self._call("UnsetArbitraryMetadata", request, f"removing metadata from {path}", path)

    # ------------------------------------------------------------------ locks

    async def set_lock(
        self, path: str, lock_id: str, *, app_name: str, seconds: float,
        lock_type: int = spr.LOCK_TYPE_WRITE,
    ) -> None:
        """Lock ``path`` for ``seconds`` (CS3 ``SetLock``). A file locked by someone else
        raises :class:`~.errors.PreconditionFailed` (Reva and our storage) or
        :class:`~.errors.Locked` (some flavours)."""
        lock = self._lock(lock_id, app_name, seconds, lock_type)
        await self._call("SetLock", sp.SetLockRequest(ref=reference(path), lock=lock), f"locking {path}", path)

    async def get_lock(self, path: str) -> spr.Lock | None:
        """The lock on ``path``, or None (GetLock answers NOT_FOUND on an unlocked file;
        Reva flavours that answer OK with an empty lock are read the same way)."""
        try:
            response = await self._call("GetLock", sp.GetLockRequest(ref=reference(path)), f"reading the lock of {path}", path)
        except errors.NotFound:
            if await self.exists(path) is None:
                raise
            return None
        return response.lock if response.lock.lock_id else None

    async def refresh_lock(
        self, path: str, lock_id: str, *, app_name: str, seconds: float,
        lock_type: int = spr.LOCK_TYPE_WRITE,
    ) -> None:
        """Extend the lock ``lock_id`` on ``path`` to ``seconds`` from now."""
        lock = self._lock(lock_id, app_name, seconds, lock_type)
        request = sp.RefreshLockRequest(ref=reference(path), lock=lock, existing_lock_id=lock_id)
        await self._call("RefreshLock", request, f"refreshing the lock of {path}", path)

    async def unlock(self, path: str, lock_id: str, *, app_name: str, lock_type: int = spr.LOCK_TYPE_WRITE) -> None:
        """Release the lock ``lock_id`` on ``path``."""
        lock = self._lock(lock_id, app_name, 0, lock_type)
        await self._call("Unlock", sp.UnlockRequest(ref=reference(path), lock=lock), f"unlocking {path}", path)

    def _lock(self, lock_id: str, app_name: str, seconds: float, lock_type: int) -> spr.Lock:
        lock = spr.Lock(lock_id=lock_id, type=lock_type, app_name=app_name)
        if self._user is not None:
            lock.user.CopyFrom(self._user.id)
        if seconds:
            lock.expiration.seconds = int(time.time() + seconds)
        return lock

    async def get_quota(self, path: str) -> tuple[int, int]:
        """(total_bytes, used_bytes) of the space holding ``path``."""
        response = await self._call("GetQuota", gw.GetQuotaRequest(ref=reference(path)), f"reading the quota of {path}")
        return response.total_bytes, response.used_bytes

    # ------------------------------------------------------------------ versions and recycle bin

    async def list_file_versions(self, path: str) -> list[spr.FileVersion]:
        request = sp.ListFileVersionsRequest(ref=reference(path))
        response = await self._call("ListFileVersions", request, f"listing versions of {path}", path)
        return list(response.versions)

    async def restore_file_version(self, path: str, key: str, lock_id: str = "") -> None:
        request = sp.RestoreFileVersionRequest(ref=reference(path), key=key, lock_id=lock_id)
        await self._call("RestoreFileVersion", request, f"restoring a version of {path}", path)

    async def list_recycle(self, path: str) -> list[spr.RecycleItem]:
        response = await self._call("ListRecycle", sp.ListRecycleRequest(ref=reference(path)), "listing the recycle bin")
        return list(response.recycle_items)

    async def restore_recycle_item(self, path: str, key: str, restore_path: str | None = None) -> None:
        request = sp.RestoreRecycleItemRequest(ref=reference(path), key=key)
        if restore_path:
            request.restore_ref.CopyFrom(reference(restore_path))
        await self._call("RestoreRecycleItem", request, "restoring from the recycle bin", restore_path)

    async def purge_recycle(self, path: str, key: str = "") -> None:
        request = sp.PurgeRecycleRequest(ref=reference(path), key=key)
        await self._call("PurgeRecycle", request, "emptying the recycle bin")

    # ------------------------------------------------------------------ data transfers

    def _transfer_headers(self, token: str, access_token: str) -> dict[str, str]:
        headers = {"X-Reva-Transfer": token, "x-access-token": access_token}
        if (rid := request_id.current()) is not None:
            headers["X-Request-Id"] = rid
        return headers

    async def _initiate_upload(
        self,
        path: str,
        protocol: str,
        *,
        size: int | None,
        if_match: str | None,
        if_not_exist: bool,
        lock_id: str,
    ):
        request = sp.InitiateFileUploadRequest(ref=reference(path), lock_id=lock_id)
        if if_match:
            request.if_match = if_match
        elif if_not_exist:
            request.if_not_exist = True
        if size is not None:
            request.opaque.map["Upload-Length"].CopyFrom(
                types_pb2.OpaqueEntry(decoder="plain", value=str(size).encode())
            )
        response = await self._call("InitiateFileUpload", request, f"uploading {path}", path)
        for proto in response.protocols:
            if proto.protocol == protocol:
                return proto
        offered = ", ".join(p.protocol for p in response.protocols) or "none"
        raise errors.Unimplemented(f"uploading {path} failed: the gateway offers no {protocol} upload ({offered})")

    async def upload(
        self,
        path: str,
        body: bytes | AsyncIterable[bytes],
        size: int | None = None,
        *,
        if_match: str | None = None,
        if_not_exist: bool = False,
        lock_id: str = "",
    ) -> UploadResult:
        """Write ``body`` (bytes, or an async iterable of chunks of ``size`` bytes in all)
        to ``path`` with one streamed ``simple`` PUT. The storage swaps the file in
        atomically; on any error the previous content is intact."""
        if isinstance(body, (bytes, bytearray, memoryview)):
            size = len(body)
        if size is None:
            raise errors.InvalidArgument(f"uploading {path} failed: the size must be known in advance")
        proto = await self._initiate_upload(
            path, "simple", size=size, if_match=if_match, if_not_exist=if_not_exist, lock_id=lock_id
        )
        headers = self._transfer_headers(proto.token, await self._access_token())
        headers["Upload-Length"] = str(size)
        headers["Content-Length"] = str(size)
        headers["Content-Type"] = "application/octet-stream"
        if lock_id:
            headers["X-Lock-Id"] = lock_id
        data = bytes(body) if isinstance(body, (bytearray, memoryview)) else body
        return await self._send("PUT", proto.upload_endpoint, headers, data, f"uploading {path}", path)

    async def start_tus_upload(
        self, path: str, *, if_match: str | None = None, lock_id: str = ""
    ) -> TusUpload:
        """Open an upload whose length is known only at its end (Lab's chunked uploads)."""
        proto = await self._initiate_upload(path, "tus", size=None, if_match=if_match, if_not_exist=False, lock_id=lock_id)
        return TusUpload(path=path, endpoint=proto.upload_endpoint, token=proto.token)

    async def append_tus_upload(self, upload: TusUpload, chunk: bytes, *, last: bool) -> UploadResult | None:
        """Append ``chunk`` at the upload's offset; ``last`` declares the final length
        and completes the upload (the file appears atomically)."""
        headers = self._transfer_headers(upload.token, await self._access_token())
        headers.update(
            {
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(upload.offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(len(chunk)),
            }
        )
        if last:
            headers["Upload-Length"] = str(upload.offset + len(chunk))
        result = await self._send("PATCH", upload.endpoint, headers, chunk, f"uploading {upload.path}", upload.path)
        upload.offset += len(chunk)
        return result if last else None

    async def _send(self, method: str, url: str, headers: dict[str, str], data, action: str, path: str) -> UploadResult:
        try:
            async with self._session().request(method, url, headers=headers, data=data) as resp:
                if resp.status >= 300:
                    raise errors.from_http(resp.status, await resp.text(errors="replace"), action, path)
                await resp.read()
                return UploadResult(
                    etag=resp.headers.get("OC-ETag") or resp.headers.get("ETag", ""),
                    file_id=resp.headers.get("OC-FileId", ""),
                )
        except aiohttp.ClientError as err:
            raise errors.Unavailable(f"{action} failed: the data gateway is unreachable ({type(err).__name__})", path=path) from None
        except asyncio.TimeoutError:
            raise errors.Unavailable(f"{action} failed: the data gateway timed out", path=path) from None

    @asynccontextmanager
    async def download(
        self, path: str, *, offset: int = 0, length: int | None = None, version_key: str | None = None
    ) -> AsyncIterator[tuple[dict[str, str], AsyncIterator[bytes]]]:
        """Stream ``path`` (or a byte range of it): ``async with client.download(p) as
        (headers, chunks): async for chunk in chunks: ...``. Memory stays bounded by
        the chunk size, whatever the file size. ``version_key`` (a key from
        :meth:`list_file_versions`) streams that version instead, as Reva's data gateway
        serves it (``?version_key=``; docs/architecture.md)."""
        request = sp.InitiateFileDownloadRequest(ref=reference(path))
        response = await self._call("InitiateFileDownload", request, f"downloading {path}", path)
        proto = next((p for p in response.protocols if p.protocol == "simple"), None)
        if proto is None:
            raise errors.Unimplemented(f"downloading {path} failed: the gateway offers no simple download")
        headers = self._transfer_headers(proto.token, await self._access_token())
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            headers["Range"] = f"bytes={offset}-{end}"
        action = f"downloading {path}"
        params = {"version_key": version_key} if version_key else None
        try:
            async with self._session().get(proto.download_endpoint, headers=headers, params=params) as resp:
                if resp.status >= 300:
                    raise errors.from_http(resp.status, await resp.text(errors="replace"), action, path)
                # receive the body in large pieces: asyncio's selector transport takes 256 KiB
                # a call, and relaying a download (Lab's /files/) then costs a third more CPU
                transport = resp.connection.transport if resp.connection is not None else None
                if getattr(transport, "max_size", None) is not None:
                    transport.max_size = max(transport.max_size, 2 * self.chunk_size)

                async def chunks() -> AsyncIterator[bytes]:
                    try:
                        async for chunk in resp.content.iter_any():
                            yield chunk
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        raise errors.Unavailable(f"{action} failed: the transfer broke off", path=path) from None

                yield dict(resp.headers), chunks()
        except aiohttp.ClientError as err:
            raise errors.Unavailable(f"{action} failed: the data gateway is unreachable ({type(err).__name__})", path=path) from None

    async def read_bytes(self, path: str, max_size: int | None = None) -> bytes:
        """The whole content of a small file (notebooks, text): for the Jupyter model only.
        Refuses files larger than ``max_size`` instead of filling memory."""
        async with self.download(path) as (headers, chunks):
            declared = int(headers.get("Content-Length", "0") or 0)
            if max_size is not None and declared > max_size:
                raise errors.TooLarge(
                    f"{path} is {declared} bytes, more than the {max_size} bytes that can be opened "
                    "in the editor; download it instead",
                    path=path,
                )
            buf = bytearray()
            async for chunk in chunks:
                buf += chunk
                if max_size is not None and len(buf) > max_size:
                    raise errors.TooLarge(f"{path} is larger than {max_size} bytes; download it instead", path=path)
            return bytes(buf)
