"""space/rows.py: a row's values, and that no text of a row turns into markup in the Space.

Markdown is rendered the way gr.Markdown renders it: `gr.Markdown().postprocess` on the server,
then the browser's marked instance with gradio's own extensions (latex, mermaid) and options,
taken from the gradio package's server-side bundle and run in node. Without node, or with a
gradio whose bundle has another shape, those checks skip; the escaped strings are still checked.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import string
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from pipeline.generation.records import ACCEPTED, FAILED, REJECTED, build_record
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

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "[x](javascript:alert(1))",
    "![img](http://example.com/y.png)",
    "[ref]: https://evil.example\n\n[ref]",
    "```python\nprint(1)\n```",
    "```mermaid\ngraph TD; A-->B\n```",
    "`a` ``b``` and ```` unbalanced",
    "a $$<img src=x onerror=alert(1)>$$ b",
    "`x $$<i>y</i>$$ z`",
    "$$\n\\begin{x}\n$$",
    "# heading\n    indented code\n\n* item\n1. one\n> quote\n---\n| a | b |\n|---|---|",
    "Setext\n====",
    "https://example.com www.example.com me@example.com",
    "**bold** _em_ ~~strike~~ \\*backslash\\",
    "<!-- comment --> &lt;script&gt; &amp; &#60; &colon;",
    "line one\r\n  line two\n\nline four\n",
    "    starts indented\n\tand a tab",
]
# What marked may produce from `escape_markdown`'s output alone.
PLAIN_TAGS = {"p", "br"}


class _Html(HTMLParser):
    """The tags, attributes and text (a <br> as a newline) of an HTML fragment."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "br":
            self.text += "\n"

    def handle_data(self, data):
        self.text += data


def _literal(text: str) -> str:
    """What the page shows for `text`: CR LF as LF, the trailing line ends dropped."""
    return text.replace("\r\n", "\n").rstrip("\n")


@pytest.fixture(scope="module")
def gradio_markdown(tmp_path_factory):
    """markdown -> the HTML gr.Markdown's marked instance makes of it (before the sanitizer and
    KaTeX, which only ever remove or typeset)."""
    node = shutil.which("node")
    chunks = Path(gr.__file__).parent / "templates/node/build/server/chunks"
    bundles = sorted(chunks.glob("markdown-code-*.js"))
    if not node or not bundles:
        pytest.skip("node or gradio's server-side markdown bundle is not available")
    source = bundles[0].read_text(encoding="utf-8")
    factory = re.search(
        r"function (\w+)\(\{header_links:\w+,line_breaks:\w+,latex_delimiters:\w+\}\)", source
    )
    if not factory:
        pytest.skip("gradio's markdown bundle has no marked factory of the known shape")
    # The bundle's relative imports, made absolute so it can run from a temporary folder.
    source = re.sub(
        r"(from |import )'\./([^']+)'",
        lambda m: f"{m.group(1)}'{(chunks / m.group(2)).as_uri()}'",
        source,
    )
    folder = tmp_path_factory.mktemp("gradio_markdown")
    (folder / "bundle.mjs").write_text(
        source + f"\nexport {{ {factory.group(1)} as makeMarked }};\n", encoding="utf-8"
    )
    config = gr.Markdown().get_config()
    options = {k: config[k] for k in ("header_links", "line_breaks", "latex_delimiters")}
    (folder / "render.mjs").write_text(
        "import { makeMarked } from './bundle.mjs';\n"
        "import { readFileSync } from 'node:fs';\n"
        f"const marked = makeMarked({json.dumps(options)});\n"
        "const out = [];\n"
        "for (const text of JSON.parse(readFileSync(0, 'utf8'))) out.push(await marked.parse(text));\n"
        "process.stdout.write(JSON.stringify(out));\n",
        encoding="utf-8",
    )

    def render(markdowns: list[str]) -> list[str]:
        # gr.Markdown's server side: `postprocess` (inspect.cleandoc) is all it does.
        served = [gr.Markdown().postprocess(md) for md in markdowns]
        done = subprocess.run(
            [node, str(folder / "render.mjs")],
            input=json.dumps(served),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(done.stdout)

    assert render(["*a* <b>x</b>"]) == ["<p><em>a</em> <b>x</b></p>\n"]  # markup does render
    return render


def test_escaped_payloads_keep_no_raw_punctuation():
    for payload in PAYLOADS:
        escaped = escape_markdown(payload)
        bare = re.sub(r"&#\d+;", "", escaped).replace("\\\n", "\n")
        assert not set(bare) & set(string.punctuation), payload
        # gr.Markdown runs KaTeX only on a block whose raw text has the delimiter `$$`.
        assert "$$" not in escaped
        assert html.unescape(escaped).replace("\\\n", "\n") == _literal(payload)


def test_escape_markdown_examples():
    assert escape_markdown("<b>") == "&#60;b&#62;"
    assert escape_markdown("a\nb") == "a\\\nb"
    assert escape_markdown("    x") == "&#32;&#32;&#32;&#32;x"
    assert escape_markdown(None) == ""
    assert escape_markdown(3) == "3"
    assert escape_markdown("ünïcode words") == "ünïcode words"


def test_payloads_render_as_their_own_text(gradio_markdown):
    rendered = gradio_markdown([escape_markdown(p) for p in PAYLOADS])
    for payload, markup in zip(PAYLOADS, rendered, strict=True):
        page = _Html(markup)
        assert {tag for tag, _ in page.tags} <= PLAIN_TAGS, (payload, markup)
        assert page.text.strip("\n") == _literal(payload), (payload, markup)


def test_unescaped_payloads_do_render_as_markup(gradio_markdown):
    # The same renderer without escaping: the payloads are live (the check above is not vacuous).
    img, link, latex = gradio_markdown(
        ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "`x $$<i>y</i>$$ z`"]
    )
    assert "<img src=x onerror=alert(1)>" in img
    assert 'href="javascript:alert(1)"' in link
    assert '<div class="latex-block"><i>y</i></div>' in latex  # even from inside a code span


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


def _record(task="generation", status=ACCEPTED, language="python", **kwargs):
    row = {
        "id": kwargs.pop("id", "abc123"),
        "task": task,
        "language": language,
        "code": kwargs.pop("code", "def half(x):\n    return x // 2"),
        "selection_rank": kwargs.pop("selection_rank", 4),
        "source": kwargs.pop(
            "source",
            {"dataset": "stdlib", "repo": "python/cpython", "path": "Lib/half.py",
             "url": "https://github.com/python/cpython/blob/main/Lib/half.py#L1-L2",
             "func_name": "half", "license": "psf-2.0"},
        ),
    }  # fmt: skip
    case = kwargs.pop(
        "case",
        {"instruction": "Halve an integer.", "information": "<noinput>",
         "solution": "def half(x):\n    return x // 2"},
    )  # fmt: skip
    return build_record(
        row,
        status=status,
        stage=kwargs.pop("stage", "judgement"),
        case=case,
        models=("gen-<model>", "judge-model"),
        **kwargs,
    )


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
    view = row_view(_record(judgement=judgement, usage=usage))
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
    to_go = row_view(_record("translation", case={"instruction": "Rewrite it in Go.",
                                                   "information": "def half(x): ...",
                                                   "solution": code}, target_language="go"))  # fmt: skip
    assert (to_go.input_language, to_go.output_language, to_go.source_language) == (
        "python", None, "python")  # fmt: skip
    assert to_go.header_md.startswith("**translation** · python → go ·")
    to_py = row_view(_record("translation", language="go", target_language="python"))
    assert (to_py.input_language, to_py.output_language, to_py.source_language) == (
        None, "python", None)  # fmt: skip
    summary = row_view(_record("summarization", language="javascript"))
    assert (summary.input_language, summary.output_language) == ("javascript", None)
    repair = row_view(_record("repair", language="c++"))
    assert (repair.input_language, repair.output_language) == ("cpp", "cpp")
    unknown = row_view(_record("fifth_task"))
    assert (unknown.input_language, unknown.output_language) == (None, "python")


def test_rejected_row_shows_stage_reasons_and_raw_replies():
    record = _record(
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
    view = row_view(_record(status=FAILED, stage="generation", case={}, selection_rank=0,
                            reasons=[{"check": "no_answer", "message": "timed out"}]))  # fmt: skip
    assert (view.instruction, view.input, view.output) == ("", "", "")
    assert view.outcome_md == "**Failed** at the generation stage:\n- **no&#95;answer:** timed out"
    assert view.selection_md == (
        "- **Selection rank:** 0 (KCenterGreedy's pick number, from 0)\n"
        "- **Coverage radius:** none (the first center)"
    )
    assert view.usage_md.endswith("(judge&#45;model): 0 prompt + 0 completion tokens")


def test_selection_radius_and_unknown_rank():
    record = {**_record(), "selection_rank": 7, "coverage_radius": np.float32(0.25)}
    assert row_view(record).selection_md == (
        "- **Selection rank:** 7 (KCenterGreedy's pick number, from 0)\n"
        "- **Coverage radius:** 0.2500 (distance to the nearest earlier pick)"
    )
    assert row_view(_record(selection_rank=-1)).selection_md == ""  # build_record's unknown
    assert row_view({"id": "x"}).selection_md == ""


def test_extras_are_the_unknown_columns_as_json():
    record = {
        **_record(),
        "execution": {"passed": np.bool_(True), "seconds": np.float64(0.5), "tests": ["t1"]},
        "contamination": {"humaneval": np.array([0.1, 0.2])},
        "coverage_radius": 0.3,
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


def test_provenance_renders_one_http_link_and_no_other_markup(gradio_markdown):
    hostile = {"repo": "<script>alert(1)</script>", "path": "a/$$<img src=x>$$/b.py",
               "func_name": "[f](javascript:alert(1))", "license": "**mit**",
               "url": "https://github.com/o/r/blob/m/a.py?x=1&y=$$<b>2</b>$$ (z)",
               "note": "`extra`"}  # fmt: skip
    links = [
        {"url": "https://github.com/o/r?a=1&b=2"},
        {"url": "javascript:alert(1)"},
        {"url": "https://example.com/)<script>alert(1)</script>"},
        {"url": "HTTPS://x.org/a[1]*b_c_'d'~e\\f"},
    ]
    views = [row_view({"id": "x", "source": s}) for s in [hostile, *links]]
    rendered = gradio_markdown([v.provenance_md for v in views])
    pages = [_Html(html) for html in rendered]
    for page in pages:
        assert {tag for tag, _ in page.tags} <= {"ul", "li", "strong", "a", "p", "br"}
    hrefs = [[attrs["href"] for tag, attrs in page.tags if tag == "a"] for page in pages]
    assert hrefs == [
        ["https://github.com/o/r/blob/m/a.py?x=1&y=%24%24%3Cb%3E2%3C/b%3E%24%24%20%28z%29"],
        ["https://github.com/o/r?a=1&b=2"],
        [],
        ["https://example.com/%29%3Cscript%3Ealert%281%29%3C/script%3E"],
        ["HTTPS://x.org/a%5B1%5D*b_c_'d'~e%5Cf"],  # marked's encodeURI
    ]
    assert "Repository: <script>alert(1)</script>" in pages[0].text
    assert "Function: [f](javascript:alert(1))" in pages[0].text
    assert "note: `extra`" in pages[0].text
    assert "URL: javascript:alert(1)" in pages[2].text


def test_outcome_and_usage_render_without_markup(gradio_markdown):
    record = _record(status=REJECTED, stage="judgement",
                     reasons=[{"check": "<b>c</b>", "message": "$$<i>m</i>$$\n# h\n    code"}])  # fmt: skip
    view = row_view(record)
    outcome, usage, header = gradio_markdown([view.outcome_md, view.usage_md, view.header_md])
    assert {tag for tag, _ in _Html(outcome).tags} == {"p", "strong", "ul", "li", "br"}
    assert "<b>c</b>: $$<i>m</i>$$\n# h\n    code" in _Html(outcome).text
    assert {tag for tag, _ in _Html(usage).tags} == {"ul", "li", "strong"}
    assert "(gen-<model>): 0 prompt" in _Html(usage).text
    assert _Html(header).text.strip() == "generation · python · rejected · id abc123"


def test_share_url():
    base = "https://huggingface.co/spaces/org/codeocean"
    assert share_url(base, "abc123") == f"{base}?row=abc123"
    assert share_url(base + "?config=repair", "a b/&#?") == f"{base}?row=a%20b%2F%26%23%3F"
    # The app's URL on huggingface.co carries the visitor's sign-in token: never copied.
    signed = "https://org-codeocean.hf.space/?__sign=eyJ.SIG&__theme=dark&row=old#frag"
    assert share_url(signed, "new") == "https://org-codeocean.hf.space/?row=new"
    assert share_url("http://localhost:7860/", "r") == "http://localhost:7860/?row=r"
