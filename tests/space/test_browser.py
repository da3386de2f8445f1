"""The Space in a real browser: `wavecoder space` serves a dataset folder written by our own writer
(planted HTML and script in instruction, output, source code, judge reasons) and two tiny local
models on loopback; Playwright drives Debian's Chromium (headless, /usr/bin/chromium, never a
downloaded browser) to filter, search, page, open rows by click and by `?row=` link, see the
planted HTML as literal text with no script run, and stream replies side by side.

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
from urllib.parse import quote

import pytest
from space_fixtures import (
    IMG,
    LATEX,
    PLANTED_ID,
    REJECTED_ID,
    SCRIPT,
    SEARCH_WORD,
    tiny_model,
    write_codeocean,
)

from evaluation.toolchains import REQUIRE_ENV, toolchains_required

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
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
    """No planted payload ran, and none became an element."""
    assert page.evaluate("typeof window.__pwned") == "undefined"
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


def test_filter_search_and_page(page, server):
    open_page(page, server)
    status = page.locator("#page-status")
    expect(status).to_have_text("page 1 of 3 (43 rows)")
    assert [row[0] for row in table(page)][:2] == [PLANTED_ID, "row-00"]
    page.click("#next-page")
    expect(status).to_have_text("page 2 of 3 (43 rows)")
    assert table(page)[0][0] == "row-19"
    page.click("#next-page")
    expect(status).to_have_text("page 3 of 3 (43 rows)")
    page.click("#previous-page")
    expect(status).to_have_text("page 2 of 3 (43 rows)")

    # Each step changes the count, so that a step's answer is not mistaken for the last one's.
    pick(page, "filter-task", "repair (10)")
    expect(status).to_have_text("page 1 of 1 (10 rows)")
    assert {row[1] for row in table(page)} == {"repair"}
    page.fill("#search-box textarea, #search-box input", SEARCH_WORD.upper())
    page.press("#search-box textarea, #search-box input", "Enter")
    expect(status).to_have_text("page 1 of 1 (1 rows)")
    assert [row[:3] for row in table(page)] == [["row-02", "repair", "javascript"]]
    pick(page, "filter-language", "python (12)")
    expect(status).to_have_text("page 1 of 1 (0 rows)")
    pick(page, "filter-language", "javascript (10)")
    expect(status).to_have_text("page 1 of 1 (1 rows)")

    pick(page, "filter-config", "rejected by the post-filter or the judge")
    expect(status).to_have_text("page 1 of 1 (0 rows)")  # filters reset; the search applies
    page.fill("#search-box textarea, #search-box input", "")
    page.press("#search-box textarea, #search-box input", "Enter")
    expect(status).to_have_text("page 1 of 1 (2 rows)")
    pick(page, "filter-rule", "correct (1)")
    expect(status).to_have_text("page 1 of 1 (1 rows)")
    assert table(page)[0][0] == REJECTED_ID
    nothing_ran(page)


def test_a_row_link_shows_planted_html_as_text(page, server):
    open_page(page, f"{server}/?row={PLANTED_ID}")
    expect(page.locator("#row-header")).to_contain_text(f"id {PLANTED_ID}")
    instruction = page.locator("#row-instruction textarea")
    expect(instruction).to_have_value(f"Write a function that returns {IMG} as text {LATEX}")
    expect(page.locator("#row-output")).to_contain_text(SCRIPT)
    expect(page.locator("#row-source")).to_contain_text(IMG)
    expect(page.locator("#row-judgement")).to_contain_text(f"fine {SCRIPT}")
    expect(page.locator("#row-provenance")).to_contain_text("Repository: wavecoder/tests")
    expect(page.locator("#row-selection")).to_contain_text("Selection rank: 0")
    expect(page.locator("#row-usage")).to_contain_text("321 prompt + 54 completion tokens")
    expect(page.locator("#row-verdict")).to_have_text("Overall verdict: yes")
    expect(page.locator("#row-output .cm-content")).to_be_visible()  # highlighted as python
    link = page.locator("#row-share a")
    assert link.get_attribute("href") == f"{server}/?row={PLANTED_ID}"
    save_screenshot(page, "browse", full_page=True)
    nothing_ran(page)

    # The share link opens the same row; a rejected row says why.
    open_page(page, f"{server}/?row={REJECTED_ID}")
    outcome = page.locator("#row-outcome")
    expect(outcome).to_contain_text("Rejected at the judgement stage:")
    expect(outcome).to_contain_text(f"correct: the judge said no {IMG}")
    expect(page.locator("#row-judgement")).to_contain_text(f"wrong {IMG}")
    expect(page.locator("#row-selection")).to_contain_text("Coverage radius: 0.0099")
    nothing_ran(page)


def test_clicking_a_row_opens_it_and_a_hostile_link_is_text(page, server):
    open_page(page, f"{server}/?row={quote(IMG)}")
    expect(page.locator("#row-header")).to_have_text(f"No row with id {IMG} in this dataset.")
    nothing_ran(page)
    page.locator("#rows-table [role=gridcell]", has_text="row-05").first.click()
    expect(page.locator("#row-header")).to_contain_text("id row-05")
    expect(page.locator("#row-instruction textarea")).to_have_value("Task number 5 in go.")
    assert page.locator("#row-share a").get_attribute("href") == f"{server}/?row=row-05"


def test_statistics_tab_plots_each_figure(page, server):
    open_page(page, server)
    page.get_by_role("tab", name="Statistics").click()
    for name in ("task_mix", "language_mix", "acceptance", "rejections", "rule_verdicts",
                 "lengths", "selection"):  # fmt: skip
        plot = page.locator(f"#plot-{name} img")
        expect(plot).to_be_visible()
        assert plot.evaluate("img => img.naturalWidth") > 100, name
    save_screenshot(page, "statistics")


def test_one_click_prompt_and_replies_stream_side_by_side(page, server):
    open_page(page, f"{server}/?row={PLANTED_ID}")
    expect(page.locator("#row-header")).to_contain_text(PLANTED_ID)
    page.get_by_role("tab", name="Try the model").click()
    page.click("#prompt-summarization")
    expect(page.locator("#try-instruction textarea")).to_have_value(
        "Summarize what the following Python code does."
    )
    expect(page.locator("#try-input textarea")).to_have_value(
        f"def render():\n    return '{SCRIPT}'  # {IMG}"
    )
    # Every length the first reply had, sampled every 5 ms while it streams.
    page.evaluate("""() => { window.seen = new Set(); setInterval(() => {
        const box = document.querySelector('#try-reply-0 textarea');
        if (box) window.seen.add(box.value.length); }, 5); }""")
    page.click("#try-send")
    for box in ("#try-reply-0", "#try-reply-1"):  # 256 tokens, a word each
        page.wait_for_function(
            f"() => document.querySelector('{box} textarea').value.split(' ').length === 257",
            timeout=120_000,
        )
    first = page.locator("#try-reply-0 textarea").input_value().split()
    second = page.locator("#try-reply-1 textarea").input_value().split()
    assert set(first) <= {"wave", "coder"} and set(second) <= {"base", "model"}
    lengths = sorted(page.evaluate("[...window.seen]"))
    final = len(" ".join(first)) + 1
    assert len([n for n in lengths if 0 < n < final]) >= 2, lengths  # it grew as it came
    save_screenshot(page, "try", full_page=True)
    nothing_ran(page)


def test_a_prompt_out_of_bounds_is_one_message(page, server):
    open_page(page, server)
    page.get_by_role("tab", name="Try the model").click()
    page.fill("#try-instruction textarea", " ")
    page.click("#try-send")
    expect(page.get_by_text("the instruction is empty: write one, or click a task button")).to_be_visible()  # fmt: skip
