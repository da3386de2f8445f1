"""Shared by the chat tests (tests/space/test_chat*.py, test_adapter.py): two tiny random Llamas
built in the test, a "tuned" one whose tokenizer carries the Alpaca chat template and a "base"
one without a template (nothing is downloaded), and helpers that watch generation."""

from __future__ import annotations

import threading
from pathlib import Path

import torch
from tiny_models import bpe_tokenizer, tiny_llama

from space.chat import ChatModel
from training.formatting import ALPACA_NO_INPUT, ALPACA_WITH_INPUT

INSTRUCTION = "Summarize what the following Python code does."
CODE = "def add(a, b):\n    return a + b"
TEXTS = [ALPACA_WITH_INPUT, ALPACA_NO_INPUT, INSTRUCTION, CODE] * 4
# A chat template of another shape than Alpaca's: content is the whole user turn.
TAGGED_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def build(folder: Path, *, chat_template: str | None, seed: int) -> Path:
    tokenizer = bpe_tokenizer(TEXTS, vocab_size=400, pad_token="<pad>", chat_template=chat_template)
    return tiny_llama(folder, tokenizer, max_positions=512, seed=seed)


def greedy_ids(chat_model: ChatModel, text: str, max_new_tokens: int) -> list[int]:
    """The new token ids of a plain greedy `generate` that never stops early."""
    ids = chat_model.tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids
    out = chat_model.model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new_tokens,
        min_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=chat_model.tokenizer.eos_token_id,
    )
    return out[0, ids.shape[1] :].tolist()


def decode(chat_model: ChatModel, ids: list[int]) -> str:
    return chat_model.tokenizer.decode(ids, skip_special_tokens=True)


def generation_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("wavecoder-")]


def record_generate(chat_model: ChatModel, monkeypatch) -> list[list[int]]:
    """The new ids of each `generate` call on `chat_model` from now on."""
    generate, outputs = chat_model.model.generate, []

    def recording(**kwargs):
        out = generate(**kwargs)
        outputs.append(out[0, kwargs["input_ids"].shape[1] :].tolist())
        return out

    monkeypatch.setattr(chat_model.model, "generate", recording)
    return outputs


def stopped_early(new_ids: list[int], chat_model: ChatModel, max_new_tokens: int) -> bool:
    """Whether generation ended before `max_new_tokens` without an EOS: it was cancelled."""
    return len(new_ids) < max_new_tokens and new_ids[-1] not in chat_model.eos_token_ids
