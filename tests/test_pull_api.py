"""Pulling Zenodo files into a shared space (a CS3 folder) through the REST API.

A real Jupyter server (jp_fetch) whose files are on the embedded CS3 storage (a real
process), the Zenodo stand-in (a real process) as Zenodo. What landed on the storage is
read back with the raw CS3 protocol (the ``raw`` inspector), never through the code
under test.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from mesh_zenodo.pytest_plugin import FULL_TOKEN, cs3_config, wait_job
from mesh_zenodo.services.provenance import FOLDER_KEYS
from mesh_zenodo.services.pulls import PARTIAL_SUFFIX, renamed, unsafe_name
from mesh_zenodo.services.zenodo_connection import ZenodoConnection

DIMUON, OCEAN, MANY, EOSSR_V2 = 7000006, 7000012, 7000016, 7000003
OCEAN_BIG = "sst_anomalies.nc"  # 5 MiB + 12345 bytes



@pytest.fixture
def jp_server_config(mz_storage, mz_cs3_root, mz_standin):
    return Config(
        {
            "ServerApp": {
                "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
                "jpserver_extensions": {"mesh_zenodo": True},
            },
            **cs3_config(mz_storage, mz_cs3_root),
            "ZenodoClient": {"base_url": mz_standin.url, "backoff": 0.01, "retries": 1, "chunk_size": 256 << 10},
            "PullService": {"retry_delay": 0.05, "attempts": 4},
        }
    )




def body(response) -> dict:
    return json.loads(response.body.decode())


async def start_pull(mz_fetch, **request) -> dict:
    response = await mz_fetch("mesh-zenodo", "zenodo", "pulls", method="POST", body=json.dumps(request))
    assert response.code == 202
    job = body(response)["job"]
    assert response.headers["Location"].endswith(f"/mesh-zenodo/jobs/{job['id']}")
    assert job["kind"] == "pull" and job["state"] == "running"
    return job


async def pull(mz_fetch, **request) -> dict:
    job = await start_pull(mz_fetch, **request)
    return await wait_job(mz_fetch, job["id"])


async def expect_error(mz_fetch, *path, status: int, method="GET", raw_body=None) -> dict:
    kwargs = {"body": raw_body} if raw_body is not None else {}
    with pytest.raises(HTTPClientError) as e:
        await mz_fetch(*path, method=method, **kwargs)
    assert e.value.code == status, (e.value.code, e.value.response.body)
    payload = json.loads(e.value.response.body.decode())
    assert payload["message"], payload
    return payload


def record_files(mz_standin, record_id) -> dict[str, dict]:
    return {f["key"]: f for f in mz_standin.get(f"/api/records/{record_id}").json()["files"]}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def leftovers(mz_raw, folder: str) -> set[str]:
    return {name for name in mz_raw.names(folder) if name.endswith(PARTIAL_SUFFIX)}


async def test_a_remembered_zenodo_sign_in_belongs_to_one_cs3_user_on_one_storage(mz_fetch, mz_zenodo, mz_standin, mz_storage):
    await mz_fetch("mesh-zenodo", "zenodo", "login", method="POST",
                   body=json.dumps({"token": FULL_TOKEN, "base_url": mz_standin.url, "remember": True}))
    mine = mz_zenodo.zenodo_connection.token_file
    assert os.path.exists(mine) and "einstein" in os.path.basename(mine)
    # the next Lab of the same user on the same storage signs in with it; marie's does not
    for user, expected in (("einstein", True), ("marie", False)):
        other = ZenodoConnection(cs3_account=f"{mz_storage.grpc_addr}/{user}")
        assert other.load_remembered() is expected, user
        await other.close()
    await mz_fetch("mesh-zenodo", "zenodo", "login", method="DELETE")
    assert not os.path.exists(mine)


def test_naming_rules():
    assert renamed("data.csv", 1) == "data (1).csv"
    assert renamed("archive.tar.gz", 2) == "archive (2).tar.gz"
    assert renamed("README", 1) == "README (1)"
    assert renamed(".zenodo.json", 1) == ".zenodo (1).json"
    assert renamed(".bashrc", 3) == ".bashrc (3)"
    for bad in ("", ".", "..", "a/b", "a\\b", "a\nb", "x" * 300, f"x{PARTIAL_SUFFIX}"):
        assert unsafe_name(bad), bad
    assert unsafe_name("Measurements (raw) #1.csv") is None


async def test_pull_a_whole_record_into_a_shared_folder(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/shared")
    job = await pull(mz_fetch, record_id=MANY, keys=None, destination="shared", on_conflict="ask")
    expected = record_files(mz_standin, MANY)
    assert job["state"] == "done", job
    assert {i["id"] for i in job["items"]} == set(expected) and len(expected) == 12
    assert all(i["state"] == "done" and i["bytes_done"] == i["bytes_total"] for i in job["items"])
    progress = job["progress"]
    assert progress["fraction"] == 1.0 and progress["items_done"] == progress["items_total"] == 12
    assert progress["bytes_done"] == progress["bytes_total"] == sum(f["size"] for f in expected.values())

    names = set(mz_raw.names(f"{mz_cs3_root}/shared"))
    assert names == set(expected)  # nothing else: no partial files
    for key, entry in expected.items():
        data = mz_raw.read(f"{mz_cs3_root}/shared/{key}")
        assert len(data) == entry["size"] and f"md5:{md5(data)}" == entry["checksum"], key
    assert job["result"]["destination"] == "shared" and job["result"]["record_id"] == str(MANY)
    assert sorted(f["path"] for f in job["result"]["files"]) == sorted(f"shared/{k}" for k in expected)

    # the folder remembers where it came from (CS3 arbitrary metadata), as INFO shows it
    info = mz_raw.stat_ok(f"{mz_cs3_root}/shared", keys=FOLDER_KEYS)
    metadata = dict(info.arbitrary_metadata.metadata)
    assert metadata["zenodo.record_id"] == str(MANY) and metadata["zenodo.doi"] == f"10.5281/zenodo.{MANY}"
    assert metadata["zenodo.version"] == "1" and metadata["zenodo.conceptrecid"] == str(MANY - 1)
    assert metadata["zenodo.url"] == f"{mz_standin.url}/records/{MANY}"
    assert metadata["zenodo.title"] == "mesh-zenodo test fixture: many small files"
    provenance = body(await mz_fetch("mesh-zenodo", "zenodo", "provenance", params={"path": "shared"}))
    assert provenance["zenodo"]["record_id"] == str(MANY) and provenance["zenodo"]["doi"] == f"10.5281/zenodo.{MANY}"
    one = body(await mz_fetch("mesh-zenodo", "zenodo", "provenance", params={"path": "shared/sample_03.txt"}))
    assert one["zenodo"]["key"] == "sample_03.txt" and one["zenodo"]["checksum"] == expected["sample_03.txt"]["checksum"]
    assert body(await mz_fetch("mesh-zenodo", "zenodo", "provenance", params={"path": ""}))["zenodo"] is None

    # Jupyter sees the files where it expects them
    listing = body(await mz_fetch("api", "contents", "shared"))
    assert {m["name"] for m in listing["content"]} == set(expected)
    listed = body(await mz_fetch("mesh-zenodo", "jobs", params={"kind": "pull"}))["jobs"]
    assert job["id"] in [j["id"] for j in listed]


async def test_pull_selected_files_of_a_version_into_the_root(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    job = await pull(mz_fetch, record_id=str(EOSSR_V2), keys=["codemeta.json"], destination="")
    assert job["state"] == "done" and [i["id"] for i in job["items"]] == ["codemeta.json"]
    data = mz_raw.read(f"{mz_cs3_root}/codemeta.json")
    assert json.loads(data)["version"] == "v1.1.0"
    provenance = body(await mz_fetch("mesh-zenodo", "zenodo", "provenance", params={"path": ""}))["zenodo"]
    assert provenance["record_id"] == str(EOSSR_V2) and provenance["version"] == "v1.1.0"


async def test_a_folder_lists_every_record_pulled_into_it_and_each_file_its_own(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/mixed")
    first = await pull(mz_fetch, record_id=str(EOSSR_V2), keys=["codemeta.json"], destination="mixed")
    second = await pull(mz_fetch, record_id=str(DIMUON), keys=None, destination="mixed")
    assert first["state"] == second["state"] == "done"
    folder = body(await mz_fetch("mesh-zenodo", "zenodo", "provenance", params={"path": "mixed"}))
    listed = {r["record_id"]: r for r in folder["records"]}
    assert set(listed) == {str(EOSSR_V2), str(DIMUON)}
    assert listed[str(EOSSR_V2)]["files"] == ["codemeta.json"] and listed[str(EOSSR_V2)]["version"] == "v1.1.0"
    assert sorted(listed[str(DIMUON)]["files"]) == sorted(record_files(mz_standin, DIMUON))
    assert folder["zenodo"]["record_id"] == str(DIMUON)  # the last pull, for CS3 clients that read flat keys
    # a file names its own record, by title as the folder does
    one = body(await mz_fetch("mesh-zenodo", "zenodo", "provenance", params={"path": "mixed/codemeta.json"}))
    assert one["zenodo"]["record_id"] == str(EOSSR_V2) and one["zenodo"]["key"] == "codemeta.json"
    assert one["zenodo"]["title"] == listed[str(EOSSR_V2)]["title"] and one["zenodo"]["title"]


async def test_name_clash_asks_then_renames_or_overwrites(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    folder = f"{mz_cs3_root}/clash"
    mz_raw.mkdir(folder)
    mz_raw.put_ok(f"{folder}/README.md", b"my own notes, not Zenodo's")
    expected = record_files(mz_standin, DIMUON)

    asked = await pull(mz_fetch, record_id=DIMUON, keys=["README.md", "selection.py"], destination="clash", on_conflict="ask")
    states = {i["id"]: i["state"] for i in asked["items"]}
    assert states == {"README.md": "conflict", "selection.py": "done"}
    assert asked["state"] == "failed" and "already exists" in asked["items"][0]["message"]
    assert mz_raw.read(f"{folder}/README.md") == b"my own notes, not Zenodo's"  # never overwritten silently

    renamed_job = await pull(mz_fetch, record_id=DIMUON, keys=["README.md"], destination="clash", on_conflict="rename")
    item = renamed_job["items"][0]
    assert renamed_job["state"] == "done" and item["result"]["name"] == "README (1).md"
    assert f"md5:{md5(mz_raw.read(f'{folder}/README (1).md'))}" == expected["README.md"]["checksum"]
    assert mz_raw.read(f"{folder}/README.md") == b"my own notes, not Zenodo's"
    again = await pull(mz_fetch, record_id=DIMUON, keys=["README.md"], destination="clash", on_conflict="rename")
    assert again["items"][0]["result"]["name"] == "README (2).md"

    overwritten = await pull(mz_fetch, record_id=DIMUON, keys=["README.md"], destination="clash", on_conflict="overwrite")
    assert overwritten["state"] == "done"
    assert f"md5:{md5(mz_raw.read(f'{folder}/README.md'))}" == expected["README.md"]["checksum"]
    assert any(item.ref.path.endswith("/clash/README.md") for item in mz_raw.recycle())  # the old one is recoverable

    # the same content again: nothing to ask, nothing to copy
    same = await pull(mz_fetch, record_id=DIMUON, keys=["README.md", "selection.py"], destination="clash", on_conflict="ask")
    assert same["state"] == "done" and {i["state"] for i in same["items"]} == {"skipped"}
    assert leftovers(mz_raw, folder) == set()


async def test_cancel_a_pull(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/cancelled")
    mz_standin.arm(path_regex=OCEAN_BIG, rate=300_000, times=None)  # a slow download
    job = await start_pull(mz_fetch, record_id=OCEAN, keys=[OCEAN_BIG, "global_means.csv"], destination="cancelled")
    running = await wait_job(
        mz_fetch, job["id"], until=lambda j: j["items"][0]["bytes_done"] > 0 and j["items"][1]["state"] == "done"
    )
    assert running["state"] == "running" and 0 < running["progress"]["fraction"] < 1
    # the server answers other requests meanwhile
    listing = body(await mz_fetch("api", "contents", "cancelled"))
    assert {m["name"] for m in listing["content"]} == {"global_means.csv"}

    cancelled = body(await mz_fetch("mesh-zenodo", "jobs", job["id"], method="DELETE"))["job"]
    assert cancelled["state"] == "cancelled"
    states = {i["id"]: i["state"] for i in cancelled["items"]}
    assert states == {OCEAN_BIG: "cancelled", "global_means.csv": "done"}
    assert set(mz_raw.names(f"{mz_cs3_root}/cancelled")) == {"global_means.csv"}  # no partial file left
    assert not any(PARTIAL_SUFFIX in item.ref.path for item in mz_raw.recycle())
    # cancelling again is harmless
    assert body(await mz_fetch("mesh-zenodo", "jobs", job["id"], method="DELETE"))["job"]["state"] == "cancelled"


async def test_a_429_in_the_middle_of_a_pull_waits_and_goes_on(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/limited")
    mz_standin.arm(path_regex=r"sample_05\.txt/content$", status=429, retry_after=1, times=1)
    mz_standin.arm(path_regex=rf"{OCEAN_BIG}/content$", status=429, rate_limit_reset=1, times=1)
    many = await pull(mz_fetch, record_id=MANY, keys=None, destination="limited")
    ocean = await pull(mz_fetch, record_id=OCEAN, keys=[OCEAN_BIG], destination="limited")
    assert many["state"] == ocean["state"] == "done"
    for key, entry in {**record_files(mz_standin, MANY), OCEAN_BIG: record_files(mz_standin, OCEAN)[OCEAN_BIG]}.items():
        assert f"md5:{md5(mz_raw.read(f'{mz_cs3_root}/limited/{key}'))}" == entry["checksum"], key
    assert [r["status"] for r in mz_standin.requests(r"sample_05\.txt/content$")] == [429, 200]
    assert [r["status"] for r in mz_standin.requests(rf"{OCEAN_BIG}/content$")] == [429, 200]


async def test_a_dropped_connection_is_resumed_with_a_range_request(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/resumed")
    mz_standin.arm(path_regex=rf"{OCEAN_BIG}/content$", drop_after_bytes=2_000_000, times=1)
    job = await pull(mz_fetch, record_id=OCEAN, keys=[OCEAN_BIG], destination="resumed")
    assert job["state"] == "done", job
    assert any("resuming at byte" in m["text"] for m in job["messages"])
    data = mz_raw.read(f"{mz_cs3_root}/resumed/{OCEAN_BIG}")
    assert f"md5:{md5(data)}" == record_files(mz_standin, OCEAN)[OCEAN_BIG]["checksum"]
    requests_seen = mz_standin.requests(rf"{OCEAN_BIG}/content$")
    assert [r["status"] for r in requests_seen] == ["aborted", 206]
    resumed_from = int(requests_seen[1]["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= 2_000_000


async def test_a_server_without_ranges_restarts_the_file(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/restarted")
    mz_standin.arm(path_regex=rf"{OCEAN_BIG}/content$", drop_after_bytes=1_500_000, times=1)
    mz_standin.arm(path_regex=rf"{OCEAN_BIG}/content$", ignore_range=True, times=1)
    job = await pull(mz_fetch, record_id=OCEAN, keys=[OCEAN_BIG], destination="restarted")
    assert job["state"] == "done", job
    data = mz_raw.read(f"{mz_cs3_root}/restarted/{OCEAN_BIG}")
    assert f"md5:{md5(data)}" == record_files(mz_standin, OCEAN)[OCEAN_BIG]["checksum"]
    assert [r["status"] for r in mz_standin.requests(rf"{OCEAN_BIG}/content$")] == ["aborted", 200]


async def test_a_connection_that_keeps_dropping_fails_cleanly(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/dropped")
    mz_standin.arm(path_regex=rf"{OCEAN_BIG}/content$", drop_after_bytes=1_000_000, times=None)
    job = await pull(mz_fetch, record_id=OCEAN, keys=None, destination="dropped")
    states = {i["id"]: i["state"] for i in job["items"]}
    assert job["state"] == "failed" and states == {OCEAN_BIG: "failed", "global_means.csv": "done"}
    failed = next(i for i in job["items"] if i["id"] == OCEAN_BIG)
    assert "broke off" in failed["message"] or "ended after" in failed["message"]
    assert job["error"]["message"] == "1 of 2 items did not complete"
    assert set(mz_raw.names(f"{mz_cs3_root}/dropped")) == {"global_means.csv"}  # no corrupt or partial file
    assert len(mz_standin.requests(rf"{OCEAN_BIG}/content$")) == 4  # the bounded attempts


async def test_corrupt_content_is_never_saved(mz_fetch, mz_zenodo, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/corrupt")
    mz_standin.arm(path_regex=rf"{OCEAN_BIG}/content$", corrupt_at=4_000_000, times=1)
    job = await pull(mz_fetch, record_id=OCEAN, keys=[OCEAN_BIG], destination="corrupt")
    item = job["items"][0]
    assert job["state"] == "failed" and item["state"] == "failed" and "md5" in item["message"]
    assert mz_raw.names(f"{mz_cs3_root}/corrupt") == []
    assert not any(PARTIAL_SUFFIX in entry.ref.path for entry in mz_raw.recycle())
    # asked again, it arrives intact
    again = await pull(mz_fetch, record_id=OCEAN, keys=[OCEAN_BIG], destination="corrupt")
    assert again["state"] == "done"
    # by now the server knows the storage reports md5 checksums and verifies with them:
    # a corrupt file then lands under its hidden temporary name and is removed, purged
    assert mz_zenodo.pulls._storage_md5 is True
    mz_standin.arm(path_regex=r"global_means\.csv/content$", corrupt_at=10, times=1)
    job = await pull(mz_fetch, record_id=OCEAN, keys=["global_means.csv"], destination="corrupt")
    assert job["state"] == "failed" and "md5" in job["items"][0]["message"]
    assert mz_raw.names(f"{mz_cs3_root}/corrupt") == [OCEAN_BIG]
    assert not any(PARTIAL_SUFFIX in entry.ref.path for entry in mz_raw.recycle())


async def test_pull_works_signed_in_too(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    await mz_fetch("mesh-zenodo", "zenodo", "login", method="POST", body=json.dumps({"token": FULL_TOKEN, "base_url": mz_standin.url}))
    job = await pull(mz_fetch, record_id=DIMUON, keys=["selection.py"], destination="")
    assert job["state"] == "done"
    assert all(r["auth"] == "bearer" for r in mz_standin.requests(r"selection\.py/content$"))
    assert mz_raw.read(f"{mz_cs3_root}/selection.py").startswith(b"import pandas")


@pytest.mark.parametrize(
    "request_body, status, reason",
    [
        ("{oops", 400, "not valid JSON"),
        ("[]", 400, "JSON object"),
        ("{}", 400, "record_id is required"),
        ('{"record_id": "abc"}', 400, "record_id is required"),
        ('{"record_id": true}', 400, "record_id is required"),
        ('{"record_id": 7000006, "keys": "README.md"}', 400, "keys must be"),
        ('{"record_id": 7000006, "keys": []}', 400, "keys must be"),
        ('{"record_id": 7000006, "keys": [1]}', 400, "keys must be"),
        ('{"record_id": 7000006, "keys": ["nope.txt"]}', 400, "has no file 'nope.txt'"),
        ('{"record_id": 7000006, "destination": 3}', 400, "destination must be"),
        ('{"record_id": 7000006, "destination": "missing-folder"}', 404, "no folder"),
        ('{"record_id": 7000006, "destination": "../escape"}', 400, "are not names of files or folders"),
        ('{"record_id": 7000006, "destination": ".hidden"}', 400, "hidden folder"),
        ('{"record_id": 7000006, "on_conflict": "maybe"}', 400, "on_conflict must be"),
        ('{"record_id": 1}', 404, "PID does not exist"),
        ('{"record_id": 7000006, "environment": "prod"}', 400, "unknown Zenodo environment"),
        ('{"record_id": 7000006, "base_url": "file:///etc"}', 400, "https://"),
    ],
)
async def test_bad_pull_requests_are_4xx(mz_fetch, request_body, status, reason):
    error = await expect_error(mz_fetch, "mesh-zenodo", "zenodo", "pulls", method="POST", raw_body=request_body, status=status)
    assert reason in error["message"]


async def test_pull_into_a_file_is_refused(mz_fetch, mz_raw, mz_cs3_root):
    mz_raw.put_ok(f"{mz_cs3_root}/a-file.txt", b"x")
    error = await expect_error(mz_fetch, "mesh-zenodo", "zenodo", "pulls", method="POST", status=400,
                               raw_body=json.dumps({"record_id": DIMUON, "destination": "a-file.txt"}))
    assert "is a file" in error["message"]


async def test_jobs_api(mz_fetch):
    await expect_error(mz_fetch, "mesh-zenodo", "jobs", "0" * 32, status=404)
    await expect_error(mz_fetch, "mesh-zenodo", "jobs", "not-a-job", method="DELETE", status=404)
    job = await pull(mz_fetch, record_id=DIMUON, keys=["selection.py"], destination="")
    again = body(await mz_fetch("mesh-zenodo", "jobs", job["id"], method="DELETE"))["job"]
    assert again["state"] == "done" and again["finished"] == job["finished"]  # nothing to cancel


async def test_the_server_stays_responsive_during_a_pull(mz_fetch, mz_raw, mz_cs3_root, mz_standin):
    mz_raw.mkdir(f"{mz_cs3_root}/busy")
    mz_standin.arm(path_regex=rf"{OCEAN_BIG}/content$", rate=2_000_000, times=None)
    job = await start_pull(mz_fetch, record_id=OCEAN, keys=[OCEAN_BIG], destination="busy")
    answered = 0
    while True:
        status = body(await mz_fetch("mesh-zenodo", "jobs", job["id"]))["job"]
        body(await mz_fetch("api", "contents", ""))
        answered += 1
        if status["state"] != "running":
            break
        await asyncio.sleep(0.05)
    assert status["state"] == "done" and answered > 1
