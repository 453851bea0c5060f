"""Publishing a folder to Zenodo in a real headless Chromium, in `mesh-zenodo lab` on the
embedded CS3 storage, with the Zenodo stand-in (a real HTTP server) as Zenodo.

The user right-clicks a folder, fills in the Publish form (prefilled from the folder's
CITATION.cff), gets the form's messages under the fields, checks the confirmation page,
confirms, and follows the job in the Publish tab's tray until the DOI shows. What landed
on Zenodo is read back from the stand-in over plain HTTP, never through the code under
test; the folder's files are written with the raw CS3 protocol (``StorageUser``).

Screenshots go to ``$MESH_ZENODO_SCREENSHOTS`` (or the module's temporary folder).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import uuid
import zipfile
from pathlib import Path

import pytest
import requests
from cs3.rpc.v1beta1.code_pb2 import CODE_OK
from mesh_zenodo.pytest_plugin import FULL_TOKEN, StorageUser, lab_page, start_lab
from playwright.sync_api import Page, expect

CITATION = """\
cff-version: 1.2.0
message: If you use these data, please cite them.
title: Muon lifetime analysis
abstract: Notebooks and data of the muon lifetime measurement.
type: dataset
authors:
  - family-names: Einstein
    given-names: Albert
    affiliation: ETH Zurich
    orcid: https://orcid.org/0000-0002-1825-0097
keywords:
  - muon
  - lifetime
license: CC-BY-4.0
version: "1.0"
"""

FILES = {
    "CITATION.cff": CITATION.encode(),
    "data.csv": b"t,counts\n" + b"".join(f"{i},{i * 7 % 13}\n".encode() for i in range(2000)),
    "analysis.ipynb": b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
    "raw/run1.bin": os.urandom(120_000),
}
HIDDEN = ".secret"
BAD_ORCID = "0000-0002-1825-0096"  # Einstein's example ORCID with a wrong check digit
GOOD_ORCID = "0000-0002-1694-233X"  # Josiah Carberry's (a valid checksum)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# ---------------------------------------------------------------------------------------
# fixtures: stand-in (mz_standin), Lab, browser
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inspector(mz_storage):
    user = StorageUser(mz_storage.grpc_addr, "einstein")
    yield user
    user.close()


@pytest.fixture(scope="module")
def lab(mz_storage, mz_standin, inspector, tmp_path_factory):
    """`mesh-zenodo lab --gateway ...` (with a Jupyter token, for the REST calls of the
    test), the stand-in as the default Zenodo server."""
    tmp_path = tmp_path_factory.mktemp("lab")
    root = f"/home/ui-publish-{uuid.uuid4().hex[:8]}"
    assert inspector.mkdir(root).status.code == CODE_OK
    token = uuid.uuid4().hex
    process = start_lab(
        mz_storage.grpc_addr, root, tmp_path, token=token,
        config={
            "LabApp": {"expose_app_in_browser": True},
            "ZenodoClient": {"base_url": mz_standin.url, "backoff": 0.05, "retries": 1, "rate_limit_retries": 0},
            "PublishService": {"state_dir": str(tmp_path / "publications")},
        },
    )
    process.token = token
    process.root = root
    yield process
    process.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("MESH_ZENODO_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(lab, mz_standin, shots, request):
    """A fresh Lab page (its own browser: Playwright's sync API must start and stop
    within a test)."""
    mz_standin.reset()
    with lab_page(f"{lab.url}/lab?reset&token={lab.token}", viewport=(1400, 950),
                  screenshot=shots / f"{request.node.name}-end.png") as page:
        yield page


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def api(lab, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        method, f"{lab.url}/{path}", headers={"Authorization": f"token {lab.token}"},
        data=json.dumps(body) if body is not None else None, timeout=60,
    )


def make_folder(inspector, lab, name: str) -> None:
    base = f"{lab.root}/{name}"
    assert inspector.mkdir(base).status.code == CODE_OK
    assert inspector.mkdir(f"{base}/raw").status.code == CODE_OK
    for rel, data in FILES.items():
        inspector.put_ok(f"{base}/{rel}", data)
    inspector.put_ok(f"{base}/{HIDDEN}", b"not for Zenodo\n")


def show(page: Page, panel_id: str, tab_selector: str) -> None:
    """Show a left side panel (a click on the tab of the panel shown would collapse it)."""
    if not page.locator(f"#{panel_id}").is_visible():
        page.click(tab_selector)
    expect(page.locator(f"#{panel_id}")).to_be_visible(timeout=20_000)


def sign_in_to_zenodo(page: Page, mz_standin) -> None:
    """The Login tab of the Zenodo panel, with the stand-in's full token."""
    show(page, "mesh-zenodo-zenodo", '.jp-SideBar [title="Zenodo"]')
    page.click('[data-testid="mz-tab-zenodo-login"]')
    page.select_option('[data-testid="mz-zenodo-environment"]', "other")
    page.fill('[data-testid="mz-zenodo-base-url"]', mz_standin.url)
    page.fill('[data-testid="mz-zenodo-token"]', FULL_TOKEN)
    page.click('[data-testid="mz-zenodo-login-button"]')
    connected = page.locator('[data-testid="mz-zenodo-connected"]')
    expect(connected).to_contain_text("Connected to 127.0.0.1", timeout=20_000)
    # publishing is there now: the token may publish, and this Lab can
    expect(page.locator('[data-testid="mz-zenodo-can-publish"]')).to_be_visible()


def open_publish_dialog(page: Page, name: str):
    """Right-click the folder in Lab's file browser → Publish to Zenodo…"""
    show(page, "filebrowser", '.jp-SideBar [data-id="filebrowser"]')
    item = page.locator("#filebrowser .jp-DirListing-item", has_text=name)
    expect(item).to_be_visible(timeout=20_000)
    item.click(button="right")
    entry = page.locator('.lm-Menu-item[data-command="mesh-zenodo:publish-folder"]')
    expect(entry).to_contain_text("Publish to Zenodo…")
    entry.click()
    dialog = page.locator(".jp-Dialog.mz-PublishDialog")
    expect(dialog.locator(".jp-Dialog-header")).to_contain_text(f"Publish “{name}” to Zenodo")
    expect(dialog.locator('[data-testid="mz-publish-form"]')).to_be_visible(timeout=20_000)
    return dialog


def error_under(scope, field: str):
    return scope.locator(f'.mz-PublishDialog-error[data-field="{field}"]')


def publish_requests(mz_standin) -> list[dict]:
    """The requests that create or change records on the stand-in."""
    return [r for r in mz_standin.requests("/api/records") if r["method"] != "GET"]


def toast(page: Page, text: str):
    return page.locator(".Toastify__toast", has_text=text)


def job_card(page: Page, name: str):
    """The newest publication of ``name`` in the tray (the tray adds new ones last)."""
    return page.locator(f'[data-testid="mz-publish-job"][data-path="{name}"]').last


def record(mz_standin, record_id: str) -> dict:
    response = requests.get(f"{mz_standin.url}/api/records/{record_id}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def record_files(mz_standin, record_id: str) -> dict[str, bytes]:
    out = {}
    for f in record(mz_standin, record_id)["files"]:
        out[f["key"]] = requests.get(f["links"]["self"], timeout=60).content
        assert md5(out[f["key"]]) == f["checksum"].removeprefix("md5:")
    return out


def record_id_of(doi: str) -> str:
    match = re.fullmatch(r"10\.\d+/zenodo\.(\d+)", doi)
    assert match, doi
    return match.group(1)


def confirm_and_wait(page: Page, dialog, name: str, mz_standin, shots: Path, shot: str) -> str:
    """Confirm; the job shows in the Publish tab's tray (Zenodo holds the first upload
    meanwhile, so that the running job can be seen) until it is done; returns the DOI
    the success notification shows."""
    mz_standin.arm(path_regex=r"/draft/files$", method="POST", hold=True)
    card = job_card(page, name)
    try:
        dialog.locator(".jp-Dialog-button.mz-PublishDialog-confirm").click()
        expect(page.locator(".jp-Dialog.mz-PublishDialog")).to_have_count(0, timeout=20_000)
        started = toast(page, f"Publishing /{name} to Zenodo…")
        expect(started).to_be_visible(timeout=10_000)
        started.get_by_role("button", name="Show progress").click()
        expect(page.locator('[data-testid="mz-tab-zenodo-upload"]')).to_have_attribute("aria-selected", "true")
        expect(card).to_have_attribute("data-state", "running", timeout=10_000)
        # the reserved DOI shows as soon as it is known; progress per file and overall; Cancel
        expect(card.locator('[data-testid="mz-publish-job-doi"]')).to_contain_text("DOI (reserved): 10.", timeout=20_000)
        expect(card.locator('[data-testid="mz-publish-job-progress"]')).to_be_visible()
        expect(card.locator('[data-testid="mz-publish-job-counts"]')).to_contain_text(" files · ")
        expect(card.locator('[data-testid="mz-publish-cancel"]')).to_be_visible()
        expect(card.locator('[data-testid="mz-publish-job-file"][data-key="manifest.json"]')).to_have_attribute(
            "data-state", "pending")
        page.screenshot(path=str(shots / f"{shot}-running.png"))
    finally:
        mz_standin.release()
    expect(card).to_have_attribute("data-state", "done", timeout=90_000)
    expect(card.locator('[data-testid="mz-publish-cancel"]')).to_be_hidden()
    page.screenshot(path=str(shots / f"{shot}.png"))
    done = toast(page, f"Published /{name} to Zenodo: DOI ")
    expect(done).to_be_visible(timeout=20_000)
    match = re.search(r"DOI (10\.\S+)", done.inner_text())
    assert match, done.inner_text()
    doi = match.group(1)
    expect(done.get_by_role("button", name="Open on Zenodo")).to_be_visible()
    expect(card.locator('[data-testid="mz-publish-job-doi"]')).to_have_text(f"DOI: {doi}")
    expect(card.locator('[data-testid="mz-publish-job-summary"]')).to_contain_text("Published")
    expect(card.locator('[data-testid="mz-publish-job-link"]')).to_have_attribute("href", re.compile(r"^http"))
    return doi


# ---------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------


def test_publish_a_folder_form_checks_confirmation_and_job(page, lab, mz_standin, inspector, shots):
    name = f"muon-{uuid.uuid4().hex[:6]}"
    make_folder(inspector, lab, name)
    sign_in_to_zenodo(page, mz_standin)
    # the Publish tab is there (no longer a disabled placeholder)
    publish_tab = page.locator('[data-testid="mz-tab-zenodo-upload"]')
    expect(publish_tab).to_have_text("Publish")
    expect(publish_tab).not_to_have_attribute("aria-disabled", "true")

    dialog = open_publish_dialog(page, name)
    # prefilled from the folder's CITATION.cff, and says so
    expect(dialog.locator('[data-testid="mz-publish-prefill"]')).to_have_text("Filled in from CITATION.cff")
    expect(dialog.locator('[data-testid="mz-publish-title"]')).to_have_value("Muon lifetime analysis")
    expect(dialog.locator('[data-testid="mz-publish-type"]')).to_have_value("dataset")
    expect(dialog.locator('[data-testid="mz-publish-description"]')).to_have_value(
        "Notebooks and data of the muon lifetime measurement."
    )
    creators = dialog.locator('[data-testid="mz-publish-creator"]')
    expect(creators).to_have_count(1)
    expect(creators.nth(0).locator('[data-testid="mz-publish-creator-name"]')).to_have_value("Einstein, Albert")
    expect(creators.nth(0).locator('[data-testid="mz-publish-creator-orcid"]')).to_have_value("0000-0002-1825-0097")
    expect(dialog.locator('[data-testid="mz-publish-keywords"]')).to_have_value("muon, lifetime")
    expect(dialog.locator('[data-testid="mz-publish-license"]')).to_have_value("cc-by-4.0")
    expect(dialog.locator('[data-testid="mz-publish-version"]')).to_have_value("1.0")
    expect(dialog.locator('[data-testid="mz-publish-previous"]')).to_be_hidden()
    # the files, all chosen; the hidden one only with "include hidden files"
    files = dialog.locator('[data-testid="mz-publish-file"]')
    expect(files).to_have_count(4)
    assert sorted(files.evaluate_all("items => items.map(i => i.dataset.path)")) == sorted(FILES)
    expect(dialog.locator('[data-testid="mz-publish-file-check"]:checked')).to_have_count(4)
    expect(dialog.locator('[data-testid="mz-publish-files-summary"]')).to_contain_text("4 of 4 files chosen")
    expect(dialog.locator('[data-testid="mz-publish-files-summary"]')).to_contain_text("1 hidden file left out")
    dialog.locator('[data-testid="mz-publish-include-hidden"]').check()
    expect(dialog.locator(f'[data-testid="mz-publish-file"][data-path="{HIDDEN}"]')).to_be_visible()
    dialog.locator('[data-testid="mz-publish-include-hidden"]').uncheck()
    expect(dialog.locator(f'[data-testid="mz-publish-file"][data-path="{HIDDEN}"]')).to_have_count(0)
    # the subtype select only for the types that need one
    expect(dialog.locator('[data-testid="mz-publish-publication-type"]')).to_be_hidden()
    dialog.locator('[data-testid="mz-publish-type"]').select_option("publication")
    expect(dialog.locator('[data-testid="mz-publish-publication-type"]')).to_be_visible()
    dialog.locator('[data-testid="mz-publish-type"]').select_option("dataset")
    # embargo date only for embargoed access
    expect(dialog.locator('[data-testid="mz-publish-embargo-date"]')).to_be_hidden()
    page.screenshot(path=str(shots / "publish-form.png"))

    # no title, and a second creator whose ORCID has a wrong check digit
    dialog.locator('[data-testid="mz-publish-title"]').fill("")
    dialog.locator('[data-testid="mz-publish-add-creator"]').click()
    expect(creators).to_have_count(2)
    creators.nth(1).locator('[data-testid="mz-publish-creator-name"]').fill("Curie, Marie")
    creators.nth(1).locator('[data-testid="mz-publish-creator-affiliation"]').fill("Sorbonne")
    creators.nth(1).locator('[data-testid="mz-publish-creator-orcid"]').fill(BAD_ORCID)
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-next").click()

    # both messages under their fields; the dialog stays open on the form
    expect(error_under(dialog, "title")).to_have_text("A title is required.", timeout=10_000)
    orcid_error = error_under(creators.nth(1), "orcid")
    expect(orcid_error).to_contain_text(f"'{BAD_ORCID}' is not a valid ORCID iD")
    expect(orcid_error).to_contain_text("check digit")
    expect(error_under(creators.nth(0), "orcid")).to_be_hidden()
    expect(dialog.locator('[data-testid="mz-publish-form"]')).to_be_visible()
    expect(dialog.locator('[data-testid="mz-publish-confirm"]')).to_have_count(0)
    page.screenshot(path=str(shots / "publish-form-errors.png"))
    # nothing went to Zenodo
    assert publish_requests(mz_standin) == []

    # fixed: the messages go, the confirmation page lists the files and the metadata
    dialog.locator('[data-testid="mz-publish-title"]').fill("Muon lifetime analysis")
    creators.nth(1).locator('[data-testid="mz-publish-creator-orcid"]').fill(GOOD_ORCID)
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-next").click()
    confirm = dialog.locator('[data-testid="mz-publish-confirm"]')
    expect(confirm).to_be_visible(timeout=10_000)
    expect(dialog.locator('[data-testid="mz-publish-form"]')).to_be_hidden()
    expect(confirm.locator('[data-testid="mz-publish-confirm-title"]')).to_have_text("Muon lifetime analysis")
    expect(confirm.locator('[data-testid="mz-publish-confirm-type"]')).to_have_text("Dataset")
    expect(confirm.locator('[data-testid="mz-publish-confirm-creators"]')).to_contain_text(
        "Einstein, Albert · ETH Zurich · ORCID 0000-0002-1825-0097"
    )
    expect(confirm.locator('[data-testid="mz-publish-confirm-creators"]')).to_contain_text(
        f"Curie, Marie · Sorbonne · ORCID {GOOD_ORCID}"
    )
    expect(confirm.locator('[data-testid="mz-publish-confirm-license"]')).to_contain_text("Creative Commons Attribution 4.0")
    expect(confirm.locator('[data-testid="mz-publish-confirm-keywords"]')).to_have_text("muon, lifetime")
    expect(confirm.locator('[data-testid="mz-publish-confirm-server"]')).to_have_text(mz_standin.url)
    expect(confirm.locator('[data-testid="mz-publish-confirm-mode"]')).to_contain_text("Publish now")
    expect(confirm.locator('[data-testid="mz-publish-confirm-folder"]')).to_have_text(f"/{name}")
    listed = confirm.locator('[data-testid="mz-publish-confirm-files"] li')
    assert sorted(listed.evaluate_all("items => items.map(i => i.dataset.path)")) == sorted(FILES)
    expect(confirm.locator('[data-testid="mz-publish-confirm-total"]')).to_contain_text("4 files")
    expect(confirm.locator('[data-testid="mz-publish-confirm-uploads"]')).to_contain_text("raw.zip")
    page.screenshot(path=str(shots / "publish-confirm.png"))
    # Edit goes back to the form with the values kept
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-edit").click()
    expect(dialog.locator('[data-testid="mz-publish-form"]')).to_be_visible()
    expect(creators.nth(1).locator('[data-testid="mz-publish-creator-orcid"]')).to_have_value(GOOD_ORCID)
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-next").click()
    expect(confirm).to_be_visible(timeout=10_000)
    assert publish_requests(mz_standin) == []

    doi = confirm_and_wait(page, dialog, name, mz_standin, shots, "publish-tray")
    # 3 top-level files, raw.zip, manifest.json
    expect(job_card(page, name).locator('[data-testid="mz-publish-job-file"]')).to_have_count(5)

    # Zenodo (the stand-in) has the published record, with these files and metadata
    published = record(mz_standin, record_id_of(doi))
    assert published["doi"] == doi
    assert published["metadata"]["title"] == "Muon lifetime analysis"
    assert [c["name"] for c in published["metadata"]["creators"]] == ["Einstein, Albert", "Curie, Marie"]
    got = record_files(mz_standin, record_id_of(doi))
    assert sorted(got) == ["CITATION.cff", "analysis.ipynb", "data.csv", "manifest.json", "raw.zip"]
    assert got["data.csv"] == FILES["data.csv"]
    assert zipfile.ZipFile(io.BytesIO(got["raw.zip"])).read("raw/run1.bin") == FILES["raw/run1.bin"]
    assert HIDDEN not in json.dumps(json.loads(got["manifest.json"]))

    # the Share dialog's INFO tab says where the folder was published
    show(page, "filebrowser", '.jp-SideBar [data-id="filebrowser"]')
    page.locator("#filebrowser .jp-DirListing-item", has_text=name).click(button="right")
    page.locator('.lm-Menu-item[data-command="mesh-zenodo:share"]').click()
    share = page.locator('[data-testid="mz-share-dialog"]')
    share.locator('[data-testid="mz-share-tab-info"]').click()
    expect(share.locator('[data-testid="mz-share-info-zenodo"]')).to_contain_text(f"{doi} (version 1.0)", timeout=20_000)
    page.locator(".jp-Dialog .jp-mod-reject").click()


def test_publish_again_makes_a_new_version(page, lab, mz_standin, inspector, shots):
    name = f"versions-{uuid.uuid4().hex[:6]}"
    make_folder(inspector, lab, name)
    # signed in and published once (through the REST API: this test is about the second time)
    assert api(lab, "POST", "mesh-zenodo/zenodo/login",
               {"token": FULL_TOKEN, "base_url": mz_standin.url}).status_code == 200
    metadata = {"title": "Versioned folder", "upload_type": "dataset", "version": "1.0",
                "creators": [{"name": "Einstein, Albert"}]}
    answer = api(lab, "POST", "mesh-zenodo/zenodo/publications",
                 {"path": name, "metadata": metadata, "publish": True})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job"]["id"]
    for _ in range(600):
        job = api(lab, "GET", f"mesh-zenodo/jobs/{job_id}").json()["job"]
        if job["state"] != "running":
            break
        page.wait_for_timeout(100)
    assert job["state"] == "done", job
    first = job["result"]
    inspector.put_ok(f"{lab.root}/{name}/added.txt", b"a new file\n")

    dialog = open_publish_dialog(page, name)
    previous = dialog.locator('[data-testid="mz-publish-previous"]')
    expect(previous).to_be_visible()
    expect(previous.locator('[data-testid="mz-publish-previous-text"]')).to_have_text(
        f"Published before as {first['doi']} (version 1.0)"
    )
    expect(dialog.locator('[data-testid="mz-publish-new-version"]')).to_be_checked()
    expect(dialog.locator('[data-testid="mz-publish-file"][data-path="added.txt"]')).to_be_visible()
    dialog.locator('[data-testid="mz-publish-version"]').fill("2.0")
    page.screenshot(path=str(shots / "publish-again-form.png"))
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-next").click()
    confirm = dialog.locator('[data-testid="mz-publish-confirm"]')
    expect(confirm).to_be_visible(timeout=10_000)
    expect(confirm.locator('[data-testid="mz-publish-confirm-new-version"]')).to_have_text(
        f"{first['doi']} (version 1.0)"
    )
    expect(confirm.locator('[data-testid="mz-publish-confirm-version"]')).to_have_text("2.0")

    doi = confirm_and_wait(page, dialog, name, mz_standin, shots, "publish-again")
    # 4 top-level files this time (added.txt too), raw.zip, manifest.json
    expect(job_card(page, name).locator('[data-testid="mz-publish-job-file"]')).to_have_count(6)

    # a second record of the same concept, never an unrelated one
    assert doi != first["doi"]
    second = record(mz_standin, record_id_of(doi))
    old = record(mz_standin, first["record_id"])
    assert second["conceptrecid"] == old["conceptrecid"]
    assert second["conceptdoi"] == old["conceptdoi"] == first["concept_doi"]
    assert second["metadata"]["version"] == "2.0"
    assert "added.txt" in record_files(mz_standin, record_id_of(doi))
    assert "added.txt" not in record_files(mz_standin, first["record_id"])


def test_signed_out_the_form_says_sign_in_first_and_keeps_the_entries(page, lab, mz_standin, inspector, shots):
    name = f"signed-out-{uuid.uuid4().hex[:6]}"
    make_folder(inspector, lab, name)
    assert api(lab, "DELETE", "mesh-zenodo/zenodo/login").status_code == 200

    dialog = open_publish_dialog(page, name)
    notice = dialog.locator('[data-testid="mz-publish-signed-out"]')
    expect(notice).to_contain_text("Sign in to Zenodo first")
    dialog.locator('[data-testid="mz-publish-title"]').fill("Typed before signing in")
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-next").click()
    confirm = dialog.locator('[data-testid="mz-publish-confirm"]')
    expect(confirm.locator('[data-testid="mz-publish-confirm-server"]')).to_have_text("Not signed in to Zenodo")
    # Confirm: the server refuses (401); the dialog says so, with the way to sign in
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-confirm").click()
    refused = confirm.locator('[data-testid="mz-publish-confirm-error"]')
    expect(refused.locator(".mz-ErrorBox-title")).to_have_text("Sign in to Zenodo first", timeout=10_000)
    page.screenshot(path=str(shots / "publish-signed-out.png"))
    assert publish_requests(mz_standin) == []
    refused.locator('[data-testid="mz-publish-sign-in"]').click()
    expect(page.locator(".jp-Dialog.mz-PublishDialog")).to_have_count(0)
    expect(page.locator('[data-testid="mz-zenodo-login-form"]')).to_be_visible(timeout=10_000)

    # back to the form: what was typed is still there
    dialog = open_publish_dialog(page, name)
    expect(dialog.locator('[data-testid="mz-publish-prefill"]')).to_have_text("Your entries from before are kept.")
    expect(dialog.locator('[data-testid="mz-publish-title"]')).to_have_value("Typed before signing in")
    dialog.locator(".jp-Dialog-button.mz-PublishDialog-cancel").click()
    expect(page.locator(".jp-Dialog.mz-PublishDialog")).to_have_count(0)
