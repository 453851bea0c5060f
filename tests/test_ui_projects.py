"""The Projects tab's Members dialog, the quota line of My Files, and editing a
public link in the Share dialog, in a real headless Chromium on the embedded storage:
einstein creates a project, adds marie as editor, makes her a viewer and removes her;
My Files shows how much of his space is used, and more after an upload; he sets a
password on an existing public link."""

from __future__ import annotations

import json
import os
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


@pytest.fixture(scope="module")
def einstein_lab(mz_storage, tmp_path_factory):
    inspector = StorageUser(mz_storage.grpc_addr, "einstein")
    root = f"/home/ui-projects-{uuid.uuid4().hex[:8]}"
    assert inspector.mkdir(root).status.code == CODE_OK
    token = uuid.uuid4().hex
    lab = start_lab(mz_storage.grpc_addr, root, tmp_path_factory.mktemp("einstein"), user="einstein", token=token)
    lab.token = token
    yield lab
    lab.stop()
    inspector.close()


@pytest.fixture
def page(einstein_lab, tmp_path):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(f"{einstein_lab.url}/lab?token={einstein_lab.token}")
        page.wait_for_selector(".jp-Launcher", timeout=60_000)
        try:
            yield page
        finally:
            page.screenshot(path=str(tmp_path / "lab.png"))
            browser.close()


def _show(page, panel_id: str, tab_selector: str) -> None:
    if not page.locator(f"#{panel_id}").is_visible():
        page.click(tab_selector)
    expect(page.locator(f"#{panel_id}")).to_be_visible()


def _sciencemesh(page) -> None:
    _show(page, "mesh-zenodo-sciencemesh", '.jp-SideBar [title="ScienceMesh"]')


def test_project_members_add_change_remove(page):
    name = f"team-{uuid.uuid4().hex[:6]}"
    _sciencemesh(page)
    page.locator('[data-testid="mz-tab-projects"]').click()
    page.locator('[data-testid="mz-project-name"]').fill(name)
    page.locator('[data-testid="mz-project-create"]').click()
    project = page.locator(f'[data-testid="mz-project"][data-name="{name}"]')
    expect(project).to_contain_text("Can manage", timeout=15_000)
    project.locator('[data-testid="mz-project-members"]').click()

    dialog = page.locator('[data-testid="mz-members-dialog"]')
    expect(dialog).to_be_visible()
    expect(page.locator(".jp-Dialog-header")).to_contain_text(name)
    # einstein, its manager, is listed
    expect(dialog.locator('[data-testid="mz-member"][data-name="einstein"]')).to_have_attribute("data-role", "manager", timeout=10_000)

    # add marie as editor, found as in the Share dialog (users only)
    dialog.locator('[data-testid="mz-members-search"]').fill("mar")
    result = dialog.locator('[data-testid="mz-members-result"][data-name="marie"]')
    expect(result).to_contain_text("Marie Curie", timeout=10_000)
    dialog.locator('[data-testid="mz-members-result"]').first.wait_for()
    assert dialog.locator('[data-testid="mz-members-results"]').inner_text().count("(group)") == 0
    result.click()
    dialog.locator('[data-testid="mz-members-role"]').select_option("editor")
    dialog.locator('[data-testid="mz-members-add"]').click()
    marie = dialog.locator('[data-testid="mz-member"][data-name="marie"]')
    expect(marie).to_have_attribute("data-role", "editor", timeout=10_000)
    role = marie.locator('[data-testid="mz-member-role"]')
    expect(role).to_have_value("editor")
    expect(role.locator("option:checked")).to_have_text("Can edit")

    # viewer
    role.select_option("viewer")
    expect(marie).to_have_attribute("data-role", "viewer", timeout=10_000)
    expect(marie.locator('[data-testid="mz-member-role"] option:checked')).to_have_text("Can view")

    # removed
    marie.locator('[data-testid="mz-member-remove"]').click()
    expect(marie).to_have_count(0, timeout=10_000)
    expect(dialog.locator('[data-testid="mz-member"][data-name="einstein"]')).to_be_visible()
    page.locator(".jp-Dialog .jp-mod-reject").click()
    expect(dialog).to_have_count(0)


def test_quota_line_shows_and_grows_after_an_upload(page, tmp_path):
    _sciencemesh(page)
    page.locator('[data-testid="mz-tab-myfiles"]').click()
    quota = page.locator('[data-testid="mz-quota"]')
    expect(quota).to_contain_text("used", timeout=20_000)
    before = int(quota.get_attribute("data-used"))
    text_before = quota.inner_text()

    data = os.urandom(512 * 1024 + 7)
    (tmp_path / "quota.bin").write_bytes(data)
    with page.expect_file_chooser() as chooser:
        page.locator(".mz-MyFiles .jp-ToolbarButtonComponent[title^='Upload']").click()
    chooser.value.set_files(str(tmp_path / "quota.bin"))
    expect(page.locator(".mz-MyFiles .jp-DirListing-item", has_text="quota.bin")).to_be_visible(timeout=30_000)
    expect(quota).not_to_have_attribute("data-used", str(before), timeout=15_000)
    assert int(quota.get_attribute("data-used")) >= before + len(data)
    expect(quota).not_to_have_text(text_before)
    expect(quota).to_contain_text("used")


def test_share_dialog_sets_and_removes_a_link_password(page, einstein_lab):
    name = f"linked-{uuid.uuid4().hex[:6]}"
    assert _api(einstein_lab, "PUT", f"api/contents/{name}", {"type": "directory"}).status_code == 201
    answer = _api(einstein_lab, "POST", "mesh-zenodo/links", {"path": name, "type": "view"})
    assert answer.status_code == 201, answer.text
    link_id = answer.json()["link"]["id"]

    _show(page, "filebrowser", '.jp-SideBar [data-id="filebrowser"]')
    item = page.locator("#filebrowser .jp-DirListing-item", has_text=name)
    expect(item).to_be_visible(timeout=20_000)
    item.click(button="right")
    page.locator('.lm-Menu-item[data-command="mesh-zenodo:share"]').click()
    dialog = page.locator('[data-testid="mz-share-dialog"]')
    expect(dialog).to_be_visible()
    dialog.locator('[data-testid="mz-share-tab-links"]').click()
    row = dialog.locator('[data-testid="mz-link-row"]')
    expect(row).to_have_count(1, timeout=10_000)
    expect(row).to_have_attribute("data-password", "false")
    expect(row.locator('[data-testid="mz-link-password-badge"]')).to_have_count(0)

    # set a password: the link is marked as password-protected
    row.locator('[data-testid="mz-link-row-password"]').fill("s3cret-pass")
    row.locator('[data-testid="mz-link-row-password-set"]').click()
    expect(row).to_have_attribute("data-password", "true", timeout=10_000)
    expect(row.locator('[data-testid="mz-link-password-badge"]')).to_have_text("Password")
    links = _api(einstein_lab, "GET", f"mesh-zenodo/links?path={name}").json()["links"]
    assert [(l["id"], l["password_protected"]) for l in links] == [(link_id, True)]

    # change its type to edit, then remove the password
    row.locator('[data-testid="mz-link-row-type"]').select_option("edit")
    expect(row).to_have_attribute("data-type", "edit", timeout=10_000)
    row.locator('[data-testid="mz-link-row-password-remove"]').click()
    expect(row).to_have_attribute("data-password", "false", timeout=10_000)
    links = _api(einstein_lab, "GET", f"mesh-zenodo/links?path={name}").json()["links"]
    assert [(l["type"], l["password_protected"]) for l in links] == [("edit", False)]

    # an expiry, then none again
    row.locator('[data-testid="mz-link-row-expiry"]').fill("2099-01-31")
    expect(row).not_to_contain_text("Expires: never", timeout=10_000)
    assert _api(einstein_lab, "GET", f"mesh-zenodo/links?path={name}").json()["links"][0]["expiration"]
    row.locator('[data-testid="mz-link-row-expiry"]').fill("")
    expect(row).to_contain_text("Expires: never", timeout=10_000)
    assert _api(einstein_lab, "GET", f"mesh-zenodo/links?path={name}").json()["links"][0]["expiration"] is None
    page.locator(".jp-Dialog .jp-mod-reject").click()
