"""The Space's "try the model" tab: a multi-turn chat with the model (and, when given, a second
model such as the base model, answering the same messages in its own chat beside it), streamed.

One-click buttons fill the message for the four CodeOcean tasks (`space.task_prompts`) from the
row open in the browse tab, or from the code in the input box. Each model sees its own earlier
replies: the conversation goes to it in the paper's Alpaca prompt or through its chat template
(`space.prompts.conversation_prompt`, the last `MAX_HISTORY_TURNS` turns). The chats show every
message as plain text (`render_markdown=False`, no HTML tags, no LaTeX, the text HTML-escaped): a
reply can echo the dataset's code, or anything a visitor asked for.

The conversation lives in a gr.State as JSON (a list of turns: instruction, input, one reply per
model). `generate_replies` is module-level and decorated with `space.chat.gpu`, as ZeroGPU
requires; its arguments are plain data (ZeroGPU sends them to its GPU worker), its GPU time is
derived from max_new_tokens, and the models it uses are the ones `load_models` put in `MODELS`.
"""

from __future__ import annotations

import html
import time
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
    gpu,
    gpu_seconds,
    prompt_ids,
    stream,
)
from space.prompts import Turn, conversation_prompt
from space.task_prompts import TARGET_LANGUAGES, TASK_PROMPTS, task_prompt
from wavecoder.errors import UserError

DEFAULT_MAX_NEW_TOKENS = 256
DEFAULT_TEMPERATURE = 0.0  # greedy: the same prompt gives the same reply
GENERATION_GROUP = "generate"  # browsing never waits behind it (space.browse.BROWSE_GROUP)
GENERATION_CONCURRENCY = 1  # replies generated at a time; other visitors wait in the queue
# Each update resends the chats whole: a token at a time, a long reply costs the browser O(n^2).
UPDATE_EVERY_S = 0.05
MAX_TURNS = 16  # turns a chat holds; then the visitor clears it (the model sees fewer)
MODELS: dict[str, ChatModel] = {}  # name -> model, loaded once at start-up

History = list[dict[str, Any]]  # [{"instruction", "input", "replies": [one per model]}]


def load_models(*names: str | None) -> list[str]:
    """Load each named model (a local folder, a LoRA adapter folder or a Hub id; None skipped)
    into `MODELS`."""
    loaded = []
    for name in names:
        if name:
            if name not in MODELS:
                MODELS[name] = ChatModel.load(name)
            loaded.append(name)
    return loaded


def model_turns(history: History, index: int) -> list[Turn]:
    """The conversation as model `index` had it: its own replies; the last turn unanswered."""
    turns = []
    for turn in history:
        replies = turn.get("replies") or []
        reply = replies[index] if index < len(replies) else ""
        turns.append(Turn(turn["instruction"], turn.get("input") or "", reply or ""))
    if turns:
        turns[-1] = Turn(turns[-1].instruction, turns[-1].input)
    return turns


def model_prompts(names: list[str], history: History, style: str) -> list:
    """Each model's prompt for the last turn of `history`, checked against its bounds."""
    prompts = []
    for index, name in enumerate(names):
        prompt = conversation_prompt(model_turns(history, index), style=style,
                                     tokenizer=MODELS[name].tokenizer)  # fmt: skip
        prompts.append(prompt)
    return prompts


def _gpu_duration(names, history, style, max_new_tokens, temperature) -> int:
    return gpu_seconds(max_new_tokens, len(names))


@gpu(duration_s=_gpu_duration)
def generate_replies(
    names: list[str], history: History, style: str, max_new_tokens: float, temperature: float
) -> Iterator[tuple[str, ...]]:
    """The growing replies of the models `names` (in `MODELS`) to the last turn of `history`,
    each after its own earlier replies, generated at the same time when the prompts agree. A
    setting or prompt out of bounds is a gr.Error (shown to the visitor)."""
    models = [MODELS[name] for name in names]
    settings = {"max_new_tokens": max_new_tokens, "temperature": temperature}
    try:
        if not history or not str(history[-1].get("instruction", "")).strip():
            raise UserError("the message is empty: write an instruction, or click a task button")
        prompts = model_prompts(names, history, style)
        if all(prompt == prompts[0] for prompt in prompts):
            yield from compare(models, prompts[0], **settings)
            return
        # Models whose prompts differ (their own replies, their own templates): one by one.
        replies = [""] * len(models)
        for index, (model, prompt) in enumerate(zip(models, prompts, strict=True)):
            for replies[index] in stream(model, prompt, **settings):
                yield tuple(replies)
    except UserError as exc:
        raise visitor_error(exc) from exc


def start_turn(names: list[str], history: History | None, instruction: str, input: str,
               style: str, max_new_tokens: float) -> History:  # fmt: skip
    """`history` with the new turn (no replies yet), after checking it fits every model."""
    history = list(history or [])
    try:
        if not (instruction or "").strip():
            raise UserError("the message is empty: write an instruction, or click a task button")
        if style not in PROMPT_STYLES:
            raise UserError(f"unknown prompt style: use one of {', '.join(PROMPT_STYLES)}")
        if len(history) >= MAX_TURNS:
            raise UserError(f"this chat has {MAX_TURNS} turns, the most it holds: press Clear")
        turn = {"instruction": instruction, "input": input or "", "replies": [""] * len(names)}
        for name, prompt in zip(names, model_prompts(names, [*history, turn], style), strict=True):
            prompt_ids(MODELS[name], prompt, max_new_tokens=int(max_new_tokens))
    except UserError as exc:
        raise visitor_error(exc) from exc
    return [*history, turn]


def chat_messages(history: History | None, index: int) -> list[dict[str, str]]:
    """Model `index`'s chat as gr.Chatbot messages: the visitor's turns (instruction, blank line,
    input) and the model's replies, HTML-escaped: with render_markdown=False gr.Chatbot still
    reads a message as HTML (and its sanitizer drops tags, so `<b>` in code would vanish); escaped,
    the browser shows the text itself."""
    messages = []
    for turn in history or []:
        text = turn["instruction"] + (f"\n\n{turn['input']}" if turn.get("input") else "")
        messages.append({"role": "user", "content": html.escape(text, quote=False)})
        replies = turn.get("replies") or []
        reply = replies[index] if index < len(replies) else ""
        if reply:
            messages.append({"role": "assistant", "content": html.escape(reply, quote=False)})
    return messages


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
        chats = [gr.Chatbot(label=f"Chat with {model_label(name)}", elem_id=f"try-chat-{i}",
                            render_markdown=False, sanitize_html=True, allow_tags=False,
                            latex_delimiters=[], feedback_options=None, height=420)
                 for i, name in enumerate(names)]  # fmt: skip
    with gr.Row():
        language = gr.Dropdown(list(TARGET_LANGUAGES), value="python", allow_custom_value=True,
                               label="Language of the code")  # fmt: skip
        target = gr.Dropdown(list(TARGET_LANGUAGES), value="go", label="Translate to")
        style = gr.Radio(list(PROMPT_STYLES), value="alpaca", label="Prompt style",
                         info="alpaca: the paper's prompt; chat: the model's chat template")  # fmt: skip
    with gr.Row():
        buttons = {task: gr.Button(f"{prompt.label} (from the open row)", size="sm",
                                   elem_id=f"prompt-{task}") for task, prompt in TASK_PROMPTS.items()}  # fmt: skip
    instruction = gr.Textbox(label="Message (instruction)", lines=2, max_length=MAX_INPUT_CHARS,
                             elem_id="try-instruction")  # fmt: skip
    input = gr.Textbox(label="Input (code or text; may be empty)", lines=6,
                       max_length=MAX_INPUT_CHARS, elem_id="try-input")  # fmt: skip
    with gr.Row():
        max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS_LIMIT, value=DEFAULT_MAX_NEW_TOKENS, step=1,
                                   label="Max new tokens", elem_id="try-max-new-tokens")  # fmt: skip
        temperature = gr.Slider(0, MAX_TEMPERATURE, value=DEFAULT_TEMPERATURE, step=0.05,
                                label="Temperature (0: greedy)")  # fmt: skip
    with gr.Row():
        send = gr.Button("Send", variant="primary", elem_id="try-send")
        stop = gr.Button("Stop", elem_id="try-stop")
        clear = gr.Button("Clear the chat", elem_id="try-clear")
    history = gr.State([])

    def begin(history, instruction, input, style, max_new_tokens):
        history = start_turn(names, history, instruction, input, style, max_new_tokens)
        return (history, *[chat_messages(history, i) for i in range(len(names))], "", "")

    def reply(history: History, style: str, max_new_tokens: float, temperature: float):
        shown = 0.0  # when the chats were last sent: at most every UPDATE_EVERY_S seconds
        for texts in generate_replies(names, history, style, max_new_tokens, temperature):
            history[-1]["replies"] = list(texts)
            if time.monotonic() - shown >= UPDATE_EVERY_S:
                shown = time.monotonic()
                yield (history, *[chat_messages(history, i) for i in range(len(names))])
        yield (history, *[chat_messages(history, i) for i in range(len(names))])

    for task, button in buttons.items():
        button.click(_filler(task), [open_row, input, language, target], [instruction, input])
    open_row.change(lambda row: (row or {}).get("language") or gr.skip(), open_row, language)
    sent = send.click(begin, [history, instruction, input, style, max_new_tokens],
                      [history, *chats, instruction, input]).success(
        reply, [history, style, max_new_tokens, temperature], [history, *chats],
        concurrency_id=GENERATION_GROUP, concurrency_limit=GENERATION_CONCURRENCY)  # fmt: skip
    stop.click(None, cancels=[sent])
    clear.click(lambda: ([], *[[] for _ in names]), None, [history, *chats], cancels=[sent])


def model_label(name: str) -> str:
    """How the tab names a model: a Hub id as it is, a local folder by its name."""
    return Path(name).name if Path(name).expanduser().is_dir() else name


def _filler(task: str):
    def fill(row: dict[str, Any] | None, code: str, language: str, target: str):
        return fill_prompt(task, row, code, language, target)

    return fill
