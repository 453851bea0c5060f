"""Two people at different Jupyter servers save one notebook: nothing is lost.

Four Jupyter servers on one embedded storage, as their users start them
(``mesh-zenodo lab``): einstein's two (a laptop and a hub) and marie's two. einstein shares a
folder with marie as editor; each loads the same notebook through ``/api/contents``, edits
it, and they save at the same instant. The stored notebook holds every edit; a cell both
changed at the same place is kept in both versions and flagged; nobody's save answers 5xx.
"""

from __future__ import annotations

import json
import random
import threading
import uuid

import nbformat
import pytest
import requests

from mesh_zenodo.pytest_plugin import StorageUser, start_lab


def _lab(mz_storage, tmp_path_factory, user: str):
    token = uuid.uuid4().hex
    lab = start_lab(mz_storage.grpc_addr, "", tmp_path_factory.mktemp(f"{user}-lab"), user=user, token=token)
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    lab.http = session
    return lab


@pytest.fixture(scope="module")
def labs(mz_storage, tmp_path_factory):
    started = {}
    try:
        for name in ("einstein", "einstein2", "marie", "marie2"):
            started[name] = _lab(mz_storage, tmp_path_factory, name.rstrip("2"))
        yield started
    finally:
        for lab in started.values():
            lab.http.close()
            lab.stop()


@pytest.fixture(scope="module")
def shared(labs, mz_storage):
    """A folder of einstein's shared with marie as editor; the paths each server sees."""
    name = f"together-{uuid.uuid4().hex[:6]}"
    einstein = labs["einstein"]
    assert call(einstein, "PUT", f"api/contents/{name}", {"type": "directory"}).status_code == 201
    share = call(einstein, "POST", "mesh-zenodo/shares",
                 {"path": name, "grantee": {"type": "user", "name": "marie"}, "role": "editor"})
    assert share.status_code == 201, (share.status_code, share.text)
    share = share.json()["share"]
    accepted = call(labs["marie"], "PATCH", f"mesh-zenodo/received-shares/{share['id']}", {"state": "accepted"})
    assert accepted.status_code == 200, accepted.text
    return {"einstein": name, "einstein2": name, "marie": f"Shares/{name}", "marie2": f"Shares/{name}"}


def call(lab, method: str, path: str, body=None) -> requests.Response:
    return lab.http.request(method, f"{lab.url}/{path}", data=json.dumps(body) if body is not None else None,
                            timeout=120)


def notebook(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def load(lab, path: str) -> dict:
    response = call(lab, "GET", f"api/contents/{path}?content=1")
    assert response.status_code == 200, response.text
    return response.json()["content"]


def save(lab, path: str, nb: dict) -> requests.Response:
    return call(lab, "PUT", f"api/contents/{path}", {"type": "notebook", "format": "json", "content": nb})


def save_together(*saves) -> list[requests.Response]:
    """Run the saves at the same instant (a barrier releases them together)."""
    barrier = threading.Barrier(len(saves))
    results: list = [None] * len(saves)

    def run(i, lab, path, nb):
        barrier.wait()
        results[i] = save(lab, path, nb)

    threads = [threading.Thread(target=run, args=(i, *s)) for i, s in enumerate(saves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def sources(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]


def flagged(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if (c.get("metadata", {}).get("mesh_zenodo") or {}).get("conflict")]


def listing(lab, folder: str) -> list[str]:
    return [e["name"] for e in call(lab, "GET", f"api/contents/{folder}").json()["content"]]


def stored(labs, shared, name: str) -> dict:
    return load(labs["einstein"], f"{shared['einstein']}/{name}")


@pytest.mark.parametrize("other", ["marie", "einstein2"])
def test_different_cells_saved_at_once_keep_both(labs, shared, other):
    name = f"nb-{uuid.uuid4().hex[:6]}.ipynb"
    first, second = labs["einstein"], labs[other]
    assert save(first, f"{shared['einstein']}/{name}", notebook("a = 1", "b = 2", "c = 3")).status_code == 201
    mine, theirs = load(first, f"{shared['einstein']}/{name}"), load(second, f"{shared[other]}/{name}")
    mine["cells"][0]["source"] = "a = 100"
    theirs["cells"][2]["source"] = "c = 300"

    results = save_together((first, f"{shared['einstein']}/{name}", mine), (second, f"{shared[other]}/{name}", theirs))

    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    assert sources(stored(labs, shared, name)) == ["a = 100", "b = 2", "c = 300"]
    # exactly one of the two merged (the later one), and said so; no conflict copy
    merges = [r.json().get("merge") for r in results if r.json().get("merge")]
    assert len(merges) == 1 and merges[0]["conflicts"] == []
    assert not [n for n in listing(first, shared["einstein"]) if n.startswith(name) and ".conflict" in n]


def test_same_cell_changed_by_both_keeps_both_versions_flagged(labs, shared):
    name = f"nb-{uuid.uuid4().hex[:6]}.ipynb"
    einstein, marie = labs["einstein"], labs["marie"]
    save(einstein, f"{shared['einstein']}/{name}", notebook("x = 1", "y = 20"))
    mine, theirs = load(einstein, f"{shared['einstein']}/{name}"), load(marie, f"{shared['marie']}/{name}")
    theirs["cells"][1]["source"] = "y = 42"
    assert save(marie, f"{shared['marie']}/{name}", theirs).status_code == 200
    mine["cells"][1]["source"] = "y = 99"

    response = save(einstein, f"{shared['einstein']}/{name}", mine)

    assert response.status_code == 200, response.text
    merge = response.json()["merge"]
    assert merge["by"]["user"] == "marie" and len(merge["conflicts"]) == 1
    result = stored(labs, shared, name)
    assert sources(result)[0] == "x = 1"
    assert "y = 99" in sources(result) and "y = 42" in sources(result)
    assert not any("499" in s or "4299" in s or "9942" in s for s in sources(result))
    assert len(flagged(result)) == 2
    nbformat.validate(nbformat.from_dict(result))


def test_cell_deleted_by_one_and_edited_by_other_is_kept_and_flagged(labs, shared):
    name = f"nb-{uuid.uuid4().hex[:6]}.ipynb"
    einstein, marie = labs["einstein"], labs["marie"]
    save(einstein, f"{shared['einstein']}/{name}", notebook("keep = 1", "doomed = 2", "tail = 3"))
    mine, theirs = load(einstein, f"{shared['einstein']}/{name}"), load(marie, f"{shared['marie']}/{name}")
    del theirs["cells"][1]
    assert save(marie, f"{shared['marie']}/{name}", theirs).status_code == 200
    mine["cells"][1]["source"] = "doomed = 'but edited'"

    response = save(einstein, f"{shared['einstein']}/{name}", mine)

    assert response.status_code == 200, response.text
    result = stored(labs, shared, name)
    assert "doomed = 'but edited'" in sources(result)
    assert [c["source"] for c in flagged(result)] == ["doomed = 'but edited'"]


def test_text_files_merge_by_lines(labs, shared):
    name = f"notes-{uuid.uuid4().hex[:6]}.md"
    einstein, marie = labs["einstein"], labs["marie"]
    base = "# Notes\n\nline one\nline two\nline three\n"
    put = {"type": "file", "format": "text"}
    call(einstein, "PUT", f"api/contents/{shared['einstein']}/{name}", {**put, "content": base})
    call(einstein, "GET", f"api/contents/{shared['einstein']}/{name}?content=1")
    call(marie, "GET", f"api/contents/{shared['marie']}/{name}?content=1")
    assert call(marie, "PUT", f"api/contents/{shared['marie']}/{name}",
                {**put, "content": base.replace("line three", "line three (marie)")}).status_code == 200

    response = call(einstein, "PUT", f"api/contents/{shared['einstein']}/{name}",
                    {**put, "content": base.replace("line one", "line one (einstein)")})

    assert response.status_code == 200 and response.json()["merge"]["conflicts"] == []
    text = call(einstein, "GET", f"api/contents/{shared['einstein']}/{name}?content=1").json()["content"]
    assert text == "# Notes\n\nline one (einstein)\nline two\nline three (marie)\n"


def test_binary_file_changed_elsewhere_gets_a_conflict_copy(labs, shared):
    name = f"image-{uuid.uuid4().hex[:6]}.bin"
    einstein, marie = labs["einstein"], labs["marie"]
    put = {"type": "file", "format": "base64"}
    call(einstein, "PUT", f"api/contents/{shared['einstein']}/{name}", {**put, "content": "AAEC"})
    call(einstein, "GET", f"api/contents/{shared['einstein']}/{name}?content=1")
    assert call(marie, "PUT", f"api/contents/{shared['marie']}/{name}", {**put, "content": "AwQF"}).status_code == 200

    response = call(einstein, "PUT", f"api/contents/{shared['einstein']}/{name}", {**put, "content": "BgcI"})

    assert response.status_code == 200, response.text
    copy = response.json()["merge"]["conflict_copy"]
    assert copy.startswith(f"{shared['einstein']}/{name}.einstein.") and copy.endswith(".conflict.bin")
    read = call(einstein, "GET", f"api/contents/{shared['einstein']}/{name}?content=1&format=base64").json()
    assert read["content"].strip() == "AwQF"  # marie's stays the file
    assert call(einstein, "GET", f"api/contents/{copy}?content=1&format=base64").json()["content"].strip() == "BgcI"


def test_soak_eight_writers_at_four_servers(labs, shared, mz_storage, tmp_path_factory):
    """8 writers (two per server) make 200 random edits in all and save at random
    times: every edit is present or flagged, no conflict copy, no 5xx."""
    name = f"soak-{uuid.uuid4().hex[:6]}.ipynb"
    servers = [(labs[n], shared[n]) for n in ("einstein", "einstein2", "marie", "marie2")]
    path0 = f"{shared['einstein']}/{name}"
    assert save(labs["einstein"], path0, notebook(*[f"# cell {i}" for i in range(40)])).status_code == 201
    rng = random.Random(7)
    edits: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        lab, folder = servers[w % len(servers)]
        path = f"{folder}/{name}"
        for round_ in range(25):
            nb = load(lab, path)
            cell = nb["cells"][rng.randrange(len(nb["cells"]))]
            marker = f"edit-{w}-{round_}"
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = f"{src}\n{marker}"
            response = save(lab, path, nb)
            with lock:
                if response.status_code >= 400:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    edits.append(marker)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert len(edits) == 200
    final = "\n".join(sources(stored(labs, shared, name)))
    missing = [m for m in edits if m not in final]
    assert missing == []
    assert not [n for n in listing(labs["einstein"], shared["einstein"]) if n.startswith(name) and ".conflict" in n]


def test_a_foreign_lock_is_never_written_through_and_work_on_a_copy(labs, shared, mz_storage):
    """A plain CS3 client (another app) locks the notebook: saves are refused with 423
    and the holder named; Work on a copy makes the copy next to it; after the unlock,
    merging the copy back brings its edits into the original."""
    name = f"locked-{uuid.uuid4().hex[:6]}.ipynb"
    einstein = labs["einstein"]
    path = f"{shared['einstein']}/{name}"
    save(einstein, path, notebook("first = 1", "second = 2"))
    loaded = load(einstein, path)
    office = StorageUser(mz_storage.grpc_addr, "marie")
    try:
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
        from cs3.storage.provider.v1beta1 import resources_pb2 as spr

        home = office.call("GetHome", sp.GetHomeRequest()).path
        cs3 = f"{home}/Shares/{shared['einstein']}/{name}"
        lock = spr.Lock(lock_id="office-1", type=spr.LOCK_TYPE_WRITE, app_name="Collabora")
        assert office.call("SetLock", sp.SetLockRequest(ref=spr.Reference(path=cs3), lock=lock)).status.code == 1

        loaded["cells"][0]["source"] = "first = 'mine'"
        refused = save(einstein, path, loaded)
        assert refused.status_code == 423, refused.text
        assert "locked by Marie Curie (Collabora)" in refused.json()["message"]
        shown = call(einstein, "GET", f"mesh-zenodo/documents/presence?path={path}").json()["lock"]
        assert shown["app_name"] == "Collabora" and shown["holder"] == "Marie Curie" and not shown["mergeable"]
        assert sources(stored(labs, shared, name)) == ["first = 1", "second = 2"]

        made = call(einstein, "POST", "mesh-zenodo/documents/copies", {"path": path})
        assert made.status_code == 201, made.text
        copy = made.json()["copy"]
        assert copy.startswith(f"{path}.einstein.") and copy.endswith(".conflict.ipynb")
        in_copy = load(einstein, copy)
        in_copy["cells"][0]["source"] = "first = 'mine'"
        assert save(einstein, copy, in_copy).status_code == 200
        assert sources(stored(labs, shared, name)) == ["first = 1", "second = 2"]  # untouched
        still = call(einstein, "GET", f"mesh-zenodo/documents/copies?path={copy}").json()
        assert still["original"] == path and still["lock"]["app_name"] == "Collabora"

        assert office.call("Unlock", sp.UnlockRequest(ref=spr.Reference(path=cs3), lock=lock)).status.code == 1
    finally:
        office.close()
    gone = call(einstein, "GET", f"mesh-zenodo/documents/copies?path={copy}").json()
    assert gone["lock"] is None
    merged = call(einstein, "POST", "mesh-zenodo/documents/copies/merge", {"path": copy})
    assert merged.status_code == 200, merged.text
    assert sources(stored(labs, shared, name)) == ["first = 'mine'", "second = 2"]
    assert not [n for n in listing(einstein, shared["einstein"]) if n.startswith(name) and ".conflict" in n]


def test_presence_shows_who_else_has_it_open(labs, shared):
    name = f"open-{uuid.uuid4().hex[:6]}.ipynb"
    einstein, marie = labs["einstein"], labs["marie"]
    save(einstein, f"{shared['einstein']}/{name}", notebook("a = 1"))
    first = call(einstein, "POST", "mesh-zenodo/documents/presence", {"path": f"{shared['einstein']}/{name}"})
    assert first.status_code == 200 and first.json()["others"] == []
    seen = call(marie, "POST", "mesh-zenodo/documents/presence", {"path": f"{shared['marie']}/{name}"}).json()
    assert [(o["user"], o["name"]) for o in seen["others"]] == [("einstein", "Albert Einstein")]
    assert seen["others"][0]["server"]
    back = call(einstein, "GET", f"mesh-zenodo/documents/presence?path={shared['einstein']}/{name}").json()
    assert [o["user"] for o in back["others"]] == ["marie"]
    assert call(marie, "DELETE", f"mesh-zenodo/documents/presence?path={shared['marie']}/{name}").status_code == 204
    after = call(einstein, "GET", f"mesh-zenodo/documents/presence?path={shared['einstein']}/{name}").json()
    assert after["others"] == []


def test_exclusive_lock_lets_the_holder_save_and_others_not(labs, shared):
    name = f"excl-{uuid.uuid4().hex[:6]}.ipynb"
    einstein, marie = labs["einstein"], labs["marie"]
    save(einstein, f"{shared['einstein']}/{name}", notebook("a = 1"))
    theirs = load(marie, f"{shared['marie']}/{name}")
    taken = call(einstein, "POST", "mesh-zenodo/documents/lock", {"path": f"{shared['einstein']}/{name}"})
    assert taken.status_code == 200 and taken.json()["lock"]["exclusive"] and taken.json()["lock"]["mine"]

    mine = load(einstein, f"{shared['einstein']}/{name}")
    mine["cells"][0]["source"] = "a = 'einstein'"
    assert save(einstein, f"{shared['einstein']}/{name}", mine).status_code == 200
    theirs["cells"][0]["source"] = "a = 'marie'"
    refused = save(marie, f"{shared['marie']}/{name}", theirs)
    assert refused.status_code == 423 and "Albert Einstein" in refused.json()["message"]
    seen = call(marie, "GET", f"mesh-zenodo/documents/presence?path={shared['marie']}/{name}").json()
    assert seen["lock"]["holder"] == "Albert Einstein" and not seen["lock"]["mine"]

    assert call(einstein, "DELETE", f"mesh-zenodo/documents/lock?path={shared['einstein']}/{name}").status_code == 204
    assert save(marie, f"{shared['marie']}/{name}", theirs).status_code == 200


def test_a_jupyter_restart_while_the_browser_holds_unsaved_edits_still_merges(labs, shared, mz_storage,
                                                                               tmp_path_factory):
    """einstein's browser loaded the notebook, then his Jupyter server restarted; marie
    saved meanwhile. The browser's save (of its stale copy) merges with marie's work."""
    name = f"restart-{uuid.uuid4().hex[:6]}.ipynb"
    path = f"{shared['einstein']}/{name}"
    tmp = tmp_path_factory.mktemp("einstein-restarting")
    token = uuid.uuid4().hex
    lab = start_lab(mz_storage.grpc_addr, "", tmp, user="einstein", token=token)
    lab.http = requests.Session()
    lab.http.headers["Authorization"] = f"token {token}"
    try:
        assert save(lab, path, notebook("a = 1", "b = 2")).status_code == 201
        in_browser = load(lab, path)
        lab.stop()  # as it stops, the server writes down what open documents are based on
        theirs = load(labs["marie"], f"{shared['marie']}/{name}")
        theirs["cells"][1]["source"] = "b = 'marie'"
        assert save(labs["marie"], f"{shared['marie']}/{name}", theirs).status_code == 200

        lab = start_lab(mz_storage.grpc_addr, "", tmp, user="einstein", token=token)
        lab.http = requests.Session()
        lab.http.headers["Authorization"] = f"token {token}"
        in_browser["cells"][0]["source"] = "a = 'einstein'"
        response = save(lab, path, in_browser)

        assert response.status_code == 200, response.text
        assert response.json()["merge"]["by"]["user"] == "marie"
        assert sources(stored(labs, shared, name)) == ["a = 'einstein'", "b = 'marie'"]
    finally:
        lab.http.close()
        lab.stop()
