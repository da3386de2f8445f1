"""WaveCoder's Gradio Space: browse CodeOcean row by row, see why each row was kept, try the model.

Run locally with `wavecoder space --dataset DIR_OR_ID [--model PATH_OR_ID]`; on a Space (where
this file is the repository's app.py, beside the `space/` package) the variables below say what
to open. `?row=<id>` in the page URL opens that row.

    WAVECODER_DATASET      a CodeOcean folder or Hub dataset id (required)
    WAVECODER_MODEL        a model folder or Hub id to try (optional)
    WAVECODER_BASE_MODEL   a second model answering beside it, e.g. the base model (optional)
"""

from __future__ import annotations

import os

# Before gradio is imported: no analytics ping (the Space and the tests run offline).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from space.browse import BrowseTab
from space.data import CodeOceanView
from space.rows import escape_markdown, markdown_link
from space.statistics_tab import build_statistics_tab
from space.try_model import build_try_tab, load_models
from wavecoder.errors import UserError

DATASET_ENV, MODEL_ENV, BASE_MODEL_ENV = (
    "WAVECODER_DATASET",
    "WAVECODER_MODEL",
    "WAVECODER_BASE_MODEL",
)
QUEUE_MAX_SIZE = 64  # waiting events; beyond it a visitor is told the Space is busy
CONCURRENCY = 4  # events of one kind run at a time (generation: `try_model`'s own limit)
TITLE = "WaveCoder · CodeOcean explorer"
PAPER = "https://arxiv.org/abs/2312.14187"


def build_demo(dataset: str, model: str | None = None, base_model: str | None = None) -> gr.Blocks:
    """The Space over `dataset` (folder or Hub dataset id), with a try-the-model tab when `model`
    is given (and `base_model` answering beside it); queued with a size limit. Raises UserError
    when the dataset or a model cannot be opened."""
    if base_model and not model:
        raise UserError("a base model is shown beside the model: give the model too (--model)")
    view = CodeOceanView.open(dataset)
    names = load_models(model, base_model)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n\n{about(view.source, model, base_model)}", elem_id="about")
        with gr.Tabs():
            with gr.Tab("Browse", id="browse"):
                browse = BrowseTab(view)
            with gr.Tab("Statistics", id="statistics"):
                build_statistics_tab(view)
            if names:
                with gr.Tab("Try the model", id="try"):
                    build_try_tab(names, browse.open_row)
        demo.load(browse.on_load, None, browse.load_outputs)
    return demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=CONCURRENCY)


def about(dataset: str, model: str | None, base_model: str | None) -> str:
    """The About line: the dataset, the model(s) and the paper, as escaped markdown."""
    line = f"Browsing {_named(dataset, 'datasets/')}, an instruction dataset built by "
    line += f"[WaveCoder]({PAPER})'s pipeline (KCenterGreedy selection, LLM generator and judge)."
    if model:
        line += f" Try the model {_named(model, '')}"
        line += f" beside {_named(base_model, '')}." if base_model else "."
    return line


def _named(name: str, hub_prefix: str) -> str:
    """A Hub id as a link to its page; a local folder by its name."""
    if os.path.exists(name) or name.count("/") != 1:
        return f"**{escape_markdown(os.path.basename(os.path.normpath(name)))}** (a local folder)"
    return markdown_link(f"https://huggingface.co/{hub_prefix}{name}")


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860, **kwargs) -> None:
    """Serve `demo` on `host`:`port` until interrupted; a busy port is a UserError."""
    try:
        demo.launch(server_name=host, server_port=port, **kwargs)
    except OSError as exc:
        raise UserError(
            f"cannot serve on {host}:{port} ({exc}); pick a free port with --port"
        ) from exc


def main() -> None:
    """The Space's entry point: what to open comes from the variables above."""
    dataset = os.environ.get(DATASET_ENV)
    if not dataset:
        raise SystemExit(f"set the Space variable {DATASET_ENV} to a CodeOcean dataset id")
    model, base = os.environ.get(MODEL_ENV), os.environ.get(BASE_MODEL_ENV)
    try:
        demo = build_demo(dataset, model, base)
    except UserError as exc:
        if not model:
            raise SystemExit(str(exc)) from None
        # A model too big for the hardware must not take the data down with it.
        print(f"serving without the model: {exc}", flush=True)
        try:
            demo = build_demo(dataset)
        except UserError as again:
            raise SystemExit(str(again)) from None
    # A Space sets GRADIO_SERVER_NAME and GRADIO_SERVER_PORT, which launch() reads.
    demo.launch()


if __name__ == "__main__":
    main()
