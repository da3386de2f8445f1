"""The Space's try tab in a real browser (tests/space/browser_fixtures.py): a one-click prompt from
the open row, a multi-turn chat with two models whose replies stream side by side, each message
(the row's planted HTML among them) shown as literal text, and an out-of-bounds message as one
error."""

from __future__ import annotations

import pytest
from browser_fixtures import expect, nothing_ran, open_page, save_screenshot
from space_fixtures import IMG, PLANTED_ID, SCRIPT

pytestmark = pytest.mark.slow


def bot_words(page, chat: int, turn: int) -> list[str]:
    return page.locator(f"#try-chat-{chat} [data-testid=bot]").nth(turn).inner_text().split()


def wait_for_words(page, chat: int, turn: int, count: int) -> None:
    page.wait_for_function(
        f"""() => {{ const bots = document.querySelectorAll('#try-chat-{chat} [data-testid=bot]');
            return bots.length > {turn} &&
                   bots[{turn}].innerText.trim().split(/\\s+/).length === {count}; }}""",
        timeout=120_000,
    )


def test_a_multi_turn_chat_streams_side_by_side_as_text(page, server):
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
        const bot = document.querySelector('#try-chat-0 [data-testid=bot]');
        if (bot) window.seen.add(bot.innerText.length); }, 5); }""")
    page.click("#try-send")
    for chat in (0, 1):  # 256 tokens, a word each
        wait_for_words(page, chat, 0, 256)
    first, second = bot_words(page, 0, 0), bot_words(page, 1, 0)
    assert set(first) <= {"wave", "coder"} and set(second) <= {"base", "model"}
    lengths = sorted(page.evaluate("[...window.seen]"))
    final = len(" ".join(first))
    assert len([n for n in lengths if 0 < n < final]) >= 2, lengths  # it grew as it came
    user = page.locator("#try-chat-0 [data-testid=user]").first
    expect(user).to_contain_text(f"return '{SCRIPT}'  # {IMG}")  # the row's code, as text
    expect(page.locator("#try-instruction textarea")).to_have_value("")  # sent, then cleared
    nothing_ran(page)

    # A second turn: each model answers after its own first reply.
    page.fill("#try-max-new-tokens input[type=number]", "5")
    page.press("#try-max-new-tokens input[type=number]", "Enter")
    page.fill("#try-instruction textarea", f"Now shorter, {IMG}")
    page.click("#try-send")
    for chat in (0, 1):
        wait_for_words(page, chat, 1, 5)
    assert page.locator("#try-chat-1 [data-testid=user]").nth(1).inner_text() == (
        f"Now shorter, {IMG}"
    )
    assert set(bot_words(page, 1, 1)) <= {"base", "model"}
    save_screenshot(page, "try", full_page=True)
    nothing_ran(page)
    page.click("#try-clear")
    expect(page.locator("#try-chat-0 [data-testid=user]")).to_have_count(0)


def test_a_message_out_of_bounds_is_one_message(page, server):
    open_page(page, server)
    page.get_by_role("tab", name="Try the model").click()
    page.fill("#try-instruction textarea", " ")
    page.click("#try-send")
    expect(page.get_by_text("the message is empty: write an instruction, or click a task button")).to_be_visible()  # fmt: skip
    expect(page.locator("#try-chat-0 [data-testid=user]")).to_have_count(0)
