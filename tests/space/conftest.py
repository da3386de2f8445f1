"""Shared fixtures of the Space tests: every test (and the servers they start, which inherit the
environment) keeps the search-text cache of `space.shards` in a temporary folder, never in
~/.cache; `gradio_markdown` renders markdown as gr.Markdown does in the browser.

`gradio_markdown`: the server side is `gr.Markdown().postprocess`, then the browser's marked
instance with gradio's own extensions (latex, mermaid) and options, taken from the gradio package's
server-side bundle and run in node. Without node, or with a gradio whose bundle has another shape,
the tests using it skip."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import gradio as gr
import pytest

# The browser tests' app, browser and page, shared by test_browser*.py: one app per session.
from browser_fixtures import browser, page, server  # noqa: F401

from space.shards import CACHE_ENV


@pytest.fixture(scope="session", autouse=True)
def search_text_cache(tmp_path_factory):
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("wavecoder-cache"))
    yield os.environ[CACHE_ENV]
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


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


# -- the chat tests' tiny models (tests/space/chat_fixtures.py; torch imported on use) --


@pytest.fixture(scope="module")
def chat_folders(tmp_path_factory) -> dict[str, Path]:
    from chat_fixtures import build

    from training.formatting import ALPACA_CHAT_TEMPLATE

    root = tmp_path_factory.mktemp("chat-models")
    return {
        "tuned": build(root / "tuned", chat_template=ALPACA_CHAT_TEMPLATE, seed=0),
        "base": build(root / "base", chat_template=None, seed=1),
    }


@pytest.fixture(scope="module")
def tuned(chat_folders):
    from space.chat import ChatModel

    return ChatModel.load(str(chat_folders["tuned"]))


@pytest.fixture(scope="module")
def base(chat_folders):
    from space.chat import ChatModel

    return ChatModel.load(str(chat_folders["base"]))


@pytest.fixture(scope="module")
def prompt() -> str:
    from chat_fixtures import CODE, INSTRUCTION

    from space.prompts import format_prompt

    return format_prompt(INSTRUCTION, CODE, style="alpaca")
