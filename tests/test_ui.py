"""Lab in a real headless Chromium (Debian's chromium, driven by Playwright), on the
embedded CS3 storage: the user sees the ScienceMesh panel, creates a notebook, and the
notebook is on the storage."""

from __future__ import annotations

import os
import time
import uuid

import nbformat
import pytest
from cs3.rpc.v1beta1.code_pb2 import CODE_OK
from mesh_zenodo.pytest_plugin import CHROMIUM, CHROMIUM_ARGS, start_lab
from playwright.sync_api import expect, sync_playwright

@pytest.fixture
def lab(mz_storage, mz_raw, tmp_path):
    root = f"/home/ui-{uuid.uuid4().hex[:8]}"
    assert mz_raw.mkdir(root).status.code == CODE_OK
    process = start_lab(mz_storage.grpc_addr, root, tmp_path)
    yield process.url, root, tmp_path
    process.stop()


def test_lab_shows_sciencemesh_panel_and_saves_notebook_on_cs3(lab, mz_raw, mz_storage):
    url, root, tmp_path = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            page.goto(f"{url}/lab")
            page.wait_for_selector(".jp-Launcher", timeout=60_000)

            # the ScienceMesh panel shows who is signed in, and where
            page.click('.jp-SideBar [title="ScienceMesh"]')
            expect(page.locator(".mz-SessionHeader-user")).to_contain_text("Albert Einstein", timeout=20_000)
            expect(page.locator(".mz-SessionHeader-user")).to_contain_text("einstein@cernbox.cern.ch")
            expect(page.locator(".mz-SessionHeader-storage")).to_contain_text(mz_storage.grpc_addr)
            # the two lines under the name say what they are
            expect(page.locator('[data-testid="mz-session-mail"]')).to_have_text("Mail: einstein@example.org")
            expect(page.locator('[data-testid="mz-session-account"]')).to_have_text("CS3 id: einstein@cernbox.cern.ch")
            expect(page.locator('[data-testid="mz-tab-myfiles"]')).to_be_visible()
            # sharing and projects are there, enabled
            for tab in ("shares", "projects"):
                expect(page.locator(f'[data-testid="mz-tab-{tab}"]')).not_to_have_attribute("aria-disabled", "true")

            # a new notebook from the launcher is a file on the CS3 storage
            page.click('.jp-LauncherCard[data-category="Notebook"]')
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell .cm-content", timeout=30_000)
            deadline = time.monotonic() + 20
            while mz_raw.info(f"{root}/Untitled.ipynb") is None and time.monotonic() < deadline:
                time.sleep(0.3)
            assert mz_raw.info(f"{root}/Untitled.ipynb") is not None

            # what the user types and saves is what the storage holds
            page.click(".jp-NotebookPanel .jp-Cell .cm-content")
            page.keyboard.type("answer = 42")
            page.keyboard.press("Control+s")
            # Lab asks to rename an untitled notebook on its first save: keep the name
            page.locator(".jp-Dialog .jp-mod-accept").click(timeout=10_000)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                nb = nbformat.reads(mz_raw.read(f"{root}/Untitled.ipynb").decode(), as_version=4)
                if nb.cells and nb.cells[0].source == "answer = 42":
                    break
                time.sleep(0.3)
            assert nb.cells[0].source == "answer = 42"

            # and Lab's file browser (My Files) lists it
            expect(page.locator(".mz-MyFiles .jp-DirListing-item", has_text="Untitled.ipynb")).to_be_visible(
                timeout=20_000
            )
            # in the default sidebar width, "Modified" and the date are readable, not "Mo…"
            header = page.locator(
                ".mz-MyFiles .jp-DirListing-headerItem.jp-id-modified .jp-DirListing-headerItemText:visible"
            )
            expect(header).to_have_text("Modified")
            date = page.locator(".mz-MyFiles .jp-DirListing-item", has_text="Untitled.ipynb").locator(
                ".jp-DirListing-itemModified"
            )
            expect(date).not_to_be_empty()
            for cell in (header, date):
                # the text fits its cell (no ellipsis); waits for Lab's column sizing to settle
                cell.element_handle().wait_for_element_state("stable")
                page.wait_for_function("e => e.scrollWidth <= e.clientWidth", arg=cell.element_handle(), timeout=10_000)
            page.screenshot(path=str(tmp_path / "myfiles.png"))

            # a large upload from My Files streams into the storage and arrives whole
            data = os.urandom(3 * 1024 * 1024 + 11)
            (tmp_path / "upload.bin").write_bytes(data)
            requests_seen: list[str] = []
            page.on("request", lambda request: requests_seen.append(f"{request.method} {request.url}"))
            with page.expect_file_chooser() as chooser:
                page.locator(".mz-MyFiles .jp-ToolbarButtonComponent[title^='Upload']").click()
            chooser.value.set_files(str(tmp_path / "upload.bin"))
            expect(page.locator(".mz-MyFiles .jp-DirListing-item", has_text="upload.bin")).to_be_visible(
                timeout=30_000
            )
            deadline = time.monotonic() + 20
            while mz_raw.info(f"{root}/upload.bin") is None and time.monotonic() < deadline:
                time.sleep(0.3)
            assert mz_raw.read(f"{root}/upload.bin") == data
            # one streamed request, not a thousand base64 chunks
            assert [r for r in requests_seen if "upload.bin" in r] == [f"PUT {url}/mesh-zenodo/upload/upload.bin?overwrite=1"]
        finally:
            page.screenshot(path=str(tmp_path / "lab.png"))
            browser.close()

