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

from space import try_model
from space.app import QUEUE_MAX_SIZE, about, build_demo, launch
from space.browse import PAGE_SIZE, BrowseTab, visitor_error
from space.data import CodeOceanView
from space.rows import escape_markdown
from space.statistics_tab import FIGURE_LABELS, dataset_figures
from space.try_model import fill_prompt, generate_replies, load_models
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


def test_pages_hold_page_size_rows_and_say_where_they_are(tab):
    rows, status, ids, page = tab.first_page("default", "", "", "", "")
    assert (len(rows), status, page) == (PAGE_SIZE, "page 1 of 3 (43 rows)", 0)
    assert ids[0] == PLANTED_ID and rows[0][:3] == [PLANTED_ID, "generation", "python"]
    assert IMG in rows[0][3]  # a plain cell: the text itself, escaped by the Dataframe
    rows, status, ids, page = tab.next_page("default", "", "", "", "", 1)
    assert (len(rows), status, page) == (3, "page 3 of 3 (43 rows)", 2)
    assert tab.next_page("default", "", "", "", "", 2)[1] == "page 3 of 3 (43 rows)"
    assert tab.previous_page("default", "", "", "", "", 0)[1] == "page 1 of 3 (43 rows)"


def test_filters_and_search_narrow_the_rows(tab):
    rows, status, ids, _ = tab.first_page("default", "repair", "javascript", "", "")
    assert {(r[1], r[2]) for r in rows} == {("repair", "javascript")} and len(rows) == 10
    _, status, ids, _ = tab.first_page("default", "", "", "", SEARCH_WORD.upper())
    assert status == f"page 1 of 1 ({SEARCH_HITS} rows)"
    assert ids == ["row-00", "row-01", "row-02"]
    _, status, ids, _ = tab.first_page("rejected", "", "", "correct", "")
    assert (status, ids) == ("page 1 of 1 (1 rows)", [REJECTED_ID])


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
    assert {"Reply of tuned", "Reply of base"} <= set(labels)
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


def test_replies_stream_word_by_word_side_by_side(models):
    replies = list(generate_replies(models, "Add two numbers.", "", "alpaca", 6, 0.0))
    tuned, base = (reply.split() for reply in replies[-1])
    assert (len(tuned), len(base)) == (6, 6)  # a word per token, never EOS
    assert set(tuned) <= {"wave", "coder"} and set(base) <= {"base", "model"}
    assert len(replies) == 12  # one update per token of either model
    chat = list(generate_replies(models[:1], "Add two numbers.", "", "chat", 3, 0.0))
    assert [len(r) for r in chat] == [1, 1, 1] and chat[-1][0].count(" ") == 3


def test_bad_settings_are_one_escaped_message(models):
    with pytest.raises(gr.Error) as error:
        list(generate_replies(models, "<b>hi</b>", "", "alpaca", 5000, 0.0))
    assert "max_new_tokens must be a whole number from 1 to 1024" in error.value.message
    with pytest.raises(gr.Error) as error:
        list(generate_replies(models, " ", "x = 1", "alpaca", 5, 0.0))
    assert error.value.message == "the instruction is empty: write one, or click a task button"
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
