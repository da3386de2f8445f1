"""space/rows.py: a row's values for each field of the row view, the code languages gr.Code
takes, links and share URLs. That no text of a row turns into markup: test_markdown.py."""

from __future__ import annotations

import json

import gradio as gr
import numpy as np
import pytest
from rows_fixtures import make_record

from pipeline.generation.records import FAILED, REJECTED
from space.rows import (
    CODE_LANGUAGES,
    JUDGEMENT_HEADERS,
    KNOWN_COLUMNS,
    code_language,
    escape_markdown,
    markdown_link,
    row_view,
    share_url,
)


def test_code_language_maps_names_and_gr_code_accepts_every_corpus_language():
    from pipeline.corpus.hub import CODESEARCHNET_LANGUAGES
    from pipeline.corpus.source_tree import EXTENSIONS
    from pipeline.corpus.treesitter_functions import GRAMMARS
    from pipeline.tasks.translation import TARGET_LANGUAGES

    corpus = {*EXTENSIONS.values(), *CODESEARCHNET_LANGUAGES, *GRAMMARS, *TARGET_LANGUAGES}
    assert {"python", "go", "java", "javascript", "php", "ruby", "rust", "c++"} <= corpus
    for language in [*corpus, *CODE_LANGUAGES, "Python", " C++ ", "cobol", "", None]:
        gr.Code(value="x = 1", language=code_language(language))  # raises on a bad language
    assert set(CODE_LANGUAGES.values()) <= set(gr.Code.languages)
    expected = {"python": "python", "Python": "python", "javascript": "javascript",
                "js": "javascript", "typescript": "typescript", "c++": "cpp", "cpp": "cpp",
                "bash": "shell", "sql": "sql", "json": "json", "go": None, "java": None,
                "php": None, "ruby": None, "rust": None, "cobol": None, None: None}  # fmt: skip
    assert {k: code_language(k) for k in expected} == expected
    for language in ("go", "java", "php", "ruby", "rust"):  # why they map to None
        with pytest.raises(ValueError):
            gr.Code(language=language)


def test_accepted_generation_row():
    judgement = {
        "rules": [
            {"rule": "self_contained", "passed": True, "reason": "It says what to write."},
            {"rule": "correct", "passed": True, "reason": "<b>yes</b>"},
        ],
        "overall": True,
    }
    usage = {"generator": {"prompt_tokens": 120, "completion_tokens": 45},
             "discriminator": {"prompt_tokens": 300, "completion_tokens": 20}}  # fmt: skip
    view = row_view(make_record(judgement=judgement, usage=usage))
    assert view.id == "abc123"
    assert view.instruction == "Halve an integer."
    assert (view.input, view.input_language) == ("", None)  # a generation input is prose
    assert (view.output, view.output_language) == ("def half(x):\n    return x // 2", "python")
    assert (view.source_code, view.source_language) == (view.output, "python")
    assert view.judgement_rows == [
        ["self_contained", "yes", "It says what to write."],
        ["correct", "yes", "<b>yes</b>"],  # a plain Dataframe cell escapes it
    ]
    assert view.overall_verdict == "yes"
    table = gr.Dataframe(headers=JUDGEMENT_HEADERS).postprocess(view.judgement_rows)
    assert table.data[1] == ["correct", "yes", "<b>yes</b>"]
    assert view.usage_md == (
        "- **Generator** (gen&#45;&#60;model&#62;): 120 prompt + 45 completion tokens\n"
        "- **Discriminator** (judge&#45;model): 300 prompt + 20 completion tokens"
    )
    assert view.provenance_md == (
        "- **Repository:** python&#47;cpython\n"
        "- **Path:** Lib&#47;half&#46;py\n"
        "- **Function:** half\n"
        "- **Licence:** psf&#45;2&#46;0\n"
        "- **Dataset:** stdlib\n"
        "- **URL:** [https&#58;&#47;&#47;github&#46;com&#47;python&#47;cpython&#47;blob&#47;main"
        "&#47;Lib&#47;half&#46;py&#35;L1&#45;L2]"
        "(https://github.com/python/cpython/blob/main/Lib/half.py#L1-L2)"
    )
    assert view.selection_md == "- **Selection rank:** 4 (KCenterGreedy's pick number, from 0)"
    assert view.outcome_md == ""
    assert (view.raw_generation, view.raw_judgement, view.extras) == ("", "", {})
    assert view.header_md == "**generation** · python · accepted · id abc123"


def test_code_languages_follow_the_task():
    code = "func Half(x int) int { return x / 2 }"
    to_go = row_view(make_record("translation", case={"instruction": "Rewrite it in Go.",
                                                   "information": "def half(x): ...",
                                                   "solution": code}, target_language="go"))  # fmt: skip
    assert (to_go.input_language, to_go.output_language, to_go.source_language) == (
        "python", None, "python")  # fmt: skip
    assert to_go.header_md.startswith("**translation** · python → go ·")
    to_py = row_view(make_record("translation", language="go", target_language="python"))
    assert (to_py.input_language, to_py.output_language, to_py.source_language) == (
        None, "python", None)  # fmt: skip
    summary = row_view(make_record("summarization", language="javascript"))
    assert (summary.input_language, summary.output_language) == ("javascript", None)
    repair = row_view(make_record("repair", language="c++"))
    assert (repair.input_language, repair.output_language) == ("cpp", "cpp")
    unknown = row_view(make_record("fifth_task"))
    assert (unknown.input_language, unknown.output_language) == (None, "python")


def test_rejected_row_shows_stage_reasons_and_raw_replies():
    record = make_record(
        status=REJECTED,
        stage="postfilter",
        reasons=[
            {"check": "instruction_sentences", "message": "3 sentences\n<script>x</script>"},
            {"check": "noinput", "message": "two <noinput> markers"},
        ],
        raw_generation="task_name: ...\n<img src=x onerror=alert(1)>",
    )
    view = row_view(record)
    assert view.outcome_md == (
        "**Rejected** at the postfilter stage:\n"
        "- **instruction&#95;sentences:** 3 sentences\\\n&#60;script&#62;x&#60;&#47;script&#62;\n"
        "- **noinput:** two &#60;noinput&#62; markers"
    )
    assert view.raw_generation == "task_name: ...\n<img src=x onerror=alert(1)>"
    assert (view.judgement_rows, view.overall_verdict) == ([], "")
    assert view.header_md == "**generation** · python · rejected · id abc123"


def test_failed_row_without_a_case():
    view = row_view(make_record(status=FAILED, stage="generation", case={}, selection_rank=0,
                            reasons=[{"check": "no_answer", "message": "timed out"}]))  # fmt: skip
    assert (view.instruction, view.input, view.output) == ("", "", "")
    assert view.outcome_md == "**Failed** at the generation stage:\n- **no&#95;answer:** timed out"
    assert view.selection_md == (
        "- **Selection rank:** 0 (KCenterGreedy's pick number, from 0)\n"
        "- **Coverage radius:** none (the first center)"
    )
    assert view.usage_md.endswith("(judge&#45;model): 0 prompt + 0 completion tokens")


def test_selection_radius_and_unknown_rank():
    record = {**make_record(), "selection_rank": 7, "coverage_radius": np.float32(0.25)}
    assert row_view(record).selection_md == (
        "- **Selection rank:** 7 (KCenterGreedy's pick number, from 0)\n"
        "- **Coverage radius:** 0.2500 (distance to the nearest earlier pick)"
    )
    assert row_view(make_record(selection_rank=-1)).selection_md == ""  # build_record's unknown
    assert row_view({"id": "x"}).selection_md == ""


def test_extras_are_the_unknown_columns_as_json():
    record = {
        **make_record(),
        "execution": {"passed": np.bool_(True), "seconds": np.float64(0.5), "tests": ["t1"]},
        "contamination": {"humaneval": np.array([0.1, 0.2])},
        "coverage_radius": 0.3,
        "duplicate_of": None,  # columns a row does not use are left out
        "later_flags": [],
    }
    view = row_view(record)
    assert view.extras == {
        "execution": {"passed": True, "seconds": 0.5, "tests": ["t1"]},
        "contamination": {"humaneval": [0.1, 0.2]},
    }
    json.dumps(view.extras)
    assert {"messages", "prompt", "completion", "raw_judgement"} <= KNOWN_COLUMNS


def test_a_row_from_parquet_with_missing_columns():
    view = row_view({"id": "r1", "task": "repair", "source": None, "judgement": None,
                     "usage": None, "reasons": None, "status": None})  # fmt: skip
    assert view.provenance_md == "No provenance recorded."
    assert view.usage_md == (
        "- **Generator**: 0 prompt + 0 completion tokens\n"
        "- **Discriminator**: 0 prompt + 0 completion tokens"
    )
    assert (view.outcome_md, view.selection_md, view.source_code) == ("", "", "")


def test_markdown_link_only_for_http_urls():
    assert markdown_link("https://a.example/x?b=1&c=(2)") == (
        "[https&#58;&#47;&#47;a&#46;example&#47;x&#63;b&#61;1&#38;c&#61;&#40;2&#41;]"
        "(https://a.example/x?b=1&amp;c=%282%29)"
    )
    for url in ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>", "//x.org",
                "file:///etc/passwd", "http:/no-host"]:  # fmt: skip
        assert "](" not in markdown_link(url)
        assert markdown_link(url) == escape_markdown(url.strip())
    assert markdown_link(None) == ""


def test_share_url():
    base = "https://huggingface.co/spaces/org/codeocean"
    assert share_url(base, "abc123") == f"{base}?row=abc123"
    assert share_url(base + "?config=repair", "a b/&#?") == f"{base}?row=a%20b%2F%26%23%3F"
    # The app's URL on huggingface.co carries the visitor's sign-in token: never copied.
    signed = "https://org-codeocean.hf.space/?__sign=eyJ.SIG&__theme=dark&row=old#frag"
    assert share_url(signed, "new") == "https://org-codeocean.hf.space/?row=new"
    assert share_url("http://localhost:7860/", "r") == "http://localhost:7860/?row=r"
