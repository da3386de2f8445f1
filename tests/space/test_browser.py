"""The Space's browse and statistics tabs in a real browser (tests/space/browser_fixtures.py: the
app on loopback over a folder with planted HTML, Debian's Chromium): filter, search, page through
the applied filters, open rows by click (on a sorted table too) and by `?row=` link, every field of
a row hostile in every way shown as literal text with no script run and no javascript: link, and
browsing answered while a long reply is being generated. The try tab: test_browser_try.py.

Without Chromium or playwright the tests skip with the fix, except where every tool is required
(CI=true or WAVECODER_REQUIRE_TOOLCHAINS=1), where they fail. On a failure each tab is saved as a
screenshot under the test's temporary folder. With WAVECODER_SPACE_SCREENSHOTS=DIR the tests also
save the README's screenshots there
(`WAVECODER_SPACE_SCREENSHOTS=space/screenshots pytest tests/space/test_browser*.py`).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from browser_fixtures import expect, nothing_ran, open_page, pick, save_screenshot, table
from space_fixtures import (
    HOSTILE,
    HOSTILE_ID,
    IMG,
    JS_URL,
    LATEX,
    PLANTED_CONFIG,
    PLANTED_ID,
    REJECTED_ID,
    SCRIPT,
    SEARCH_WORD,
)

pytestmark = pytest.mark.slow


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


def test_previous_and_next_page_the_applied_filters_not_the_typed_ones(page, server):
    open_page(page, server)
    status = page.locator("#page-status")
    pick(page, "filter-language", "go (11)")
    expect(status).to_have_text("page 1 of 1 (11 rows)")
    page.click("#next-page")  # one page of go rows: still page 1 of 1, the go rows
    expect(status).to_have_text("page 1 of 1 (11 rows)")
    # A new search typed but not applied: Next pages the applied filter (language go, no search).
    page.fill("#search-box textarea, #search-box input", SEARCH_WORD)
    page.click("#next-page")
    expect(status).to_have_text("page 1 of 1 (11 rows)")
    assert {row[2] for row in table(page)} == {"go"} and len(table(page)) == 11
    page.press("#search-box textarea, #search-box input", "Enter")  # now applied
    expect(status).to_have_text("page 1 of 1 (1 rows)")
    assert table(page)[0][0] == "row-01"


def test_a_click_on_a_sorted_table_opens_the_row_clicked(page, server):
    open_page(page, server)
    expect(page.locator("#page-status")).to_have_text("page 1 of 3 (43 rows)")
    # Sorted by id, descending, in the browser: the server still has the page in its order.
    header = page.locator("#rows-table [role=columnheader]").first
    header.hover()  # the menu button shows on hover
    header.get_by_label("Open cell menu").click()
    page.get_by_text(re.compile("descending", re.IGNORECASE)).first.click()
    expect(page.locator("#rows-table [role=row].virtual-row").first).to_contain_text("row-18")
    first = table(page)[0][0]
    assert first != PLANTED_ID and first == max(row[0] for row in table(page))
    page.locator("#rows-table [role=gridcell]", has_text=first).first.click()
    expect(page.locator("#row-header")).to_contain_text(f"id {first}")
    assert page.locator("#row-share a").get_attribute("href") == f"{server}/?row={first}"


def test_every_field_of_a_hostile_row_is_literal_text(page, server):
    """The planted config's one row has HTML and a javascript: URL in its task and language
    names, provenance, model names, status, stage, reasons, judge reasons and an extra column."""
    open_page(page, server)
    pick(page, "filter-config", PLANTED_CONFIG)
    expect(page.locator("#page-status")).to_have_text("page 1 of 1 (1 rows)")
    assert table(page)[0] == [HOSTILE_ID, f"{IMG} task", f"{IMG} lang",
                              f"instruction {HOSTILE}", f"{IMG} status", f"{IMG} stage"]  # fmt: skip
    page.click("#filter-task input")  # the facets list the hostile names as text
    expect(page.get_by_role("option", name=f"{IMG} task (1)", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("#rows-table [role=gridcell]", has_text=HOSTILE_ID).first.click()
    header = page.locator("#row-header")
    expect(header).to_contain_text(f"{IMG} task · {IMG} lang · {IMG} status · id {HOSTILE_ID}")
    provenance = page.locator("#row-provenance")
    for text in (f"Repository: repo {IMG}", f"Path: path/{IMG}", f"Licence: licence {IMG}",
                 f"URL: {JS_URL}"):  # fmt: skip
        expect(provenance).to_contain_text(text)
    usage = page.locator("#row-usage")
    expect(usage).to_contain_text(f"Generator (gen {HOSTILE})")
    expect(usage).to_contain_text(f"Discriminator (judge {IMG})")
    outcome = page.locator("#row-outcome")
    expect(outcome).to_contain_text(f"at the {IMG} stage")
    expect(outcome).to_contain_text(f"{IMG} check: message {HOSTILE}")
    expect(page.locator("#row-judgement")).to_contain_text(f"why {IMG}")
    expect(page.locator("#row-judgement")).to_contain_text(f"{IMG} rule")
    expect(page.locator("#row-extras")).to_contain_text(HOSTILE)
    expect(page.locator("#row-instruction textarea")).to_have_value(f"instruction {HOSTILE}")
    nothing_ran(page)
    # An error toast quoting the row: its language is no language name.
    page.get_by_role("tab", name="Try the model").click()
    page.click("#prompt-summarization")
    toast = page.get_by_text(f"'{IMG} lang' is not a language name")
    expect(toast).to_be_visible()
    nothing_ran(page)


def test_browsing_is_answered_while_a_long_reply_is_generated(page, browser, server):
    """One visitor asks for 2 x 1024 tokens; another one's next page comes before they end."""
    open_page(page, server)
    page.get_by_role("tab", name="Try the model").click()
    page.fill("#try-max-new-tokens input[type=number]", "1024")
    page.press("#try-max-new-tokens input[type=number]", "Enter")
    page.fill("#try-instruction textarea", "Write a long story.")
    page.evaluate("""() => { window.done = null; setInterval(() => {
        const bots = document.querySelectorAll('[data-testid=bot]');
        if (window.done === null && bots.length === 2 && [...bots].every(
                b => b.innerText.trim().split(/\\s+/).length === 1024))
            window.done = Date.now(); }, 5); }""")
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        open_page(other, server)
        page.click("#try-send")
        expect(page.locator("#try-chat-0 [data-testid=bot]")).to_contain_text("wave")
        other.click("#next-page")
        expect(other.locator("#page-status")).to_have_text("page 2 of 3 (43 rows)")
        paged = other.evaluate("Date.now()")
        page.wait_for_function("() => window.done !== null", timeout=120_000)
        assert paged < page.evaluate("window.done")  # the page came while the replies grew
    finally:
        other.context.close()
