"""The embedded storage as a program: persistence across restarts, signals, users files,
token lifetime, quota, version limits, start-up errors, and the Python entry points."""

from __future__ import annotations

import asyncio
import json
import signal
import stat
import subprocess
import time

import grpc
import pytest
import requests
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from mesh_zenodo.pytest_plugin import StorageUser, free_port, start_storage, storage_command, source_tree_env

OK = code_pb2.CODE_OK


def run_storage_expecting_failure(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=source_tree_env())


def test_everything_persists_across_a_restart(tmp_path):
    root = tmp_path / "root"
    proc = start_storage(root)
    try:
        user = StorageUser(proc.grpc_addr, "einstein")
        user.mkdir("/home/keep")
        user.put_ok("/home/keep/doc.txt", b"version 1")
        user.put_ok("/home/keep/doc.txt", b"version 2")
        md = spr.ArbitraryMetadata(metadata={"doi": "10.5281/zenodo.42"})
        res = user.call(
            "SetArbitraryMetadata",
            sp.SetArbitraryMetadataRequest(ref=spr.Reference(path="/home/keep/doc.txt"), arbitrary_metadata=md),
        )
        assert res.status.code == OK
        user.put_ok("/home/trash-me.txt", b"bye")
        user.delete("/home/trash-me.txt")
        before = user.stat_ok("/home/keep/doc.txt", keys=["*"])
        folder_before = user.stat_ok("/home/keep")
        versions_before = user.versions("/home/keep/doc.txt")
        recycle_before = user.recycle()
        token = user.token
        user.close()
    finally:
        proc.stop()

    secret = root / ".mesh-zenodo" / "jwt-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600

    proc = start_storage(root)
    try:
        # the old token is still valid: the secret persisted
        channel = grpc.insecure_channel(proc.grpc_addr)
        stub = gw_grpc.GatewayAPIStub(channel)
        res = stub.Stat(
            sp.StatRequest(ref=spr.Reference(path="/home/keep/doc.txt"), arbitrary_metadata_keys=["*"]),
            metadata=[("x-access-token", token)],
        )
        assert res.status.code == OK
        after = res.info
        assert after.id == before.id
        assert after.etag == before.etag
        assert after.mtime == before.mtime
        assert after.checksum == before.checksum
        assert dict(after.arbitrary_metadata.metadata) == {"doi": "10.5281/zenodo.42"}
        channel.close()

        user = StorageUser(proc.grpc_addr, "einstein")
        assert user.stat_ok("/home/keep").id == folder_before.id
        assert user.stat_ok("/home/keep").etag == folder_before.etag
        assert user.versions("/home/keep/doc.txt") == versions_before
        assert user.recycle() == recycle_before
        assert user.read("/home/keep/doc.txt") == b"version 2"
        res = user.call(
            "RestoreRecycleItem",
            sp.RestoreRecycleItemRequest(ref=spr.Reference(path="/home"), key=recycle_before[0].key),
        )
        assert res.status.code == OK
        assert user.read("/home/trash-me.txt") == b"bye"
        res = user.call(
            "RestoreFileVersion",
            sp.RestoreFileVersionRequest(ref=spr.Reference(path="/home/keep/doc.txt"), key=versions_before[0].key),
        )
        assert res.status.code == OK
        assert user.read("/home/keep/doc.txt") == b"version 1"
        user.close()
    finally:
        proc.stop()


def test_sigint_also_stops_cleanly(tmp_path):
    proc = start_storage(tmp_path / "root")
    assert proc.stop(signal.SIGINT) == 0
    assert "Traceback" not in proc.output


def test_an_unfinished_upload_is_cleaned_up_on_shutdown(tmp_path):
    proc = start_storage(tmp_path / "root")
    user = StorageUser(proc.grpc_addr, "einstein")
    proto = user.upload_protocol("/home/partial.bin")
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(proto.upload_endpoint)
    sock = socket.create_connection((url.hostname, url.port))
    sock.sendall(
        f"PUT {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Reva-Transfer: {proto.token}\r\nContent-Length: 1000000\r\n\r\n".encode()
        + b"p" * 1000
    )
    uploads = tmp_path / "root" / ".mesh-zenodo" / "uploads"
    deadline = time.monotonic() + 10
    while not list(uploads.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(uploads.iterdir())
    user.close()
    proc.stop()  # with the upload still open: exits 0
    sock.close()
    assert list(uploads.iterdir()) == []
    assert not (tmp_path / "root" / "home" / "einstein" / "partial.bin").exists()


def test_users_file_replaces_the_demo_users(tmp_path):
    users = [
        {
            "id": {"opaque_id": "u-1", "idp": "example.com", "type": "USER_TYPE_PRIMARY"},
            "username": "ada",
            "secret": "engine",
            "mail": "ada@example.com",
            "display_name": "Ada Lovelace",
            "groups": ["math"],
        },
        {"id": {"opaque_id": "u-2", "idp": "example.com"}, "username": "alan", "secret": "enigma"},
    ]
    users_file = tmp_path / "users.json"
    users_file.write_text(json.dumps(users))
    proc = start_storage(tmp_path / "root", ["--users", str(users_file)])
    try:
        channel = grpc.insecure_channel(proc.grpc_addr)
        stub = gw_grpc.GatewayAPIStub(channel)
        res = stub.Authenticate(gw.AuthenticateRequest(type="basic", client_id="ada", client_secret="engine"))
        assert res.status.code == OK
        assert (res.user.display_name, res.user.mail, list(res.user.groups)) == (
            "Ada Lovelace",
            "ada@example.com",
            ["math"],
        )
        assert res.user.id.opaque_id == "u-1"
        res2 = stub.Authenticate(gw.AuthenticateRequest(type="basic", client_id="einstein", client_secret="relativity"))
        assert res2.status.code == code_pb2.CODE_UNAUTHENTICATED
        md = [("x-access-token", res.token)]
        home = stub.Stat(sp.StatRequest(ref=spr.Reference(path="/home")), metadata=md)
        assert home.status.code == OK and home.info.id.space_id == "u-1"
        channel.close()
    finally:
        proc.stop()


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("{not json", "not valid JSON"),
        ("{}", "list"),
        ("[]", "list"),
        ('[{"id": {"opaque_id": "x", "idp": "y"}, "secret": "s"}]', "username"),
        ('[{"username": "a", "secret": "s"}]', "id"),
        ('[{"id": {"opaque_id": "x", "idp": "y"}, "username": "../evil", "secret": "s"}]', "username"),
        ('[{"id": {"opaque_id": "x", "idp": "y", "type": "ALIEN"}, "username": "a", "secret": "s"}]', "type"),
        (
            '[{"id": {"opaque_id": "x", "idp": "y"}, "username": "a", "secret": "s"},'
            ' {"id": {"opaque_id": "x", "idp": "y"}, "username": "b", "secret": "s"}]',
            "duplicate",
        ),
    ],
)
def test_malformed_users_file_is_a_clear_startup_error(tmp_path, content, fragment):
    users_file = tmp_path / "users.json"
    users_file.write_text(content)
    result = run_storage_expecting_failure(
        storage_command(tmp_path / "root", "127.0.0.1:0", "127.0.0.1:0", ["--users", str(users_file)])
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "users file" in result.stderr and fragment in result.stderr, result.stderr


def test_missing_users_file_and_bad_addresses(tmp_path):
    result = run_storage_expecting_failure(
        storage_command(tmp_path / "root", "127.0.0.1:0", "127.0.0.1:0", ["--users", str(tmp_path / "nope.json")])
    )
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    result = run_storage_expecting_failure(storage_command(tmp_path / "root", "no-port", "127.0.0.1:0"))
    assert result.returncode == 2 and "HOST:PORT" in result.stderr and "Traceback" not in result.stderr


def test_a_taken_port_is_a_clear_error(tmp_path):
    proc = start_storage(tmp_path / "one")
    try:
        result = run_storage_expecting_failure(storage_command(tmp_path / "two", proc.grpc_addr, "127.0.0.1:0"))
        assert result.returncode != 0 and "cannot listen" in result.stderr and "Traceback" not in result.stderr
        result = run_storage_expecting_failure(storage_command(tmp_path / "two", "127.0.0.1:0", proc.http_addr))
        assert result.returncode != 0 and "cannot listen" in result.stderr and "Traceback" not in result.stderr
        # the first one is unaffected
        StorageUser(proc.grpc_addr, "einstein").close()
    finally:
        proc.stop()


def test_quota_and_version_limit(tmp_path):
    proc = start_storage(tmp_path / "root", ["--quota", "10000", "--max-versions", "2"])
    try:
        user = StorageUser(proc.grpc_addr, "einstein")
        # quota
        user.put_ok("/home/a.bin", b"a" * 6000)
        res = user.call("GetQuota", gw.GetQuotaRequest(ref=spr.Reference(path="/home")))
        assert (res.total_bytes, res.used_bytes) == (10000, 6000)
        assert res.opaque.map["remaining"].value == b"4000"
        res = user.initiate_upload("/home/b.bin", 6000)
        assert res.status.code == code_pb2.CODE_INSUFFICIENT_STORAGE and res.status.message
        proto = user.upload_protocol("/home/b.bin")  # length not announced
        r = requests.put(proto.upload_endpoint, data=b"b" * 6000, headers={"X-Reva-Transfer": proto.token})
        assert r.status_code == 507 and r.text.strip()
        assert "b.bin" not in user.names("/home")
        tus = user.upload_protocol("/home/c.bin", "tus")
        r = requests.patch(
            tus.upload_endpoint,
            data=b"c" * 6000,
            headers={
                "X-Reva-Transfer": tus.token,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert r.status_code == 507
        user.put_ok("/home/a.bin", b"A" * 9000)  # replacing a file counts only the difference
        # version limit
        for i in range(4):
            user.put_ok("/home/v.txt", f"{i}".encode())
        assert [v.size for v in user.versions("/home/v.txt")] == [1, 1]
        user.close()
    finally:
        proc.stop()


def test_token_lifetime(tmp_path):
    proc = start_storage(tmp_path / "root", ["--token-lifetime", "1"])
    try:
        user = StorageUser(proc.grpc_addr, "einstein")
        time.sleep(2.2)
        with pytest.raises(grpc.RpcError) as exc:
            user.stat("/home")
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED
        user.close()
    finally:
        proc.stop()


def test_main_returns_exit_codes(tmp_path, capsys):
    from mesh_zenodo.storage import main

    bad = tmp_path / "users.json"
    bad.write_text("nope")
    assert main(["--root", str(tmp_path / "root"), "--users", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["--no-such-option"]) == 2
    assert main(["--help"]) == 0


def test_serve_coroutine_runs_until_stopped(tmp_path, capsys):
    from mesh_zenodo.storage import serve

    grpc_port, http_port = free_port(), free_port()

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve(
                tmp_path / "root",
                f"127.0.0.1:{grpc_port}",
                f"127.0.0.1:{http_port}",
                stop_event=stop,
                install_signal_handlers=False,
            )
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = gw_grpc.GatewayAPIStub(channel)
            for _ in range(100):
                try:
                    res = await stub.Authenticate(
                        gw.AuthenticateRequest(type="basic", client_id="marie", client_secret="radioactivity"),
                        timeout=1,
                    )
                    break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.05)
            assert res.status.code == OK
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    err = capsys.readouterr().err
    assert (
        f"mesh-zenodo storage: gRPC on 127.0.0.1:{grpc_port}, data gateway on http://127.0.0.1:{http_port}, root "
        in err
    )


def test_logs_never_contain_tokens_or_passwords(tmp_path):
    proc = start_storage(tmp_path / "root", ["--log-level", "debug"])
    try:
        channel = grpc.insecure_channel(proc.grpc_addr)
        stub = gw_grpc.GatewayAPIStub(channel)
        res = stub.Authenticate(
            gw.AuthenticateRequest(type="basic", client_id="einstein", client_secret="wrong-secret-xyz")
        )
        assert res.status.code == code_pb2.CODE_UNAUTHENTICATED
        channel.close()
        user = StorageUser(proc.grpc_addr, "einstein")
        proto = user.upload_protocol("/home/log.txt")
        # token in the path, a failing and a succeeding request
        assert requests.put(f"{proto.upload_endpoint}/{proto.token}x", data=b"x").status_code == 403
        assert requests.put(f"{proto.upload_endpoint}/{proto.token}", data=b"x").status_code == 200
        assert requests.put(f"{proto.upload_endpoint}/{proto.token}", data=b"x").status_code == 404
        with pytest.raises(grpc.RpcError):
            user.stub.Stat(
                sp.StatRequest(ref=spr.Reference(path="/home")), metadata=[("x-access-token", user.token + "x")]
            )
        tokens = [proto.token, user.token]
        user.close()
    finally:
        proc.stop()
    output = proc.output
    assert "403 PUT" in output  # requests are logged...
    for secret in [*tokens, "wrong-secret-xyz", "relativity"]:
        assert secret not in output  # ...without secrets
    for token in tokens:
        assert token.split(".")[2] not in output
