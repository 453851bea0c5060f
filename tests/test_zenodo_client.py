"""ZenodoClient against the Zenodo stand-in, a real HTTP server in a subprocess on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket

import pytest
import requests

from mesh_zenodo.zenodo import errors
from mesh_zenodo.zenodo.client import (
    SANDBOX_URL,
    ZENODO_URL,
    ZenodoClient,
    _wait_from_headers,
    checksum_md5,
    md5_from_headers,
    normalize_base_url,
)
from mesh_zenodo.pytest_plugin import FULL_TOKEN, OTHER_TOKEN, READONLY_TOKEN

# record ids of the stand-in's seed data (fixed)
EOSSR_V1, EOSSR_V2, EOSSR_V3 = 7000002, 7000003, 7000004
DIMUON = 7000006  # each record has its concept id just before its own
SURVEY = 7000008
SLIDES = 7000010
OCEAN = 7000012
POSTER = 7000014
MANY = 7000016



@pytest.fixture(autouse=True)
def fresh(mz_standin):
    mz_standin.reset()
    yield


def client(mz_standin, token=None, **kw) -> ZenodoClient:
    kw.setdefault("backoff", 0.01)
    return ZenodoClient(base_url=mz_standin.url, token=token, **kw)


# ---------------------------------------------------------------------------------------
# pure helpers
# ---------------------------------------------------------------------------------------


def test_base_url_normalisation_and_refusals():
    assert normalize_base_url("https://zenodo.org/") == ZENODO_URL
    assert normalize_base_url(" https://sandbox.zenodo.org/api/ ") == SANDBOX_URL
    assert normalize_base_url("HTTP://LocalHost:5080/") == "http://localhost:5080"
    assert normalize_base_url("https://data.example.org/rdm/api") == "https://data.example.org/rdm"
    for bad in ("", "zenodo.org", "ftp://zenodo.org", "file:///etc/passwd", "javascript:alert(1)",
                "https://user:pw@zenodo.org", "https://zenodo.org/?access_token=x", "https://", "http://h:99999"):
        with pytest.raises(errors.InvalidBaseURL) as e:
            normalize_base_url(bad)
        assert e.value.http_status == 400


def test_error_bodies_both_forms_are_parsed():
    documented = b'{"message": "Validation error.", "status": 400, "errors": [{"field": "metadata.creators.0.name", "message": "Name is required."}]}'
    real = b'{"errors": [{"field": "metadata.title", "messages": ["Missing data for required field."]}], "message": "A validation error occurred.", "status": 400}'
    err = errors.from_response(400, documented, "updating", "zenodo.org")
    assert isinstance(err, errors.ValidationError)
    assert err.errors == [{"field": "metadata.creators.0.name", "messages": ["Name is required."]}]
    assert "Validation error." in err.message and "metadata.creators.0.name" in err.message
    err = errors.from_response(400, real, "publishing", "zenodo.org")
    assert err.errors == [{"field": "metadata.title", "messages": ["Missing data for required field."]}]
    assert err.to_json()["errors"] == err.errors
    # 500 pages have no JSON body
    err = errors.from_response(500, b"<html><title>500</title></html>", "searching", "zenodo.org")
    assert isinstance(err, errors.ServerError) and err.http_status == 502 and "500" in err.message
    assert isinstance(errors.from_response(401, b"", "x", "h"), errors.InvalidToken)
    assert isinstance(errors.from_response(429, b"", "x", "h"), errors.RateLimited)
    assert isinstance(errors.from_response(503, b"", "x", "h"), errors.ServiceUnavailable)
    assert errors.from_response(404, b'{"message": "PID does not exist.", "status": 404}', "x", "h").http_status == 404


def test_header_helpers():
    assert md5_from_headers({"ETag": '"md5:0123456789abcdef0123456789ABCDEF"'}) == "0123456789abcdef0123456789abcdef"
    assert md5_from_headers({"Content-MD5": "Dj9+uRd3PyscNSPg0h26dA=="}) == "0e3f7eb917773f2b1c3523e0d21dba74"
    assert checksum_md5("md5:ABCDEF0123456789abcdef0123456789") == "abcdef0123456789abcdef0123456789"
    assert checksum_md5("sha256:abc") is None
    assert _wait_from_headers({"Retry-After": "3"}) == 3
    assert _wait_from_headers({"X-RateLimit-Reset": "10"}, now=990.0) == 10  # small: seconds
    assert _wait_from_headers({"X-RateLimit-Reset": "2000000000"}, now=1999999990.0) == 10  # epoch
    assert _wait_from_headers({}) is None


def test_token_goes_only_to_its_own_server():
    c = ZenodoClient(base_url="https://zenodo.org", token="secret-token-123")
    assert c._headers("https://zenodo.org/api/records/1")["Authorization"] == "Bearer secret-token-123"
    assert "Authorization" not in c._headers("https://evil.example.org/api/records/1")
    assert "Authorization" not in c._headers("http://zenodo.org/api/records/1")  # not over plain http
    assert "secret-token-123" not in repr(c)


# ---------------------------------------------------------------------------------------
# search, records, communities
# ---------------------------------------------------------------------------------------


async def titles(c: ZenodoClient, q: str, **kw) -> list[str]:
    result = await c.search_records(q, **kw)
    return [h["metadata"]["title"] for h in result["hits"]["hits"]]


async def test_query_string_subset(mz_standin):
    async with client(mz_standin) as c:
        assert await titles(c, 'title:"dimuon invariant mass"') == ["CMS Open Data: dimuon invariant mass spectrum, Run 2012B"]
        assert await titles(c, "doi:10.5281\\/zenodo.7000008") == ["Sync and share for science: a survey of ScienceMesh deployments"]
        assert await titles(c, 'doi:"10.5281/zenodo.7000008"') == await titles(c, "doi:10.5281\\/zenodo.7000008")
        assert await titles(c, "creators.name:Piparo") == ["Integrating Jupyter with CS3 storage: lessons from SWAN"]
        assert await titles(c, "creators:Rohde") == ["Global ocean temperature anomalies 1950-2020 (monthly, 1 degree)"]
        assert await titles(c, "description:afterglows") == ["Poster: Gamma-ray burst afterglows seen by CTA prototypes"]
        assert set(await titles(c, "communities:escape2020")) == {
            "eossr: the ESCAPE OSSR library v2.0.0", "Poster: Gamma-ray burst afterglows seen by CTA prototypes"}
        assert await titles(c, "resource_type.type:presentation") == ["Integrating Jupyter with CS3 storage: lessons from SWAN"]
        both = await titles(c, "title:ocean OR title:dimuon")
        assert len(both) == 2
        assert await titles(c, "ocean AND dimuon") == []
        assert await titles(c, "CS3 -SWAN") == ["Sync and share for science: a survey of ScienceMesh deployments"]
        assert await titles(c, "title:(poster OR eossr) AND communities:escape2020", sort="mostrecent") == [
            "eossr: the ESCAPE OSSR library v2.0.0", "Poster: Gamma-ray burst afterglows seen by CTA prototypes"]
        with pytest.raises(errors.BadRequest) as e:
            await c.search_records('title:"unbalanced')
        assert e.value.http_status == 400 and "Invalid query string syntax" in e.value.message


async def test_versions_sorting_and_type_filter(mz_standin):
    async with client(mz_standin) as c:
        latest = await c.search_records("eossr")
        assert [h["id"] for h in latest["hits"]["hits"]] == [EOSSR_V3]  # only the latest version by default
        every = await c.search_records("eossr", all_versions=True, sort="mostrecent")
        assert [h["id"] for h in every["hits"]["hits"]] == [EOSSR_V3, EOSSR_V2, EOSSR_V1]
        oldest = await c.search_records("eossr", all_versions=True, sort="-mostrecent")
        assert [h["id"] for h in oldest["hits"]["hits"]] == [EOSSR_V1, EOSSR_V2, EOSSR_V3]
        datasets = await c.search_records("", type="dataset")
        assert {h["metadata"]["resource_type"]["type"] for h in datasets["hits"]["hits"]} == {"dataset"}
        assert datasets["hits"]["total"] >= 3
        buckets = {b["key"]: b["doc_count"] for b in datasets["aggregations"]["resource_type"]["buckets"]}
        assert buckets["dataset"] == datasets["hits"]["total"] and buckets["software"] == 1


async def test_paging_follows_links_next(mz_standin):
    async with client(mz_standin) as c:
        first = await c.search_records("", size=3, page=1)
        total = first["hits"]["total"]
        assert total >= 7 and len(first["hits"]["hits"]) == 3 and "next" in first["links"]
        seen = [h["id"] for h in first["hits"]["hits"]]
        page = 2
        while True:
            result = await c.search_records("", size=3, page=page)
            seen += [h["id"] for h in result["hits"]["hits"]]
            if "next" not in result["links"]:
                break
            page += 1
        assert len(seen) == total == len(set(seen))


async def test_page_size_caps_anonymous_25_authenticated_100(mz_standin):
    # the server refuses larger pages ...
    assert mz_standin.get("/api/records?size=26").status_code == 400
    assert mz_standin.get("/api/records?size=26", token=FULL_TOKEN).status_code == 200
    assert mz_standin.get("/api/records?size=101", token=FULL_TOKEN).status_code == 400
    # ... so the client asks for at most what the caller may have
    async with client(mz_standin) as anonymous, client(mz_standin, FULL_TOKEN) as signed_in:
        await anonymous.search_records("", size=100)
        await anonymous.search_communities("", size=100)
        await signed_in.search_records("", size=500)
    sizes = [r["query"] for r in mz_standin.requests(r"^/api/(records|communities)$")][-3:]
    assert ["size=25" in q for q in sizes] == [True, True, False]
    assert "size=100" in sizes[2]


async def test_record_files_and_content_checksums(mz_standin):
    async with client(mz_standin) as c:
        record = await c.get_record(DIMUON)
        assert record["doi"] == f"10.5281/zenodo.{DIMUON}"
        entries = await c.list_record_files(DIMUON)
        assert [e["key"] for e in entries] == ["dimuon.csv", "README.md", "selection.py"]
        for entry in entries:
            async with c.open_file(entry["links"]["content"]) as stream:
                assert stream.status == 200 and stream.size == entry["size"]
                digest = hashlib.md5()
                async for chunk in stream.chunks():
                    digest.update(chunk)
            assert f"md5:{digest.hexdigest()}" == entry["checksum"] == f"md5:{stream.md5}"
        with pytest.raises(errors.NotFound) as e:
            await c.get_record(1)
        assert e.value.http_status == 404 and "PID does not exist" in e.value.message
        with pytest.raises(errors.BadRequest):
            await c.get_record("../deposit/depositions")


async def test_range_requests_and_servers_that_ignore_them(mz_standin):
    async with client(mz_standin) as c:
        url = c.file_content_url(OCEAN, "sst_anomalies.nc")
        async with c.open_file(url) as whole:
            data = b"".join([chunk async for chunk in whole.chunks()])
        async with c.open_file(url, offset=1000, if_range=whole.etag) as part:
            assert (part.status, part.offset, part.size) == (206, 1000, len(data))
            assert b"".join([chunk async for chunk in part.chunks()]) == data[1000:]
        mz_standin.arm(path_regex="sst_anomalies", ignore_range=True)
        async with c.open_file(url, offset=1000) as ignored:
            assert (ignored.status, ignored.offset) == (200, 0)
        async with c.open_file(url, offset=1000, if_range='"md5:changed"') as changed:
            assert changed.status == 200  # If-Range no longer matches: the whole (new) file


async def test_communities_search_and_records(mz_standin):
    async with client(mz_standin) as c:
        found = await c.search_communities("escape")
        assert [h["slug"] for h in found["hits"]["hits"]] == ["escape2020"]
        assert found["hits"]["hits"][0]["metadata"]["title"] == "ESCAPE 2020"
        every = await c.search_communities("", size=2)
        assert every["hits"]["total"] == 5 and len(every["hits"]["hits"]) == 2 and "next" in every["links"]
        community = await c.get_community("cern")
        assert community["slug"] == "cern"
        inside = await c.community_records("cern")
        assert {h["id"] for h in inside["hits"]["hits"]} == {DIMUON, SLIDES}
        with pytest.raises(errors.NotFound):
            await c.get_community("no-such-community")


# ---------------------------------------------------------------------------------------
# retries, rate limits, failures
# ---------------------------------------------------------------------------------------


async def test_retries_idempotent_requests_on_500_and_dropped_connections(mz_standin):
    mz_standin.arm(path_regex=r"^/api/records$", status=500, times=2)
    mz_standin.arm(path_regex=r"^/api/records$", drop=True, times=1)
    async with client(mz_standin) as c:
        result = await c.search_records("ocean")
    assert result["hits"]["total"] == 1
    statuses = [r["status"] for r in mz_standin.requests(r"^/api/records$")]
    assert statuses == [500, 500, "dropped", 200]


async def test_gives_up_after_bounded_retries(mz_standin):
    mz_standin.arm(path_regex=r"^/api/records$", status=500, times=None)
    async with client(mz_standin, retries=2) as c:
        with pytest.raises(errors.ServerError) as e:
            await c.search_records("ocean")
    assert e.value.http_status == 502 and "answered 500" in e.value.message
    assert len(mz_standin.requests(r"^/api/records$")) == 3


async def test_post_is_not_retried_on_500(mz_standin):
    mz_standin.arm(path_regex=r"^/api/deposit/depositions$", method="POST", status=500, times=1)
    async with client(mz_standin, FULL_TOKEN) as c:
        with pytest.raises(errors.ServerError):
            await c.create_deposition({"title": "once"})
    assert len([r for r in mz_standin.requests(r"^/api/deposit/depositions$") if r["method"] == "POST"]) == 1


async def test_429_waits_for_retry_after_then_retries(mz_standin, caplog):
    caplog.set_level(logging.INFO)
    mz_standin.arm(path_regex=r"^/api/records/\d+$", status=429, retry_after=1, times=1)
    mz_standin.arm(path_regex=r"^/api/records/\d+$", status=429, rate_limit_reset=1, times=1)
    async with client(mz_standin) as c:
        record = await c.get_record(POSTER)  # also for a POST: a 429 means nothing was done
    assert record["id"] == POSTER
    assert [r["status"] for r in mz_standin.requests(r"^/api/records/\d+$")] == [429, 429, 200]
    assert "rate-limited (429)" in caplog.text


async def test_429_after_the_bounded_retries_is_an_error_with_retry_after(mz_standin):
    mz_standin.config(rate_limit={"guest": 2})
    async with client(mz_standin, rate_limit_retries=1, max_rate_limit_wait=0.05) as c:
        await c.get_record(POSTER)
        await c.get_record(POSTER)
        with pytest.raises(errors.RateLimited) as e:
            await c.get_record(POSTER)
    assert e.value.http_status == 429 and e.value.retry_after is not None and e.value.retry_after > 1
    response = mz_standin.get(f"/api/records/{POSTER}")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_rate_limit_headers_on_every_response(mz_standin):
    for path, token in [("/api/records", None), (f"/api/records/{MANY}", None), ("/api/records/1", None),
                        ("/api/deposit/depositions", FULL_TOKEN), ("/api/deposit/depositions", None),
                        (f"/api/records/{MANY}/files/empty.dat/content", None)]:
        response = mz_standin.get(path, token=token)
        for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            assert header in response.headers, (path, response.status_code)


async def test_unreachable_server_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with ZenodoClient(base_url=f"http://127.0.0.1:{port}", token="a-secret-token", retries=1, backoff=0.01) as c:
        with pytest.raises(errors.Unreachable) as e:
            await c.check_token()
    assert e.value.http_status == 502
    assert f"127.0.0.1:{port}" in e.value.message and "a-secret-token" not in e.value.message


async def test_slow_answers_time_out(mz_standin):
    mz_standin.arm(path_regex=r"^/api/records$", delay=2, times=1)
    async with client(mz_standin, read_timeout=0.3, retries=0) as c:
        with pytest.raises(errors.Timeout) as e:
            await c.search_records("x")
    assert e.value.http_status == 504


async def test_a_download_cut_midway_raises_transfer_interrupted(mz_standin):
    mz_standin.arm(path_regex="sst_anomalies", drop_after_bytes=300_000)
    async with client(mz_standin) as c:
        async with c.open_file(c.file_content_url(OCEAN, "sst_anomalies.nc")) as stream:
            received = 0
            with pytest.raises(errors.TransferInterrupted):
                async for chunk in stream.chunks():
                    received += len(chunk)
    assert received <= 300_000


# ---------------------------------------------------------------------------------------
# tokens
# ---------------------------------------------------------------------------------------


async def test_check_token_good_readonly_bad_and_none(mz_standin):
    async with client(mz_standin, FULL_TOKEN) as c:
        account = await c.check_token()
    assert account.deposit and account.base_url == mz_standin.url
    async with client(mz_standin, READONLY_TOKEN) as c:
        with pytest.raises(errors.MissingScope) as e:
            await c.check_token()
    assert e.value.http_status == 403 and "deposit:write" in e.value.message
    async with client(mz_standin, "not-a-known-token") as c:
        with pytest.raises(errors.InvalidToken) as e:
            await c.check_token()
    assert e.value.http_status == 401 and "not-a-known-token" not in str(e.value)
    async with client(mz_standin) as c:
        with pytest.raises(errors.InvalidToken):
            await c.check_token()
    # as the real server: anonymous and bad tokens get 403 on the deposit API (the docs say 401)
    assert mz_standin.get("/api/deposit/depositions?size=1").status_code == 403
    assert mz_standin.get("/api/deposit/depositions?size=1", token="nope").status_code == 403
    assert mz_standin.get("/api/deposit/depositions?size=1", token=READONLY_TOKEN).status_code == 403


async def test_account_is_identified_when_the_server_tells(mz_standin):
    async with client(mz_standin, OTHER_TOKEN) as c:
        draft = await c.create_deposition({"title": "mine"})
        account = await c.check_token()
        await c.delete_deposition(draft["id"])
    assert account.user_id == str(draft["owner"])


async def test_token_travels_only_in_the_authorization_header(mz_standin):
    async with client(mz_standin, FULL_TOKEN) as c:
        await c.check_token()
        await c.search_records("ocean")
        await c.get_record(OCEAN)
        draft = await c.create_deposition()
        await c.delete_deposition(draft["id"])
    seen = mz_standin.requests()
    assert seen and all(r["auth"] == "bearer" for r in seen)
    assert not any(FULL_TOKEN in (r["path"] + r["raw_path"] + r["query"]) for r in seen)


async def test_error_messages_never_echo_the_token(mz_standin):
    mz_standin.arm(path_regex=r"^/api/records$", status=400, body={"message": f"bad request from {FULL_TOKEN}", "status": 400})
    async with client(mz_standin, FULL_TOKEN) as c:
        with pytest.raises(errors.BadRequest) as e:
            await c.search_records("x")
    assert FULL_TOKEN not in str(e.value) and "***" in str(e.value)
    assert FULL_TOKEN not in repr(e.value.args)


# ---------------------------------------------------------------------------------------
# deposit and bucket API (for the publishing issue)
# ---------------------------------------------------------------------------------------


async def test_deposition_lifecycle_with_the_real_status_codes(mz_standin):
    async with client(mz_standin, FULL_TOKEN) as c:
        draft = await c.create_deposition({"title": "Pulled and pushed"})
        did = draft["id"]
        assert draft["state"] == "unsubmitted" and draft["submitted"] is False
        assert draft["metadata"]["prereserve_doi"]["doi"] == f"10.5281/zenodo.{did}"
        bucket = draft["links"]["bucket"]

        data = b"x" * 3_000_000

        async def chunks():
            for i in range(0, len(data), 1 << 20):
                yield data[i : i + (1 << 20)]

        uploaded = await c.upload_file(bucket, "data file #1.bin", lambda: chunks(), len(data))
        assert uploaded["checksum"] == f"md5:{hashlib.md5(data).hexdigest()}" and uploaded["size"] == len(data)
        await c.upload_file(bucket, "README.md", b"# hello\n", 8)
        listing = await c.list_bucket(bucket)
        assert sorted(f["key"] for f in listing["contents"]) == ["README.md", "data file #1.bin"]

        # validation errors, both forms, both become {field, messages}
        with pytest.raises(errors.ValidationError) as e:
            await c.update_deposition(did, {"title": "t", "communities": ["escape2020"]})
        assert e.value.errors[0]["field"] == "metadata.communities" and e.value.errors[0]["messages"]
        with pytest.raises(errors.ValidationError) as e:
            await c.publish(did)
        assert {f["field"] for f in e.value.errors} >= {"metadata.upload_type", "metadata.creators"}
        assert all(isinstance(f["messages"], list) and f["messages"] for f in e.value.errors)

        metadata = {
            "title": "Pulled and pushed", "upload_type": "dataset", "description": "<p>test</p>",
            "creators": [{"name": "Einstein, Albert", "affiliation": "ETH"}], "communities": [{"identifier": "sciencemesh"}],
            "version": "1",
        }
        await c.update_deposition(did, metadata)
        published = await c.publish(did)
        assert published["state"] == "done" and published["submitted"] is True
        assert published["doi"] == f"10.5281/zenodo.{did}" and published["links"]["record_html"].endswith(f"/records/{did}")
        record = await c.get_record(did)
        assert record["metadata"]["license"]["id"] == "cc0-1.0"  # the dataset default
        found = await c.search_records("title:pushed")
        assert [h["id"] for h in found["hits"]["hits"]] == [did]

        # published: no more changes (404 as the real server, the docs say 403)
        with pytest.raises(errors.NotFound):
            await c.update_deposition(did, metadata)
        with pytest.raises(errors.NotFound):
            await c.delete_deposition(did)
        with pytest.raises(errors.Forbidden):
            await c.upload_file(bucket, "late.txt", b"late", 4)

        # new version: the answer is the new draft, with the files imported; asked again while
        # that draft has files, today's zenodo.org refuses (its files import needs an empty draft)
        new = await c.new_deposition_version(did)
        assert new["id"] != did and new["state"] == "unsubmitted" and new["conceptrecid"] == published["conceptrecid"]
        assert sorted(f["filename"] for f in new["files"]) == ["README.md", "data file #1.bin"]
        with pytest.raises(errors.ValidationError) as e:
            await c.new_deposition_version(did)
        assert e.value.errors == [{"field": "files.enabled", "messages": ["Please remove all files first."]}]
        await c.delete_file(new["links"]["bucket"], "README.md")
        await c.delete_deposition(new["id"])  # 204
        with pytest.raises(errors.NotFound):
            await c.delete_deposition(new["id"])  # again: 404 (the docs say 410)

        # edit / discard of the published one
        await c.edit(did)
        await c.update_deposition(did, {**metadata, "title": "Edited"})
        await c.discard(did)
        assert (await c.get_deposition(did))["metadata"]["title"] == "Pulled and pushed"
        with pytest.raises(errors.BadRequest):
            await c.discard(did)


async def test_depositions_need_scopes_and_ownership(mz_standin):
    async with client(mz_standin, FULL_TOKEN) as owner, client(mz_standin, OTHER_TOKEN) as other, client(
        mz_standin, READONLY_TOKEN
    ) as readonly:
        draft = await owner.create_deposition()
        with pytest.raises(errors.Forbidden):
            await other.get_deposition(draft["id"])
        with pytest.raises(errors.Forbidden):
            await readonly.create_deposition()
        await owner.delete_deposition(draft["id"])


def test_bucket_upload_without_content_length_is_refused(mz_standin):
    draft = requests.post(f"{mz_standin.url}/api/deposit/depositions", json={},
                          headers={"Authorization": f"Bearer {FULL_TOKEN}"}, timeout=10).json()
    bucket = draft["links"]["bucket"]

    def body():
        yield b"chunked"

    response = requests.put(f"{bucket}/x.txt", data=body(), headers={"Authorization": f"Bearer {FULL_TOKEN}"}, timeout=10)
    assert response.status_code == 411
    listing = requests.get(bucket, headers={"Authorization": f"Bearer {FULL_TOKEN}"}, timeout=10).json()
    assert listing["contents"] == []  # never 0 bytes stored
    response = requests.post(f"{mz_standin.url}/api/deposit/depositions", data="{}",
                             headers={"Authorization": f"Bearer {FULL_TOKEN}", "Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 415


async def test_upload_checksum_mismatch_is_detected(mz_standin, monkeypatch):
    async with client(mz_standin, FULL_TOKEN) as c:
        draft = await c.create_deposition()
        original = c._json

        async def lying(*args, **kw):
            result = await original(*args, **kw)
            if isinstance(result, dict) and "checksum" in result:
                result["checksum"] = "md5:" + "0" * 32
            return result

        monkeypatch.setattr(c, "_json", lying)
        with pytest.raises(errors.ChecksumMismatch):
            await c.upload_file(draft["links"]["bucket"], "a.txt", b"abc", 3)
        monkeypatch.setattr(c, "_json", original)
        await c.delete_deposition(draft["id"])


async def test_client_is_usable_concurrently(mz_standin):
    async with client(mz_standin) as c:
        results = await asyncio.gather(*(c.get_record(rid) for rid in (DIMUON, SURVEY, SLIDES, OCEAN, POSTER, MANY)))
    assert [r["id"] for r in results] == [DIMUON, SURVEY, SLIDES, OCEAN, POSTER, MANY]
