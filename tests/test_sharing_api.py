"""Sharing through the REST API, with two Jupyter servers on one embedded storage:
einstein's (pytest-jupyter's server, ``jp_fetch``) and marie's (``mesh-zenodo lab --user
marie`` as she would start it). einstein shares a folder with marie as viewer; marie
accepts, reads, and her save is refused; einstein makes her editor and her save lands;
einstein removes the share and marie's next request is refused.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from tornado.httpclient import HTTPClientError

from mesh_zenodo.pytest_plugin import start_lab


@pytest.fixture(scope="module")
def marie_lab(mz_storage, tmp_path_factory):
    token = uuid.uuid4().hex
    lab = start_lab(mz_storage.grpc_addr, "", tmp_path_factory.mktemp("marie"), user="marie", token=token)
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    lab.http = session
    yield lab
    session.close()
    lab.stop()


def marie(lab, method: str, path: str, body: dict | None = None) -> requests.Response:
    return lab.http.request(method, f"{lab.url}/{path}", data=json.dumps(body) if body is not None else None, timeout=60)


async def call(jp_fetch, *path, method="GET", body=None, **kw):
    if body is not None:
        kw["body"] = json.dumps(body)
    response = await jp_fetch(*path, method=method, **kw)
    return json.loads(response.body) if response.body else None


async def refused(jp_fetch, *path, status: int, method="GET", body=None, **kw) -> dict:
    with pytest.raises(HTTPClientError) as e:
        await call(jp_fetch, *path, method=method, body=body, **kw)
    assert e.value.code == status, (e.value.code, e.value.response.body)
    payload = json.loads(e.value.response.body)
    assert payload["message"]
    return payload


async def make_folder(jp_fetch, name: str) -> None:
    await call(jp_fetch, "api", "contents", name, method="PUT", body={"type": "directory"})
    await call(jp_fetch, "api", "contents", name, "data.txt", method="PUT",
               body={"type": "file", "format": "text", "content": "einstein's data\n"})


async def test_share_accept_read_refuse_promote_edit_remove(jp_fetch, mz_cs3_root, marie_lab):
    name = f"analysis-{uuid.uuid4().hex[:6]}"
    await make_folder(jp_fetch, name)

    found = await call(jp_fetch, "mesh-zenodo", "grantees", params={"q": "mar"})
    assert [u["name"] for u in found["users"]] == ["marie"]

    created = (await call(jp_fetch, "mesh-zenodo", "shares", method="POST",
                          body={"path": name, "grantee": {"type": "user", "name": "marie"}, "role": "viewer"}))["share"]
    assert created["role"] == "viewer" and created["grantee"]["name"] == "marie"
    assert created["resource"]["api_path"] == name and created["resource"]["type"] == "directory"
    mine = (await call(jp_fetch, "mesh-zenodo", "shares", params={"path": name}))["shares"]
    assert [s["id"] for s in mine] == [created["id"]]

    # marie: pending, then accepted; it appears under Shares/
    received = marie(marie_lab, "GET", "mesh-zenodo/received-shares").json()["shares"]
    entry = next(s for s in received if s["id"] == created["id"])
    assert entry["state"] == "pending" and entry["owner"]["name"] == "einstein"
    assert entry["resource"]["name"] == name and entry["role"] == "viewer"
    accepted = marie(marie_lab, "PATCH", f"mesh-zenodo/received-shares/{created['id']}", {"state": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["share"]["state"] == "accepted"
    shared_file = f"api/contents/Shares/{name}/data.txt"
    read = marie(marie_lab, "GET", shared_file)
    assert read.status_code == 200 and read.json()["content"] == "einstein's data\n"
    assert read.json()["writable"] is False

    # a viewer may not share further
    reshare = marie(marie_lab, "POST", "mesh-zenodo/shares",
                    {"path": f"Shares/{name}", "grantee": {"type": "user", "name": "richard"}, "role": "viewer"})
    assert reshare.status_code == 403 and reshare.json()["message"]

    # a viewer's save is refused with a clear 403, and nothing changed
    save = {"type": "file", "format": "text", "content": "marie was here\n"}
    refused_save = marie(marie_lab, "PUT", shared_file, save)
    assert refused_save.status_code == 403
    assert "you have view access to this share" in refused_save.json()["message"]
    assert (await call(jp_fetch, "api", "contents", name, "data.txt"))["content"] == "einstein's data\n"

    # einstein makes her editor: her save lands and he sees it
    promoted = (await call(jp_fetch, "mesh-zenodo", "shares", created["id"], method="PATCH", body={"role": "editor"}))
    assert promoted["share"]["role"] == "editor"
    assert marie(marie_lab, "PUT", shared_file, save).status_code == 200
    assert (await call(jp_fetch, "api", "contents", name, "data.txt"))["content"] == "marie was here\n"

    # removed: marie's next request is refused and the share is gone from her list
    await jp_fetch("mesh-zenodo", "shares", created["id"], method="DELETE")
    assert marie(marie_lab, "GET", shared_file).status_code in (403, 404)
    left = marie(marie_lab, "GET", "mesh-zenodo/received-shares").json()["shares"]
    assert created["id"] not in [s["id"] for s in left]


@pytest.mark.parametrize("body,status", [
    ({"grantee": {"type": "user", "name": "nobody-here"}, "role": "viewer"}, 404),  # unknown grantee
    ({"grantee": {"type": "user", "name": "marie"}, "role": "owner"}, 400),  # invalid role
    ({"grantee": {"type": "user", "name": "einstein"}, "role": "viewer"}, 400),  # yourself
    ({"grantee": {"type": "robot", "name": "marie"}, "role": "viewer"}, 400),  # grantee type
    ({"grantee": {"type": "user", "name": "marie"}, "role": "viewer", "expiration": "2001-01-01"}, 400),  # past
    ({"grantee": "marie", "role": "viewer"}, 400),
    ({"grantee": {"type": "user", "name": "marie"}, "role": "viewer", "expiration": "9999-12-31"}, 400),  # too far
])
async def test_bad_share_requests_are_clear_4xx_and_change_nothing(jp_fetch, mz_cs3_root, body, status):
    name = f"bad-{uuid.uuid4().hex[:6]}"
    await make_folder(jp_fetch, name)
    await refused(jp_fetch, "mesh-zenodo", "shares", method="POST", body={"path": name, **body}, status=status)
    assert (await call(jp_fetch, "mesh-zenodo", "shares", params={"path": name}))["shares"] == []


async def test_a_duplicate_share_is_409(jp_fetch, mz_cs3_root):
    name = f"dup-{uuid.uuid4().hex[:6]}"
    await make_folder(jp_fetch, name)
    body = {"path": name, "grantee": {"type": "user", "name": "richard"}, "role": "viewer"}
    await call(jp_fetch, "mesh-zenodo", "shares", method="POST", body=body)
    await refused(jp_fetch, "mesh-zenodo", "shares", method="POST", body=body, status=409)
    assert len((await call(jp_fetch, "mesh-zenodo", "shares", params={"path": name}))["shares"]) == 1


async def test_grantee_search_needs_three_characters(jp_fetch, mz_cs3_root):
    await refused(jp_fetch, "mesh-zenodo", "grantees", params={"q": "ma"}, status=400)


async def test_public_link_through_the_api_then_anonymous_download(jp_fetch, mz_cs3_root):
    name = f"pub-{uuid.uuid4().hex[:6]}"
    await make_folder(jp_fetch, name)
    link = (await call(jp_fetch, "mesh-zenodo", "links", method="POST",
                       body={"path": name, "type": "view", "password": "open sesame", "display_name": "for the paper"}))["link"]
    assert link["type"] == "view" and link["password_protected"] is True and link["display_name"] == "for the paper"
    assert link["resource"]["api_path"] == name and link["url"].endswith("/s/" + link["token"])
    assert "open sesame" not in json.dumps(link)
    listed = (await call(jp_fetch, "mesh-zenodo", "links", params={"path": name}))["links"]
    assert [entry["id"] for entry in listed] == [link["id"]]
    # anonymous: the password page, then the listing and the file
    assert requests.get(link["url"], timeout=30, allow_redirects=False).status_code == 401
    visitor = requests.Session()
    unlocked = visitor.post(link["url"], data={"password": "open sesame"}, timeout=30)
    assert unlocked.status_code == 200 and "data.txt" in unlocked.text
    assert visitor.get(f"{link['url']}/data.txt", timeout=30).content == b"einstein's data\n"
    # no password any more, a file drop is for folders only, then removed: 404
    changed = (await call(jp_fetch, "mesh-zenodo", "links", link["id"], method="PATCH", body={"password": ""}))["link"]
    assert changed["password_protected"] is False
    assert requests.get(f"{link['url']}/data.txt", timeout=30).content == b"einstein's data\n"
    await refused(jp_fetch, "mesh-zenodo", "links", method="POST", status=400,
                  body={"path": f"{name}/data.txt", "type": "filedrop"})
    await jp_fetch("mesh-zenodo", "links", link["id"], method="DELETE")
    assert requests.get(link["url"], timeout=30).status_code == 404


async def test_a_project_with_members_and_its_quota(jp_fetch, mz_cs3_root, marie_lab):
    name = f"Apollo-{uuid.uuid4().hex[:6]}"
    space = (await call(jp_fetch, "mesh-zenodo", "spaces", method="POST", body={"name": name, "quota": 1000}))["space"]
    assert space["name"] == name and space["role"] == "manager" and space["quota"]["total"] == 1000
    listed = (await call(jp_fetch, "mesh-zenodo", "spaces"))["spaces"]
    assert name in [s["name"] for s in listed]
    members = (await call(jp_fetch, "mesh-zenodo", "spaces", space["id"], "members", method="POST",
                          body={"name": "marie", "role": "viewer"}))["members"]
    assert {"name": "marie", "display_name": "Marie Curie", "role": "viewer"} in members
    # marie sees the project with her role; she may read but not write there
    hers = marie(marie_lab, "GET", "mesh-zenodo/spaces").json()["spaces"]
    mine = next(s for s in hers if s["id"] == space["id"])
    assert mine["role"] == "viewer" and mine["api_path"] == f"Projects/{name}"
    refused_write = marie(marie_lab, "PUT", f"api/contents/Projects/{name}/notes.txt",
                          {"type": "file", "format": "text", "content": "x"})
    assert refused_write.status_code == 403
    # the quota is enforced: a file larger than the project's quota is refused
    big = marie(marie_lab, "GET", f"mesh-zenodo/quota?path=Projects/{name}").json()
    assert big["total"] == 1000 and big["used"] == 0
    await call(jp_fetch, "mesh-zenodo", "spaces", space["id"], "members", method="POST",
               body={"name": "marie", "role": "editor"})
    too_big = marie(marie_lab, "PUT", f"api/contents/Projects/{name}/big.txt",
                    {"type": "file", "format": "text", "content": "x" * 2000})
    assert too_big.status_code == 507, too_big.text
    fits = marie(marie_lab, "PUT", f"api/contents/Projects/{name}/notes.txt",
                 {"type": "file", "format": "text", "content": "ok"})
    assert fits.status_code == 201


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "a/b"}, {"name": "x", "quota": -1}, {"name": "x", "quota": "1"},
                                  {"name": "x", "quota": 2**70}])
async def test_bad_project_requests_are_400(jp_fetch, mz_cs3_root, body):
    await refused(jp_fetch, "mesh-zenodo", "spaces", method="POST", body=body, status=400)


async def test_the_projects_folder_in_the_contents_api(jp_fetch, mz_cs3_root, marie_lab):
    name = f"Apollo-{uuid.uuid4().hex[:6]}"
    space = (await call(jp_fetch, "mesh-zenodo", "spaces", method="POST", body={"name": name}))["space"]
    # marie is no member yet: her Projects folder opens, without this project
    before = marie(marie_lab, "GET", "api/contents/Projects")
    assert before.status_code == 200 and before.json()["type"] == "directory"
    assert name not in [e["name"] for e in before.json()["content"]]
    await call(jp_fetch, "mesh-zenodo", "spaces", space["id"], "members", method="POST",
               body={"name": "marie", "role": "editor"})
    written = marie(marie_lab, "PUT", f"api/contents/Projects/{name}/notes.txt",
                    {"type": "file", "format": "text", "content": "plan"})
    assert written.status_code in (200, 201)
    # a member: the project is listed in it, as a folder that opens
    listed = marie(marie_lab, "GET", "api/contents/Projects").json()
    entry = next(e for e in listed["content"] if e["name"] == name)
    assert entry["type"] == "directory" and entry["path"] == f"Projects/{name}"
    inner = marie(marie_lab, "GET", f"api/contents/Projects/{name}").json()
    assert [e["name"] for e in inner["content"]] == ["notes.txt"]
    # nothing is created in the Projects folder itself
    assert marie(marie_lab, "PUT", "api/contents/Projects/mine", {"type": "directory"}).status_code == 403
