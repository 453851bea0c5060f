"""Issue 8 "Sharing", the storage part: users and groups, shares, received shares, mounts
under /home/Shares, and the permission matrix enforced on every RPC and transfer.

Everything goes over real gRPC on loopback (and HTTP to the data gateway); each cell
asserts the exact CS3 status a client sees."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest
import requests
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.identity.group.v1beta1 import group_api_pb2 as group_api
from cs3.identity.group.v1beta1 import resources_pb2 as group_res
from cs3.identity.user.v1beta1 import resources_pb2 as user_res
from cs3.identity.user.v1beta1 import user_api_pb2 as user_api
from cs3.rpc.v1beta1 import code_pb2
from cs3.sharing.collaboration.v1beta1 import collaboration_api_pb2 as col_api
from cs3.sharing.collaboration.v1beta1 import resources_pb2 as col_res
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr

from mesh_zenodo.pytest_plugin import StorageUser, source_tree_env, start_storage

OK = code_pb2.CODE_OK
NOT_FOUND = code_pb2.CODE_NOT_FOUND
DENIED = code_pb2.CODE_PERMISSION_DENIED
INVALID = code_pb2.CODE_INVALID_ARGUMENT
EXISTS = code_pb2.CODE_ALREADY_EXISTS
ACCEPTED = col_res.SHARE_STATE_ACCEPTED
PENDING = col_res.SHARE_STATE_PENDING
REJECTED = col_res.SHARE_STATE_REJECTED


def code_name(code: int) -> str:
    return code_pb2.Code.Name(code)


@pytest.fixture(scope="module")
def richard(mz_server):
    user = StorageUser(mz_server.grpc_addr, "richard")
    yield user
    user.close()


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_tree(owner: StorageUser, name: str) -> spr.ResourceInfo:
    """/home/<name>/ with f.txt (two versions) and sub/inner.txt."""
    assert owner.mkdir(f"/home/{name}").status.code == OK
    owner.put_ok(f"/home/{name}/f.txt", b"version one")
    owner.put_ok(f"/home/{name}/f.txt", b"version two")
    assert owner.mkdir(f"/home/{name}/sub").status.code == OK
    owner.put_ok(f"/home/{name}/sub/inner.txt", b"inner")
    return owner.stat_ok(f"/home/{name}")


# --------------------------------------------------------------------------------------
# the permission matrix
# --------------------------------------------------------------------------------------
OPERATIONS = (
    "stat", "list", "download", "versions", "restore", "recycle", "upload", "create", "delete", "reshare", "move"
)  # fmt: skip

ALL_OK = dict.fromkeys(OPERATIONS, OK)
# the recycle bin is the owner's (the whole home's): a grantee sees the place, not the bin
MANAGER = {**ALL_OK, "recycle": DENIED}
EDITOR = {**MANAGER, "reshare": DENIED}
VIEWER = {
    **dict.fromkeys(OPERATIONS, DENIED),
    "stat": OK,
    "list": OK,
    "download": OK,
    "versions": OK,
}
UPLOADER = {**dict.fromkeys(OPERATIONS, DENIED), "stat": OK, "upload": OK, "create": OK}
NOTHING = dict.fromkeys(OPERATIONS, NOT_FOUND)


def run_operations(user: StorageUser, root: spr.ResourceId, owner: StorageUser, third: StorageUser) -> dict:
    """Each operation on the shared folder (reached by its ResourceId and a relative
    path, as a grantee does); the status each one got (and the transfer's HTTP status
    when it was initiated)."""
    got = {}

    def ref(rel: str = "") -> spr.Reference:
        return spr.Reference(resource_id=root, path=rel)

    got["stat"] = user.call("Stat", sp.StatRequest(ref=ref("f.txt"))).status.code
    got["list"] = user.call("ListContainer", sp.ListContainerRequest(ref=ref())).status.code
    res = user.call("InitiateFileDownload", sp.InitiateFileDownloadRequest(ref=ref("f.txt")))
    got["download"] = res.status.code
    if res.status.code == OK:
        proto = next(p for p in res.protocols if p.protocol == "simple")
        response = requests.get(proto.download_endpoint, headers={"X-Reva-Transfer": proto.token}, timeout=30)
        assert response.status_code == 200 and response.content in (b"version two", b"version one")
    got["versions"] = user.call("ListFileVersions", sp.ListFileVersionsRequest(ref=ref("f.txt"))).status.code
    owner_name = owner.stat_ok(root).path
    key = owner.versions(f"{owner_name}/f.txt")[0].key
    got["restore"] = user.call(
        "RestoreFileVersion", sp.RestoreFileVersionRequest(ref=ref("f.txt"), key=key)
    ).status.code
    got["recycle"] = user.call("ListRecycle", sp.ListRecycleRequest(ref=ref())).status.code
    res = user.call("InitiateFileUpload", sp.InitiateFileUploadRequest(ref=ref("new.txt")))
    got["upload"] = res.status.code
    if res.status.code == OK:
        proto = next(p for p in res.protocols if p.protocol == "simple")
        response = requests.put(
            proto.upload_endpoint,
            data=b"new",
            headers={"X-Reva-Transfer": proto.token, "x-access-token": user.token, "Upload-Length": "3"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert owner.read(f"{owner_name}/new.txt") == b"new"
    got["create"] = user.call("CreateContainer", sp.CreateContainerRequest(ref=ref("newdir"))).status.code
    got["delete"] = user.call("Delete", sp.DeleteRequest(ref=ref("sub"))).status.code
    got["reshare"] = user.share(root, user.grantee(third.user.id), "viewer").status.code
    got["move"] = user.call("Move", sp.MoveRequest(source=ref("f.txt"), destination=ref("g.txt"))).status.code
    return {k: got[k] for k in OPERATIONS}


def expect(got: dict, wanted: dict) -> None:
    assert {k: code_name(v) for k, v in got.items()} == {k: code_name(v) for k, v in wanted.items()}


@pytest.mark.parametrize(
    "case, wanted",
    [
        ("owner", ALL_OK),
        ("manager", MANAGER),
        ("editor", EDITOR),
        ("viewer", VIEWER),
        ("uploader", UPLOADER),
        ("group member", EDITOR),
        ("pending viewer", VIEWER),
        ("stranger", NOTHING),
        ("after removal", NOTHING),
        ("after expiry", NOTHING),
        ("after decline", NOTHING),
    ],
)
def test_permission_matrix(case, wanted, mz_einstein, mz_marie, richard):
    einstein, marie = mz_einstein, mz_marie
    name = fresh("matrix")
    root = make_tree(einstein, name).id
    user, third = marie, richard
    if case == "owner":
        user = einstein
    elif case == "stranger":
        user, third = richard, marie
    else:
        role = {"manager": "manager", "editor": "editor", "uploader": "uploader"}.get(case, "viewer")
        if case == "group member":
            share = einstein.share_ok(root, einstein.grantee(group="radium-lovers"), "editor")
        elif case == "after expiry":
            share = einstein.share_ok(root, einstein.grantee(marie.user.id), "editor", expiration=time.time() + 1.5)
        else:
            role = "editor" if case == "after removal" else role
            share = einstein.share_ok(root, einstein.grantee(marie.user.id), role)
        if case != "pending viewer":
            marie.accept(share.id.opaque_id)
        if case == "after removal":
            assert einstein.remove_share(share.id.opaque_id).status.code == OK
        elif case == "after expiry":
            time.sleep(max(0.0, share.expiration.seconds + share.expiration.nanos / 1e9 - time.time()) + 0.2)
        elif case == "after decline":
            assert marie.respond(share.id.opaque_id, REJECTED).status.code == OK
    expect(run_operations(user, root, einstein, third), wanted)


def test_permission_set_reflects_the_role(mz_einstein, mz_marie):
    name = fresh("perms")
    root = make_tree(mz_einstein, name).id
    share = mz_einstein.share_ok(root, mz_einstein.grantee(mz_marie.user.id), "viewer")
    mz_marie.accept(share.id.opaque_id)
    shared = mz_marie.stat_ok(f"/home/Shares/{name}")
    assert shared.path == f"/home/Shares/{name}" and shared.name == name
    ps = shared.permission_set
    assert ps.stat and ps.list_container and ps.initiate_file_download
    assert not (ps.initiate_file_upload or ps.delete or ps.move or ps.add_grant or ps.create_container)
    child = mz_marie.stat_ok(f"/home/Shares/{name}/f.txt")
    assert child.path == f"/home/Shares/{name}/f.txt"
    assert child.permission_set.list_file_versions and not child.permission_set.restore_file_version
    assert mz_einstein.update_share(share.id.opaque_id, "editor").status.code == OK
    child = mz_marie.stat_ok(f"/home/Shares/{name}/f.txt")
    assert child.permission_set.initiate_file_upload and child.permission_set.delete
    # the shared folder itself cannot be deleted or moved away by its recipients
    root_info = mz_marie.stat_ok(f"/home/Shares/{name}")
    assert root_info.permission_set.create_container and not root_info.permission_set.delete
    assert mz_marie.delete(f"/home/Shares/{name}").status.code == DENIED
    assert mz_einstein.stat_ok(f"/home/{name}").permission_set.add_grant


def test_transfers_check_the_share_at_transfer_time(mz_einstein, mz_marie):
    name = fresh("late")
    root = make_tree(mz_einstein, name).id
    share = mz_einstein.share_ok(root, mz_einstein.grantee(mz_marie.user.id), "editor")
    mz_marie.accept(share.id.opaque_id)
    down = mz_marie.download_protocol(f"/home/Shares/{name}/f.txt")
    up = mz_marie.upload_protocol(f"/home/Shares/{name}/late.txt", "simple", 4)
    assert mz_einstein.remove_share(share.id.opaque_id).status.code == OK
    response = requests.get(down.download_endpoint, headers={"X-Reva-Transfer": down.token}, timeout=30)
    assert response.status_code == 404
    response = requests.put(
        up.upload_endpoint,
        data=b"late",
        headers={"X-Reva-Transfer": up.token, "x-access-token": mz_marie.token, "Upload-Length": "4"},
        timeout=30,
    )
    assert response.status_code == 404
    assert mz_einstein.info(f"/home/{name}/late.txt") is None


# --------------------------------------------------------------------------------------
# mounts under /home/Shares
# --------------------------------------------------------------------------------------
def test_accepted_shares_are_mounted_pending_and_declined_are_not(mz_einstein, mz_marie, richard):
    name = fresh("data")
    mine = make_tree(mz_einstein, name)
    assert richard.mkdir(f"/home/{name}").status.code == OK
    richard.put_ok(f"/home/{name}/r.txt", b"richard's")
    theirs = richard.stat_ok(f"/home/{name}")
    s1 = mz_einstein.share_ok(mine.id, mz_einstein.grantee(mz_marie.user.id), "viewer")
    s2 = richard.share_ok(theirs.id, richard.grantee(mz_marie.user.id), "editor")
    # pending: reachable by id, not mounted
    assert mz_marie.stat(mine.id).status.code == OK
    assert mz_marie.stat(f"/home/Shares/{name}").status.code == NOT_FOUND
    assert name not in mz_marie.names("/home/Shares")
    first = mz_marie.accept(s1.id.opaque_id)
    assert first.mount_point.path == f"/home/Shares/{name}"
    second = mz_marie.accept(s2.id.opaque_id)
    assert second.mount_point.path == f"/home/Shares/{name} (1)"
    names = mz_marie.names("/home/Shares")
    assert name in names and f"{name} (1)" in names
    assert set(mz_marie.names(f"/home/Shares/{name} (1)")) == {"r.txt"}
    assert set(mz_marie.names(f"/home/Shares/{name}")) == {"f.txt", "sub"}
    listed = mz_marie.ls("/home/Shares")
    entry = next(i for i in listed.infos if i.name == f"{name} (1)")
    assert entry.path == f"/home/Shares/{name} (1)" and entry.type == spr.RESOURCE_TYPE_CONTAINER
    shares_folder = mz_marie.stat_ok("/home/Shares")
    assert shares_folder.type == spr.RESOURCE_TYPE_CONTAINER and shares_folder.permission_set.list_container
    # work inside a mount
    assert mz_marie.mkdir(f"/home/Shares/{name} (1)/made").status.code == OK
    assert richard.stat_ok(f"/home/{name}/made").type == spr.RESOURCE_TYPE_CONTAINER
    mz_marie.put_ok(f"/home/Shares/{name} (1)/made/m.txt", b"by marie")
    assert richard.read(f"/home/{name}/made/m.txt") == b"by marie"
    assert mz_marie.move(f"/home/Shares/{name} (1)/made/m.txt", f"/home/Shares/{name} (1)/m2.txt").status.code == OK
    assert mz_marie.delete(f"/home/Shares/{name} (1)/m2.txt").status.code == OK
    assert richard.info(f"/home/{name}/m2.txt") is None
    assert mz_marie.read(f"/home/Shares/{name}/f.txt") == b"version two"
    # viewer mount: no writes
    assert mz_marie.mkdir(f"/home/Shares/{name}/nope").status.code == DENIED
    # moving out of a share into one's home: another owner's storage, refused
    assert mz_marie.move(f"/home/Shares/{name} (1)/r.txt", "/home/r.txt").status.code == DENIED
    assert richard.info(f"/home/{name}/r.txt") is not None and mz_marie.info("/home/r.txt") is None
    # the Shares folder itself takes nothing
    assert mz_marie.mkdir("/home/Shares/new").status.code == DENIED
    assert mz_marie.delete("/home/Shares").status.code == DENIED
    # declining unmounts
    assert mz_marie.respond(s2.id.opaque_id, REJECTED).status.code == OK
    assert mz_marie.stat(f"/home/Shares/{name} (1)").status.code == NOT_FOUND
    assert f"{name} (1)" not in mz_marie.names("/home/Shares")
    assert mz_marie.stat(theirs.id).status.code == NOT_FOUND


def test_mount_point_can_be_chosen_and_clashes_refused(mz_einstein, mz_marie):
    a, b = make_tree(mz_einstein, fresh("mp")), make_tree(mz_einstein, fresh("mp"))
    sa = mz_einstein.share_ok(a.id, mz_einstein.grantee(mz_marie.user.id))
    sb = mz_einstein.share_ok(b.id, mz_einstein.grantee(mz_marie.user.id))
    chosen = fresh("chosen")
    got = mz_marie.accept(sa.id.opaque_id, mount_point=f"/home/Shares/{chosen}")
    assert got.mount_point.path == f"/home/Shares/{chosen}"
    assert mz_marie.stat_ok(f"/home/Shares/{chosen}").id.opaque_id == a.id.opaque_id
    res = mz_marie.respond(sb.id.opaque_id, ACCEPTED, mount_point=chosen)
    assert res.status.code == EXISTS
    assert mz_marie.stat(f"/home/Shares/{b.name}").status.code == NOT_FOUND


# --------------------------------------------------------------------------------------
# lists
# --------------------------------------------------------------------------------------
def test_lists_carry_the_resource_and_filter(mz_einstein, mz_marie, richard):
    name = fresh("listed")
    folder = make_tree(mz_einstein, name)
    file_info = mz_einstein.stat_ok(f"/home/{name}/f.txt")
    s_user = mz_einstein.share_ok(folder.id, mz_einstein.grantee(mz_marie.user.id), "editor")
    s_group = mz_einstein.share_ok(file_info.id, mz_einstein.grantee(group="quantum-lovers"), "viewer")

    def existing(*filters):
        res = mz_einstein.call("ListExistingShares", col_api.ListSharesRequest(filters=list(filters)))
        assert res.status.code == OK, res.status
        return {i.share.id.opaque_id: i for i in res.share_infos}

    by_id = existing(col_res.Filter(type=col_res.Filter.TYPE_RESOURCE_ID, resource_id=folder.id))
    assert set(by_id) == {s_user.id.opaque_id}
    info = by_id[s_user.id.opaque_id].resource_info
    assert (info.name, info.path, info.type) == (name, f"/home/{name}", spr.RESOURCE_TYPE_CONTAINER)
    assert info.mtime.seconds > 0
    groups = existing(col_res.Filter(type=col_res.Filter.TYPE_GRANTEE_TYPE, grantee_type=spr.GRANTEE_TYPE_GROUP))
    assert s_group.id.opaque_id in groups and s_user.id.opaque_id not in groups
    assert groups[s_group.id.opaque_id].resource_info.size == len(b"version two")
    owned = existing(col_res.Filter(type=col_res.Filter.TYPE_OWNER, owner=mz_einstein.user.id))
    assert {s_user.id.opaque_id, s_group.id.opaque_id} <= set(owned)
    assert not existing(
        col_res.Filter(type=col_res.Filter.TYPE_CREATOR, creator=mz_marie.user.id),
        col_res.Filter(type=col_res.Filter.TYPE_RESOURCE_ID, resource_id=folder.id),
    )
    plain = mz_einstein.call("ListShares", col_api.ListSharesRequest(filters=[
        col_res.Filter(type=col_res.Filter.TYPE_RESOURCE_ID, resource_id=folder.id)]))
    assert [s.id.opaque_id for s in plain.shares] == [s_user.id.opaque_id]
    assert plain.shares[0].permissions.permissions.initiate_file_upload

    # received: marie (user share), richard (group share), with a state filter
    pending = mz_marie.received(PENDING)
    assert pending.status.code == OK
    mine = [i for i in pending.share_infos if i.received_share.share.id.opaque_id == s_user.id.opaque_id]
    assert len(mine) == 1 and mine[0].resource_info.name == name
    assert mine[0].received_share.state == PENDING
    mz_marie.accept(s_user.id.opaque_id)
    accepted = mz_marie.received(ACCEPTED)
    hit = [i for i in accepted.share_infos if i.received_share.share.id.opaque_id == s_user.id.opaque_id]
    assert hit and hit[0].resource_info.path == f"/home/Shares/{name}"
    still_pending = mz_marie.received(PENDING).share_infos
    assert not [i for i in still_pending if i.received_share.share.id.opaque_id == s_user.id.opaque_id]
    plain = mz_marie.received(ACCEPTED, existing=False)
    assert any(
        s.share.id.opaque_id == s_user.id.opaque_id and s.mount_point.path == f"/home/Shares/{name}"
        for s in plain.shares
    )
    by_group = richard.received()
    assert any(i.received_share.share.id.opaque_id == s_group.id.opaque_id for i in by_group.share_infos)
    got = richard.call("GetReceivedShare", col_api.GetReceivedShareRequest(ref=richard.share_ref(s_group.id.opaque_id)))
    assert got.status.code == OK and got.share.state == PENDING
    hidden = richard.respond(s_group.id.opaque_id, PENDING, hidden=True)
    assert hidden.status.code == OK and hidden.share.hidden
    # a group share reaches the member (pending: by id)
    assert richard.stat(file_info.id).status.code == OK
    # get by id and by key
    got = mz_einstein.call("GetShare", col_api.GetShareRequest(ref=mz_einstein.share_ref(s_user.id.opaque_id)))
    assert got.status.code == OK and got.share.grantee.user_id.opaque_id == mz_marie.user.id.opaque_id
    key = col_res.ShareKey(
        owner=mz_einstein.user.id, resource_id=folder.id, grantee=mz_einstein.grantee(mz_marie.user.id)
    )
    got = mz_einstein.call("GetShare", col_api.GetShareRequest(ref=col_res.ShareReference(key=key)))
    assert got.status.code == OK and got.share.id.opaque_id == s_user.id.opaque_id
    # nobody else sees it
    got = richard.call("GetShare", col_api.GetShareRequest(ref=richard.share_ref(s_user.id.opaque_id)))
    assert got.status.code == NOT_FOUND


# --------------------------------------------------------------------------------------
# bad input: a clear status, nothing changed
# --------------------------------------------------------------------------------------
def share_count(user: StorageUser) -> int:
    res = user.call("ListShares", col_api.ListSharesRequest())
    assert res.status.code == OK
    return len(res.shares)


def test_bad_shares_are_refused_and_change_nothing(mz_einstein, mz_marie, richard):
    name = fresh("bad")
    folder = make_tree(mz_einstein, name)
    file_info = mz_einstein.stat_ok(f"/home/{name}/f.txt")
    viewer_share = mz_einstein.share_ok(folder.id, mz_einstein.grantee(mz_marie.user.id), "viewer")
    before = share_count(mz_einstein), share_count(mz_marie), share_count(richard)
    ghost = user_res.UserId(idp="nowhere", opaque_id="no-such-user")
    to_richard = mz_einstein.grantee(richard.user.id)
    cases = {
        "unknown grantee": (mz_einstein.share(folder.id, mz_einstein.grantee(ghost)), NOT_FOUND),
        "unknown group": (mz_einstein.share(folder.id, mz_einstein.grantee(group="no-such-group")), NOT_FOUND),
        "invalid role": (mz_einstein.share(folder.id, to_richard, {"stat", "delete"}), INVALID),
        "no permissions": (mz_einstein.share(folder.id, mz_einstein.grantee(richard.user.id), set()), INVALID),
        "uploader on a file": (mz_einstein.share(file_info.id, to_richard, "uploader"), INVALID),
        "with yourself": (mz_einstein.share(folder.id, mz_einstein.grantee(mz_einstein.user.id)), INVALID),
        "duplicate": (mz_einstein.share(folder.id, mz_einstein.grantee(mz_marie.user.id), "editor"), EXISTS),
        "viewer resharing": (mz_marie.share(folder.id, mz_marie.grantee(richard.user.id)), DENIED),
        "not yours, not visible": (richard.share(folder.id, richard.grantee(mz_marie.user.id)), NOT_FOUND),
        "expiry in the past": (
            mz_einstein.share(folder.id, mz_einstein.grantee(richard.user.id), expiration=time.time() - 60),
            INVALID,
        ),
        "the home folder": (mz_einstein.share("/home", mz_einstein.grantee(richard.user.id)), INVALID),
    }
    assert {k: code_name(r.status.code) for k, (r, _c) in cases.items()} == {
        k: code_name(c) for k, (_r, c) in cases.items()
    }
    assert (share_count(mz_einstein), share_count(mz_marie), share_count(richard)) == before
    assert mz_marie.received(ACCEPTED).status.code == OK
    # changing shares: unknown id, not yours, invalid role
    unknown = "no-such-share"
    assert mz_einstein.update_share(unknown, "editor").status.code == NOT_FOUND
    assert mz_einstein.remove_share(unknown).status.code == NOT_FOUND
    got = mz_einstein.call("GetShare", col_api.GetShareRequest(ref=mz_einstein.share_ref(unknown)))
    assert got.status.code == NOT_FOUND
    assert mz_marie.respond(unknown).status.code == NOT_FOUND
    assert mz_marie.update_share(viewer_share.id.opaque_id, "manager").status.code == DENIED
    assert mz_marie.remove_share(viewer_share.id.opaque_id).status.code == DENIED
    assert richard.remove_share(viewer_share.id.opaque_id).status.code == NOT_FOUND
    assert mz_einstein.update_share(viewer_share.id.opaque_id, {"stat"}).status.code == INVALID
    got = mz_einstein.call("GetShare", col_api.GetShareRequest(ref=mz_einstein.share_ref(viewer_share.id.opaque_id)))
    assert got.share.permissions.permissions == StorageUser.role_permissions("viewer").permissions
    assert mz_marie.respond(viewer_share.id.opaque_id, 42).status.code == INVALID


def test_manager_reshares_and_the_owner_sees_it(mz_einstein, mz_marie, richard):
    name = fresh("managed")
    folder = make_tree(mz_einstein, name)
    s = mz_einstein.share_ok(folder.id, mz_einstein.grantee(mz_marie.user.id), "manager")
    sub = mz_marie.stat_ok(folder.id, "sub")
    reshare = mz_marie.share_ok(sub.id, mz_marie.grantee(richard.user.id), "editor")
    assert reshare.creator.opaque_id == mz_marie.user.id.opaque_id
    assert reshare.owner.opaque_id == mz_einstein.user.id.opaque_id
    res = mz_einstein.call("ListExistingShares", col_api.ListSharesRequest())
    assert reshare.id.opaque_id in {i.share.id.opaque_id for i in res.share_infos}
    richard.accept(reshare.id.opaque_id)
    assert richard.read("/home/Shares/sub/inner.txt") == b"inner"
    # the manager may also remove it; then richard has nothing
    assert mz_marie.remove_share(reshare.id.opaque_id).status.code == OK
    assert richard.stat("/home/Shares/sub").status.code == NOT_FOUND
    assert mz_einstein.remove_share(s.id.opaque_id).status.code == OK


def test_expiry_can_be_set_by_update(mz_einstein, mz_marie):
    folder = make_tree(mz_einstein, fresh("exp"))
    s = mz_einstein.share_ok(folder.id, mz_einstein.grantee(mz_marie.user.id), "viewer")
    assert mz_marie.stat(folder.id).status.code == OK
    res = mz_einstein.update_share(s.id.opaque_id, expiration=time.time() + 1.0)
    assert res.status.code == OK and res.share.expiration.seconds > 0
    time.sleep(1.3)
    assert mz_marie.stat(folder.id).status.code == NOT_FOUND
    assert mz_einstein.update_share(s.id.opaque_id, expiration=time.time() - 10).status.code == INVALID


# --------------------------------------------------------------------------------------
# users and groups
# --------------------------------------------------------------------------------------
def test_find_users_by_name_username_or_mail(mz_einstein):
    def found(q):
        res = mz_einstein.find_users(q)
        assert res.status.code == OK
        return sorted(u.username for u in res.users)

    assert found("EIN") == ["einstein"]
    assert found("curie") == ["marie"]
    assert found("richard@example") == ["richard"]
    assert found("example.org") == ["einstein", "marie", "richard"]
    assert found("nobody-like-this") == []
    res = mz_einstein.find_users("marie")
    assert set(res.users[0].groups) == {"radium-lovers", "polonium-lovers", "physics-lovers"}


def test_find_groups_and_membership(mz_einstein, mz_marie):
    def found(q):
        res = mz_einstein.find_groups(q)
        assert res.status.code == OK
        return sorted(g.group_name for g in res.groups)

    assert found("lovers") == sorted(
        ["sailing-lovers", "radium-lovers", "polonium-lovers", "quantum-lovers", "physics-lovers"]
    )
    assert found("Physics L") == ["physics-lovers"]
    assert found("violin-haters@example") == ["violin-haters"]
    physics = group_res.GroupId(opaque_id="physics-lovers")
    res = mz_einstein.call("GetGroup", group_api.GetGroupRequest(group_id=physics))
    assert res.status.code == OK and res.group.display_name == "Physics Lovers" and len(res.group.members) == 3
    res = mz_einstein.call("GetGroup", group_api.GetGroupRequest(group_id=group_res.GroupId(opaque_id="nope")))
    assert res.status.code == NOT_FOUND
    by_claim = group_api.GetGroupByClaimRequest
    res = mz_einstein.call("GetGroupByClaim", by_claim(claim="group_name", value="radium-lovers"))
    assert res.status.code == OK and [m.opaque_id for m in res.group.members] == [mz_marie.user.id.opaque_id]
    res = mz_einstein.call("GetGroupByClaim", by_claim(claim="mail", value="nobody@example.org"))
    assert res.status.code == NOT_FOUND
    res = mz_einstein.call("GetMembers", group_api.GetMembersRequest(group_id=physics))
    assert res.status.code == OK and len(res.members) == 3
    res = mz_einstein.call("HasMember", group_api.HasMemberRequest(
        group_id=group_res.GroupId(opaque_id="sailing-lovers"), user_id=mz_marie.user.id))
    assert res.status.code == OK and res.ok is False
    res = mz_einstein.call("HasMember", group_api.HasMemberRequest(
        group_id=group_res.GroupId(opaque_id="sailing-lovers"), user_id=mz_einstein.user.id))
    assert res.status.code == OK and res.ok is True
    res = mz_marie.call("GetUserGroups", user_api.GetUserGroupsRequest(user_id=mz_einstein.user.id))
    assert res.status.code == OK and set(res.groups) == {"sailing-lovers", "violin-haters", "physics-lovers"}
    assert set(mz_marie.user.groups) == {"radium-lovers", "polonium-lovers", "physics-lovers"}


def test_groups_file_replaces_the_demo_groups(tmp_path):
    groups = [
        {
            "id": {"opaque_id": "relativists", "idp": "example.org"},
            "group_name": "relativists",
            "display_name": "Relativists",
            "mail": "relativists@example.org",
            "gid_number": 7,
            "members": [{"id": {"opaque_id": "f7fbf8c8-139b-4376-b307-cf0a8c2d0d9c"}}],
        }
    ]
    (tmp_path / "groups.json").write_text(json.dumps(groups))
    proc = start_storage(tmp_path / "root", ["--groups", str(tmp_path / "groups.json")])
    try:
        marie = StorageUser(proc.grpc_addr, "marie")
        einstein = StorageUser(proc.grpc_addr, "einstein")
        try:
            res = marie.find_groups("")
            assert [g.group_name for g in res.groups] == ["relativists"]
            # marie's users entry names the demo groups, the file adds her to "relativists"
            assert "relativists" in marie.user.groups
            assert einstein.mkdir("/home/theory").status.code == OK
            folder = einstein.stat_ok("/home/theory")
            assert einstein.share(folder.id, einstein.grantee(group="physics-lovers")).status.code == NOT_FOUND
            einstein.share_ok(folder.id, einstein.grantee(group="relativists"), "viewer")
            assert marie.stat(folder.id).status.code == OK
        finally:
            marie.close()
            einstein.close()
    finally:
        proc.stop()


def test_unserved_rpcs_are_not_affected(mz_einstein):
    res = mz_einstein.call("WhoAmI", gw.WhoAmIRequest(token=mz_einstein.token))
    assert res.status.code == OK and "physics-lovers" in res.user.groups


def test_a_bad_groups_file_stops_the_start(tmp_path):
    bad = tmp_path / "groups.json"
    bad.write_text(json.dumps([{"id": {}, "group_name": "x"}]))
    for path, message in ((bad, "missing 'opaque_id'"), (tmp_path / "none.json", "does not exist")):
        done = subprocess.run(
            [sys.executable, "-m", "mesh_zenodo.storage", "--root", str(tmp_path / "root"), "--groups", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            env=source_tree_env(),
        )
        assert done.returncode == 2 and message in done.stderr, done.stderr


def test_a_single_file_shared_as_editor_can_be_saved_by_the_grantee(mz_einstein, mz_marie):
    # the commonest share: one notebook, as editor (the grantee has nothing on its folder)
    name = fresh("nb") + ".ipynb"
    mz_einstein.put_ok(f"/home/{name}", b"einstein's version")
    share = mz_einstein.share_ok(mz_einstein.stat_ok(f"/home/{name}").id, mz_einstein.grantee(mz_marie.user.id), "editor")
    mz_marie.accept(share.id.opaque_id)
    mz_marie.put_ok(f"/home/Shares/{name}", b"marie's version")
    assert mz_einstein.read(f"/home/{name}") == b"marie's version"
    assert len(mz_einstein.versions(f"/home/{name}")) == 1  # his version kept
    # a viewer of a single file still cannot
    view = fresh("view") + ".txt"
    mz_einstein.put_ok(f"/home/{view}", b"read me")
    viewed = mz_einstein.share_ok(mz_einstein.stat_ok(f"/home/{view}").id, mz_einstein.grantee(mz_marie.user.id))
    mz_marie.accept(viewed.id.opaque_id)
    assert mz_marie.initiate_upload(f"/home/Shares/{view}", 3).status.code == DENIED
    assert mz_einstein.read(f"/home/{view}") == b"read me"


def test_an_uploader_adds_files_but_never_replaces_one(mz_einstein, mz_marie):
    name = fresh("drop")
    assert mz_einstein.mkdir(f"/home/{name}").status.code == OK
    mz_einstein.put_ok(f"/home/{name}/report.pdf", b"the owner's report")
    share = mz_einstein.share_ok(mz_einstein.stat_ok(f"/home/{name}").id, mz_einstein.grantee(mz_marie.user.id), "uploader")
    mz_marie.accept(share.id.opaque_id)
    mz_marie.put_ok(f"/home/Shares/{name}/mine.pdf", b"marie's upload")
    assert mz_marie.initiate_upload(f"/home/Shares/{name}/report.pdf", 5).status.code == DENIED
    assert mz_einstein.read(f"/home/{name}/report.pdf") == b"the owner's report"
    assert mz_einstein.read(f"/home/{name}/mine.pdf") == b"marie's upload"


def test_out_of_range_numbers_are_invalid_not_internal(mz_einstein, mz_marie):
    name = fresh("far")
    assert mz_einstein.mkdir(f"/home/{name}").status.code == OK
    far = mz_einstein.share(f"/home/{name}", mz_einstein.grantee(mz_marie.user.id), "viewer", expiration=2.0**40)
    assert far.status.code == INVALID
    mine = mz_einstein.stat_ok(f"/home/{name}").id
    assert not [e for e in mz_marie.received().share_infos if e.received_share.share.resource_id == mine]
    by_gid = mz_einstein.call("GetGroupByClaim", group_api.GetGroupByClaimRequest(claim="gid_number", value="²"))
    assert by_gid.status.code == NOT_FOUND


def test_a_reshare_grants_nothing_once_its_creator_lost_access(mz_einstein, mz_marie, richard):
    mine = make_tree(mz_einstein, fresh("chain"))
    to_marie = mz_einstein.share_ok(mine.id, mz_einstein.grantee(mz_marie.user.id), "manager")
    mz_marie.share_ok(mine.id, mz_marie.grantee(richard.user.id), "viewer")
    assert richard.stat(mine.id).status.code == OK
    assert mz_einstein.remove_share(to_marie.id.opaque_id).status.code == OK
    assert richard.stat(mine.id).status.code == NOT_FOUND
