"""Public links of the embedded storage: the link RPCs over real gRPC, and anonymous
access at ``/s/<token>`` on the data gateway over real HTTP (requests), each answer's
exact status asserted."""

from __future__ import annotations

import http.client
import re
import time
import uuid

import pytest
import requests
from cs3.rpc.v1beta1 import code_pb2
from cs3.sharing.link.v1beta1 import link_api_pb2 as link_api
from cs3.sharing.link.v1beta1 import resources_pb2 as link_res
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.types.v1beta1 import types_pb2
from mesh_zenodo.pytest_plugin import StorageUser, link_permissions

OK = code_pb2.CODE_OK
PASSWORD = "Corr3ct-h0rse-battery"


def code(res) -> str:
    return code_pb2.Code.Name(res.status.code)


@pytest.fixture
def folder(mz_einstein):
    """einstein's fresh folder with a.txt (b'hello world') and sub/b.txt."""
    path = f"/home/links-{uuid.uuid4().hex[:8]}"
    assert mz_einstein.mkdir(path).status.code == OK
    mz_einstein.put_ok(f"{path}/a.txt", b"hello world")
    assert mz_einstein.mkdir(f"{path}/sub").status.code == OK
    mz_einstein.put_ok(f"{path}/sub/b.txt", b"bee")
    return path


def create_link(user: StorageUser, path: str, kind: str = "view", *, password: str = "", expires: float | None = None,
                name: str = ""):
    info = user.stat_ok(path)
    ri = spr.ResourceInfo(id=info.id, path=info.path)
    if name:
        ri.arbitrary_metadata.metadata["name"] = name
    grant = link_res.Grant(
        permissions=link_res.PublicSharePermissions(
            permissions=link_permissions(kind, info.type == spr.RESOURCE_TYPE_CONTAINER)
        ),
        password=password,
    )
    if expires is not None:
        grant.expiration.CopyFrom(types_pb2.Timestamp(seconds=int(expires), nanos=int((expires % 1) * 1e9)))
    return user.call("CreatePublicShare", link_api.CreatePublicShareRequest(resource_info=ri, grant=grant))


def create_link_ok(user, path, kind="view", **kw) -> link_res.PublicShare:
    res = create_link(user, path, kind, **kw)
    assert res.status.code == OK, res.status
    return res.share


def url(server, token: str, sub: str = "") -> str:
    return f"{server.http_url}/s/{token}{sub}"


def by_token(user: StorageUser, token: str, password: str | None = None):
    request = link_api.GetPublicShareByTokenRequest(token=token)
    if password is not None:
        request.authentication.password = password
    return user.stub.GetPublicShareByToken(request)  # unprotected: no access token sent


# ----------------------------------------------------------------------------------------
# view links: listing, download, Range, confinement
# ----------------------------------------------------------------------------------------
def test_view_link_lists_and_downloads_anonymously(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "view", name="Results")
    assert share.token and share.display_name == "Results" and not share.password_protected
    assert share.permissions.permissions.list_container and not share.permissions.permissions.initiate_file_upload
    assert share.creator.opaque_id == mz_einstein.user.id.opaque_id

    page = requests.get(url(mz_server, share.token, "/"), timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "a.txt" in page.text and "sub/" in page.text and "Results" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(url(mz_server, share.token), timeout=30).status_code == 200

    got = requests.get(url(mz_server, share.token, "/a.txt"), timeout=30)
    assert got.status_code == 200 and got.content == b"hello world"
    assert got.headers["Content-Disposition"] == "attachment; filename*=UTF-8''a.txt"
    assert "OC-FileId" not in got.headers

    part = requests.get(url(mz_server, share.token, "/a.txt"), headers={"Range": "bytes=6-10"}, timeout=30)
    assert part.status_code == 206 and part.content == b"world"
    assert part.headers["Content-Range"] == "bytes 6-10/11"
    beyond = requests.get(url(mz_server, share.token, "/a.txt"), headers={"Range": "bytes=50-"}, timeout=30)
    assert beyond.status_code == 416
    head = requests.head(url(mz_server, share.token, "/a.txt"), timeout=30)
    assert head.status_code == 200 and head.headers["Content-Length"] == "11"

    sub = requests.get(url(mz_server, share.token, "/sub/"), timeout=30)
    assert sub.status_code == 200 and "b.txt" in sub.text
    assert requests.get(url(mz_server, share.token, "/sub/b.txt"), timeout=30).content == b"bee"
    assert requests.get(url(mz_server, share.token, "/missing.txt"), timeout=30).status_code == 404

    # a view link takes no upload
    put = requests.put(url(mz_server, share.token, "/new.txt"), data=b"x", timeout=30)
    assert put.status_code == 403
    assert mz_einstein.info(f"{folder}/new.txt") is None

    # the link RPCs
    res = by_token(mz_einstein, share.token)
    assert res.status.code == OK and res.share.id.opaque_id == share.id.opaque_id
    res = mz_einstein.call("GetPublicShare", link_api.GetPublicShareRequest(
        ref=link_res.PublicShareReference(id=share.id)))
    assert res.status.code == OK and res.share.token == share.token
    listed = mz_einstein.call("ListPublicShares", link_api.ListPublicSharesRequest())
    assert listed.status.code == OK and share.id.opaque_id in [s.id.opaque_id for s in listed.share]
    existing = mz_einstein.call("ListExistingPublicShares", link_api.ListPublicSharesRequest(filters=[
        link_api.ListPublicSharesRequest.Filter(
            type=link_api.ListPublicSharesRequest.Filter.TYPE_RESOURCE_ID, resource_id=share.resource_id)
    ]))
    assert existing.status.code == OK and len(existing.share_infos) == 1
    info = existing.share_infos[0]
    assert info.public_share.token == share.token
    assert info.resource_info.path == folder and info.resource_info.type == spr.RESOURCE_TYPE_CONTAINER


def test_paths_stay_below_the_linked_folder(mz_server, mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}-secret.txt", b"secret")
    share = create_link_ok(mz_einstein, f"{folder}/sub", "view")
    outside = "/%2E%2E/%2e%2e" + folder.removeprefix("/home") + "-secret.txt"
    for sub in ("/%2e%2e/a.txt", outside, "/x/%2e%2e/%2e%2e/a.txt"):
        res = requests.get(url(mz_server, share.token, sub), timeout=30)
        assert res.status_code == 400, sub
        assert b"hello world" not in res.content and b"secret" not in res.content
    # and raw, unnormalised dot segments
    host, port = mz_server.http_addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", f"/s/{share.token}/../a.txt")
        res = conn.getresponse()
        assert res.status == 400 and b"hello world" not in res.read()
    finally:
        conn.close()
    assert requests.get(url(mz_server, share.token, "/b.txt"), timeout=30).content == b"bee"


def test_file_link_shows_only_its_file(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, f"{folder}/a.txt", "view")
    page = requests.get(url(mz_server, share.token), timeout=30)
    assert page.status_code == 200 and "a.txt" in page.text
    assert requests.get(url(mz_server, share.token, "/a.txt"), timeout=30).content == b"hello world"
    assert requests.get(url(mz_server, share.token, "/sub/b.txt"), timeout=30).status_code == 404
    assert requests.get(url(mz_server, share.token, "/other.txt"), timeout=30).status_code == 404
    # upload and file drop are for folders
    assert code(create_link(mz_einstein, f"{folder}/a.txt", "upload")) == "CODE_INVALID_ARGUMENT"
    assert code(create_link(mz_einstein, f"{folder}/a.txt", "createOnly")) == "CODE_INVALID_ARGUMENT"


def test_only_the_owner_creates_links(mz_einstein, mz_marie, folder):
    # marie cannot even stat einstein's folder: she asks by its id
    info = mz_einstein.stat_ok(folder)
    grant = link_res.Grant(permissions=link_res.PublicSharePermissions(permissions=link_permissions("view", True)))
    res = mz_marie.call("CreatePublicShare", link_api.CreatePublicShareRequest(
        resource_info=spr.ResourceInfo(id=info.id), grant=grant))
    assert code(res) == "CODE_NOT_FOUND"
    # a permission set that is no link type
    custom = link_res.Grant(permissions=link_res.PublicSharePermissions(
        permissions=spr.ResourcePermissions(stat=True, add_grant=True)))
    res = mz_einstein.call("CreatePublicShare", link_api.CreatePublicShareRequest(
        resource_info=spr.ResourceInfo(id=info.id), grant=custom))
    assert code(res) == "CODE_INVALID_ARGUMENT"
    # an expiry in the past
    assert code(create_link(mz_einstein, folder, expires=time.time() - 10)) == "CODE_INVALID_ARGUMENT"
    # marie sees none of einstein's links, and cannot fetch or remove one by id
    share = create_link_ok(mz_einstein, folder)
    assert share.id.opaque_id not in [s.id.opaque_id for s in mz_marie.call(
        "ListPublicShares", link_api.ListPublicSharesRequest()).share]
    ref = link_res.PublicShareReference(id=share.id)
    assert code(mz_marie.call("GetPublicShare", link_api.GetPublicShareRequest(ref=ref))) == "CODE_NOT_FOUND"
    assert code(mz_marie.call("RemovePublicShare", link_api.RemovePublicShareRequest(ref=ref))) == "CODE_NOT_FOUND"
    assert by_token(mz_einstein, share.token).status.code == OK


# ----------------------------------------------------------------------------------------
# passwords
# ----------------------------------------------------------------------------------------
def test_password_protected_link(mz_server, mz_einstein, folder):
    res = create_link(mz_einstein, folder, "view", password=PASSWORD)
    assert res.status.code == OK and res.share.password_protected
    share = res.share
    answers = [res.SerializeToString()]

    # gRPC: GetPublicShareByToken checks the password
    assert code(by_token(mz_einstein, share.token)) == "CODE_PERMISSION_DENIED"
    wrong = by_token(mz_einstein, share.token, "wrong")
    assert code(wrong) == "CODE_PERMISSION_DENIED" and not wrong.HasField("share")
    right = by_token(mz_einstein, share.token, PASSWORD)
    assert right.status.code == OK and right.share.token == share.token and not right.password_hash
    answers += [wrong.SerializeToString(), right.SerializeToString()]

    # HTTP: the form, a wrong password, then a session cookie scoped to the link
    anonymous = requests.Session()
    page = anonymous.get(url(mz_server, share.token, "/"), timeout=30)
    assert page.status_code == 401 and 'type="password"' in page.text and "a.txt" not in page.text
    assert anonymous.get(url(mz_server, share.token, "/a.txt"), timeout=30).status_code == 401
    bad = anonymous.post(url(mz_server, share.token), data={"password": "wrong"}, allow_redirects=False, timeout=30)
    assert bad.status_code == 403 and "Wrong password" in bad.text and not anonymous.cookies
    good = anonymous.post(url(mz_server, share.token), data={"password": PASSWORD}, allow_redirects=False, timeout=30)
    assert good.status_code == 303 and good.headers["Location"] == f"/s/{share.token}/"
    cookie = good.headers["Set-Cookie"]
    assert f"Path=/s/{share.token}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert PASSWORD not in cookie
    listing = anonymous.get(url(mz_server, share.token, "/"), timeout=30)
    assert listing.status_code == 200 and "a.txt" in listing.text
    assert anonymous.get(url(mz_server, share.token, "/a.txt"), timeout=30).content == b"hello world"

    # the cookie opens this link only
    other = create_link_ok(mz_einstein, folder, "view", password=PASSWORD)
    jar = {"mz_link": anonymous.cookies.get("mz_link")}
    assert requests.get(url(mz_server, other.token, "/"), cookies=jar, timeout=30).status_code == 401

    # a new password ends the sessions of the old one
    update = mz_einstein.call("UpdatePublicShare", link_api.UpdatePublicShareRequest(
        ref=link_res.PublicShareReference(token=share.token),
        update=link_api.UpdatePublicShareRequest.Update(
            type=link_api.UpdatePublicShareRequest.Update.TYPE_PASSWORD, grant=link_res.Grant(password="n3w-one")),
    ))
    assert update.status.code == OK and update.share.password_protected
    answers.append(update.SerializeToString())
    assert anonymous.get(url(mz_server, share.token, "/"), timeout=30).status_code == 401
    assert code(by_token(mz_einstein, share.token, PASSWORD)) == "CODE_PERMISSION_DENIED"
    assert by_token(mz_einstein, share.token, "n3w-one").status.code == OK

    # removing the password opens the link
    update = mz_einstein.call("UpdatePublicShare", link_api.UpdatePublicShareRequest(
        ref=link_res.PublicShareReference(id=share.id),
        update=link_api.UpdatePublicShareRequest.Update(
            type=link_api.UpdatePublicShareRequest.Update.TYPE_PASSWORD, grant=link_res.Grant(password="")),
    ))
    assert update.status.code == OK and not update.share.password_protected
    assert requests.get(url(mz_server, share.token, "/"), timeout=30).status_code == 200

    # passwords are in no answer, nor in the storage's output
    answers.append(mz_einstein.call("ListPublicShares", link_api.ListPublicSharesRequest()).SerializeToString())
    answers.append(mz_einstein.call("ListExistingPublicShares", link_api.ListPublicSharesRequest()).SerializeToString())
    answers.append(mz_einstein.call("GetPublicShare", link_api.GetPublicShareRequest(
        ref=link_res.PublicShareReference(id=other.id))).SerializeToString())
    for answer in answers:
        assert PASSWORD.encode() not in answer and b"n3w-one" not in answer and b"scrypt" not in answer
    output = mz_server.output
    assert PASSWORD not in output and "n3w-one" not in output and share.token not in output


# ----------------------------------------------------------------------------------------
# expiry and removal
# ----------------------------------------------------------------------------------------
def test_expired_link_is_gone(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "view", expires=time.time() + 1.5)
    assert share.expiration.seconds > 0
    assert requests.get(url(mz_server, share.token, "/a.txt"), timeout=30).status_code == 200
    time.sleep(2)
    assert requests.get(url(mz_server, share.token, "/"), timeout=30).status_code == 404
    assert requests.get(url(mz_server, share.token, "/a.txt"), timeout=30).status_code == 404
    assert code(by_token(mz_einstein, share.token)) == "CODE_NOT_FOUND"
    listed = mz_einstein.call("ListPublicShares", link_api.ListPublicSharesRequest())
    assert share.id.opaque_id not in [s.id.opaque_id for s in listed.share]


def test_expiry_can_be_set_and_removed(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "view")
    kind = link_api.UpdatePublicShareRequest.Update
    ref = link_res.PublicShareReference(id=share.id)
    later = types_pb2.Timestamp(seconds=int(time.time()) + 3600)
    res = mz_einstein.call("UpdatePublicShare", link_api.UpdatePublicShareRequest(
        ref=ref, update=kind(type=kind.TYPE_EXPIRATION, grant=link_res.Grant(expiration=later))))
    assert res.status.code == OK and res.share.expiration.seconds == later.seconds
    res = mz_einstein.call("UpdatePublicShare", link_api.UpdatePublicShareRequest(
        ref=ref, update=kind(type=kind.TYPE_EXPIRATION, grant=link_res.Grant())))
    assert res.status.code == OK and not res.share.HasField("expiration")
    res = mz_einstein.call("UpdatePublicShare", link_api.UpdatePublicShareRequest(
        ref=ref, update=kind(type=kind.TYPE_DISPLAYNAME, display_name="Renamed")))
    assert res.status.code == OK and res.share.display_name == "Renamed"
    # permissions: view -> edit, and a set that is no link type
    res = mz_einstein.call("UpdatePublicShare", link_api.UpdatePublicShareRequest(
        ref=ref, update=kind(type=kind.TYPE_PERMISSIONS, grant=link_res.Grant(
            permissions=link_res.PublicSharePermissions(permissions=link_permissions("edit", True))))))
    assert res.status.code == OK and res.share.permissions.permissions.delete
    res = mz_einstein.call("UpdatePublicShare", link_api.UpdatePublicShareRequest(
        ref=ref, update=kind(type=kind.TYPE_PERMISSIONS, grant=link_res.Grant(
            permissions=link_res.PublicSharePermissions(permissions=spr.ResourcePermissions(add_grant=True))))))
    assert code(res) == "CODE_INVALID_ARGUMENT"
    assert requests.put(url(mz_server, share.token, "/e.txt"), data=b"edit", timeout=30).status_code == 201


def test_removed_link_answers_404(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "view")
    assert requests.get(url(mz_server, share.token, "/"), timeout=30).status_code == 200
    ref = link_res.PublicShareReference(id=share.id)
    assert mz_einstein.call("RemovePublicShare", link_api.RemovePublicShareRequest(ref=ref)).status.code == OK
    assert requests.get(url(mz_server, share.token, "/"), timeout=30).status_code == 404
    assert requests.get(url(mz_server, share.token, "/a.txt"), timeout=30).status_code == 404
    assert requests.put(url(mz_server, share.token, "/x.txt"), data=b"x", timeout=30).status_code == 404
    assert code(mz_einstein.call("RemovePublicShare", link_api.RemovePublicShareRequest(ref=ref))) == "CODE_NOT_FOUND"
    assert code(mz_einstein.call("GetPublicShare", link_api.GetPublicShareRequest(ref=ref))) == "CODE_NOT_FOUND"
    assert code(by_token(mz_einstein, share.token)) == "CODE_NOT_FOUND"
    assert requests.get(url(mz_server, "no-such-token", "/"), timeout=30).status_code == 404


def test_deleted_resource_answers_404(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "view")
    assert mz_einstein.delete(folder).status.code == OK
    assert requests.get(url(mz_server, share.token, "/"), timeout=30).status_code == 404


# ----------------------------------------------------------------------------------------
# uploads: file drop and upload links
# ----------------------------------------------------------------------------------------
def test_file_drop_uploads_without_listing(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "createOnly")
    perms = share.permissions.permissions
    assert perms.initiate_file_upload and perms.create_container
    assert not perms.list_container and not perms.initiate_file_download

    page = requests.get(url(mz_server, share.token, "/"), timeout=30)
    assert page.status_code == 200 and 'type="file"' in page.text
    assert "a.txt" not in page.text and "sub/" not in page.text and "<table" not in page.text
    assert requests.get(url(mz_server, share.token, "/a.txt"), timeout=30).status_code == 404
    assert requests.get(url(mz_server, share.token, "/sub/"), timeout=30).status_code == 404

    first = requests.put(url(mz_server, share.token, "/report.txt"), data=b"first", timeout=30)
    assert first.status_code == 201 and first.text.strip() == "report.txt"
    second = requests.put(url(mz_server, share.token, "/report.txt"), data=b"second", timeout=30)
    assert second.status_code == 201 and second.text.strip() == "report (1).txt"
    third = requests.put(url(mz_server, share.token, "/a.txt"), data=b"not over a.txt", timeout=30)
    assert third.status_code == 201 and third.text.strip() == "a (1).txt"
    assert requests.put(url(mz_server, share.token, "/sub/x.txt"), data=b"x", timeout=30).status_code == 404
    # the visitor cannot read back what was dropped
    assert requests.get(url(mz_server, share.token, "/report.txt"), timeout=30).status_code == 404

    assert mz_einstein.read(f"{folder}/report.txt") == b"first"
    assert mz_einstein.read(f"{folder}/report (1).txt") == b"second"
    assert mz_einstein.read(f"{folder}/a.txt") == b"hello world"
    assert mz_einstein.read(f"{folder}/a (1).txt") == b"not over a.txt"


def test_upload_link_adds_and_never_overwrites(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "upload")
    page = requests.get(url(mz_server, share.token, "/"), timeout=30)
    assert page.status_code == 200 and "a.txt" in page.text and 'type="file"' in page.text
    res = requests.put(url(mz_server, share.token, "/sub/up.txt"), data=b"uploaded", timeout=30)
    assert res.status_code == 201 and res.text.strip() == "up.txt"
    assert mz_einstein.read(f"{folder}/sub/up.txt") == b"uploaded"
    res = requests.put(url(mz_server, share.token, "/a.txt"), data=b"again", timeout=30)
    assert res.status_code == 201 and res.text.strip() == "a (1).txt"
    assert mz_einstein.read(f"{folder}/a.txt") == b"hello world"
    assert requests.put(url(mz_server, share.token, "/missing/x.txt"), data=b"x", timeout=30).status_code == 404
    assert requests.put(url(mz_server, share.token, "/%2e%2e/x.txt"), data=b"x", timeout=30).status_code == 400
    assert requests.put(url(mz_server, share.token, "/"), data=b"x", timeout=30).status_code == 405


def test_edit_link_overwrites_with_a_version(mz_server, mz_einstein, folder):
    share = create_link_ok(mz_einstein, folder, "edit")
    res = requests.put(url(mz_server, share.token, "/a.txt"), data=b"edited", timeout=30)
    assert res.status_code == 200 and res.headers["ETag"]
    assert mz_einstein.read(f"{folder}/a.txt") == b"edited"
    assert len(mz_einstein.versions(f"{folder}/a.txt")) == 1


def test_link_page_escapes_names(mz_server, mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}/<script>alert(1)<", b"x")
    share = create_link_ok(mz_einstein, folder, "view", name="<b>bold</b>")
    page = requests.get(url(mz_server, share.token, "/"), timeout=30)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;" in page.text
    assert "<b>bold" not in page.text
    assert re.search(r"script-src 'nonce-[^']+'", page.headers["Content-Security-Policy"])


def test_a_home_cannot_be_linked_as_a_whole(mz_einstein):
    assert code(create_link(mz_einstein, "/home", "view")) == "CODE_INVALID_ARGUMENT"


def test_a_link_grants_nothing_once_its_creator_lost_access(mz_server, mz_einstein, mz_marie, folder):
    # marie manages einstein's folder and makes a link; einstein then removes her share
    share = mz_einstein.share_ok(mz_einstein.stat_ok(folder).id, mz_einstein.grantee(mz_marie.user.id), "manager")
    mz_marie.accept(share.id.opaque_id)
    name = folder.rsplit("/", 1)[1]
    link = create_link_ok(mz_marie, f"/home/Shares/{name}", "view")
    assert requests.get(url(mz_server, link.token, "/a.txt"), timeout=30).content == b"hello world"
    assert mz_einstein.remove_share(share.id.opaque_id).status.code == OK
    refused = requests.get(url(mz_server, link.token, "/a.txt"), timeout=30)
    assert refused.status_code in (403, 404) and b"hello world" not in refused.content
