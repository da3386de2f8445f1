"""The Space's app without a browser: what each callback gives the components (the values the
browser then shows), the About line, the statistics plots, the one-click prompts and streamed
replies of tiny local models, and `wavecoder space`'s errors. tests/space/test_browser.py drives
the same app in Chromium."""

from __future__ import annotations

import html
import socket

import gradio as gr
import pytest
from space_fixtures import (
    IMG,
    PLANTED_ID,
    REJECTED_ID,
    SCRIPT,
    SEARCH_HITS,
    SEARCH_WORD,
    tiny_model,
    write_codeocean,
)

from space import chat, try_model
from space.app import QUEUE_MAX_SIZE, about, build_demo, launch
from space.browse import (
    BROWSE_CONCURRENCY,
    BROWSE_GROUP,
    PAGE_SIZE,
    BrowseTab,
    visitor_error,
)
from space.data import CodeOceanView
from space.rows import escape_markdown
from space.statistics_tab import FIGURE_LABELS, dataset_figures
from space.try_model import (
    GENERATION_GROUP,
    chat_messages,
    fill_prompt,
    generate_replies,
    load_models,
    model_prompts,
    start_turn,
)
from wavecoder.cli import main
from wavecoder.errors import UserError


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_codeocean(tmp_path_factory.mktemp("codeocean"))


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("models")
    tuned = tiny_model(root / "tuned", words=("wave", "coder"))
    base = tiny_model(root / "base", words=("base", "model"), seed=1)
    return load_models(str(tuned), str(base))


@pytest.fixture(scope="module")
def tab(folder) -> BrowseTab:
    with gr.Blocks():
        return BrowseTab(CodeOceanView.open(str(folder)))


def values(tab: BrowseTab, outputs: tuple) -> dict:
    """Row-view outputs by component, each as the value the browser gets."""
    shown = {}
    for component, value in zip(tab.row_outputs, outputs, strict=True):
        shown[component] = value.value if isinstance(value, gr.Code | gr.JSON) else value
    return shown


def ids(rows: list[list[str]]) -> list[str]:
    return [row[0] for row in rows]


def test_pages_hold_page_size_rows_and_say_where_they_are(tab):
    rows, status, applied, page = tab.first_page("default", "", "", "", "")
    assert (len(rows), status, page) == (PAGE_SIZE, "page 1 of 3 (43 rows)", 0)
    assert applied == ("default", "", "", "", "")
    assert rows[0][:3] == [PLANTED_ID, "generation", "python"]
    assert IMG in rows[0][3]  # a plain cell: the text itself, escaped by the Dataframe
    rows, status, _, page = tab.next_page(applied, 1)
    assert (len(rows), status, page) == (3, "page 3 of 3 (43 rows)", 2)
    assert tab.next_page(applied, 2)[1] == "page 3 of 3 (43 rows)"
    assert tab.previous_page(applied, 0)[1] == "page 1 of 3 (43 rows)"


def test_previous_and_next_page_the_applied_filters(tab):
    rows, status, applied, page = tab.first_page("default", "", "go", "", "")
    assert (status, applied) == ("page 1 of 1 (11 rows)", ("default", "", "go", "", ""))
    # The boxes may say something else by now: paging reads only `applied`.
    rows, status, again, _ = tab.next_page(applied, page)
    assert (status, again) == ("page 1 of 1 (11 rows)", applied)
    assert {row[2] for row in rows} == {"go"}
    assert tab.next_page(None, 0)[1] == "page 2 of 3 (43 rows)"  # nothing applied yet


def test_filters_and_search_narrow_the_rows(tab):
    rows, status, _, _ = tab.first_page("default", "repair", "javascript", "", "")
    assert {(r[1], r[2]) for r in rows} == {("repair", "javascript")} and len(rows) == 10
    rows, status, _, _ = tab.first_page("default", "", "", "", SEARCH_WORD.upper())
    assert status == f"page 1 of 1 ({SEARCH_HITS} rows)"
    assert ids(rows) == ["row-00", "row-01", "row-02"]
    rows, status, _, _ = tab.first_page("rejected", "", "", "correct", "")
    assert (status, ids(rows)) == ("page 1 of 1 (1 rows)", [REJECTED_ID])


def test_a_clicked_row_opens_by_its_id_not_its_position(tab):
    """The browser may show the page sorted: the row opened is the one whose id was clicked."""
    applied = ("rejected", "", "", "", "")
    click = gr.SelectData(None, {"index": [0, 2], "value": "repair",
                                 "row_value": [REJECTED_ID, "repair", "javascript", "Fix it."]})  # fmt: skip
    shown = values(tab, tab.on_select(applied, click, None))
    assert f"id {escape_markdown(REJECTED_ID)}" in shown[tab.header]
    assert shown[tab.open_row]["id"] == REJECTED_ID
    nothing = gr.SelectData(None, {"index": [0, 0], "value": "", "row_value": None})
    assert tab.on_select(applied, nothing, None)[0].visible is False


def test_config_change_offers_that_configs_facets(tab):
    task, language, rule = tab.on_config("rejected")
    assert task.choices == [("all", ""), ("repair (1)", "repair"),
                            ("summarization (1)", "summarization")]  # fmt: skip
    assert [c[1] for c in rule.choices] == ["", "correct", "one_or_two_sentences"]
    assert (task.value, language.value, rule.value) == ("", "", "")


def test_planted_row_reaches_the_components_as_text(tab):
    shown = values(tab, tab.row_values(PLANTED_ID, "default", "http://space.test/?row=old&x=1"))
    assert shown[tab.row_box].visible is True
    assert shown[tab.instruction].startswith(f"Write a function that returns {IMG}")
    assert shown[tab.output] == f"def render():\n    return '{SCRIPT}'"
    assert SCRIPT in shown[tab.source] and IMG in shown[tab.source]
    markdowns = [shown[c] for c in (tab.header, tab.share, tab.provenance, tab.selection,
                                    tab.usage, tab.verdict, tab.outcome)]  # fmt: skip
    assert not any("<" in md or "$$" in md for md in markdowns)  # escaped: no tag, no latex
    assert shown[tab.share] == (
        "**Link to this row:** [http&#58;&#47;&#47;space&#46;test&#47;&#63;row&#61;"
        "planted&#45;html](http://space.test/?row=planted-html)"
    )
    assert "Coverage radius:** none (the first center)" in shown[tab.selection]
    assert "321 prompt" in shown[tab.usage]
    assert shown[tab.judgement] == [["correct", "yes", f"fine {SCRIPT}"]]
    assert shown[tab.open_row]["source_code"].startswith("def render():")


def test_rejected_row_shows_why_with_its_radius_from_the_selection(tab):
    shown = values(tab, tab.row_values(REJECTED_ID, None, ""))
    assert "Rejected** at the judgement stage" in shown[tab.outcome]
    assert "&#60;img" in shown[tab.outcome]
    assert shown[tab.raw_box].visible is True and shown[tab.raw_generation] == f"raw {SCRIPT}"
    assert "Coverage radius:** 0.0099" in shown[tab.selection]  # 1 / (1 + 100), from the file
    assert shown[tab.share] == "**Link to this row:** &#63;row&#61;rejected&#45;planted"


def test_unknown_row_from_a_link_is_said_escaped(tab):
    shown = values(tab, tab.row_values(IMG, None, ""))
    assert shown[tab.header] == f"No row with id {escape_markdown(IMG)} in this dataset."
    assert "<" not in shown[tab.header] and "&#60;img src&#61;x" in shown[tab.header]
    assert shown[tab.open_row] is None and shown[tab.instruction] == ""
    hidden = tab.row_values(None, None, "")
    assert hidden[0].visible is False and hidden[-1] is None


def test_statistics_plot_every_figure_with_the_judges_no(folder):
    view = CodeOceanView.open(str(folder))
    figures = dataset_figures(view)
    assert list(figures) == list(FIGURE_LABELS)  # every figure, in the tab's order
    verdicts = figures["rule_verdicts"].axes[0]
    assert [t.get_text() for t in verdicts.get_yticklabels()] == ["correct", "self_contained"]


def test_build_demo_has_three_tabs_a_bounded_queue_and_the_about_line(folder, models):
    demo = build_demo(str(folder), models[0], models[1])
    config = demo.get_config_file()
    labels = [c["props"].get("label") for c in config["components"]]
    assert {"Browse", "Statistics", "Try the model"} <= set(labels)
    assert {"Chat with tuned", "Chat with base"} <= set(labels)
    chats = [c["props"] for c in config["components"] if c["type"] == "chatbot"]
    assert [(c["render_markdown"], c["allow_tags"], c["latex_delimiters"]) for c in chats] == [
        (False, False, [])] * 2  # fmt: skip
    groups = {(fn.concurrency_id, fn.concurrency_limit) for fn in demo.fns.values()
              if fn.name in ("first_page", "next_page", "previous_page", "on_select", "reply")}  # fmt: skip
    assert groups == {(BROWSE_GROUP, BROWSE_CONCURRENCY), (GENERATION_GROUP, 1)}
    assert about(str(folder), models[0], None).startswith(
        f"Browsing **{escape_markdown(folder.name)}** (a local folder), an instruction dataset"
    )
    assert demo._queue.max_size == QUEUE_MAX_SIZE
    assert "Try the model" not in [
        c["props"].get("label") for c in build_demo(str(folder)).get_config_file()["components"]
    ]
    assert about("org/codeocean", "org/wave", None) == (
        "Browsing [https&#58;&#47;&#47;huggingface&#46;co&#47;datasets&#47;org&#47;codeocean]"
        "(https://huggingface.co/datasets/org/codeocean), an instruction dataset built by "
        "[WaveCoder](https://arxiv.org/abs/2312.14187)'s pipeline (KCenterGreedy selection, LLM "
        "generator and judge). Try the model [https&#58;&#47;&#47;huggingface&#46;co&#47;org&#47;"
        "wave](https://huggingface.co/org/wave)."
    )
    with pytest.raises(UserError, match="give the model too"):
        build_demo(str(folder), None, models[1])


def test_one_click_prompts_start_from_the_open_row_or_the_input(tab):
    row = tab.row_values(REJECTED_ID, None, "")[-1]
    instruction, input = fill_prompt("translation", row, "", "python", "go")
    assert instruction == "Translate the following JavaScript code into Go, keeping its behaviour."
    assert input == f"function f() {{ return '{SCRIPT}'; }}"
    assert fill_prompt("summarization", None, "x = 1", "python", "go") == (
        "Summarize what the following Python code does.", "x = 1")  # fmt: skip
    with pytest.raises(gr.Error) as error:
        fill_prompt("repair", None, "", "python", "go")
    assert error.value.message == "repair needs text to start from: open a row or paste the code to work on"  # fmt: skip


def test_replies_stream_word_by_word_side_by_side_turn_after_turn(models):
    history = start_turn(models, [], "Add two numbers.", "", "alpaca", 6)
    assert history == [{"instruction": "Add two numbers.", "input": "", "replies": ["", ""]}]
    replies = list(generate_replies(models, history, "alpaca", 6, 0.0))
    tuned, base = (reply.split() for reply in replies[-1])
    assert (len(tuned), len(base)) == (6, 6)  # a word per token, never EOS
    assert set(tuned) <= {"wave", "coder"} and set(base) <= {"base", "model"}
    assert len(replies) == 12  # one update per token of either model
    history[-1]["replies"] = list(replies[-1])
    # The second turn: each model after its own first reply (so their prompts differ).
    history = start_turn(models, history, "Shorter.", "x = 1", "alpaca", 3)
    prompts = model_prompts(models, history, "alpaca")
    assert replies[-1][0] + "</s>" in prompts[0] and replies[-1][1] + "</s>" in prompts[1]
    second = list(generate_replies(models, history, "alpaca", 3, 0.0))
    assert [len(r.split()) for r in second[-1]] == [3, 3]
    history[-1]["replies"] = list(second[-1])
    chat = chat_messages(history, 1)
    assert chat == [
        {"role": "user", "content": "Add two numbers."},
        {"role": "assistant", "content": replies[-1][1]},
        {"role": "user", "content": "Shorter.\n\nx = 1"},
        {"role": "assistant", "content": second[-1][1]},
    ]
    chat_style = list(generate_replies(models[:1], history[:1], "chat", 3, 0.0))
    assert [len(r) for r in chat_style] == [1, 1, 1] and chat_style[-1][0].count(" ") == 3


def test_chat_bounds_are_one_escaped_message(models, monkeypatch):
    with pytest.raises(gr.Error) as error:
        list(generate_replies(models, [{"instruction": "<b>hi</b>"}], "alpaca", 5000, 0.0))
    assert "max_new_tokens must be a whole number from 1 to 1024" in error.value.message
    with pytest.raises(gr.Error) as error:
        start_turn(models, [], " ", "x = 1", "alpaca", 5)
    assert error.value.message == "the message is empty: write an instruction, or click a task button"  # fmt: skip
    with pytest.raises(gr.Error, match=r"the prompt is 16\d{3} characters .*or clear the chat"):
        start_turn(models, [], "a" * 16_001, "", "alpaca", 5)
    full = [{"instruction": "q", "input": "", "replies": ["a", "b"]}] * try_model.MAX_TURNS
    with pytest.raises(gr.Error, match="the most it holds: press Clear"):
        start_turn(models, full, "One more.", "", "alpaca", 5)
    monkeypatch.setattr(chat, "MAX_INPUT_TOKENS", 40)  # a history past the token bound
    long = [{"instruction": "Explain " * 10, "input": "", "replies": ["wave " * 10] * 2}]
    with pytest.raises(gr.Error, match=r"tokens and .* takes at most 40"):
        start_turn(models, long, "And?", "", "alpaca", 5)
    # gradio shows an error's message as HTML
    assert visitor_error(UserError(f"no {IMG}")).message == f"no {html.escape(IMG)}"


def test_a_busy_port_is_a_user_error(folder):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot serve on 127.0.0.1:{port}.*--port"):
            launch(build_demo(str(folder)), port=port, prevent_thread_lock=True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["space"], "which dataset? pass --dataset DIR_OR_ID"),
        (["space", "--dataset", "/no/such/folder"], "No folder /no/such/folder here"),
        (["space", "--dataset", "x", "--repo-id", "a/b"], "--repo-id applies only to"),
        (["space", "deploy", "--dataset", "a/b", "--port", "1"], "--port applies only to"),
        (["space", "deploy", "--dataset", "a/b"], "deploy needs the Space's id: --repo-id"),
    ],
)
def test_command_line_errors_are_one_message(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("WAVECODER_DATASET", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("wavecoder space: error: ") and message in err
    assert "Traceback" not in err


def test_models_are_loaded_once(models):
    assert load_models(models[0]) == [models[0]]
    assert list(try_model.MODELS)[:2] == models
