"""The Space's "try the model" tab: an instruction and an input, sent to the model (and, when
given, a second model such as the base model) whose replies stream side by side.

One-click buttons fill the prompt for the four CodeOcean tasks (`space.task_prompts`) from the
row open in the browse tab, or from the code in the input box. Replies are shown in Textboxes, as
plain text: a reply can echo the dataset's code, and a Chatbot would render it as markdown.

`generate_replies` is module-level and decorated with `space.chat.gpu`, as ZeroGPU requires; its
arguments are strings and numbers (ZeroGPU sends them to its GPU worker), and the models it uses
are the ones `load_models` put in `MODELS` at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from space.browse import visitor_error
from space.chat import (
    MAX_INPUT_CHARS,
    MAX_NEW_TOKENS_LIMIT,
    MAX_TEMPERATURE,
    PROMPT_STYLES,
    ChatModel,
    compare,
    format_prompt,
    gpu,
    stream,
    user_message,
)
from space.task_prompts import TARGET_LANGUAGES, TASK_PROMPTS, task_prompt
from wavecoder.errors import UserError

DEFAULT_MAX_NEW_TOKENS = 256
DEFAULT_TEMPERATURE = 0.0  # greedy: the same prompt gives the same reply
GENERATION_CONCURRENCY = 1  # replies generated at a time; other visitors wait in the queue
MODELS: dict[str, ChatModel] = {}  # name -> model, loaded once at start-up


def load_models(*names: str | None) -> list[str]:
    """Load each named model (a local folder or Hub id; None skipped) into `MODELS`."""
    loaded = []
    for name in names:
        if name:
            if name not in MODELS:
                MODELS[name] = ChatModel.load(name)
            loaded.append(name)
    return loaded


@gpu
def generate_replies(
    names: list[str],
    instruction: str,
    input: str,
    style: str,
    max_new_tokens: float,
    temperature: float,
) -> Iterator[tuple[str, ...]]:
    """The growing replies of the models `names` (in `MODELS`) to one prompt, generated at the
    same time: the paper's Alpaca prompt, or each model's own chat template. A setting or prompt
    out of bounds is a gr.Error (shown to the visitor)."""
    models = [MODELS[name] for name in names]
    settings = {"max_new_tokens": max_new_tokens, "temperature": temperature}
    try:
        if not instruction.strip():
            raise UserError("the instruction is empty: write one, or click a task button")
        if style not in PROMPT_STYLES:
            raise UserError(f"unknown prompt style: use one of {', '.join(PROMPT_STYLES)}")
        prompts = [_prompt(instruction, input, style, m.tokenizer) for m in models]
        if all(prompt == prompts[0] for prompt in prompts):
            yield from compare(models, prompts[0], **settings)
            return
        # Models whose tokenizers format the prompt differently: one after the other.
        replies = [""] * len(models)
        for index, (model, prompt) in enumerate(zip(models, prompts, strict=True)):
            for replies[index] in stream(model, prompt, **settings):
                yield tuple(replies)
    except UserError as exc:
        raise visitor_error(exc) from exc


def _prompt(instruction: str, input: str, style: str, tokenizer) -> str | list[dict[str, str]]:
    """The Alpaca prompt as this tokenizer's model reads it, or the chat turn its template takes
    (rendered by `space.chat` for each model)."""
    if style == "alpaca":
        return format_prompt(instruction, input, style="alpaca", tokenizer=tokenizer)
    return [user_message(instruction, input, tokenizer=tokenizer)]


def fill_prompt(task: str, row: dict[str, Any] | None, code: str, language: str, target: str):
    """(instruction, input) of `task`'s one-click prompt: from the open row when there is one,
    else from the code in the input box, written in `language`."""
    description = ""
    if row:
        code, language = row.get("source_code") or "", row.get("language") or language
        description = row.get("output" if row.get("task") == "summarization" else "instruction")
    try:
        return task_prompt(task, code=code or "", language=language or "",
                           target_language=target, description=description or "")  # fmt: skip
    except UserError as exc:
        raise visitor_error(exc) from exc


def build_try_tab(names: list[str], open_row: gr.State) -> None:
    """The tab's components and events (inside a gr.Tab); `open_row` is the browse tab's."""
    with gr.Row():
        language = gr.Dropdown(list(TARGET_LANGUAGES), value="python", allow_custom_value=True,
                               label="Language of the code")  # fmt: skip
        target = gr.Dropdown(list(TARGET_LANGUAGES), value="go", label="Translate to")
        style = gr.Radio(list(PROMPT_STYLES), value="alpaca", label="Prompt style",
                         info="alpaca: the paper's prompt; chat: the model's chat template")  # fmt: skip
    with gr.Row():
        buttons = {task: gr.Button(f"{prompt.label} (from the open row)", size="sm",
                                   elem_id=f"prompt-{task}") for task, prompt in TASK_PROMPTS.items()}  # fmt: skip
    instruction = gr.Textbox(label="Instruction", lines=2, max_length=MAX_INPUT_CHARS,
                             elem_id="try-instruction")  # fmt: skip
    input = gr.Textbox(label="Input (code or text; may be empty)", lines=8,
                       max_length=MAX_INPUT_CHARS, elem_id="try-input")  # fmt: skip
    with gr.Row():
        max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS_LIMIT, value=DEFAULT_MAX_NEW_TOKENS, step=1,
                                   label="Max new tokens")  # fmt: skip
        temperature = gr.Slider(0, MAX_TEMPERATURE, value=DEFAULT_TEMPERATURE, step=0.05,
                                label="Temperature (0: greedy)")  # fmt: skip
    with gr.Row():
        send = gr.Button("Send", variant="primary", elem_id="try-send")
        stop = gr.Button("Stop", elem_id="try-stop")
    with gr.Row():
        replies = [gr.Textbox(label=f"Reply of {model_label(name)}", lines=12, interactive=False,
                              elem_id=f"try-reply-{i}") for i, name in enumerate(names)]  # fmt: skip

    def reply(instruction: str, input: str, style: str, max_new_tokens: float, temperature):
        for texts in generate_replies(names, instruction, input, style, max_new_tokens,
                                      temperature):  # fmt: skip
            yield texts if len(texts) > 1 else texts[0]

    for task, button in buttons.items():
        button.click(_filler(task), [open_row, input, language, target], [instruction, input])
    open_row.change(lambda row: (row or {}).get("language") or gr.skip(), open_row, language)
    sent = send.click(reply, [instruction, input, style, max_new_tokens, temperature], replies,
                      concurrency_limit=GENERATION_CONCURRENCY)  # fmt: skip
    stop.click(None, cancels=[sent])


def model_label(name: str) -> str:
    """How the tab names a model: a Hub id as it is, a local folder by its name."""
    return Path(name).name if Path(name).expanduser().is_dir() else name


def _filler(task: str):
    def fill(row: dict[str, Any] | None, code: str, language: str, target: str):
        return fill_prompt(task, row, code, language, target)

    return fill
