"""The JupyterLab extension in a real workspace and a real browser: `soc-workspace up` with a
day of demo data, a person's JupyterLab, Debian's Chromium (headless, Playwright).

In the SOC data panel: pick HERMES EEA l1 and a day, see its files and the availability strip,
insert the code, run it, see the Dataset; a quicklook; a server message in the panel. In the
launcher: pick a template, fill its form, run the new notebook; run the data-availability and
the HERMES quicklook templates and see their bokeh plots draw. Screenshots of each step go to a
folder named at the end of the test run.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
import requests
from screenshots import record_screenshots
from workspace_support import admin_session, new_user, personal_demo_workspace

TEMPLATES = Path(__file__).parents[1] / "notebooks" / "templates"

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

PASSWORD = "a-long-test-password-42"
DAY = "2025-06-01"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def workspace():
    with personal_demo_workspace("socws-lab-") as connection:
        yield connection


@pytest.fixture(scope="module")
def admin(workspace):
    return admin_session(workspace)


@pytest.fixture(scope="module")
def scientist(workspace, admin):
    session = new_user(workspace, admin, "sci", PASSWORD)
    session.start_server()
    return session


def test_the_panels_api_answers_its_user_only(workspace, admin, scientist):
    """Through the hub's proxy: the user's browser session is answered; nobody else is."""
    path = f"/soc-workspace-lab/datasets?t={time.time()}"
    mine = scientist.server_api("GET", path)
    assert mine.status_code == 200, mine.text
    datasets = {d["dataset"]: d for d in mine.json()["datasets"]}
    assert datasets["hermes_eea_l1"]["files"] == 24
    assert mine.json()["warnings"] == []

    anonymous = requests.get(scientist.server_url + path, timeout=30, allow_redirects=False)
    assert anonymous.status_code == 403, anonymous.status_code
    assert "hermes_eea_l1" not in anonymous.text

    other = new_user(workspace, admin, "other", PASSWORD)
    theirs = other.http.get(scientist.server_url + path, timeout=30)
    assert theirs.status_code == 403, (theirs.status_code, theirs.url)
    assert "hermes_eea_l1" not in theirs.text
    other.start_server()
    assert other.server_api("GET", path).status_code == 200  # their own server answers them
    other.stop_server()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Screenshots: written under pytest's tmp dir, copied to a folder named at the end."""
    folder = tmp_path_factory.mktemp("lab-screenshots")
    yield folder
    keep = Path(os.environ.get("SOC_WORKSPACE_SCREENSHOTS", "/tmp/soc-workspace-screenshots"))
    target = keep / f"lab-{time.strftime('%Y%m%d-%H%M%S')}"
    shutil.copytree(folder, target)
    record_screenshots("JupyterLab extension (tests/test_lab_browser.py)", target)


def open_lab(page, workspace) -> None:
    """Log the scientist in and open their JupyterLab with its default layout."""
    page.goto(f"{workspace.hub_url}/hub/login", timeout=60_000)
    page.fill("#username_input", "sci")
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url("**/user/sci/lab**", timeout=60_000)
    page.goto(f"{workspace.hub_url}/user/sci/lab?reset", timeout=60_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)


@pytest.mark.browser
def test_a_scientist_finds_data_inserts_code_and_runs_a_template(workspace, scientist, shots):
    from playwright.sync_api import expect, sync_playwright

    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail(
            "Debian's chromium is missing: tests/run.sh installs it (apt-get install chromium)"
        )
    failed_calls: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1500, "height": 950},
                permissions=["clipboard-read", "clipboard-write"],
            )
            page = context.new_page()
            page.on(
                "response",
                lambda r: (
                    "/soc-workspace-lab/" in r.url
                    and r.status >= 400
                    and failed_calls.append(f"{r.status} {r.url}")
                ),
            )
            open_lab(page, workspace)

            # -- the data browser: HERMES EEA l1, one day --------------------------------------
            page.click(".jp-SideBar [data-id='soc-workspace-data-browser']")
            panel = page.locator("#soc-workspace-data-browser")
            panel.locator(".soc-Tree-instrument summary", has_text="EEA").first.click()
            panel.locator("[data-dataset='hermes_eea_l1']").click()
            panel.locator("input[name='start']").fill(f"{DAY}T00:00")
            panel.locator(".soc-Picker-spans button", has_text="Day").click()
            expect(panel.locator("input[name='stop']")).to_have_value("2025-06-02T00:00")
            rows = panel.locator(".soc-Files-list li")
            expect(rows).to_have_count(24, timeout=60_000)
            expect(panel.locator(".soc-Pager-label")).to_contain_text("24 files")
            names = rows.locator(".soc-Files-name").all_inner_texts()
            assert names[0] == "hermes_eea_l1_20250601T000000_v1.0.0.cdf", names[:3]
            assert all(n.startswith("hermes_eea_l1_20250601T") for n in names)
            cells = panel.locator(".soc-Strip-cell")
            expect(cells).to_have_count(30)  # June 2025
            day = panel.locator(f".soc-Strip-cell[data-day='{DAY}']")
            expect(day).to_have_attribute("data-files", "24")
            expect(day).to_have_class("soc-Strip-cell soc-mod-level4 soc-mod-selected")
            assert panel.locator(".soc-Strip-cell.soc-mod-level0").count() == 29
            page.screenshot(path=str(shots / "1-data-browser.png"))

            # -- copy a file's URL --------------------------------------------------------------
            third = rows.nth(2)
            url = third.get_attribute("title")
            assert url.startswith("s3://hermes-eea/l1/unknown/2025/06/01/hermes_eea_l1_20250601T02")
            third.click()
            panel.locator("button", has_text="Copy URL").click()
            expect(panel.locator(".soc-Status")).to_have_text(f"Copied {url}")
            assert page.evaluate("navigator.clipboard.readText()") == url

            # -- insert the code into a (new) notebook and run it ------------------------------
            panel.locator("button", has_text="Insert code").click()
            cell = page.locator(".jp-NotebookPanel .jp-Cell").first
            expect(cell).to_contain_text('soc.search(dataset="hermes_eea_l1"', timeout=60_000)
            expect(page.locator(".jp-NotebookPanel .jp-Cell")).to_have_count(1)
            page.get_by_text("| Idle").wait_for(timeout=90_000)
            cell.locator(".jp-InputArea-editor").click()
            page.keyboard.press("Shift+Enter")
            output = page.locator(".jp-OutputArea-output", has_text="xarray.Dataset")
            expect(output).to_be_visible(timeout=180_000)  # after the progress bar
            expect(output).to_contain_text("Epoch")
            page.screenshot(path=str(shots / "2-inserted-code-ran.png"))
            errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']")
            assert not [t for t in errors.all_inner_texts() if "Traceback" in t]

            # -- a quicklook beside the notebook -----------------------------------------------
            panel.locator("button", has_text="Quicklook").click()
            image = page.locator(".soc-Quicklook img[data-variable]")
            expect(image).to_be_visible(timeout=180_000)
            width = image.evaluate("img => img.naturalWidth")
            assert width == 800, width
            variable = image.get_attribute("data-variable")
            assert variable in page.locator(".soc-Quicklook select").inner_text()
            page.screenshot(path=str(shots / "3-quicklook.png"))

            # -- the server's message, shown in the panel --------------------------------------
            panel.locator("input[name='start']").fill("1900-01-01T00:00")
            panel.locator("input[name='stop']").fill("1900-01-02T00:00")
            expect(panel.locator(".soc-Error").first).to_contain_text(
                "is outside 1950-2200", timeout=30_000
            )
            page.screenshot(path=str(shots / "4-message-from-the-server.png"))
            panel.locator("input[name='stop']").fill("1899-01-02T00:00")
            expect(panel.locator(".soc-Error").first).to_have_text("Stop must be after start.")

            # -- a template from the launcher: form, copy, run ---------------------------------
            page.get_by_role("menuitem", name="File", exact=True).click()
            page.get_by_text("New Launcher", exact=True).click()
            launcher = page.locator(".jp-Launcher:visible").last  # the one just opened
            section = launcher.locator(".jp-Launcher-section", has_text="SOC templates")
            templates = len(list(TEMPLATES.glob("*.ipynb")))  # one card per shipped template
            expect(section.locator(".jp-LauncherCard")).to_have_count(templates, timeout=30_000)
            section.locator(".jp-LauncherCard", has_text="Quick start").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog.locator("input[name='day']")).to_have_value(DAY)
            dialog.locator("input[name='workers']").fill("1")
            dialog.locator("input[name='instrument']").fill("nemisis")
            expect(dialog.locator("input[name='notebook-name']")).to_have_value(
                "quickstart-1.ipynb"
            )
            page.screenshot(path=str(shots / "5-template-form.png"))
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
            tab = page.locator(".lm-TabBar-tab", has_text="quickstart-1.ipynb")
            expect(tab).to_be_visible(timeout=60_000)
            notebook = page.locator(f"[id='{tab.get_attribute('data-id')}']")
            expect(notebook.locator(".jp-Cell", has_text="workers = 1").first).to_be_visible(
                timeout=30_000
            )
            page.get_by_text("| Idle").wait_for(timeout=90_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            last = notebook.locator(".jp-Cell").last.locator(".jp-OutputArea-output")
            expect(last).to_contain_text("mean", timeout=400_000)
            last.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "6-template-ran.png"))
            outputs = "\n".join(notebook.locator(".jp-OutputArea-output").all_inner_texts())
            template_errors = notebook.locator(
                "[data-mime-type='application/vnd.jupyter.stderr']"
            ).all_inner_texts()
        finally:
            browser.close()
    assert "24 files of hermes nemisis l1 on 2025-06-01" in outputs, outputs[:2000]
    assert "1 workers" in outputs
    assert not [t for t in template_errors if "Traceback" in t], template_errors
    # the panel's calls all succeeded, but for the 1900 range the server refused (400)
    assert failed_calls, "the 1900 range was not refused"
    assert all(c.startswith("400 ") and "1900-01-0" in c for c in failed_calls), failed_calls

    # The copy in the home folder holds the values as papermill injected them.
    saved = scientist.server_api("GET", "/api/contents/quickstart-1.ipynb").json()
    assert saved["content"]["metadata"]["papermill"]["parameters"] == {
        "mission": "hermes",
        "instrument": "nemisis",
        "level": "l1",
        "day": DAY,
        "workers": 1,
    }


# Pixels of a plot cell's canvases that are coloured (not white, grey or black): what bokeh
# drew of the data (strips, lines, spectrograms), not the axes and labels around it.
COLOURED_PIXELS = """canvases => canvases.reduce((n, c) => {
    if (!c.width || !c.height) return n;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
        const hi = Math.max(d[i], d[i + 1], d[i + 2]), lo = Math.min(d[i], d[i + 1], d[i + 2]);
        if (d[i + 3] > 0 && hi - lo > 40) n++;
    }
    return n;
}, 0)"""


@pytest.mark.browser
@pytest.mark.parametrize(
    ("card", "shot"),
    [("Data availability", "7-availability-plot.png"), ("HERMES time series", "8-quicklooks.png")],
)
def test_a_template_from_the_launcher_draws_its_plots(workspace, scientist, shots, card, shot):
    """The template runs in the person's JupyterLab and its bokeh plots draw, offline: the
    BokehJS comes with the notebook (``hv.extension("bokeh", inline=True)``)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            # Nothing but panel's stylesheets may be asked of the internet: holoviews' embedded
            # plots link them from cdn.holoviz.org even with inline=True; plots draw without them.
            outside = []
            page.on(
                "request",
                lambda r: (
                    r.url.startswith("http")
                    and not r.url.startswith(workspace.hub_url)
                    and outside.append((r.resource_type, r.url))
                ),
            )
            open_lab(page, workspace)

            page.get_by_role("menuitem", name="File", exact=True).click()
            page.get_by_text("New Launcher", exact=True).click()
            launcher = page.locator(".jp-Launcher:visible").last
            section = launcher.locator(".jp-Launcher-section", has_text="SOC templates")
            section.locator(".jp-LauncherCard", has_text=card).click(timeout=60_000)
            dialog = page.locator(".jp-Dialog")
            name = dialog.locator("input[name='notebook-name']").input_value()
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
            tab = page.locator(".lm-TabBar-tab", has_text=name)
            expect(tab).to_be_visible(timeout=60_000)
            notebook = page.locator(f"[id='{tab.get_attribute('data-id')}']")
            expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=30_000)
            page.get_by_text("| Idle").wait_for(timeout=90_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            last = notebook.locator(".jp-CodeCell").last.locator(".jp-InputPrompt")
            expect(last).to_have_text(re.compile(r"\[\d+\]"), timeout=600_000)  # all ran
            expect(notebook.locator(".jp-InputPrompt", has_text="[*]")).to_have_count(0)

            plot = notebook.locator(".jp-Cell", has=page.locator("canvas")).first
            expect(plot.locator("canvas").first).to_be_visible(timeout=60_000)
            plot.locator("canvas").first.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)  # bokeh paints on the next animation frames
            page.screenshot(path=str(shots / shot))
            coloured = plot.locator("canvas").evaluate_all(COLOURED_PIXELS)
            errors = notebook.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            ).all_inner_texts()
        finally:
            browser.close()
    assert coloured > 2000, f"bokeh drew {coloured} coloured pixels"
    assert not [t for t in errors if re.search(r"Traceback|\w+Error: ", t)], errors
    assert not [(kind, url) for kind, url in outside if kind != "stylesheet"], outside
