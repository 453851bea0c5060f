"""The embedded storage's HTTP data gateway: simple PUT, tus PATCH/HEAD, GET/HEAD with
ranges, transfer tokens, failed and aborted uploads, and bounded memory for big files."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cs3.rpc.v1beta1 import code_pb2
from mesh_zenodo.pytest_plugin import StorageUser

OK = code_pb2.CODE_OK
MiB = 1024 * 1024




@pytest.fixture
def folder(mz_einstein):
    path = f"/home/d-{uuid.uuid4().hex[:8]}"
    assert mz_einstein.mkdir(path).status.code == OK
    return path


def uploads_dir(mz_server):
    return mz_server.root / ".mesh-zenodo" / "uploads"


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ----------------------------------------------------------------------------------------
# simple PUT / GET
# ----------------------------------------------------------------------------------------
def test_simple_put_and_get(mz_einstein, folder):
    data = b"hello, world\n" * 100
    response = mz_einstein.put_ok(f"{folder}/a.txt", data)
    info = mz_einstein.stat_ok(f"{folder}/a.txt")
    assert response.headers["ETag"] == info.etag
    assert response.headers["OC-ETag"] == info.etag
    assert response.headers["OC-FileId"] == f"mesh-zenodo${info.id.space_id}!{info.id.opaque_id}"
    assert response.headers["Last-Modified"]
    assert info.size == len(data)
    assert info.checksum.sum == hashlib.md5(data).hexdigest()

    got = mz_einstein.get(f"{folder}/a.txt")
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["Content-Length"] == str(len(data))
    assert got.headers["Content-Type"].startswith("text/plain")
    assert got.headers["ETag"] == info.etag
    assert got.headers["Accept-Ranges"] == "bytes"
    assert got.headers["Last-Modified"] == response.headers["Last-Modified"]

    head = mz_einstein.get(f"{folder}/a.txt", method="HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["ETag"] == info.etag


def test_empty_upload(mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}/empty", b"")
    info = mz_einstein.stat_ok(f"{folder}/empty")
    assert info.size == 0 and info.checksum.sum == hashlib.md5(b"").hexdigest()
    assert mz_einstein.read(f"{folder}/empty") == b""


def test_content_length_is_enough_and_token_can_be_in_the_path(mz_einstein, folder):
    proto = mz_einstein.upload_protocol(f"{folder}/b.txt")
    # no X-Reva-Transfer header: the token is the last path segment
    r = requests.put(f"{proto.upload_endpoint}/{proto.token}", data=b"via path")
    assert r.status_code == 200, r.text
    assert mz_einstein.read(f"{folder}/b.txt") == b"via path"

    proto = mz_einstein.upload_protocol(f"{folder}/c.txt")
    base = proto.upload_endpoint.rsplit("/", 1)[0]
    r = requests.put(f"{base}/{proto.token}", data=b"token only")
    assert r.status_code == 200, r.text
    assert mz_einstein.read(f"{folder}/c.txt") == b"token only"

    dl = mz_einstein.download_protocol(f"{folder}/c.txt")
    r = requests.get(f"{dl.download_endpoint}/{dl.token}")
    assert r.status_code == 200 and r.content == b"token only"


def test_bad_transfer_tokens_are_forbidden(mz_server, mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}/t.txt", b"original")
    secret = (mz_server.root / ".mesh-zenodo" / "jwt-secret").read_text().strip().encode()
    proto = mz_einstein.upload_protocol(f"{folder}/t.txt")
    claims = jwt.decode(proto.token, options={"verify_signature": False})
    assert claims["aud"] == "reva" and claims["target"] == proto.upload_endpoint.rsplit("/", 1)[-1]
    assert 5900 <= claims["exp"] - claims["iat"] <= 6100
    other = mz_einstein.upload_protocol(f"{folder}/other.txt")
    now = int(time.time())
    bad_tokens = {
        "garbage": "garbage",
        "wrong secret": jwt.encode(claims, b"x" * 32, algorithm="HS256"),
        "expired": jwt.encode({**claims, "iat": now - 9000, "exp": now - 3000}, secret, algorithm="HS256"),
        "other upload": other.token,
        "access token": mz_einstein.token,
    }
    for name, token in bad_tokens.items():
        r = requests.put(proto.upload_endpoint, data=b"evil", headers={"X-Reva-Transfer": token, "Upload-Length": "4"})
        assert r.status_code == 403, (name, r.status_code, r.text)
        assert r.text.strip()
    r = requests.put(proto.upload_endpoint, data=b"evil", headers={"Upload-Length": "4"})
    assert r.status_code == 403
    assert mz_einstein.read(f"{folder}/t.txt") == b"original"
    # a download token cannot upload
    dl = mz_einstein.download_protocol(f"{folder}/t.txt")
    r = requests.put(dl.download_endpoint, data=b"evil", headers={"X-Reva-Transfer": dl.token})
    assert r.status_code in (403, 405)
    assert mz_einstein.read(f"{folder}/t.txt") == b"original"
    # the genuine token still works, once
    r = requests.put(proto.upload_endpoint, data=b"fine", headers={"X-Reva-Transfer": proto.token})
    assert r.status_code == 200
    r = requests.put(proto.upload_endpoint, data=b"again", headers={"X-Reva-Transfer": proto.token})
    assert r.status_code == 404 and r.text.strip()
    assert mz_einstein.read(f"{folder}/t.txt") == b"fine"
    assert requests.get(f"{mz_server.http_url}/nothing/here").status_code == 404


# ----------------------------------------------------------------------------------------
# failed uploads leave the old content intact
# ----------------------------------------------------------------------------------------
def test_upload_length_mismatch(mz_server, mz_einstein, folder):
    path = f"{folder}/m.txt"
    mz_einstein.put_ok(path, b"old content")
    etag = mz_einstein.stat_ok(path).etag

    proto = mz_einstein.upload_protocol(path)
    # shorter body than announced
    r = requests.put(
        proto.upload_endpoint, data=b"12345", headers={"X-Reva-Transfer": proto.token, "Upload-Length": "10"}
    )
    assert r.status_code == 400 and "shorter" in r.text
    # longer body than announced
    r = requests.put(
        proto.upload_endpoint, data=b"x" * 20, headers={"X-Reva-Transfer": proto.token, "Upload-Length": "10"}
    )
    assert r.status_code == 400 and "longer" in r.text
    # neither Upload-Length nor Content-Length (chunked body)
    r = requests.put(proto.upload_endpoint, data=iter([b"abc"]), headers={"X-Reva-Transfer": proto.token})
    assert r.status_code == 400
    # not the length given at InitiateFileUpload
    announced = mz_einstein.upload_protocol(path, length=3)
    r = requests.put(
        announced.upload_endpoint, data=b"abcd", headers={"X-Reva-Transfer": announced.token, "Upload-Length": "4"}
    )
    assert r.status_code == 400

    assert mz_einstein.read(path) == b"old content"
    assert mz_einstein.stat_ok(path).etag == etag
    assert mz_einstein.versions(path) == []
    assert wait_for(lambda: not any(p.suffix == ".tmp" for p in uploads_dir(mz_server).iterdir()))
    # the session survives a failed attempt
    r = requests.put(
        proto.upload_endpoint, data=b"0123456789", headers={"X-Reva-Transfer": proto.token, "Upload-Length": "10"}
    )
    assert r.status_code == 200
    assert mz_einstein.read(path) == b"0123456789"


def test_disconnect_mid_upload_leaves_nothing(mz_server, mz_einstein, folder):
    path = f"{folder}/dc.bin"
    mz_einstein.put_ok(path, b"old")
    proto = mz_einstein.upload_protocol(path)
    url = urlsplit(proto.upload_endpoint)
    total = 4 * MiB
    sock = socket.create_connection((url.hostname, url.port))
    sock.sendall(
        (
            f"PUT {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Reva-Transfer: {proto.token}\r\n"
            f"Upload-Length: {total}\r\nContent-Length: {total}\r\n\r\n"
        ).encode()
    )
    sock.sendall(b"y" * (total // 2))
    assert wait_for(lambda: any(p.suffix == ".tmp" for p in uploads_dir(mz_server).iterdir()))
    sock.close()
    assert wait_for(lambda: not any(p.suffix == ".tmp" for p in uploads_dir(mz_server).iterdir()))

    assert mz_einstein.read(path) == b"old"
    assert mz_einstein.versions(path) == []
    assert mz_einstein.stat_ok(path).size == 3
    # the server keeps serving, and the same upload can be retried
    r = requests.put(proto.upload_endpoint, data=b"z" * 10, headers={"X-Reva-Transfer": proto.token})
    assert r.status_code == 200
    assert mz_einstein.read(path) == b"z" * 10


def test_if_match_is_checked_again_when_the_upload_finishes(mz_einstein, folder):
    path = f"{folder}/race.txt"
    mz_einstein.put_ok(path, b"base")
    etag = mz_einstein.stat_ok(path).etag
    mine = mz_einstein.upload_protocol(path, if_match=etag)  # accepted: the etag matches now
    mz_einstein.put_ok(path, b"someone else's edit")  # ...but the file changes meanwhile
    r = requests.put(mine.upload_endpoint, data=b"my edit", headers={"X-Reva-Transfer": mine.token})
    assert r.status_code == 412 and r.text.strip()
    assert mz_einstein.read(path) == b"someone else's edit"

    fresh = mz_einstein.upload_protocol(f"{folder}/new.txt", if_not_exist=True)
    mz_einstein.put_ok(f"{folder}/new.txt", b"first")
    r = requests.put(fresh.upload_endpoint, data=b"second", headers={"X-Reva-Transfer": fresh.token})
    assert r.status_code == 412
    assert mz_einstein.read(f"{folder}/new.txt") == b"first"

    current = mz_einstein.stat_ok(path).etag
    ok = mz_einstein.upload_protocol(path, if_match=current)
    r = requests.put(ok.upload_endpoint, data=b"merged", headers={"X-Reva-Transfer": ok.token})
    assert r.status_code == 200
    assert r.headers["ETag"] == mz_einstein.stat_ok(path).etag != current


def test_upload_into_a_deleted_folder_is_gone(mz_einstein, folder):
    mz_einstein.mkdir(f"{folder}/sub")
    proto = mz_einstein.upload_protocol(f"{folder}/sub/x.txt")
    mz_einstein.delete(f"{folder}/sub")
    r = requests.put(proto.upload_endpoint, data=b"x", headers={"X-Reva-Transfer": proto.token})
    assert r.status_code == 404
    assert mz_einstein.names(folder) == []


def test_overwrite_makes_a_version_with_the_old_etag(mz_einstein, folder):
    path = f"{folder}/ver.txt"
    mz_einstein.put_ok(path, b"v1")
    old = mz_einstein.stat_ok(path)
    r = mz_einstein.put_ok(path, b"v2")
    versions = mz_einstein.versions(path)
    assert len(versions) == 1 and versions[0].etag == old.etag and versions[0].size == 2
    assert r.headers["ETag"] != old.etag


def test_a_version_downloads_with_version_key(mz_einstein, mz_marie, folder):
    """As Reva's data gateway: the file's download endpoint with ``?version_key=`` sends
    that version (ranges too); an unknown key is 404; an empty one means the file."""
    path = f"{folder}/ver.bin"
    first = os.urandom(300_000)
    mz_einstein.put_ok(path, first)
    mz_einstein.put_ok(path, b"second")
    (version,) = mz_einstein.versions(path)
    proto = mz_einstein.download_protocol(path)
    headers = {"X-Reva-Transfer": proto.token}
    got = requests.get(proto.download_endpoint, params={"version_key": version.key}, headers=headers, timeout=30)
    assert got.status_code == 200 and got.content == first
    assert got.headers["ETag"] == version.etag and got.headers["Content-Length"] == str(len(first))
    part = requests.get(proto.download_endpoint, params={"version_key": version.key},
                        headers={**headers, "Range": "bytes=1000-1999"}, timeout=30)
    assert part.status_code == 206 and part.content == first[1000:2000]
    assert requests.get(proto.download_endpoint, headers=headers, timeout=30).content == b"second"
    for bad in ("nope", "../x", ""):
        r = requests.get(proto.download_endpoint, params={"version_key": bad}, headers=headers, timeout=30)
        assert r.status_code == 404 if bad else r.content == b"second", (bad, r.status_code)
    # a viewer may list versions (Reva's viewer role), so she may read them too
    share = mz_einstein.share_ok(folder, mz_einstein.grantee(mz_marie.user.id), "viewer")
    mz_marie.accept(share.id.opaque_id)
    theirs = mz_marie.download_protocol(f"/home/Shares/{folder.rsplit('/', 1)[1]}/ver.bin")
    shared = requests.get(theirs.download_endpoint, params={"version_key": version.key},
                          headers={"X-Reva-Transfer": theirs.token}, timeout=30)
    assert shared.status_code == 200 and shared.content == first


# ----------------------------------------------------------------------------------------
# ranges
# ----------------------------------------------------------------------------------------
def test_range_requests(mz_einstein, folder):
    path = f"{folder}/r.bin"
    data = bytes(range(256)) * 4
    mz_einstein.put_ok(path, data)
    for header, start, end in [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=1000-5000", 1000, 1023),
    ]:
        r = mz_einstein.get(path, {"Range": header})
        assert r.status_code == 206, header
        assert r.content == data[start : end + 1]
        assert r.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
        assert r.headers["Content-Length"] == str(end - start + 1)
    for header in ("bytes=1024-", "bytes=5000-6000", "bytes=-0"):
        r = mz_einstein.get(path, {"Range": header})
        assert r.status_code == 416, header
        assert r.headers["Content-Range"] == f"bytes */{len(data)}"
    # unparseable or multiple ranges: the whole file
    for header in ("lines=1-2", "bytes=0-1,5-6"):
        r = mz_einstein.get(path, {"Range": header})
        assert r.status_code == 200 and r.content == data
    r = mz_einstein.get(path, {"Range": "bytes=0-0"}, method="HEAD")
    assert r.status_code == 206 and r.headers["Content-Length"] == "1"


def test_download_of_a_deleted_file_is_gone(mz_einstein, folder):
    mz_einstein.put_ok(f"{folder}/gone.txt", b"bye")
    proto = mz_einstein.download_protocol(f"{folder}/gone.txt")
    mz_einstein.delete(f"{folder}/gone.txt")
    r = requests.get(proto.download_endpoint, headers={"X-Reva-Transfer": proto.token})
    assert r.status_code == 404


# ----------------------------------------------------------------------------------------
# tus
# ----------------------------------------------------------------------------------------
def tus_headers(token: str, offset: int, **extra) -> dict[str, str]:
    return {
        "X-Reva-Transfer": token,
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
        **{k.replace("_", "-"): v for k, v in extra.items()},
    }


def test_tus_upload_with_deferred_length(mz_server, mz_einstein, folder):
    path = f"{folder}/tus.bin"
    chunks = [os.urandom(1 * MiB), os.urandom(700_000), os.urandom(12345)]
    data = b"".join(chunks)
    proto = mz_einstein.upload_protocol(path, "tus")
    url = proto.upload_endpoint

    head = requests.head(url, headers={"X-Reva-Transfer": proto.token, "Tus-Resumable": "1.0.0"})
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Defer-Length"] == "1"
    assert head.headers["Upload-Expires"]

    r = requests.patch(url, data=chunks[0], headers=tus_headers(proto.token, 0))
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(chunks[0]))
    assert code_of_stat(mz_einstein, path) == "CODE_NOT_FOUND"  # not visible until complete
    assert mz_einstein.names(folder) == []

    r = requests.patch(url, data=chunks[1], headers=tus_headers(proto.token, 0))
    assert r.status_code == 409  # wrong offset
    r = requests.patch(
        url, data=chunks[1], headers={**tus_headers(proto.token, len(chunks[0])), "Content-Type": "text/plain"}
    )
    assert r.status_code == 415

    offset = len(chunks[0])
    r = requests.patch(url, data=chunks[1], headers=tus_headers(proto.token, offset))
    assert r.status_code == 204
    offset += len(chunks[1])
    head = requests.head(url, headers={"X-Reva-Transfer": proto.token})
    assert head.headers["Upload-Offset"] == str(offset)

    r = requests.patch(url, data=chunks[2], headers=tus_headers(proto.token, offset, Upload_Length=str(len(data))))
    assert r.status_code == 204, r.text
    info = mz_einstein.stat_ok(path)
    assert r.headers["ETag"] == info.etag
    assert r.headers["OC-FileId"].endswith(info.id.opaque_id)
    assert r.headers["Upload-Offset"] == str(len(data))
    assert info.size == len(data)
    assert info.checksum.sum == hashlib.md5(data).hexdigest()
    assert mz_einstein.read(path) == data
    # the upload is finished
    assert requests.head(url, headers={"X-Reva-Transfer": proto.token}).status_code == 404
    assert not (uploads_dir(mz_server) / f"{url.rsplit('/', 1)[-1]}.tus").exists()


def test_tus_with_known_length_overwrites_and_keeps_a_version(mz_einstein, folder):
    path = f"{folder}/tus2.txt"
    mz_einstein.put_ok(path, b"previous")
    old_etag = mz_einstein.stat_ok(path).etag
    data = b"0123456789" * 10
    proto = mz_einstein.upload_protocol(path, "tus", length=len(data))
    head = requests.head(proto.upload_endpoint, headers={"X-Reva-Transfer": proto.token})
    assert head.headers["Upload-Length"] == str(len(data))
    r = requests.patch(proto.upload_endpoint, data=data[:60], headers=tus_headers(proto.token, 0))
    assert r.status_code == 204 and "ETag" not in r.headers
    assert mz_einstein.read(path) == b"previous"
    # too much data: rejected, nothing of it kept
    r = requests.patch(proto.upload_endpoint, data=data[60:] + b"extra", headers=tus_headers(proto.token, 60))
    assert r.status_code == 400
    head = requests.head(proto.upload_endpoint, headers={"X-Reva-Transfer": proto.token})
    assert head.headers["Upload-Offset"] == "60"
    # a different Upload-Length than announced
    r = requests.patch(
        proto.upload_endpoint, data=data[60:], headers=tus_headers(proto.token, 60, Upload_Length="5000")
    )
    assert r.status_code == 400
    r = requests.patch(proto.upload_endpoint, data=data[60:], headers=tus_headers(proto.token, 60))
    assert r.status_code == 204 and r.headers["ETag"]
    assert mz_einstein.read(path) == data
    assert [v.etag for v in mz_einstein.versions(path)] == [old_etag]


def code_of_stat(user: StorageUser, path: str) -> str:
    return code_pb2.Code.Name(user.stat(path).status.code)


# ----------------------------------------------------------------------------------------
# big files in bounded memory
# ----------------------------------------------------------------------------------------
class _Body:
    """A streamed request body of ``size`` bytes that requests sends with Content-Length."""

    def __init__(self, size: int, block: bytes):
        self.size = size
        self.block = block
        self.md5 = hashlib.md5()

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        sent = 0
        while sent < self.size:
            chunk = self.block[: self.size - sent]
            self.md5.update(chunk)
            sent += len(chunk)
            yield chunk


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_large_streamed_upload_and_download_in_bounded_memory(mz_server, mz_einstein, folder):
    size = 300 * MiB
    path = f"{folder}/big.bin"
    body = _Body(size, os.urandom(MiB))
    before = vm_hwm_kib(mz_server.pid)

    proto = mz_einstein.upload_protocol(path, length=size)
    r = requests.put(
        proto.upload_endpoint,
        data=body,
        headers={"X-Reva-Transfer": proto.token, "Upload-Length": str(size)},
        timeout=300,
    )
    assert r.status_code == 200, r.text
    expected = body.md5.hexdigest()
    info = mz_einstein.stat_ok(path)
    assert info.size == size
    assert info.checksum.sum == expected

    digest = hashlib.md5()
    received = 0
    dl = mz_einstein.download_protocol(path)
    with requests.get(dl.download_endpoint, headers={"X-Reva-Transfer": dl.token}, stream=True, timeout=300) as r:
        assert r.status_code == 200
        assert r.headers["Content-Length"] == str(size)
        for chunk in r.iter_content(MiB):
            digest.update(chunk)
            received += len(chunk)
    assert received == size
    assert digest.hexdigest() == expected

    peak_mib = vm_hwm_kib(mz_server.pid) / 1024
    message = f"storage peak RSS {peak_mib:.0f} MiB (was {before / 1024:.0f} MiB) for a 300 MiB file"
    assert peak_mib < 120, message
    assert peak_mib - before / 1024 < 32, message


def _raw_partial_request(endpoint: str, method: str, headers: dict[str, str], body: bytes) -> socket.socket:
    url = urlsplit(endpoint)
    sock = socket.create_connection((url.hostname, url.port))
    head = f"{method} {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    sock.sendall(head.encode() + b"\r\n" + body)
    return sock


def test_a_second_transfer_to_a_busy_upload_is_a_conflict(mz_server, mz_einstein, folder):
    path = f"{folder}/busy.bin"
    proto = mz_einstein.upload_protocol(path)
    sock = _raw_partial_request(
        proto.upload_endpoint, "PUT", {"X-Reva-Transfer": proto.token, "Content-Length": str(2 * MiB)}, b"a" * MiB
    )
    try:
        assert wait_for(lambda: any(p.suffix == ".tmp" for p in uploads_dir(mz_server).iterdir()))
        r = requests.put(proto.upload_endpoint, data=b"b" * 10, headers={"X-Reva-Transfer": proto.token})
        assert r.status_code == 409 and r.text.strip()
    finally:
        sock.close()
    assert wait_for(lambda: not any(p.suffix == ".tmp" for p in uploads_dir(mz_server).iterdir()))
    r = requests.put(proto.upload_endpoint, data=b"c" * 10, headers={"X-Reva-Transfer": proto.token})
    assert r.status_code == 200
    assert mz_einstein.read(path) == b"c" * 10


def test_tus_resumes_after_a_broken_connection(mz_einstein, folder):
    path = f"{folder}/resume.bin"
    data = os.urandom(3 * MiB)
    proto = mz_einstein.upload_protocol(path, "tus", length=len(data))
    sock = _raw_partial_request(
        proto.upload_endpoint,
        "PATCH",
        {**tus_headers(proto.token, 0), "Content-Length": str(len(data))},
        data[: 2 * MiB],
    )

    def offset() -> int:
        head = requests.head(proto.upload_endpoint, headers={"X-Reva-Transfer": proto.token})
        return int(head.headers["Upload-Offset"])

    assert wait_for(lambda: offset() > 0)
    sock.close()
    assert code_of_stat(mz_einstein, path) == "CODE_NOT_FOUND"
    # resume from wherever the server got to (retrying while it notices the broken connection)
    for _ in range(100):
        resume_at = offset()
        assert 0 < resume_at <= 2 * MiB
        r = requests.patch(proto.upload_endpoint, data=data[resume_at:], headers=tus_headers(proto.token, resume_at))
        if r.status_code != 409:
            break
        time.sleep(0.05)
    assert r.status_code == 204, r.text
    assert mz_einstein.read(path) == data
    assert mz_einstein.stat_ok(path).checksum.sum == hashlib.md5(data).hexdigest()
