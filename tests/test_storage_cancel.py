"""Issue 7 "Hardening", item 6: a transfer whose client goes away, or stops sending,
ends on the storage at once and cleanly: the partial data and the reservation of a
simple upload are dropped (a tus upload keeps its data for resuming), one line is
logged (no traceback, no 500), and a new upload to the same path works."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
from urllib.parse import urlsplit

import pytest
import requests
from mesh_zenodo.pytest_plugin import StorageUser, start_storage, wait_for

MiB = 1 << 20


@pytest.fixture
def storage(tmp_path):
    """A storage of its own (its log is looked at), that drops uploads idle for 1 s."""
    proc = start_storage(tmp_path / "root", ["--transfer-idle-timeout", "1"])
    yield proc
    proc.stop()


@pytest.fixture
def user(storage):
    person = StorageUser(storage.grpc_addr, "einstein")
    yield person
    person.close()


def uploads(storage) -> list[str]:
    return sorted(p.name for p in (storage.root / ".mesh-zenodo" / "uploads").iterdir())


def log_lines(storage, needle: str) -> list[str]:
    return [line for line in storage.output.splitlines() if needle in line]


def open_upload(proto, method: str, headers: dict[str, str], first: bytes) -> socket.socket:
    """A request whose body has only partly been sent (a real client, mid-upload)."""
    url = urlsplit(proto.upload_endpoint)
    sock = socket.create_connection((url.hostname, url.port))
    head = f"{method} {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Reva-Transfer: {proto.token}\r\n"
    sock.sendall((head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode() + first)
    return sock


def reset(sock: socket.socket) -> None:
    """Close abruptly (RST), as a killed client does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.2)
    try:
        return sock.recv(65536) == b""
    except socket.timeout:
        return False
    except ConnectionError:
        return True


def test_a_client_that_goes_away_mid_upload(storage, user):
    user.put_ok("/home/pull.bin", b"old content")
    proto = user.upload_protocol("/home/pull.bin", length=8 * MiB)
    sock = open_upload(proto, "PUT", {"Upload-Length": str(8 * MiB), "Content-Length": str(8 * MiB)}, os.urandom(3 * MiB))
    assert wait_for(lambda: uploads(storage), timeout=30)
    sock.close()
    assert wait_for(lambda: not uploads(storage), timeout=30)
    assert wait_for(lambda: log_lines(storage, "cancelled"), timeout=30)

    assert user.read("/home/pull.bin") == b"old content"
    assert user.versions("/home/pull.bin") == []
    # clients that die mid-write, again and again: each ends cleanly
    for _ in range(5):
        again = user.upload_protocol("/home/pull.bin")
        sock = open_upload(again, "PUT", {"Content-Length": str(64 * MiB)}, b"z" * (4 * MiB))
        reset(sock)
    assert wait_for(lambda: not uploads(storage) and len(log_lines(storage, "cancelled")) == 6, timeout=60)
    # a new upload to the same path works
    data = os.urandom(2 * MiB)
    user.put_ok("/home/pull.bin", data)
    assert user.read("/home/pull.bin") == data
    assert user.stat_ok("/home/pull.bin").checksum.sum == hashlib.md5(data).hexdigest()
    assert len(log_lines(storage, "pull.bin")) == 6  # one line per cancelled upload
    assert "Traceback" not in storage.output and "ValueError" not in storage.output
    assert not log_lines(storage, " 500 ")


def test_a_client_that_stalls_is_dropped(storage, user):
    proto = user.upload_protocol("/home/stalled.bin")
    sock = open_upload(proto, "PUT", {"Content-Length": str(4 * MiB)}, b"s" * MiB)
    try:
        assert wait_for(lambda: closed_by_server(sock), timeout=60)
        assert wait_for(lambda: not uploads(storage), timeout=30)
    finally:
        sock.close()
    assert wait_for(lambda: log_lines(storage, "sent nothing"), timeout=30)
    assert user.info("/home/stalled.bin") is None
    retry = requests.put(proto.upload_endpoint, data=b"fine", headers={"X-Reva-Transfer": proto.token}, timeout=60)
    assert retry.status_code == 200
    user.put_ok("/home/stalled.bin", b"and again")
    assert user.read("/home/stalled.bin") == b"and again"
    assert "Traceback" not in storage.output


def test_a_tus_upload_keeps_its_data_for_resuming(storage, user):
    data = os.urandom(3 * MiB)
    proto = user.upload_protocol("/home/tus.bin", "tus", length=len(data))
    headers = {
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(data)),
    }
    sock = open_upload(proto, "PATCH", headers, data[:MiB])
    try:
        assert wait_for(lambda: closed_by_server(sock), timeout=60)  # stalled: dropped
    finally:
        sock.close()
    assert wait_for(lambda: log_lines(storage, "kept for resuming"), timeout=30)

    head = requests.head(proto.upload_endpoint, headers={"X-Reva-Transfer": proto.token}, timeout=60)
    offset = int(head.headers["Upload-Offset"])
    assert 0 < offset <= MiB
    resumed = requests.patch(
        proto.upload_endpoint,
        data=data[offset:],
        headers={**headers, "X-Reva-Transfer": proto.token, "Upload-Offset": str(offset)},
        timeout=60,
    )
    assert resumed.status_code == 204, resumed.text
    assert user.read("/home/tus.bin") == data
    assert not uploads(storage)
    assert "Traceback" not in storage.output
