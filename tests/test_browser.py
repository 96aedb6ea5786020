"""JupyterLab in a real browser: what a learner sees after `make lab`, driven by Playwright.

JupyterLab starts exactly as `python run.py lab` starts it (port and token from JUPYTER_PORT and
JUPYTER_TOKEN, which jupyter_server reads), in Chromium without a window. Then:
  * notebook 01 runs top to bottom through the UI (menu Run > Run All Cells) with no error output,
    and no "Jupyter news" prompt appears (the venv's overrides.json switches it off);
  * in notebook 07 the mouse draws saved digits on the pad, and the pad shows the right guess
    within a second of lifting the mouse (measured and printed);
  * the browser contacts nothing but 127.0.0.1 (every other request is recorded and refused).

Not part of `pytest tests` (tests/conftest.py leaves this file out unless it is named): it takes about a
minute. Run it with `python run.py test-all --only browser` or `pytest tests/test_browser.py`.
It uses the system's Chromium when there is one, else Playwright's own; with neither it skips,
and under CI=true it fails instead.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import run  # noqa: E402  (run.py: on_ci, and the `lab` target this test starts)
from mnistlib.strokes import SIZE, load_strokes  # noqa: E402

HOW_TO_ENABLE = ("no browser for Playwright: install one with `apt-get install chromium` "
                 "or `python -m playwright install chromium`")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOK_01 = "01_loading_and_exploring.ipynb"
NOTEBOOK_07 = "07_draw_a_digit.ipynb"
DRAWN = (2, 4, 7)  # saved drawings (mnistlib/digit_strokes.json) the mouse redraws; each must be read as itself
RESPONSE_LIMIT = 1.0  # seconds from lifting the mouse to the guess on screen
RUN_TIMEOUT = 600  # seconds for a notebook to run through the UI
LOCAL_HOSTS = {"127.0.0.1"}
PlaywrightTimeout = TimeoutError  # playwright.sync_api.TimeoutError once the browser fixture imported it


def browser_kwargs(playwright):
    """Launch arguments for the system's Chromium, else Playwright's own, else None (no browser)."""
    system = shutil.which("chromium") or shutil.which("chromium-browser")
    if system:
        return {"executable_path": system, "args": LAUNCH_ARGS}
    try:
        own = Path(playwright.chromium.executable_path)
    except Exception:  # noqa: BLE001  (Playwright raises its own error when it has no browser build)
        return None
    return {"args": LAUNCH_ARGS} if own.is_file() else None


@pytest.fixture(scope="module")
def browser():
    global PlaywrightTimeout
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                                         "(`python run.py venv` installs it)")
    PlaywrightTimeout = playwright_api.TimeoutError
    with playwright_api.sync_playwright() as p:
        kwargs = browser_kwargs(p)
        if kwargs is None:
            if run.on_ci():
                pytest.fail(HOW_TO_ENABLE + " (CI=true: a missing browser fails)")
            pytest.skip(HOW_TO_ENABLE)
        b = p.chromium.launch(headless=True, **kwargs)
        yield b
        b.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """`python run.py lab` on a free port with a random token; yields (base URL, token).

    Its own user-settings folder (autosave off, so running the notebooks never writes them back) and
    workspaces folder keep the learner's home out of it; quick mode keeps notebook 07's fallback short.
    """
    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text('{"autosave": false}\n', encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_PORT=str(port), JUPYTER_TOKEN=token, MNIST_QUICK="1",
               OPENBLAS_NUM_THREADS="1", JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    log = open(tmp / "lab.log", "w", encoding="utf-8")  # noqa: SIM115  (closed below)
    # as `make lab` starts it; a conda user's `python run.py test-all --no-venv` keeps that Python here too
    no_venv = [] if Path(sys.prefix).resolve() == run.VENV.resolve() else ["--no-venv"]
    command = [sys.executable, str(ROOT / "run.py"), "lab", *no_venv, "--", "--no-browser"]
    start = time.monotonic()
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=(os.name == "posix"))
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() - start > 120:
                pytest.fail("JupyterLab did not start: " + (tmp / "lab.log").read_text(encoding="utf-8")[-2000:])
            time.sleep(0.5)
        print(f"\nJupyterLab answered after {time.monotonic() - start:.1f} s")
        yield base, token
    finally:
        if os.name == "posix":
            os.killpg(server.pid, signal.SIGTERM)  # run.py and the jupyter it started
        else:
            server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def page(browser, lab):
    """A page that may reach 127.0.0.1 only: anything else is refused and recorded, then asserted absent."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    yield pg
    context.close()
    assert outside == [], f"the page tried to reach the network: {outside[:5]}"


def open_notebook(page, lab, name):
    base, token = lab
    workspace = "test-" + name.split("_")[0]  # a workspace of its own: no tab of another test restored
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{name}?token={token}")
    page.locator(".jp-Notebook").first.wait_for(state="visible", timeout=60_000)
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(timeout=60_000)


PROMPTS_AND_ERRORS = """() => {
  const nb = document.querySelector('.jp-Notebook');
  const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
  const errors = [...nb.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(o => o.textContent).filter(t => /Traceback|^-{20,}|\\w+Error\\b/m.test(t));
  return {prompts, errors};
}"""


def run_all_cells(page):
    """Menu Run > Run All Cells; wait until every code cell has run (or one failed). Returns (seconds, errors)."""
    started = f"() => ({PROMPTS_AND_ERRORS})().prompts.some(p => p !== '[ ]:')"
    start = time.monotonic()
    for _ in range(3):  # a menu click right after the page settles is sometimes lost: check, and retry
        page.locator(".jp-Notebook .jp-Cell").first.click()  # make the notebook the current widget
        page.keyboard.press("Escape")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        item = page.locator(".lm-Menu-item:not(.lm-mod-disabled)", has_text=re.compile(r"^Run All Cells"))
        item.first.click()
        try:
            page.wait_for_function(started, timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        shot = Path(tempfile.gettempdir()) / "mnist-browser-failure.png"
        page.screenshot(path=str(shot))
        pytest.fail(f"Run > Run All Cells did not start the notebook (screenshot: {shot})")
    settled_since = None
    while time.monotonic() - start < RUN_TIMEOUT:
        state = page.evaluate(PROMPTS_AND_ERRORS)
        prompts, errors = state["prompts"], state["errors"]
        if all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            return time.monotonic() - start, errors
        if errors and not any("*" in p for p in prompts):
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 3:
                return time.monotonic() - start, errors
        page.wait_for_timeout(500)
    pytest.fail(f"the notebook did not finish within {RUN_TIMEOUT} s; prompts: {prompts}")


def test_notebook_01_runs_through_the_ui_without_errors_and_without_a_news_prompt(page, lab):
    open_notebook(page, lab, NOTEBOOK_01)
    seconds, errors = run_all_cells(page)
    print(f"\nnotebook 01 ran through JupyterLab's UI in {seconds:.1f} s")
    assert errors == [], errors[0][:2000]
    assert page.get_by_text("official Jupyter news").count() == 0  # fetchNews "false" in overrides.json
    assert page.locator(".jp-DirListing-content").first.is_visible()  # the file browser, on notebooks/
    assert page.locator(".jp-DirListing-item", has_text=NOTEBOOK_07).count() == 1


def pad_box(pad):
    """The drawing area of the canvas in page pixels (inside its border), once it is in view."""
    pad.scroll_into_view_if_needed()
    pad.page.wait_for_timeout(300)  # let JupyterLab finish any scrolling of its own
    outer = pad.bounding_box()
    inner = pad.evaluate("c => [c.clientLeft, c.clientTop, c.clientWidth, c.clientHeight]")
    box = {"x": outer["x"] + inner[0], "y": outer["y"] + inner[1], "width": inner[2], "height": inner[3]}
    assert abs(box["width"] - SIZE) < 1 and abs(box["height"] - SIZE) < 1, box
    return box


def draw(page, box, strokes):
    """Draw strokes (pad coordinates, 0..SIZE) with the mouse on the canvas at `box`."""
    sx, sy = box["width"] / SIZE, box["height"] / SIZE
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * sx, box["y"] + y * sy)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * sx, box["y"] + y * sy)
        page.mouse.up()


def test_notebook_07_reads_digits_drawn_with_the_mouse_within_a_second(page, lab):
    open_notebook(page, lab, NOTEBOOK_07)
    seconds, errors = run_all_cells(page)
    print(f"\nnotebook 07 ran through JupyterLab's UI in {seconds:.1f} s")
    assert errors == [], errors[0][:2000]
    pad = page.locator("canvas.drawpad").first
    guess = page.locator(".drawpad-guess").first
    clear = page.locator(".drawpad-clear").first
    drawings = {d["label"]: d["strokes"] for d in load_strokes()}
    times = {}
    for label in DRAWN:
        clear.click()
        page.wait_for_function("g => g.dataset.strokes === '0'", arg=guess.element_handle(), timeout=10_000)
        strokes = drawings[label]
        box = pad_box(pad)
        draw(page, box, strokes)
        assert pad_box(pad) == box, "the pad moved while the mouse drew"
        lifted = time.perf_counter()
        page.wait_for_function("([g, n]) => g.dataset.strokes === n", arg=[guess.element_handle(), str(len(strokes))],
                               polling="raf", timeout=10_000)
        times[label] = time.perf_counter() - lifted
        shown = guess.get_attribute("data-digit")
        assert shown == str(label), f"drew a {label}, the pad shows {guess.text_content()!r}"
    print("drawn with the mouse -> guess on screen: "
          + ", ".join(f"{label}: {1000 * t:.0f} ms" for label, t in times.items()))
    assert max(times.values()) < RESPONSE_LIMIT, times
