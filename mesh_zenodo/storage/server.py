"""The CS3 ``GatewayAPI`` gRPC service of the embedded storage (the program around it:
:mod:`.program`).

Every RPC does its store work in ONE call on the store's thread (:meth:`Store.run`):
the event loop never waits for SQLite or the file system, and the work of one RPC is
atomic with respect to the others. A folder is listed in batches (other clients' calls
run in between), and no answer exceeds gRPC's default 4 MiB message limit: a
``ListContainer`` page is cut where it would (``next_page_token`` says where to go on),
``ListContainerStream`` sends one entry per message, any other answer that would not
fit is ``CODE_RESOURCE_EXHAUSTED`` in its status."""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
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

from .auth import TokenError, TokenManager, User
from .decimals import parse_decimal
from .errors import InvalidArgument, ResourceExhausted, StorageError, translate
from .files import remove_tree
from .nodes import NodeInfo
from .paths import HOME, STORAGE_ID, Loc
from .permissions import resource_permissions
from .store import Store
from .transfers import UploadOptions
from .worker import blocking

log = logging.getLogger("mesh_zenodo.storage")

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

#: gRPC's default limit for a received message (what a standard client accepts)
GRPC_MESSAGE_LIMIT = 4 * 1024 * 1024
#: the largest answer we send (room left for gRPC's own framing)
MAX_ANSWER = GRPC_MESSAGE_LIMIT - 64 * 1024
#: the entries of a ListContainer page stop here (a page is cut into the next)
LIST_PAGE_BYTES = 3 * 1024 * 1024
#: entries read per call on the store's thread while listing a folder
LIST_BATCH = 64


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
            exc = translate(exc)
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
                response = await impl(request, context, user)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # every error becomes a status
                return failure(exc)
            if response.ByteSize() > MAX_ANSWER:
                return failure(
                    ResourceExhausted(f"{name}: the answer would exceed gRPC's message limit; ask for less")
                )
            return response

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
        # Nothing is written to sign in (the home is made on first use): signing in works
        # on a full disk, and never waits for the store.
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
        await self.store.run(self.store.ensure_home, user)
        return sp.GetHomeResponse(status=ok(), path=HOME)

    async def rpc_Stat(self, request, context, user):
        keys = list(request.arbitrary_metadata_keys)
        info = await self.store.run(lambda: self.store.stat(user, self._resolve(user, request.ref), keys))
        await self.store.fill_checksums([info])
        return sp.StatResponse(status=ok(), info=resource_info(self.store, info))

    async def _listing(self, user, request):
        """Start listing: (folder, its id, the names to list)."""
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative")
        after = _decode_token(request.page_token) if request.page_token else None

        def start():
            loc = self._resolve(user, request.ref)
            parent_id, names = self.store.list_names(user, loc, after)
            return loc, parent_id, names

        return await self.store.run(start)

    async def _entries(self, user, loc, parent_id, names, md_keys) -> AsyncIterator[sp_res.ResourceInfo]:
        """The ResourceInfos of ``names``, read a batch per call on the store's thread."""
        for i in range(0, len(names), LIST_BATCH):
            infos = await self.store.run(self.store.list_batch, user, loc, parent_id, names[i : i + LIST_BATCH], md_keys)
            await self.store.fill_checksums(infos)
            for info in infos:
                yield resource_info(self.store, info)

    async def rpc_ListContainer(self, request, context, user):
        loc, parent_id, names = await self._listing(user, request)
        limit = request.page_size or len(names)
        infos: list[sp_res.ResourceInfo] = []
        size = 0
        cut = False
        async for ri in self._entries(user, loc, parent_id, names[:limit], list(request.arbitrary_metadata_keys)):
            entry = ri.ByteSize() + 8  # + the field's tag and length
            if entry > LIST_PAGE_BYTES:
                raise ResourceExhausted(
                    f"the entry {ri.path} is too large to list (its metadata?): Stat it with fewer metadata keys"
                )
            if size + entry > LIST_PAGE_BYTES:
                cut = True
                break
            infos.append(ri)
            size += entry
        more = cut or limit < len(names)
        next_token = _encode_token(infos[-1].name) if more and infos else ""
        return sp.ListContainerResponse(status=ok(), infos=infos, next_page_token=next_token)

    async def rpc_ListContainerStream(self, request, context, user) -> AsyncIterator[Any]:
        loc, parent_id, names = await self._listing(user, request)
        limit = request.page_size or len(names)
        next_token = _encode_token(names[limit - 1]) if limit < len(names) else ""
        async for ri in self._entries(user, loc, parent_id, names[:limit], list(request.arbitrary_metadata_keys)):
            if ri.ByteSize() > MAX_ANSWER:
                raise ResourceExhausted(
                    f"the entry {ri.path} is too large to list (its metadata?): Stat it with fewer metadata keys"
                )
            yield sp.ListContainerStreamResponse(status=ok(), info=ri, next_page_token=next_token)

    async def rpc_CreateContainer(self, request, context, user):
        await self.store.run(lambda: self.store.create_container(user, self._resolve(user, request.ref)))
        return sp.CreateContainerResponse(status=ok())

    async def rpc_TouchFile(self, request, context, user):
        await self.store.run(lambda: self.store.touch_file(user, self._resolve(user, request.ref)))
        return sp.TouchFileResponse(status=ok())

    async def rpc_Delete(self, request, context, user):
        await self.store.run(lambda: self.store.delete(user, self._resolve(user, request.ref)))
        return sp.DeleteResponse(status=ok())

    async def rpc_Move(self, request, context, user):
        def move():
            src = self._resolve(user, request.source, "source")
            dst = self._resolve(user, request.destination, "destination")
            self.store.move(user, src, dst)

        await self.store.run(move)
        return sp.MoveResponse(status=ok())

    # -- metadata --------------------------------------------------------------------
    async def rpc_SetArbitraryMetadata(self, request, context, user):
        items = dict(request.arbitrary_metadata.metadata)
        await self.store.run(lambda: self.store.set_metadata(user, self._resolve(user, request.ref), items))
        return sp.SetArbitraryMetadataResponse(status=ok())

    async def rpc_UnsetArbitraryMetadata(self, request, context, user):
        keys = list(request.arbitrary_metadata_keys)
        await self.store.run(lambda: self.store.unset_metadata(user, self._resolve(user, request.ref), keys))
        return sp.UnsetArbitraryMetadataResponse(status=ok())

    async def rpc_GetQuota(self, request, context, user):
        total, used, remaining = await self.store.run(
            lambda: self.store.usage.quota_of(user, self._resolve_or_home(user, request))
        )
        opaque = types_pb2.Opaque()
        opaque.map["remaining"].CopyFrom(types_pb2.OpaqueEntry(decoder="plain", value=str(remaining).encode()))
        return sp.GetQuotaResponse(status=ok(), total_bytes=total, used_bytes=used, opaque=opaque)

    # -- data transfer -----------------------------------------------------------------
    async def rpc_InitiateFileUpload(self, request, context, user):
        opts = UploadOptions(lock_id=request.lock_id)
        length = _opaque_text(request.opaque, "Upload-Length")
        if length is not None and length != "":
            opts.length = parse_decimal(length, "Upload-Length")
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
        await self.store.run(
            lambda: self.store.transfers.initiate_upload(user, self._resolve(user, request.ref), opts, session_id, expires)
        )
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
        def initiate():
            loc = self._resolve(user, request.ref)
            return loc.owner, self.store.transfers.initiate_download(user, loc)

        owner, node_id = await self.store.run(initiate)
        # A stateless session, as Reva's: the token names the file (nothing is written,
        # so downloads work on a full disk).
        session_id = uuid.uuid4().hex
        token, _expires = self.tokens.mint_transfer(
            session_id, "download", node=node_id, owner=owner, user=user.opaque_id
        )
        protocol = gw_res.FileDownloadProtocol(
            protocol="simple", download_endpoint=f"{self.data_url}/data/simple/{session_id}", token=token
        )
        return gw.InitiateFileDownloadResponse(status=ok(), protocols=[protocol])

    # -- versions --------------------------------------------------------------------
    async def rpc_ListFileVersions(self, request, context, user):
        versions = await self.store.run(lambda: self.store.versions.list(user, self._resolve(user, request.ref)))
        start = 0
        if request.page_token:
            try:
                start = parse_decimal(_decode_token(request.page_token), "page_token")
            except InvalidArgument:
                raise InvalidArgument("invalid page_token") from None
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
        loc = await self.store.run(self._resolve, user, request.ref)
        await self.store.versions.restore(user, loc, request.key)
        return sp.RestoreFileVersionResponse(status=ok())

    # -- recycle bin -----------------------------------------------------------------
    async def rpc_ListRecycle(self, request, context, user):
        items = await self.store.run(
            lambda: self.store.recycle.list(user, self._resolve_or_home(user, request), request.key)
        )
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
        if not request.key:
            raise InvalidArgument("RestoreRecycleItem needs the key of the item")

        def restore():
            loc = self._resolve_or_home(user, request)
            target = None
            if request.HasField("restore_ref") and (
                request.restore_ref.path or request.restore_ref.resource_id.opaque_id
            ):
                target = self._resolve(user, request.restore_ref, "restore_ref")
            self.store.recycle.restore(user, loc, request.key, target)

        await self.store.run(restore)
        return sp.RestoreRecycleItemResponse(status=ok())

    async def rpc_PurgeRecycle(self, request, context, user):
        await self.store.run(lambda: self.store.recycle.purge(user, self._resolve_or_home(user, request), request.key))
        await purge_now(self.store)
        return sp.PurgeRecycleResponse(status=ok())


async def purge_now(store: Store) -> None:
    for path in await blocking(store.purge_pending):
        await blocking(remove_tree, path)
