"""The CS3 ``GatewayAPI`` gRPC service of the embedded storage, and its entry points
:func:`serve` (a coroutine) and :func:`main` (the command line)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import logging
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import tornado.httpserver
import tornado.netutil
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.gateway.v1beta1 import resources_pb2 as gw_res
from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.identity.user.v1beta1 import user_api_pb2 as user_api
from cs3.rpc.v1beta1 import code_pb2, status_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as sp_res
from cs3.types.v1beta1 import types_pb2
from google.protobuf import message_factory

from . import datagateway
from .auth import ConfigError, TokenError, TokenManager, User, UserDirectory, load_or_create_secret
from .errors import InvalidArgument, StorageError
from .files import remove_tree
from .paths import HOME, STORAGE_ID, Loc
from .permissions import resource_permissions
from .store import NodeInfo, Store
from .transfers import UploadOptions

log = logging.getLogger("mesh_zenodo.storage")

DEFAULT_GRPC = "127.0.0.1:19000"
DEFAULT_HTTP = "127.0.0.1:19001"
SERVICE = gw.DESCRIPTOR.services_by_name["GatewayAPI"]

# Methods callable without an access token (as in Reva's gateway).
UNPROTECTED = frozenset(
    {
        "Authenticate",
        "ListAuthProviders",
        "GetUser",
        "GetUserByClaim",
        "GetUserGroups",
        "GetPublicShareByToken",
        "GetOCMShareByToken",
        "AcceptInvite",
        "IsProviderAllowed",
        "ListAllProviders",
    }
)

MD5 = sp_res.RESOURCE_CHECKSUM_TYPE_MD5


class StartupError(Exception):
    """The server could not start (e.g. a port is taken)."""


# --------------------------------------------------------------------------------------
# protobuf helpers
# --------------------------------------------------------------------------------------
def status(code: str = "OK", message: str = "") -> status_pb2.Status:
    return status_pb2.Status(code=code_pb2.Code.Value("CODE_" + code), message=message)


def ok() -> status_pb2.Status:
    return status("OK")


def user_id_proto(user: User) -> user_res.UserId:
    return user_res.UserId(idp=user.idp, opaque_id=user.opaque_id, type=user.type)


def user_proto(user: User, with_groups: bool = True) -> user_res.User:
    return user_res.User(
        id=user_id_proto(user),
        username=user.username,
        mail=user.mail,
        mail_verified=bool(user.mail),
        display_name=user.display_name,
        groups=list(user.groups) if with_groups else [],
    )


def timestamp_ns(ns: int) -> types_pb2.Timestamp:
    return types_pb2.Timestamp(seconds=ns // 1_000_000_000, nanos=ns % 1_000_000_000)


def resource_id(owner: str, node_id: str) -> sp_res.ResourceId:
    return sp_res.ResourceId(storage_id=STORAGE_ID, space_id=owner, opaque_id=node_id)


def resource_info(store: Store, info: NodeInfo) -> sp_res.ResourceInfo:
    ri = sp_res.ResourceInfo(
        type=sp_res.RESOURCE_TYPE_CONTAINER if info.is_dir else sp_res.RESOURCE_TYPE_FILE,
        id=resource_id(info.owner, info.id),
        path=info.path,
        name=info.name,
        size=info.size,
        etag=info.etag,
        mtime=timestamp_ns(info.mtime_ns),
        mime_type=info.mime_type,
        permission_set=resource_permissions(info.permissions),
    )
    if info.parent_id:
        ri.parent_id.CopyFrom(resource_id(info.owner, info.parent_id))
    owner = store.users.by_id(info.owner)
    if owner is not None:
        ri.owner.CopyFrom(user_id_proto(owner))
    if info.md5:
        ri.checksum.CopyFrom(sp_res.ResourceChecksum(type=MD5, sum=info.md5))
    if info.metadata:
        for key, value in info.metadata.items():
            ri.arbitrary_metadata.metadata[key] = value
    return ri


def _opaque_text(opaque: types_pb2.Opaque, key: str) -> str | None:
    if key not in opaque.map:
        return None
    try:
        return opaque.map[key].value.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidArgument(f"opaque entry {key} is not ASCII") from None


def _encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument("invalid page_token") from None


# --------------------------------------------------------------------------------------
# the service
# --------------------------------------------------------------------------------------
class GatewayService(gw_grpc.GatewayAPIServicer):
    """``cs3.gateway.v1beta1.GatewayAPI`` backed by a :class:`Store`.

    The RPCs we serve are the ``rpc_<Name>(request, context, user)`` coroutines (or async
    generators for server-streaming ones). At construction every one of the service's
    methods is bound on the instance to an async handler that checks the access token
    (unless the method is unprotected), runs ``rpc_<Name>`` and turns a
    :class:`StorageError` into the response's ``status``. Methods without ``rpc_<Name>``
    answer gRPC ``UNIMPLEMENTED``.
    """

    def __init__(self, store: Store, tokens: TokenManager, data_url: str):
        self.store = store
        self.users = store.users
        self.tokens = tokens
        self.data_url = data_url.rstrip("/")
        for method in SERVICE.methods:
            setattr(self, method.name, self._handler(method))

    # -- plumbing ----------------------------------------------------------------------
    async def _caller(self, name: str, context: grpc.aio.ServicerContext) -> User | None:
        token = None
        for key, value in context.invocation_metadata() or ():
            if key == "x-access-token":
                token = value
                break
        if not token:
            if name in UNPROTECTED:
                return None
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, f"{name}: missing x-access-token")
        try:
            return self.tokens.verify_access(token)
        except TokenError as exc:
            if name in UNPROTECTED:
                return None
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{name}: access token rejected: {exc}")
        return None  # not reached

    def _handler(self, method) -> Callable:
        name = method.name
        impl = getattr(self, "rpc_" + name, None)
        response_cls = message_factory.GetMessageClass(method.output_type)
        streaming = method.server_streaming

        def failure(exc: BaseException) -> Any:
            if isinstance(exc, StorageError):
                log.info("%s: %s %s", name, exc.code, exc.message)
                return response_cls(status=status(exc.code, exc.message))
            log.exception("%s failed", name)
            return response_cls(status=status("INTERNAL", f"{name} failed: internal error (see the storage log)"))

        if impl is None:
            message = f"{name} is not implemented by the mesh-zenodo storage"
            if streaming:

                async def unimplemented_stream(request, context):
                    await self._caller(name, context)
                    await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
                    yield  # pragma: no cover - makes this an async generator

                return unimplemented_stream

            async def unimplemented(request, context):
                await self._caller(name, context)
                await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

            return unimplemented

        if streaming:

            async def stream_handler(request, context):
                user = await self._caller(name, context)
                try:
                    async for response in impl(request, context, user):
                        yield response
                except grpc.aio.AbortError:
                    raise
                except Exception as exc:  # every error becomes a status
                    yield failure(exc)

            return stream_handler

        async def unary_handler(request, context):
            user = await self._caller(name, context)
            try:
                return await impl(request, context, user)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # every error becomes a status
                return failure(exc)

        return unary_handler

    def _resolve(self, user: User, ref: sp_res.Reference, what: str = "ref") -> Loc:
        rid = ref.resource_id
        if ref.HasField("resource_id") and rid.opaque_id:
            return self.store.resolve_id(user, rid.storage_id, rid.space_id, rid.opaque_id, ref.path)
        if ref.path:
            return self.store.resolve_path(user, ref.path)
        raise InvalidArgument(f"empty {what}: give an absolute path or a resource id")

    def _resolve_or_home(self, user: User, message, field: str = "ref") -> Loc:
        if message.HasField(field):
            ref = getattr(message, field)
            if ref.path or ref.resource_id.opaque_id:
                return self._resolve(user, ref, field)
        return self.store.ensure_home(user)

    # -- auth and users ----------------------------------------------------------------
    async def rpc_Authenticate(self, request, context, _user):
        if request.type not in ("basic", ""):
            return gw.AuthenticateResponse(
                status=status("INVALID_ARGUMENT", f"unsupported authentication type {request.type!r} (use 'basic')")
            )
        user = self.users.authenticate(request.client_id, request.client_secret)
        if user is None:
            log.info("Authenticate: wrong username or password for %r", request.client_id[:64])
            return gw.AuthenticateResponse(status=status("UNAUTHENTICATED", "wrong username or password"))
        self.store.ensure_home(user)
        return gw.AuthenticateResponse(status=ok(), token=self.tokens.mint_access(user), user=user_proto(user))

    async def rpc_WhoAmI(self, request, context, user):
        if request.token:
            try:
                user = self.tokens.verify_access(request.token)
            except TokenError as exc:
                return gw.WhoAmIResponse(status=status("UNAUTHENTICATED", f"token rejected: {exc}"))
        return gw.WhoAmIResponse(status=ok(), user=user_proto(user))

    async def rpc_GetUser(self, request, context, _user):
        uid = request.user_id
        found = self.users.by_id(uid.opaque_id)
        if found is None or (uid.idp and uid.idp != found.idp):
            return user_api.GetUserResponse(status=status("NOT_FOUND", "no such user"))
        return user_api.GetUserResponse(status=ok(), user=user_proto(found, not request.skip_fetching_user_groups))

    async def rpc_GetUserByClaim(self, request, context, _user):
        claim = request.claim
        if claim == "username":
            found = self.users.by_username(request.value)
        elif claim == "mail":
            found = self.users.by_mail(request.value)
        elif claim in ("userid", "user_id", "opaque_id"):
            found = self.users.by_id(request.value)
        else:
            return user_api.GetUserByClaimResponse(
                status=status("INVALID_ARGUMENT", f"unsupported claim {claim!r} (username, mail or userid)")
            )
        if found is None:
            return user_api.GetUserByClaimResponse(
                status=status("NOT_FOUND", f"no user with {claim} {request.value!r}")
            )
        return user_api.GetUserByClaimResponse(
            status=ok(), user=user_proto(found, not request.skip_fetching_user_groups)
        )

    async def rpc_FindUsers(self, request, context, _user):
        users = list(self.users)
        for flt in request.filters:
            if flt.type == user_api.Filter.TYPE_QUERY:
                matches = {u.opaque_id for u in self.users.find(flt.query)}
                users = [u for u in users if u.opaque_id in matches]
            elif flt.type == user_api.Filter.TYPE_USERTYPE:
                users = [u for u in users if u.type == flt.usertype]
            else:
                return user_api.FindUsersResponse(status=status("INVALID_ARGUMENT", "unsupported filter type"))
        return user_api.FindUsersResponse(
            status=ok(), users=[user_proto(u, not request.skip_fetching_user_groups) for u in users]
        )

    # -- namespace -----------------------------------------------------------------
    async def rpc_GetHome(self, request, context, user):
        self.store.ensure_home(user)
        return sp.GetHomeResponse(status=ok(), path=HOME)

    async def rpc_Stat(self, request, context, user):
        loc = self._resolve(user, request.ref)
        info = self.store.stat(user, loc, list(request.arbitrary_metadata_keys))
        await self.store.fill_checksums([info])
        return sp.StatResponse(status=ok(), info=resource_info(self.store, info))

    def _list(self, user, request):
        loc = self._resolve(user, request.ref)
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative")
        after = _decode_token(request.page_token) if request.page_token else None
        infos, more = self.store.list_container(
            user, loc, list(request.arbitrary_metadata_keys), after=after, limit=request.page_size
        )
        return infos, (_encode_token(more) if more is not None else "")

    async def rpc_ListContainer(self, request, context, user):
        infos, next_token = self._list(user, request)
        await self.store.fill_checksums(infos)
        return sp.ListContainerResponse(
            status=ok(), infos=[resource_info(self.store, i) for i in infos], next_page_token=next_token
        )

    async def rpc_ListContainerStream(self, request, context, user) -> AsyncIterator[Any]:
        infos, next_token = self._list(user, request)
        for info in infos:
            await self.store.fill_checksums([info])
            yield sp.ListContainerStreamResponse(
                status=ok(), info=resource_info(self.store, info), next_page_token=next_token
            )

    async def rpc_CreateContainer(self, request, context, user):
        self.store.create_container(user, self._resolve(user, request.ref))
        return sp.CreateContainerResponse(status=ok())

    async def rpc_TouchFile(self, request, context, user):
        self.store.touch_file(user, self._resolve(user, request.ref))
        return sp.TouchFileResponse(status=ok())

    async def rpc_Delete(self, request, context, user):
        self.store.delete(user, self._resolve(user, request.ref))
        return sp.DeleteResponse(status=ok())

    async def rpc_Move(self, request, context, user):
        src = self._resolve(user, request.source, "source")
        dst = self._resolve(user, request.destination, "destination")
        self.store.move(user, src, dst)
        return sp.MoveResponse(status=ok())

    # -- metadata --------------------------------------------------------------------
    async def rpc_SetArbitraryMetadata(self, request, context, user):
        loc = self._resolve(user, request.ref)
        self.store.set_metadata(user, loc, dict(request.arbitrary_metadata.metadata))
        return sp.SetArbitraryMetadataResponse(status=ok())

    async def rpc_UnsetArbitraryMetadata(self, request, context, user):
        loc = self._resolve(user, request.ref)
        self.store.unset_metadata(user, loc, list(request.arbitrary_metadata_keys))
        return sp.UnsetArbitraryMetadataResponse(status=ok())

    async def rpc_GetQuota(self, request, context, user):
        loc = self._resolve_or_home(user, request)
        total, used, remaining = self.store.quota_of(user, loc)
        opaque = types_pb2.Opaque()
        opaque.map["remaining"].CopyFrom(types_pb2.OpaqueEntry(decoder="plain", value=str(remaining).encode()))
        return sp.GetQuotaResponse(status=ok(), total_bytes=total, used_bytes=used, opaque=opaque)

    # -- data transfer -----------------------------------------------------------------
    async def rpc_InitiateFileUpload(self, request, context, user):
        loc = self._resolve(user, request.ref)
        opts = UploadOptions(lock_id=request.lock_id)
        length = _opaque_text(request.opaque, "Upload-Length")
        if length is not None and length != "":
            if not length.isdigit():
                raise InvalidArgument(f"Upload-Length must be a non-negative integer, not {length[:40]!r}")
            opts.length = int(length)
        option = request.WhichOneof("options")
        if option == "if_not_exist":
            opts.if_not_exist = request.if_not_exist
        elif option == "if_match":
            opts.if_match = request.if_match
        elif option == "if_unmodified_since":
            ts = request.if_unmodified_since
            opts.if_unmodified_since_ns = ts.seconds * 1_000_000_000 + ts.nanos
        session_id = uuid.uuid4().hex
        token, expires = self.tokens.mint_transfer(session_id, "upload")
        self.store.transfers.initiate_upload(user, loc, opts, session_id, expires)
        checksums = [sp_res.ResourceChecksumPriority(type=MD5, priority=100)]
        protocols = [
            gw_res.FileUploadProtocol(
                protocol=proto,
                upload_endpoint=f"{self.data_url}/data/{proto}/{session_id}",
                available_checksums=checksums,
                token=token,
            )
            for proto in ("simple", "tus")
        ]
        return gw.InitiateFileUploadResponse(status=ok(), protocols=protocols)

    async def rpc_InitiateFileDownload(self, request, context, user):
        loc = self._resolve(user, request.ref)
        session_id = uuid.uuid4().hex
        token, expires = self.tokens.mint_transfer(session_id, "download")
        self.store.transfers.initiate_download(user, loc, session_id, expires)
        protocol = gw_res.FileDownloadProtocol(
            protocol="simple", download_endpoint=f"{self.data_url}/data/simple/{session_id}", token=token
        )
        return gw.InitiateFileDownloadResponse(status=ok(), protocols=[protocol])

    # -- versions --------------------------------------------------------------------
    async def rpc_ListFileVersions(self, request, context, user):
        loc = self._resolve(user, request.ref)
        versions = self.store.versions.list(user, loc)
        start = 0
        if request.page_token:
            token = _decode_token(request.page_token)
            if not token.isdigit():
                raise InvalidArgument("invalid page_token")
            start = int(token)
        end = start + request.page_size if request.page_size > 0 else len(versions)
        next_token = _encode_token(str(end)) if end < len(versions) else ""
        return sp.ListFileVersionsResponse(
            status=ok(),
            versions=[
                sp_res.FileVersion(key=v.key, size=v.size, mtime=v.mtime_ns // 1_000_000_000, etag=v.etag)
                for v in versions[start:end]
            ],
            next_page_token=next_token,
        )

    async def rpc_RestoreFileVersion(self, request, context, user):
        loc = self._resolve(user, request.ref)
        await self.store.versions.restore(user, loc, request.key)
        return sp.RestoreFileVersionResponse(status=ok())

    # -- recycle bin -----------------------------------------------------------------
    async def rpc_ListRecycle(self, request, context, user):
        loc = self._resolve_or_home(user, request)
        items = self.store.recycle.list(user, loc, request.key)
        if request.HasField("from_ts"):
            items = [i for i in items if i.deletion_ns >= request.from_ts.seconds * 1_000_000_000]
        if request.HasField("to_ts"):
            items = [i for i in items if i.deletion_ns <= (request.to_ts.seconds + 1) * 1_000_000_000]
        return sp.ListRecycleResponse(
            status=ok(),
            recycle_items=[
                sp_res.RecycleItem(
                    type=sp_res.RESOURCE_TYPE_CONTAINER if i.is_dir else sp_res.RESOURCE_TYPE_FILE,
                    key=i.key,
                    ref=sp_res.Reference(path=i.path),
                    size=i.size,
                    deletion_time=timestamp_ns(i.deletion_ns),
                )
                for i in items
            ],
        )

    async def rpc_RestoreRecycleItem(self, request, context, user):
        loc = self._resolve_or_home(user, request)
        if not request.key:
            raise InvalidArgument("RestoreRecycleItem needs the key of the item")
        target = None
        if request.HasField("restore_ref") and (request.restore_ref.path or request.restore_ref.resource_id.opaque_id):
            target = self._resolve(user, request.restore_ref, "restore_ref")
        self.store.recycle.restore(user, loc, request.key, target)
        return sp.RestoreRecycleItemResponse(status=ok())

    async def rpc_PurgeRecycle(self, request, context, user):
        loc = self._resolve_or_home(user, request)
        self.store.recycle.purge(user, loc, request.key)
        await purge_now(self.store)
        return sp.PurgeRecycleResponse(status=ok())


async def purge_now(store: Store) -> None:
    for path in store.purge_pending():
        await asyncio.to_thread(remove_tree, path)


# --------------------------------------------------------------------------------------
# serve / main
# --------------------------------------------------------------------------------------
def parse_address(value: str, what: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{what} address must be HOST:PORT, not {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def serve(
    root: str | Path,
    grpc_addr: str = DEFAULT_GRPC,
    http_addr: str = DEFAULT_HTTP,
    users_file: str | Path | None = None,
    *,
    token_lifetime: int = 3600,
    quota: int | None = None,
    max_versions: int = 50,
    data_url: str | None = None,
    stop_event: asyncio.Event | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Run the storage until ``stop_event`` is set (or SIGTERM/SIGINT arrives).

    Raises :class:`~.auth.ConfigError` for a bad configuration and
    :class:`StartupError` when a port cannot be bound.
    """
    users = UserDirectory.from_file(users_file) if users_file else UserDirectory()
    grpc_host, grpc_port = parse_address(grpc_addr, "gRPC")
    http_host, http_port = parse_address(http_addr, "HTTP")
    if token_lifetime <= 0:
        raise ConfigError("token lifetime must be positive")
    try:
        store = Store(Path(root), users, quota=quota, max_versions=max_versions)
    except OSError as exc:
        raise ConfigError(f"cannot use storage root {str(root)!r}: {exc.strerror or exc}") from None
    except Exception as exc:  # sqlite3.DatabaseError and friends
        raise ConfigError(f"cannot open the storage database in {str(root)!r}: {exc}") from None
    loop = asyncio.get_running_loop()
    stop = stop_event or asyncio.Event()
    grpc_server = None
    http_server = None
    cleaner = None
    handled: list[int] = []
    try:
        tokens = TokenManager(load_or_create_secret(store.meta_dir / "jwt-secret"), users, token_lifetime)
        store.transfers.cleanup(startup=True)
        await purge_now(store)

        # bind both ports before announcing anything
        try:
            sockets = tornado.netutil.bind_sockets(http_port, http_host)
        except OSError as exc:
            raise StartupError(f"cannot listen on {http_addr} (HTTP): {exc.strerror or exc}") from None
        http_port = sockets[0].getsockname()[1]
        advertised_host = http_host if http_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        public = (data_url or f"http://{format_address(advertised_host, http_port)}").rstrip("/")

        grpc_server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        gw_grpc.add_GatewayAPIServicer_to_server(GatewayService(store, tokens, public), grpc_server)
        try:
            bound = grpc_server.add_insecure_port(format_address(grpc_host, grpc_port))
        except RuntimeError:
            bound = 0
        if not bound:
            for sock in sockets:
                sock.close()
            raise StartupError(f"cannot listen on {grpc_addr} (gRPC): address in use or not available")
        grpc_port = bound

        app = datagateway.make_app(store, tokens)
        http_server = tornado.httpserver.HTTPServer(
            app, max_body_size=1 << 62, max_buffer_size=4 * 1024 * 1024, chunk_size=1 << 20, idle_connection_timeout=3600
        )
        http_server.add_sockets(sockets)
        await grpc_server.start()

        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, stop.set)
                    handled.append(sig)

        async def periodic_cleanup() -> None:
            while True:
                await asyncio.sleep(300)
                try:
                    store.transfers.cleanup()
                    await purge_now(store)
                except Exception:
                    log.exception("periodic cleanup failed")

        cleaner = asyncio.create_task(periodic_cleanup())
        print(
            f"mesh-zenodo storage: gRPC on {format_address(grpc_host, grpc_port)}, "
            f"data gateway on {public}, root {store.root}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
        log.info("mesh-zenodo storage: shutting down")
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        if cleaner is not None:
            cleaner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cleaner
        if http_server is not None:
            http_server.stop()
        if grpc_server is not None:
            await grpc_server.stop(grace=2)
        if http_server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(http_server.close_all_connections(), 5)
            await asyncio.sleep(0)  # let connection-close callbacks remove partial uploads
        store.close()


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mesh-zenodo storage",
        description="Embedded CS3 storage: a GatewayAPI gRPC server and a Reva-style HTTP data gateway "
        "backed by a folder and SQLite.",
    )
    parser.add_argument("--root", required=True, help="storage folder (created if missing)")
    parser.add_argument(
        "--grpc", default=DEFAULT_GRPC, metavar="HOST:PORT", help=f"gRPC gateway address ({DEFAULT_GRPC})"
    )
    parser.add_argument(
        "--http", default=DEFAULT_HTTP, metavar="HOST:PORT", help=f"HTTP data gateway address ({DEFAULT_HTTP})"
    )
    parser.add_argument(
        "--users", metavar="FILE", help="users JSON in Reva's users.demo.json shape (default: Reva's demo users)"
    )
    parser.add_argument("--token-lifetime", type=_positive_int, default=3600, help=argparse.SUPPRESS)
    parser.add_argument("--quota", type=_positive_int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--max-versions", type=_positive_int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--data-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default="WARNING", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``mesh-zenodo storage`` / ``python -m mesh_zenodo.storage``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the problem
        return int(exc.code or 0)
    level = getattr(logging, str(args.log_level).upper(), None)
    if not isinstance(level, int):
        print(f"mesh-zenodo storage: error: unknown log level {args.log_level!r}", file=sys.stderr)
        return 2
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("tornado.access").setLevel(max(level, logging.WARNING))
    try:
        asyncio.run(
            serve(
                args.root,
                args.grpc,
                args.http,
                args.users,
                token_lifetime=args.token_lifetime,
                quota=args.quota,
                max_versions=args.max_versions,
                data_url=args.data_url,
            )
        )
    except ConfigError as exc:
        print(f"mesh-zenodo storage: error: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"mesh-zenodo storage: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
