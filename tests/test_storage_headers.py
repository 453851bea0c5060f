"""Issue 7 "Hardening", item 5: numbers in the data gateway's headers (and in the
opaque Upload-Length of InitiateFileUpload) are ASCII digits or a 400, never a 500:
``str.isdigit()`` takes ``"²"``, ``int()`` does not. Absurdly large lengths are 413."""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlsplit

import pytest
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.types.v1beta1 import types_pb2

OK = code_pb2.CODE_OK
THIRTY_DIGITS = "9" * 30


def raw(endpoint: str, method: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """One HTTP/1.1 request with headers sent as ISO-8859-1 bytes (as HTTP allows), so
    that "²" arrives as the one byte 0xB2; returns (status, body)."""
    url = urlsplit(endpoint)
    head = f"{method} {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split(b" ", 2)[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.fixture
def path(mz_einstein):
    folder = f"/home/h-{uuid.uuid4().hex[:8]}"
    assert mz_einstein.mkdir(folder).status.code == OK
    mz_einstein.put_ok(f"{folder}/data.bin", bytes(range(100)))
    return f"{folder}/data.bin"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("spec", ["bytes=²-", "bytes=0-¹", "bytes=-²", "bytes=x-3", "bytes=", "bytes=-"])
def test_a_malformed_range_is_400(mz_einstein, path, method, spec):
    proto = mz_einstein.download_protocol(path)
    status, body = raw(proto.download_endpoint, method, {"X-Reva-Transfer": proto.token, "Range": spec})
    assert status == 400
    if method == "GET":
        assert b"Range" in body


def test_ranges_with_huge_numbers_mean_beyond_the_end(mz_einstein, path):
    proto = mz_einstein.download_protocol(path)
    status, body = raw(proto.download_endpoint, "GET", {"X-Reva-Transfer": proto.token, "Range": f"bytes=0-{THIRTY_DIGITS}"})
    assert status == 206 and body == bytes(range(100))
    status, body = raw(proto.download_endpoint, "GET", {"X-Reva-Transfer": proto.token, "Range": f"bytes=-{THIRTY_DIGITS}"})
    assert status == 206 and body == bytes(range(100))
    status, _ = raw(proto.download_endpoint, "GET", {"X-Reva-Transfer": proto.token, "Range": f"bytes={THIRTY_DIGITS}-"})
    assert status == 416


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Upload-Length": "³", "Content-Length": "3"}, 400),
        ({"Upload-Length": "1_0", "Content-Length": "3"}, 400),
        ({"Upload-Length": "+3", "Content-Length": "3"}, 400),
        ({"Content-Length": "²"}, 400),
        ({"Upload-Length": THIRTY_DIGITS, "Content-Length": "3"}, 413),
        ({"Upload-Length": "9" * 5000, "Content-Length": "3"}, 413),
    ],
)
def test_simple_put_lengths(mz_einstein, path, headers, expected):
    proto = mz_einstein.upload_protocol(path)
    status, body = raw(proto.upload_endpoint, "PUT", {"X-Reva-Transfer": proto.token, **headers}, b"abc")
    assert status == expected and body.strip()
    assert mz_einstein.read(path) == bytes(range(100))


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Upload-Offset": "²"}, 400),
        ({"Upload-Offset": "0", "Upload-Length": "³"}, 400),
        ({"Upload-Offset": THIRTY_DIGITS}, 413),
        ({"Upload-Offset": "0", "Upload-Length": THIRTY_DIGITS}, 413),
    ],
)
def test_tus_numbers(mz_einstein, path, headers, expected):
    proto = mz_einstein.upload_protocol(path, "tus")
    status, body = raw(
        proto.upload_endpoint,
        "PATCH",
        {
            "X-Reva-Transfer": proto.token,
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": "3",
            **headers,
        },
        b"abc",
    )
    assert status == expected and body.strip()


@pytest.mark.parametrize("length", ["³", "-1", THIRTY_DIGITS, "1e3"])
def test_initiate_upload_length_must_be_decimal(mz_einstein, path, length):
    opaque = types_pb2.Opaque()
    opaque.map["Upload-Length"].CopyFrom(types_pb2.OpaqueEntry(decoder="plain", value=length.encode("utf-8")))
    res = mz_einstein.call(
        "InitiateFileUpload", sp.InitiateFileUploadRequest(ref=spr.Reference(path=path), opaque=opaque)
    )
    assert res.status.code == code_pb2.CODE_INVALID_ARGUMENT and "Upload-Length" in res.status.message


def test_the_gateway_is_fine_afterwards(mz_server, mz_einstein, path):
    mz_einstein.put_ok(path, b"after")
    assert mz_einstein.read(path) == b"after"
    assert "Traceback" not in mz_server.output
