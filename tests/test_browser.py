"""A learner's first minutes, in a real browser: JupyterLab, lesson 03, the tangent slider.

Starts ``jupyter lab`` (this Python, 127.0.0.1, a free port, no token) on a copy of
``lessons/``, drives the system Chromium with Playwright (no browser download), runs every
cell of ``03_autograd.ipynb`` from the Run menu, checks that no cell fails unless it is
tagged ``raises-exception``, then moves the ipywidgets slider with the keyboard and checks
that the tangent-line picture is redrawn. Screenshots go to ``artifacts/`` (or
``$MINIJAX_ARTIFACTS``), also when the test fails. The server and the browser are always
shut down.

Skipped, with the reason, where Playwright or Chromium is missing: ``.ci/run`` installs
Debian's ``chromium`` and the test extra installs ``playwright``.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSON = "03_autograd.ipynb"
ARTIFACTS = pathlib.Path(os.environ.get("MINIJAX_ARTIFACTS", ROOT / "artifacts"))
RAISES_TAG = "raises-exception"
# Headless Chromium as root on a machine with no outside network: no sandbox, no GPU, and
# none of Chromium's own background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
# JupyterLab settings for a quiet, fully rendered page: every cell in the DOM (no
# virtual scrolling), no news or update pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}
START_TIMEOUT_S = 90
RUN_ALL_TIMEOUT_S = 240

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _chromium():
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser",
                      "google-chrome"):
        path = candidate and shutil.which(candidate)
        if path:
            return path
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc):
    """Stop a process group started with start_new_session=True: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def sync_playwright():
    mod = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                              "(pip install playwright; it is in the test extra)")
    return mod.sync_playwright


@pytest.fixture(scope="module")
def chromium_path():
    path = _chromium()
    if not path:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run does)")
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on a copy of lessons/; yields (base URL, notebook directory)."""
    pytest.importorskip("jupyterlab")
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "lessons"
    shutil.copytree(ROOT / "lessons", work,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    settings = tmp / "settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--port-retries=0", "--IdentityProvider.token=",
           "--ServerApp.password=", f"--ServerApp.root_dir={work}", "--allow-root",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp / 'ws'}"]
    log_path = tmp / "jupyter.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(base + "/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer in {START_TIMEOUT_S} s:\n"
                            f"{log_path.read_text()}")
            time.sleep(0.3)
        yield base, work
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def page(sync_playwright, chromium_path):
    """A fresh Chromium page; the browser is closed whatever happens."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            pg = context.new_page()
            pg.set_default_timeout(30_000)
            yield pg
        finally:
            browser.close()


@contextlib.contextmanager
def _screenshot_on_failure(page, name):
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / name))
        raise


def _wait_for(predicate, timeout_s, what, interval_s=0.25):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


def _menu(page, menu, item):
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def _prompts(page):
    return page.eval_on_selector_all(
        ".jp-Notebook .jp-CodeCell .jp-InputPrompt", "els => els.map(e => e.textContent.trim())")


def test_lesson03_runs_in_jupyterlab_and_its_slider_redraws_the_tangent(page, lab):
    nbformat = pytest.importorskip("nbformat")
    base, work = lab
    with _screenshot_on_failure(page, "lesson03_failure.png"):
        _run_lesson_and_move_the_slider(page, base, work, nbformat)


def _run_lesson_and_move_the_slider(page, base, work, nbformat):
    stored = nbformat.read(str(work / LESSON), as_version=4)
    n_code = sum(c.cell_type == "code" for c in stored.cells)

    page.goto(f"{base}/lab/tree/{LESSON}?reset")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=START_TIMEOUT_S * 1000)
    _wait_for(lambda: len(_prompts(page)) == n_code, 30,
              f"JupyterLab to show all {n_code} code cells (it shows {len(_prompts(page))})")

    # Edit > Clear Outputs of All Cells, so that everything checked below comes from this run
    _menu(page, "Edit", "Clear Outputs of All Cells")
    _wait_for(lambda: set(_prompts(page)) == {"[ ]:"}, 30, "the stored outputs to be cleared")

    # Run > Run All Cells, the way a learner does it; JupyterLab stops at a cell that
    # raises unless the cell is tagged raises-exception
    _menu(page, "Run", "Run All Cells")

    def settled():
        prompts = _prompts(page)
        return ("[*]:" not in prompts and prompts[0] != "[ ]:"
                and page.query_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']"))
    _wait_for(settled, RUN_ALL_TIMEOUT_S, "the cells to run")
    prompts = _prompts(page)

    # Save, then read what the notebook holds (error outputs are exact there)
    page.keyboard.press("Control+s")
    _wait_for(lambda: not page.query_selector(".jp-mod-dirty"), 30, "the notebook to be saved")
    ran = nbformat.read(str(work / LESSON), as_version=4)
    problems = []
    for cell in ran.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        tagged = RAISES_TAG in cell.metadata.get("tags", [])
        if errors and not tagged:
            problems.append(f"cell {cell.id} raised {errors[0].ename}: {errors[0].evalue}")
        if tagged and not errors and cell.execution_count is not None:
            problems.append(f"cell {cell.id} is tagged {RAISES_TAG} but did not raise")
    assert not problems, "\n".join(problems)
    counts = [p.strip("[]:") for p in prompts]
    assert counts == [str(i) for i in range(1, n_code + 1)], (
        f"not every cell ran, or not in order: prompts {prompts}")

    # The slider: focus its handle, move it with the keyboard, watch the picture change
    widget = page.locator(".widget-vbox", has=page.locator(".widget-slider")).first
    widget.scroll_into_view_if_needed()
    handle = widget.locator(".noUi-handle").first
    readout = widget.locator(".widget-readout").first
    picture = widget.locator(".widget-output img").first
    picture.wait_for(state="visible")
    before_value = readout.text_content().strip()
    before_png = picture.get_attribute("src")
    assert before_png.startswith("data:image/png;base64,")
    page.screenshot(path=str(ARTIFACTS / "lesson03_before.png"))

    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")

    _wait_for(lambda: readout.text_content().strip() != before_value, 15, "the slider to move")
    after_value = readout.text_content().strip()
    assert float(after_value) > float(before_value), (before_value, after_value)
    _wait_for(lambda: (picture.get_attribute("src") or before_png) != before_png, 30,
              "the tangent-line plot to be redrawn")
    assert picture.get_attribute("src").startswith("data:image/png;base64,")
    widget.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "lesson03_slider.png"))
