"""Sharing in a real headless Chromium, two Labs on one embedded storage: einstein's
and marie's, each in a browser context of its own. einstein shares a folder through the
Share dialog (his file browser's context menu) with marie as editor; marie gets the
notification and accepts it; the folder opens in her file browser; she edits and saves a
file there; einstein sees the change."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from cs3.rpc.v1beta1.code_pb2 import CODE_OK
from mesh_zenodo.pytest_plugin import CHROMIUM, CHROMIUM_ARGS, StorageUser, start_lab
from playwright.sync_api import expect, sync_playwright


def _api(lab, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        method, f"{lab.url}/{path}", headers={"Authorization": f"token {lab.token}"},
        data=json.dumps(body) if body is not None else None, timeout=60,
    )


def _start(mz_storage, root: str, tmp, user: str):
    token = uuid.uuid4().hex
    lab = start_lab(mz_storage.grpc_addr, root, tmp, user=user, token=token)
    lab.token = token
    # check for new shares every 2 s (the setting; 60 s by default)
    answer = _api(lab, "PUT", "lab/api/settings/mesh-zenodo:sharing",
                  {"raw": json.dumps({"pollInterval": 2})})
    assert answer.status_code == 204, answer.text
    return lab


@pytest.fixture(scope="module")
def labs(mz_storage, tmp_path_factory):
    inspector = StorageUser(mz_storage.grpc_addr, "einstein")
    root = f"/home/ui-share-{uuid.uuid4().hex[:8]}"
    assert inspector.mkdir(root).status.code == CODE_OK
    einstein = _start(mz_storage, root, tmp_path_factory.mktemp("einstein"), "einstein")
    marie = _start(mz_storage, "", tmp_path_factory.mktemp("marie"), "marie")
    yield einstein, marie
    einstein.stop()
    marie.stop()
    inspector.close()


def _open_lab(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{lab.url}/lab?token={lab.token}")
    page.wait_for_selector(".jp-Launcher", timeout=60_000)
    return context, page


def _show(page, panel_id: str, tab_selector: str) -> None:
    """Show a left side panel (clicking its tab when it is not shown: a click on the
    tab of the shown panel would collapse it)."""
    if not page.locator(f"#{panel_id}").is_visible():
        page.click(tab_selector)
    expect(page.locator(f"#{panel_id}")).to_be_visible()


def _files(page) -> None:
    _show(page, "filebrowser", '.jp-SideBar [data-id="filebrowser"]')


def _sciencemesh(page) -> None:
    _show(page, "mesh-zenodo-sciencemesh", '.jp-SideBar [title="ScienceMesh"]')


def test_share_through_dialog_accept_from_notification_edit_and_owner_sees_it(labs, tmp_path):
    einstein_lab, marie_lab = labs
    name = f"analysis-{uuid.uuid4().hex[:6]}"
    assert _api(einstein_lab, "PUT", f"api/contents/{name}", {"type": "directory"}).status_code == 201
    assert _api(einstein_lab, "PUT", f"api/contents/{name}/notes.txt",
                {"type": "file", "format": "text", "content": "einstein's notes\n"}).status_code == 201

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pages = []
        try:
            _, marie = _open_lab(browser, marie_lab)
            _, einstein = _open_lab(browser, einstein_lab)
            pages = [("einstein", einstein), ("marie", marie)]

            # einstein: "Share…" in his file browser's context menu
            _files(einstein)
            item = einstein.locator("#filebrowser .jp-DirListing-item", has_text=name)
            expect(item).to_be_visible(timeout=20_000)
            item.click(button="right")
            einstein.locator('.lm-Menu-item[data-command="mesh-zenodo:share"]').click()
            dialog = einstein.locator('[data-testid="mz-share-dialog"]')
            expect(dialog).to_be_visible()
            expect(einstein.locator(".jp-Dialog-header")).to_contain_text(name)

            # SHARE WITH: nothing below 3 characters, then marie as she is typed
            search = dialog.locator('[data-testid="mz-share-search"]')
            search.fill("ma")
            expect(dialog.locator('[data-testid="mz-share-results"]')).to_contain_text("at least 3 characters")
            search.fill("mar")
            result = dialog.locator('[data-testid="mz-share-result"][data-name="marie"]')
            expect(result).to_contain_text("Marie Curie", timeout=10_000)
            submit = dialog.locator('[data-testid="mz-share-submit"]')
            expect(submit).to_be_disabled()
            result.click()
            dialog.locator('[data-testid="mz-share-role"]').select_option("editor")
            submit.click()

            # SHARES: marie, editor; INFO: who has access
            row = dialog.locator('[data-testid="mz-share-row"][data-grantee="marie"]')
            expect(row).to_be_visible(timeout=10_000)
            expect(row.locator('[data-testid="mz-share-row-role"]')).to_have_value("editor")
            dialog.locator('[data-testid="mz-share-tab-info"]').click()
            expect(dialog.locator('[data-testid="mz-share-info-path"]')).to_have_text(name)
            expect(dialog.locator('[data-testid="mz-share-info-access"]')).to_contain_text("Marie Curie (marie): Can edit")
            einstein.screenshot(path=str(tmp_path / "einstein-dialog.png"))

            # LINKS: a public view link, listed with its type
            dialog.locator('[data-testid="mz-share-tab-links"]').click()
            dialog.locator('[data-testid="mz-link-type"]').select_option("view")
            dialog.locator('[data-testid="mz-link-create"]').click()
            link = dialog.locator('[data-testid="mz-link-row"]')
            expect(link).to_have_count(1, timeout=10_000)
            expect(link).to_contain_text("View")
            einstein.locator(".jp-Dialog .jp-mod-reject").click()
            expect(dialog).to_have_count(0)

            # his Shares tab lists it, with marie as editor
            _sciencemesh(einstein)
            einstein.locator('[data-testid="mz-tab-shares"]').click()
            shared = einstein.locator('[data-testid="mz-shared"]', has_text=name)
            expect(shared).to_contain_text("Marie Curie (marie) · Can edit", timeout=10_000)

            # marie: a notification, with Accept
            toast = marie.locator(".jp-Notification-Toast, .Toastify__toast", has_text=f"einstein shared “{name}” with you")
            expect(toast).to_be_visible(timeout=30_000)
            toast.get_by_role("button", name="Accept").click()
            opened = marie.locator(".Toastify__toast", has_text=f"“{name}” is now in your Shares folder")
            expect(opened).to_be_visible(timeout=10_000)
            opened.get_by_role("button", name="Open").click()

            # the folder opens in her file browser
            expect(marie.locator("#filebrowser .jp-BreadCrumbs")).to_contain_text(name, timeout=20_000)
            notes = marie.locator("#filebrowser .jp-DirListing-item", has_text="notes.txt")
            expect(notes).to_be_visible(timeout=20_000)

            # her Shares tab: accepted, with Open
            _sciencemesh(marie)
            marie.locator('[data-testid="mz-tab-shares"]').click()
            received = marie.locator(f'[data-testid="mz-received"][data-name="{name}"]')
            expect(received).to_have_attribute("data-state", "accepted", timeout=10_000)
            expect(received).to_contain_text("From Albert Einstein (einstein) · Can edit")
            expect(received.locator('[data-testid="mz-received-open"]')).to_be_visible()
            expect(received.locator('[data-testid="mz-received-accept"]')).to_have_count(0)

            # she edits and saves the file there
            _files(marie)
            notes.dblclick()
            editor = marie.locator(".jp-FileEditor .cm-content")
            expect(editor).to_contain_text("einstein's notes", timeout=20_000)
            editor.click()
            marie.keyboard.press("Control+End")
            marie.keyboard.type("marie was here")
            marie.keyboard.press("Control+s")

            # einstein sees the change
            deadline = time.monotonic() + 30
            content = ""
            while time.monotonic() < deadline:
                content = _api(einstein_lab, "GET", f"api/contents/{name}/notes.txt").json()["content"]
                if "marie was here" in content:
                    break
                time.sleep(0.5)
            assert content == "einstein's notes\nmarie was here", content
            _files(einstein)
            einstein.locator("#filebrowser .jp-DirListing-item", has_text=name).dblclick()
            einstein.locator("#filebrowser .jp-DirListing-item", has_text="notes.txt").dblclick()
            expect(einstein.locator(".jp-FileEditor .cm-content")).to_contain_text("marie was here", timeout=20_000)
        finally:
            for who, page in pages:
                page.screenshot(path=str(tmp_path / f"{who}.png"))
            browser.close()


def test_projects_tab_creates_lists_and_opens_a_project(labs, tmp_path):
    einstein_lab, _ = labs
    name = f"proj-{uuid.uuid4().hex[:6]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = None
        try:
            _, page = _open_lab(browser, einstein_lab)
            _sciencemesh(page)
            page.locator('[data-testid="mz-tab-projects"]').click()
            page.locator('[data-testid="mz-project-name"]').fill(name)
            page.locator('[data-testid="mz-project-create"]').click()
            project = page.locator(f'[data-testid="mz-project"][data-name="{name}"]')
            expect(project).to_contain_text("Can manage", timeout=15_000)
            expect(project).to_contain_text("used")
            open_button = project.locator('[data-testid="mz-project-open"]')
            if open_button.is_enabled():
                open_button.click()
                expect(page.locator("#filebrowser .jp-BreadCrumbs")).to_contain_text(name, timeout=20_000)
        finally:
            if page is not None:
                page.screenshot(path=str(tmp_path / "projects.png"))
            browser.close()
