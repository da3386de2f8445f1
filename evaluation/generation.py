"""Generate benchmark samples with a model: transformers, an OpenAI-compatible endpoint, or vLLM.

Defaults follow the paper: greedy decoding (temperature 0), at most 512 new tokens, one sample per
task; ``n`` samples at a temperature give pass@k for k <= n. Each backend returns, per request,
``n`` `Generation`s (the exact prompt text, the raw continuation, whether the prompt ended with
the request's response prefix). `generate_samples` turns them into samples rows with the
processed ``completion`` next to the ``raw_generation``.

- `TransformersGenerator`: a local folder or Hub id, batched ``model.generate`` with left padding;
  the ``chat`` template uses the tokenizer's chat template. The tokenizer adds its special tokens
  (BOS) except to a chat prompt that already starts with BOS. A batch only holds requests with the
  same stop sequences (``generate`` stops each row at any of its batch's);
- `OpenAIGenerator`: any OpenAI-compatible server (vLLM, TGI, `transformers serve`, OpenAI): the
  completions API for ``alpaca``/``plain``, the chat API for ``chat`` (no priming there). OpenAI
  accepts at most 4 stop sequences: the first 4 go to the server, the raw text is cut at the rest;
- `VLLMGenerator`: vLLM's offline engine, where the `vllm` package is installed, with each
  request's own stop sequences.

Stop sequences: the request's continuation stops (a primed or ``plain`` prompt continues code)
first, then the Alpaca turn markers.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from evaluation.benchmarks import Benchmark, Problem, Request
from evaluation.benchmarks.humanevalexplain import HumanEvalExplain
from evaluation.postprocess import truncate_at_stops
from evaluation.prompts import ALPACA_STOPS, format_prompt
from wavecoder.errors import UserError

log = logging.getLogger(__name__)
# The OpenAI API refuses more stop sequences than this.
OPENAI_MAX_STOPS = 4


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings. `temperature` 0 means greedy; `max_new_tokens` in tokens."""

    template: str = "alpaca"
    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 0.95
    n: int = 1
    batch_size: int = 8
    seed: int = 0


@dataclass(frozen=True)
class Generation:
    prompt: str
    raw: str
    primed: bool


def _stops(request: Request, primed: bool) -> tuple[str, ...]:
    """Stop sequences for `request`: its own when the prompt continues code, then Alpaca's."""
    return (*(request.stops if primed else ()), *ALPACA_STOPS)


class TransformersGenerator:
    """Batched generation with a transformers causal LM (local path or Hub id)."""

    def __init__(self, model: str, *, device: str | None = None, dtype: str = "auto"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model)
            torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype)
            self.model = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype)
        except OSError as exc:
            raise UserError(f"could not load model {model!r}: {exc}") from exc
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def prompt(self, request: Request, template: str) -> Generation:
        text = format_prompt(
            template,
            request.instruction,
            request.response_prefix,
            plain=request.plain,
            tokenizer=self.tokenizer,
        )
        return Generation(text, "", bool(request.response_prefix) or template == "plain")

    def generate(
        self, requests: Sequence[Request], config: GenerationConfig
    ) -> list[list[Generation]]:
        import torch

        torch.manual_seed(config.seed)
        prompts = [self.prompt(r, config.template) for r in requests]
        stops = [_stops(r, p.primed) for r, p in zip(requests, prompts, strict=True)]
        results: list[list[Generation]] = [[] for _ in prompts]
        for batch in _batches_by_stops(stops, config.batch_size):
            inputs = self.encode([prompts[i].prompt for i in batch], config.template)
            sampling = {"do_sample": False}
            if config.temperature > 0:
                sampling = {
                    "do_sample": True,
                    "temperature": config.temperature,
                    "top_p": config.top_p,
                }
            with torch.no_grad():
                output = self.model.generate(
                    **inputs,
                    max_new_tokens=config.max_new_tokens,
                    num_return_sequences=config.n,
                    pad_token_id=self.tokenizer.pad_token_id,
                    stop_strings=list(stops[batch[0]]) or None,
                    tokenizer=self.tokenizer,
                    **sampling,
                )
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            for position, index in enumerate(batch):
                chunk = texts[position * config.n : (position + 1) * config.n]
                prompt = prompts[index]
                results[index] = [Generation(prompt.prompt, text, prompt.primed) for text in chunk]
            done = sum(bool(r) for r in results)
            log.info("generated %d/%d prompts", done, len(prompts))
        return results

    def encode(self, texts: list[str], template: str):
        """Token ids of `texts` on the model's device, left-padded.

        The tokenizer adds its special tokens (BOS for most code models, which expect it), except
        to a chat prompt that already starts with BOS (most chat templates write it themselves).
        """
        bos = self.tokenizer.bos_token
        add_special = not (template == "chat" and bos and texts[0].startswith(bos))
        return self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=add_special
        ).to(self.device)


def _batches_by_stops(stops: list[tuple[str, ...]], size: int) -> list[list[int]]:
    """Indices of the requests in batches of at most `size` that share their stop sequences."""
    order = sorted(range(len(stops)), key=lambda i: stops[i])
    batches = []
    for _, group in itertools.groupby(order, key=lambda i: stops[i]):
        group = list(group)
        batches += [group[start : start + size] for start in range(0, len(group), size)]
    return batches


class OpenAIGenerator:
    """Requests to an OpenAI-compatible endpoint, `concurrency` at a time."""

    def __init__(self, model: str, *, base_url: str, api_key: str | None, concurrency: int = 8):
        import openai

        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or "EMPTY", max_retries=2)
        self.model = model
        self.concurrency = concurrency

    def _one(self, request: Request, config: GenerationConfig) -> list[Generation]:
        import openai

        # The chat API cannot prime the answer: it is Markdown, not a continuation.
        primed = config.template != "chat" and (
            bool(request.response_prefix) or config.template == "plain"
        )
        stops = _stops(request, primed)
        common = {
            "model": self.model,
            "max_tokens": config.max_new_tokens,
            "temperature": config.temperature,
            "top_p": config.top_p if config.temperature > 0 else 1.0,
            "n": config.n,
            "stop": list(stops[:OPENAI_MAX_STOPS]),
        }
        rest = stops[OPENAI_MAX_STOPS:]
        try:
            if config.template == "chat":
                messages = [{"role": "user", "content": request.instruction}]
                reply = self.client.chat.completions.create(messages=messages, **common)
                texts = [choice.message.content or "" for choice in reply.choices]
                return [
                    Generation(request.instruction, truncate_at_stops(text, rest), False)
                    for text in texts
                ]
            prompt = format_prompt(
                config.template, request.instruction, request.response_prefix, plain=request.plain
            )
            reply = self.client.completions.create(prompt=prompt, **common)
        except openai.APIConnectionError as exc:
            raise UserError(
                f"cannot reach {self.client.base_url}: {exc}; check --base-url"
            ) from exc
        except openai.APIStatusError as exc:
            raise UserError(
                f"the endpoint refused the request ({exc.status_code}): {exc.message}"
            ) from exc
        return [
            Generation(prompt, truncate_at_stops(choice.text, rest), primed)
            for choice in reply.choices
        ]

    def generate(
        self, requests: Sequence[Request], config: GenerationConfig
    ) -> list[list[Generation]]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda r: self._one(r, config), requests))


class VLLMGenerator:
    """vLLM's offline engine (`pip install vllm`, a GPU)."""

    def __init__(self, model: str, **engine_args):
        try:
            from vllm import LLM
        except ImportError as exc:
            raise UserError("--backend vllm needs the vllm package: pip install vllm") from exc
        self.llm = LLM(model=model, **engine_args)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(
        self, requests: Sequence[Request], config: GenerationConfig
    ) -> list[list[Generation]]:
        from vllm import SamplingParams

        prompts = [
            format_prompt(
                config.template,
                r.instruction,
                r.response_prefix,
                plain=r.plain,
                tokenizer=self.tokenizer,
            )
            for r in requests
        ]
        primed = [bool(r.response_prefix) or config.template == "plain" for r in requests]
        params = [
            SamplingParams(
                n=config.n,
                temperature=config.temperature,
                top_p=config.top_p if config.temperature > 0 else 1.0,
                max_tokens=config.max_new_tokens,
                seed=config.seed,
                stop=list(_stops(r, p)),
            )
            for r, p in zip(requests, primed, strict=True)
        ]
        outputs = self.llm.generate(prompts, params)
        return [
            [Generation(p, o.text, was_primed) for o in out.outputs]
            for p, was_primed, out in zip(prompts, primed, outputs, strict=True)
        ]


def make_generator(
    backend: str, model: str, *, base_url=None, api_key=None, device=None, dtype="auto"
):
    """The generator for `backend` ("transformers", "openai" or "vllm")."""
    if backend == "openai":
        if not base_url:
            raise UserError("--backend openai needs --base-url (e.g. http://localhost:8000/v1)")
        return OpenAIGenerator(model, base_url=base_url, api_key=api_key)
    if backend == "vllm":
        return VLLMGenerator(model)
    return TransformersGenerator(model, device=device, dtype=dtype)


def generate_samples(
    benchmark: Benchmark, problems: Sequence[Problem], generator, config: GenerationConfig
) -> list[dict]:
    """Samples rows (``task_id``, ``completion``, ``raw_generation``, ``prompt``), n per problem;
    HumanEvalExplain runs its describe stage first and adds ``description`` to each row."""
    if isinstance(benchmark, HumanEvalExplain):
        return _explain_samples(benchmark, problems, generator, config)
    generations = generator.generate([benchmark.request(p) for p in problems], config)
    return [
        _row(benchmark, problem, generation, config)
        for problem, outputs in zip(problems, generations, strict=True)
        for generation in outputs
    ]


def _row(benchmark, problem, generation, config, **extra) -> dict:
    completion = benchmark.postprocess(
        problem, generation.raw, template=config.template, primed=generation.primed
    )
    return {
        "task_id": problem.task_id,
        "completion": completion,
        "raw_generation": generation.raw,
        "prompt": generation.prompt,
        **extra,
    }


def _explain_samples(benchmark, problems, generator, config) -> list[dict]:
    described = generator.generate([benchmark.describe_request(p) for p in problems], config)
    pairs = [
        (problem, benchmark.description(problem, generation.raw), generation.raw)
        for problem, outputs in zip(problems, described, strict=True)
        for generation in outputs
    ]
    single = GenerationConfig(**{**asdict(config), "n": 1})
    requests = [benchmark.request(problem, description) for problem, description, _ in pairs]
    synthesized = generator.generate(requests, single)
    return [
        _row(benchmark, problem, outputs[0], single, description=description, raw_description=raw)
        for (problem, description, raw), outputs in zip(pairs, synthesized, strict=True)
    ]
