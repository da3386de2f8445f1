"""Shared by the row tests (tests/space/test_rows.py, test_markdown.py): payloads that are
markup in markdown, an HTML fragment's tags and text, what a page shows for a text, and a row
built as the pipeline builds it."""

from __future__ import annotations

from html.parser import HTMLParser

from pipeline.generation.records import ACCEPTED, build_record

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


class Html(HTMLParser):
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


def literal(text: str) -> str:
    """What the page shows for `text`: CR LF as LF, the trailing line ends dropped."""
    return text.replace("\r\n", "\n").rstrip("\n")


def make_record(task="generation", status=ACCEPTED, language="python", **kwargs):
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
