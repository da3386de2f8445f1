"""The browser tests' app and browser (tests/space/test_browser*.py; conftest.py registers the
fixtures): `wavecoder space` serving a dataset folder written by our own writer (planted HTML and
script in every field shown) and two tiny local models on loopback, started once per session, and
Debian's Chromium driven by Playwright (headless, /usr/bin/chromium, never a downloaded browser).

Without Chromium or playwright the tests skip with the fix, except where every tool is required
(CI=true or WAVECODER_REQUIRE_TOOLCHAINS=1: `evaluation.toolchains.toolchains_required`), where
they fail. On a failure each tab is saved as a screenshot under the test's temporary folder.
With WAVECODER_SPACE_SCREENSHOTS=DIR the tests also save the README's screenshots there
(`WAVECODER_SPACE_SCREENSHOTS=space/screenshots pytest tests/space/test_browser.py`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from space_fixtures import (
    tiny_model,
    write_codeocean,
)

from evaluation.toolchains import REQUIRE_ENV, toolchains_required

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
TABS = {"browse": "Browse", "statistics": "Statistics", "try": "Try the model"}
SCREENSHOTS_ENV = "WAVECODER_SPACE_SCREENSHOTS"
START_TIMEOUT_S = 240  # gradio, torch and two models on 2 busy cores
WAIT_MS = 30_000  # the longest a step waits for the page
MAX_SCREENSHOT_BYTES = 200_000


def _browser_or_skip() -> None:
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed: pip install playwright (scripts/setup.sh)"
    if reason is None and not os.access(CHROMIUM, os.X_OK):
        reason = f"no {CHROMIUM}: apt-get install chromium (scripts/setup.sh)"
    if reason is None:
        return
    if toolchains_required():
        pytest.fail(f"{reason} (every tool is required here: {REQUIRE_ENV}=1 or CI=true)",
                    pytrace=False)  # fmt: skip
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> str:
    """`wavecoder space` on a free loopback port; its URL."""
    _browser_or_skip()
    root = tmp_path_factory.mktemp("space")
    data = write_codeocean(root / "codeocean")
    model = tiny_model(root / "wavecoder", words=("wave", "coder"))
    base = tiny_model(root / "base", words=("base", "model"), seed=1)
    port = _free_port()
    log = (root / "server.log").open("w")
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "wavecoder", "space", "--dataset", str(data), "--model",
         str(model), "--base-model", str(base), "--port", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"wavecoder space exited:\n{(root / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no answer in {START_TIMEOUT_S} s:\n{(root / 'server.log').read_text()}")  # fmt: skip
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request, tmp_path):
    """A fresh page (1280x900); after a failed test, a screenshot of each tab in tmp_path."""
    failed_before = request.session.testsfailed
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    if request.session.testsfailed > failed_before:
        for name, label in TABS.items():
            try:
                page.get_by_role("tab", name=label).click(timeout=5000)
                page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
            except Exception as exc:  # a page that broke still leaves the other tabs' pictures
                print(f"no screenshot of {label}: {exc}")
        print(f"screenshots of each tab: {tmp_path}")
    context.close()


def expect(locator):
    from playwright.sync_api import expect

    return expect(locator)


def open_page(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#page-status")).to_contain_text("page ")


def pick(page, dropdown: str, option: str) -> None:
    page.click(f"#{dropdown} input")
    page.get_by_role("option", name=option, exact=True).click()


def table(page) -> list[list[str]]:
    """The cells of the table's rendered rows (it renders those in view)."""
    rows = page.locator("#rows-table [role=row].virtual-row")
    return [rows.nth(i).locator("[role=gridcell]").all_inner_texts() for i in range(rows.count())]


def nothing_ran(page) -> None:
    """No planted payload ran, none became an element, and no javascript: URL is a link."""
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator('a[href*="javascript:" i], [src*="javascript:" i]').count() == 0
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("[...document.scripts].some(s => s.text.includes('__pwned'))") is False


def save_screenshot(page, name: str, *, full_page: bool = False) -> None:
    """With WAVECODER_SPACE_SCREENSHOTS set: the page as DIR/<name>.png, in 256 colours."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return
    from PIL import Image

    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
    assert path.stat().st_size < MAX_SCREENSHOT_BYTES, f"{path}: {path.stat().st_size} B"
