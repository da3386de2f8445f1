"""Prompts as WaveCoder models were trained on them: one (instruction, input) turn, or a whole
conversation, in the paper's Alpaca prompt or the tokenizer's own chat template.

    text = format_prompt(instruction, input, style="alpaca", tokenizer=tokenizer)
    prompt = conversation_prompt(turns, style="chat", tokenizer=tokenizer)  # turns: Turn list

A conversation in the Alpaca style is what `training.formatting.ALPACA_CHAT_TEMPLATE` renders
for several turns: each earlier turn's Alpaca prompt followed by its reply and EOS, then the new
turn's prompt. In the chat style it is a list of messages, rendered by each model's template.
Only the last `MAX_HISTORY_TURNS` earlier turns are sent with a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from training.formatting import adds_bos, alpaca_prompt, has_alpaca_template
from wavecoder.errors import UserError

PROMPT_STYLES = ("alpaca", "chat")
MAX_HISTORY_TURNS = 4  # earlier turns sent with a new message; older ones are left out

Prompt = str | list[dict[str, Any]]


@dataclass(frozen=True)
class Turn:
    """One exchange: the visitor's instruction and input, and the model's reply ("" while the
    reply is being generated: the turn to answer)."""

    instruction: str
    input: str = ""
    reply: str = ""


def user_message(instruction: str, input: str, *, tokenizer) -> dict[str, str]:
    """The user turn of (instruction, input) as training formatted it for this tokenizer: an
    `input` key for the Alpaca chat template, else instruction, blank line, input."""
    if has_alpaca_template(tokenizer):
        return {"role": "user", "content": instruction, "input": input}
    content = f"{instruction}\n\n{input}" if input else instruction
    return {"role": "user", "content": content}


def format_prompt(instruction: str, input: str = "", *, style: str, tokenizer=None) -> str:
    """The prompt text of (instruction, input): `alpaca` is the paper's Alpaca prompt
    (`training.formatting.alpaca_prompt`), `chat` the tokenizer's chat template with the
    generation prompt."""
    return _text(conversation_prompt([Turn(instruction, input)], style=style,
                                     tokenizer=tokenizer), tokenizer)  # fmt: skip


def conversation_prompt(turns: list[Turn], *, style: str, tokenizer=None) -> Prompt:
    """The prompt answering the last of `turns` after the earlier ones (at most
    `MAX_HISTORY_TURNS` of them, the latest): Alpaca text, or chat messages."""
    if style not in PROMPT_STYLES:
        raise UserError(f"unknown prompt style {style!r}: use one of {', '.join(PROMPT_STYLES)}")
    if not turns:
        raise UserError("the prompt is empty: write an instruction")
    turns = turns[-(MAX_HISTORY_TURNS + 1) :]
    if style == "alpaca":
        # Prompts are tokenized without special tokens (as training saw the rendered template),
        # so the BOS a base model's tokenizer adds is written here, as the saved template does.
        bos = tokenizer.bos_token if tokenizer is not None and adds_bos(tokenizer) else ""
        eos = (getattr(tokenizer, "eos_token", None) or "") if tokenizer is not None else ""
        earlier = "".join(alpaca_prompt(t.instruction, t.input) + t.reply + eos
                          for t in turns[:-1])  # fmt: skip
        return bos + earlier + alpaca_prompt(turns[-1].instruction, turns[-1].input)
    messages = []
    for turn in turns[:-1]:
        messages.append(user_message(turn.instruction, turn.input, tokenizer=tokenizer))
        messages.append({"role": "assistant", "content": turn.reply})
    messages.append(user_message(turns[-1].instruction, turns[-1].input, tokenizer=tokenizer))
    return messages


def render_messages(messages: list[dict[str, Any]], tokenizer) -> str:
    """`messages` through the tokenizer's chat template, with the generation prompt."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(
            "this model's tokenizer has no chat template, so the chat style cannot format the "
            "prompt: use the alpaca style (the paper's prompt)"
        )
    from jinja2 import TemplateError

    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except TemplateError as error:
        raise UserError(
            f"the model's chat template cannot format these messages: {error}"
        ) from error


def _text(prompt: Prompt, tokenizer) -> str:
    return prompt if isinstance(prompt, str) else render_messages(prompt, tokenizer)
