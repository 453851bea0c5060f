"""Issue 7 "Hardening", item 3: an upload reserves the length it announces (at
InitiateFileUpload, or the Upload-Length of its PUT) against the quota and the disk's
free space until it ends (finished, failed, cancelled), so that two uploads that each fit
but not together cannot both start."""

from __future__ import annotations

import shutil
import socket
from urllib.parse import urlsplit

import pytest
import requests
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from mesh_zenodo.pytest_plugin import SmallDisk, StorageUser, start_storage, wait_for

OK = code_pb2.CODE_OK
FULL = code_pb2.CODE_INSUFFICIENT_STORAGE
QUOTA = 10_000


@pytest.fixture
def quota_storage(tmp_path):
    """A storage of its own (reservations live as long as their sessions)."""
    proc = start_storage(tmp_path / "root", ["--quota", str(QUOTA)])
    yield proc
    proc.stop()


@pytest.fixture
def user(quota_storage):
    person = StorageUser(quota_storage.grpc_addr, "einstein")
    yield person
    person.close()


def uploads(root) -> list[str]:
    return sorted(p.name for p in (root / ".mesh-zenodo" / "uploads").iterdir())


def remaining(user: StorageUser) -> int:
    res = user.call("GetQuota", sp.GetQuotaRequest(ref=spr.Reference(path="/home")))
    assert res.status.code == OK, res.status
    return int(res.opaque.map["remaining"].value)


def start_put(proto, total: int, first: bytes) -> socket.socket:
    """A simple PUT of ``total`` bytes that has sent only ``first`` so far."""
    url = urlsplit(proto.upload_endpoint)
    sock = socket.create_connection((url.hostname, url.port))
    sock.sendall(
        (
            f"PUT {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Reva-Transfer: {proto.token}\r\n"
            f"Upload-Length: {total}\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
        ).encode()
        + first
    )
    return sock


def finish_put(sock: socket.socket, rest: bytes) -> int:
    """Send the rest of the body; the HTTP status of the answer."""
    sock.sendall(rest)
    sock.settimeout(60)
    answer = b""
    while b"\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    sock.close()
    return int(answer.split(b" ", 2)[1])


def put(proto, data: bytes) -> requests.Response:
    return requests.put(
        proto.upload_endpoint, data=data, headers={"X-Reva-Transfer": proto.token, "Upload-Length": str(len(data))},
        timeout=60,
    )


def test_a_length_announced_at_initiate_is_reserved_until_the_upload_ends(user):
    first = user.upload_protocol("/home/a.bin", length=6000)
    assert remaining(user) == QUOTA - 6000
    second = user.initiate_upload("/home/b.bin", 6000)
    assert second.status.code == FULL and "reserved" in second.status.message
    assert user.initiate_upload("/home/c.bin", 4000).status.code == OK  # what is left fits

    response = put(first, b"a" * 6000)
    assert response.status_code == 200
    assert user.stat_ok("/home/a.bin").size == 6000
    assert user.initiate_upload("/home/b.bin", 6000).status.code == FULL  # really full now


def test_a_failed_or_cancelled_upload_gives_its_reservation_back(quota_storage, user):
    proto = user.upload_protocol("/home/failed.bin", length=6000)
    assert user.initiate_upload("/home/other.bin", 6000).status.code == FULL
    short = requests.put(
        proto.upload_endpoint, data=b"x" * 10, headers={"X-Reva-Transfer": proto.token, "Upload-Length": "6000",
                                                       "Content-Length": "10"}, timeout=60
    )
    assert short.status_code == 400
    assert remaining(user) == QUOTA
    assert user.initiate_upload("/home/other.bin", 6000).status.code == OK

    cancelled = user.upload_protocol("/home/cancelled.bin")
    sock = start_put(cancelled, 3000, b"c" * 1000)
    assert wait_for(lambda: remaining(user) < QUOTA - 6000, timeout=30)
    sock.close()
    assert wait_for(lambda: remaining(user) == QUOTA - 6000 and uploads(quota_storage.root) == [], timeout=30)


def test_two_uploads_that_fit_alone_but_not_together(quota_storage, user):
    first = user.upload_protocol("/home/first.bin")  # lengths come with the PUTs
    second = user.upload_protocol("/home/second.bin")
    sock = start_put(first, 6000, b"1" * 3000)
    assert wait_for(lambda: uploads(quota_storage.root), timeout=30)

    response = put(second, b"2" * 6000)
    assert response.status_code == 507 and "quota" in response.text
    assert finish_put(sock, b"1" * 3000) == 200
    assert user.read("/home/first.bin") == b"1" * 6000
    assert user.info("/home/second.bin") is None
    assert remaining(user) == QUOTA - 6000
    assert put(user.upload_protocol("/home/third.bin"), b"3" * 4000).status_code == 200
    assert remaining(user) == 0


def test_the_disk_is_reserved_too(tmp_path):
    disk = SmallDisk(tmp_path, 8192)
    try:
        user = StorageUser(disk.storage.grpc_addr, "einstein")
        user.put_ok("/home/seed.txt", b"seed")
        free = shutil.disk_usage(disk.path).free
        size = int((free - (1 << 20)) * 0.6)  # each fits (with the database's margin), not both

        announced = user.upload_protocol("/home/a.bin", length=size)
        refused = user.initiate_upload("/home/b.bin", size)
        assert refused.status.code == FULL and "disk" in refused.status.message
        assert put(announced, b"a" * size).status_code == 200

        later = user.upload_protocol("/home/c.bin")
        also = user.upload_protocol("/home/d.bin")
        small = (shutil.disk_usage(disk.path).free - (1 << 20)) * 6 // 10
        sock = start_put(later, small, b"c" * 1000)
        assert wait_for(lambda: any(p.suffix == ".tmp" for p in (disk.path / ".mesh-zenodo" / "uploads").iterdir()),
                        timeout=30)
        response = put(also, b"d" * small)
        assert response.status_code == 507 and "disk" in response.text
        assert finish_put(sock, b"c" * (small - 1000)) == 200
        assert user.stat_ok("/home/c.bin").size == small
        assert user.info("/home/d.bin") is None
        user.close()
    finally:
        disk.stop()
    assert "Traceback" not in disk.storage.output


def test_a_tus_upload_holds_its_reservation_between_requests(user):
    proto = user.upload_protocol("/home/tus.bin", "tus")  # the length comes later
    headers = {
        "X-Reva-Transfer": proto.token,
        "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream",
    }
    first = requests.patch(
        proto.upload_endpoint, data=b"t" * 1000, headers={**headers, "Upload-Offset": "0", "Upload-Length": "6000"},
        timeout=60,
    )
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "1000"
    assert remaining(user) == QUOTA - 6000
    assert user.initiate_upload("/home/other.bin", 6000).status.code == FULL
    last = requests.patch(
        proto.upload_endpoint, data=b"t" * 5000, headers={**headers, "Upload-Offset": "1000"}, timeout=60
    )
    assert last.status_code == 204
    assert user.stat_ok("/home/tus.bin").size == 6000
    assert remaining(user) == QUOTA - 6000
    assert user.initiate_upload("/home/other.bin", 4000).status.code == OK
