"""Live rooms that merge: an edit typed in a room and not yet saved survives another
server's save of the same file; a rename made on another server is followed.

einstein's Jupyter server runs in this process with jupyter-collaboration (its room of a
notebook is edited here directly, as a browser's edits land in it; saves wait an hour, so
an edit stays unsaved until the test saves). marie's server is ``mesh-zenodo lab --user
marie``, as she would start it. einstein shares a folder with marie as editor; marie
reaches it as ``Shares/<name>``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import nbformat
import pytest
import requests
from traitlets.config import Config

from mesh_zenodo.fileid import CS3FileIdManager, decode_id
from mesh_zenodo.pytest_plugin import cs3_config, start_lab
from mesh_zenodo.rooms import MergingDocumentRoom


@pytest.fixture(scope="module")
def marie_lab(mz_storage, tmp_path_factory):
    token = uuid.uuid4().hex
    lab = start_lab(mz_storage.grpc_addr, "", tmp_path_factory.mktemp("marie"), user="marie", token=token)
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    lab.http = session
    yield lab
    session.close()
    lab.stop()


@pytest.fixture
def jp_server_config(mz_storage, mz_cs3_root, tmp_path, monkeypatch):
    # jupyter_server_ydoc's get_document makes its YStore without the config: its
    # default database is in the current directory
    monkeypatch.chdir(tmp_path)
    return Config({
        "ServerApp": {
            "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
            "jpserver_extensions": {"mesh_zenodo": True, "jupyter_server_ydoc": True, "jupyter_server_fileid": True},
        },
        **cs3_config(mz_storage, mz_cs3_root),
        "FileIdExtension": {"file_id_manager_class": "mesh_zenodo.fileid.CS3FileIdManager"},
        "BaseFileIdManager": {"db_path": str(tmp_path / "file_ids.db")},
        "SQLiteYStore": {"db_path": str(tmp_path / "ystore.db")},
        "YDocExtension": {"document_save_delay": 3600.0, "file_poll_interval": 0.2, "document_cleanup_delay": None},
        "CS3FileIdManager": {"path_ttl": 0.2},
    })


def marie(lab, method: str, path: str, body: dict | None = None) -> requests.Response:
    data = json.dumps(body) if body is not None else None
    return lab.http.request(method, f"{lab.url}/{path}", data=data, timeout=60)


async def marie_async(lab, method: str, path: str, body: dict | None = None) -> requests.Response:
    """marie's request, off this event loop (einstein's server keeps running meanwhile)."""
    return await asyncio.to_thread(marie, lab, method, path, body)


async def call(jp_fetch, *path, method="GET", body=None):
    response = await jp_fetch(*path, method=method, body=json.dumps(body) if body is not None else None)
    return json.loads(response.body) if response.body else None


def notebook(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def sources(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]


def flagged(nb: dict) -> list[str]:
    return [c["source"] for c in nb["cells"] if (c.get("metadata", {}).get("mesh_zenodo") or {}).get("conflict")]


async def until(check, what: str, timeout: float = 30.0):
    """Wait until ``check()`` is true (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {timeout:.0f} s")
        await asyncio.sleep(0.1)


def extension(serverapp, name: str):
    return next(iter(serverapp.extension_manager.extension_apps[name]))


async def share_folder(jp_fetch, marie_lab) -> dict[str, str]:
    """A folder of einstein's shared with marie as editor: its path on each server."""
    name = f"live-{uuid.uuid4().hex[:6]}"
    await call(jp_fetch, "api", "contents", name, method="PUT", body={"type": "directory"})
    share = (await call(jp_fetch, "mesh-zenodo", "shares", method="POST",
                        body={"path": name, "grantee": {"type": "user", "name": "marie"}, "role": "editor"}))["share"]
    accepted = await marie_async(marie_lab, "PATCH", f"mesh-zenodo/received-shares/{share['id']}",
                                 {"state": "accepted"})
    assert accepted.status_code == 200, accepted.text
    return {"einstein": name, "marie": f"Shares/{name}"}


async def open_room(jp_serverapp, path: str, content_type: str = "notebook", file_format: str = "json"):
    """The live room of ``path`` on einstein's server (as a browser opening it makes it)."""
    ydoc = extension(jp_serverapp, "jupyter_server_ydoc")
    document = await ydoc.get_document(path=path, content_type=content_type, file_format=file_format,
                                       copy=False, create=True)
    file_id = jp_serverapp.web_app.settings["file_id_manager"].index(path)
    room = await ydoc.ywebsocket_server.get_room(f"{file_format}:{content_type}:{file_id}")
    assert isinstance(room, MergingDocumentRoom)
    return document, room


def edit_source(document, index: int, old: str, new: str) -> None:
    """Type in cell ``index``: replace ``old`` by ``new`` (a character-level Y edit)."""
    text = document.ycells[index]["source"]
    at = str(text).index(old)
    del text[at:at + len(old)]
    text.insert(at, new)


async def stored(jp_fetch, path: str) -> dict:
    return (await call(jp_fetch, "api", "contents", path))["content"]


async def test_unsaved_edit_survives_another_servers_save(jp_fetch, jp_serverapp, marie_lab):
    shared = await share_folder(jp_fetch, marie_lab)
    path = f"{shared['einstein']}/analysis.ipynb"
    await call(jp_fetch, "api", "contents", path, method="PUT",
               body={"type": "notebook", "content": notebook("a = 1", "b = 2", "c = 3")})
    document, room = await open_room(jp_serverapp, path)
    edit_source(document, 0, "a = 1", "a = 100")  # einstein types; not saved yet
    await asyncio.sleep(0.5)
    assert sources(await stored(jp_fetch, path))[0] == "a = 1"

    theirs = (await marie_async(marie_lab, "GET", f"api/contents/{shared['marie']}/analysis.ipynb")).json()["content"]
    theirs["cells"][2]["source"] = "c = 300"
    saved = await marie_async(marie_lab, "PUT", f"api/contents/{shared['marie']}/analysis.ipynb",
                              {"type": "notebook", "content": theirs})
    assert saved.status_code == 200, saved.text

    # the room takes marie's cell in and keeps einstein's edit, then saves both
    await until(lambda: sources(document.get()) == ["a = 100", "b = 2", "c = 300"], "holding both edits")
    on_file = await until(lambda: _both(jp_fetch, path, ["a = 100", "b = 2", "c = 300"]), "saved with both")
    assert flagged(on_file) == []
    # einstein typing on: the room still saves (and nothing of marie's goes)
    edit_source(document, 1, "b = 2", "b = 200")
    await room._maybe_save_document(None, save_now=True)
    assert sources(await stored(jp_fetch, path)) == ["a = 100", "b = 200", "c = 300"]
    assert sources(document.get()) == ["a = 100", "b = 200", "c = 300"]


async def _both(jp_fetch, path: str, expected: list[str]):
    nb = await stored(jp_fetch, path)
    return nb if sources(nb) == expected else None


async def conflicting_edits(jp_fetch, jp_serverapp, marie_lab) -> tuple[str, object]:
    """einstein types y = 99 in the room (unsaved), marie saves y = 42 in the same cell."""
    shared = await share_folder(jp_fetch, marie_lab)
    path = f"{shared['einstein']}/conflict.ipynb"
    await call(jp_fetch, "api", "contents", path, method="PUT",
               body={"type": "notebook", "content": notebook("x = 1", "y = 20")})
    document, _ = await open_room(jp_serverapp, path)
    edit_source(document, 1, "20", "99")

    theirs = (await marie_async(marie_lab, "GET", f"api/contents/{shared['marie']}/conflict.ipynb")).json()["content"]
    theirs["cells"][1]["source"] = "y = 42"
    assert (await marie_async(marie_lab, "PUT", f"api/contents/{shared['marie']}/conflict.ipynb",
                              {"type": "notebook", "content": theirs})).status_code == 200
    await until(lambda: {"y = 42", "y = 99"} <= set(flagged(document.get())), "holding both versions flagged")
    return path, document


async def test_same_cell_changed_in_the_room_and_elsewhere_keeps_both_flagged(jp_fetch, jp_serverapp, marie_lab):
    path, document = await conflicting_edits(jp_fetch, jp_serverapp, marie_lab)
    room_nb = document.get()
    assert sources(room_nb)[0] == "x = 1"
    assert "y = 20" not in sources(room_nb)
    assert not any(s in src for src in sources(room_nb) for s in ("499", "4299", "9942", "9429"))
    # and the file, once the room saved
    on_file = await until(lambda: _flagged_both(jp_fetch, path), "saved with both versions")
    assert sources(on_file)[0] == "x = 1"
    nbformat.validate(nbformat.from_dict(on_file))


async def test_same_cell_conflict_is_flagged_once(jp_fetch, jp_serverapp, marie_lab):
    path, document = await conflicting_edits(jp_fetch, jp_serverapp, marie_lab)
    await until(lambda: _flagged_both(jp_fetch, path), "saved with both versions")
    await asyncio.sleep(1)
    assert sorted(flagged(document.get())) == ["y = 42", "y = 99"]
    assert sorted(flagged(await stored(jp_fetch, path))) == ["y = 42", "y = 99"]


async def _flagged_both(jp_fetch, path: str):
    nb = await stored(jp_fetch, path)
    return nb if {"y = 42", "y = 99"} <= set(flagged(nb)) else None


async def test_save_that_the_contents_manager_merged_is_taken_into_the_room(jp_fetch, jp_serverapp,
                                                                            marie_lab):
    """marie saves between the room's check of the file and its save: the contents
    manager merges, and the room takes the stored file in."""
    shared = await share_folder(jp_fetch, marie_lab)
    path = f"{shared['einstein']}/race.ipynb"
    await call(jp_fetch, "api", "contents", path, method="PUT",
               body={"type": "notebook", "content": notebook("a = 1", "b = 2", "c = 3")})
    document, room = await open_room(jp_serverapp, path)
    edit_source(document, 0, "a = 1", "a = 100")

    contents = jp_serverapp.contents_manager
    real_save = contents.save
    merges = []

    async def save_after_marie(model, path=""):
        theirs = (await marie_async(marie_lab, "GET", f"api/contents/{shared['marie']}/race.ipynb")).json()["content"]
        theirs["cells"][2]["source"] = "c = 300"
        assert (await marie_async(marie_lab, "PUT", f"api/contents/{shared['marie']}/race.ipynb",
                                  {"type": "notebook", "content": theirs})).status_code == 200
        contents.save = real_save
        saved = await real_save(model, path)
        merges.append(saved.get("merge"))
        return saved

    contents.save = save_after_marie
    await room._maybe_save_document(None, save_now=True)

    assert merges and merges[0] and merges[0]["conflicts"] == []
    assert sources(await stored(jp_fetch, path)) == ["a = 100", "b = 2", "c = 300"]
    assert sources(document.get()) == ["a = 100", "b = 2", "c = 300"]


async def test_text_file_unsaved_edit_survives_another_servers_save(jp_fetch, jp_serverapp, marie_lab):
    shared = await share_folder(jp_fetch, marie_lab)
    path = f"{shared['einstein']}/notes.md"
    base = "# Notes\n\nline one\nline two\nline three\n"
    await call(jp_fetch, "api", "contents", path, method="PUT",
               body={"type": "file", "format": "text", "content": base})
    document, _ = await open_room(jp_serverapp, path, content_type="file", file_format="text")
    text = document._ysource
    at = str(text).index("line one") + len("line one")
    text.insert(at, " (einstein)")

    assert (await marie_async(marie_lab, "GET", f"api/contents/{shared['marie']}/notes.md")).status_code == 200
    assert (await marie_async(marie_lab, "PUT", f"api/contents/{shared['marie']}/notes.md", {
        "type": "file", "format": "text", "content": base.replace("line three", "line three (marie)")
    })).status_code == 200

    expected = "# Notes\n\nline one (einstein)\nline two\nline three (marie)\n"
    await until(lambda: document.get() == expected, "holding both edits")
    await until(lambda: _text_is(jp_fetch, path, expected), "saved with both edits")


async def _text_is(jp_fetch, path: str, expected: str) -> bool:
    return (await call(jp_fetch, "api", "contents", path))["content"] == expected


async def test_rename_on_another_server_is_followed_by_the_room(jp_fetch, jp_serverapp, marie_lab, mz_raw,
                                                                mz_cs3_root):
    shared = await share_folder(jp_fetch, marie_lab)
    path = f"{shared['einstein']}/before.ipynb"
    await call(jp_fetch, "api", "contents", path, method="PUT",
               body={"type": "notebook", "content": notebook("a = 1")})
    document, room = await open_room(jp_serverapp, path)
    file_ids = jp_serverapp.web_app.settings["file_id_manager"]
    assert isinstance(file_ids, CS3FileIdManager)
    file_id = file_ids.index(path)
    assert decode_id(file_id).opaque_id == mz_raw.stat_ok(f"{mz_cs3_root}/{path}").id.opaque_id

    moved = await marie_async(marie_lab, "PATCH", f"api/contents/{shared['marie']}/before.ipynb",
                              {"path": f"{shared['marie']}/after.ipynb"})
    assert moved.status_code == 200, moved.text

    renamed = f"{shared['einstein']}/after.ipynb"
    await until(lambda: document.path == renamed, "following the rename")
    assert file_ids.get_path(file_id) == renamed and file_ids.index(renamed) == file_id
    # the room saves to where the file is now
    edit_source(document, 0, "a = 1", "a = 2")
    await room._maybe_save_document(None, save_now=True)
    assert sources(await stored(jp_fetch, renamed)) == ["a = 2"]
    assert mz_raw.info(f"{mz_cs3_root}/{path}") is None
    on_maries = (await marie_async(marie_lab, "GET", f"api/contents/{shared['marie']}/after.ipynb")).json()
    assert sources(on_maries["content"]) == ["a = 2"]


async def test_grantee_server_follows_a_rename_by_the_owner(jp_fetch, jp_serverapp, marie_lab):
    """marie's server (mesh-zenodo lab: file ids are resource ids there too) reaches the
    file through Shares/; the storage answers a Stat by id with einstein's path, which
    must not become marie's path: the shared folder's path on her side gives it."""
    shared = await share_folder(jp_fetch, marie_lab)
    await call(jp_fetch, "api", "contents", f"{shared['einstein']}/first.ipynb", method="PUT",
               body={"type": "notebook", "content": notebook("a = 1")})
    found = await marie_async(marie_lab, "GET", f"api/fileid/id?path={shared['marie']}/first.ipynb")
    assert found.status_code == 200, found.text
    file_id = found.json()["id"]
    assert file_id == jp_serverapp.web_app.settings["file_id_manager"].index(f"{shared['einstein']}/first.ipynb")

    await call(jp_fetch, "api", "contents", f"{shared['einstein']}/first.ipynb", method="PATCH",
               body={"path": f"{shared['einstein']}/second.ipynb"})

    async def maries_path():
        answer = await marie_async(marie_lab, "GET", f"api/fileid/path?id={file_id}")
        return answer.status_code == 200 and answer.json()["path"] == f"{shared['marie']}/second.ipynb"

    await until(maries_path, "followed on marie's server")


async def test_save_right_after_a_rename_elsewhere_lands_at_the_new_path(jp_fetch, jp_serverapp, marie_lab, mz_raw,
                                                                          mz_cs3_root):
    shared = await share_folder(jp_fetch, marie_lab)
    path = f"{shared['einstein']}/old-name.ipynb"
    await call(jp_fetch, "api", "contents", path, method="PUT", body={"type": "notebook", "content": notebook("a = 1")})
    document, room = await open_room(jp_serverapp, path)
    file_ids = jp_serverapp.web_app.settings["file_id_manager"]
    file_ids.path_ttl = 3600.0  # the file id manager still answers the old path when the room saves
    moved = await marie_async(marie_lab, "PATCH", f"api/contents/{shared['marie']}/old-name.ipynb",
                              {"path": f"{shared['marie']}/new-name.ipynb"})
    assert moved.status_code == 200, moved.text

    edit_source(document, 0, "a = 1", "a = 2")
    await room._maybe_save_document(None, save_now=True)

    assert sources(await stored(jp_fetch, f"{shared['einstein']}/new-name.ipynb")) == ["a = 2"]
    assert mz_raw.info(f"{mz_cs3_root}/{path}") is None
