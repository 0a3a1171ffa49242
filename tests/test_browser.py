"""What a user meets, in a real browser: notebook 03 run in JupyterLab, and the reader report.

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``; ``.ci/run`` installs them when missing),
driven by Selenium through ``/usr/bin/chromedriver``: nothing is downloaded. JupyterLab runs on a free port
of 127.0.0.1 with a token, on a temporary copy of ``notebooks/``, with its own settings and runtime folders.

* In JupyterLab: run every cell of notebook 03; each figure cell shows a chart (an ``img`` that decoded, with a
  natural width above zero), no cell writes to stderr; when the notebook shows the explorer (an element with
  the class ``compare-explorer``), clicking a cell of its type table (``compare-cell``) changes the problem
  list (``compare-problems``).
* The reader HTML of notebook 03, opened from disk: every figure decodes.

``COMPARE_SCREENSHOTS=DIR`` saves ``explorer.png`` (the explorer in JupyterLab, when notebook 03 shows it) and
``reader.png`` (the top of the reader report) there; ``COMPARE_SCREENSHOTS=docs pytest tests/test_browser.py``
makes the README's.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from test_notebooks import FIGURE_CELLS

from compare import config
from compare.build import READER_DIR, execute_notebooks

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NOTEBOOK = "03_compare_regions"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=zh-CN"]
#: JupyterLab settings for the test: every cell in the page (no windowing), no news or update checks.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}
RUN_SECONDS = 300
#: The figures JupyterLab shows (the charts are PNG outputs), their natural sizes, and stderr outputs.
_FIGURES_JS = """
const imgs = [...document.querySelectorAll('.jp-NotebookPanel .jp-RenderedImage img')];
return {sizes: imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight]),
        stderr: document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length};
"""
_PROMPTS_JS = """
return [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim());
"""


def _need_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = f"{', '.join(missing)} missing: apt-get install -y chromium chromium-driver (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("selenium", reason="selenium is in the test extra: pip install -e '.[test]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _screenshots() -> Path | None:
    folder = os.environ.get("COMPARE_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    if not path.is_absolute():
        path = config.ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium with a fresh profile, driven through Debian's chromedriver."""
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    # A headless window never has the focus (document.hasFocus() is false), so JupyterLab's focus tracker never
    # makes the opened notebook its current widget, and the notebook commands act on nothing. Chromium's focus
    # emulation gives the page the focus a user's window has.
    driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})
    yield driver
    driver.quit()


def _lab_env(home: Path) -> dict:
    env = dict(os.environ)
    settings = home / "settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value), encoding="utf-8")
    env.update(JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_CONFIG_DIR=str(home / "config"),
               COMPARE_RAW=str(config.RAW_DIR), PYTHONPATH=os.pathsep.join(
                   p for p in (str(config.ROOT / "src"), os.environ.get("PYTHONPATH")) if p))
    return env


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer {url} in {seconds} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free local port, on a copy of the notebooks; yields its base URL with the token."""
    _need_browser()
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    shutil.copytree(config.NOTEBOOKS_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), uuid.uuid4().hex
    log = (home / "lab.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
         "--ServerApp.port_retries=0", "--ServerApp.allow_root=True", "--LabApp.expose_app_in_browser=True"],
        env=_lab_env(home), cwd=root, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", proc, home / "lab.log")
        yield {"base": base, "token": token, "root": root, "log": home / "lab.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait(driver, condition, seconds: float, what: str, poll: float = 0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def _all_ran(prompts: list[str]) -> bool:
    return bool(prompts) and all(p.startswith("[") and p[1:-2].strip().isdigit() for p in prompts)


@pytest.fixture(scope="module")
def notebook_03(browser, lab):
    """Notebook 03 opened in JupyterLab, every cell run; yields the driver on that page."""
    browser.get(f"{lab['base']}/lab/tree/{NOTEBOOK}.ipynb?token={lab['token']}")
    _wait(browser, lambda: browser.execute_script(
        "const a = window.jupyterapp; const w = a && a.shell.currentWidget;"
        "return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.content && w.content.widgets.length);"), 300, "the notebook and its kernel")
    _wait(browser, lambda: browser.execute_script(
        "return window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle';"),
          300, "an idle kernel")
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    try:
        _wait(browser, lambda: _all_ran(browser.execute_script(_PROMPTS_JS)), RUN_SECONDS, "every cell to run",
              poll=1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; prompts {browser.execute_script(_PROMPTS_JS)}; lab log:\n"
                             f"{lab['log'].read_text(errors='replace')[-3000:]}") from None
    yield browser


def test_jupyterlab_runs_notebook_03_and_shows_every_figure(notebook_03):
    expected = FIGURE_CELLS[NOTEBOOK]
    seen = _wait(notebook_03, lambda: (r := notebook_03.execute_script(_FIGURES_JS))["sizes"]
                 and len(r["sizes"]) >= expected and all(c for c, _, _ in r["sizes"]) and r, 60, "the charts")
    assert len(seen["sizes"]) == expected
    assert all(width > 300 and height > 150 for _, width, height in seen["sizes"]), seen["sizes"]
    assert seen["stderr"] == 0
    errors = notebook_03.find_elements("css selector", '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
    assert errors == []


def _problems_text(driver) -> str:
    return driver.execute_script(
        "const p = document.querySelector('.compare-explorer .compare-problems');"
        "return p ? p.innerText : null;")


def test_the_explorer_reacts_to_a_selection(notebook_03):
    shows_explorer = "Explorer(" in (config.NOTEBOOKS_DIR / f"{NOTEBOOK}.py").read_text(encoding="utf-8")
    panels = notebook_03.find_elements("css selector", ".compare-explorer")
    if not shows_explorer and not panels:
        pytest.skip(f"notebook {NOTEBOOK} shows no explorer yet (no element with the class compare-explorer)")
    assert panels, "the notebook makes an Explorer but JupyterLab shows no .compare-explorer widget"
    panel = panels[0]
    notebook_03.execute_script("arguments[0].scrollIntoView();", panel)
    buttons = _wait(notebook_03, lambda: panel.find_elements("css selector", ".compare-cell button, button.compare-cell"),
                    30, "the buttons of the type table")
    before = _problems_text(notebook_03)
    assert before is not None, "the explorer has no .compare-problems list"
    changed = None
    for button in buttons[:6]:  # the first cell may be the one already shown, or an empty one
        notebook_03.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        try:
            changed = _wait(notebook_03, lambda: (t := _problems_text(notebook_03)) != before and t, 10,
                            "the problem list to change")
            break
        except AssertionError:
            continue
    assert changed, "clicking cells of the type table never changed the problem list"
    folder = _screenshots()
    if folder is not None:  # the notebook alone, the explorer at the top
        notebook_03.execute_script("window.jupyterapp.shell.collapseLeft();")
        notebook_03.execute_script("arguments[0].scrollIntoView();", panel)
        time.sleep(0.5)
        notebook_03.save_screenshot(str(folder / "explorer.png"))


@pytest.fixture(scope="module")
def reader_html(tmp_path_factory):
    """Notebook 03 executed by the build's own function; the path of its reader HTML."""
    out = tmp_path_factory.mktemp("reports")
    execute_notebooks(out, raw=config.RAW_DIR, progress=False, notebooks=[config.NOTEBOOKS_DIR / f"{NOTEBOOK}.ipynb"])
    return out / READER_DIR / f"{NOTEBOOK}.html"


def test_the_reader_report_shows_every_figure_in_chromium(browser, reader_html):
    browser.get(reader_html.as_uri())
    sizes = _wait(browser, lambda: (s := browser.execute_script(
        "return document.readyState === 'complete' && [...document.images].map(i => [i.complete, i.naturalWidth]);"))
        and all(c for c, _ in s) and s, 60, "the images to decode")
    assert len(sizes) == FIGURE_CELLS[NOTEBOOK] and all(width > 300 for _, width in sizes), sizes
    links = browser.execute_script("return [...document.querySelectorAll('nav.compare-toc a')]"
                                   ".map(a => document.getElementById(decodeURIComponent(a.hash.slice(1)))"
                                   " || document.getElementById(a.hash.slice(1)));")
    assert links and all(links), "every entry of the table of contents leads to a heading"
    assert browser.find_elements("css selector", ".jp-CodeCell .jp-InputArea") == []
    folder = _screenshots()
    if folder is not None:  # the title, the contents and the first table and chart
        browser.set_window_size(1280, 2000)
        browser.save_screenshot(str(folder / "reader.png"))
        browser.set_window_size(1400, 1000)
