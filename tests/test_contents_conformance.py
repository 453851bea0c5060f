"""Conformance: CS3ContentsManager gives the same answers as jupyter_server's own
AsyncFileContentsManager for the same calls (models, and the 400/404/409 cases).

Each scenario runs against both managers, one on a temporary local folder, one on a
fresh folder of the embedded CS3 storage over real gRPC; the observations, with the
fields that legitimately differ (timestamps, hash algorithm) taken out, must be equal.
Where we differ on purpose (paths with '.' and '..' segments), a test says so.
"""

from __future__ import annotations

import base64
import uuid

import nbformat
import pytest
from cs3.rpc.v1beta1.code_pb2 import CODE_OK
from jupyter_server.services.contents.filemanager import AsyncFileContentsManager
from jupyter_core.utils import ensure_async
from tornado.web import HTTPError

from mesh_zenodo.contents import CS3ContentsManager
from mesh_zenodo.cs3.client import CS3Client
from mesh_zenodo.pytest_plugin import PASSWORDS

VOLATILE = {"last_modified", "created", "hash", "hash_algorithm"}


def normalize(model):
    if isinstance(model, dict):
        out = {k: normalize(v) for k, v in model.items() if k not in VOLATILE}
        if model.get("type") == "directory" and isinstance(model.get("content"), list):
            out["content"] = sorted(out["content"], key=lambda m: m["name"])
        return out
    if isinstance(model, list):
        return [normalize(m) for m in model]
    return model


async def observe(coro):
    """What a REST caller would see: the normalized model, or the HTTP error status."""
    try:
        return ("ok", normalize(await ensure_async(coro)))
    except HTTPError as e:
        return ("error", e.status_code)


def notebook(source: str = "print('hi')") -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source, id="cell-1"))
    return nb


async def s_new_untitled(cm):
    out = [await observe(cm.new_untitled(type="notebook")) for _ in range(2)]
    out.append(await observe(cm.new_untitled(type="file")))
    out.append(await observe(cm.new_untitled(type="file", ext=".py")))
    out.append(await observe(cm.new_untitled(type="directory")))
    out.append(await observe(cm.new_untitled(type="directory")))
    out.append(await observe(cm.new_untitled(path="Untitled Folder", type="notebook")))
    out.append(await observe(cm.new_untitled(path="missing-dir", type="notebook")))
    out.append(await observe(cm.get("")))
    return out


async def s_get_types(cm):
    await cm.new(path="a.ipynb")
    await cm.save({"type": "file", "format": "text", "content": "hello\n"}, "f.txt")
    await cm.save({"type": "directory"}, "d")
    return [
        await observe(cm.get("a.ipynb")),
        await observe(cm.get("a.ipynb", content=False)),
        await observe(cm.get("a.ipynb", type="file")),
        await observe(cm.get("a.ipynb", type="file", format="base64")),
        await observe(cm.get("f.txt")),
        await observe(cm.get("f.txt", format="base64")),
        await observe(cm.get("f.txt", type="directory")),
        await observe(cm.get("d", type="file")),
        await observe(cm.get("d", type="notebook")),
        await observe(cm.get("d")),
        await observe(cm.get("missing.txt")),
        await observe(cm.get("d/missing.ipynb")),
    ]


async def s_save_roundtrip(cm):
    nb = notebook("x = 1\nprint(x)")
    out = [await observe(cm.save({"type": "notebook", "content": nb}, "n.ipynb"))]
    out.append(await observe(cm.get("n.ipynb")))
    binary = bytes(range(256)) * 4
    out.append(
        await observe(cm.save({"type": "file", "format": "base64", "content": base64.b64encode(binary).decode()}, "b.bin"))
    )
    out.append(await observe(cm.get("b.bin")))
    out.append(await observe(cm.get("b.bin", format="text")))
    out.append(await observe(cm.save({"type": "file", "format": "text", "content": "ünïcødé ✓"}, "u.txt")))
    out.append(await observe(cm.get("u.txt")))
    out.append(await observe(cm.save({"type": "file", "format": "text", "content": "two"}, "u.txt")))
    out.append(await observe(cm.get("u.txt")))
    out.append(await observe(cm.save({"type": "file", "format": "text", "content": ""}, "empty.txt")))
    out.append(await observe(cm.get("empty.txt")))
    return out


async def s_save_errors(cm):
    return [
        await observe(cm.save({"content": "x"}, "x.txt")),
        await observe(cm.save({"type": "file"}, "x.txt")),
        await observe(cm.save({"type": "file", "content": "x"}, "x.txt")),
        await observe(cm.save({"type": "file", "format": "base64", "content": "@@not base64@@"}, "x.txt")),
        await observe(cm.save({"type": "bogus", "content": "x"}, "x.txt")),
        await observe(cm.get("x.txt")),
    ]


async def s_rename(cm):
    await cm.new(path="one.ipynb")
    await cm.new(path="two.ipynb")
    await cm.save({"type": "directory"}, "sub")
    return [
        await observe(cm.rename("one.ipynb", "two.ipynb")),
        await observe(cm.rename("missing.ipynb", "three.ipynb")),
        await observe(cm.rename("one.ipynb", "sub/moved.ipynb")),
        await observe(cm.get("sub/moved.ipynb", content=False)),
        await observe(cm.get("one.ipynb")),
        await observe(cm.rename("sub", "renamed-sub")),
        await observe(cm.get("renamed-sub")),
        await observe(cm.update({"path": "renamed-sub/final.ipynb"}, "renamed-sub/moved.ipynb")),
        await observe(cm.rename("two.ipynb", "two.ipynb")),
    ]


async def s_delete(cm):
    await cm.new(path="gone.ipynb")
    await cm.save({"type": "directory"}, "full")
    await cm.new(path="full/inner.txt")
    return [
        await observe(cm.delete("gone.ipynb")),
        await observe(cm.get("gone.ipynb")),
        await observe(cm.delete("gone.ipynb")),
        await observe(cm.delete("full")),
        await observe(cm.get("full")),
        await observe(cm.delete("")),
    ]


async def s_copy(cm):
    await cm.save({"type": "notebook", "content": notebook("copied")}, "src.ipynb")
    await cm.save({"type": "file", "format": "text", "content": "data"}, "data.tar.gz")
    await cm.save({"type": "directory"}, "target")
    return [
        await observe(cm.copy("src.ipynb")),
        await observe(cm.copy("src.ipynb")),
        await observe(cm.copy("src.ipynb", "target")),
        await observe(cm.copy("src.ipynb", "target/named.ipynb")),
        await observe(cm.get("target/named.ipynb")),
        await observe(cm.copy("data.tar.gz")),
        await observe(cm.copy("missing.ipynb")),
        await observe(cm.copy("src.ipynb", "nowhere/x.ipynb")),
        await observe(cm.get("")),
    ]


async def s_hidden_and_outside(cm):
    return [
        await observe(cm.save({"type": "file", "format": "text", "content": "secret"}, ".hidden.txt")),
        await observe(cm.save({"type": "file", "format": "text", "content": "visible"}, "visible.txt")),
        await observe(cm.get("")),
        await observe(cm.get(".hidden.txt")),
        await observe(cm.save({"type": "directory"}, ".hidden-dir")),
        await observe(cm.rename("visible.txt", ".now-hidden.txt")),
        await observe(cm.delete(".hidden.txt")),
    ]


DOT_PATHS = ["../outside.txt", "a/../../outside.txt", "./visible.txt", "d/nope/..", "d/f.txt/.."]


@pytest.mark.parametrize("path", DOT_PATHS)
async def test_dot_segments_are_where_we_differ_on_purpose(managers, path):
    """jupyter_server's manager resolves '.' and '..' as text (``d/nope/..`` is ``d``, even
    where ``d/nope`` does not exist, so a DELETE of it deletes ``d``); ours refuses them
    with 400 and names no file it was not given."""
    local, cs3 = managers
    for cm in (local, cs3):
        await cm.save({"type": "directory"}, "d")
        await cm.save({"type": "file", "format": "text", "content": "x"}, "d/f.txt")
        await cm.save({"type": "file", "format": "text", "content": "v"}, "visible.txt")
    assert await observe(cs3.get(path)) == ("error", 400)
    assert await observe(cs3.delete(path)) == ("error", 400)
    assert await observe(cs3.get("d/f.txt", content=False)) == await observe(local.get("d/f.txt", content=False))
    await cs3.client.close()


async def s_exists(cm):
    await cm.new(path="e.ipynb")
    await cm.save({"type": "directory"}, "ed")
    return [
        await observe(cm.file_exists("e.ipynb")),
        await observe(cm.file_exists("ed")),
        await observe(cm.dir_exists("ed")),
        await observe(cm.dir_exists("e.ipynb")),
        await observe(cm.dir_exists("")),
        await observe(cm.exists("nothing")),
        await observe(cm.is_hidden(".x/y")),
        await observe(cm.is_hidden("x/y")),
    ]


async def s_checkpoints(cm):
    await cm.save({"type": "file", "format": "text", "content": "first"}, "c.txt")
    cp = await cm.create_checkpoint("c.txt")
    listed = await cm.list_checkpoints("c.txt")
    await cm.save({"type": "file", "format": "text", "content": "second"}, "c.txt")
    await cm.restore_checkpoint(cp["id"], "c.txt")
    restored = (await cm.get("c.txt"))["content"]
    return [sorted(cp), [c["id"] for c in listed] == [cp["id"]], restored]


SCENARIOS = [
    s_new_untitled,
    s_get_types,
    s_save_roundtrip,
    s_save_errors,
    s_rename,
    s_delete,
    s_copy,
    s_hidden_and_outside,
    s_exists,
    s_checkpoints,
]


@pytest.fixture
def managers(tmp_path, mz_storage, mz_raw):
    root = f"/home/conf-{uuid.uuid4().hex[:10]}"
    assert mz_raw.mkdir(root).status.code == CODE_OK
    local = AsyncFileContentsManager(root_dir=str(tmp_path))
    client = CS3Client(gateway=mz_storage.grpc_addr, username="einstein", password=PASSWORDS["einstein"])
    cs3 = CS3ContentsManager(root_path=root, client=client)
    yield local, cs3


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__[2:])
async def test_same_answers_as_jupyter_file_manager(scenario, managers):
    local, cs3 = managers
    expected = await scenario(local)
    actual = await scenario(cs3)
    await cs3.client.close()
    for step, (want, got) in enumerate(zip(expected, actual)):
        assert got == want, f"step {step}"
    assert len(actual) == len(expected)
