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

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.formatting import adds_bos, alpaca_prompt, has_alpaca_template
from wavecoder.errors import UserError

PROMPT_STYLES = ("alpaca", "chat")
MAX_NEW_TOKENS_LIMIT = 1024  # tokens per reply
MAX_TEMPERATURE = 1.5  # 0 is greedy decoding
MAX_INPUT_CHARS = 16_000  # characters of the formatted prompt, checked before tokenising
MAX_INPUT_TOKENS = 4096  # tokens of the formatted prompt
GPU_DURATION_S = 120  # ZeroGPU's per-call budget: two 6.7B models, 1024 tokens each

Prompt = str | list[dict[str, Any]]


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
        """Load a local folder or Hub id; `trust_remote_code` is always off, so no code of the
        model's repository ever runs in the Space."""
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        folder = Path(name_or_path).expanduser()
        if folder.is_dir():
            name_or_path = str(folder)
        elif _looks_like_path(name_or_path):
            raise UserError(
                f"no model folder at {name_or_path}: give the folder `wavecoder train` wrote "
                "(with config.json) or a Hub id such as org/name"
            )
        cuda = torch.cuda.is_available()
        try:
            config = AutoConfig.from_pretrained(name_or_path, trust_remote_code=False)
            tokenizer = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=False)
            model = AutoModelForCausalLM.from_pretrained(
                name_or_path,
                config=config,
                dtype=torch.bfloat16 if cuda else torch.float32,
                trust_remote_code=False,
            )
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


def _looks_like_path(name: str) -> bool:
    """Whether `name` can only be a local path (a Hub id is `name` or `org/name`)."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or Path(name).exists()


def _load_failure(name_or_path: str, error: Exception) -> str:
    import transformers

    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return (
        f"cannot load the model {name_or_path!r} ({reason}). The Space loads a local folder or "
        f"Hub id of a causal language model that transformers {transformers.__version__} "
        "supports without running the repository's own code (trust_remote_code is always off): "
        "check the name, set HF_TOKEN for a gated or private model, and allow downloads "
        "(unset HF_HUB_OFFLINE) for one not in the local cache."
    )


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
    if style == "alpaca":
        # Prompts are tokenized without special tokens (as training saw the rendered template),
        # so the BOS a base model's tokenizer adds is written here, as the saved template does.
        bos = tokenizer.bos_token if tokenizer is not None and adds_bos(tokenizer) else ""
        return bos + alpaca_prompt(instruction, input)
    if style != "chat":
        raise UserError(f"unknown prompt style {style!r}: use one of {', '.join(PROMPT_STYLES)}")
    return _render([user_message(instruction, input, tokenizer=tokenizer)], tokenizer)


def _render(messages: list[dict[str, Any]], tokenizer) -> str:
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
    text = prompt if isinstance(prompt, str) else _render(prompt, chat_model.tokenizer)
    if not text.strip():
        raise UserError("the prompt is empty: write an instruction")
    if len(text) > MAX_INPUT_CHARS:
        raise UserError(
            f"the prompt is {len(text)} characters and the Space takes at most "
            f"{MAX_INPUT_CHARS}: shorten the code or the instruction"
        )
    ids = chat_model.tokenizer(text, add_special_tokens=False)["input_ids"]
    limit = MAX_INPUT_TOKENS
    if chat_model.context_tokens is not None:
        limit = min(limit, chat_model.context_tokens - max_new_tokens)
    if len(ids) > limit:
        raise UserError(
            f"the prompt is {len(ids)} tokens and {chat_model.name} takes at most {limit} here "
            f"(at most {MAX_INPUT_TOKENS}, and prompt plus max_new_tokens within its context of "
            f"{chat_model.context_tokens} tokens): shorten the code or lower max_new_tokens"
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


def gpu(fn: Callable | None = None, *, duration_s: int = GPU_DURATION_S):
    """`spaces.GPU` (a ZeroGPU slice for each call, at most `duration_s` seconds) when the
    `spaces` package is importable, else `fn` itself. Use as `@gpu` or `@gpu(duration_s=60)`.

    Decorate at module level, before `ChatModel.load`: ZeroGPU wants `spaces` imported before
    torch touches CUDA, and only module-level functions can be sent to its GPU worker."""

    def decorate(function: Callable) -> Callable:
        try:
            import spaces
        except ImportError:
            return function
        return spaces.GPU(function, duration=duration_s)

    return decorate if fn is None else decorate(fn)
