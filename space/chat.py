"""The Space's "try the model" tab: load a causal LM without running any of its own code, format
a prompt the way WaveCoder models were trained, and stream the reply, or several models' replies
side by side (a tuned model next to its base).

    chat_model = ChatModel.load("microsoft/wavecoder-ultra-6.7b")
    text = format_prompt(instruction, input, style="alpaca", tokenizer=chat_model.tokenizer)
    for reply in stream(chat_model, text, max_new_tokens=512, temperature=0.0):
        ...  # the reply so far

A prompt is a string (tokenised with no special tokens added, as `apply_chat_template` and TRL's
SFTTrainer tokenise a rendered template, so the tuned model sees the ids it was trained on) or a
list of chat messages, rendered by the tokenizer's own chat template. Settings out of bounds are
refused with a `UserError`, never clamped: an API caller then learns the limits instead of getting
a shorter or cooler answer than asked for.

Torch and transformers are imported on use, so the Space's data tab starts without them and
`spaces` can be imported before torch on ZeroGPU.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from space.prompts import (  # noqa: F401  (format_prompt, user_message: this module's API too)
    PROMPT_STYLES,
    Prompt,
    format_prompt,
    render_messages,
    user_message,
)
from wavecoder.errors import UserError

MAX_NEW_TOKENS_LIMIT = 1024  # tokens per reply
MAX_TEMPERATURE = 1.5  # 0 is greedy decoding
MAX_INPUT_CHARS = 16_000  # characters of the formatted prompt, checked before tokenising
MAX_INPUT_TOKENS = 4096  # tokens of the formatted prompt
# ZeroGPU's budget for one call: start-up plus a time per new token of each model (a 6.7B model
# in bfloat16 writes ~30 tokens/s on a ZeroGPU slice; 0.05 s leaves room), at most the cap.
GPU_BASE_S, GPU_S_PER_TOKEN, GPU_MAX_S = 10, 0.05, 300
GPU_DURATION_S = 60  # `gpu`'s default for functions without a duration of their own
ADAPTER_CONFIG = "adapter_config.json"  # a PEFT adapter folder (LoRA) holds this


@dataclass
class ChatModel:
    """A causal LM and its tokenizer, ready to generate.

    Attributes:
        name: the local folder or Hub id it was loaded from (shown in the app).
        model: a transformers `PreTrainedModel` on CUDA (bfloat16) when available, else CPU
            (float32), in eval mode.
        tokenizer: its tokenizer.
    """

    name: str
    model: Any
    tokenizer: Any

    @classmethod
    def load(cls, name_or_path: str) -> ChatModel:
        """Load a local folder or Hub id; `trust_remote_code` is always off and weights are read
        from safetensors only, so no code of the model's repository ever runs in the Space. A
        local PEFT adapter folder (adapter_config.json, e.g. a LoRA run's output) loads its base
        model (`base_model_name_or_path`) with the adapter on top."""
        import torch

        folder = Path(name_or_path).expanduser()
        if folder.is_dir():
            name_or_path = str(folder)
        elif _looks_like_path(name_or_path):
            raise UserError(
                f"no model folder at {name_or_path}: give the folder `wavecoder train` wrote "
                "(with config.json, or adapter_config.json for a LoRA adapter) or a Hub id such "
                "as org/name"
            )
        cuda = torch.cuda.is_available()
        dtype = torch.bfloat16 if cuda else torch.float32
        adapter = folder / ADAPTER_CONFIG if folder.is_dir() else None
        try:
            if adapter is not None and adapter.is_file():
                model, tokenizer = _load_with_adapter(folder, dtype)
            else:
                model, tokenizer = _load_plain(name_or_path, dtype), _tokenizer(name_or_path)
        except (OSError, ValueError, KeyError, ImportError) as error:
            raise UserError(_load_failure(name_or_path, error)) from error
        model.to("cuda" if cuda else "cpu").eval()
        return cls(name=name_or_path, model=model, tokenizer=tokenizer)

    @property
    def eos_token_ids(self) -> list[int]:
        """Every id that ends a reply: the tokenizer's EOS and the generation config's."""
        ids = [self.tokenizer.eos_token_id]
        configured = self.model.generation_config.eos_token_id
        ids += configured if isinstance(configured, list) else [configured]
        return list(dict.fromkeys(i for i in ids if i is not None))

    @property
    def context_tokens(self) -> int | None:
        """The model's context length in tokens, when its config says."""
        return getattr(self.model.config, "max_position_embeddings", None)


def _load_plain(name_or_path: str, dtype) -> Any:
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(name_or_path, trust_remote_code=False)
    return AutoModelForCausalLM.from_pretrained(name_or_path, config=config, dtype=dtype,
                                                trust_remote_code=False, use_safetensors=True)  # fmt: skip


def _tokenizer(name_or_path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=False)


def _load_with_adapter(folder: Path, dtype) -> tuple[Any, Any]:
    """The adapter's base model with the adapter on top, and the adapter folder's tokenizer (the
    base model's when the folder has none)."""
    import json

    from peft import PeftModel

    config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{ADAPTER_CONFIG} names no base_model_name_or_path")
    base_folder = Path(base).expanduser()
    if not base_folder.is_dir() and _looks_like_path(base):
        raise ValueError(f"its base model {base} is neither a folder here nor a Hub id")
    model = PeftModel.from_pretrained(_load_plain(base, dtype), str(folder), is_trainable=False)
    has_tokenizer = any((folder / name).is_file()
                        for name in ("tokenizer.json", "tokenizer_config.json"))  # fmt: skip
    return model, _tokenizer(str(folder) if has_tokenizer else base)


def _looks_like_path(name: str) -> bool:
    """Whether `name` can only be a local path (a Hub id is `name` or `org/name`)."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or Path(name).exists()


def _load_failure(name_or_path: str, error: Exception) -> str:
    import transformers

    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return (
        f"cannot load the model {name_or_path!r} ({reason}). The Space loads a local folder or "
        f"Hub id of a causal language model that transformers {transformers.__version__} "
        "supports without running the repository's own code (trust_remote_code is always off, "
        "weights from .safetensors files only): "
        "check the name, set HF_TOKEN for a gated or private model, and allow downloads "
        "(unset HF_HUB_OFFLINE) for one not in the local cache."
    )


def check_settings(max_new_tokens: float, temperature: float) -> None:
    """Refuse generation settings outside [1, MAX_NEW_TOKENS_LIMIT] tokens and
    [0, MAX_TEMPERATURE]."""
    if (
        not isinstance(max_new_tokens, int | float)
        or not 1 <= max_new_tokens <= MAX_NEW_TOKENS_LIMIT
        or max_new_tokens != int(max_new_tokens)
    ):
        raise UserError(
            f"max_new_tokens must be a whole number from 1 to {MAX_NEW_TOKENS_LIMIT}, "
            f"not {max_new_tokens}"
        )
    if not isinstance(temperature, int | float) or not 0 <= temperature <= MAX_TEMPERATURE:
        raise UserError(
            f"temperature must be from 0 (greedy) to {MAX_TEMPERATURE}, not {temperature}"
        )


def prompt_ids(chat_model: ChatModel, prompt: Prompt, *, max_new_tokens: int = 0) -> list[int]:
    """The token ids of `prompt`, refused when longer than MAX_INPUT_CHARS characters,
    MAX_INPUT_TOKENS tokens, or the model's context less `max_new_tokens`."""
    text = prompt if isinstance(prompt, str) else render_messages(prompt, chat_model.tokenizer)
    if not text.strip():
        raise UserError("the prompt is empty: write an instruction")
    if len(text) > MAX_INPUT_CHARS:
        raise UserError(
            f"the prompt is {len(text)} characters and the Space takes at most "
            f"{MAX_INPUT_CHARS}: shorten the code or the instruction, or clear the chat"
        )
    ids = chat_model.tokenizer(text, add_special_tokens=False)["input_ids"]
    limit = MAX_INPUT_TOKENS
    if chat_model.context_tokens is not None:
        limit = min(limit, chat_model.context_tokens - max_new_tokens)
    if len(ids) > limit:
        raise UserError(
            f"the prompt is {len(ids)} tokens and {chat_model.name} takes at most {limit} here "
            f"(at most {MAX_INPUT_TOKENS}, and prompt plus max_new_tokens within its context of "
            f"{chat_model.context_tokens} tokens): shorten the code, clear the chat or lower "
            "max_new_tokens"
        )
    return ids


class _Generation:
    """One `model.generate` call in a thread, its text read back from a TextIteratorStreamer;
    `cancel()` stops it at the next token."""

    def __init__(self, chat_model: ChatModel, ids: list[int], max_new_tokens: int, temperature):
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        self.cancelled = threading.Event()
        self.error: BaseException | None = None
        self.streamer = TextIteratorStreamer(
            chat_model.tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        model = chat_model.model
        eos = chat_model.eos_token_ids
        pad = chat_model.tokenizer.pad_token_id
        input_ids = torch.tensor([ids], device=model.device)
        sampling = {"do_sample": True, "temperature": float(temperature)}
        if temperature == 0:
            sampling = {"do_sample": False}
        self.kwargs = dict(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            streamer=self.streamer,
            max_new_tokens=int(max_new_tokens),
            eos_token_id=eos,
            pad_token_id=eos[0] if pad is None else pad,
            stopping_criteria=StoppingCriteriaList([self._stop_when_cancelled]),
            **sampling,
        )
        self.model = model
        self.thread = threading.Thread(target=self._run, name="wavecoder-generate", daemon=True)
        self.thread.start()

    def _stop_when_cancelled(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.cancelled.is_set(), device=input_ids.device)

    def _run(self) -> None:
        import torch

        try:
            with torch.inference_mode():
                self.model.generate(**self.kwargs)
        except BaseException as error:
            self.error = error
            self.streamer.end()

    def pieces(self) -> Iterator[str]:
        """The reply's text pieces as they come; raises what generate raised."""
        yield from self.streamer
        self.thread.join()
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        self.cancelled.set()
        self.thread.join()


def stream(
    chat_model: ChatModel, prompt: Prompt, *, max_new_tokens: int, temperature: float
) -> Iterator[str]:
    """The growing reply of `chat_model` to `prompt`, at most `max_new_tokens` tokens, ending at
    an EOS id; greedy when `temperature` is 0, else sampled. Closing the iterator stops
    generation."""
    check_settings(max_new_tokens, temperature)
    ids = prompt_ids(chat_model, prompt, max_new_tokens=int(max_new_tokens))
    generation = _Generation(chat_model, ids, max_new_tokens, temperature)
    text = ""
    try:
        for piece in generation.pieces():
            if piece:
                text += piece
                yield text
    finally:
        generation.cancel()


def compare(
    models: list[ChatModel], prompt: Prompt, *, max_new_tokens: int, temperature: float
) -> Iterator[tuple[str, ...]]:
    """The growing replies of several models to one prompt, generated at the same time: one
    tuple (a reply per model, in order) each time any reply grows. A string prompt goes to every
    model as is; messages go through each model's own chat template."""
    check_settings(max_new_tokens, temperature)
    all_ids = [prompt_ids(m, prompt, max_new_tokens=int(max_new_tokens)) for m in models]
    events: queue.Queue = queue.Queue()

    def pump(index: int, generation: _Generation) -> None:
        try:
            for piece in generation.pieces():
                events.put((index, piece, None))
            events.put((index, None, None))
        except BaseException as error:
            events.put((index, None, error))

    generations: list[_Generation] = []
    pumps: list[threading.Thread] = []
    texts = [""] * len(models)
    try:
        for index, (chat_model, ids) in enumerate(zip(models, all_ids, strict=True)):
            generations.append(_Generation(chat_model, ids, max_new_tokens, temperature))
            pumps.append(
                threading.Thread(
                    target=pump,
                    args=(index, generations[-1]),
                    name="wavecoder-compare",
                    daemon=True,
                )
            )
            pumps[-1].start()
        running = len(models)
        while running:
            index, piece, error = events.get()
            if error is not None:
                raise error
            if piece is None:
                running -= 1
            elif piece:
                texts[index] += piece
                yield tuple(texts)
    finally:
        for generation in generations:
            generation.cancel()
        for thread in pumps:
            thread.join()


def gpu_seconds(max_new_tokens: float, models: int = 1) -> int:
    """ZeroGPU seconds to ask for one call writing up to `max_new_tokens` with `models` models
    (one after the other at worst): `GPU_BASE_S` plus `GPU_S_PER_TOKEN` a token, at most
    `GPU_MAX_S`. A short reply asks for little, so the visitor's quota lasts."""
    tokens = max(1, int(max_new_tokens)) * max(1, models)
    return min(GPU_MAX_S, math.ceil(GPU_BASE_S + GPU_S_PER_TOKEN * tokens))


def gpu(fn: Callable | None = None, *, duration_s: int | Callable = GPU_DURATION_S):
    """`spaces.GPU` (a ZeroGPU slice for each call, at most `duration_s` seconds; a callable
    gets the call's arguments and gives the seconds) when the `spaces` package is importable,
    else `fn` itself. Use as `@gpu` or `@gpu(duration_s=60)`.

    Decorate at module level, before `ChatModel.load`: ZeroGPU wants `spaces` imported before
    torch touches CUDA, and only module-level functions can be sent to its GPU worker."""

    def decorate(function: Callable) -> Callable:
        try:
            import spaces
        except ImportError:
            return function
        return spaces.GPU(function, duration=duration_s)

    return decorate if fn is None else decorate(fn)
