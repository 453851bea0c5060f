"""Publishing a folder of the storage to Zenodo through the REST API (and the CLI).

A real Jupyter server (jp_fetch) on the embedded CS3 storage, the Zenodo stand-in as
Zenodo (both real processes). What the record holds is read back from the stand-in's
public record routes, and also with a third-party way to read records (plain HTTP as any
Zenodo client does), never through the code under test.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import time
import sys
import uuid
import zipfile

import pytest
import requests
from cs3.rpc.v1beta1 import code_pb2
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from mesh_zenodo.pytest_plugin import FULL_TOKEN, PASSWORDS, cs3_config, wait_job
from mesh_zenodo.services.publishing import PUBLISHED_KEY, PUBLISHING_KEY

METADATA = {
    "title": "Muon lifetime analysis",
    "upload_type": "dataset",
    "description": "<p>Notebooks and data of the muon lifetime measurement.</p>",
    "creators": [{"name": "Einstein, Albert", "affiliation": "ETH Zurich", "orcid": "0000-0002-1825-0097"}],
    "access_right": "open",
    "license": "cc-by-4.0",
    "keywords": ["muon", "lifetime"],
    "version": "1.0",
}


@pytest.fixture
def jp_server_config(mz_storage, mz_cs3_root, mz_standin, tmp_path):
    return Config(
        {
            "ServerApp": {
                "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
                "jpserver_extensions": {"mesh_zenodo": True},
            },
            **cs3_config(mz_storage, mz_cs3_root),
            "ZenodoClient": {"base_url": mz_standin.url, "backoff": 0.01, "retries": 2, "chunk_size": 256 << 10},
            "PublishService": {"state_dir": str(tmp_path / "publications")},
        }
    )


async def sign_in(mz_fetch, mz_standin) -> None:
    await mz_fetch("mesh-zenodo", "zenodo", "login", method="POST",
                   body=json.dumps({"token": FULL_TOKEN, "base_url": mz_standin.url}))


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


async def put_file(fetch, path: str, data: bytes) -> None:
    import base64

    await fetch("api", "contents", *path.split("/"), method="PUT",
                body=json.dumps({"type": "file", "format": "base64", "content": base64.b64encode(data).decode()}))


async def make_folder(fetch, name: str, files: dict[str, bytes]) -> None:
    await fetch("api", "contents", name, method="PUT", body=json.dumps({"type": "directory"}))
    made = set()
    for rel, data in files.items():
        parts = rel.split("/")
        for i in range(1, len(parts)):
            sub = "/".join([name, *parts[:i]])
            if sub not in made:
                await fetch("api", "contents", *sub.split("/"), method="PUT", body=json.dumps({"type": "directory"}))
                made.add(sub)
        await put_file(fetch, f"{name}/{rel}", data)


async def publish(fetch, **request) -> dict:
    response = await fetch("mesh-zenodo", "zenodo", "publications", method="POST", body=json.dumps(request))
    assert response.code == 202
    job = json.loads(response.body)["job"]
    assert job["kind"] == "publish"
    return await wait_job(fetch, job["id"])


async def refused(fetch, *path, status: int, body: dict, method="POST") -> dict:
    with pytest.raises(HTTPClientError) as e:
        await fetch(*path, method=method, body=json.dumps(body))
    assert e.value.code == status, (e.value.code, e.value.response.body)
    return json.loads(e.value.response.body)


def record(mz_standin, record_id: str) -> dict:
    response = requests.get(f"{mz_standin.url}/api/records/{record_id}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def record_files(mz_standin, record_id: str) -> dict[str, bytes]:
    out = {}
    for f in record(mz_standin, record_id)["files"]:
        link = f["links"]["self"]
        out[f["key"]] = requests.get(link, timeout=60).content
        assert md5(out[f["key"]]) == f["checksum"].removeprefix("md5:")
    return out


def folder_metadata(mz_raw, path: str) -> dict:
    info = mz_raw.stat_ok(path, keys=["*"])
    return {k: v for k, v in info.arbitrary_metadata.metadata.items()}


FILES = {
    "analysis.ipynb": b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
    "data.csv": b"t,counts\n" + b"".join(f"{i},{i * 7 % 13}\n".encode() for i in range(5000)),
    "raw/run1.bin": os.urandom(300_000),
    "raw/deep/run2.bin": os.urandom(70_000),
}


async def test_publish_a_folder_as_a_record(mz_fetch, mz_standin, mz_raw, mz_cs3_root):
    await sign_in(mz_fetch, mz_standin)
    name = f"muon-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, FILES)
    mz_raw.put_ok(f"{mz_cs3_root}/{name}/.hidden", b"not published")

    job = await publish(mz_fetch, path=name, metadata=METADATA, publish=True)

    assert job["state"] == "done", job
    result = job["result"]
    assert result["state"] == "published" and result["doi"] and result["concept_doi"]
    files = record_files(mz_standin, result["record_id"])
    assert sorted(files) == ["analysis.ipynb", "data.csv", "manifest.json", "raw.zip"]
    assert files["data.csv"] == FILES["data.csv"]
    archive = zipfile.ZipFile(io.BytesIO(files["raw.zip"]))
    assert sorted(archive.namelist()) == ["raw/deep/run2.bin", "raw/run1.bin"]
    assert archive.read("raw/run1.bin") == FILES["raw/run1.bin"]
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == {"analysis.ipynb", "data.csv", "raw/run1.bin", "raw/deep/run2.bin"}
    assert listed["raw/run1.bin"]["md5"] == md5(FILES["raw/run1.bin"]) and listed["raw/run1.bin"]["in"] == "raw.zip"
    meta = record(mz_standin, result["record_id"])["metadata"]
    assert meta["title"] == METADATA["title"]
    # the folder remembers where it went
    published = json.loads(folder_metadata(mz_raw, f"{mz_cs3_root}/{name}")[PUBLISHED_KEY])
    assert published["record_id"] == result["record_id"] and published["concept_doi"] == result["concept_doi"]
    assert PUBLISHING_KEY not in folder_metadata(mz_raw, f"{mz_cs3_root}/{name}")
    read_back_with_inveniordm_py(mz_standin, result, files)


def read_back_with_inveniordm_py(mz_standin, result: dict, files: dict[str, bytes]) -> None:
    """The record as a third-party client library (InvenioRDM's own inveniordm-py) reads
    it: anonymous, by id, its files with their content, and the latest version."""
    from inveniordm_py import InvenioAPI

    api = InvenioAPI(f"{mz_standin.url}/api", access_token="")
    record = api.records(result["record_id"]).get().data  # (Zenodo's JSON for application/json)
    assert record["metadata"]["title"] == METADATA["title"]
    assert record["doi"] == result["doi"] and record["conceptdoi"] == result["concept_doi"]
    entries = api.records(result["record_id"]).files.get().data["entries"]
    assert {e["key"]: e["checksum"] for e in entries} == {k: f"md5:{md5(v)}" for k, v in files.items()}
    for key, content in files.items():
        response = api.records(result["record_id"]).files(key).download()
        assert b"".join(response.iter_content(1 << 16)) == content
    latest = api.records(result["record_id"]).versions.latest().data
    assert str(latest["id"]) == result["record_id"]


async def test_a_server_with_only_the_legacy_deposit_api_is_refused_clearly(mz_fetch, mz_standin):
    await sign_in(mz_fetch, mz_standin)
    name = f"legacy-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"a.txt": b"a"})
    mz_standin.config(records_api=False)
    try:
        payload = await refused(mz_fetch, "mesh-zenodo", "zenodo", "publications", status=409,
                                body={"path": name, "metadata": METADATA, "publish": True})
    finally:
        mz_standin.config(records_api=True)
    assert "legacy deposit API" in payload["message"]
    assert not [r for r in mz_standin.requests("^/api/records$") if r["method"] == "POST"]  # no draft made
    assert not [r for r in mz_standin.requests("^/api/deposit") if r["method"] != "GET"]  # nor a deposition


async def test_invalid_metadata_is_refused_before_anything_is_sent(mz_fetch, mz_standin):
    await sign_in(mz_fetch, mz_standin)
    name = f"bad-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"a.txt": b"a"})
    before = len(mz_standin.requests("/api/records"))
    bad = {**METADATA, "creators": [{"name": "Curie, Marie", "orcid": "0000-0002-1825-0096"}],
           "access_right": "embargoed", "license": "no-such-license"}
    payload = await refused(mz_fetch, "mesh-zenodo", "zenodo", "publications", status=400,
                            body={"path": name, "metadata": bad})
    fields = {e["field"] for e in payload["errors"]}
    assert {"creators[0].orcid", "embargo_date", "license"} <= fields
    none = await refused(mz_fetch, "mesh-zenodo", "zenodo", "publications", status=400,
                         body={"path": name, "metadata": {**METADATA, "creators": []}})
    assert "creators" in {e["field"] for e in none["errors"]}
    assert len(mz_standin.requests("/api/records")) == before


async def test_draft_then_new_version_with_changed_removed_added(mz_fetch, mz_standin, mz_cs3_root):
    await sign_in(mz_fetch, mz_standin)
    name = f"versions-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"keep.txt": b"same", "change.txt": b"v1", "remove.txt": b"bye"})
    first = await publish(mz_fetch, path=name, metadata=METADATA, publish=True)
    assert first["state"] == "done", first
    old_id = first["result"]["record_id"]

    # publishing again without New version never makes an unrelated record: it asks
    again = await refused(mz_fetch, "mesh-zenodo", "zenodo", "publications", status=409,
                          body={"path": name, "metadata": METADATA, "publish": True})
    assert again["previous"]["record_id"] == old_id

    await put_file(mz_fetch, f"{name}/change.txt", b"v2")
    await mz_fetch("api", "contents", name, "remove.txt", method="DELETE")
    await put_file(mz_fetch, f"{name}/added.txt", b"new")
    second = await publish(mz_fetch, path=name, metadata={**METADATA, "version": "2.0"}, publish=True,
                           new_version=True)

    assert second["state"] == "done", second
    new_id = second["result"]["record_id"]
    assert new_id != old_id and second["result"]["concept_doi"] == first["result"]["concept_doi"]
    new_files = record_files(mz_standin, new_id)
    assert {k: v for k, v in new_files.items() if k != "manifest.json"} == {
        "keep.txt": b"same", "change.txt": b"v2", "added.txt": b"new"}
    old_files = record_files(mz_standin, old_id)
    assert old_files["change.txt"] == b"v1" and "remove.txt" in old_files  # the old record unchanged


async def test_a_draft_only_and_the_reserved_doi(mz_fetch, mz_standin):
    await sign_in(mz_fetch, mz_standin)
    name = f"draft-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"a.txt": b"a"})
    job = await publish(mz_fetch, path=name, metadata=METADATA, publish=False)
    assert job["state"] == "done", job
    assert job["result"]["state"] == "draft" and job["result"]["doi"].startswith("10.")
    response = requests.get(f"{mz_standin.url}/api/records/{job['result']['record_id']}", timeout=30)
    assert response.status_code == 404  # not published


async def test_150_files_go_as_zips_and_the_token_is_nowhere(mz_fetch, mz_standin, jp_serverapp):
    await sign_in(mz_fetch, mz_standin)
    name = f"many-{uuid.uuid4().hex[:6]}"
    files = {f"f{i:03d}.txt": f"file {i}\n".encode() for i in range(150)}
    await make_folder(mz_fetch, name, files)
    job = await publish(mz_fetch, path=name, metadata=METADATA, publish=True)
    assert job["state"] == "done", job
    got = record_files(mz_standin, job["result"]["record_id"])
    assert sorted(got) == ["manifest.json", f"{name}-files.zip"]
    assert len(zipfile.ZipFile(io.BytesIO(got[f"{name}-files.zip"])).namelist()) == 150
    assert all(FULL_TOKEN not in r.get("url", "") for r in mz_standin.requests(""))


async def _start_held(mz_fetch, mz_standin, name: str, path_regex: str, method: str) -> dict:
    """Start publishing ``name`` with Zenodo holding the first request matching
    ``path_regex`` (the snapshot is taken by then); returns the job once it is held."""
    mz_standin.arm(path_regex=path_regex, method=method, hold=True)
    response = await mz_fetch("mesh-zenodo", "zenodo", "publications", method="POST",
                              body=json.dumps({"path": name, "metadata": METADATA, "publish": True}))
    job = json.loads(response.body)["job"]
    await wait_job(mz_fetch, job["id"], until=lambda j: any(
        r.get("status") == "held" for r in mz_standin.requests(path_regex)))
    return job


async def test_a_file_changed_during_the_upload_is_published_as_it_was_at_confirm(
        mz_fetch, mz_standin, mz_raw, mz_cs3_root):
    await sign_in(mz_fetch, mz_standin)
    name = f"moving-{uuid.uuid4().hex[:6]}"
    snapshot = os.urandom(1 << 20)
    await make_folder(mz_fetch, name, {"big.bin": snapshot, "small.txt": b"x"})
    # Zenodo holds the registration of the files: the snapshot is taken, no upload started
    job = await _start_held(mz_fetch, mz_standin, name, r".*/draft/files$", "POST")
    mz_raw.put_ok(f"{mz_cs3_root}/{name}/big.bin", b"changed")
    mz_standin.release()
    done = await wait_job(mz_fetch, job["id"])
    assert done["state"] == "done", done
    got = record_files(mz_standin, done["result"]["record_id"])
    assert got["big.bin"] == snapshot  # read from the version that keeps the snapshot
    manifest = json.loads(got["manifest.json"])
    assert {f["path"]: f["md5"] for f in manifest["files"]}["big.bin"] == md5(snapshot)
    assert mz_raw.read(f"{mz_cs3_root}/{name}/big.bin") == b"changed"  # the folder moved on


async def test_a_file_changed_while_it_is_sent_is_sent_again_from_its_snapshot(
        mz_fetch, mz_standin, mz_raw, mz_cs3_root):
    await sign_in(mz_fetch, mz_standin)
    name = f"racing-{uuid.uuid4().hex[:6]}"
    snapshot = os.urandom(8 << 20)
    await make_folder(mz_fetch, name, {"big.bin": snapshot})
    # Zenodo holds the content PUT: its body is being streamed from the storage
    job = await _start_held(mz_fetch, mz_standin, name, r".*/draft/files/big\.bin/content$", "PUT")
    mz_raw.put_ok(f"{mz_cs3_root}/{name}/big.bin", os.urandom(8 << 20))
    mz_standin.release()
    done = await wait_job(mz_fetch, job["id"])
    assert done["state"] == "done", done
    assert record_files(mz_standin, done["result"]["record_id"])["big.bin"] == snapshot


async def test_a_file_removed_during_the_upload_stops_the_publication(mz_fetch, mz_standin, mz_raw, mz_cs3_root):
    await sign_in(mz_fetch, mz_standin)
    name = f"vanishing-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"big.bin": os.urandom(1 << 20), "small.txt": b"x"})
    job = await _start_held(mz_fetch, mz_standin, name, r".*/draft/files$", "POST")
    assert mz_raw.delete(f"{mz_cs3_root}/{name}/big.bin").status.code == code_pb2.CODE_OK
    mz_standin.release()
    done = await wait_job(mz_fetch, job["id"])
    assert done["state"] == "failed", done
    assert "big.bin was removed during the publication" in done["error"]["message"], done
    # nothing was published; publishing again takes the new state (the same draft)
    again = await publish(mz_fetch, path=name, metadata=METADATA, publish=True)
    assert again["state"] == "done", again
    assert sorted(record_files(mz_standin, again["result"]["record_id"])) == ["manifest.json", "small.txt"]
    assert again["result"]["record_id"] == done["result"]["record_id"]


def test_cli_publishes_with_json_output(mz_storage, mz_standin, tmp_path, mz_raw):
    from mesh_zenodo.pytest_plugin import StorageUser

    einstein = StorageUser(mz_storage.grpc_addr, "einstein")
    folder = f"/home/cli-{uuid.uuid4().hex[:6]}"
    einstein.mkdir(folder)
    einstein.put_ok(f"{folder}/results.csv", b"a,b\n1,2\n")
    einstein.put_ok(f"{folder}/.zenodo.json", json.dumps(METADATA).encode())
    einstein.close()
    token = tmp_path / "token"
    token.write_text(f"  {FULL_TOKEN}\n")
    env = dict(os.environ, MESH_ZENODO_CS3_PASSWORD=PASSWORDS["einstein"], JUPYTER_DATA_DIR=str(tmp_path / "data"))
    command = [sys.executable, "-m", "mesh_zenodo.cli", "publish", folder, "--zenodo-url", mz_standin.url,
               "--token-file", str(token), "--publish", "--gateway", mz_storage.grpc_addr, "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["state"] == "published" and isinstance(out["record_id"], str) and out["doi"]
    assert {f["key"]: f["md5"] for f in out["files"]}["results.csv"] == md5(b"a,b\n1,2\n")
    assert FULL_TOKEN not in done.stderr + done.stdout

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert again.returncode == 2 and out["record_id"] in again.stderr and "--new-version" in again.stderr


async def test_an_interrupted_publication_continues_the_same_draft(mz_fetch, mz_standin):
    """Stopped half-way (as by a restart: the job is cancelled while a file is on its way),
    running it again continues the same draft: one deposit, files already there skipped."""
    await sign_in(mz_fetch, mz_standin)
    name = f"resume-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"a.txt": b"first file", "b.bin": os.urandom(200_000)})
    mz_standin.arm(path_regex=r".*/draft/files/b\.bin/content$", method="PUT", hold=True)
    response = await mz_fetch("mesh-zenodo", "zenodo", "publications", method="POST",
                              body=json.dumps({"path": name, "metadata": METADATA, "publish": True}))
    job = json.loads(response.body)["job"]
    await wait_job(mz_fetch, job["id"], until=lambda j: any(
        r.get("status") == "held" for r in mz_standin.requests(r"/b\.bin/content$")))
    await mz_fetch("mesh-zenodo", "jobs", job["id"], method="DELETE")
    mz_standin.release()
    stopped = await wait_job(mz_fetch, job["id"])
    assert stopped["state"] == "cancelled"
    drafts_before = [r for r in mz_standin.requests(r"^/api/records$") if r["method"] == "POST"]

    again = await publish(mz_fetch, path=name, metadata=METADATA, publish=True)

    assert again["state"] == "done", again
    assert again["result"]["record_id"] == stopped["result"]["record_id"]
    assert [r for r in mz_standin.requests(r"^/api/records$") if r["method"] == "POST"] == drafts_before
    assert sorted(record_files(mz_standin, again["result"]["record_id"])) == ["a.txt", "b.bin", "manifest.json"]
    assert len([r for r in mz_standin.requests(r"/a\.txt/content$") if r["method"] == "PUT"]) == 1
    assert {i["id"]: i["state"] for i in again["items"]}["a.txt"] == "skipped"


async def test_a_429_and_a_500_half_way_are_waited_out(mz_fetch, mz_standin):
    await sign_in(mz_fetch, mz_standin)
    name = f"flaky-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"one.txt": b"1" * 1000, "two.txt": b"2" * 1000})
    mz_standin.arm(path_regex=r".*/draft/files/one\.txt/content$", method="PUT", status=429, retry_after=1)
    mz_standin.arm(path_regex=r".*/draft/files/two\.txt/commit$", method="POST", status=500)
    job = await publish(mz_fetch, path=name, metadata=METADATA, publish=True)
    assert job["state"] == "done", job
    files = record_files(mz_standin, job["result"]["record_id"])
    assert files["one.txt"] == b"1" * 1000 and files["two.txt"] == b"2" * 1000
    assert any(r["status"] == 429 for r in mz_standin.requests(r"/one\.txt/content$"))


async def test_the_form_is_prefilled_from_citation_cff_and_codemeta(mz_fetch, mz_standin):
    cff = (b"cff-version: 1.2.0\ntitle: Shower simulation\nauthors:\n  - family-names: Curie\n"
           b"    given-names: Marie\n    orcid: https://orcid.org/0000-0002-1825-0097\nlicense: MIT\nversion: 2.1\n")
    await make_folder(mz_fetch, "with-cff", {"CITATION.cff": cff, "run.py": b"print(1)\n"})
    response = await mz_fetch("mesh-zenodo", "zenodo", "publish", params={"path": "with-cff"})
    prepared = json.loads(response.body)
    assert prepared["prefill_source"] == "CITATION.cff"
    assert prepared["prefill"]["title"] == "Shower simulation" and prepared["prefill"]["version"] == "2.1"
    assert prepared["prefill"]["creators"][0]["name"] == "Curie, Marie"
    assert prepared["prefill"]["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert {f["path"] for f in prepared["files"]} == {"CITATION.cff", "run.py"} and prepared["previous"] is None

    codemeta = {"@context": "https://doi.org/10.5063/schema/codemeta-2.0", "name": "detector-sim",
                "author": [{"@type": "Person", "givenName": "Richard", "familyName": "Feynman"}],
                "license": "https://spdx.org/licenses/Apache-2.0", "version": "0.3",
                "codeRepository": "https://github.com/example/detector-sim"}
    await make_folder(mz_fetch, "with-codemeta", {"codemeta.json": json.dumps(codemeta).encode()})
    prepared = json.loads((await mz_fetch("mesh-zenodo", "zenodo", "publish", params={"path": "with-codemeta"})).body)
    assert prepared["prefill_source"] == "codemeta.json"
    assert prepared["prefill"]["title"] == "detector-sim" and prepared["prefill"]["license"] == "apache-2.0"
    assert prepared["prefill"]["creators"][0]["name"] == "Feynman, Richard"
    assert prepared["prefill"]["related_identifiers"][0]["identifier"] == "https://github.com/example/detector-sim"


async def test_the_record_asks_its_communities_to_include_it(mz_fetch, mz_standin):
    await sign_in(mz_fetch, mz_standin)
    name = f"community-{uuid.uuid4().hex[:6]}"
    await make_folder(mz_fetch, name, {"a.txt": b"a"})
    meta = {**METADATA, "communities": [{"identifier": "escape2020"}, {"identifier": "no-such-community"}]}
    job = await publish(mz_fetch, path=name, metadata=meta, publish=True)
    assert job["state"] == "done", job
    asked = [r for r in mz_standin.requests(rf"/api/records/{job['result']['record_id']}/communities$")]
    assert [r["method"] for r in asked] == ["POST"] and asked[0]["status"] == 200
    assert job["result"]["community_problems"] == ["no-such-community: Community not found."]
    assert any("asked 1 community" in m["text"] for m in job["messages"])


def test_a_server_killed_half_way_resumes_the_same_publication(mz_storage, mz_standin, tmp_path):
    """kill -9 of the Jupyter server while a file is on its way to Zenodo; the restarted
    server lists the interrupted publication, and Resume completes it in the same draft."""
    from mesh_zenodo.pytest_plugin import StorageUser, start_lab

    mz_standin.reset()
    einstein = StorageUser(mz_storage.grpc_addr, "einstein")
    folder = f"killed-{uuid.uuid4().hex[:6]}"
    einstein.mkdir(f"/home/{folder}")
    einstein.put_ok(f"/home/{folder}/first.txt", b"first")
    einstein.put_ok(f"/home/{folder}/second.bin", os.urandom(100_000))
    einstein.close()
    token = uuid.uuid4().hex
    config = {"ZenodoClient": {"base_url": mz_standin.url, "backoff": 0.01}}

    def call(lab, method, path, body=None):
        return requests.request(method, f"{lab.url}/{path}", headers={"Authorization": f"token {token}"},
                                data=json.dumps(body) if body is not None else None, timeout=60)

    lab = start_lab(mz_storage.grpc_addr, "", tmp_path, config, token=token)
    try:
        assert call(lab, "POST", "mesh-zenodo/zenodo/login", {"token": FULL_TOKEN, "base_url": mz_standin.url,
                                                              "remember": True}).status_code == 200
        mz_standin.arm(path_regex=r".*/draft/files/second\.bin/content$", method="PUT", hold=True)
        started = call(lab, "POST", "mesh-zenodo/zenodo/publications",
                       {"path": folder, "metadata": METADATA, "publish": True})
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 60
        while not any(r.get("status") == "held" for r in mz_standin.requests(r"/second\.bin/content$")):
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.1)
        lab.process.kill()  # kill -9, half-way
        lab.process.wait()
    finally:
        mz_standin.release()
    lab = start_lab(mz_storage.grpc_addr, "", tmp_path, config, token=token)
    try:
        listed = call(lab, "GET", "mesh-zenodo/zenodo/publications").json()
        interrupted = [p for p in listed["interrupted"] if p["path"] == folder]
        assert len(interrupted) == 1 and interrupted[0]["title"] == METADATA["title"]
        resumed = call(lab, "POST", f"mesh-zenodo/zenodo/publications/{interrupted[0]['id']}/resume")
        assert resumed.status_code == 202, resumed.text
        job = resumed.json()["job"]
        while job["state"] == "running":
            time.sleep(0.2)
            job = call(lab, "GET", f"mesh-zenodo/jobs/{job['id']}").json()["job"]
        assert job["state"] == "done", job
        drafts = [r for r in mz_standin.requests(r"^/api/records$") if r["method"] == "POST"]
        assert len(drafts) == 1  # one deposit for the whole publication
        files = record_files(mz_standin, job["result"]["record_id"])
        assert files["first.txt"] == b"first" and sorted(files) == ["first.txt", "manifest.json", "second.bin"]
        assert call(lab, "GET", "mesh-zenodo/zenodo/publications").json()["interrupted"] == []
    finally:
        lab.stop()
