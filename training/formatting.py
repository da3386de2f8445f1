"""How a CodeOcean row becomes a training prompt and response: the paper's Alpaca prompt or the
tokenizer's chat template, always as a conversational prompt-completion pair so TRL's SFTTrainer
puts the loss on the response only.

`alpaca` (the paper's format, Stanford Alpaca's two variants): the tokenizer is given
`ALPACA_CHAT_TEMPLATE`, which renders a user message as the Alpaca prompt (the with-input variant
when the message carries a non-empty `input` key, else the no-input one) and an assistant message
as its content followed by the EOS token. Saved with the model, it makes
`tokenizer.apply_chat_template(messages, add_generation_prompt=True)` give exactly the prompt the
model was trained on, which the released WaveCoder checkpoint lacked.

`chat`: the rows' `prompt` / `completion` columns through the tokenizer's own chat template
(instruction-tuned bases such as Qwen2.5-Coder-Instruct); a tokenizer without one is an error that
names the `alpaca` format.
"""

from __future__ import annotations

from typing import Any

from wavecoder.errors import UserError

PROMPT_FORMATS = ("alpaca", "chat")

ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
)


def _jinja_literal(text: str) -> str:
    """`text` as a Jinja string literal (the template's constant parts)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def _alpaca_chat_template() -> str:
    with_input = ALPACA_WITH_INPUT.split("{instruction}")
    no_input = ALPACA_NO_INPUT.split("{instruction}")
    between = with_input[1].split("{input}")
    return (
        "{%- for message in messages %}"
        "{%- if message['role'] == 'user' %}"
        "{%- if message['input'] is defined and message['input'] %}"
        "{{ "
        + _jinja_literal(with_input[0])
        + " + message['content'] + "
        + _jinja_literal(between[0])
        + " + message['input'] + "
        + _jinja_literal(between[1])
        + " }}"
        "{%- else %}"
        "{{ "
        + _jinja_literal(no_input[0])
        + " + message['content'] + "
        + _jinja_literal(no_input[1])
        + " }}"
        "{%- endif %}"
        "{%- elif message['role'] == 'assistant' %}"
        "{{ message['content'] + eos_token }}"
        "{%- else %}"
        "{{ raise_exception('The Alpaca prompt has only user and assistant turns, not '"
        " + message['role']) }}"
        "{%- endif %}"
        "{%- endfor %}"
    )


# The Alpaca prompt as a chat template. The generation prompt ("### Response:\n") is part of the
# user turn, so `add_generation_prompt` changes nothing.
ALPACA_CHAT_TEMPLATE = _alpaca_chat_template()


def has_alpaca_template(tokenizer) -> bool:
    """Whether `tokenizer` carries the Alpaca chat template (with or without the BOS prefix)."""
    return ALPACA_CHAT_TEMPLATE in (getattr(tokenizer, "chat_template", None) or "")


def alpaca_prompt(instruction: str, input: str = "") -> str:
    """The paper's training prompt for one row (with-input variant when `input` is not empty)."""
    if input:
        return ALPACA_WITH_INPUT.format(instruction=instruction, input=input)
    return ALPACA_NO_INPUT.format(instruction=instruction)


def prompt_completion(row: dict[str, Any], prompt_format: str) -> dict[str, list[dict]]:
    """The conversational `prompt` and `completion` of one dataset row in `prompt_format`."""
    if prompt_format == "alpaca":
        user = {"role": "user", "content": row["instruction"], "input": row.get("input") or ""}
    elif prompt_format == "chat":
        user = (
            dict(row["prompt"][0])
            if row.get("prompt")
            else {
                "role": "user",
                "content": f"{row['instruction']}\n\n{row['input']}"
                if row.get("input")
                else row["instruction"],
            }
        )
    else:
        raise UserError(
            f"unknown prompt_format {prompt_format!r}: use one of {', '.join(PROMPT_FORMATS)}"
        )
    return {"prompt": [user], "completion": [{"role": "assistant", "content": row["output"]}]}


def adds_bos(tokenizer) -> bool:
    """Whether encoding a text with special tokens starts it with the BOS token."""
    bos = tokenizer.bos_token_id
    return bos is not None and tokenizer("a")["input_ids"][:1] == [bos]


def prepare_tokenizer(tokenizer, prompt_format: str):
    """Give `tokenizer` the template of `prompt_format` and a pad token; returns it."""
    if prompt_format == "alpaca":
        # TRL tokenizes a rendered conversation without adding special tokens, while evaluation
        # (and anyone tokenizing the raw Alpaca prompt) gets the BOS the tokenizer adds: a
        # tokenizer that adds BOS gets a template that writes it, so both see the same tokens.
        tokenizer.chat_template = (
            "{{ bos_token }}" + ALPACA_CHAT_TEMPLATE
            if adds_bos(tokenizer)
            else ALPACA_CHAT_TEMPLATE
        )
    elif not getattr(tokenizer, "chat_template", None):
        raise UserError(
            "this tokenizer has no chat template, so `prompt_format: chat` cannot format the "
            "rows: use `prompt_format: alpaca` (the paper's prompt, saved with the model as its "
            "chat template)"
        )
    if tokenizer.eos_token is None:
        raise UserError("the tokenizer has no EOS token, so responses could never end")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
