"""The ScienceMesh panel in a real headless Chromium when there is no CS3 session to
show: plain `jupyter lab` (Lab's files on the local disk: a calm notice, nothing wrong),
and `mesh-zenodo lab` whose CS3 gateway does not answer (an error box with Retry, a Lab
notification that explains the empty file browsers, once, and My Files saying why).
And, signed in, where kernels and terminals work: a quiet line when they start in the
storage's FUSE mount, a warning with the reason and the scratch folder when they do not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mesh_zenodo.pytest_plugin import CHROMIUM, CHROMIUM_ARGS, LabProcess, free_port, lab_page, start_lab
from playwright.sync_api import Page, expect, sync_playwright


def start_plain_lab(tmp: Path, timeout: float = 60) -> LabProcess:
    """`jupyter lab` as a user starts it with the package installed (the extension is
    enabled; Lab's files are Jupyter's own, on the local disk): the command and the
    environment of ``start_lab``, without ``mesh_zenodo.cli``."""
    config_dir = tmp / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(json.dumps({}))
    files = tmp / "files"
    files.mkdir(exist_ok=True)
    (files / "notes.txt").write_text("local notes\n")
    port = free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    env.pop("MESH_ZENODO_CS3_PASSWORD", None)
    with open(tmp / "lab.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root", f"--ServerApp.root_dir={files}",
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp,
        )
    lab = LabProcess(process, f"http://127.0.0.1:{port}", "", tmp)
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{lab.url}/api/status", timeout=2)
            return lab
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(lab.log) from None
            time.sleep(0.3)


def open_page(p, url: str, errors: list[str]) -> tuple:
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.on("pageerror", lambda err: errors.append(f"{err.message}\n{err.stack}"))
    page.goto(f"{url}/lab?reset")
    page.wait_for_selector(".jp-Launcher", timeout=60_000)
    return browser, page


def open_sciencemesh(page: Page):
    page.click('.jp-SideBar [title="ScienceMesh"]')
    panel = page.locator("#mesh-zenodo-sciencemesh")
    expect(panel).to_be_visible(timeout=20_000)
    return panel


def warnings(page: Page):
    """Lab's warning notifications shown as toasts."""
    return page.locator(".jp-Notification-Toast-warning")


@pytest.fixture
def plain_lab(tmp_path):
    lab = start_plain_lab(tmp_path)
    yield lab
    lab.stop()


def test_plain_jupyter_lab_shows_a_calm_notice_not_an_error(plain_lab, tmp_path):
    errors: list[str] = []
    with sync_playwright() as p:
        browser, page = open_page(p, plain_lab.url, errors)
        try:
            # Lab's own file browser shows the local files
            expect(page.locator("#filebrowser .jp-DirListing-item", has_text="notes.txt")).to_be_visible(
                timeout=20_000
            )
            panel = open_sciencemesh(page)
            notice = panel.locator('[data-testid="mz-session-notice"]')
            expect(notice).to_be_visible(timeout=20_000)
            expect(notice).to_have_attribute("role", "note")
            expect(notice).to_contain_text("No CS3 storage in use")
            expect(notice).to_contain_text("Lab's files are on this computer's disk.")
            expect(notice).to_contain_text("To work on a CS3 storage, start mesh-zenodo lab")
            expect(notice.locator("code").first).to_have_text("mesh-zenodo lab")
            # information, not an error: no error box, no Retry, no warning, no tabs of CS3 files
            expect(panel.locator(".mz-ErrorBox")).to_have_count(0)
            expect(panel.locator('[data-testid="mz-session-retry"]')).to_have_count(0)
            expect(panel).not_to_contain_text("Not connected")
            expect(panel.locator('[data-testid="mz-tab-myfiles"]')).to_be_hidden()
            expect(warnings(page)).to_have_count(0)
        finally:
            page.screenshot(path=str(tmp_path / "plain-lab.png"))
            browser.close()
    assert not [e for e in errors if "mesh-zenodo" in e], errors


@pytest.fixture
def unreachable_lab(tmp_path):
    """`mesh-zenodo lab --gateway` with nothing listening at the gateway's address."""
    gateway = f"127.0.0.1:{free_port()}"
    lab = start_lab(gateway, "/home/nowhere", tmp_path)
    yield lab, gateway
    lab.stop()


def test_an_unreachable_storage_explains_the_empty_file_browsers(unreachable_lab, tmp_path):
    lab, gateway = unreachable_lab
    errors: list[str] = []
    with sync_playwright() as p:
        browser, page = open_page(p, lab.url, errors)
        try:
            # one Lab notification says why the file browsers are empty
            toast = warnings(page).filter(has_text="cannot be reached")
            expect(toast).to_have_count(1, timeout=20_000)
            expect(toast).to_contain_text(
                f"The CS3 storage at {gateway} cannot be reached, so Lab's file browsers are empty."
            )
            # its Details show the server's reason
            toast.get_by_role("button", name="Details").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog.locator(".jp-Dialog-header")).to_have_text("The CS3 storage cannot be reached")
            expect(dialog).to_contain_text("unreachable")
            dialog.locator(".jp-Dialog-button", has_text="Close").click()
            expect(dialog).to_have_count(0)
            expect(toast).to_have_count(1)

            # the panel keeps its error box with Retry
            panel = open_sciencemesh(page)
            error = panel.locator('[data-testid="mz-session-error"]')
            expect(error).to_be_visible(timeout=20_000)
            expect(error).to_contain_text("unreachable")
            expect(error).to_contain_text(gateway)
            retry = panel.locator('[data-testid="mz-session-retry"]')
            expect(retry).to_be_visible()

            # My Files says why instead of an empty list (and has no listing at all)
            placeholder = panel.locator('[data-testid="mz-myfiles-placeholder"]')
            expect(placeholder).to_be_visible()
            expect(placeholder).to_contain_text("The CS3 storage cannot be reached")
            expect(placeholder.locator('[data-testid="mz-myfiles-reason"]')).to_contain_text("unreachable")
            expect(placeholder).to_contain_text("press Retry above")
            expect(panel.locator(".mz-MyFiles")).to_have_count(0)
            page.screenshot(path=str(tmp_path / "unreachable.png"))

            # Retry asks again and fails again: still the one notification, not a second
            with page.expect_response(lambda r: "/mesh-zenodo/session" in r.url) as answer:
                retry.click()
            assert answer.value.status == 503
            expect(panel.locator(".mz-SessionHeader")).to_have_attribute("data-state", "error")
            expect(error).to_be_visible()
            expect(placeholder).to_contain_text("The CS3 storage cannot be reached")
            expect(warnings(page)).to_have_count(1)
        finally:
            page.screenshot(path=str(tmp_path / "unreachable-end.png"))
            browser.close()
    assert not [e for e in errors if "mesh-zenodo" in e], errors


def session_answer(lab: LabProcess) -> dict:
    with urllib.request.urlopen(f"{lab.url}/mesh-zenodo/session", timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture
def lab_without_mount(mz_storage, mz_cs3_root, tmp_path):
    """`mesh-zenodo lab` on the embedded storage with the FUSE mount turned off
    (c.KernelAccess.mount = False)."""
    lab = start_lab(mz_storage.grpc_addr, mz_cs3_root, tmp_path, {"KernelAccess": {"mount": False}})
    yield lab
    lab.stop()


def test_without_the_mount_the_panel_says_where_kernels_start_and_why(lab_without_mount, tmp_path):
    lab = lab_without_mount
    kernels = session_answer(lab)["kernels"]
    assert kernels == {
        "mounted": False, "path": None, "reason": "mounting is turned off (c.KernelAccess.mount)",
        "scratch": str(tmp_path),
    }
    with lab_page(f"{lab.url}/lab?reset", screenshot=tmp_path / "kernels-scratch.png") as page:
        panel = open_sciencemesh(page)
        expect(panel.locator('[data-testid="mz-session-user"]')).to_be_visible(timeout=20_000)
        line = panel.locator('[data-testid="mz-session-kernels"]')
        expect(line).to_be_visible()
        expect(line).to_have_class(re.compile(r"\bmz-Notice\b"))
        expect(line).to_have_attribute("role", "note")
        expect(line).to_have_text(
            f"Kernels and terminals start in {tmp_path}, not on the storage: mounting is turned off "
            "(c.KernelAccess.mount). In a kernel, cs3://home/… still reaches your files."
        )
        expect(line.locator("code")).to_have_text([str(tmp_path), "cs3://home/…"])
        expect(panel).not_to_contain_text("work on the storage")
    assert "not on the storage: mounting is turned off (c.KernelAccess.mount)" in lab.log


@pytest.fixture
def lab_with_mount(mz_storage, mz_cs3_root, tmp_path):
    """`mesh-zenodo lab` on the embedded storage as configured by default (FUSE mount on)."""
    lab = start_lab(mz_storage.grpc_addr, mz_cs3_root, tmp_path)
    yield lab
    lab.stop()


def test_with_the_mount_the_panel_says_quietly_that_kernels_work_on_the_storage(lab_with_mount, tmp_path):
    lab = lab_with_mount
    kernels = session_answer(lab)["kernels"]
    assert kernels["mounted"] is True, (kernels, lab.log)
    assert kernels["path"].startswith(f"{tmp_path}/runtime/mesh-zenodo/") and kernels["path"].endswith("/cs3")
    assert kernels["reason"] is None and kernels["scratch"] is None
    with lab_page(f"{lab.url}/lab?reset", screenshot=tmp_path / "kernels-mounted.png") as page:
        panel = open_sciencemesh(page)
        line = panel.locator('[data-testid="mz-session-kernels"]')
        expect(line).to_have_text("Kernels and terminals work on the storage", timeout=20_000)
        expect(line).to_be_visible()
        expect(line).to_have_attribute("title", f"Mounted at {kernels['path']}")
        expect(line).not_to_have_class(re.compile(r"\bmz-Notice\b"))
        expect(panel.locator(".mz-Notice")).to_have_count(0)
