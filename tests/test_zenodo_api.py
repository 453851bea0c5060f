"""The Zenodo side panel's REST API (``/mesh-zenodo/zenodo/...``) through a real Jupyter
server (jp_fetch), against the Zenodo stand-in running as a subprocess on loopback.

Sign in (good token, bad token, scope-less token, unreachable server, malformed input,
remember me), search of records and communities with paging and community drill-down,
record details, and where the token must never appear (logs, messages, URLs, the
environment, a kernel's environment).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import stat

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from mesh_zenodo.pytest_plugin import FULL_TOKEN, READONLY_TOKEN

DIMUON, OCEAN, SLIDES, EOSSR_V3, MANY = 7000006, 7000012, 7000010, 7000004, 7000016



@pytest.fixture
def jp_server_config(mz_standin):
    # no CS3 storage needed here: Jupyter's own file contents, the Zenodo API on the stand-in
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"mesh_zenodo": True}},
            "ZenodoClient": {"base_url": mz_standin.url, "backoff": 0.01, "retries": 1},
        }
    )




def body(response) -> dict:
    return json.loads(response.body.decode())


async def call(mz_fetch, *path, method="GET", json_body=None, raw_body=None, **kw):
    if json_body is not None:
        kw["body"] = json.dumps(json_body)
    elif raw_body is not None:
        kw["body"] = raw_body
    elif method in ("POST", "PUT"):
        kw["body"] = "{}"
    return body(await mz_fetch("mesh-zenodo", "zenodo", *path, method=method, **kw))


async def expect_error(mz_fetch, *path, status: int, method="GET", json_body=None, raw_body=None, **kw) -> dict:
    with pytest.raises(HTTPClientError) as e:
        await call(mz_fetch, *path, method=method, json_body=json_body, raw_body=raw_body, **kw)
    assert e.value.code == status, (e.value.code, e.value.response.body if e.value.response else None)
    payload = json.loads(e.value.response.body.decode())
    assert isinstance(payload.get("message"), str) and payload["message"], payload
    return payload


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------
# sign in
# ---------------------------------------------------------------------------------------


async def test_signed_out_status(mz_fetch, mz_standin):
    status = await call(mz_fetch, "login")
    assert status["connected"] is False and status["base_url"] == mz_standin.url
    assert status["environments"] == {"zenodo": "https://zenodo.org", "sandbox": "https://sandbox.zenodo.org"}
    assert status["environment"] == "custom" and status["remembered"] is False


async def test_sign_in_with_a_good_token(mz_fetch, mz_standin, jp_data_dir):
    status = await call(mz_fetch, "login", method="POST", json_body={"token": FULL_TOKEN, "base_url": mz_standin.url + "/api/"})
    assert status["connected"] is True and status["verified"] is True and status["deposit"] is True
    assert status["base_url"] == mz_standin.url and status["remembered"] is False
    assert FULL_TOKEN not in json.dumps(status)
    assert (await call(mz_fetch, "login"))["connected"] is True
    assert not (jp_data_dir / "mesh-zenodo" / "zenodo-token.json").exists()  # not asked to remember
    checks = mz_standin.requests(r"^/api/deposit/depositions$")
    assert checks and checks[-1]["auth"] == "bearer" and "size=1" in checks[-1]["query"]
    signed_out = await call(mz_fetch, "login", method="DELETE")
    assert signed_out["connected"] is False


async def test_sign_in_with_a_bad_token_says_why(mz_fetch, mz_standin):
    error = await expect_error(mz_fetch, "login", method="POST", status=401,
                               json_body={"token": "not-a-real-token", "base_url": mz_standin.url})
    assert error["reason"] == "InvalidToken" and "refused the access token" in error["message"]
    assert "not-a-real-token" not in json.dumps(error)
    assert (await call(mz_fetch, "login"))["connected"] is False


async def test_sign_in_with_a_token_missing_the_deposit_scope(mz_fetch, mz_standin):
    error = await expect_error(mz_fetch, "login", method="POST", status=403,
                               json_body={"token": READONLY_TOKEN, "base_url": mz_standin.url})
    assert error["reason"] == "MissingScope" and "deposit:write" in error["message"]
    assert (await call(mz_fetch, "login"))["connected"] is False


async def test_sign_in_to_an_unreachable_server(mz_fetch):
    port = closed_port()
    error = await expect_error(mz_fetch, "login", method="POST", status=502,
                               json_body={"token": FULL_TOKEN, "base_url": f"http://127.0.0.1:{port}"})
    assert error["reason"] == "Unreachable" and f"127.0.0.1:{port}" in error["message"]
    assert FULL_TOKEN not in error["message"]


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


async def test_an_expected_failure_is_one_log_line_at_warning(mz_fetch, mz_zenodo, jp_serverapp):
    seen = Records()
    loggers = {mz_zenodo.log, jp_serverapp.log, logging.getLogger("tornado.access"),
               logging.getLogger("tornado.general"), logging.getLogger("tornado.application")}
    for logger in loggers:
        logger.addHandler(seen)
    try:
        port = closed_port()
        await expect_error(mz_fetch, "login", method="POST", status=502,
                           json_body={"token": FULL_TOKEN, "base_url": f"http://127.0.0.1:{port}"})
        await expect_error(mz_fetch, "records", status=400, params={"page": "x"})
    finally:
        for logger in loggers:
            logger.removeHandler(seen)
    about = [r for r in seen.records if "/mesh-zenodo/zenodo/" in r.getMessage()]
    assert [(r.levelname, r.getMessage().split(" ")[0]) for r in about] == [("WARNING", "502"), ("WARNING", "400")]
    assert f"cannot reach 127.0.0.1:{port}" in about[0].getMessage()
    assert "page must be an integer" in about[1].getMessage()
    assert not any("User-Agent" in r.getMessage() for r in seen.records)  # no header dump
    assert not any(FULL_TOKEN in r.getMessage() for r in seen.records)


async def test_a_failed_sign_in_keeps_the_current_one(mz_fetch, mz_standin):
    await call(mz_fetch, "login", method="POST", json_body={"token": FULL_TOKEN, "base_url": mz_standin.url})
    await expect_error(mz_fetch, "login", method="POST", status=401, json_body={"token": "wrong-token-x", "base_url": mz_standin.url})
    assert (await call(mz_fetch, "login"))["connected"] is True


@pytest.mark.parametrize(
    "raw_body, reason",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("{}", "token is required"),
        ('{"token": 12345678}', "token is required"),
        ('{"token": "has spaces in it"}', "personal access token"),
        ('{"token": "short"}', "personal access token"),
        ('{"token": "standin-full-token", "base_url": "ftp://zenodo.org"}', "https://"),
        ('{"token": "standin-full-token", "base_url": "javascript:alert(1)"}', "https://"),
        ('{"token": "standin-full-token", "base_url": 5}', "base_url must be a string"),
        ('{"token": "standin-full-token", "environment": "production"}', "unknown Zenodo environment"),
        ('{"token": "standin-full-token", "remember": "yes"}', "remember must be"),
    ],
)
async def test_malformed_sign_in_requests_are_400(mz_fetch, raw_body, reason):
    error = await expect_error(mz_fetch, "login", method="POST", status=400, raw_body=raw_body)
    assert reason in error["message"]
    assert "standin-full-token" not in error["message"]


async def test_remember_me_keeps_the_token_in_a_private_file_and_sign_out_deletes_it(mz_fetch, mz_standin, jp_data_dir):
    status = await call(mz_fetch, "login", method="POST", json_body={"token": FULL_TOKEN, "base_url": mz_standin.url, "remember": True})
    assert status["remembered"] is True
    path = jp_data_dir / "mesh-zenodo" / "zenodo-token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"base_url": mz_standin.url, "token": FULL_TOKEN, "saved": json.loads(path.read_text())["saved"]}
    await call(mz_fetch, "login", method="DELETE")
    assert not path.exists()
    # signing in again without "remember me" must not leave an older remembered token around
    await call(mz_fetch, "login", method="POST", json_body={"token": FULL_TOKEN, "base_url": mz_standin.url, "remember": True})
    await call(mz_fetch, "login", method="POST", json_body={"token": FULL_TOKEN, "base_url": mz_standin.url})
    assert not path.exists()


@pytest.fixture
def remembered(jp_data_dir, mz_standin, request):
    """A token file written before the server starts (as after "remember me" and a restart)."""
    token = getattr(request, "param", FULL_TOKEN)
    folder = jp_data_dir / "mesh-zenodo"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "zenodo-token.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"base_url": mz_standin.url, "token": token, "saved": 0}, f)
    return path


async def test_a_remembered_token_is_read_at_start_up(remembered, mz_fetch, mz_standin):
    status = await call(mz_fetch, "login")
    assert status["connected"] is True and status["verified"] is True and status["remembered"] is True
    assert status["base_url"] == mz_standin.url


@pytest.mark.parametrize("remembered", ["revoked-token-abc"], indirect=True)
async def test_a_remembered_token_that_was_revoked_is_forgotten(remembered, mz_fetch):
    status = await call(mz_fetch, "login")
    assert status["connected"] is False and "refused" in status["message"]
    assert not remembered.exists()


async def test_a_token_file_others_can_read_is_not_used(jp_data_dir, mz_standin, jp_serverapp):
    from mesh_zenodo.services.zenodo_connection import TokenStore

    path = jp_data_dir / "exposed.json"
    path.write_text(json.dumps({"base_url": mz_standin.url, "token": FULL_TOKEN}))
    path.chmod(0o644)
    assert TokenStore(path).load() is None
    path.chmod(0o600)
    assert TokenStore(path).load() == (mz_standin.url, FULL_TOKEN)


# ---------------------------------------------------------------------------------------
# search
# ---------------------------------------------------------------------------------------


async def test_the_search_form_choices_come_from_the_one_vocabulary(mz_fetch, mz_standin):
    vocabulary = await call(mz_fetch, "vocabulary")
    types = {t["id"]: t["title"] for t in vocabulary["resource_types"]}
    assert types["dataset"] == "Dataset" and types["software"] == "Software"
    assert "physicalobject" in types  # a Zenodo upload type the form once lacked
    assert vocabulary["record_sorts"][:2] == ["bestmatch", "mostrecent"]
    # every choice offered is one the search accepts
    for sort in vocabulary["record_sorts"]:
        assert "hits" in await call(mz_fetch, "records", params={"q": "ocean", "sort": sort, "base_url": mz_standin.url})
    for sort in vocabulary["community_sorts"]:
        assert "hits" in await call(mz_fetch, "communities", params={"sort": sort, "base_url": mz_standin.url})


async def test_search_records_without_signing_in(mz_fetch, mz_standin):
    result = await call(mz_fetch, "records", params={"q": "ocean temperature"})
    assert result["total"] == 1 and result["page"] == 1 and result["has_next"] is False
    hit = result["hits"][0]
    assert hit["id"] == OCEAN and hit["title"].startswith("Global ocean temperature anomalies")
    assert hit["resource_type"] == {"type": "dataset", "subtype": None, "title": "Dataset"}
    assert hit["publication_date"] == "2021-09-21" and hit["doi"] == f"10.5281/zenodo.{OCEAN}"
    assert hit["creators"] == ["Hausfather, Zeke", "Rohde, Robert"] and hit["url"] == f"{mz_standin.url}/records/{OCEAN}"
    assert all(r["auth"] == "none" for r in mz_standin.requests(r"^/api/records$"))


async def test_search_fields_filter_sort_and_paging(mz_fetch):
    by_doi = await call(mz_fetch, "records", params={"q": f'doi:"10.5281/zenodo.{DIMUON}"'})
    assert [h["id"] for h in by_doi["hits"]] == [DIMUON]
    by_creator = await call(mz_fetch, "records", params={"q": "creators.name:Piparo"})
    assert [h["id"] for h in by_creator["hits"]] == [SLIDES]
    by_community = await call(mz_fetch, "records", params={"q": "communities:escape2020 AND title:eossr"})
    assert [h["id"] for h in by_community["hits"]] == [EOSSR_V3]
    datasets = await call(mz_fetch, "records", params={"type": "dataset", "sort": "mostrecent"})
    assert {h["resource_type"]["type"] for h in datasets["hits"]} == {"dataset"}
    dates = [h["publication_date"] for h in datasets["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert {a["key"]: a["count"] for a in datasets["aggregations"]["resource_type"]}["dataset"] == datasets["total"]

    seen, page = [], 1
    while True:
        result = await call(mz_fetch, "records", params={"size": "2", "page": str(page), "sort": "mostrecent"})
        assert result["page"] == page and result["size"] == 2 and len(result["hits"]) <= 2
        seen += [h["id"] for h in result["hits"]]
        if not result["has_next"]:
            break
        page += 1
    assert len(seen) == result["total"] == len(set(seen)) >= 7 and page == (result["total"] + 1) // 2


async def test_search_page_size_is_capped_for_anonymous_callers(mz_fetch, mz_standin):
    result = await call(mz_fetch, "records", params={"size": "100"})
    assert result["size"] == 25
    await call(mz_fetch, "login", method="POST", json_body={"token": FULL_TOKEN, "base_url": mz_standin.url})
    result = await call(mz_fetch, "records", params={"size": "100"})
    assert result["size"] == 100
    assert mz_standin.requests(r"^/api/records$")[-1]["auth"] == "bearer"


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"page": "abc"}, "page must be an integer"),
        ({"page": "0"}, "page must be between"),
        ({"size": "1000"}, "size must be between"),
        ({"sort": "random"}, "sort must be one of"),
        ({"type": "Data Set!"}, "type must be"),
        ({"all_versions": "maybe"}, "all_versions"),
        ({"environment": "prod"}, "unknown Zenodo environment"),
        ({"base_url": "gopher://x"}, "https://"),
        ({"q": 'title:"unbalanced'}, "Invalid query string syntax"),  # Zenodo's own 400, passed on
        ({"q": "x" * 3000}, "longer than"),
    ],
)
async def test_bad_search_input_is_400(mz_fetch, params, reason):
    error = await expect_error(mz_fetch, "records", params=params, status=400)
    assert reason in error["message"]


async def test_zenodo_failures_become_clear_errors(mz_fetch, mz_standin):
    mz_standin.arm(path_regex=r"^/api/records$", status=500, times=None)
    error = await expect_error(mz_fetch, "records", params={"q": "x"}, status=502)
    assert error["reason"] == "ServerError" and "500" in error["message"]
    mz_standin.reset()
    mz_standin.arm(path_regex=r"^/api/records$", status=429, retry_after=1, times=None)
    error = await expect_error(mz_fetch, "records", params={"q": "x"}, status=429)
    assert error["reason"] == "RateLimited" and error["retry_after"] == 1


async def test_search_communities_and_drill_down(mz_fetch, mz_standin):
    found = await call(mz_fetch, "communities", params={"q": "escape"})
    assert found["total"] == 1
    community = found["hits"][0]
    assert community["slug"] == "escape2020" and community["title"] == "ESCAPE 2020" and community["type"] == "project"
    assert community["url"] == f"{mz_standin.url}/communities/escape2020"

    everything = await call(mz_fetch, "communities", params={"size": "2"})
    assert everything["total"] == 5 and len(everything["hits"]) == 2 and everything["has_next"] is True
    second = await call(mz_fetch, "communities", params={"size": "2", "page": "2"})
    assert not {h["slug"] for h in second["hits"]} & {h["slug"] for h in everything["hits"]}

    one = await call(mz_fetch, "communities", "cern")
    assert one["title"] == "CERN" and one["type"] == "organization"
    inside = await call(mz_fetch, "communities", "cern", "records")
    assert inside["community"] == "cern" and {h["id"] for h in inside["hits"]} == {DIMUON, SLIDES}
    narrowed = await call(mz_fetch, "communities", "cern", "records", params={"q": "slides OR SWAN", "type": "presentation"})
    assert [h["id"] for h in narrowed["hits"]] == [SLIDES]

    await expect_error(mz_fetch, "communities", "no-such-community", status=404)
    await expect_error(mz_fetch, "communities", "..bad slug", status=400)
    await expect_error(mz_fetch, "communities", params={"sort": "loudest"}, status=400)


# ---------------------------------------------------------------------------------------
# record details
# ---------------------------------------------------------------------------------------


async def test_record_details(mz_fetch, mz_standin):
    record = await call(mz_fetch, "records", str(DIMUON))
    assert record["title"] == "CMS Open Data: dimuon invariant mass spectrum, Run 2012B"
    assert record["url"] == f"{mz_standin.url}/records/{DIMUON}"
    assert record["doi"] == f"10.5281/zenodo.{DIMUON}" and record["doi_url"] == f"https://doi.org/10.5281/zenodo.{DIMUON}"
    assert record["version"] == "1.0" and record["publication_date"] == "2023-04-18"
    assert record["license"] == {
        "id": "cc0-1.0", "title": "Creative Commons Zero v1.0 Universal",
        "url": "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
    }
    assert record["description"].startswith("<p>Dimuon events")
    assert record["creators"][0] == {"name": "McCauley, Thomas", "affiliations": ["University of Notre Dame"], "orcid": None}
    assert [f["key"] for f in record["files"]] == ["dimuon.csv", "README.md", "selection.py"]
    for f in record["files"]:
        assert f["size"] > 0 and f["checksum"] == f"md5:{f['md5']}" and len(f["md5"]) == 32
    assert record["files_total_size"] == sum(f["size"] for f in record["files"])
    assert record["communities"] == ["cern"] and record["resource_type"]["title"] == "Dataset"

    versions = await call(mz_fetch, "records", str(EOSSR_V3))
    assert versions["versions"] == {"version": "v2.0.0", "index": 3, "count": 3, "is_latest": True}
    assert versions["conceptrecid"] == "7000001" and versions["conceptdoi"] == "10.5281/zenodo.7000001"
    assert versions["creators"][0]["orcid"] == "0000-0002-5686-2078"

    await expect_error(mz_fetch, "records", "1", status=404)
    await expect_error(mz_fetch, "records", "not-a-number", status=400)
    await expect_error(mz_fetch, "records", "12345678901234567890123", status=400)


# ---------------------------------------------------------------------------------------
# the token stays secret; the server stays responsive
# ---------------------------------------------------------------------------------------


async def test_the_token_is_in_no_log_message_url_or_environment(mz_fetch, mz_standin, caplog, jp_serverapp, jp_data_dir):
    import logging

    caplog.set_level(logging.DEBUG)
    await call(mz_fetch, "login", method="POST", json_body={"token": FULL_TOKEN, "base_url": mz_standin.url, "remember": True})
    await call(mz_fetch, "records", params={"q": "ocean"})
    await call(mz_fetch, "records", str(MANY))
    await call(mz_fetch, "communities", params={"q": "cern"})
    mz_standin.arm(path_regex=r"^/api/records$", status=400, body={"message": f"echo {FULL_TOKEN}", "status": 400})
    error = await expect_error(mz_fetch, "records", params={"q": "x"}, status=400)
    await expect_error(mz_fetch, "login", method="POST", status=401, json_body={"token": FULL_TOKEN + "x", "base_url": mz_standin.url})
    await expect_error(mz_fetch, "login", method="POST", status=400, raw_body='{"token": "%s",}' % FULL_TOKEN)  # malformed
    await expect_error(mz_fetch, "login", method="POST", status=502,
                       json_body={"token": FULL_TOKEN, "base_url": f"http://127.0.0.1:{closed_port()}"})

    assert FULL_TOKEN not in json.dumps(error)
    assert caplog.text and FULL_TOKEN not in caplog.text  # server log, access log, client log
    for record in caplog.records:
        assert FULL_TOKEN not in record.getMessage() and FULL_TOKEN not in repr(record.args)
    assert all(FULL_TOKEN not in r["path"] + r["raw_path"] + r["query"] for r in mz_standin.requests())
    assert FULL_TOKEN not in mz_standin.output
    assert FULL_TOKEN not in json.dumps(dict(os.environ))
    assert FULL_TOKEN not in repr(jp_serverapp.extension_manager.extension_apps["mesh_zenodo"])

    # a kernel started by this server does not see it either
    manager = jp_serverapp.kernel_manager
    kernel_id = await manager.start_kernel(kernel_name="echo")
    try:
        kernel = manager.get_kernel(kernel_id)
        pid = kernel.provisioner.pid
        with open(f"/proc/{pid}/environ", "rb") as f:
            kernel_environment = f.read()
        assert kernel_environment  # we did read the real thing
        assert FULL_TOKEN.encode() not in kernel_environment
    finally:
        await manager.shutdown_kernel(kernel_id, now=True)
    # the one place it may be: the user's own 0600 file, when they asked to be remembered
    assert FULL_TOKEN in (jp_data_dir / "mesh-zenodo" / "zenodo-token.json").read_text()


async def test_the_server_answers_while_zenodo_is_slow(mz_fetch, mz_standin):
    mz_standin.arm(path_regex=r"^/api/records$", hold=True)  # Zenodo does not answer until released
    slow = asyncio.ensure_future(call(mz_fetch, "records", params={"q": "ocean"}))
    while not any(r["status"] == "held" for r in mz_standin.requests(r"^/api/records$")):
        await asyncio.sleep(0.05)
    # the search waits on Zenodo; the server answers other requests meanwhile
    assert (await call(mz_fetch, "login"))["connected"] is False
    assert (await call(mz_fetch, "records", str(DIMUON)))["id"] == DIMUON
    assert not slow.done()
    mz_standin.release()
    assert (await slow)["total"] == 1


async def test_pulls_need_the_files_on_cs3(mz_fetch):
    # this server keeps Jupyter's files on local disk: nothing to pull into
    error = await expect_error(mz_fetch, "pulls", method="POST", status=409, json_body={"record_id": DIMUON})
    assert error["reason"] == "NotOnCS3"
    assert "CS3" in error["message"]
