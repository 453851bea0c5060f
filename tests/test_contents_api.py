"""Lab's file operations through jupyter_server's REST API, landing on the CS3 storage.

Each test does what Lab does (the same REST calls) and checks what a user sees: the
REST answer, and what is on the storage (read back with the raw CS3 protocol).
"""

from __future__ import annotations

import base64
import json
import os

import nbformat
import pytest
from tornado.httpclient import HTTPClientError


def body(response):
    return json.loads(response.body.decode())


async def expect_error(mz_fetch, *args, status, **kwargs):
    with pytest.raises(HTTPClientError) as e:
        await mz_fetch(*args, **kwargs)
    assert e.value.code == status, e.value
    text = e.value.response.body.decode()
    # jupyter_server answers a GET of a missing path with a plain sentence, the rest as JSON
    payload = json.loads(text) if e.value.response.headers.get("Content-Type") == "application/json" and text.startswith("{") else {"message": text}
    assert payload["message"], payload
    return payload


async def test_lab_root_is_the_cs3_folder(jp_fetch, mz_raw, mz_cs3_root):
    mz_raw.put_ok(f"{mz_cs3_root}/already-there.txt", b"from the storage")
    listing = body(await jp_fetch("api", "contents", ""))
    assert listing["type"] == "directory"
    assert [m["name"] for m in listing["content"]] == ["already-there.txt"]
    model = body(await jp_fetch("api", "contents", "already-there.txt"))
    assert model["content"] == "from the storage"
    assert model["last_modified"].endswith("Z")


async def test_new_notebook_save_and_reopen(jp_fetch, mz_raw, mz_cs3_root):
    created = body(await jp_fetch("api", "contents", "", method="POST", body=json.dumps({"type": "notebook"})))
    assert created["name"] == "Untitled.ipynb" and created["type"] == "notebook"
    info = mz_raw.info(f"{mz_cs3_root}/Untitled.ipynb")
    assert info is not None

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    saved = body(
        await jp_fetch(
            "api", "contents", "Untitled.ipynb", method="PUT", body=json.dumps({"type": "notebook", "content": nb})
        )
    )
    assert saved["last_modified"] != created["last_modified"]
    on_storage = nbformat.reads(mz_raw.read(f"{mz_cs3_root}/Untitled.ipynb").decode(), as_version=4)
    assert on_storage.cells[0].source == "1 + 1"
    reopened = body(await jp_fetch("api", "contents", "Untitled.ipynb"))
    assert reopened["content"]["cells"][0]["source"] == "1 + 1"


async def test_two_saves_within_a_second_have_distinct_timestamps(jp_fetch):
    stamps = []
    for text in ("a", "b", "c"):
        model = body(
            await jp_fetch(
                "api", "contents", "fast.txt", method="PUT",
                body=json.dumps({"type": "file", "format": "text", "content": text}),
            )
        )
        stamps.append(model["last_modified"])
    assert len(set(stamps)) == 3, stamps
    assert "." in stamps[0]  # sub-second precision


async def test_require_hash_matches_content(jp_fetch):
    await jp_fetch(
        "api", "contents", "h.txt", method="PUT", body=json.dumps({"type": "file", "format": "text", "content": "hash me"})
    )
    model = body(await jp_fetch("api", "contents", "h.txt", params={"hash": "1", "content": "0"}))
    import hashlib

    assert model["hash"] == hashlib.md5(b"hash me").hexdigest()
    assert model["hash_algorithm"] == "md5"


async def test_rename_move_delete_and_recycle_bin(jp_fetch, mz_raw, mz_cs3_root):
    await jp_fetch("api", "contents", "", method="POST", body=json.dumps({"type": "directory"}))
    await jp_fetch("api", "contents", "", method="POST", body=json.dumps({"type": "file", "ext": ".py"}))
    renamed = body(
        await jp_fetch(
            "api", "contents", "untitled.py", method="PATCH", body=json.dumps({"path": "Untitled Folder/script.py"})
        )
    )
    assert renamed["path"] == "Untitled Folder/script.py"
    assert set(mz_raw.names(f"{mz_cs3_root}/Untitled Folder")) == {"script.py"}
    await jp_fetch("api", "contents", "Untitled Folder/script.py", method="DELETE")
    assert mz_raw.info(f"{mz_cs3_root}/Untitled Folder/script.py") is None
    assert any(item.ref.path.endswith("/Untitled Folder/script.py") for item in mz_raw.recycle())


async def test_copy_file(jp_fetch, mz_raw, mz_cs3_root):
    mz_raw.put_ok(f"{mz_cs3_root}/data.csv", b"a,b\n1,2\n")
    copied = body(await jp_fetch("api", "contents", "", method="POST", body=json.dumps({"copy_from": "data.csv"})))
    assert copied["name"] == "data-Copy1.csv"
    assert mz_raw.read(f"{mz_cs3_root}/data-Copy1.csv") == b"a,b\n1,2\n"


async def test_checkpoints_are_file_versions(jp_fetch, mz_raw, mz_cs3_root):
    def put(text):
        return jp_fetch(
            "api", "contents", "v.txt", method="PUT", body=json.dumps({"type": "file", "format": "text", "content": text})
        )

    await put("version one")
    checkpoint = body(await jp_fetch("api", "contents", "v.txt", "checkpoints", method="POST", body=""))
    await put("version two")
    await put("version three")
    listed = body(await jp_fetch("api", "contents", "v.txt", "checkpoints"))
    assert len(listed) == 3  # current content + two kept versions
    assert len(mz_raw.versions(f"{mz_cs3_root}/v.txt")) == 2
    await jp_fetch("api", "contents", "v.txt", "checkpoints", checkpoint["id"], method="POST", body="")
    assert mz_raw.read(f"{mz_cs3_root}/v.txt") == b"version one"
    # reverting kept what was there: nothing the user typed is lost
    versions = mz_raw.versions(f"{mz_cs3_root}/v.txt")
    assert len(versions) == 3
    await expect_error(jp_fetch, "api", "contents", "v.txt", "checkpoints", "no-such-id", method="POST", body="", status=404)


async def test_chunked_upload_appears_whole_only_at_the_end(jp_fetch, mz_raw, mz_cs3_root):
    data = os.urandom(3 * 1024 * 1024 + 123)
    chunk = 1024 * 1024
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for n, piece in enumerate(pieces, start=1):
        number = -1 if n == len(pieces) else n
        model = body(
            await jp_fetch(
                "api", "contents", "big.bin", method="PUT",
                body=json.dumps(
                    {"type": "file", "format": "base64", "chunk": number, "content": base64.b64encode(piece).decode(),
                     "name": "big.bin", "path": "big.bin"}
                ),
            )
        )
        if number != -1:
            assert mz_raw.info(f"{mz_cs3_root}/big.bin") is None  # nothing half-written is visible
    assert model["size"] == len(data)
    assert mz_raw.read(f"{mz_cs3_root}/big.bin") == data


async def test_chunk_without_its_start_is_refused(jp_fetch, mz_raw, mz_cs3_root):
    payload = {"type": "file", "format": "base64", "chunk": 3, "content": base64.b64encode(b"x").decode()}
    await expect_error(jp_fetch, "api", "contents", "orphan.bin", method="PUT", body=json.dumps(payload), status=400)
    assert mz_raw.info(f"{mz_cs3_root}/orphan.bin") is None


async def test_download_streams_with_range(jp_fetch, mz_raw, mz_cs3_root):
    data = bytes(range(256)) * 1000
    mz_raw.put_ok(f"{mz_cs3_root}/blob.bin", data)
    whole = await jp_fetch("files", "blob.bin", params={"download": "1"})
    assert whole.body == data
    assert "attachment" in whole.headers["Content-Disposition"]
    part = await jp_fetch("files", "blob.bin", headers={"Range": "bytes=100-199"})
    assert part.code == 206 and part.body == data[100:200]
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("files", "blob.bin", headers={"Range": "bytes=999999-"})
    assert e.value.code == 416


@pytest.mark.parametrize(
    "path,status",
    [
        ("missing.txt", 404),
        ("../escape.txt", 400),  # '.' and '..' are refused, never resolved (issue 7)
        ("a/../../escape.txt", 400),
        (".hidden", 404),
    ],
)
async def test_bad_paths_are_4xx_with_a_message(jp_fetch, path, status):
    await expect_error(jp_fetch, "api", "contents", path, status=status)


async def test_nul_in_path_is_400(jp_fetch):
    await expect_error(jp_fetch, "api", "contents", "bad\x00name.txt", status=400)


async def test_overlong_name_is_400_and_nothing_created(jp_fetch, mz_raw, mz_cs3_root):
    name = "n" * 300 + ".txt"
    await expect_error(
        jp_fetch, "api", "contents", name, method="PUT",
        body=json.dumps({"type": "file", "format": "text", "content": "x"}), status=400,
    )
    assert set(mz_raw.names(mz_cs3_root)) == set()


async def test_save_into_missing_folder_is_404_not_500(jp_fetch):
    await expect_error(
        jp_fetch, "api", "contents", "no-such-folder/x.txt", method="PUT",
        body=json.dumps({"type": "file", "format": "text", "content": "x"}), status=404,
    )


async def test_rename_onto_existing_is_409_and_both_files_survive(jp_fetch, mz_raw, mz_cs3_root):
    mz_raw.put_ok(f"{mz_cs3_root}/a.txt", b"A")
    mz_raw.put_ok(f"{mz_cs3_root}/b.txt", b"B")
    await expect_error(jp_fetch, "api", "contents", "a.txt", method="PATCH", body=json.dumps({"path": "b.txt"}), status=409)
    assert mz_raw.read(f"{mz_cs3_root}/a.txt") == b"A" and mz_raw.read(f"{mz_cs3_root}/b.txt") == b"B"


async def test_file_too_large_to_open_is_413_with_advice(jp_fetch, jp_serverapp, mz_raw, mz_cs3_root):
    jp_serverapp.contents_manager.max_open_size = 1000
    mz_raw.put_ok(f"{mz_cs3_root}/large.txt", b"x" * 5000)
    payload = await expect_error(jp_fetch, "api", "contents", "large.txt", status=413)
    assert "download" in payload["message"]
    assert (await jp_fetch("files", "large.txt")).body == b"x" * 5000


async def test_session_endpoint_names_user_and_storage(jp_fetch, mz_storage):
    session = body(await jp_fetch("mesh-zenodo", "session"))
    assert session["connected"] is True
    assert session["user"]["username"] == "einstein"
    assert session["user"]["display_name"] == "Albert Einstein"
    assert session["user"]["idp"] == "cernbox.cern.ch"
    assert session["storage"]["gateway"] == mz_storage.grpc_addr
    assert session["contents"] == "cs3"


async def test_session_endpoint_requires_jupyter_auth(jp_fetch):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("mesh-zenodo", "session", headers={"Authorization": "token wrong"})
    assert e.value.code == 403


async def test_streamed_upload_lands_whole_and_replaces_only_when_asked(jp_fetch, mz_raw, mz_cs3_root):
    data = os.urandom(5 * 1024 * 1024 + 7)
    model = body(await jp_fetch("mesh-zenodo", "upload", "streamed.bin", method="PUT", body=data))
    assert model["path"] == "streamed.bin" and model["size"] == len(data)
    assert mz_raw.read(f"{mz_cs3_root}/streamed.bin") == data
    # an existing file is not replaced silently
    await expect_error(jp_fetch, "mesh-zenodo", "upload", "streamed.bin", method="PUT", body=b"other", status=409)
    assert mz_raw.read(f"{mz_cs3_root}/streamed.bin") == data
    body(await jp_fetch("mesh-zenodo", "upload", "streamed.bin", method="PUT", body=b"other", params={"overwrite": "1"}))
    assert mz_raw.read(f"{mz_cs3_root}/streamed.bin") == b"other"
    assert len(mz_raw.versions(f"{mz_cs3_root}/streamed.bin")) == 1  # the previous content is a version


async def test_streamed_upload_refuses_bad_targets(jp_fetch):
    await expect_error(jp_fetch, "mesh-zenodo", "upload", "no-folder/x.bin", method="PUT", body=b"x", status=404)
    await expect_error(jp_fetch, "mesh-zenodo", "upload", ".hidden.bin", method="PUT", body=b"x", status=400)
    await expect_error(jp_fetch, "mesh-zenodo", "upload", "../out.bin", method="PUT", body=b"x", status=400)


async def test_streamed_upload_cut_off_midway_leaves_nothing(jp_fetch, http_server_port, jp_auth_header, jp_base_url, mz_raw, mz_cs3_root):
    import asyncio

    port = http_server_port[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"PUT {jp_base_url}mesh-zenodo/upload/cut.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: {jp_auth_header['Authorization']}\r\nContent-Length: {4 * 1024 * 1024}\r\n\r\n"
    )
    writer.write(head.encode() + os.urandom(1024 * 1024))
    await writer.drain()
    await asyncio.sleep(0.5)
    writer.close()
    await asyncio.sleep(1.0)
    assert mz_raw.info(f"{mz_cs3_root}/cut.bin") is None
    # the server keeps serving, and the same upload done right succeeds
    body(await jp_fetch("mesh-zenodo", "upload", "cut.bin", method="PUT", body=b"complete"))
    assert mz_raw.read(f"{mz_cs3_root}/cut.bin") == b"complete"
