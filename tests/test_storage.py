"""The embedded CS3 storage over real gRPC on loopback: auth, users, namespace, ids,
etags, versions, recycle bin, metadata, isolation between users and path validation."""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid

import grpc
import jwt
import pytest
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.identity.user.v1beta1 import user_api_pb2 as user_api
from cs3.rpc.v1beta1 import code_pb2
from cs3.sharing.collaboration.v1beta1 import collaboration_api_pb2 as col
from cs3.sharing.ocm.v1beta1 import ocm_api_pb2 as ocm
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.types.v1beta1 import types_pb2
from google.protobuf import message_factory
from mesh_zenodo.pytest_plugin import StorageUser

OK = code_pb2.CODE_OK
EINSTEIN_ID = "4c510ada-c86b-4815-8820-42cdf82c3d51"
MARIE_ID = "f7fbf8c8-139b-4376-b307-cf0a8c2d0d9c"
SERVICE = gw.DESCRIPTOR.services_by_name["GatewayAPI"]
IMPLEMENTED = {
    "Authenticate", "WhoAmI", "GetUser", "GetUserByClaim", "FindUsers", "GetHome", "Stat",
    "ListContainer", "ListContainerStream", "CreateContainer", "TouchFile", "Delete", "Move",
    "InitiateFileUpload", "InitiateFileDownload", "ListFileVersions", "RestoreFileVersion",
    "ListRecycle", "RestoreRecycleItem", "PurgeRecycle", "SetArbitraryMetadata",
    "UnsetArbitraryMetadata", "GetQuota",
}  # fmt: skip
# issue 8, sharing (shares.py, groups.py)
IMPLEMENTED |= {
    "FindGroups", "GetGroup", "GetGroupByClaim", "GetMembers", "HasMember", "GetUserGroups",
    "CreateShare", "GetShare", "UpdateShare", "RemoveShare", "ListShares", "ListExistingShares",
    "ListReceivedShares", "ListExistingReceivedShares", "GetReceivedShare", "UpdateReceivedShare",
}  # fmt: skip
# issue 9, locks (locks.py)
IMPLEMENTED |= {"SetLock", "GetLock", "RefreshLock", "Unlock"}
# public links and project spaces (issue 8: links.py, spaces.py)
IMPLEMENTED |= {
    "CreatePublicShare", "GetPublicShare", "GetPublicShareByToken", "ListPublicShares",
    "ListExistingPublicShares", "UpdatePublicShare", "RemovePublicShare", "CreateStorageSpace",
    "ListStorageSpaces", "UpdateStorageSpace", "DeleteStorageSpace",
}  # fmt: skip





@pytest.fixture
def stub(mz_server):
    channel = grpc.insecure_channel(mz_server.grpc_addr)
    from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc

    yield gw_grpc.GatewayAPIStub(channel)
    channel.close()


@pytest.fixture
def folder(mz_einstein):
    """A fresh folder in einstein's home."""
    path = f"/home/t-{uuid.uuid4().hex[:8]}"
    assert mz_einstein.mkdir(path).status.code == OK
    return path


def disk_path(mz_server, username: str, path: str) -> str:
    """Where a /home path of ``username`` lives in the storage root (test oracle)."""
    return os.path.join(mz_server.root, "home", username, path.removeprefix("/home").lstrip("/"))


def secret_of(mz_server) -> bytes:
    return (mz_server.root / ".mesh-zenodo" / "jwt-secret").read_text().strip().encode()


def code_of(res) -> str:
    return code_pb2.Code.Name(res.status.code)


# ----------------------------------------------------------------------------------------
# authentication and tokens
# ----------------------------------------------------------------------------------------
def test_authenticate_returns_reva_style_token_and_user(stub):
    res = stub.Authenticate(gw.AuthenticateRequest(type="basic", client_id="einstein", client_secret="relativity"))
    assert res.status.code == OK
    assert res.user.username == "einstein"
    assert res.user.display_name == "Albert Einstein"
    assert res.user.mail == "einstein@example.org"
    assert res.user.id.opaque_id == EINSTEIN_ID
    assert res.user.id.idp == "cernbox.cern.ch"
    assert res.user.id.type == user_res.USER_TYPE_PRIMARY
    assert list(res.user.groups) == ["sailing-lovers", "violin-haters", "physics-lovers"]
    header = jwt.get_unverified_header(res.token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(res.token, options={"verify_signature": False})
    assert claims["iss"] == "cernbox.cern.ch"
    assert claims["aud"] == ["reva"]
    assert claims["user"]["username"] == "einstein"
    assert claims["user"]["id"]["opaque_id"] == EINSTEIN_ID
    assert "scope" in claims
    assert 3500 <= claims["exp"] - claims["iat"] <= 3700
    assert "relativity" not in res.token


@pytest.mark.parametrize("user,password", [("einstein", "wrong"), ("nobody", "relativity"), ("einstein", "")])
def test_authenticate_with_bad_credentials_is_unauthenticated(stub, user, password):
    res = stub.Authenticate(gw.AuthenticateRequest(type="basic", client_id=user, client_secret=password))
    assert res.status.code == code_pb2.CODE_UNAUTHENTICATED
    assert res.status.message
    assert res.token == ""


def test_missing_token_is_grpc_unauthenticated(stub):
    with pytest.raises(grpc.RpcError) as exc:
        stub.Stat(sp.StatRequest(ref=spr.Reference(path="/home")))
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert exc.value.details()


def _forge(claims: dict, secret: bytes) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def test_forged_garbage_and_expired_tokens_are_permission_denied(mz_server, stub, mz_einstein):
    good = jwt.decode(mz_einstein.token, options={"verify_signature": False})
    now = int(time.time())
    tokens = {
        "garbage": "not-a-jwt",
        "wrong secret": _forge(good, b"another-secret-another-secret-000"),
        "expired": _forge({**good, "iat": now - 7200, "exp": now - 3600}, secret_of(mz_server)),
        "wrong audience": _forge({**good, "aud": ["someone-else"]}, secret_of(mz_server)),
        "unknown user": _forge(
            {**good, "user": {**good["user"], "id": {**good["user"]["id"], "opaque_id": "nobody"}}}, secret_of(mz_server)
        ),
    }
    for name, token in tokens.items():
        with pytest.raises(grpc.RpcError) as exc:
            stub.Stat(sp.StatRequest(ref=spr.Reference(path="/home")), metadata=[("x-access-token", token)])
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED, name
    # the genuine token works
    res = stub.Stat(sp.StatRequest(ref=spr.Reference(path="/home")), metadata=mz_einstein.md)
    assert res.status.code == OK


def test_transfer_token_is_not_an_access_token(mz_einstein, stub):
    proto = mz_einstein.download_protocol(_a_file(mz_einstein))
    with pytest.raises(grpc.RpcError) as exc:
        stub.GetHome(sp.GetHomeRequest(), metadata=[("x-access-token", proto.token)])
    assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED


def _a_file(user: StorageUser) -> str:
    path = f"/home/file-{uuid.uuid4().hex[:8]}.txt"
    user.put_ok(path, b"data")
    return path


def test_whoami(mz_einstein, mz_marie):
    res = mz_einstein.call("WhoAmI", gw.WhoAmIRequest(token=mz_einstein.token))
    assert res.status.code == OK and res.user.username == "einstein"
    res = mz_einstein.call("WhoAmI", gw.WhoAmIRequest(token=mz_marie.token))
    assert res.status.code == OK and res.user.username == "marie"
    res = mz_einstein.call("WhoAmI", gw.WhoAmIRequest(token="garbage"))
    assert res.status.code == code_pb2.CODE_UNAUTHENTICATED and res.status.message


# ----------------------------------------------------------------------------------------
# users
# ----------------------------------------------------------------------------------------
def test_user_lookups_need_no_token(stub):
    res = stub.GetUser(user_api.GetUserRequest(user_id=user_res.UserId(opaque_id=MARIE_ID, idp="cesnet.cz")))
    assert res.status.code == OK
    assert (res.user.username, res.user.display_name, res.user.mail) == ("marie", "Marie Curie", "marie@example.org")
    assert "physics-lovers" in res.user.groups
    res = stub.GetUser(
        user_api.GetUserRequest(user_id=user_res.UserId(opaque_id=MARIE_ID), skip_fetching_user_groups=True)
    )
    assert res.status.code == OK and list(res.user.groups) == []
    res = stub.GetUser(user_api.GetUserRequest(user_id=user_res.UserId(opaque_id="nope")))
    assert res.status.code == code_pb2.CODE_NOT_FOUND and res.status.message

    for claim, value in [
        ("username", "richard"),
        ("mail", "richard@example.org"),
        ("userid", "932b4540-8d16-481e-8ef4-588e4b6b151c"),
    ]:
        res = stub.GetUserByClaim(user_api.GetUserByClaimRequest(claim=claim, value=value))
        assert res.status.code == OK, claim
        assert res.user.username == "richard"
        assert res.user.display_name == "Richard Feynman"
        assert res.user.id.idp == "example.org"
    res = stub.GetUserByClaim(user_api.GetUserByClaimRequest(claim="username", value="nobody"))
    assert res.status.code == code_pb2.CODE_NOT_FOUND
    res = stub.GetUserByClaim(user_api.GetUserByClaimRequest(claim="shoe-size", value="42"))
    assert res.status.code == code_pb2.CODE_INVALID_ARGUMENT


def test_find_users(mz_einstein):
    def find(query):
        flt = user_api.Filter(type=user_api.Filter.TYPE_QUERY, query=query)
        res = mz_einstein.call("FindUsers", user_api.FindUsersRequest(filters=[flt]))
        assert res.status.code == OK
        return sorted(u.username for u in res.users)

    assert find("CURIE") == ["marie"]
    assert find("einst") == ["einstein"]
    assert find("richard@") == ["richard"]
    assert find("example.org") == ["einstein", "marie", "richard"]
    assert find("zzz") == []


def test_get_home(mz_einstein):
    res = mz_einstein.call("GetHome", sp.GetHomeRequest())
    assert res.status.code == OK and res.path == "/home"
    info = mz_einstein.stat_ok("/home")
    assert info.type == spr.RESOURCE_TYPE_CONTAINER
    assert info.path == "/home"
    assert info.id.storage_id == "mesh-zenodo" and info.id.space_id == EINSTEIN_ID
    assert info.owner.opaque_id == EINSTEIN_ID


# ----------------------------------------------------------------------------------------
# unimplemented methods
# ----------------------------------------------------------------------------------------
def test_create_ocm_share_is_unimplemented_in_the_status_as_reva_answers(mz_einstein):
    # Reva answers an RPC it does not serve with CODE_UNIMPLEMENTED in the response's
    # status (not a gRPC error), so that clients can detect it and fall back
    response = mz_einstein.call("CreateOCMShare", ocm.CreateOCMShareRequest())
    assert response.status.code == code_pb2.CODE_UNIMPLEMENTED
    assert "CreateOCMShare" in response.status.message


def test_every_other_gateway_method_is_cleanly_unimplemented(mz_server, mz_einstein):
    channel = grpc.insecure_channel(mz_server.grpc_addr)
    try:
        others = [m for m in SERVICE.methods if m.name not in IMPLEMENTED]
        assert len(others) == len(SERVICE.methods) - len(IMPLEMENTED) > 40
        for method in others:
            request_cls = message_factory.GetMessageClass(method.input_type)
            response_cls = message_factory.GetMessageClass(method.output_type)
            path = f"/{SERVICE.full_name}/{method.name}"
            factory = channel.unary_stream if method.server_streaming else channel.unary_unary
            call = factory(
                path, request_serializer=request_cls.SerializeToString, response_deserializer=response_cls.FromString
            )
            result = call(request_cls(), metadata=mz_einstein.md, timeout=10)
            response = list(result)[0] if method.server_streaming else result
            assert response.status.code == code_pb2.CODE_UNIMPLEMENTED, method.name
            assert method.name in response.status.message
    finally:
        channel.close()
    # and the server is still fine
    assert mz_einstein.stat_ok("/home").path == "/home"


# ----------------------------------------------------------------------------------------
# namespace
# ----------------------------------------------------------------------------------------
def test_create_touch_stat_and_resource_info(mz_server, mz_einstein, folder):
    assert mz_einstein.mkdir(f"{folder}/sub").status.code == OK
    res = mz_einstein.mkdir(f"{folder}/sub")
    assert code_of(res) == "CODE_ALREADY_EXISTS" and res.status.message
    res = mz_einstein.mkdir(f"{folder}/missing/sub")
    assert code_of(res) == "CODE_NOT_FOUND" and res.status.message
    assert mz_einstein.mkdir("/home").status.code == code_pb2.CODE_ALREADY_EXISTS

    assert mz_einstein.touch(f"{folder}/sub/empty.txt").status.code == OK
    res = mz_einstein.touch(f"{folder}/sub/empty.txt")
    assert code_of(res) == "CODE_ALREADY_EXISTS"
    assert code_of(mz_einstein.touch(f"{folder}/nope/x.txt")) == "CODE_NOT_FOUND"

    sub = mz_einstein.stat_ok(f"{folder}/sub")
    parent = mz_einstein.stat_ok(folder)
    info = mz_einstein.stat_ok(f"{folder}/sub/empty.txt")
    assert info.type == spr.RESOURCE_TYPE_FILE
    assert info.path == f"{folder}/sub/empty.txt"
    assert info.name == "empty.txt"
    assert info.size == 0
    assert info.mime_type == "text/plain"
    assert info.checksum.type == spr.RESOURCE_CHECKSUM_TYPE_MD5
    assert info.checksum.sum == hashlib.md5(b"").hexdigest()
    assert info.id.storage_id == "mesh-zenodo" and info.id.space_id == EINSTEIN_ID
    uuid.UUID(info.id.opaque_id)
    assert info.parent_id == sub.id
    assert sub.parent_id == parent.id
    assert info.owner.opaque_id == EINSTEIN_ID and info.owner.idp == "cernbox.cern.ch"
    assert info.owner.type == user_res.USER_TYPE_PRIMARY
    assert re.fullmatch(r'"[^"]+"', info.etag)
    perms = info.permission_set
    assert all(getattr(perms, f.name) for f in perms.DESCRIPTOR.fields)
    assert sub.type == spr.RESOURCE_TYPE_CONTAINER
    assert sub.mime_type == "httpd/unix-directory"
    assert not info.arbitrary_metadata.metadata


def test_mtime_has_nanoseconds(mz_server, mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}/n.txt", b"x")
    info = mz_einstein.stat_ok(f"{folder}/n.txt")
    on_disk = os.stat(disk_path(mz_server, "einstein", f"{folder}/n.txt")).st_mtime_ns
    assert info.mtime.seconds * 1_000_000_000 + info.mtime.nanos == on_disk
    assert 0 <= info.mtime.nanos < 1_000_000_000
    assert abs(info.mtime.seconds - time.time()) < 60


def test_mime_types(mz_einstein, folder):
    for name, mime in [
        ("a.ipynb", "application/x-ipynb+json"),
        ("b.json", "application/json"),
        ("c.png", "image/png"),
        ("d", "application/octet-stream"),
    ]:
        mz_einstein.put_ok(f"{folder}/{name}", b"{}")
        assert mz_einstein.stat_ok(f"{folder}/{name}").mime_type == mime


def test_list_container_with_paging(mz_einstein, folder):
    names = [f"f{i}.txt" for i in range(7)] + ["zdir"]
    for name in names[:-1]:
        assert mz_einstein.touch(f"{folder}/{name}").status.code == OK
    assert mz_einstein.mkdir(f"{folder}/zdir").status.code == OK

    res = mz_einstein.ls(folder)
    assert res.status.code == OK
    assert [i.name for i in res.infos] == names
    assert res.next_page_token == ""
    assert [i.path for i in res.infos] == [f"{folder}/{n}" for n in names]

    seen, token, pages = [], "", 0
    while True:
        res = mz_einstein.ls(folder, page_size=3, page_token=token)
        assert res.status.code == OK
        assert len(res.infos) <= 3
        seen += [i.name for i in res.infos]
        pages += 1
        token = res.next_page_token
        if not token:
            break
    assert seen == names and pages == 3

    res = mz_einstein.ls(folder, page_token="%%% not a token")
    assert code_of(res) == "CODE_INVALID_ARGUMENT"
    res = mz_einstein.ls(f"{folder}/f0.txt")
    assert res.status.code != OK and res.status.message
    assert code_of(mz_einstein.ls(f"{folder}/missing")) == "CODE_NOT_FOUND"


def test_list_container_stream(mz_einstein, folder):
    for name in ("a", "b", "c"):
        mz_einstein.touch(f"{folder}/{name}")
    responses = list(
        mz_einstein.stub.ListContainerStream(
            sp.ListContainerStreamRequest(ref=spr.Reference(path=folder)), metadata=mz_einstein.md
        )
    )
    assert [r.status.code for r in responses] == [OK] * 3
    assert [r.info.name for r in responses] == ["a", "b", "c"]
    missing = list(
        mz_einstein.stub.ListContainerStream(
            sp.ListContainerStreamRequest(ref=spr.Reference(path=f"{folder}/nope")), metadata=mz_einstein.md
        )
    )
    assert [code_of(r) for r in missing] == ["CODE_NOT_FOUND"]


def test_reference_by_id_and_relative_path(mz_einstein, folder):
    mz_einstein.mkdir(f"{folder}/a")
    mz_einstein.put_ok(f"{folder}/a/x.txt", b"hello")
    fid = mz_einstein.stat_ok(folder).id
    for rel in ("./a/x.txt", "a/x.txt"):
        info = mz_einstein.stat_ok(fid, rel)
        assert info.path == f"{folder}/a/x.txt"
    assert mz_einstein.stat_ok(fid).path == folder
    assert mz_einstein.stat_ok(fid, ".").path == folder
    # an id alone (no storage/space id) works too
    bare = spr.ResourceId(opaque_id=fid.opaque_id)
    assert mz_einstein.stat_ok(bare).path == folder
    assert (
        code_of(mz_einstein.stat(spr.ResourceId(storage_id="mesh-zenodo", opaque_id=str(uuid.uuid4()))))
        == "CODE_NOT_FOUND"
    )
    assert code_of(mz_einstein.stat(spr.ResourceId(storage_id="other", opaque_id=fid.opaque_id))) == "CODE_NOT_FOUND"


def test_ids_are_stable_across_rename_and_move(mz_einstein, folder):
    mz_einstein.mkdir(f"{folder}/src")
    mz_einstein.mkdir(f"{folder}/dst")
    mz_einstein.put_ok(f"{folder}/src/doc.txt", b"content")
    file_id = mz_einstein.stat_ok(f"{folder}/src/doc.txt").id
    dir_id = mz_einstein.stat_ok(f"{folder}/src").id

    assert mz_einstein.move(f"{folder}/src/doc.txt", f"{folder}/src/renamed.txt").status.code == OK
    assert mz_einstein.stat_ok(f"{folder}/src/renamed.txt").id == file_id
    assert code_of(mz_einstein.stat(f"{folder}/src/doc.txt")) == "CODE_NOT_FOUND"

    assert mz_einstein.move(f"{folder}/src", f"{folder}/dst/moved").status.code == OK
    assert mz_einstein.stat_ok(f"{folder}/dst/moved").id == dir_id
    moved = mz_einstein.stat_ok(f"{folder}/dst/moved/renamed.txt")
    assert moved.id == file_id
    assert moved.parent_id == dir_id
    # resolving the id gives the new path
    assert mz_einstein.stat_ok(file_id).path == f"{folder}/dst/moved/renamed.txt"
    assert mz_einstein.read(f"{folder}/dst/moved/renamed.txt") == b"content"


def test_move_errors(mz_einstein, folder):
    mz_einstein.mkdir(f"{folder}/d")
    mz_einstein.mkdir(f"{folder}/d/inner")
    mz_einstein.put_ok(f"{folder}/a.txt", b"a")
    mz_einstein.put_ok(f"{folder}/b.txt", b"b")
    res = mz_einstein.move(f"{folder}/a.txt", f"{folder}/b.txt")
    assert code_of(res) == "CODE_ALREADY_EXISTS" and res.status.message
    assert mz_einstein.read(f"{folder}/b.txt") == b"b"
    res = mz_einstein.move(f"{folder}/d", f"{folder}/d/inner/d")
    assert code_of(res) == "CODE_INVALID_ARGUMENT" and res.status.message
    res = mz_einstein.move(f"{folder}/missing", f"{folder}/x")
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_einstein.move(f"{folder}/a.txt", f"{folder}/nope/a.txt")
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_einstein.move("/home", f"{folder}/home")
    assert code_of(res) in ("CODE_PERMISSION_DENIED", "CODE_INVALID_ARGUMENT") and res.status.message


def test_etags_change_on_every_write_and_propagate(mz_einstein, folder):
    path = f"{folder}/e.txt"
    home_before = mz_einstein.stat_ok("/home").etag
    folder_before = mz_einstein.stat_ok(folder).etag
    etags = []
    for i in range(4):  # several writes in quick succession
        mz_einstein.put_ok(path, f"v{i}".encode())
        etags.append(mz_einstein.stat_ok(path).etag)
    assert len(set(etags)) == 4
    folder_after = mz_einstein.stat_ok(folder).etag
    assert folder_after != folder_before
    assert mz_einstein.stat_ok("/home").etag != home_before
    # unchanged when nothing changes
    assert mz_einstein.stat_ok(path).etag == etags[-1]
    assert mz_einstein.stat_ok(folder).etag == folder_after
    # a child added / removed changes the folder's etag
    mz_einstein.touch(f"{folder}/new")
    e1 = mz_einstein.stat_ok(folder).etag
    assert e1 != folder_after
    mz_einstein.delete(f"{folder}/new")
    assert mz_einstein.stat_ok(folder).etag != e1


# ----------------------------------------------------------------------------------------
# checksums of files that appeared by other means, symlinks
# ----------------------------------------------------------------------------------------
def test_files_dropped_into_the_folder_get_ids_and_checksums(mz_server, mz_einstein, folder):
    data = os.urandom(3 * 1024 * 1024 + 17)
    with open(disk_path(mz_server, "einstein", f"{folder}/dropped.bin"), "wb") as fh:
        fh.write(data)
    assert "dropped.bin" in mz_einstein.names(folder)
    info = mz_einstein.stat_ok(f"{folder}/dropped.bin")
    assert info.size == len(data)
    assert info.checksum.sum == hashlib.md5(data).hexdigest()
    assert mz_einstein.stat_ok(f"{folder}/dropped.bin").id == info.id
    assert mz_einstein.read(f"{folder}/dropped.bin") == data
    # changed again by other means: a new checksum and a new etag
    with open(disk_path(mz_server, "einstein", f"{folder}/dropped.bin"), "ab") as fh:
        fh.write(b"more")
    again = mz_einstein.stat_ok(f"{folder}/dropped.bin")
    assert again.checksum.sum == hashlib.md5(data + b"more").hexdigest()
    assert again.etag != info.etag and again.id == info.id


def test_symlinks_do_not_lead_out_of_the_home(mz_server, mz_einstein, folder):
    os.symlink("/etc", disk_path(mz_server, "einstein", f"{folder}/escape"))
    os.symlink("/etc/passwd", disk_path(mz_server, "einstein", f"{folder}/passwd"))
    assert mz_einstein.names(folder) == []
    assert code_of(mz_einstein.stat(f"{folder}/escape")) == "CODE_NOT_FOUND"
    assert code_of(mz_einstein.stat(f"{folder}/escape/passwd")) == "CODE_NOT_FOUND"
    assert code_of(mz_einstein.stat(f"{folder}/passwd")) == "CODE_NOT_FOUND"
    res = mz_einstein.call(
        "InitiateFileDownload", sp.InitiateFileDownloadRequest(ref=spr.Reference(path=f"{folder}/passwd"))
    )
    assert res.status.code != OK


# ----------------------------------------------------------------------------------------
# arbitrary metadata
# ----------------------------------------------------------------------------------------
def test_arbitrary_metadata(mz_einstein, folder):
    path = f"{folder}/m.txt"
    mz_einstein.put_ok(path, b"m")
    md = spr.ArbitraryMetadata(metadata={"color": "blue", "zenodo.doi": "10.5281/zenodo.1", "empty": ""})
    res = mz_einstein.call(
        "SetArbitraryMetadata", sp.SetArbitraryMetadataRequest(ref=spr.Reference(path=path), arbitrary_metadata=md)
    )
    assert res.status.code == OK
    assert dict(mz_einstein.stat_ok(path).arbitrary_metadata.metadata) == {}
    assert dict(mz_einstein.stat_ok(path, keys=["color"]).arbitrary_metadata.metadata) == {"color": "blue"}
    assert dict(mz_einstein.stat_ok(path, keys=["*"]).arbitrary_metadata.metadata) == {
        "color": "blue",
        "zenodo.doi": "10.5281/zenodo.1",
        "empty": "",
    }
    res = mz_einstein.call(
        "UnsetArbitraryMetadata",
        sp.UnsetArbitraryMetadataRequest(ref=spr.Reference(path=path), arbitrary_metadata_keys=["color", "not-there"]),
    )
    assert res.status.code == OK
    # metadata follows the file when it moves
    mz_einstein.move(path, f"{folder}/m2.txt")
    assert dict(mz_einstein.stat_ok(f"{folder}/m2.txt", keys=["*"]).arbitrary_metadata.metadata) == {
        "zenodo.doi": "10.5281/zenodo.1",
        "empty": "",
    }
    res = mz_einstein.ls(folder, arbitrary_metadata_keys=["zenodo.doi"])
    assert [dict(i.arbitrary_metadata.metadata) for i in res.infos] == [{"zenodo.doi": "10.5281/zenodo.1"}]
    res = mz_einstein.call(
        "SetArbitraryMetadata",
        sp.SetArbitraryMetadataRequest(ref=spr.Reference(path=f"{folder}/nope"), arbitrary_metadata=md),
    )
    assert code_of(res) == "CODE_NOT_FOUND"


# ----------------------------------------------------------------------------------------
# versions
# ----------------------------------------------------------------------------------------
def test_versions_and_restore(mz_einstein, folder):
    path = f"{folder}/v.txt"
    states = []
    for content in (b"one", b"two!", b"three"):
        mz_einstein.put_ok(path, content)
        info = mz_einstein.stat_ok(path)
        states.append((content, info.etag, info.mtime.seconds))
    file_id = mz_einstein.stat_ok(path).id
    versions = mz_einstein.versions(path)
    assert [(v.size, v.etag) for v in versions] == [(4, states[1][1]), (3, states[0][1])]  # newest first
    for v in versions:
        assert re.fullmatch(r"[A-Za-z0-9._~-]+", v.key)
        assert abs(v.mtime - states[0][2]) < 60

    oldest = versions[-1]
    current_etag = mz_einstein.stat_ok(path).etag
    res = mz_einstein.call(
        "RestoreFileVersion", sp.RestoreFileVersionRequest(ref=spr.Reference(path=path), key=oldest.key)
    )
    assert res.status.code == OK
    assert mz_einstein.read(path) == b"one"
    restored = mz_einstein.stat_ok(path)
    assert restored.etag != current_etag and restored.etag != oldest.etag
    assert restored.id == file_id
    assert restored.checksum.sum == hashlib.md5(b"one").hexdigest()
    after = mz_einstein.versions(path)
    assert after[0].etag == current_etag and after[0].size == 5  # "three" became a version
    assert len(after) == 3

    res = mz_einstein.call(
        "RestoreFileVersion", sp.RestoreFileVersionRequest(ref=spr.Reference(path=path), key="no-such-key")
    )
    assert code_of(res) == "CODE_NOT_FOUND"
    # versions follow the file across a move
    mz_einstein.move(path, f"{folder}/v2.txt")
    assert [v.key for v in mz_einstein.versions(f"{folder}/v2.txt")] == [v.key for v in after]
    # paging
    res = mz_einstein.call(
        "ListFileVersions", sp.ListFileVersionsRequest(ref=spr.Reference(path=f"{folder}/v2.txt"), page_size=2)
    )
    assert len(res.versions) == 2 and res.next_page_token
    res2 = mz_einstein.call(
        "ListFileVersions",
        sp.ListFileVersionsRequest(
            ref=spr.Reference(path=f"{folder}/v2.txt"), page_size=2, page_token=res.next_page_token
        ),
    )
    assert [v.key for v in list(res.versions) + list(res2.versions)] == [v.key for v in after]


# ----------------------------------------------------------------------------------------
# recycle bin
# ----------------------------------------------------------------------------------------
def test_delete_restore_and_purge(mz_einstein, folder):
    mz_einstein.mkdir(f"{folder}/d")
    mz_einstein.put_ok(f"{folder}/d/inner.txt", b"inner")
    mz_einstein.put_ok(f"{folder}/f.txt", b"12345")
    file_id = mz_einstein.stat_ok(f"{folder}/f.txt").id
    dir_id = mz_einstein.stat_ok(f"{folder}/d").id
    inner_id = mz_einstein.stat_ok(f"{folder}/d/inner.txt").id

    before = time.time()
    assert mz_einstein.delete(f"{folder}/f.txt").status.code == OK
    assert mz_einstein.delete(f"{folder}/d").status.code == OK
    assert code_of(mz_einstein.stat(f"{folder}/f.txt")) == "CODE_NOT_FOUND"
    assert code_of(mz_einstein.stat(file_id)) == "CODE_NOT_FOUND"
    assert mz_einstein.names(folder) == []

    items = {i.ref.path: i for i in mz_einstein.recycle()}
    f_item, d_item = items[f"{folder}/f.txt"], items[f"{folder}/d"]
    assert f_item.type == spr.RESOURCE_TYPE_FILE and f_item.size == 5
    assert d_item.type == spr.RESOURCE_TYPE_CONTAINER and d_item.size == 5
    assert before - 5 <= f_item.deletion_time.seconds <= time.time() + 5

    res = mz_einstein.call(
        "RestoreRecycleItem", sp.RestoreRecycleItemRequest(ref=spr.Reference(path="/home"), key=f_item.key)
    )
    assert res.status.code == OK
    assert mz_einstein.read(f"{folder}/f.txt") == b"12345"
    assert mz_einstein.stat_ok(f"{folder}/f.txt").id == file_id
    assert f_item.key not in {i.key for i in mz_einstein.recycle()}

    # restore into a new place, recreating missing parents
    res = mz_einstein.call(
        "RestoreRecycleItem",
        sp.RestoreRecycleItemRequest(
            ref=spr.Reference(path="/home"), key=d_item.key, restore_ref=spr.Reference(path=f"{folder}/new/parents/d")
        ),
    )
    assert res.status.code == OK
    assert mz_einstein.stat_ok(f"{folder}/new/parents/d").id == dir_id
    assert mz_einstein.stat_ok(f"{folder}/new/parents/d/inner.txt").id == inner_id

    # conflicts
    mz_einstein.delete(f"{folder}/f.txt")
    mz_einstein.put_ok(f"{folder}/f.txt", b"replacement")
    key = next(i.key for i in mz_einstein.recycle() if i.ref.path == f"{folder}/f.txt")
    res = mz_einstein.call("RestoreRecycleItem", sp.RestoreRecycleItemRequest(ref=spr.Reference(path="/home"), key=key))
    assert code_of(res) == "CODE_ALREADY_EXISTS" and res.status.message
    assert mz_einstein.read(f"{folder}/f.txt") == b"replacement"

    # purge one item, then everything
    res = mz_einstein.call("PurgeRecycle", sp.PurgeRecycleRequest(ref=spr.Reference(path="/home"), key=key))
    assert res.status.code == OK
    assert key not in {i.key for i in mz_einstein.recycle()}
    res = mz_einstein.call("PurgeRecycle", sp.PurgeRecycleRequest(ref=spr.Reference(path="/home"), key=key))
    assert code_of(res) == "CODE_NOT_FOUND"
    mz_einstein.delete(f"{folder}/f.txt")
    assert mz_einstein.recycle()
    res = mz_einstein.call("PurgeRecycle", sp.PurgeRecycleRequest(ref=spr.Reference(path="/home")))
    assert res.status.code == OK
    assert mz_einstein.recycle() == []
    res = mz_einstein.call("RestoreRecycleItem", sp.RestoreRecycleItemRequest(ref=spr.Reference(path="/home"), key=key))
    assert code_of(res) == "CODE_NOT_FOUND"


def test_the_home_cannot_be_deleted(mz_einstein):
    res = mz_einstein.delete("/home")
    assert code_of(res) in ("CODE_PERMISSION_DENIED", "CODE_INVALID_ARGUMENT") and res.status.message
    assert mz_einstein.stat_ok("/home").path == "/home"


# ----------------------------------------------------------------------------------------
# quota, initiate errors
# ----------------------------------------------------------------------------------------
def test_get_quota(mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}/q.bin", b"x" * 1000)
    res = mz_einstein.call("GetQuota", gw.GetQuotaRequest(ref=spr.Reference(path="/home")))
    assert res.status.code == OK
    assert res.used_bytes >= 1000
    assert res.total_bytes > res.used_bytes
    remaining = int(res.opaque.map["remaining"].value)
    assert 0 < remaining <= res.total_bytes - res.used_bytes
    res = mz_einstein.call("GetQuota", gw.GetQuotaRequest())
    assert res.status.code == OK and res.used_bytes >= 1000


def test_initiate_upload_and_download_errors(mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}/x.txt", b"x")
    etag = mz_einstein.stat_ok(f"{folder}/x.txt").etag
    res = mz_einstein.initiate_upload(f"{folder}/x.txt", 1, if_not_exist=True)
    assert code_of(res) == "CODE_ALREADY_EXISTS" and res.status.message
    res = mz_einstein.initiate_upload(f"{folder}/x.txt", 1, if_match='"not-the-etag"')
    assert code_of(res) == "CODE_FAILED_PRECONDITION" and res.status.message
    res = mz_einstein.initiate_upload(f"{folder}/x.txt", 1, if_match=etag)
    assert res.status.code == OK
    assert {p.protocol for p in res.protocols} == {"simple", "tus"}
    for p in res.protocols:
        assert p.upload_endpoint.rsplit("/", 2)[-2] == p.protocol
        assert p.token
    past = types_pb2.Timestamp(seconds=int(time.time()) - 3600)
    res = mz_einstein.initiate_upload(f"{folder}/x.txt", 1, if_unmodified_since=past)
    assert code_of(res) == "CODE_FAILED_PRECONDITION"
    res = mz_einstein.initiate_upload(f"{folder}/missing/x.txt", 1)
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_einstein.initiate_upload(folder, 1)
    assert res.status.code != OK and res.status.message
    res = mz_einstein.initiate_upload(f"{folder}/y.txt", 1, lock_id="some-lock")
    assert res.status.code == OK

    res = mz_einstein.call(
        "InitiateFileDownload", sp.InitiateFileDownloadRequest(ref=spr.Reference(path=f"{folder}/nope"))
    )
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_einstein.call("InitiateFileDownload", sp.InitiateFileDownloadRequest(ref=spr.Reference(path=folder)))
    assert res.status.code != OK and res.status.message


# ----------------------------------------------------------------------------------------
# isolation between users
# ----------------------------------------------------------------------------------------
def test_users_cannot_see_or_touch_each_others_files(mz_einstein, mz_marie, folder):
    mz_einstein.put_ok(f"{folder}/secret.txt", b"E=mc2")
    info = mz_einstein.stat_ok(f"{folder}/secret.txt")
    folder_info = mz_einstein.stat_ok(folder)
    home_id = mz_einstein.stat_ok("/home").id

    # marie's /home is her own
    assert folder.rsplit("/", 1)[-1] not in mz_marie.names("/home")
    assert code_of(mz_marie.stat(f"{folder}/secret.txt")) == "CODE_NOT_FOUND"
    assert mz_marie.stat_ok("/home").id.space_id == MARIE_ID

    # ids of einstein's resources are invisible to her
    for target, rel in [(info.id, ""), (folder_info.id, "secret.txt"), (home_id, ""), (folder_info.id, "")]:
        assert code_of(mz_marie.stat(target, rel)) == "CODE_NOT_FOUND"
    assert code_of(mz_marie.ls(folder_info.id)) == "CODE_NOT_FOUND"
    assert code_of(mz_marie.delete(info.id)) == "CODE_NOT_FOUND"
    assert code_of(mz_marie.move(info.id, "/home/stolen.txt")) == "CODE_NOT_FOUND"
    res = mz_marie.call("InitiateFileDownload", sp.InitiateFileDownloadRequest(ref=spr.Reference(resource_id=info.id)))
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_marie.call(
        "InitiateFileUpload",
        sp.InitiateFileUploadRequest(ref=spr.Reference(resource_id=folder_info.id, path="./planted.txt")),
    )
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_marie.call(
        "SetArbitraryMetadata",
        sp.SetArbitraryMetadataRequest(
            ref=spr.Reference(resource_id=info.id), arbitrary_metadata=spr.ArbitraryMetadata(metadata={"a": "b"})
        ),
    )
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_marie.call("ListFileVersions", sp.ListFileVersionsRequest(ref=spr.Reference(resource_id=info.id)))
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_marie.call(
        "CreateContainer", sp.CreateContainerRequest(ref=spr.Reference(resource_id=folder_info.id, path="x"))
    )
    assert code_of(res) == "CODE_NOT_FOUND"
    # a forged space id does not help either
    forged = spr.ResourceId(storage_id="mesh-zenodo", space_id=MARIE_ID, opaque_id=info.id.opaque_id)
    assert code_of(mz_marie.stat(forged)) == "CODE_NOT_FOUND"

    # marie's recycle bin does not contain einstein's deletions
    mz_einstein.delete(f"{folder}/secret.txt")
    key = next(i.key for i in mz_einstein.recycle() if i.ref.path == f"{folder}/secret.txt")
    assert key not in {i.key for i in mz_marie.recycle()}
    res = mz_marie.call("RestoreRecycleItem", sp.RestoreRecycleItemRequest(ref=spr.Reference(path="/home"), key=key))
    assert code_of(res) == "CODE_NOT_FOUND"
    res = mz_marie.call("PurgeRecycle", sp.PurgeRecycleRequest(ref=spr.Reference(path="/home"), key=key))
    assert code_of(res) == "CODE_NOT_FOUND"
    assert key in {i.key for i in mz_einstein.recycle()}

    # and everything is still as einstein left it
    assert mz_einstein.stat_ok(folder).id == folder_info.id


# ----------------------------------------------------------------------------------------
# path validation
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/home/../etc/passwd",
        "/home/a/../../x",
        "/home/a\x00b",
        "/etc/passwd",
        "/homework",
        "/",
        "relative/path",
        "/home/" + "n" * 256,
        "/home/" + "é" * 128,  # 256 bytes in UTF-8
        "/home/" + "/".join(["d" * 200] * 21),  # longer than 4096 bytes
    ],
)
def test_bad_paths_are_invalid_arguments(mz_einstein, path):
    for res in (mz_einstein.stat(path), mz_einstein.mkdir(path), mz_einstein.touch(path), mz_einstein.initiate_upload(path, 1)):
        assert code_of(res) == "CODE_INVALID_ARGUMENT", path
        assert res.status.message


def test_bad_relative_paths_are_invalid_arguments(mz_einstein, folder):
    fid = mz_einstein.stat_ok(folder).id
    for rel in ("../x", "./a/../../b", "/home/x", "a\x00"):
        res = mz_einstein.stat(fid, rel)
        assert code_of(res) == "CODE_INVALID_ARGUMENT", rel
    res = mz_einstein.call("Stat", sp.StatRequest(ref=spr.Reference()))
    assert code_of(res) == "CODE_INVALID_ARGUMENT"


def test_long_but_valid_names_work(mz_einstein, folder):
    name = "n" * 255
    assert mz_einstein.touch(f"{folder}/{name}").status.code == OK
    assert mz_einstein.names(folder) == [name]


def test_unimplemented_and_unprotected_methods_without_token(stub):
    from cs3.auth.registry.v1beta1 import registry_api_pb2

    # unprotected and unserved: answered in the status, without a token
    assert stub.ListAuthProviders(registry_api_pb2.ListAuthProvidersRequest()).status.code == code_pb2.CODE_UNIMPLEMENTED
    with pytest.raises(grpc.RpcError) as exc:
        stub.CreateShare(col.CreateShareRequest())
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED
