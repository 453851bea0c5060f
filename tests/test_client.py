"""The CS3 client against the embedded storage over real gRPC and HTTP on loopback."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import tracemalloc

import pytest
from traitlets.config import Config

from mesh_zenodo.cs3 import errors
from mesh_zenodo.cs3.client import PASSWORD_ENV, CS3Client
from mesh_zenodo.pytest_plugin import PASSWORDS, cs3_config, start_storage


def client_for(mz_storage, user="einstein", password=None, **kw) -> CS3Client:
    return CS3Client(
        gateway=mz_storage.grpc_addr, username=user, password=PASSWORDS[user] if password is None else password, **kw
    )


async def test_sign_in_and_whoami(mz_storage):
    client = client_for(mz_storage)
    user = await client.whoami()
    assert (user.username, user.id.idp, user.id.opaque_id) == (
        "einstein", "cernbox.cern.ch", "4c510ada-c86b-4815-8820-42cdf82c3d51",
    )
    assert await client.get_home() == "/home"
    await client.close()


async def test_wrong_password_is_unauthenticated_and_secret_free(mz_storage, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(mz_storage, password="not-the-password")
    with pytest.raises(errors.Unauthenticated) as e:
        await client.whoami()
    assert e.value.http_status == 401
    assert "not-the-password" not in str(e.value)
    assert "not-the-password" not in caplog.text
    await client.close()


async def test_unreachable_gateway_is_a_clear_error_not_a_hang():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    client = CS3Client(gateway=f"127.0.0.1:{port}", username="einstein", password="x", rpc_timeout=3)
    started = time.monotonic()
    with pytest.raises(errors.Unavailable) as e:
        await client.stat("/home")
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{port}" in str(e.value)
    await client.close()


async def test_errors_map_to_cs3_exceptions(mz_storage, mz_raw):
    client = client_for(mz_storage)
    with pytest.raises(errors.NotFound):
        await client.stat("/home/definitely-missing")
    await client.create_container("/home/client-errors")
    with pytest.raises(errors.AlreadyExists):
        await client.create_container("/home/client-errors")
    with pytest.raises(errors.InvalidArgument):
        await client.stat("/home/../etc/passwd")
    with pytest.raises(errors.InvalidArgument):
        await client.stat("/home/a\0b")
    await client.close()


async def test_users_cannot_see_each_other(mz_storage):
    einstein, marie = client_for(mz_storage), client_for(mz_storage, "marie")
    await einstein.upload("/home/einstein-only.txt", b"private")
    info = await einstein.stat("/home/einstein-only.txt")
    with pytest.raises(errors.NotFound):
        await marie.stat("/home/einstein-only.txt")
    assert "einstein-only.txt" not in {i.name for i in await marie.list_container("/home")}
    assert info.owner.opaque_id == "4c510ada-c86b-4815-8820-42cdf82c3d51"
    await einstein.close()
    await marie.close()


async def test_expired_token_is_renewed(tmp_path):
    process = start_storage(tmp_path / "short", extra_args=["--token-lifetime", "2"])
    try:
        client = CS3Client(gateway=process.grpc_addr, username="einstein", password="relativity")
        await client.stat("/home")
        first = client._token
        time.sleep(3)  # the token has expired on the server
        client._token_exp = time.time() + 3600  # pretend we did not notice: the server must tell us
        await client.stat("/home")
        assert client._token != first
        await client.close()
    finally:
        process.stop()


async def test_streamed_transfer_in_bounded_memory(mz_storage):
    client = client_for(mz_storage)
    size = 48 * 1024 * 1024
    block = os.urandom(1024 * 1024)
    expected = hashlib.md5(block * (size // len(block))).hexdigest()

    async def produce():
        for _ in range(size // len(block)):
            yield block

    tracemalloc.start()
    await client.upload("/home/stream.bin", produce(), size)
    digest = hashlib.md5()
    async with client.download("/home/stream.bin") as (headers, chunks):
        assert int(headers["Content-Length"]) == size
        async for chunk in chunks:
            digest.update(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert digest.hexdigest() == expected
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB transfer"
    info = await client.stat("/home/stream.bin")
    assert info.checksum.sum == expected
    await client.close()


async def test_if_match_refuses_a_stale_write(mz_storage):
    client = client_for(mz_storage)
    await client.upload("/home/etag.txt", b"one")
    etag = (await client.stat("/home/etag.txt")).etag
    await client.upload("/home/etag.txt", b"two", if_match=etag)
    with pytest.raises(errors.PreconditionFailed):
        await client.upload("/home/etag.txt", b"three", if_match=etag)
    assert await client.read_bytes("/home/etag.txt") == b"two"
    await client.close()


async def test_password_from_environment_does_not_reach_kernels(mz_storage, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "relativity")
    client = CS3Client(gateway=mz_storage.grpc_addr, username="einstein")
    assert PASSWORD_ENV not in os.environ
    assert (await client.whoami()).username == "einstein"
    await client.close()


class TestSessionWhenStorageIsDown:
    @pytest.fixture
    def jp_server_config(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return Config(
            {
                "ServerApp": {
                    "jpserver_extensions": {"mesh_zenodo": True},
                    "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
                },
                "CS3Client": {"gateway": f"127.0.0.1:{port}", "password": "x", "rpc_timeout": 3},
            }
        )

    async def test_panel_gets_a_clear_error(self, jp_fetch):
        from tornado.httpclient import HTTPClientError

        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("mesh-zenodo", "session")
        assert e.value.code == 503
        payload = json.loads(e.value.response.body)
        assert payload["connected"] is False
        assert "unreachable" in payload["message"]


class TestSessionWithLocalFiles:
    """Plain `jupyter lab` with the package installed: files on the local disk."""

    @pytest.fixture
    def jp_server_config(self):
        return Config({"ServerApp": {"jpserver_extensions": {"mesh_zenodo": True}}})

    async def test_panel_explains_where_the_files_are_and_how_to_use_cs3(self, jp_fetch):
        payload = json.loads((await jp_fetch("mesh-zenodo", "session")).body)
        assert payload["contents"] == "local" and payload["connected"] is False
        assert "this computer's disk" in payload["message"] and "mesh-zenodo lab" in payload["message"]


class TestSessionWithWrongPassword:
    @pytest.fixture
    def jp_server_config(self, mz_storage, mz_cs3_root):
        config = cs3_config(mz_storage, mz_cs3_root)
        config["CS3Client"]["password"] = "pw-XYZZY-123"
        config["ServerApp"] = {
            "jpserver_extensions": {"mesh_zenodo": True},
            "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
        }
        return Config(config)

    async def test_panel_says_sign_in_failed(self, jp_fetch):
        from tornado.httpclient import HTTPClientError

        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("mesh-zenodo", "session")
        assert e.value.code == 401
        payload = json.loads(e.value.response.body)
        assert payload["connected"] is False and "pw-XYZZY-123" not in payload["message"]
