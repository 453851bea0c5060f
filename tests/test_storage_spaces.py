"""Project spaces of the embedded storage over real gRPC (and the data gateway over real
HTTP): creation, members with space roles (AddGrant / UpdateGrant / RemoveGrant /
ListGrants on the space root), ListStorageSpaces filters, the space's quota, renaming and
deletion; each answer's exact status asserted."""

from __future__ import annotations

import uuid

import pytest
import requests
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.rpc.v1beta1 import code_pb2
from cs3.sharing.link.v1beta1 import link_api_pb2 as link_api
from cs3.sharing.link.v1beta1 import resources_pb2 as link_res
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.storage.provider.v1beta1 import spaces_api_pb2 as spaces_api
from mesh_zenodo.pytest_plugin import (
    StorageUser,
    create_space,
    link_permissions,
    provider_stub,
    role_permissions,
    space_ref,
    start_storage,
)

OK = code_pb2.CODE_OK
Filter = spaces_api.ListStorageSpacesRequest.Filter


def code(res) -> str:
    return code_pb2.Code.Name(res.status.code)


@pytest.fixture(scope="module")
def mz_richard(mz_server):
    user = StorageUser(mz_server.grpc_addr, "richard")
    yield user
    user.close()


def new_space(user: StorageUser, quota: int = 0):
    name = f"Apollo-{uuid.uuid4().hex[:6]}"
    res = create_space(user, name, quota)
    assert res.status.code == OK, res.status
    return res.storage_space


def grant(member: StorageUser, role: str) -> spr.Grant:
    return spr.Grant(
        grantee=spr.Grantee(type=spr.GRANTEE_TYPE_USER, user_id=member.user.id), permissions=role_permissions(role)
    )


def add_member(by: StorageUser, space, member: StorageUser, role: str):
    return provider_stub(by).AddGrant(
        sp.AddGrantRequest(ref=space_ref(space), grant=grant(member, role)), metadata=by.md
    )


def update_member(by: StorageUser, space, member: StorageUser, role: str):
    return provider_stub(by).UpdateGrant(
        sp.UpdateGrantRequest(ref=space_ref(space), grant=grant(member, role)), metadata=by.md
    )


def quota_of(user: StorageUser, space):
    return user.call("GetQuota", gw.GetQuotaRequest(
        ref=space_ref(space)))


def spaces(user: StorageUser, *filters):
    res = user.call("ListStorageSpaces", spaces_api.ListStorageSpacesRequest(filters=list(filters)))
    assert res.status.code == OK, res.status
    return res.storage_spaces


def test_create_space(mz_einstein, mz_marie):
    space = new_space(mz_einstein, quota=5000)
    assert space.space_type == "project" and space.name.startswith("Apollo-")
    assert space.quota.quota_max_bytes == 5000
    assert space.owner.id.opaque_id == mz_einstein.user.id.opaque_id
    assert space.root.opaque_id and space.root.space_id == space.root.opaque_id
    assert space.id.opaque_id == f"mesh-zenodo${space.root.space_id}"
    assert space.opaque.map["role"].value == b"manager"
    mount = f"/home/Projects/{space.name}"
    assert space.root_info.path == mount and space.root_info.type == spr.RESOURCE_TYPE_CONTAINER

    # it lives outside every home, and its creator reaches it under /home/Projects/<name>
    mz_einstein.put_ok(f"{mount}/plan.txt", b"to the moon")
    info = mz_einstein.stat_ok(f"{mount}/plan.txt")
    assert info.path == f"{mount}/plan.txt" and info.id.space_id == space.root.space_id
    assert mz_einstein.names(mount) == ["plan.txt"]
    assert mz_einstein.read(f"{mount}/plan.txt") == b"to the moon"
    assert mz_einstein.stat_ok(spr.ResourceId(storage_id="mesh-zenodo", space_id=space.root.space_id,
                                              opaque_id=space.root.opaque_id)).path == mount

    assert code(create_space(mz_marie, space.name)) == "CODE_ALREADY_EXISTS"
    assert code(create_space(mz_marie, "")) == "CODE_INVALID_ARGUMENT"
    assert code(create_space(mz_marie, "a/b")) == "CODE_INVALID_ARGUMENT"
    assert code(create_space(mz_marie, "x" * 300)) == "CODE_INVALID_ARGUMENT"
    res = mz_marie.call("CreateStorageSpace", spaces_api.CreateStorageSpaceRequest(type="personal", name="mine"))
    assert code(res) == "CODE_INVALID_ARGUMENT"


def test_members_and_roles(mz_einstein, mz_marie, mz_richard):
    space = new_space(mz_einstein)
    mount = f"/home/Projects/{space.name}"
    mz_einstein.put_ok(f"{mount}/data.csv", b"1,2,3")

    # a stranger sees nothing, by path or by id, and cannot add herself
    assert code(mz_marie.stat(mount)) == "CODE_NOT_FOUND"
    assert code(mz_marie.stat(space.root)) == "CODE_NOT_FOUND"
    assert code(add_member(mz_marie, space, mz_marie, "manager")) == "CODE_NOT_FOUND"

    # viewer: reads, cannot write, cannot add members
    assert add_member(mz_einstein, space, mz_marie, "viewer").status.code == OK
    assert code(add_member(mz_einstein, space, mz_marie, "viewer")) == "CODE_ALREADY_EXISTS"
    assert mz_marie.names(mount) == ["data.csv"]
    assert mz_marie.read(f"{mount}/data.csv") == b"1,2,3"
    info = mz_marie.stat_ok(f"{mount}/data.csv")
    assert info.permission_set.initiate_file_download and not info.permission_set.initiate_file_upload
    assert code(mz_marie.initiate_upload(f"{mount}/new.txt", 3)) == "CODE_PERMISSION_DENIED"
    assert code(mz_marie.mkdir(f"{mount}/dir")) == "CODE_PERMISSION_DENIED"
    assert code(mz_marie.delete(f"{mount}/data.csv")) == "CODE_PERMISSION_DENIED"
    assert code(add_member(mz_marie, space, mz_richard, "viewer")) == "CODE_PERMISSION_DENIED"

    # editor: writes, still cannot add members
    assert update_member(mz_einstein, space, mz_marie, "editor").status.code == OK
    mz_marie.put_ok(f"{mount}/new.txt", b"new")
    assert mz_marie.mkdir(f"{mount}/dir").status.code == OK
    assert mz_marie.move(f"{mount}/new.txt", f"{mount}/dir/new.txt").status.code == OK
    assert mz_einstein.read(f"{mount}/dir/new.txt") == b"new"
    assert code(add_member(mz_marie, space, mz_richard, "viewer")) == "CODE_PERMISSION_DENIED"
    # moving out of the space into a home is refused
    assert code(mz_marie.move(f"{mount}/dir/new.txt", "/home/stolen.txt")) == "CODE_PERMISSION_DENIED"

    # manager: adds members
    assert update_member(mz_einstein, space, mz_marie, "manager").status.code == OK
    assert add_member(mz_marie, space, mz_richard, "viewer").status.code == OK
    listed = provider_stub(mz_marie).ListGrants(sp.ListGrantsRequest(ref=space_ref(space)), metadata=mz_marie.md)
    assert listed.status.code == OK
    roles = {g.grantee.user_id.opaque_id: g.permissions for g in listed.grants}
    assert roles == {
        mz_einstein.user.id.opaque_id: role_permissions("manager"),
        mz_marie.user.id.opaque_id: role_permissions("manager"),
        mz_richard.user.id.opaque_id: role_permissions("viewer"),
    }
    # a viewer does not list the members
    res = provider_stub(mz_richard).ListGrants(sp.ListGrantsRequest(ref=space_ref(space)), metadata=mz_richard.md)
    assert code(res) == "CODE_PERMISSION_DENIED"

    # a permission set that is no role, a grant on a non-space resource, a group grantee
    custom = spr.Grant(grantee=spr.Grantee(type=spr.GRANTEE_TYPE_USER, user_id=mz_richard.user.id),
                       permissions=spr.ResourcePermissions(stat=True, delete=True))
    res = provider_stub(mz_marie).UpdateGrant(
        sp.UpdateGrantRequest(ref=space_ref(space), grant=custom), metadata=mz_marie.md
    )
    assert code(res) == "CODE_INVALID_ARGUMENT"
    res = provider_stub(mz_marie).AddGrant(
        sp.AddGrantRequest(ref=spr.Reference(path=f"{mount}/data.csv"), grant=grant(mz_richard, "editor")),
        metadata=mz_marie.md)
    assert code(res) == "CODE_UNIMPLEMENTED"

    # removing members; the last manager stays
    def remove(member, role):
        request = sp.RemoveGrantRequest(ref=space_ref(space), grant=grant(member, role))
        return provider_stub(mz_einstein).RemoveGrant(request, metadata=mz_einstein.md)

    assert remove(mz_richard, "viewer").status.code == OK
    assert code(mz_richard.stat(mount)) == "CODE_NOT_FOUND"
    assert remove(mz_marie, "manager").status.code == OK
    assert code(remove(mz_marie, "manager")) == "CODE_NOT_FOUND"
    assert code(remove(mz_einstein, "manager")) == "CODE_FAILED_PRECONDITION"
    assert mz_einstein.stat_ok(mount)


def test_list_storage_spaces_filters(mz_einstein, mz_marie, mz_richard):
    first, second = new_space(mz_einstein), new_space(mz_einstein)
    assert add_member(mz_einstein, second, mz_marie, "editor").status.code == OK

    everything = spaces(mz_marie)
    kinds = [(s.space_type, s.name) for s in everything]
    assert ("personal", "Marie Curie") in kinds and ("project", second.name) in kinds
    assert ("project", first.name) not in kinds
    personal = next(s for s in everything if s.space_type == "personal")
    assert personal.root.opaque_id == mz_marie.user.id.opaque_id and personal.root_info.path == "/home"

    projects = spaces(mz_marie, Filter(type=Filter.TYPE_SPACE_TYPE, space_type="project"))
    assert {s.space_type for s in projects} == {"project"} and second.name in [s.name for s in projects]
    mine = spaces(mz_marie, Filter(type=Filter.TYPE_USER, user=mz_marie.user.id))
    assert [s.name for s in mine] == [s.name for s in everything]
    by_id = spaces(mz_marie, Filter(type=Filter.TYPE_ID, id=second.id))
    assert [s.name for s in by_id] == [second.name] and by_id[0].opaque.map["role"].value == b"editor"
    assert spaces(mz_marie, Filter(type=Filter.TYPE_ID, id=first.id)) == []
    owned = spaces(mz_einstein, Filter(type=Filter.TYPE_OWNER, owner=mz_einstein.user.id),
                   Filter(type=Filter.TYPE_SPACE_TYPE, space_type="project"))
    assert {first.name, second.name} <= {s.name for s in owned}
    res = mz_marie.call("ListStorageSpaces", spaces_api.ListStorageSpacesRequest(
        filters=[Filter(type=Filter.TYPE_USER, user=mz_richard.user.id)]))
    assert code(res) == "CODE_PERMISSION_DENIED"
    richards = spaces(mz_richard, Filter(type=Filter.TYPE_SPACE_TYPE, space_type="project"))
    assert second.name not in [s.name for s in richards]


def test_space_quota_is_enforced(mz_server, mz_einstein, mz_marie):
    space = new_space(mz_einstein, quota=1000)
    mount = f"/home/Projects/{space.name}"
    assert add_member(mz_einstein, space, mz_marie, "editor").status.code == OK
    mz_marie.put_ok(f"{mount}/a.bin", b"a" * 600)
    res = quota_of(mz_marie, space)
    assert res.status.code == OK and res.total_bytes == 1000 and res.used_bytes == 600
    assert res.opaque.map["remaining"].value == b"400"

    # announced: refused at InitiateFileUpload; not announced: 507 on the data gateway
    assert code(mz_marie.initiate_upload(f"{mount}/b.bin", 600)) == "CODE_INSUFFICIENT_STORAGE"
    proto = mz_marie.upload_protocol(f"{mount}/b.bin")
    put = requests.put(proto.upload_endpoint, data=b"b" * 600,
                       headers={"X-Reva-Transfer": proto.token, "x-access-token": mz_marie.token}, timeout=30)
    assert put.status_code == 507
    assert mz_marie.info(f"{mount}/b.bin") is None
    mz_marie.put_ok(f"{mount}/c.bin", b"c" * 400)  # exactly full

    # a public link's upload counts against the space too
    info = mz_einstein.stat_ok(mount)
    res = mz_einstein.call("CreatePublicShare", link_api.CreatePublicShareRequest(
        resource_info=spr.ResourceInfo(id=info.id),
        grant=link_res.Grant(permissions=link_res.PublicSharePermissions(permissions=link_permissions("createOnly")))))
    assert res.status.code == OK
    drop = requests.put(f"{mz_server.http_url}/s/{res.share.token}/d.bin", data=b"d" * 10, timeout=30)
    assert drop.status_code == 507

    # the space's quota, not the home's; deleting frees it
    assert mz_einstein.call("GetQuota", gw.GetQuotaRequest(
        ref=spr.Reference(path="/home"))).total_bytes != 1000
    assert mz_marie.delete(f"{mount}/a.bin").status.code == OK
    assert quota_of(mz_marie, space).used_bytes == 400


def test_update_and_delete_space(mz_server, mz_einstein, mz_marie):
    space = new_space(mz_einstein, quota=1000)
    assert add_member(mz_einstein, space, mz_marie, "editor").status.code == OK
    mz_einstein.put_ok(f"/home/Projects/{space.name}/keep.txt", b"keep")
    new_name = space.name.replace("Apollo", "Artemis")

    # an editor cannot rename or resize
    res = mz_marie.call("UpdateStorageSpace", spaces_api.UpdateStorageSpaceRequest(
        storage_space=spr.StorageSpace(id=space.id, name=new_name)))
    assert code(res) == "CODE_PERMISSION_DENIED"
    res = mz_einstein.call("UpdateStorageSpace", spaces_api.UpdateStorageSpaceRequest(
        storage_space=spr.StorageSpace(id=space.id, name=new_name, quota=spr.Quota(quota_max_bytes=5000))))
    assert res.status.code == OK and res.storage_space.name == new_name
    assert res.storage_space.quota.quota_max_bytes == 5000
    assert mz_marie.read(f"/home/Projects/{new_name}/keep.txt") == b"keep"
    assert code(mz_marie.stat(f"/home/Projects/{space.name}")) == "CODE_NOT_FOUND"
    assert quota_of(mz_marie, space).total_bytes == 5000

    # a public link on the space goes with it
    info = mz_einstein.stat_ok(f"/home/Projects/{new_name}")
    link = mz_einstein.call("CreatePublicShare", link_api.CreatePublicShareRequest(
        resource_info=spr.ResourceInfo(id=info.id),
        grant=link_res.Grant(permissions=link_res.PublicSharePermissions(permissions=link_permissions("view")))))
    assert link.status.code == OK
    # marie (editor) may not share the space by link
    res = mz_marie.call("CreatePublicShare", link_api.CreatePublicShareRequest(
        resource_info=spr.ResourceInfo(id=info.id),
        grant=link_res.Grant(permissions=link_res.PublicSharePermissions(permissions=link_permissions("view")))))
    assert code(res) == "CODE_PERMISSION_DENIED"

    # delete: managers only, final
    delete = spaces_api.DeleteStorageSpaceRequest(id=space.id)
    assert code(mz_marie.call("DeleteStorageSpace", delete)) == "CODE_PERMISSION_DENIED"
    assert mz_einstein.call("DeleteStorageSpace", delete).status.code == OK
    assert code(mz_einstein.call("DeleteStorageSpace", delete)) == "CODE_NOT_FOUND"
    assert code(mz_einstein.stat(f"/home/Projects/{new_name}")) == "CODE_NOT_FOUND"
    assert code(mz_marie.stat(space.root)) == "CODE_NOT_FOUND"
    assert code(quota_of(mz_einstein, space)) == "CODE_NOT_FOUND"
    assert new_name not in [s.name for s in spaces(mz_einstein)]
    assert requests.get(f"{mz_server.http_url}/s/{link.share.token}/", timeout=30).status_code == 404
    personal = spaces_api.DeleteStorageSpaceRequest(id=spr.StorageSpaceId(
        opaque_id=f"mesh-zenodo${mz_einstein.user.id.opaque_id}"))
    assert code(mz_einstein.call("DeleteStorageSpace", personal)) == "CODE_PERMISSION_DENIED"
    # the name is free again
    assert create_space(mz_einstein, new_name).status.code == OK


def test_spaces_and_links_survive_a_restart(tmp_path):
    root = tmp_path / "root"
    process = start_storage(root)
    try:
        einstein = StorageUser(process.grpc_addr, "einstein")
        space = new_space(einstein, quota=100)
        mount = f"/home/Projects/{space.name}"
        einstein.put_ok(f"{mount}/x.txt", b"x" * 40)
        info = einstein.stat_ok(mount)
        link = einstein.call("CreatePublicShare", link_api.CreatePublicShareRequest(
            resource_info=spr.ResourceInfo(id=info.id),
            grant=link_res.Grant(permissions=link_res.PublicSharePermissions(permissions=link_permissions("view")),
                                 password="pw-restart")))
        assert link.status.code == OK
        einstein.close()
    finally:
        process.stop()
    # files put into the space while the storage was stopped are counted too
    (root / "spaces" / space.root.space_id / "offline.bin").write_bytes(b"o" * 30)
    process = start_storage(root)
    try:
        einstein = StorageUser(process.grpc_addr, "einstein")
        assert einstein.read(f"{mount}/x.txt") == b"x" * 40
        assert einstein.stat_ok(mount).path == mount
        quota = quota_of(einstein, space)
        assert quota.status.code == OK and quota.total_bytes == 100 and quota.used_bytes == 70
        assert code(einstein.initiate_upload(f"{mount}/big.bin", 31)) == "CODE_INSUFFICIENT_STORAGE"
        session = requests.Session()
        assert session.get(f"{process.http_url}/s/{link.share.token}/", timeout=30).status_code == 401
        opened = session.post(f"{process.http_url}/s/{link.share.token}", data={"password": "pw-restart"}, timeout=30)
        assert opened.status_code == 200 and "x.txt" in opened.text and "offline.bin" in opened.text
        einstein.close()
    finally:
        process.stop()


# --------------------------------------------------------------------------------------
# /home/Projects: the virtual folder of the caller's spaces (as /home/Shares of shares)
# --------------------------------------------------------------------------------------
def test_the_projects_folder_lists_the_callers_spaces(mz_einstein, mz_marie, mz_richard):
    space = new_space(mz_einstein)
    mount = f"/home/Projects/{space.name}"
    mz_einstein.put_ok(f"{mount}/a.txt", b"a")

    # a member: stat'able, listable, one folder per space, each its space root seen there
    folder = mz_einstein.stat_ok("/home/Projects")
    assert folder.type == spr.RESOURCE_TYPE_CONTAINER and folder.path == "/home/Projects"
    assert folder.name == "Projects" and folder.permission_set.list_container
    assert not folder.permission_set.create_container and not folder.permission_set.delete
    assert space.name in mz_einstein.names("/home/Projects")
    listed = mz_einstein.ls("/home/Projects")
    assert listed.status.code == OK
    entry = next(i for i in listed.infos if i.name == space.name)
    root = mz_einstein.stat_ok(mount)
    assert entry.path == mount and entry.type == spr.RESOURCE_TYPE_CONTAINER
    assert entry.id == root.id and entry.id.opaque_id == space.root.opaque_id and entry.etag == root.etag
    assert mz_einstein.names(f"/home/Projects/{space.name}") == ["a.txt"]
    # not shown in /home (a view of other storages, as /home/Shares)
    assert "Projects" not in mz_einstein.names("/home")

    # a non-member: her own (empty of this space) folder; the space is not found below it
    assert mz_richard.stat_ok("/home/Projects").permission_set.list_container
    assert space.name not in mz_richard.names("/home/Projects")
    assert code(mz_richard.stat(mount)) == "CODE_NOT_FOUND"
    # once a member, it is listed, and its etag changed
    before = mz_marie.stat_ok("/home/Projects").etag
    assert space.name not in mz_marie.names("/home/Projects")
    assert add_member(mz_einstein, space, mz_marie, "viewer").status.code == OK
    assert space.name in mz_marie.names("/home/Projects")
    assert mz_marie.stat_ok("/home/Projects").etag != before

    # nothing can be written in it
    assert code(mz_einstein.mkdir("/home/Projects/new")) == "CODE_PERMISSION_DENIED"
    assert code(mz_einstein.initiate_upload("/home/Projects/new.txt", 3)) == "CODE_PERMISSION_DENIED"
    assert code(mz_einstein.delete("/home/Projects")) == "CODE_PERMISSION_DENIED"
    assert code(mz_einstein.delete(mount)) == "CODE_PERMISSION_DENIED"
    assert code(mz_einstein.move(mount, "/home/elsewhere")) == "CODE_PERMISSION_DENIED"
    assert code(mz_einstein.stat("/home/Projects/no-such-space")) == "CODE_NOT_FOUND"
