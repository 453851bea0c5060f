"""The Zenodo side panel in a real headless Chromium (Debian's chromium, driven by
Playwright), in `mesh-zenodo lab` on the embedded CS3 storage, with the Zenodo stand-in
(a real HTTP server) as Zenodo.

Each test does what a user does (log in, search, open a record, download into a CS3
folder, cancel) and checks what they see; what landed on the storage is read back with
the raw CS3 protocol (``StorageUser``), never through the code under test.

Screenshots go to ``$MESH_ZENODO_SCREENSHOTS`` (or the module's temporary folder).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest
from cs3.rpc.v1beta1.code_pb2 import CODE_OK
from mesh_zenodo.pytest_plugin import (
    FULL_TOKEN,
    READONLY_TOKEN,
    StorageUser,
    free_port,
    lab_page,
    start_lab,
    start_standin,
    wait_for,
)
from playwright.sync_api import Page, expect

# seeded records of the stand-in (mesh_zenodo/standin/seed.py)
DIMUON, OCEAN = 7000006, 7000012
DIMUON_TITLE = "CMS Open Data: dimuon invariant mass spectrum, Run 2012B"
OCEAN_TITLE = "Global ocean temperature anomalies 1950-2020 (monthly, 1 degree)"
OCEAN_BIG = "sst_anomalies.nc"  # 5 MiB + 12345 bytes
#: extra generated records so that the results have two pages (10 a page)
BIG_RECORDS = 4
#: 7 seeded latest versions + the generated ones + the one with hostile HTML
RECORDS_TOTAL = 7 + BIG_RECORDS + 1
HOSTILE_TITLE = "Record with hostile HTML in its description"
HOSTILE_DESCRIPTION = (
    '<p>Safe <b>bold</b> text and <a href="https://example.org/ref">a reference</a>.</p>'
    '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onerror="window.__mz_pwned = 1">'
    "<script>window.__mz_pwned = 2</script>"
    '<a href="javascript:window.__mz_pwned = 3">click me</a>'
)

def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# ---------------------------------------------------------------------------------------
# fixtures: stand-in, Lab, browser (one of each for the module)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    process = start_standin(
        tmp_path_factory.mktemp("zenodo"), [arg for _ in range(BIG_RECORDS) for arg in ("--big-record", "1:0.01")]
    )
    publish_hostile_record(process)
    yield process
    process.stop()


def publish_hostile_record(standin) -> None:
    """A record whose description tries to run script: the panel must sanitize it."""
    http, auth = standin.http, {"Authorization": f"Bearer {FULL_TOKEN}"}
    response = http.post(
        f"{standin.url}/api/deposit/depositions",
        json={
            "metadata": {
                "title": HOSTILE_TITLE,
                "upload_type": "other",
                "description": HOSTILE_DESCRIPTION,
                "creators": [{"name": "Mallory, Eve", "affiliation": "Nowhere"}],
                "publication_date": "2020-01-01",
            }
        },
        headers=auth,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    deposition = response.json()
    upload = http.put(f"{deposition['links']['bucket']}/notes.txt", data=b"hello\n", headers=auth, timeout=10)
    assert upload.status_code == 201, upload.text
    published = http.post(deposition["links"]["publish"], headers=auth, timeout=10)
    assert published.status_code == 202, published.text


@pytest.fixture(scope="module")
def inspector(mz_storage):
    user = StorageUser(mz_storage.grpc_addr, "einstein")
    yield user
    user.close()


@pytest.fixture(scope="module")
def lab(mz_storage, standin, inspector, tmp_path_factory):
    """`mesh-zenodo lab --gateway ...` with the stand-in as the default Zenodo server."""
    tmp_path = tmp_path_factory.mktemp("lab")
    root = f"/home/ui-zenodo-{uuid.uuid4().hex[:8]}"
    assert inspector.mkdir(root).status.code == CODE_OK
    process = start_lab(
        mz_storage.grpc_addr, root, tmp_path,
        config={
            "LabApp": {"expose_app_in_browser": True},
            "ZenodoClient": {"base_url": standin.url, "backoff": 0.05, "retries": 1, "rate_limit_retries": 0},
            "PullService": {"retry_delay": 0.05, "attempts": 2},
        },
    )
    yield Lab(url=process.url, root=root, tmp=tmp_path, gateway=mz_storage.grpc_addr)
    process.stop()


class Lab:
    def __init__(self, url: str, root: str, tmp: Path, gateway: str) -> None:
        self.url, self.root, self.tmp, self.gateway = url, root, tmp, gateway

    @property
    def token_file(self) -> Path:
        # einstein's remembered token on this storage (each CS3 user on each storage has their own)
        gateway = self.gateway.replace(":", "_")
        return self.tmp / "data" / "mesh-zenodo" / "zenodo-tokens" / gateway / "einstein.json"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("MESH_ZENODO_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(lab, standin, shots, request):
    """A fresh Lab page (its own browser: Playwright's sync API must start and stop
    within a test, or it clashes with pytest-jupyter's event loop fixture)."""
    standin.reset()
    with lab_page(f"{lab.url}/lab?reset", screenshot=shots / f"{request.node.name}-end.png") as page:
        yield page


# ---------------------------------------------------------------------------------------
# helpers: what a user does
# ---------------------------------------------------------------------------------------


def open_panel(page: Page):
    # a click on the icon of the panel already shown would close it
    if page.locator('.jp-SideBar .lm-TabBar-tab.lm-mod-current[title="Zenodo"]').count() == 0:
        page.click('.jp-SideBar [title="Zenodo"]')
    panel = page.locator("#mesh-zenodo-zenodo")
    expect(panel).to_be_visible(timeout=20_000)
    return panel


def select_tab(page: Page, name: str) -> None:
    page.click(f'[data-testid="mz-tab-zenodo-{name}"]')
    expect(page.locator(f'.mz-TabPage-content[data-tab-id="zenodo-{name}"]')).to_be_visible()


def set_theme(page: Page, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate("theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false" if dark else "true", timeout=20_000)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=20_000)


def widen_sidebar(page: Page, width: int) -> None:
    """Drag the splitter between the left sidebar and the main area, as a user does."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(33 + width, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()


def shoot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"))


def sign_in(page: Page, standin, token: str = FULL_TOKEN, remember: bool = False) -> None:
    select_tab(page, "login")
    page.select_option('[data-testid="mz-zenodo-environment"]', "other")
    page.fill('[data-testid="mz-zenodo-base-url"]', standin.url)
    page.fill('[data-testid="mz-zenodo-token"]', token)
    if remember:
        page.check('[data-testid="mz-zenodo-remember"]')
    page.click('[data-testid="mz-zenodo-login-button"]')


def search_results(page: Page):
    return page.locator('[data-testid="mz-zenodo-result"]')


def wait_idle(page: Page) -> None:
    """Wait until the search view has its answer (no spinner)."""
    expect(page.locator('.mz-ZenodoSearch[data-loading="true"]')).to_have_count(0, timeout=20_000)


def folder_item(page: Page, name: str):
    """A folder listed in the "Download to…" folder picker."""
    return page.locator(f'.jp-Dialog [data-testid="mz-folder-item"][data-name="{name}"]')


def choose_folder(page: Page, folder: str) -> None:
    """In the folder picker: enter ``folder`` (from the top folder) and press Select."""
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=10_000)
    dialog.locator('[data-testid="mz-folder-crumbs"] button').first.click()
    for part in folder.split("/"):
        item = folder_item(page, part)
        expect(item).to_be_visible(timeout=10_000)
        item.dblclick()
        expect(dialog.locator('[data-testid="mz-folder-crumbs"] button').last).to_have_text(part, timeout=10_000)
    expect(dialog.locator('[data-testid="mz-folder-target"]')).to_have_text(f"Save in: /{folder}")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0, timeout=10_000)


def record_files(standin, record_id: int) -> dict[str, str]:
    """``{key: md5}`` of a record, as the stand-in serves it."""
    record = standin.get(f"/api/records/{record_id}").json()
    return {f["key"]: f["checksum"].removeprefix("md5:") for f in record["files"]}


def record_sizes(standin, record_id: int) -> dict[str, int]:
    record = standin.get(f"/api/records/{record_id}").json()
    return {f["key"]: f["size"] for f in record["files"]}


def human_size(n: int) -> str:
    """What the panel shows for a size (SI units, as Zenodo does)."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000:
            break
    return f"{value:.{1 if value < 10 else 0}f} {unit}"


def open_record(page: Page, title: str) -> None:
    select_tab(page, "search")
    wait_idle(page)
    query = page.locator('[data-testid="mz-zenodo-query"]')
    query.fill(f'"{title}"')
    query.press("Enter")
    row = search_results(page).filter(has_text=title)
    expect(row).to_have_count(1, timeout=20_000)
    row.click()
    expect(page.locator('[data-testid="mz-zenodo-details-title"]')).to_have_text(title, timeout=20_000)


# ---------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------


def test_panel_tabs_and_login_with_a_good_token_then_log_out(page, lab, standin, shots):
    panel = open_panel(page)
    expect(panel.locator(".mz-SidePanel-title")).to_have_text("Zenodo")
    # the publishing view is there, enabled, and opens with its "Publish a folder…" action
    upload = page.locator('[data-testid="mz-tab-zenodo-upload"]')
    expect(upload).not_to_have_attribute("aria-disabled", "true")
    expect(upload).to_contain_text("Publish")
    upload.click()
    expect(page.locator('.mz-TabPage-content[data-tab-id="zenodo-upload"]')).to_contain_text("Publish a folder")

    select_tab(page, "login")
    expect(page.locator('[data-testid="mz-zenodo-signed-out"]')).to_contain_text("Not logged in to Zenodo")
    token_input = page.locator('[data-testid="mz-zenodo-token"]')
    expect(token_input).to_have_attribute("type", "password")
    # "Other" shows a field for the base URL; the two Zenodo choices do not
    page.select_option('[data-testid="mz-zenodo-environment"]', "sandbox")
    expect(page.locator('[data-testid="mz-zenodo-base-url"]')).to_be_hidden()
    expect(page.locator(".mz-ZenodoLogin-tokenHelp a")).to_have_attribute(
        "href", "https://sandbox.zenodo.org/account/settings/applications/tokens/new/"
    )

    sign_in(page, standin, remember=True)
    connected = page.locator('[data-testid="mz-zenodo-connected"]')
    expect(connected).to_contain_text("Connected to 127.0.0.1", timeout=20_000)
    expect(page.locator('[data-testid="mz-zenodo-connected-url"]')).to_have_text(standin.url)
    expect(page.locator('[data-testid="mz-zenodo-remembered"]')).to_have_text("Remembered on this computer")
    # the token may publish (deposit:write and deposit:actions), and this Lab can
    expect(connected).to_contain_text("Can publish")
    expect(connected.locator(".mz-Badge")).to_contain_text(["Remembered on this computer"])
    # the token is gone from the page and was never stored in the browser
    expect(token_input).to_have_value("")
    stored = page.evaluate("() => JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])")
    assert FULL_TOKEN not in stored
    assert FULL_TOKEN not in page.content()
    # "remember me": the server keeps it in a file only the user can read
    assert lab.token_file.exists() and (lab.token_file.stat().st_mode & 0o077) == 0
    shoot(page, shots, "login-connected-light")

    # searches now go to the signed-in server
    select_tab(page, "search")
    expect(page.locator('[data-testid="mz-zenodo-target"]')).to_contain_text("(logged in)")

    select_tab(page, "login")
    page.click('[data-testid="mz-zenodo-logout"]')
    expect(page.locator('[data-testid="mz-zenodo-signed-out"]')).to_contain_text("Not logged in", timeout=20_000)
    expect(page.locator('[data-testid="mz-zenodo-login-form"]')).to_be_visible()
    assert not lab.token_file.exists()


def test_login_with_a_bad_token_says_why(page, standin, shots):
    open_panel(page)
    sign_in(page, standin, token="not-a-valid-token")
    error = page.locator('[data-testid="mz-zenodo-login-error"]')
    expect(error).to_be_visible(timeout=20_000)
    expect(error.locator(".mz-ErrorBox-title")).to_have_text("Invalid token")
    expect(error).to_contain_text("refused the access token")
    expect(page.locator('[data-testid="mz-zenodo-signed-out"]')).to_be_visible()
    expect(page.locator('[data-testid="mz-zenodo-token"]')).to_have_value("")
    shoot(page, shots, "login-invalid-token-light")
    set_theme(page, dark=True)
    shoot(page, shots, "login-invalid-token-dark")
    set_theme(page, dark=False)

    # a valid token without the deposit scopes: the server's explanation is shown
    page.fill('[data-testid="mz-zenodo-token"]', READONLY_TOKEN)
    page.click('[data-testid="mz-zenodo-login-button"]')
    expect(error.locator(".mz-ErrorBox-title")).to_have_text("The token lacks the deposit scopes", timeout=20_000)
    expect(error).to_contain_text("deposit:write")

    # a server that does not answer
    page.fill('[data-testid="mz-zenodo-base-url"]', f"http://127.0.0.1:{free_port()}")
    page.fill('[data-testid="mz-zenodo-token"]', FULL_TOKEN)
    page.click('[data-testid="mz-zenodo-login-button"]')
    expect(error.locator(".mz-ErrorBox-title")).to_have_text("Zenodo is unreachable", timeout=30_000)
    expect(page.locator('[data-testid="mz-zenodo-signed-out"]')).to_be_visible()


def test_search_records_page_filter_sort_and_errors(page, standin, shots):
    open_panel(page)
    select_tab(page, "search")
    query = page.locator('[data-testid="mz-zenodo-query"]')
    expect(query).to_have_attribute("placeholder", 'e.g. title:"climate" AND creators.name:Smith')
    # without logging in: the most recent records, ten a page
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text(f"{RECORDS_TOTAL} results", timeout=20_000)
    headers = page.locator('[data-testid="mz-zenodo-results"] th')
    expect(headers).to_have_text(["Title", "Resource Type", "Date Published"])
    expect(search_results(page)).to_have_count(10)
    expect(page.locator('[data-testid="mz-zenodo-page"]')).to_have_text("page 1 of 2")
    expect(page.locator('[data-testid="mz-zenodo-sort"]')).to_have_value("mostrecent")
    # the form's choices come from the server's one Zenodo vocabulary
    types = page.locator('[data-testid="mz-zenodo-type"] option')
    expect(types.first).to_have_text("All types")
    expect(page.locator('[data-testid="mz-zenodo-type"] option[value="physicalobject"]')).to_have_text(
        "Physical object"
    )
    expect(page.locator('[data-testid="mz-zenodo-type"]')).to_have_value("")
    expect(page.locator('[data-testid="mz-zenodo-sort"] option')).to_have_text(
        ["Best match", "Most recent", "Least recent", "Newest", "Oldest"]
    )
    expect(page.locator('[data-testid="mz-zenodo-prev"]')).to_be_disabled()
    shoot(page, shots, "search-records-light")

    page.click('[data-testid="mz-zenodo-next"]')
    expect(page.locator('[data-testid="mz-zenodo-page"]')).to_have_text("page 2 of 2", timeout=20_000)
    expect(search_results(page)).to_have_count(RECORDS_TOTAL - 10)
    expect(page.locator('[data-testid="mz-zenodo-next"]')).to_be_disabled()
    page.click('[data-testid="mz-zenodo-prev"]')
    expect(page.locator('[data-testid="mz-zenodo-page"]')).to_have_text("page 1 of 2", timeout=20_000)

    # typing searches once the user pauses (query-string syntax); best match first
    query.press_sequentially('title:"ocean" OR title:dimuon', delay=15)
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text("2 results", timeout=20_000)
    names = search_results(page).locator(".mz-RecordTable-name")
    assert sorted(names.all_text_contents()) == sorted([OCEAN_TITLE, DIMUON_TITLE])
    expect(page.locator('[data-testid="mz-zenodo-sort"]')).to_have_value("bestmatch")
    expect(page.locator('[data-testid="mz-zenodo-pager"]')).to_be_empty()
    # sort by date: the 2023 dimuon spectrum before the 2021 ocean data
    page.select_option('[data-testid="mz-zenodo-sort"]', "mostrecent")
    wait_idle(page)
    expect(search_results(page).locator(".mz-RecordTable-name")).to_have_text([DIMUON_TITLE, OCEAN_TITLE])
    expect(search_results(page).nth(0).locator(".mz-RecordTable-date")).to_have_text("2023-04-18")

    # a spinner while Zenodo is slow to answer
    standin.arm(delay=1.5, path_regex="^/api/records/?$", times=1)
    query.fill("")
    query.press("Enter")
    expect(page.locator('[data-testid="mz-zenodo-spinner"]')).to_be_visible(timeout=5_000)
    expect(page.locator('[data-testid="mz-zenodo-spinner"]')).to_have_count(0, timeout=20_000)
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text(f"{RECORDS_TOTAL} results")

    # a wider sidebar shows the results as a three-column table
    widen_sidebar(page, 520)
    expect(page.locator('[data-testid="mz-zenodo-results"] thead')).to_be_visible()
    shoot(page, shots, "search-records-wide-light")

    # the resource-type filter
    page.select_option('[data-testid="mz-zenodo-type"]', "software")
    wait_idle(page)
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text("1 result")
    expect(search_results(page).locator(".mz-RecordTable-name")).to_have_text(["eossr: the ESCAPE OSSR library v2.0.0"])
    expect(search_results(page).locator(".mz-RecordTable-type")).to_have_text(["Software"])
    page.select_option('[data-testid="mz-zenodo-type"]', "poster")
    wait_idle(page)
    expect(search_results(page).locator(".mz-RecordTable-type")).to_have_text(["Poster"])
    page.select_option('[data-testid="mz-zenodo-type"]', "")
    wait_idle(page)
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text(f"{RECORDS_TOTAL} results")

    # Zenodo's rate limit: the error box says so, with Zenodo's message; retry works
    standin.arm(status=429, retry_after=7, path_regex="^/api/records/?$", times=1)
    query.fill("climate")
    query.press("Enter")
    error = page.locator('[data-testid="mz-zenodo-search-error"]')
    expect(error).to_be_visible(timeout=20_000)
    expect(error.locator(".mz-ErrorBox-title")).to_have_text("Rate limited by Zenodo")
    expect(error).to_contain_text("429")
    expect(error).to_contain_text("wait 7 s")
    shoot(page, shots, "search-rate-limited")
    page.click('[data-testid="mz-zenodo-retry"]')
    expect(error).to_have_count(0, timeout=20_000)
    expect(search_results(page).first).to_contain_text("ocean")


def test_communities_drill_down_and_back(page, shots):
    open_panel(page)
    select_tab(page, "search")
    wait_idle(page)
    page.click('[data-testid="mz-zenodo-scope-communities"]')
    communities = page.locator('[data-testid="mz-zenodo-community"]')
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text("5 communities", timeout=20_000)
    expect(communities).to_have_count(5)
    escape = communities.filter(has_text="ESCAPE 2020")
    expect(escape).to_contain_text("European Science Cluster of Astronomy & Particle physics")
    expect(escape.locator(".mz-Badge")).to_have_text("project")
    # communities have no resource type; their sorts are the communities' own
    expect(page.locator('[data-testid="mz-zenodo-type"]')).to_be_hidden()
    expect(page.locator('[data-testid="mz-zenodo-sort"]')).to_have_value("newest")
    expect(page.locator('[data-testid="mz-zenodo-sort"] option')).to_have_text(
        ["Best match", "Newest", "Oldest", "Recently updated", "Least recently updated"]
    )
    newest_first = communities.first.locator(".mz-CommunityList-title").text_content()
    page.select_option('[data-testid="mz-zenodo-sort"]', "oldest")
    wait_idle(page)
    expect(page.locator('[data-testid="mz-zenodo-search-error"]')).to_have_count(0)
    expect(communities).to_have_count(5)
    expect(communities.first.locator(".mz-CommunityList-title")).not_to_have_text(newest_first)
    page.select_option('[data-testid="mz-zenodo-sort"]', "newest")
    wait_idle(page)
    expect(communities.first.locator(".mz-CommunityList-title")).to_have_text(newest_first)
    set_theme(page, dark=True)
    shoot(page, shots, "search-communities-dark")

    escape.click()
    banner = page.locator('[data-testid="mz-zenodo-community-banner"]')
    expect(banner).to_have_text("Showing results from “ESCAPE 2020”✕", timeout=20_000)
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text("2 results", timeout=20_000)
    expect(search_results(page).locator(".mz-RecordTable-name")).to_have_text(
        ["eossr: the ESCAPE OSSR library v2.0.0", "Poster: Gamma-ray burst afterglows seen by CTA prototypes"]
    )
    # the box searches within the community
    query = page.locator('[data-testid="mz-zenodo-query"]')
    query.fill("poster")
    query.press("Enter")
    expect(page.locator('[data-testid="mz-zenodo-count"]')).to_have_text("1 result", timeout=20_000)
    shoot(page, shots, "search-community-records-dark")

    page.click('[data-testid="mz-zenodo-community-close"]')
    expect(banner).to_be_hidden()
    expect(communities).to_have_count(5, timeout=20_000)
    expect(query).to_have_value("")
    set_theme(page, dark=False)


def test_record_details(page, standin, shots):
    open_panel(page)
    open_record(page, DIMUON_TITLE)
    details = page.locator('[data-testid="mz-zenodo-details"]')
    link = page.locator('[data-testid="mz-zenodo-details-title"] a')
    expect(link).to_have_attribute("href", f"{standin.url}/records/{DIMUON}")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    doi = page.locator('[data-testid="mz-zenodo-doi"] a')
    expect(doi).to_have_text(f"10.5281/zenodo.{DIMUON}")
    expect(doi).to_have_attribute("href", f"https://doi.org/10.5281/zenodo.{DIMUON}")
    # in the default sidebar width the DOI stays on one line (never cut mid-number);
    # the whole DOI is its tooltip
    expect(doi).to_have_attribute("title", f"10.5281/zenodo.{DIMUON}")
    assert doi.evaluate("a => a.getClientRects().length") == 1
    expect(page.locator('[data-testid="mz-zenodo-version"]')).to_contain_text("1.0")
    expect(page.locator('[data-testid="mz-zenodo-published"]')).to_have_text("2023-04-18")
    expect(page.locator('[data-testid="mz-zenodo-license"]')).to_have_text("Creative Commons Zero v1.0 Universal")
    authors = page.locator('[data-testid="mz-zenodo-author"]')
    expect(authors).to_have_count(2)
    expect(authors.first).to_have_attribute("title", "University of Notre Dame")
    expect(page.locator('[data-testid="mz-zenodo-description"]')).to_contain_text("Dimuon events selected")
    files = page.locator('[data-testid="mz-zenodo-file"]')
    expected = record_files(standin, DIMUON)
    expect(files).to_have_count(3)
    sizes = record_sizes(standin, DIMUON)
    for key, digest in expected.items():
        row = files.filter(has=page.locator(f'.mz-RecordDetails-fileName[title="{key}"]'))
        expect(row.locator('[data-testid="mz-zenodo-file-checksum"]')).to_have_text(f"md5:{digest}")
        expect(row.locator('[data-testid="mz-zenodo-file-size"]')).to_have_text(human_size(sizes[key]))
    assert human_size(sizes["dimuon.csv"]).endswith(" kB")
    expect(details.locator('[data-testid="mz-zenodo-download"]')).to_have_count(3)
    set_theme(page, dark=True)
    shoot(page, shots, "record-details-dark")
    set_theme(page, dark=False)
    shoot(page, shots, "record-details-light")

    page.click('[data-testid="mz-zenodo-back"]')
    expect(details).to_have_count(0)
    expect(search_results(page).filter(has_text=DIMUON_TITLE)).to_be_visible()

    # a description that tries to run script is shown sanitized: no script, no handler
    open_record(page, HOSTILE_TITLE)
    description = page.locator('[data-testid="mz-zenodo-description"]')
    expect(description).to_contain_text("Safe bold text")
    expect(description.locator("b")).to_have_text("bold")
    assert description.locator("script").count() == 0
    assert description.locator("[onerror]").count() == 0
    assert description.locator('a[href^="javascript:"]').count() == 0
    expect(description.locator('a[href="https://example.org/ref"]')).to_have_attribute("target", "_blank")
    assert page.evaluate("() => window.__mz_pwned") is None


def test_download_all_into_a_cs3_folder_with_a_name_clash(page, lab, standin, inspector, shots):
    folder = f"pulled-{uuid.uuid4().hex[:6]}"
    assert inspector.mkdir(f"{lab.root}/{folder}").status.code == CODE_OK
    inspector.put_ok(f"{lab.root}/{folder}/README.md", b"my own notes\n")
    expected = record_files(standin, DIMUON)

    open_panel(page)
    open_record(page, DIMUON_TITLE)
    page.click('[data-testid="mz-zenodo-download-all"]')
    expect(page.locator(".jp-Dialog-header")).to_have_text("Download all to…")
    expect(folder_item(page, folder)).to_be_visible(timeout=10_000)
    shoot(page, shots, "pull-choose-folder")
    choose_folder(page, folder)

    # README.md exists already: the server's answer makes Lab ask what to do
    conflict = page.locator('[data-testid="mz-zenodo-conflict"]')
    expect(conflict).to_contain_text(f"README.md already exists in /{folder}", timeout=30_000)
    # meanwhile the card says it waits for the answer, not a finished-looking count
    card = page.locator('[data-testid="mz-zenodo-pull"]').first
    expect(card).to_have_attribute("data-state", "asking")
    expect(card.locator('[data-testid="mz-zenodo-pull-waiting"]')).to_have_text(
        "Waiting for your answer: 1 file already exists"
    )
    expect(card.locator('[data-testid="mz-zenodo-pull-counts"]')).to_have_count(0)
    shoot(page, shots, "pull-name-clash")
    page.locator(".jp-Dialog-button", has_text="Keep both (rename)").click()

    summary = card.locator('[data-testid="mz-zenodo-pull-summary"]')
    expect(summary).to_contain_text(f"Saved 3 files to /{folder}", timeout=60_000)
    expect(card).to_have_attribute("data-state", "done")
    expect(card.locator('[data-key="README.md"]')).to_contain_text("saved as README (1).md")
    shoot(page, shots, "pull-done-light")

    # on the storage: the record's files with the record's md5, and the user's file untouched
    names = set(inspector.names(f"{lab.root}/{folder}"))
    assert names == {"README.md", "README (1).md", "dimuon.csv", "selection.py"}
    assert inspector.read(f"{lab.root}/{folder}/README.md") == b"my own notes\n"
    for key, digest in expected.items():
        name = "README (1).md" if key == "README.md" else key
        assert md5(inspector.read(f"{lab.root}/{folder}/{name}")) == digest

    # "Open folder" shows it in Lab's file browser
    card.locator('[data-testid="mz-zenodo-pull-open"]').click()
    browser = page.locator("#filebrowser")
    expect(browser.locator(".jp-BreadCrumbs")).to_contain_text(folder, timeout=20_000)
    expect(browser.locator(".jp-DirListing-item", has_text="dimuon.csv")).to_be_visible(timeout=20_000)



def test_download_into_a_new_folder_made_in_the_picker(page, lab, standin, inspector, shots):
    parent = f"picker-{uuid.uuid4().hex[:6]}"
    assert inspector.mkdir(f"{lab.root}/{parent}").status.code == CODE_OK
    new_name = f"run 2012B {uuid.uuid4().hex[:4]}"
    expected = record_files(standin, DIMUON)

    open_panel(page)
    open_record(page, DIMUON_TITLE)
    page.click('[data-testid="mz-zenodo-download-all"]')
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator(".jp-Dialog-header")).to_have_text("Download all to…")
    dialog.locator('[data-testid="mz-folder-crumbs"] button').first.click()
    folder_item(page, parent).dblclick()
    expect(dialog.locator('[data-testid="mz-folder-crumbs"] button').last).to_have_text(parent, timeout=10_000)
    expect(dialog.locator('[data-testid="mz-folder-empty"]')).to_have_text("No folders here.")

    # "New folder" creates a folder, lets the user name it in place, and stays in the picker
    dialog.locator('[data-testid="mz-folder-new"]').click()
    name = dialog.locator('[data-testid="mz-folder-name"]')
    expect(name).to_be_focused(timeout=10_000)
    name.fill(new_name)
    name.press("Enter")
    expect(dialog).to_be_visible()
    selected = dialog.locator('[data-testid="mz-folder-item"].mz-mod-selected')
    expect(selected).to_have_text(new_name, timeout=10_000)
    expect(dialog.locator('[data-testid="mz-folder-target"]')).to_have_text(f"Save in: /{parent}/{new_name}")
    # the folder is on the storage already, under the name the user gave
    assert inspector.names(f"{lab.root}/{parent}") == [new_name]
    shoot(page, shots, "pull-picker-new-folder")

    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0, timeout=10_000)
    card = page.locator('[data-testid="mz-zenodo-pull"]').first
    expect(card.locator('[data-testid="mz-zenodo-pull-dest"]')).to_have_text(f"→ /{parent}/{new_name}")
    expect(card.locator('[data-testid="mz-zenodo-pull-summary"]')).to_contain_text(
        f"Saved 3 files to /{parent}/{new_name}", timeout=60_000
    )
    # the pull landed in the new folder, and nowhere else; no error anywhere
    assert inspector.names(f"{lab.root}/{parent}") == [new_name]
    assert sorted(inspector.names(f"{lab.root}/{parent}/{new_name}")) == sorted(expected)
    for key, digest in expected.items():
        assert md5(inspector.read(f"{lab.root}/{parent}/{new_name}/{key}")) == digest
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    expect(page.locator(".mz-ErrorBox")).to_have_count(0)
    expect(page.get_by_text("File browser is disposed")).to_have_count(0)


def open_provenance(page: Page, browser, name: str):
    """Right-click ``name`` in a file browser, then "Zenodo Provenance"; the dialog's body."""
    item = browser.locator(".jp-DirListing-item", has_text=name)
    expect(item).to_be_visible(timeout=20_000)
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text="Zenodo Provenance").click()
    provenance = page.locator('[data-testid="mz-zenodo-provenance"]')
    expect(provenance).to_be_visible(timeout=20_000)
    return provenance


def test_provenance_lists_every_record_of_a_folder_and_the_record_of_a_file(page, lab, standin, inspector, shots):
    folder = f"both-{uuid.uuid4().hex[:6]}"
    assert inspector.mkdir(f"{lab.root}/{folder}").status.code == CODE_OK

    # two records pulled into one folder, through the panel
    open_panel(page)
    open_record(page, DIMUON_TITLE)
    page.click('[data-testid="mz-zenodo-download-all"]')
    choose_folder(page, folder)
    card = page.locator('[data-testid="mz-zenodo-pull"]').first
    expect(card).to_have_attribute("data-state", "done", timeout=60_000)
    page.click('[data-testid="mz-zenodo-back"]')
    open_record(page, OCEAN_TITLE)
    row = page.locator('[data-testid="mz-zenodo-file"]').filter(has_text="global_means.csv")
    row.locator('[data-testid="mz-zenodo-download"]').click()
    choose_folder(page, folder)
    card = page.locator('[data-testid="mz-zenodo-pull"]').first
    expect(card.locator(".mz-PullCard-title")).to_have_text(OCEAN_TITLE)
    expect(card).to_have_attribute("data-state", "done", timeout=60_000)

    # the folder lists both records: title, version, DOI, files (the latest pull first)
    card.locator('[data-testid="mz-zenodo-pull-open"]').click()
    browser = page.locator("#filebrowser")
    expect(browser.locator(".jp-BreadCrumbs")).to_contain_text(folder, timeout=20_000)
    browser.locator(".jp-BreadCrumbs-home").click()
    provenance = open_provenance(page, browser, folder)
    expect(provenance).to_contain_text(f"“{folder}” holds files pulled from 2 Zenodo records:")
    records = provenance.locator('[data-testid="mz-zenodo-provenance-record"]')
    expect(records).to_have_count(2)
    ocean, dimuon = records.nth(0), records.nth(1)
    expect(ocean).to_have_attribute("data-record-id", str(OCEAN))
    expect(ocean.locator(".mz-Provenance-recordTitle a")).to_have_text(OCEAN_TITLE)
    expect(ocean.locator(".mz-Provenance-recordMeta")).to_contain_text("Version 2021.09")
    expect(ocean.locator(".mz-Doi")).to_have_text(f"10.5281/zenodo.{OCEAN}")
    expect(ocean.locator(".mz-Doi")).to_have_attribute("href", f"https://doi.org/10.5281/zenodo.{OCEAN}")
    expect(ocean.locator('[data-testid="mz-zenodo-provenance-files"]')).to_have_text("File: global_means.csv")
    expect(dimuon).to_have_attribute("data-record-id", str(DIMUON))
    expect(dimuon.locator(".mz-Provenance-recordTitle a")).to_have_text(DIMUON_TITLE)
    expect(dimuon.locator(".mz-Provenance-recordMeta")).to_contain_text("Version 1.0")
    expect(dimuon.locator(".mz-Doi")).to_have_text(f"10.5281/zenodo.{DIMUON}")
    files = dimuon.locator('[data-testid="mz-zenodo-provenance-files"]')
    for key in record_files(standin, DIMUON):
        expect(files).to_contain_text(key)
    shoot(page, shots, "provenance-folder-light")
    page.locator(".jp-Dialog-button", has_text="Close").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)

    # a file shows its own record, by title
    browser.locator(".jp-DirListing-item", has_text=folder).dblclick()
    expect(browser.locator(".jp-BreadCrumbs")).to_contain_text(folder, timeout=20_000)
    provenance = open_provenance(page, browser, "dimuon.csv")
    expect(provenance).to_contain_text("“dimuon.csv” was pulled from this Zenodo record:")
    expect(page.locator('[data-testid="mz-zenodo-provenance-title"] a')).to_have_text(DIMUON_TITLE)
    expect(page.locator('[data-testid="mz-zenodo-provenance-title"]')).not_to_contain_text(f"Record {DIMUON}")
    expect(page.locator('[data-testid="mz-zenodo-provenance-version"]')).to_have_text("1.0")
    expect(page.locator('[data-testid="mz-zenodo-provenance-doi"]')).to_have_text(f"10.5281/zenodo.{DIMUON}")
    expect(page.locator('[data-testid="mz-zenodo-provenance-key"]')).to_have_text("dimuon.csv")
    shoot(page, shots, "provenance-file-light")
    page.locator(".jp-Dialog-button", has_text="Close").click()


def test_cancel_a_download(page, lab, standin, inspector, shots):
    folder = f"slow-{uuid.uuid4().hex[:6]}"
    assert inspector.mkdir(f"{lab.root}/{folder}").status.code == CODE_OK
    # a slow Zenodo: about 20 s for the big file, so there is time to cancel
    standin.arm(path_regex=f"/files/{OCEAN_BIG}/content$", rate=300_000, times=None)

    open_panel(page)
    open_record(page, OCEAN_TITLE)
    big = page.locator('[data-testid="mz-zenodo-file"]').filter(has_text=OCEAN_BIG)
    big.locator('[data-testid="mz-zenodo-download"]').click()
    expect(page.locator(".jp-Dialog-header")).to_have_text("Download to…")
    choose_folder(page, folder)

    card = page.locator('[data-testid="mz-zenodo-pull"]').first
    expect(card).to_have_attribute("data-state", "running", timeout=20_000)
    progress = card.locator('[data-testid="mz-zenodo-pull-progress"]')
    # bytes arrive: the bar moves (polled every ~500 ms)
    wait_for(lambda: int(progress.get_attribute("aria-valuenow") or 0) >= 3, timeout=30)
    expect(card.locator('[data-testid="mz-zenodo-pull-counts"]')).to_contain_text("0 of 1 file")
    expect(card.locator(f'[data-key="{OCEAN_BIG}"]')).to_contain_text("Downloading")
    set_theme(page, dark=True)
    shoot(page, shots, "pull-running-dark")
    set_theme(page, dark=False)

    # the page is reloaded: the pull goes on, and the panel shows it again
    page.reload()
    page.wait_for_selector(".jp-Launcher", timeout=60_000)
    open_panel(page)
    select_tab(page, "search")
    card = page.locator('[data-testid="mz-zenodo-pull"]').first
    expect(card).to_have_attribute("data-state", "running", timeout=20_000)
    expect(card.locator(".mz-PullCard-title")).to_have_text(OCEAN_TITLE)
    expect(card.locator('[data-testid="mz-zenodo-pull-dest"]')).to_have_text(f"→ /{folder}")

    card.locator('[data-testid="mz-zenodo-pull-cancel"]').click()
    expect(card).to_have_attribute("data-state", "cancelled", timeout=30_000)
    expect(card.locator('[data-testid="mz-zenodo-pull-summary"]')).to_contain_text(
        f"Cancelled. Nothing was saved to /{folder}; partial files were removed."
    )
    expect(card.locator(f'[data-key="{OCEAN_BIG}"]')).to_contain_text("Cancelled")
    expect(card.locator('[data-testid="mz-zenodo-pull-cancel"]')).to_be_hidden()
    shoot(page, shots, "pull-cancelled-light")
    # nothing, not even a partial file, is left on the storage
    assert inspector.names(f"{lab.root}/{folder}") == []

    # the finished card can be dismissed
    card.locator('[data-testid="mz-zenodo-pull-dismiss"]').click()
    expect(page.locator('[data-testid="mz-zenodo-pull"]')).to_have_count(0)


def test_a_file_that_fails_shows_the_server_message(page, lab, standin, inspector):
    folder = f"broken-{uuid.uuid4().hex[:6]}"
    assert inspector.mkdir(f"{lab.root}/{folder}").status.code == CODE_OK
    # Zenodo sends a corrupted selection.py: its md5 does not match the record's
    standin.arm(path_regex="/files/selection.py/content$", corrupt_at=10, times=None)
    expected = record_files(standin, DIMUON)

    open_panel(page)
    open_record(page, DIMUON_TITLE)
    page.click('[data-testid="mz-zenodo-download-all"]')
    choose_folder(page, folder)

    card = page.locator('[data-testid="mz-zenodo-pull"]').first
    expect(card).to_have_attribute("data-state", "failed", timeout=60_000)
    expect(card.locator('[data-testid="mz-zenodo-pull-summary"]')).to_contain_text(
        f"1 file of 3 could not be saved; 2 files saved to /{folder}."
    )
    broken = card.locator('[data-key="selection.py"]')
    expect(broken).to_contain_text("Failed")
    expect(broken.locator('[data-testid="mz-zenodo-pull-file-message"]')).to_contain_text(
        f"is not the record's ({expected['selection.py']})"
    )
    expect(card.locator('[data-testid="mz-zenodo-pull-open"]')).to_be_visible()
    # the two good files are there; the broken one never was, not even partly
    assert sorted(inspector.names(f"{lab.root}/{folder}")) == ["README.md", "dimuon.csv"]
