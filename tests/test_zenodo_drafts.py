"""The records API (InvenioRDM drafts, files, publish, versions): ZenodoClient against the
Zenodo stand-in, a real HTTP server in a subprocess on loopback."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone

import pytest
import requests

from mesh_zenodo.pytest_plugin import FULL_TOKEN, OTHER_TOKEN, READONLY_TOKEN
from mesh_zenodo.zenodo import errors
from mesh_zenodo.zenodo.client import ZenodoClient
from mesh_zenodo.zenodo.drafts import RDM_JSON

DIMUON = 7000006  # a seeded dataset of einstein's (one file)


@pytest.fixture(autouse=True)
def fresh(mz_standin):
    mz_standin.reset()
    yield
    mz_standin.reset()


def client(mz_standin, token=FULL_TOKEN, **kw) -> ZenodoClient:
    kw.setdefault("backoff", 0.01)
    return ZenodoClient(base_url=mz_standin.url, token=token, **kw)


def metadata(title="Mesh snapshot", **extra) -> dict:
    return {
        "resource_type": {"id": "dataset"},
        "title": title,
        "publication_date": "2025-03-14",
        "creators": [
            {"person_or_org": {"type": "personal", "family_name": "Einstein", "given_name": "Albert"},
             "affiliations": [{"name": "ETH"}]},
            {"person_or_org": {"type": "organizational", "name": "ScienceMesh"}},
        ],
        "description": "<p>A folder of a share.</p>",
        "rights": [{"id": "cc-by-4.0"}],
        "subjects": [{"subject": "cs3"}],
        **extra,
    }


def blob(seed: str, size: int) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


def chunked(data: bytes, piece: int = 1 << 20):
    async def chunks():
        for i in range(0, len(data), piece):
            yield data[i : i + piece]

    return chunks


def raw(mz_standin, method, path, token=FULL_TOKEN, rdm=True, **kw) -> requests.Response:
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if rdm:
        headers["Accept"] = RDM_JSON
    return requests.request(method, mz_standin.url + path, headers=headers, timeout=30, **kw)


async def published_record(c: ZenodoClient, files: dict[str, bytes], **md) -> dict:
    draft = await c.create_draft({"metadata": metadata(**md), "files": {"enabled": True}})
    for key, data in files.items():
        await c.upload_draft_file(draft["id"], key, data, len(data))
    return await c.publish_draft(draft["id"])


# ---------------------------------------------------------------------------------------
# drafts
# ---------------------------------------------------------------------------------------


async def test_draft_create_read_update_reserve_doi_delete(mz_standin):
    async with client(mz_standin) as c:
        assert await c.has_records_api()
        draft = await c.create_draft({"metadata": {"title": "Mesh"}, "files": {"enabled": True},
                                      "access": {"record": "public", "files": "public"}})
        rid = draft["id"]
        assert draft["status"] == "draft" and draft["is_published"] is False and draft["pids"] == {}
        assert draft["parent"]["id"] != rid and draft["files"]["enabled"] is True and draft["files"]["count"] == 0
        assert {"self", "self_html", "files", "publish", "reserve_doi", "versions", "record"} <= set(draft["links"])
        assert draft["links"]["self"].endswith(f"/api/records/{rid}/draft")
        # a draft is saved incomplete: what it lacks comes back as errors, not as a refusal
        fields = {e["field"] for e in draft["errors"]}
        assert {"metadata.resource_type", "metadata.creators", "metadata.publication_date"} <= fields
        assert (await c.get_draft(rid))["id"] == rid

        # PUT replaces the metadata; field errors raise, but the valid parts were saved
        bad = {**metadata(title="Hi"), "upload_type": "dataset"}
        bad["creators"] = [{"person_or_org": {"type": "personal", "given_name": "Albert"}}]
        with pytest.raises(errors.ValidationError) as e:
            await c.update_draft(rid, {"metadata": bad})
        got = {f["field"]: f["messages"] for f in e.value.errors}
        assert got == {
            "metadata.title": ["Shorter than minimum length 3."],
            "metadata.upload_type": ["Unknown field."],
            "metadata.creators.0.person_or_org.family_name": ["Family name cannot be blank."],
        }
        assert e.value.draft["metadata"]["publication_date"] == "2025-03-14" and "title" not in e.value.draft["metadata"]
        saved = await c.update_draft(rid, {"metadata": metadata()})
        assert saved["metadata"]["creators"][0]["person_or_org"]["name"] == "Einstein, Albert"
        assert saved["errors"] == [{"field": "files.enabled", "messages": ["Missing uploaded files."]}]
        with pytest.raises(errors.ValidationError):
            await c.update_draft(rid, {"metadata": metadata()}, ignore_missing_files=False)

        # refusals of the whole save: an unknown vocabulary id, a restricted record, files off
        with pytest.raises(errors.BadRequest, match="Invalid value dataset-tabular"):
            await c.update_draft(rid, {"metadata": metadata(resource_type={"id": "dataset-tabular"})})
        with pytest.raises(errors.ValidationError) as e:
            await c.update_draft(rid, {"metadata": metadata(), "access": {"record": "restricted", "files": "public"}})
        assert e.value.errors[0]["field"] == "access"
        with pytest.raises(errors.ValidationError) as e:
            await c.update_draft(rid, {"metadata": metadata(), "files": {"enabled": False}})
        assert e.value.errors[0]["messages"] == ["You don't have permissions to manage files options."]
        assert (await c.get_draft(rid))["metadata"]["title"] == "Mesh snapshot"

        # DOI: reserved once, 10.5281/zenodo.<id>; asking again gives the same
        doi = await c.reserve_doi(rid)
        assert doi == f"10.5281/zenodo.{rid}" and await c.reserve_doi(rid) == doi
        assert (await c.get_draft(rid))["pids"]["doi"] == {"identifier": doi, "provider": "datacite", "client": "datacite"}
        assert raw(mz_standin, "DELETE", f"/api/records/{rid}/draft/pids/doi").json()["pids"] == {}

        await c.delete_draft(rid)
        with pytest.raises(errors.NotFound):
            await c.get_draft(rid)
        with pytest.raises(errors.NotFound):
            await c.delete_draft(rid)


def test_zenodo_shape_without_the_rdm_accept(mz_standin):
    created = raw(mz_standin, "POST", "/api/records", rdm=False, json={"metadata": {"title": "x"}})
    assert created.status_code == 201
    body = created.json()
    assert body["state"] == "unsubmitted" and body["submitted"] is False and body["status"] == "draft"
    assert "errors" not in body and isinstance(body["id"], int)  # zenodo.org's serializer drops them
    assert raw(mz_standin, "POST", "/api/records", data="{}", headers={"Content-Type": "text/plain"}).status_code == 415
    assert raw(mz_standin, "POST", "/api/records", data="{", headers={"Content-Type": "application/json"}).json() == {
        "status": 400, "message": "Unable to decode JSON data in request body."}


async def test_permissions_and_sandbox_dois(mz_standin):
    async with client(mz_standin) as c, client(mz_standin, OTHER_TOKEN) as other, \
            client(mz_standin, READONLY_TOKEN) as readonly, client(mz_standin, None) as anonymous:
        draft = await c.create_draft({"metadata": metadata()})
        with pytest.raises(errors.Forbidden):
            await other.get_draft(draft["id"])
        with pytest.raises(errors.Forbidden):
            await readonly.create_draft({})
        with pytest.raises(errors.Forbidden):
            await anonymous.create_draft({})
        with pytest.raises(errors.Forbidden):
            await other.new_version(DIMUON)
        mz_standin.config(sandbox=True)
        assert await c.reserve_doi(draft["id"]) == f"10.5072/zenodo.{draft['id']}"


# ---------------------------------------------------------------------------------------
# files and publication
# ---------------------------------------------------------------------------------------


async def test_upload_commit_publish(mz_standin):
    big = blob("big", 3 * (1 << 20) + 12345)
    async with client(mz_standin) as c:
        draft = await c.create_draft({"metadata": metadata("Upload flow"), "files": {"enabled": True}})
        rid = draft["id"]
        doi = await c.reserve_doi(rid)
        with pytest.raises(errors.ValidationError) as e:  # files enabled, none uploaded
            await c.publish_draft(rid)
        assert e.value.errors == [{"field": "files.enabled", "messages": [
            "Missing uploaded files. To disable files for this record please mark it as metadata-only."]}]

        entry = await c.upload_draft_file(rid, "data #1 é.bin", chunked(big), len(big), md5=hashlib.md5(big).hexdigest())
        assert entry["status"] == "completed" and entry["size"] == len(big)
        assert entry["checksum"] == f"md5:{hashlib.md5(big).hexdigest()}"
        await c.upload_draft_file(rid, "README.md", b"# hello\n", 8)
        with pytest.raises(errors.ChecksumMismatch):  # the source was not what the caller thought
            await c.upload_draft_file(rid, "notes.txt", b"notes", 5, md5="0" * 32)
        await c.delete_draft_file(rid, "notes.txt")
        with pytest.raises(errors.BadRequest):
            await c.upload_draft_file(rid, "a/b.txt", b"x", 1)
        assert raw(mz_standin, "POST", f"/api/records/{rid}/draft/files", json=[{"key": "a/b"}]).status_code == 400

        # a registered file whose bytes never came blocks the publication
        [pending] = [e for e in await c.start_draft_files(rid, ["later.txt"]) if e["key"] == "later.txt"]
        assert pending["status"] == "pending" and "checksum" not in pending
        content = raw(mz_standin, "PUT", f"/api/records/{rid}/draft/files/later.txt/content", data=b"abc",
                      headers={"Content-Type": "application/octet-stream"})
        assert content.status_code == 200 and content.json()["status"] == "pending"
        with pytest.raises(errors.ValidationError) as e:
            await c.publish_draft(rid)
        assert e.value.errors == [{"field": "files", "messages": [
            "One or more files have not completed their transfer, please wait."]}]
        await c.delete_draft_file(rid, "later.txt")
        assert sorted(f["key"] for f in await c.list_draft_files(rid)) == ["README.md", "data #1 é.bin"]

        record = await c.publish_draft(rid)
        assert record["status"] == "published" and record["is_published"] is True
        assert record["pids"]["doi"]["identifier"] == doi
        parent = record["parent"]["id"]
        assert record["parent"]["pids"]["doi"]["identifier"] == f"10.5281/zenodo.{parent}"
        assert record["links"]["latest"].endswith(f"/api/records/{rid}/versions/latest")
        with pytest.raises(errors.NotFound):
            await c.get_draft(rid)

        # the published record is read and found by the existing routes (legacy shape)
        legacy = await c.get_record(rid)
        assert legacy["doi"] == doi and legacy["conceptdoi"] == f"10.5281/zenodo.{parent}"
        assert legacy["metadata"]["resource_type"] == {"type": "dataset", "title": "Dataset"}
        assert legacy["metadata"]["license"] == {"id": "cc-by-4.0"}
        assert legacy["metadata"]["creators"][0] == {"name": "Einstein, Albert", "affiliation": "ETH"}
        assert legacy["links"]["latest"].endswith(f"/api/records/{rid}/versions/latest")
        assert {f["key"]: f["checksum"] for f in legacy["files"]}["data #1 é.bin"] == entry["checksum"]
        found = await c.search_records('title:"Upload flow"')
        assert [h["id"] for h in found["hits"]["hits"]] == [int(rid)]
        got = bytearray()
        async with c.open_file(c.file_content_url(rid, "data #1 é.bin")) as f:
            async for chunk in f.chunks():
                got += chunk
        assert bytes(got) == big
        assert (await c.latest_version(rid))["id"] == rid


async def test_validation_errors_on_publish_are_parsed_into_fields(mz_standin):
    async with client(mz_standin) as c:
        draft = await c.create_draft({"metadata": {"title": "ok title", "resource_type": {"id": "image"}}})
        await c.upload_draft_file(draft["id"], "fig.png", b"png", 3)
        with pytest.raises(errors.ValidationError) as e:
            await c.publish_draft(draft["id"])
        assert e.value.status == 400 and e.value.http_status == 400
        assert "A validation error occurred." in e.value.message
        assert {f["field"]: f["messages"] for f in e.value.errors} == {
            "metadata.creators": ["Missing data for required field."],
            "metadata.publication_date": ["Missing data for required field."],
        }
        embargoed = metadata(resource_type={"id": "publication-article"})
        access = {"record": "public", "files": "restricted", "embargo": {"active": True, "until": "2001-01-01"}}
        with pytest.raises(errors.ValidationError) as e:  # the save reports it and keeps the access it had
            await c.update_draft(draft["id"], {"metadata": embargoed, "access": access})
        assert e.value.errors == [{"field": "access.embargo.until", "messages": ["Embargo end date must be set to a future date."]}]
        assert e.value.draft["access"]["status"] == "open"
        access["embargo"]["until"] = "2999-01-01"
        await c.update_draft(draft["id"], {"metadata": embargoed, "access": access})
        record = await c.publish_draft(draft["id"])
        assert record["access"]["status"] == "embargoed"
        assert (await c.get_record(draft["id"]))["metadata"]["access_right"] == "embargoed"


async def test_file_limits(mz_standin):
    async with client(mz_standin) as c:
        rid = (await c.create_draft({"metadata": metadata()}))["id"]
        keys = [f"f{i:03}.txt" for i in range(100)]
        assert len(await c.start_draft_files(rid, keys)) == 100
        with pytest.raises(errors.BadRequest, match="exceeding the max amount per record"):
            await c.start_draft_files(rid, ["one-more.txt"])
        with pytest.raises(errors.BadRequest, match="exceeding the max amount per record"):
            await c.upload_draft_file(rid, "one-more.txt", b"x", 1)

        # per file and per record, with smaller limits for the test
        mz_standin.config(limits={"max_file_size": 1000, "quota_size": 1500})
        rid = (await c.create_draft({"metadata": metadata()}))["id"]
        await c.start_draft_files(rid, ["registered.txt"])
        with pytest.raises(errors.BadRequest, match="File with key registered.txt already exists."):
            await c.start_draft_files(rid, ["registered.txt"])
        with pytest.raises(errors.BadRequest, match="Maximum file size exceeded."):
            await c.upload_draft_file(rid, "big.bin", blob("b", 1200), 1200)
        await c.upload_draft_file(rid, "a.bin", blob("a", 800), 800)
        with pytest.raises(errors.BadRequest, match="Bucket quota exceeded."):
            await c.upload_draft_file(rid, "c.bin", blob("c", 800), 800)

    # no Content-Length (chunked): refused, nothing stored
    raw(mz_standin, "POST", f"/api/records/{rid}/draft/files", json=[{"key": "chunked.bin"}])
    refused = raw(mz_standin, "PUT", f"/api/records/{rid}/draft/files/chunked.bin/content",
                  data=iter([b"abc", b"def"]), headers={"Content-Type": "application/octet-stream"})
    assert refused.status_code == 411
    assert raw(mz_standin, "GET", f"/api/records/{rid}/draft/files/chunked.bin").json()["status"] == "pending"


# ---------------------------------------------------------------------------------------
# versions
# ---------------------------------------------------------------------------------------


async def test_new_version_import_replace_delete_add_publish(mz_standin):
    async with client(mz_standin) as c:
        v1 = await published_record(c, {"a.txt": b"A1", "b.txt": b"B1", "c.txt": b"C1"}, title="Versioned", version="1.0")
        concept = v1["parent"]["id"]
        draft = await c.new_version(v1["id"])
        assert draft["id"] != v1["id"] and draft["parent"]["id"] == concept and draft["status"] == "new_version_draft"
        assert draft["files"]["enabled"] is True and draft["files"]["count"] == 0 and draft["pids"] == {}
        assert "version" not in draft["metadata"] and draft["metadata"]["title"] == "Versioned"
        assert draft["metadata"]["publication_date"] == datetime.now(timezone.utc).date().isoformat()
        assert (await c.new_version(v1["id"]))["id"] == draft["id"]  # one open draft per concept
        assert draft["versions"]["index"] == 2

        imported = await c.import_files(draft["id"])
        assert sorted((e["key"], e["status"]) for e in imported) == [
            ("a.txt", "completed"), ("b.txt", "completed"), ("c.txt", "completed")]
        with pytest.raises(errors.ValidationError) as e:
            await c.import_files(draft["id"])
        assert e.value.errors == [{"field": "files.enabled", "messages": ["Please remove all files first."]}]

        await c.delete_draft_file(draft["id"], "a.txt")  # replace
        await c.upload_draft_file(draft["id"], "a.txt", b"A2", 2)
        await c.delete_draft_file(draft["id"], "b.txt")  # delete
        await c.upload_draft_file(draft["id"], "d.txt", b"D2", 2)  # add
        await c.update_draft(draft["id"], {"metadata": {**draft["metadata"], "version": "2.0"}})
        v2 = await c.publish_draft(draft["id"])
        assert v2["parent"]["pids"]["doi"] == v1["parent"]["pids"]["doi"] and v2["versions"]["index"] == 2
        assert v2["pids"]["doi"]["identifier"] == f"10.5281/zenodo.{v2['id']}"

        old = await c.get_record(v1["id"])
        assert {f["key"]: f["checksum"] for f in old["files"]} == {
            k: f"md5:{hashlib.md5(v).hexdigest()}" for k, v in {"a.txt": b"A1", "b.txt": b"B1", "c.txt": b"C1"}.items()}
        assert old["metadata"]["version"] == "1.0"
        new = await c.get_record(v2["id"])
        assert {f["key"]: f["checksum"] for f in new["files"]} == {
            k: f"md5:{hashlib.md5(v).hexdigest()}" for k, v in {"a.txt": b"A2", "c.txt": b"C1", "d.txt": b"D2"}.items()}
        assert (await c.latest_version(v1["id"]))["id"] == v2["id"]
        assert (await c.latest_version(concept))["id"] == v2["id"]
        redirect = raw(mz_standin, "GET", f"/api/records/{v1['id']}/versions/latest", allow_redirects=False)
        assert redirect.status_code == 301 and redirect.headers["Location"].endswith(f"/api/records/{v2['id']}")
        versions = raw(mz_standin, "GET", f"/api/records/{v1['id']}/versions").json()["hits"]
        assert [h["id"] for h in versions["hits"]] == [v2["id"], v1["id"]] and versions["total"] == 2
        found = await c.search_records("title:Versioned")
        assert [h["id"] for h in found["hits"]["hits"]] == [int(v2["id"])]  # the latest version only

        # a new version of a record published elsewhere (seeded, legacy metadata)
        seeded = await c.new_version(DIMUON)
        assert seeded["metadata"]["resource_type"] == {"id": "dataset"} and seeded["metadata"]["creators"]
        assert [e["key"] for e in await c.import_files(seeded["id"])]
        await c.delete_draft(seeded["id"])
        with pytest.raises(errors.NotFound):  # a draft is not a record: it has no versions
            await c.new_version(seeded["id"])


async def test_legacy_newversion_quirk(mz_standin):
    headers = {"Authorization": f"Bearer {FULL_TOKEN}"}
    async with client(mz_standin) as c:
        dep = await c.create_deposition({
            "title": "Legacy", "upload_type": "dataset", "description": "d",
            "creators": [{"name": "Einstein, Albert"}],
        })
        await c.upload_file(dep["links"]["bucket"], "x.txt", b"x", 1)
        await c.publish(dep["id"])
        nv = await c.new_deposition_version(dep["id"])
        assert [f["filename"] for f in nv["files"]] == ["x.txt"]
        # asked again while that draft holds files: today's zenodo.org refuses
        with pytest.raises(errors.ValidationError) as e:
            await c.new_deposition_version(dep["id"])
        assert str(e.value).endswith("(files.enabled: Please remove all files first.)")
        # emptied, the draft gets the files again
        await c.delete_file(nv["links"]["bucket"], "x.txt")
        again = await c.new_deposition_version(dep["id"])
        assert again["id"] == nv["id"] and [f["filename"] for f in again["files"]] == ["x.txt"]
        # configured like the old server: the repeat answers the open draft
        mz_standin.config(legacy_newversion_quirk=False)
        assert (await c.new_deposition_version(dep["id"]))["id"] == nv["id"]
        mz_standin.config(legacy_newversion_quirk=True)
        await c.delete_deposition(nv["id"])

        # a new version open in the records API blocks the legacy one too
        draft = await c.new_version(dep["id"])
        await c.import_files(draft["id"])
        refused = requests.post(f"{mz_standin.url}/api/deposit/depositions/{dep['id']}/actions/newversion",
                                headers=headers, timeout=10)
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "files.enabled"


# ---------------------------------------------------------------------------------------
# rate limits and failures
# ---------------------------------------------------------------------------------------


async def test_a_429_half_way_waits_and_goes_on(mz_standin):
    async with client(mz_standin) as c:
        rid = (await c.create_draft({"metadata": metadata()}))["id"]
        mz_standin.arm(path_regex=r"/draft/files/[^/]+/content$", method="PUT", skip=2, status=429, retry_after=1)
        started = time.monotonic()
        for i in range(5):
            await c.upload_draft_file(rid, f"part{i}.bin", blob(str(i), 1000), 1000)
        assert time.monotonic() - started >= 1.0
        statuses = [r["status"] for r in mz_standin.requests(r"/content$")]
        assert statuses == [200, 200, 429, 200, 200, 200]
        assert [e["status"] for e in await c.list_draft_files(rid)] == ["completed"] * 5
        record = await c.publish_draft(rid)
        assert record["files"]["count"] == 5


def test_rate_limits_per_minute_and_per_hour(mz_standin):
    mz_standin.config(rate_limit={"authenticated": 3})
    answers = [raw(mz_standin, "GET", "/api/user/records") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.headers["X-RateLimit-Limit"] == "3" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(limited.headers["Retry-After"]) <= 61 and int(limited.headers["X-RateLimit-Reset"]) > time.time()
    mz_standin.config(rate_limit={"authenticated": 100000}, rate_limit_hour={"authenticated": 2})
    answers = [raw(mz_standin, "GET", "/api/user/records") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].headers["X-RateLimit-Limit"] == "2" and int(answers[-1].headers["Retry-After"]) > 61
    mz_standin.reset()  # the hourly limits go back to how the stand-in started
    assert raw(mz_standin, "GET", "/api/user/records").status_code == 200


async def test_a_500_on_publish_never_publishes_twice(mz_standin):
    async with client(mz_standin) as c:
        # the publication happened but its answer was a 500: found, not repeated
        rid = (await c.create_draft({"metadata": metadata()}))["id"]
        await c.upload_draft_file(rid, "a.txt", b"a", 1)
        mz_standin.arm(path_regex=r"/draft/actions/publish$", status=500, after_handler=True)
        record = await c.publish_draft(rid)
        assert record["is_published"] is True and record["id"] == rid
        assert [r["status"] for r in mz_standin.requests(r"/draft/actions/publish$")] == [500]

        # the answer never came (connection dropped after the work): found too
        rid = (await c.create_draft({"metadata": metadata(title="second")}))["id"]
        await c.upload_draft_file(rid, "a.txt", b"a", 1)
        mz_standin.arm(path_regex=r"/draft/actions/publish$", drop=True, after_handler=True)
        assert (await c.publish_draft(rid))["is_published"] is True

        # a 500 before anything happened: the draft is still open, so it is published again
        rid = (await c.create_draft({"metadata": metadata(title="third")}))["id"]
        await c.upload_draft_file(rid, "a.txt", b"a", 1)
        mz_standin.arm(path_regex=rf"/{rid}/draft/actions/publish$", status=500)
        assert (await c.publish_draft(rid))["is_published"] is True
        assert [r["status"] for r in mz_standin.requests(rf"/{rid}/draft/actions/publish$")] == [500, 202]

        # a failing create is not repeated (it would make a second draft)
        mz_standin.arm(path_regex=r"^/api/records$", method="POST", status=500, times=None)
        with pytest.raises(errors.ServerError):
            await c.create_draft({"metadata": metadata()})
        assert len([r for r in mz_standin.requests(r"^/api/records$") if r["method"] == "POST"]) == 4


async def test_uploads_are_retried_and_the_probe_is_cached(mz_standin):
    data = blob("retried", 200_000)
    async with client(mz_standin) as c:
        rid = (await c.create_draft({"metadata": metadata()}))["id"]
        mz_standin.arm(path_regex=r"/content$", method="PUT", status=500)
        mz_standin.arm(path_regex=r"/commit$", drop=True)
        entry = await c.upload_draft_file(rid, "r.bin", chunked(data, 65536), len(data))
        assert entry["checksum"] == f"md5:{hashlib.md5(data).hexdigest()}"
        assert [r["status"] for r in mz_standin.requests(r"/r\.bin/(content|commit)$")] == [500, 200, "dropped", 200]
    async with client(mz_standin) as c:
        mz_standin.arm(path_regex=r"^/api/user/records$", status=404)
        assert await c.has_records_api() is False and await c.has_records_api() is False
    assert len(mz_standin.requests(r"^/api/user/records$")) == 1


async def test_the_token_is_in_no_url_the_standin_saw(mz_standin):
    async with client(mz_standin) as c:
        await published_record(c, {"k.txt": b"k"})
        with pytest.raises(errors.ZenodoError) as e:
            await c.get_draft(999999999)
        assert FULL_TOKEN not in str(e.value) and FULL_TOKEN not in repr(c)
    seen = mz_standin.requests()
    assert seen and all(r["auth"] == "bearer" for r in seen)
    for r in seen:
        assert FULL_TOKEN not in r["path"] + r["raw_path"] + r["query"]
