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
from cs3.identity.group.v1beta1 import group_api_pb2 as group_api
from cs3.identity.group.v1beta1 import resources_pb2 as group_res
from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.identity.user.v1beta1 import user_api_pb2 as user_api
from cs3.rpc.v1beta1 import code_pb2, status_pb2
from cs3.sharing.collaboration.v1beta1 import collaboration_api_pb2 as col_api
from cs3.sharing.collaboration.v1beta1 import resources_pb2 as col_res
from cs3.sharing.link.v1beta1 import link_api_pb2 as link_api
from cs3.sharing.link.v1beta1 import resources_pb2 as link_res
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import provider_api_pb2_grpc as sp_grpc
from cs3.storage.provider.v1beta1 import resources_pb2 as sp_res
from cs3.storage.provider.v1beta1 import spaces_api_pb2 as spaces_api
from cs3.types.v1beta1 import types_pb2
from google.protobuf import message_factory

from .auth import TokenError, TokenManager, User
from .oidc import BearerVerifier
from .decimals import parse_decimal
from .errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    StorageError,
    Unimplemented,
    translate,
)
from .files import remove_tree
from .nodes import NodeInfo
from .paths import HOME, SHARES_PATH, STORAGE_ID, Loc
from .links import PublicLink, check_password, check_password_text, hash_password
from .locks import Lock, LockSpec
from .permissions import PERMISSIONS, resource_permissions
from .shares import GRANTEE_GROUP, GRANTEE_USER, Received, Share
from .spaces import PERSONAL, PROJECT, ROLES, Space, check_not_personal, role_of
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


def request_id_of(context) -> str:
    """The caller's request id (gRPC metadata ``x-request-id``, as Reva passes it), for logs."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            return value[:64]
    return "-"


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
    if info.lock is not None:
        ri.lock.CopyFrom(lock_proto(store, info.lock))
    return ri


def lock_proto(store: Store, lock: Lock) -> sp_res.Lock:
    holder = store.users.by_id(lock.user_id)
    proto = sp_res.Lock(
        lock_id=lock.lock_id,
        type=lock.type,
        user=user_id_proto(holder) if holder is not None else user_res.UserId(idp=lock.idp, opaque_id=lock.user_id),
        app_name=lock.app_name,
        creation_time=timestamp_ns(lock.creation_ns),
    )
    if lock.expiration_ns:
        proto.expiration.CopyFrom(timestamp_ns(lock.expiration_ns))
    return proto


def lock_spec(lock: sp_res.Lock) -> LockSpec:
    """The lock a request gives (an unset expiration: none)."""
    expiration = _timestamp_ns(lock.expiration) if lock.HasField("expiration") else 0
    return LockSpec(
        lock_id=lock.lock_id, type=lock.type, user_id=lock.user.opaque_id, app_name=lock.app_name,
        expiration_ns=expiration,
    )


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
    answer as Reva does: a response whose ``status.code`` is ``CODE_UNIMPLEMENTED`` (not a
    gRPC-level error), so that clients can tell and fall back.
    """

    def __init__(self, store: Store, tokens: TokenManager, data_url: str, bearer: BearerVerifier | None = None):
        self.store = store
        self.users = store.users
        self.tokens = tokens
        self.bearer = bearer  # OIDC bearer tokens at Authenticate (oidc.py), if configured
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

        def failure(exc: BaseException, context) -> Any:
            exc = translate(exc)
            rid = request_id_of(context)
            if isinstance(exc, StorageError):
                log.info("%s: %s %s request_id=%s", name, exc.code, exc.message, rid)
                return response_cls(status=status(exc.code, exc.message))
            log.exception("%s failed request_id=%s", name, rid)
            return response_cls(status=status("INTERNAL", f"{name} failed: internal error (see the storage log)"))

        if impl is None:
            message = f"{name} is not implemented by the mesh-zenodo storage"
            if streaming:

                async def unimplemented_stream(request, context):
                    await self._caller(name, context)
                    yield response_cls(status=status("UNIMPLEMENTED", message))

                return unimplemented_stream

            async def unimplemented(request, context):
                await self._caller(name, context)
                return response_cls(status=status("UNIMPLEMENTED", message))

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
                    yield failure(exc, context)

            return stream_handler

        async def unary_handler(request, context):
            user = await self._caller(name, context)
            try:
                response = await impl(request, context, user)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # every error becomes a status
                return failure(exc, context)
            if response.ByteSize() > MAX_ANSWER:
                return failure(
                    ResourceExhausted(f"{name}: the answer would exceed gRPC's message limit; ask for less"), context
                )
            log.debug("%s: OK request_id=%s", name, request_id_of(context))
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
        if request.type == "bearer":  # an OIDC access token (storage/oidc.py)
            if self.bearer is None:
                return gw.AuthenticateResponse(status=status(
                    "INVALID_ARGUMENT", "bearer tokens are not accepted here (start the storage with --oidc-issuer)"))
            try:
                user = self.bearer.user(request.client_secret, self.users)
            except TokenError as exc:
                log.info("Authenticate: bearer token refused: %s", exc)
                return gw.AuthenticateResponse(status=status("UNAUTHENTICATED", str(exc)))
            return gw.AuthenticateResponse(status=ok(), token=self.tokens.mint_access(user), user=user_proto(user))
        if request.type not in ("basic", ""):
            return gw.AuthenticateResponse(status=status(
                "INVALID_ARGUMENT", f"unsupported authentication type {request.type!r} (use 'basic' or 'bearer')"))
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

    # -- groups (groups.py; users' groups) ------------------------------------------------
    def _group_proto(self, group, with_members: bool = True) -> group_res.Group:
        return group_res.Group(
            id=group_res.GroupId(idp=group.idp, opaque_id=group.opaque_id, type=group_res.GROUP_TYPE_REGULAR),
            group_name=group.group_name,
            mail=group.mail,
            mail_verified=bool(group.mail),
            display_name=group.display_name,
            gid_number=group.gid_number,
            members=[user_id_proto(u) for u in (self.users.by_id(m) for m in group.members) if u is not None]
            if with_members
            else [],
        )

    def _group(self, group_id) -> Any:
        group = self.users.groups.by_id(group_id.opaque_id) or self.users.groups.by_name(group_id.opaque_id)
        if group is None or (group_id.idp and group_id.idp != group.idp):
            raise NotFound("no such group")
        return group

    async def rpc_FindGroups(self, request, context, _user):
        groups = list(self.users.groups)
        for flt in request.filters:
            if flt.type == group_api.Filter.TYPE_QUERY:
                matches = {g.opaque_id for g in self.users.groups.find(flt.query)}
                groups = [g for g in groups if g.opaque_id in matches]
            elif flt.type == group_api.Filter.TYPE_GROUPTYPE:
                if flt.grouptype != group_res.GROUP_TYPE_REGULAR:
                    groups = []
            else:
                raise InvalidArgument("unsupported filter type")
        return group_api.FindGroupsResponse(
            status=ok(), groups=[self._group_proto(g, not request.skip_fetching_members) for g in groups]
        )

    async def rpc_GetGroup(self, request, context, _user):
        group = self._group(request.group_id)
        return group_api.GetGroupResponse(status=ok(), group=self._group_proto(group, not request.skip_fetching_members))

    async def rpc_GetGroupByClaim(self, request, context, _user):
        groups = self.users.groups
        claim, value = request.claim, request.value
        if claim in ("group_name", "groupname"):
            group = groups.by_name(value)
        elif claim == "mail":
            group = groups.by_mail(value)
        elif claim in ("group_id", "groupid", "opaque_id"):
            group = groups.by_id(value)
        elif claim == "gid_number":
            group = groups.by_gid(int(value)) if value.isascii() and value.isdigit() and len(value) < 19 else None
        else:
            raise InvalidArgument(f"unsupported claim {claim!r} (group_name, mail, group_id or gid_number)")
        if group is None:
            raise NotFound(f"no group with {claim} {value!r}")
        return group_api.GetGroupByClaimResponse(
            status=ok(), group=self._group_proto(group, not request.skip_fetching_members)
        )

    async def rpc_GetMembers(self, request, context, _user):
        group = self._group(request.group_id)
        return group_api.GetMembersResponse(status=ok(), members=self._group_proto(group).members)

    async def rpc_HasMember(self, request, context, _user):
        group = self._group(request.group_id)
        member = request.user_id.opaque_id in group.members and self.users.by_id(request.user_id.opaque_id) is not None
        return group_api.HasMemberResponse(status=ok(), ok=member)

    async def rpc_GetUserGroups(self, request, context, _user):
        found = self.users.by_id(request.user_id.opaque_id)
        if found is None or (request.user_id.idp and request.user_id.idp != found.idp):
            raise NotFound("no such user")
        return user_api.GetUserGroupsResponse(status=ok(), groups=list(found.groups))

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
        await self.store.run(lambda: self.store.touch_file(user, self._resolve(user, request.ref), request.lock_id))
        return sp.TouchFileResponse(status=ok())

    async def rpc_Delete(self, request, context, user):
        await self.store.run(lambda: self.store.delete(user, self._resolve(user, request.ref), request.lock_id))
        return sp.DeleteResponse(status=ok())

    async def rpc_Move(self, request, context, user):
        def move():
            src = self._resolve(user, request.source, "source")
            dst = self._resolve(user, request.destination, "destination")
            self.store.move(user, src, dst, request.lock_id)

        await self.store.run(move)
        return sp.MoveResponse(status=ok())

    # -- metadata --------------------------------------------------------------------
    async def rpc_SetArbitraryMetadata(self, request, context, user):
        items = dict(request.arbitrary_metadata.metadata)
        await self.store.run(
            lambda: self.store.set_metadata(user, self._resolve(user, request.ref), items, request.lock_id)
        )
        return sp.SetArbitraryMetadataResponse(status=ok())

    async def rpc_UnsetArbitraryMetadata(self, request, context, user):
        keys = list(request.arbitrary_metadata_keys)
        await self.store.run(
            lambda: self.store.unset_metadata(user, self._resolve(user, request.ref), keys, request.lock_id)
        )
        return sp.UnsetArbitraryMetadataResponse(status=ok())

    # -- locks (locks.py; docs/locks.md) ----------------------------------------------------
    async def rpc_SetLock(self, request, context, user):
        spec = lock_spec(request.lock)
        await self.store.run(lambda: self.store.locks.set(user, self._resolve(user, request.ref), spec))
        return sp.SetLockResponse(status=ok())

    async def rpc_GetLock(self, request, context, user):
        lock = await self.store.run(lambda: self.store.locks.get_for(user, self._resolve(user, request.ref)))
        return sp.GetLockResponse(status=ok(), lock=lock_proto(self.store, lock))

    async def rpc_RefreshLock(self, request, context, user):
        spec = lock_spec(request.lock)
        await self.store.run(
            lambda: self.store.locks.refresh(user, self._resolve(user, request.ref), spec, request.existing_lock_id)
        )
        return sp.RefreshLockResponse(status=ok())

    async def rpc_Unlock(self, request, context, user):
        spec = lock_spec(request.lock)
        await self.store.run(lambda: self.store.locks.unlock(user, self._resolve(user, request.ref), spec))
        return sp.UnlockResponse(status=ok())

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
        await self.store.versions.restore(user, loc, request.key, request.lock_id)
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


    # -- user and group shares (shares.py) ---------------------------------------------
    def _grantee(self, grantee: sp_res.Grantee) -> tuple[int, str]:
        """(grantee type, opaque id) of a Grantee (a group may be named by its name)."""
        if grantee.type == sp_res.GRANTEE_TYPE_USER or grantee.HasField("user_id"):
            return GRANTEE_USER, grantee.user_id.opaque_id
        if grantee.type == sp_res.GRANTEE_TYPE_GROUP or grantee.HasField("group_id"):
            gid = grantee.group_id.opaque_id
            group = self.users.groups.by_id(gid) or self.users.groups.by_name(gid)
            return GRANTEE_GROUP, group.opaque_id if group is not None else gid
        raise InvalidArgument("the grantee must be a user or a group")

    def _grantee_proto(self, grantee_type: int, grantee: str) -> sp_res.Grantee:
        if grantee_type == GRANTEE_USER:
            found = self.users.by_id(grantee)
            uid = user_id_proto(found) if found is not None else user_res.UserId(opaque_id=grantee)
            return sp_res.Grantee(type=sp_res.GRANTEE_TYPE_USER, user_id=uid)
        group = self.users.groups.by_id(grantee)
        gid = group_res.GroupId(idp=group.idp if group else "", opaque_id=grantee, type=group_res.GROUP_TYPE_REGULAR)
        return sp_res.Grantee(type=sp_res.GRANTEE_TYPE_GROUP, group_id=gid)

    def _user_id(self, opaque_id: str) -> user_res.UserId:
        found = self.users.by_id(opaque_id)
        return user_id_proto(found) if found is not None else user_res.UserId(opaque_id=opaque_id)

    def _share_proto(self, share: Share) -> col_res.Share:
        proto = col_res.Share(
            id=col_res.ShareId(opaque_id=share.id),
            resource_id=resource_id(share.owner, share.node_id),
            permissions=col_res.SharePermissions(permissions=resource_permissions(share.permissions)),
            grantee=self._grantee_proto(share.grantee_type, share.grantee),
            owner=self._user_id(share.owner),
            creator=self._user_id(share.creator),
            ctime=timestamp_ns(share.ctime_ns),
            mtime=timestamp_ns(share.mtime_ns),
        )
        if share.expires_ns is not None:
            proto.expiration.CopyFrom(timestamp_ns(share.expires_ns))
        return proto

    def _received_proto(self, rec: Received) -> col_res.ReceivedShare:
        proto = col_res.ReceivedShare(share=self._share_proto(rec.share), state=rec.state, hidden=rec.hidden)
        if rec.mount_point:
            proto.mount_point.CopyFrom(sp_res.Reference(path=f"{SHARES_PATH}/{rec.mount_point}"))
        return proto

    @staticmethod
    def _expiry(ts: types_pb2.Timestamp) -> int | None:
        return _timestamp_ns(ts) or None

    def _find_share(self, user: User, ref: col_res.ShareReference) -> Share:
        """The share a ShareReference names (by id, or by key: resource and grantee)."""
        shares = self.store.shares
        if ref.WhichOneof("spec") == "key":
            grantee_type, grantee = self._grantee(ref.key.grantee)
            return shares.find_by_key(user, ref.key.resource_id.opaque_id, grantee_type, grantee)
        if not ref.id.opaque_id:
            raise InvalidArgument("give the share's id or key")
        return shares.find(user, ref.id.opaque_id)

    @staticmethod
    def _matches(share: Share, filters, state: int | None = None) -> bool:
        """Filters of one type are alternatives, of different types all apply (Reva)."""
        by_type: dict[int, list[bool]] = {}
        for f in filters:
            if f.type == col_res.Filter.TYPE_RESOURCE_ID:
                hit = share.node_id == f.resource_id.opaque_id
            elif f.type == col_res.Filter.TYPE_OWNER:
                hit = share.owner == f.owner.opaque_id
            elif f.type == col_res.Filter.TYPE_CREATOR:
                hit = share.creator == f.creator.opaque_id
            elif f.type == col_res.Filter.TYPE_GRANTEE_TYPE:
                hit = share.grantee_type == f.grantee_type
            elif f.type == col_res.Filter.TYPE_SPACE_ID:
                hit = share.owner == f.space_id
            elif f.type == col_res.Filter.TYPE_GRANTEE:
                gid = f.grantee.user_id.opaque_id if f.grantee.type == GRANTEE_USER else f.grantee.group_id.opaque_id
                hit = share.grantee_type == f.grantee.type and share.grantee == gid
            elif f.type == col_res.Filter.TYPE_STATE:
                hit = state is None or state == f.state
            else:  # no denials, no space roots here: nothing to filter
                continue
            by_type.setdefault(f.type, []).append(hit)
        return all(any(hits) for hits in by_type.values())

    @staticmethod
    def _page(items: list, request) -> tuple[list, str]:
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative")
        start = parse_decimal(_decode_token(request.page_token), "page_token") if request.page_token else 0
        end = start + request.page_size if request.page_size else len(items)
        return items[start:end], _encode_token(str(end)) if end < len(items) else ""

    async def rpc_CreateShare(self, request, context, user):
        grant = request.grant
        ri = request.resource_info
        ref = sp_res.Reference(resource_id=ri.id) if ri.id.opaque_id else sp_res.Reference(path=ri.path)
        grantee_type, grantee = self._grantee(grant.grantee)
        perms = frozenset(f.name for f, v in grant.permissions.permissions.ListFields() if v is True)

        def create():
            loc = self._resolve(user, ref, "resource_info")
            return self.store.shares.create(user, loc, grantee_type, grantee, perms, self._expiry(grant.expiration))

        share = await self.store.run(create)
        return col_api.CreateShareResponse(status=ok(), share=self._share_proto(share))

    async def rpc_GetShare(self, request, context, user):
        share = await self.store.run(self._find_share, user, request.ref)
        return col_api.GetShareResponse(status=ok(), share=self._share_proto(share))

    async def rpc_UpdateShare(self, request, context, user):
        perms: frozenset[str] | None = None
        expires: int | None | bool = False
        if request.update_mask.paths:
            for path in request.update_mask.paths:
                if path == "permissions":
                    source = request.share.permissions.permissions
                    perms = frozenset(f.name for f, v in source.ListFields() if v is True)
                elif path == "expiration":
                    expires = self._expiry(request.share.expiration)
                elif path not in ("display_name", "description"):
                    raise InvalidArgument(f"cannot update the {path} of a share")
        else:
            which = request.field.WhichOneof("field")
            if which == "permissions":
                perms = frozenset(f.name for f, v in request.field.permissions.permissions.ListFields() if v is True)
            elif which == "expiration":
                expires = self._expiry(request.field.expiration)
            elif which is None:
                raise InvalidArgument("say what to update: update_mask (permissions, expiration) or field")

        def update():
            share = self._find_share(user, request.ref)
            return self.store.shares.update(user, share.id, perms, expires)

        share = await self.store.run(update)
        return col_api.UpdateShareResponse(status=ok(), share=self._share_proto(share))

    async def rpc_RemoveShare(self, request, context, user):
        await self.store.run(lambda: self.store.shares.remove(user, self._find_share(user, request.ref).id))
        return col_api.RemoveShareResponse(status=ok())

    def _shares_of(self, user: User, request, with_infos: bool):
        """The caller's shares that pass the request's filters (and their resources)."""
        shares_ = self.store.shares
        ids = [f.resource_id.opaque_id for f in request.filters if f.type == col_res.Filter.TYPE_RESOURCE_ID]
        found = [s for s in shares_.list(user, ids) if self._matches(s, request.filters)]
        page, token = self._page(found, request)
        if not with_infos:
            return [(s, None) for s in page], token
        return list(zip(page, shares_.mounted_infos(user, page, shares_.mounted(user)))), token

    async def rpc_ListShares(self, request, context, user):
        found, token = await self.store.run(self._shares_of, user, request, False)
        return col_api.ListSharesResponse(
            status=ok(), shares=[self._share_proto(s) for s, _i in found], next_page_token=token
        )

    async def rpc_ListExistingShares(self, request, context, user):
        found, token = await self.store.run(self._shares_of, user, request, True)
        infos = []
        for share, info in found:
            entry = gw_res.ShareResourceInfo(share=self._share_proto(share))
            if info is not None:
                entry.resource_info.CopyFrom(resource_info(self.store, info))
            infos.append(entry)
        return gw.ListExistingSharesResponse(status=ok(), share_infos=infos, next_page_token=token)

    def _received_of(self, user: User, request, with_infos: bool):
        shares_ = self.store.shares
        pairs = shares_.received_at(user)  # one query for the shares, their places and the mounts
        found = [r for r, _loc in pairs if self._matches(r.share, request.filters, r.state)]
        page, token = self._page(found, request)
        if not with_infos:
            return [(r, None) for r in page], token
        infos = shares_.mounted_infos(user, [r.share for r in page], shares_.mounted(user, pairs))
        return list(zip(page, infos)), token

    async def rpc_ListReceivedShares(self, request, context, user):
        found, token = await self.store.run(self._received_of, user, request, False)
        return col_api.ListReceivedSharesResponse(
            status=ok(), shares=[self._received_proto(r) for r, _i in found], next_page_token=token
        )

    async def rpc_ListExistingReceivedShares(self, request, context, user):
        found, token = await self.store.run(self._received_of, user, request, True)
        infos = []
        for rec, info in found:
            entry = gw_res.ReceivedShareResourceInfo(received_share=self._received_proto(rec))
            if info is not None:
                entry.resource_info.CopyFrom(resource_info(self.store, info))
            infos.append(entry)
        return gw.ListExistingReceivedSharesResponse(status=ok(), share_infos=infos, next_page_token=token)

    async def rpc_GetReceivedShare(self, request, context, user):
        def get():
            share = self._find_share(user, request.ref)
            return self.store.shares.get_received(user, share.id)

        rec = await self.store.run(get)
        return col_api.GetReceivedShareResponse(status=ok(), share=self._received_proto(rec))

    async def rpc_UpdateReceivedShare(self, request, context, user):
        given = request.share
        if not given.share.id.opaque_id:
            raise InvalidArgument("give the id of the received share (share.share.id)")
        rec = await self.store.run(
            self.store.shares.update_received,
            user,
            given.share.id.opaque_id,
            list(request.update_mask.paths),
            given.state,
            given.mount_point.path,
            given.hidden,
        )
        return col_api.UpdateReceivedShareResponse(status=ok(), share=self._received_proto(rec))
    # ----------------------------------------------------------------------------------
    # public links (links.py) and project spaces (spaces.py)
    # ----------------------------------------------------------------------------------
    def _link_proto(self, link: PublicLink) -> link_res.PublicShare:
        share = link_res.PublicShare(
            id=link_res.PublicShareId(opaque_id=link.id),
            token=link.token,
            resource_id=resource_id(link.owner, link.node_id),
            permissions=link_res.PublicSharePermissions(permissions=resource_permissions(link.permissions)),
            ctime=timestamp_ns(link.ctime_ns),
            mtime=timestamp_ns(link.mtime_ns),
            password_protected=link.password_protected,  # never the password nor its hash
            display_name=link.display_name,
            description=link.description,
        )
        for field_name, uid in (("owner", link.owner), ("creator", link.creator)):
            found = self.users.by_id(uid)
            if found is not None:
                getattr(share, field_name).CopyFrom(user_id_proto(found))
        if link.expires_ns is not None:
            share.expiration.CopyFrom(timestamp_ns(link.expires_ns))
        return share

    def _link_by_ref(self, user: User, ref) -> PublicLink:
        which = ref.WhichOneof("spec")
        if which == "id" and ref.id.opaque_id:
            return self.store.links.get(user, link_id=ref.id.opaque_id)
        if which == "token" and ref.token:
            return self.store.links.get(user, token=ref.token)
        raise InvalidArgument("give the public link's id or token")

    async def rpc_CreatePublicShare(self, request, context, user):
        grant = request.grant
        perms = _permission_set(grant.permissions.permissions)
        password = grant.password
        check_password_text(password)
        password_hash = await blocking(hash_password, password) if password else None
        ri = request.resource_info
        name = ri.arbitrary_metadata.metadata.get("name", "") or (_opaque_text(request.opaque, "name") or "")
        expires = _timestamp_ns(grant.expiration) if grant.HasField("expiration") else None

        def create():
            ref = sp_res.Reference(resource_id=ri.id) if ri.id.opaque_id else sp_res.Reference(path=ri.path)
            loc = self._resolve(user, ref, "resource_info")
            return self.store.links.create(
                user, loc, perms, password_hash=password_hash, expires_ns=expires, display_name=name,
                description=request.description,
            )

        link = await self.store.run(create)
        return link_api.CreatePublicShareResponse(status=ok(), share=self._link_proto(link))

    async def rpc_GetPublicShare(self, request, context, user):
        link = await self.store.run(self._link_by_ref, user, request.ref)
        return link_api.GetPublicShareResponse(status=ok(), share=self._link_proto(link))

    async def rpc_GetPublicShareByToken(self, request, context, _user):
        link = await self.store.run(self.store.links.by_token, request.token)
        if link.password_protected:
            auth = request.authentication
            given = auth.password if auth.WhichOneof("spec") == "password" else None
            if not given or not await blocking(check_password, link.password_hash, given):
                return link_api.GetPublicShareByTokenResponse(
                    status=status("PERMISSION_DENIED", "this public link needs its password")
                )
        return link_api.GetPublicShareByTokenResponse(status=ok(), share=self._link_proto(link))

    def _links_listed(self, user: User, request) -> list[PublicLink]:
        by_type: dict[int, set[str]] = {}
        filter_type = link_api.ListPublicSharesRequest.Filter
        for flt in request.filters:
            if flt.type == filter_type.TYPE_RESOURCE_ID:
                by_type.setdefault(flt.type, set()).add(flt.resource_id.opaque_id)
            elif flt.type == filter_type.TYPE_OWNER:
                by_type.setdefault(flt.type, set()).add(flt.owner.opaque_id)
            elif flt.type == filter_type.TYPE_CREATOR:
                by_type.setdefault(flt.type, set()).add(flt.creator.opaque_id)
            else:
                raise InvalidArgument("unsupported filter type (resource id, owner or creator)")
        return self.store.links.list(
            user,
            node_ids=by_type.get(filter_type.TYPE_RESOURCE_ID),
            owners=by_type.get(filter_type.TYPE_OWNER),
            creators=by_type.get(filter_type.TYPE_CREATOR),
        )

    async def rpc_ListPublicShares(self, request, context, user):
        links = await self.store.run(self._links_listed, user, request)
        return link_api.ListPublicSharesResponse(status=ok(), share=[self._link_proto(link) for link in links])

    async def rpc_ListExistingPublicShares(self, request, context, user):
        def listed():
            pairs = []
            for link in self._links_listed(user, request):
                try:
                    info = self.store.stat(user, self.store.links.target(link))
                except StorageError:
                    info = None
                pairs.append((link, info))
            return pairs

        pairs = await self.store.run(listed)
        await self.store.fill_checksums([info for _link, info in pairs if info is not None])
        infos = []
        for link, info in pairs:
            entry = gw_res.PublicShareResourceInfo(public_share=self._link_proto(link))
            if info is not None:
                entry.resource_info.CopyFrom(resource_info(self.store, info))
            infos.append(entry)
        return gw.ListExistingPublicSharesResponse(status=ok(), share_infos=infos)

    async def rpc_UpdatePublicShare(self, request, context, user):
        update = request.update
        kind = link_api.UpdatePublicShareRequest.Update
        changes: dict[str, Any] = {}
        if update.type == kind.TYPE_PERMISSIONS:
            changes["permissions"] = _permission_set(update.grant.permissions.permissions)
        elif update.type == kind.TYPE_PASSWORD:
            check_password_text(update.grant.password)
            changes["set_password"] = True
            changes["password_hash"] = (
                await blocking(hash_password, update.grant.password) if update.grant.password else None
            )
        elif update.type == kind.TYPE_EXPIRATION:
            changes["set_expiration"] = True
            expiration = update.grant.expiration
            changes["expires_ns"] = _timestamp_ns(expiration) if expiration.seconds or expiration.nanos else None
        elif update.type == kind.TYPE_DISPLAYNAME:
            changes["display_name"] = update.display_name
        elif update.type == kind.TYPE_DESCRIPTION:
            changes["description"] = update.description
        else:
            raise InvalidArgument(
                "unsupported update type (permissions, password, expiration, display name, description)"
            )

        def apply():
            return self.store.links.update(user, self._link_by_ref(user, request.ref), **changes)

        link = await self.store.run(apply)
        return link_api.UpdatePublicShareResponse(status=ok(), share=self._link_proto(link))

    async def rpc_RemovePublicShare(self, request, context, user):
        await self.store.run(lambda: self.store.links.remove(user, self._link_by_ref(user, request.ref)))
        return link_api.RemovePublicShareResponse(status=ok())

    # -- project spaces -------------------------------------------------------------------
    def _space_proto(self, user: User, space: Space | None, role: str) -> sp_res.StorageSpace:
        """A project space (or, with ``space`` None, the caller's personal space)."""
        if space is None:
            owner_id, name, kind, quota, creator, description = (
                user.opaque_id, user.display_name or user.username, PERSONAL, self.store.quota, user.opaque_id, ""
            )
        else:
            owner_id, name, kind, quota, creator, description = (
                space.id, space.name, space.space_type, space.quota, space.creator, space.description
            )
        proto = sp_res.StorageSpace(
            id=sp_res.StorageSpaceId(opaque_id=f"{STORAGE_ID}${owner_id}"),
            root=resource_id(owner_id, owner_id),
            name=name,
            space_type=kind,
            quota=sp_res.Quota(quota_max_bytes=quota or 0),
            description=description,
        )
        found = self.users.by_id(creator)
        if found is not None:
            proto.owner.CopyFrom(user_proto(found, with_groups=False))
        info = self.store.stat(user, Loc(owner_id, ""))
        proto.root_info.CopyFrom(resource_info(self.store, info))
        proto.mtime.CopyFrom(timestamp_ns(info.mtime_ns))
        for key, value in (("role", role), ("path", info.path)):
            proto.opaque.map[key].CopyFrom(types_pb2.OpaqueEntry(decoder="plain", value=value.encode("utf-8")))
        return proto

    @staticmethod
    def _space_id(space_id: sp_res.StorageSpaceId) -> str:
        """The space of a StorageSpaceId (``storage$space``, ``storage$space!node`` or ``space``)."""
        text = space_id.opaque_id
        if "$" in text:
            storage, _, text = text.partition("$")
            if storage != STORAGE_ID:
                raise NotFound("no such storage space")
        text = text.partition("!")[0]
        if not text:
            raise InvalidArgument("give the id of the storage space")
        return text

    async def rpc_CreateStorageSpace(self, request, context, user):
        if request.type != PROJECT:
            raise InvalidArgument("only project spaces are created (every user has a personal space already)")
        quota = request.quota.quota_max_bytes if request.HasField("quota") else None
        description = _opaque_text(request.opaque, "description") or ""

        def create():
            space = self.store.spaces.create(user, request.name, quota, description)
            return self._space_proto(user, space, "manager")

        proto = await self.store.run(create)
        return spaces_api.CreateStorageSpaceResponse(status=ok(), storage_space=proto)

    async def rpc_ListStorageSpaces(self, request, context, user):
        kind = spaces_api.ListStorageSpacesRequest.Filter
        wanted: dict[int, set[str]] = {}
        for flt in request.filters:
            if flt.type == kind.TYPE_SPACE_TYPE:
                wanted.setdefault(flt.type, set()).add(flt.space_type)
            elif flt.type == kind.TYPE_ID:
                wanted.setdefault(flt.type, set()).add(self._space_id(flt.id))
            elif flt.type == kind.TYPE_USER:
                if flt.user.opaque_id != user.opaque_id:
                    raise PermissionDenied("only your own spaces can be listed")
            elif flt.type == kind.TYPE_OWNER:
                wanted.setdefault(flt.type, set()).add(flt.owner.opaque_id)
            else:
                raise InvalidArgument("unsupported filter type (space type, id, user or owner)")

        def listed():
            self.store.ensure_home(user)
            entries = [(None, "manager", PERSONAL, user.opaque_id, user.opaque_id)]
            entries += [(s, role, s.space_type, s.id, s.creator) for s, role in self.store.spaces.of_user(user)]
            protos = []
            for space, role, space_type, sid, creator in entries:
                if kind.TYPE_SPACE_TYPE in wanted and space_type not in wanted[kind.TYPE_SPACE_TYPE]:
                    continue
                if kind.TYPE_ID in wanted and sid not in wanted[kind.TYPE_ID]:
                    continue
                if kind.TYPE_OWNER in wanted and creator not in wanted[kind.TYPE_OWNER]:
                    continue
                protos.append(self._space_proto(user, space, role))
            return protos

        protos = await self.store.run(listed)
        return spaces_api.ListStorageSpacesResponse(status=ok(), storage_spaces=protos)

    async def rpc_UpdateStorageSpace(self, request, context, user):
        given = request.storage_space
        space_id = self._space_id(given.id)
        check_not_personal(space_id, user)
        changes: dict[str, Any] = {}
        which = request.field.WhichOneof("field") if request.HasField("field") else None
        if which == "name" or (which is None and given.name):
            changes["name"] = request.field.name if which == "name" else given.name
        if which == "quota" or (which is None and given.HasField("quota")):
            quota = request.field.quota if which == "quota" else given.quota
            changes["set_quota"], changes["quota"] = True, quota.quota_max_bytes
        if which == "description" or (which is None and given.description):
            changes["description"] = request.field.description if which == "description" else given.description
        if which not in (None, "name", "quota", "description"):
            raise InvalidArgument(f"updating {which} is not supported (name, quota, description)")

        def update():
            space = self.store.spaces.update(user, space_id, **changes)
            return self._space_proto(user, space, self.store.spaces.role(user.opaque_id, space.id) or "")

        proto = await self.store.run(update)
        return spaces_api.UpdateStorageSpaceResponse(status=ok(), storage_space=proto)

    async def rpc_DeleteStorageSpace(self, request, context, user):
        space_id = self._space_id(request.id)
        check_not_personal(space_id, user)
        await self.store.run(self.store.spaces.delete, user, space_id)
        await purge_now(self.store)
        return spaces_api.DeleteStorageSpaceResponse(status=ok())

    # -- space members: the storage provider's grant RPCs on a space root (ProviderGrants) --
    def _space_root(self, user: User, ref: sp_res.Reference) -> str:
        loc = self._resolve(user, ref)
        if loc.rel or self.store.spaces.get(loc.owner) is None:
            raise Unimplemented(
                "grants are served on project space roots only (share other resources with CreateShare)"
            )
        return loc.owner

    @staticmethod
    def _grant_member(grant: sp_res.Grant) -> str:
        grantee = grant.grantee
        if grantee.type != sp_res.GRANTEE_TYPE_USER or not grantee.user_id.opaque_id:
            raise InvalidArgument("space members are users (grantee type USER with a user id)")
        return grantee.user_id.opaque_id

    async def _set_grant(self, request, user, adding: bool) -> None:
        member = self._grant_member(request.grant)
        role = role_of(_permission_set(request.grant.permissions))
        if role is None:
            raise InvalidArgument("these permissions are not a space role (viewer, editor or manager)")
        expiration = request.grant.expiration
        expires = _timestamp_ns(expiration) if expiration.seconds or expiration.nanos else None

        def apply():
            space_id = self._space_root(user, request.ref)
            self.store.spaces.set_member(user, space_id, member, role, adding=adding, expires_ns=expires)

        await self.store.run(apply)

    async def rpc_AddGrant(self, request, context, user):
        await self._set_grant(request, user, adding=True)
        return sp.AddGrantResponse(status=ok())

    async def rpc_UpdateGrant(self, request, context, user):
        await self._set_grant(request, user, adding=False)
        return sp.UpdateGrantResponse(status=ok())

    async def rpc_RemoveGrant(self, request, context, user):
        member = self._grant_member(request.grant)
        await self.store.run(
            lambda: self.store.spaces.remove_member(user, self._space_root(user, request.ref), member)
        )
        return sp.RemoveGrantResponse(status=ok())

    async def rpc_ListGrants(self, request, context, user):
        members = await self.store.run(
            lambda: self.store.spaces.members(user, self._space_root(user, request.ref))
        )
        grants = []
        for member in members:
            grant = sp_res.Grant(
                grantee=sp_res.Grantee(type=sp_res.GRANTEE_TYPE_USER),
                permissions=resource_permissions(ROLES[member.role]),
            )
            for target, uid in ((grant.grantee.user_id, member.user_id), (grant.creator, member.creator)):
                found = self.users.by_id(uid)
                target.CopyFrom(user_id_proto(found) if found is not None else user_res.UserId(opaque_id=uid))
            if member.expires_ns is not None:
                grant.expiration.CopyFrom(timestamp_ns(member.expires_ns))
            grants.append(grant)
        return sp.ListGrantsResponse(status=ok(), grants=grants)


PROVIDER = sp.DESCRIPTOR.services_by_name["ProviderAPI"]
#: the storage provider RPCs served beside the gateway: space membership
GRANT_RPCS = ("AddGrant", "UpdateGrant", "RemoveGrant", "ListGrants")


class ProviderGrants(sp_grpc.ProviderAPIServicer):
    """The grant RPCs of ``cs3.storage.provider.v1beta1.ProviderAPI`` on the gateway's
    port (the GatewayAPI has none): members of project spaces, as oCIS grants them on
    the space root. They run through the gateway's own handlers (token check, statuses);
    the provider's other RPCs answer gRPC UNIMPLEMENTED (use the gateway)."""

    def __init__(self, gateway: GatewayService):
        for method in PROVIDER.methods:
            if method.name in GRANT_RPCS:
                setattr(self, method.name, gateway._handler(method))


def _permission_set(message: sp_res.ResourcePermissions) -> frozenset[str]:
    return frozenset(p for p in PERMISSIONS if getattr(message, p))


#: the latest time the storage records (nanoseconds in a signed 64-bit SQLite integer)
MAX_TIME_NS = 2**63 - 1


def _timestamp_ns(ts: types_pb2.Timestamp) -> int:
    ns = ts.seconds * 1_000_000_000 + ts.nanos
    if not 0 <= ns <= MAX_TIME_NS:
        raise InvalidArgument("the time is out of range (1970 to 2262)")
    return ns


async def purge_now(store: Store) -> None:
    for path in await blocking(store.purge_pending):
        await blocking(remove_tree, path)
