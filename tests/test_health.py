"""``GET /mesh-zenodo/health`` and the request id (issue 12 part 4): a real Jupyter server
on the embedded storage and the Zenodo stand-in; an unreachable storage or Zenodo is a
closed port. The request id is followed from the REST call into the storage's own log."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from mesh_zenodo.pytest_plugin import PASSWORDS, cs3_config, free_port, mesh_extension, start_storage


def config(storage, root, zenodo_url: str, **cs3) -> Config:
    settings = cs3_config(storage, root)
    settings["CS3Client"].update(cs3)
    return Config({
        "ServerApp": {"contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
                      "jpserver_extensions": {"mesh_zenodo": True}},
        **settings,
        "ZenodoClient": {"base_url": zenodo_url, "retries": 0, "backoff": 0.01},
    })


class TestHealthy:
    @pytest.fixture
    def jp_server_config(self, mz_storage, mz_cs3_root, mz_standin):
        return config(mz_storage, mz_cs3_root, mz_standin.url)

    async def test_ok_with_details_for_the_servers_own_user(self, jp_fetch, mz_standin):
        response = await jp_fetch("mesh-zenodo", "health")
        body = json.loads(response.body)
        assert response.code == 200 and body["status"] == "ok"
        assert body["storage"] == {"reachable": True} and body["zenodo"] == {"reachable": True}
        details = body["details"]
        assert details["versions"]["mesh-zenodo"] and details["versions"]["jupyter_server"]
        assert details["storage"]["user"] == "einstein" and details["storage"]["latency_ms"] >= 0
        assert details["zenodo"]["base_url"] == mz_standin.url
        assert PASSWORDS["einstein"] not in response.body.decode()
        assert response.headers["X-Request-Id"]

    async def test_needs_the_jupyter_user(self, jp_fetch):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("mesh-zenodo", "health", headers={"Authorization": "token wrong"})
        assert refused.value.code == 403


class TestZenodoAway:
    @pytest.fixture
    def jp_server_config(self, mz_storage, mz_cs3_root):
        return config(mz_storage, mz_cs3_root, f"http://127.0.0.1:{free_port()}")

    async def test_degraded_with_the_reason(self, jp_fetch):
        body = json.loads((await jp_fetch("mesh-zenodo", "health")).body)
        assert body["status"] == "degraded" and body["storage"]["reachable"] is True
        assert body["zenodo"]["reachable"] is False and body["zenodo"]["message"]


class TestStorageAway:
    @pytest.fixture
    def jp_server_config(self, mz_storage, mz_cs3_root, mz_standin):
        return config(mz_storage, mz_cs3_root, mz_standin.url, gateway=f"127.0.0.1:{free_port()}", rpc_timeout=2.0)

    async def test_down_is_503_with_the_reason(self, jp_fetch):
        with pytest.raises(HTTPClientError) as down:
            await jp_fetch("mesh-zenodo", "health")
        assert down.value.code == 503
        body = json.loads(down.value.response.body)
        assert body["status"] == "down" and body["storage"]["reachable"] is False
        assert "unreachable" in body["storage"]["message"] or "did not answer" in body["storage"]["message"]


# --------------------------------------------------------------------------------------
# the request id, from the REST call into the storage's log
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def logging_storage(tmp_path_factory):
    process = start_storage(tmp_path_factory.mktemp("logged"), ["--log-level", "INFO"])
    yield process
    process.stop()


class TestRequestId:
    @pytest.fixture
    def jp_server_config(self, logging_storage, mz_standin):
        return config(logging_storage, "/home", mz_standin.url)

    async def test_the_request_id_reaches_the_storage_log(self, jp_fetch, jp_serverapp, logging_storage):
        trace = f"trace-{uuid.uuid4().hex[:8]}"
        ours: list[logging.LogRecord] = []
        collect = logging.Handler()
        collect.emit = ours.append
        log = mesh_extension(jp_serverapp).log
        log.addHandler(collect)
        with pytest.raises(HTTPClientError) as missing:
            await jp_fetch("mesh-zenodo", "zenodo", "provenance", params={"path": f"no-such-{trace}"},
                           headers={"X-Request-Id": trace})
        assert missing.value.code == 404
        assert missing.value.response.headers["X-Request-Id"] == trace
        assert f"request_id={trace}" in logging_storage.output  # the storage's line for that Stat
        log.removeHandler(collect)
        assert any(f"request_id={trace}" in r.getMessage() for r in ours)  # ours

    async def test_an_insane_request_id_is_replaced(self, jp_fetch):
        response = await jp_fetch("mesh-zenodo", "health", headers={"X-Request-Id": "a b\u00e9" * 40})
        rid = response.headers["X-Request-Id"]
        assert len(rid) == 32 and rid.isalnum()
