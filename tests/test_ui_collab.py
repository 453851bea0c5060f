"""Working together on documents in a real headless Chromium: two Labs on one embedded
storage, einstein's and marie's, each in a browser context of its own; einstein shares a
folder with marie as editor and she accepts it.

- presence: both open one notebook; each sees "Also open by" the other, and einstein
  sees marie leave when she closes it;
- review of a merge: two conflicting saves (marie's, then a stale one of einstein's)
  leave a pair of flagged cells; einstein is notified, reviews them, takes theirs and
  saves: the notebook and the stored file hold only marie's version, unflagged;
- a locked file: an office app (a plain CS3 client as marie, app "Collabora") locks a
  notebook; einstein opens it, the dialog names Collabora, he works on a copy and edits
  it; once the lock is gone Lab offers to merge the copy back, and Merge brings his edit
  into the original;
- a merged text file: the notification's "Show theirs" opens a read-only preview of the
  stored file, which follows the next save;
- "Lock for exclusive editing" from the file browser: marie opening the notebook is told
  who holds it and previews it; the preview follows einstein's saves; he unlocks it."""

from __future__ import annotations

import json
import re
import time
import uuid

import nbformat
import pytest
import requests
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from mesh_zenodo.pytest_plugin import CHROMIUM, CHROMIUM_ARGS, StorageUser, start_lab
from playwright.sync_api import expect, sync_playwright

#: heartbeats every 2 s (30 s by default): others show up without a long wait
LAB_CONFIG = {"PresenceService": {"interval": 2}}


def _api(lab, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        method, f"{lab.url}/{path}", headers={"Authorization": f"token {lab.token}"},
        data=json.dumps(body) if body is not None else None, timeout=120,
    )


def _start(mz_storage, tmp, user: str):
    token = uuid.uuid4().hex
    lab = start_lab(mz_storage.grpc_addr, "", tmp, config=LAB_CONFIG, user=user, token=token)
    lab.token = token
    return lab


@pytest.fixture(scope="module")
def labs(mz_storage, tmp_path_factory):
    started = []
    try:
        einstein = _start(mz_storage, tmp_path_factory.mktemp("einstein"), "einstein")
        started.append(einstein)
        marie = _start(mz_storage, tmp_path_factory.mktemp("marie"), "marie")
        started.append(marie)
        yield einstein, marie
    finally:
        for lab in started:
            lab.stop()


@pytest.fixture(scope="module")
def shared(labs):
    """A folder of einstein's shared with marie as editor: (einstein's path, marie's path)."""
    einstein, marie = labs
    name = f"together-{uuid.uuid4().hex[:6]}"
    assert _api(einstein, "PUT", f"api/contents/{name}", {"type": "directory"}).status_code == 201
    made = _api(einstein, "POST", "mesh-zenodo/shares",
                {"path": name, "grantee": {"type": "user", "name": "marie"}, "role": "editor"})
    assert made.status_code in (200, 201), made.text
    accepted = _api(marie, "PATCH", f"mesh-zenodo/received-shares/{made.json()['share']['id']}",
                    {"state": "accepted"})
    assert accepted.status_code == 200, accepted.text
    return name, f"Shares/{name}"


def _notebook(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def _save(lab, path: str, nb: dict) -> requests.Response:
    return _api(lab, "PUT", f"api/contents/{path}", {"type": "notebook", "format": "json", "content": nb})


def _load(lab, path: str) -> dict:
    response = _api(lab, "GET", f"api/contents/{path}?content=1")
    assert response.status_code == 200, response.text
    return response.json()["content"]


def _sources(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]


def _flagged(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if (c.get("metadata", {}).get("mesh_zenodo") or {}).get("conflict")]


def _until(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _open(browser, lab, path: str):
    """A browser context on Lab with the document ``path`` open (only it: ``reset``
    drops the documents an earlier test left open in the workspace)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/{path}?reset&token={lab.token}")
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    return page


def _open_folder(browser, lab, folder: str):
    """A browser context on Lab, its file browser in ``folder``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/{folder}?reset&token={lab.token}")
    page.wait_for_selector(".jp-Launcher", timeout=60_000)
    expect(page.locator("#filebrowser .jp-BreadCrumbs")).to_contain_text(folder, timeout=20_000)
    return page


def _toast(page, text: str):
    return page.locator(".Toastify__toast", has_text=text)


@pytest.fixture
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_each_sees_who_else_has_the_notebook_open(labs, shared, browser, tmp_path):
    einstein_lab, marie_lab = labs
    name = f"open-{uuid.uuid4().hex[:6]}.ipynb"
    assert _save(einstein_lab, f"{shared[0]}/{name}", _notebook("a = 1")).status_code == 201

    einstein = _open(browser, einstein_lab, f"{shared[0]}/{name}")
    marie = _open(browser, marie_lab, f"{shared[1]}/{name}")
    try:
        seen_by_marie = marie.locator('.jp-NotebookPanel-toolbar [data-testid="mz-presence-others"]')
        expect(seen_by_marie).to_have_text("Also open by Albert Einstein", timeout=20_000)
        seen_by_einstein = einstein.locator('.jp-NotebookPanel-toolbar [data-testid="mz-presence-others"]')
        expect(seen_by_einstein).to_have_text("Also open by Marie Curie", timeout=20_000)
        expect(seen_by_einstein).to_have_attribute("title", re.compile(r"Marie Curie \(marie\) at "))

        # marie closes it: einstein no longer sees her
        marie.locator(".lm-TabBar-tab.jp-mod-current .lm-TabBar-tabCloseIcon").click()
        expect(marie.locator(".jp-NotebookPanel")).to_have_count(0)
        expect(seen_by_einstein).to_have_count(0, timeout=20_000)
    finally:
        einstein.screenshot(path=str(tmp_path / "einstein.png"))
        marie.screenshot(path=str(tmp_path / "marie.png"))


def test_review_takes_theirs_and_the_save_keeps_it(labs, shared, browser, tmp_path):
    einstein_lab, marie_lab = labs
    name = f"review-{uuid.uuid4().hex[:6]}.ipynb"
    mine_path, theirs_path = f"{shared[0]}/{name}", f"{shared[1]}/{name}"
    assert _save(einstein_lab, mine_path, _notebook("x = 1", "y = 20")).status_code == 201
    mine, theirs = _load(einstein_lab, mine_path), _load(marie_lab, theirs_path)
    page = _open_folder(browser, einstein_lab, shared[0])
    try:
        theirs["cells"][1]["source"] = "y = 42"
        assert _save(marie_lab, theirs_path, theirs).status_code == 200
        mine["cells"][1]["source"] = "y = 99"
        merged = _save(einstein_lab, mine_path, mine)  # stale: both changed cell 1
        assert merged.status_code == 200 and len(merged.json()["merge"]["conflicts"]) == 1, merged.text

        # the notification: Review opens the notebook and the review dialog
        toast = _toast(page, f"Marie Curie modified {mine_path}: ")
        expect(toast).to_contain_text("needs review", timeout=20_000)
        toast.get_by_role("button", name="Review").click()
        dialog = page.locator(".jp-Dialog.mz-MergeDialog")
        conflict = dialog.locator('[data-testid="mz-merge-conflict"]')
        expect(conflict).to_have_count(1, timeout=20_000)
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_have_count(0)

        # the command (the notebook's toolbar button) opens it again
        cells = page.locator(".jp-NotebookPanel:visible .jp-Cell .cm-content")
        expect(cells).to_have_count(3, timeout=20_000)
        review = page.locator('.jp-NotebookPanel-toolbar [data-testid="mz-review-merge"]')
        expect(review).to_be_visible(timeout=20_000)
        review.click()
        expect(conflict).to_have_count(1)
        expect(conflict.locator('[data-testid="mz-merge-mine"] pre')).to_have_text("y = 99")
        expect(conflict.locator('[data-testid="mz-merge-theirs"] pre')).to_have_text("y = 42")
        expect(conflict.locator('[data-testid="mz-merge-theirs"]')).to_contain_text("Marie Curie")
        page.screenshot(path=str(tmp_path / "review.png"))
        conflict.get_by_role("button", name="Take theirs").click()
        expect(dialog.locator('[data-testid="mz-merge-done"]')).to_have_text("No cells need review.")
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_have_count(0)

        # only theirs is left, unflagged
        expect(cells).to_have_count(2)
        expect(cells.nth(0)).to_have_text("x = 1")
        expect(cells.nth(1)).to_have_text("y = 42")
        expect(review).to_be_hidden()

        cells.nth(1).click()
        page.keyboard.press("Control+s")
        stored = _until(lambda: (nb := _load(einstein_lab, mine_path)) and not _flagged(nb) and nb,
                        what="the stored notebook to lose its flags")
        assert _sources(stored) == ["x = 1", "y = 42"]
    finally:
        page.screenshot(path=str(tmp_path / "einstein.png"))


def test_locked_file_work_on_a_copy_and_merge_it_back(labs, shared, browser, mz_storage, tmp_path):
    einstein_lab, _ = labs
    folder, marie_folder = shared
    name = f"locked-{uuid.uuid4().hex[:6]}.ipynb"
    path = f"{folder}/{name}"
    assert _save(einstein_lab, path, _notebook("first = 1", "second = 2")).status_code == 201

    office = StorageUser(mz_storage.grpc_addr, "marie")
    home = office.call("GetHome", sp.GetHomeRequest()).path
    target = spr.Reference(path=f"{home}/{marie_folder}/{name}")
    lock = spr.Lock(lock_id=f"office-{uuid.uuid4().hex[:6]}", type=spr.LOCK_TYPE_WRITE, app_name="Collabora")
    page = None
    try:
        assert office.call("SetLock", sp.SetLockRequest(ref=target, lock=lock)).status.code == 1

        page = _open(browser, einstein_lab, path)
        dialog = page.locator(".jp-Dialog.mz-LockedDialog")
        expect(dialog.locator(".jp-Dialog-header")).to_have_text("File locked", timeout=20_000)
        expect(dialog).to_contain_text("This file is locked by Marie Curie (Collabora) since")
        page.screenshot(path=str(tmp_path / "locked.png"))
        dialog.get_by_role("button", name="Work on a copy").click()

        # the copy opens in place of the original
        copy_name = re.compile(re.escape(name) + r"\.einstein\.\d{4}-\d\d-\d\d_\d\d_\d\d_\d\d\.conflict\.ipynb")
        tab = page.locator(".lm-TabBar-tab.jp-mod-current")
        expect(tab).to_have_text(copy_name, timeout=20_000)
        expect(page.locator(".lm-TabBar-tab", has_text=re.compile(rf"^{re.escape(name)}$"))).to_have_count(0)
        copy = f"{folder}/{tab.inner_text().strip()}"

        # he edits and saves the copy
        first = page.locator(".jp-NotebookPanel:visible .jp-Cell .cm-content").first
        expect(first).to_have_text("first = 1", timeout=20_000)
        first.click()
        page.keyboard.press("Control+a")
        page.keyboard.type("first = 'mine'")
        page.keyboard.press("Control+s")
        _until(lambda: _sources(_load(einstein_lab, copy))[0] == "first = 'mine'", what="the copy to be saved")
        assert _sources(_load(einstein_lab, path)) == ["first = 1", "second = 2"]  # the original: untouched

        assert office.call("Unlock", sp.UnlockRequest(ref=target, lock=lock)).status.code == 1
    finally:
        office.close()
        if page is not None:
            page.screenshot(path=str(tmp_path / "copy.png"))

    try:
        offer = _toast(page, f"The lock on {path} is gone: merge your copy back?")
        expect(offer).to_be_visible(timeout=40_000)
        offer.get_by_role("button", name="Merge").click()
        expect(_toast(page, f"Your copy was merged into {path}")).to_be_visible(timeout=20_000)
        expect(page.locator(".lm-TabBar-tab.jp-mod-current")).to_have_text(name, timeout=20_000)
        expect(page.locator(".jp-NotebookPanel:visible .jp-Cell .cm-content").first).to_have_text(
            "first = 'mine'", timeout=20_000)
        assert _sources(_load(einstein_lab, path)) == ["first = 'mine'", "second = 2"]
        listing = [e["name"] for e in _api(einstein_lab, "GET", f"api/contents/{folder}").json()["content"]]
        assert not [n for n in listing if ".conflict" in n]
    finally:
        page.screenshot(path=str(tmp_path / "merged.png"))


def test_merge_notification_and_the_stored_version_in_a_preview(labs, shared, browser, tmp_path):
    einstein_lab, marie_lab = labs
    name = f"notes-{uuid.uuid4().hex[:6]}.md"
    mine_path, theirs_path = f"{shared[0]}/{name}", f"{shared[1]}/{name}"
    put = {"type": "file", "format": "text"}
    base = "# Notes\n\nline one\nline two\nline three\n"
    assert _api(einstein_lab, "PUT", f"api/contents/{mine_path}", {**put, "content": base}).status_code == 201
    _api(marie_lab, "GET", f"api/contents/{theirs_path}?content=1")
    page = _open_folder(browser, einstein_lab, shared[0])
    try:
        theirs = base.replace("line three", "line three (marie)")
        assert _api(marie_lab, "PUT", f"api/contents/{theirs_path}", {**put, "content": theirs}).status_code == 200
        saved = _api(einstein_lab, "PUT", f"api/contents/{mine_path}",
                     {**put, "content": base.replace("line one", "line one (einstein)")})
        assert saved.status_code == 200 and saved.json()["merge"]["conflicts"] == [], saved.text

        toast = _toast(page, f"Marie Curie modified {mine_path}: ")
        expect(toast).to_be_visible(timeout=20_000)
        expect(toast).to_have_count(1)
        toast.get_by_role("button", name="Show theirs").click()

        preview = page.locator('[data-testid="mz-preview"]')
        expect(preview.locator(".mz-Preview-header")).to_have_text(
            f"Read-only preview of {name} as stored (refreshed when it changes)", timeout=20_000)
        text = preview.locator('[data-testid="mz-preview-text"]')
        expect(text).to_have_text("# Notes\n\nline one (einstein)\nline two\nline three (marie)\n")

        # marie saves again: the preview follows
        again = theirs + "line four (marie)\n"
        assert _api(marie_lab, "PUT", f"api/contents/{theirs_path}", {**put, "content": again}).status_code == 200
        expect(text).to_have_text(
            "# Notes\n\nline one (einstein)\nline two\nline three (marie)\nline four (marie)\n", timeout=20_000)
    finally:
        page.screenshot(path=str(tmp_path / "einstein.png"))


def test_exclusive_lock_from_the_file_browser_others_preview(labs, shared, browser, tmp_path):
    einstein_lab, marie_lab = labs
    name = f"excl-{uuid.uuid4().hex[:6]}.ipynb"
    path = f"{shared[0]}/{name}"
    assert _save(einstein_lab, path, _notebook("a = 1")).status_code == 201

    einstein = _open_folder(browser, einstein_lab, shared[0])
    marie = None
    try:
        item = einstein.locator("#filebrowser .jp-DirListing-item", has_text=name)
        expect(item).to_be_visible(timeout=20_000)
        item.click(button="right")
        einstein.locator('.lm-Menu-item[data-command="mesh-zenodo:lock-exclusive"]').click()
        expect(_toast(einstein, f"{name} is locked for your exclusive editing")).to_be_visible(timeout=20_000)

        # marie opens it: locked; she previews it instead
        marie = _open(browser, marie_lab, f"{shared[1]}/{name}")
        dialog = marie.locator(".jp-Dialog.mz-LockedDialog")
        expect(dialog).to_contain_text(
            "This file is locked by Albert Einstein (exclusive editing in Jupyter) since", timeout=20_000)
        expect(marie.locator('.jp-NotebookPanel-toolbar [data-testid="mz-presence-lock"]')).to_have_text(
            "Locked by Albert Einstein (exclusive editing in Jupyter)")
        dialog.get_by_role("button", name="Preview").click()
        expect(marie.locator(".jp-NotebookPanel")).to_have_count(0, timeout=20_000)
        cells = marie.locator('[data-testid="mz-preview"] [data-testid="mz-preview-cell"] pre')
        expect(cells).to_have_text(["a = 1"], timeout=20_000)

        # einstein saves (he holds the lock): her preview follows
        nb = _load(einstein_lab, path)
        nb["cells"][0]["source"] = "a = 'einstein'"
        assert _save(einstein_lab, path, nb).status_code == 200
        expect(cells).to_have_text(["a = 'einstein'"], timeout=20_000)

        item.click(button="right")
        einstein.locator('.lm-Menu-item[data-command="mesh-zenodo:unlock-exclusive"]').click()
        expect(_toast(einstein, f"{name} is unlocked")).to_be_visible(timeout=20_000)
    finally:
        einstein.screenshot(path=str(tmp_path / "einstein.png"))
        if marie is not None:
            marie.screenshot(path=str(tmp_path / "marie.png"))
