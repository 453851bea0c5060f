"""Bad input on every route of the extension gets a clear 4xx with a JSON message: never a
500, a 502 from contacting a server nobody named, a traceback, or a changed storage.

The battery is built from the routes the extension registers (``mesh_zenodo.rest.routes``)
and the methods their handlers define, plus Jupyter's contents and files routes that the
CS3 contents manager serves, so that a new route is covered without anyone remembering to.
Requests are sent raw (pre-encoded URLs and bodies), as a fuzzer or a hostile page would.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse

import pytest
from cs3.rpc.v1beta1.code_pb2 import CODE_OK
from tornado.httpclient import HTTPClientError
from tornado.web import RequestHandler
from traitlets.config import Config

from mesh_zenodo import rest
from mesh_zenodo.pytest_plugin import cs3_config

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

#: values for a path group of a route (already URL-encoded)
PATH_VALUES = ["%ED%A0%80", "%00", "..", "x" * 3000, "%C2%B2", "-1"]
#: query strings every route gets
QUERIES = [
    "base_url=https://" + "a" * 64 + ".example.org",
    "base_url=https://zenodo.org%00.evil.example",
    "base_url=http://169.254.169.254/latest",
    "base_url=http://127.0.0.1:1",
    "base_url=%ED%A0%80",
    "environment=nowhere",
    "page=%C2%B2&size=%C2%B9",
    "page=99999999999999999999999&size=-1",
    "q=" + "x" * 3000,
    "path=..&kind=%00",
    "path=%ED%A0%80",
]
#: bodies every route that takes one gets
BODIES = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    b"\xff\xfe not json",
    b'"a string"',
    b"[1, 2]",
    json.dumps({"token": "\ud800" * 10, "base_url": "https://" + "b" * 64 + ".org"}).encode(),
    json.dumps({"record_id": "7000006", "keys": ["\ud800"], "destination": "\ud800"}).encode(),
    json.dumps({"record_id": 10**30, "keys": [5], "destination": 7, "on_conflict": []}).encode(),
    json.dumps({"record_id": "7000006", "base_url": "http://169.254.169.254"}).encode(),
    json.dumps({"record_id": "7000006", "base_url": "https://zenodo.org\u0000.evil"}).encode(),
]


def extension_routes() -> list[tuple[str, str]]:
    """``(url pattern, method)`` for every route the extension registers."""
    found = []
    for pattern, handler, _kwargs in rest.routes():
        for method in METHODS:
            mine = getattr(handler, method.lower(), None)
            if mine is not None and mine is not getattr(RequestHandler, method.lower()):
                found.append((pattern, method))
    return found


ROUTES = extension_routes()


def concrete_urls(pattern: str) -> list[str]:
    """The route's URL with hostile values in each path group (or as it is)."""
    groups = re.findall(r"\((?:\?P<\w+>)?[^)]*\)", pattern)
    if not groups:
        return [pattern]
    urls = []
    for value in PATH_VALUES:
        url = pattern
        for group in groups:
            url = url.replace(group, value, 1)
        urls.append(url)
    return urls


@pytest.fixture
def jp_server_config(mz_storage, mz_cs3_root, mz_standin):
    return Config(
        {
            "ServerApp": {
                "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
                "jpserver_extensions": {"mesh_zenodo": True},
            },
            "ZenodoClient": {"base_url": mz_standin.url, "backoff": 0.01, "retries": 0},
            **cs3_config(mz_storage, mz_cs3_root),
        }
    )


@pytest.fixture
def send(http_server_client, jp_base_url, jp_auth_header, mz_zenodo):
    async def send(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
        target = jp_base_url.rstrip("/") + url
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = b"{}"
        try:
            response = await http_server_client.fetch(
                target, method=method, body=body, headers={**jp_auth_header, **(headers or {})},
                request_timeout=60, allow_nonstandard_methods=True,
            )
        except HTTPClientError as err:
            response = err.response
            assert response is not None, (method, url, err)
        return response

    return send


@pytest.fixture
def send_raw(http_server_client, http_server_port, jp_base_url, jp_auth_header, mz_zenodo):
    """A request written byte by byte on a socket: headers exactly as given (an HTTP
    client library would fix a malformed Content-Length). Returns ``(status, body)``."""

    async def send_raw(method: str, url: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        port = http_server_port[-1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        lines = [f"{method} {jp_base_url.rstrip('/')}{url} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                 "Connection: close", *(f"{k}: {v}" for k, v in {**jp_auth_header, **headers}.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body)
        await writer.drain()
        # the answer may come before the server stops waiting for the body it announced
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        length = re.search(rb"(?im)^content-length: *([0-9]+)", head)
        payload = await asyncio.wait_for(reader.readexactly(int(length.group(1))), 60) if length else b""
        writer.close()
        return int(head.split()[1]), payload

    return send_raw


def assert_no_secret(response) -> None:
    # no CS3 access or transfer token (JWTs start with "eyJ"), no password, in any answer
    assert b"eyJ" not in (response.body or b"") and b"relativity" not in (response.body or b"")


def assert_clear_4xx(response, method: str, what: str) -> None:
    assert_no_secret(response)
    assert 400 <= response.code < 500, f"{method} {what[:300]} answered {response.code}: {response.body[:300]!r}"
    if method == "HEAD":
        return
    payload = json.loads(response.body)
    assert isinstance(payload.get("message"), str) and payload["message"], payload
    assert "Traceback" not in response.body.decode("utf-8", "replace")


def test_the_battery_covers_every_area():
    patterns = {pattern for pattern, _ in ROUTES}
    for expected in ("/mesh-zenodo/session", "/mesh-zenodo/zenodo/pulls", "/mesh-zenodo/jobs/([^/]+)",
                     "/mesh-zenodo/upload/(?P<path>.+)", "/mesh-zenodo/zenodo/login"):
        assert expected in patterns
    assert ("/mesh-zenodo/zenodo/login", "POST") in ROUTES and ("/mesh-zenodo/jobs/([^/]+)", "DELETE") in ROUTES


@pytest.mark.parametrize("pattern,method", ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
async def test_hostile_input_on_every_route_is_a_clear_4xx_or_a_success(send, pattern, method):
    for url in concrete_urls(pattern):
        for query in QUERIES:
            response = await send(method, f"{url}?{query}")
            if response.code < 400:
                assert response.code in (200, 201, 202, 204), (method, url, query, response.code)
                assert_no_secret(response)
                continue
            assert_clear_4xx(response, method, f"{url}?{query}")
        if method in ("POST", "PUT", "PATCH"):
            for body in BODIES:
                response = await send(method, url, body=body)
                if response.code < 400:
                    assert response.code in (200, 201, 202), (method, url, body[:60], response.code)
                    assert_no_secret(response)
                    continue
                assert_clear_4xx(response, method, f"{url} {body[:80]!r}")


@pytest.mark.parametrize("base_url", [
    "https://" + "a" * 64 + ".example.org",  # a host label over 63 characters
    "https://zenodo.org%00.evil.example",  # a NUL (tornado makes it a space)
    "http://169.254.169.254",  # an internal address nobody configured
    "http://127.0.0.1:1",  # likewise: refused before any connection
])
async def test_a_base_url_nobody_allowed_is_refused_before_connecting(send, mz_standin, base_url):
    before = len(mz_standin.requests())
    for path in ("records", "records/7000006", "communities", "communities/escape2020", "communities/escape2020/records"):
        response = await send("GET", f"/mesh-zenodo/zenodo/{path}?base_url={base_url}")
        assert response.code == 400, (path, response.code, response.body[:200])
        assert json.loads(response.body)["reason"] == "InvalidBaseURL"
    pull = await send("POST", "/mesh-zenodo/zenodo/pulls", body=json.dumps(
        {"record_id": "7000006", "destination": "", "base_url": urllib.parse.unquote(base_url)}).encode())
    assert pull.code == 400 and json.loads(pull.body)["reason"] == "InvalidBaseURL"
    assert len(mz_standin.requests()) == before  # and the configured server was not asked either


async def test_the_configured_and_the_signed_in_servers_are_allowed(send, mz_standin):
    response = await send("GET", f"/mesh-zenodo/zenodo/records?q=ocean&base_url={mz_standin.url}")
    assert response.code == 200 and json.loads(response.body)["hits"]


@pytest.mark.parametrize("length", ["²", "¹²", "٣", "1" * 30, "-5", "abc"])
async def test_upload_with_a_content_length_that_is_not_a_number(send_raw, mz_raw, mz_cs3_root, length):
    # Python's isdigit() accepts "²"; the header must be plain ASCII digits
    status, body = await send_raw("PUT", "/mesh-zenodo/upload/new.bin", {"Content-Length": length})
    assert 400 <= status < 500, (length, status, body[:200])
    assert mz_raw.names(mz_cs3_root) == []


# ---------------------------------------------------------------------------------------
# Jupyter's contents routes, served by the CS3 contents manager
# ---------------------------------------------------------------------------------------

async def make_folder_with_file(send):
    assert (await send("PUT", "/api/contents/fz", body=json.dumps({"type": "directory"}).encode())).code == 201
    body = json.dumps({"type": "file", "format": "text", "content": "kept"}).encode()
    assert (await send("PUT", "/api/contents/fz/a.txt", body=body)).code == 201


@pytest.mark.parametrize("method,url", [
    ("DELETE", "/api/contents/fz/nope/.."),  # once deleted fz although fz/nope does not exist
    ("GET", "/api/contents/fz/a.txt/.."),  # once answered a folder named ".."
    ("GET", "/api/contents/fz/./a.txt"),
    ("PATCH", "/api/contents/fz/a.txt"),  # body: a new path with ".."
    ("GET", "/files/fz/../fz/a.txt"),
])
async def test_dot_segments_are_refused_and_nothing_changes(send, mz_raw, mz_cs3_root, method, url):
    await make_folder_with_file(send)
    body = json.dumps({"path": "fz/../b.txt"}).encode() if method == "PATCH" else None
    response = await send(method, url, body=body)
    assert response.code == 400, (response.code, response.body[:200])
    if not url.startswith("/files/"):  # /files/ is opened by the browser: Jupyter's error page
        assert "'.' and '..'" in json.loads(response.body)["message"]
    assert mz_raw.names(mz_cs3_root) == ["fz"]
    assert mz_raw.names(f"{mz_cs3_root}/fz") == ["a.txt"]
    assert mz_raw.read(f"{mz_cs3_root}/fz/a.txt") == b"kept"


@pytest.mark.parametrize("method,url,body", [
    ("PATCH", "/api/contents/fz/a.txt", {"path": "fz/\ud800.txt"}),
    ("POST", "/api/contents/fz", {"copy_from": "fz/\ud800"}),
    ("POST", "/api/contents/fz", {"ext": "\ud800"}),
    ("POST", "/api/contents/fz", {"ext": "/../../x"}),  # once created fz/untitled/../../x
    ("POST", "/api/contents/fz", {"ext": ".."}),
    ("PUT", "/api/contents/fz/b.txt", {"path": 5, "type": "file", "format": "text", "content": "x"}),
    ("PUT", "/api/contents/fz/b.txt", {"type": "file", "format": "text", "content": "\ud800"}),
    ("PUT", "/api/contents/fz/b.ipynb", {"type": "notebook", "content": {"cells": "\ud800"}}),
    ("PUT", "/api/contents/fz/b.txt", {"type": "file", "format": "base64", "content": "!!!"}),
    ("POST", "/mesh-zenodo/zenodo/pulls", {"record_id": "7000006", "destination": "fz/\ud800"}),
])
async def test_unusable_names_and_models_are_400_and_nothing_changes(send, mz_raw, mz_cs3_root, method, url, body):
    await make_folder_with_file(send)
    response = await send(method, url, body=json.dumps(body).encode())
    assert response.code == 400, (response.code, response.body[:300])
    assert json.loads(response.body)["message"]
    assert mz_raw.names(mz_cs3_root) == ["fz"]
    assert mz_raw.names(f"{mz_cs3_root}/fz") == ["a.txt"]


async def test_deep_json_on_the_contents_api_is_400(send, mz_raw, mz_cs3_root):
    response = await send("PUT", "/api/contents/deep.txt", body=b"[" * 100_000 + b"]" * 100_000)
    assert 400 <= response.code < 500
    assert mz_raw.stat(f"{mz_cs3_root}/deep.txt").status.code != CODE_OK
