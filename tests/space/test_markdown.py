"""No text of a row turns into markup in the Space: `escape_markdown` and the row view's
markdown fields rendered the way gr.Markdown renders them (the `gradio_markdown` fixture of
conftest.py: gradio's own marked bundle in node; without node those checks skip, and the escaped
strings are still checked)."""

from __future__ import annotations

import html
import re
import string

from rows_fixtures import PAYLOADS, PLAIN_TAGS, Html, literal, make_record

from pipeline.generation.records import REJECTED
from space.rows import escape_markdown, row_view


def test_escaped_payloads_keep_no_raw_punctuation():
    for payload in PAYLOADS:
        escaped = escape_markdown(payload)
        bare = re.sub(r"&#\d+;", "", escaped).replace("\\\n", "\n")
        assert not set(bare) & set(string.punctuation), payload
        # gr.Markdown runs KaTeX only on a block whose raw text has the delimiter `$$`.
        assert "$$" not in escaped
        assert html.unescape(escaped).replace("\\\n", "\n") == literal(payload)


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
        page = Html(markup)
        assert {tag for tag, _ in page.tags} <= PLAIN_TAGS, (payload, markup)
        assert page.text.strip("\n") == literal(payload), (payload, markup)


def test_unescaped_payloads_do_render_as_markup(gradio_markdown):
    # The same renderer without escaping: the payloads are live (the check above is not vacuous).
    img, link, latex = gradio_markdown(
        ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "`x $$<i>y</i>$$ z`"]
    )
    assert "<img src=x onerror=alert(1)>" in img
    assert 'href="javascript:alert(1)"' in link
    assert '<div class="latex-block"><i>y</i></div>' in latex  # even from inside a code span


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
    pages = [Html(html) for html in rendered]
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
    record = make_record(status=REJECTED, stage="judgement",
                     reasons=[{"check": "<b>c</b>", "message": "$$<i>m</i>$$\n# h\n    code"}])  # fmt: skip
    view = row_view(record)
    outcome, usage, header = gradio_markdown([view.outcome_md, view.usage_md, view.header_md])
    assert {tag for tag, _ in Html(outcome).tags} == {"p", "strong", "ul", "li", "br"}
    assert "<b>c</b>: $$<i>m</i>$$\n# h\n    code" in Html(outcome).text
    assert {tag for tag, _ in Html(usage).tags} == {"ul", "li", "strong"}
    assert "(gen-<model>): 0 prompt" in Html(usage).text
    assert Html(header).text.strip() == "generation · python · rejected · id abc123"
