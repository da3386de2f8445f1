"""The optional LLM judge: is a candidate row the same problem as a benchmark item?

llm-decontaminator's method (Yang et al. 2023, "Rethinking Benchmark and Contamination for
Language Models with Rephrased Samples"): embeddings shortlist each benchmark problem's nearest
training rows, then an LLM decides for each pair whether the two address the same problem, which
catches rephrasings, translations and renamed copies that no cosine threshold separates from
merely similar code. Here the shortlist is the embedding candidates (the `top` highest-scoring
rows per benchmark item), the LLM is the run's discriminator endpoint (any OpenAI-compatible
server), and the prompt is `JUDGE_SYSTEM_PROMPT` / `JUDGE_USER_TEMPLATE`.

Off by default: it costs one call per candidate; `judge_estimate` prices it for ``--dry-run``.
An answer that is neither yes nor no, or a request that fails after the client's retries, leaves
the row unflagged and is recorded with its reason; an endpoint that refuses (bad key, unknown
model, unreachable) stops with a `UserError`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from pipeline.decontamination.items import BenchmarkItem, Flag, RowText
from pipeline.generation.config import OPENAI_COMPATIBLE, LLMConfig
from wavecoder.errors import UserError

JUDGE_SYSTEM_PROMPT = """\
You check a training dataset for copies of benchmark problems. You are shown one benchmark \
problem (its statement and reference solution) and one row of the dataset.
Answer "yes" if the row states or solves the same problem as the benchmark problem: the same \
task with the same inputs and outputs, even if it is reworded, translated into another natural \
or programming language, uses other names or examples, or implements it differently.
Answer "no" if the row is about a different problem, even a similar or related one.
Reply with one word: yes or no."""

JUDGE_USER_TEMPLATE = """\
Benchmark problem:
<<<
{item}
>>>

Dataset row:
<<<
{row}
>>>"""

# Characters of each side shown to the judge (a longer text is cut, marked with "…").
MAX_TEXT_CHARS = 4000
# Tokens the judge may answer with: one word, with room for a model that adds punctuation.
JUDGE_MAX_NEW_TOKENS = 8
# Output tokens expected per answer ("yes"/"no" and an end token).
EXPECTED_ANSWER_TOKENS = 2
# Characters of one (item, row) pair for the estimate: a HumanEval problem with its solution is
# 631 on average; a row copying it, with an instruction around it, about 1.5 times that.
MEAN_PAIR_CHARS = 1600
# Characters per token when a pair's text is estimated rather than counted.
CHARS_PER_TOKEN = 4

_YES, _NO = {"yes", "true"}, {"no", "false"}


def judge_candidates(
    candidates: Sequence[tuple[RowText, BenchmarkItem, float]],
    llm_config: LLMConfig,
    *,
    top: int,
) -> tuple[list[Flag], dict[str, Any]]:
    """Ask the LLM about the `top` highest-scoring candidate rows of each benchmark item.

    Returns the flags (method "judge", score 1.0, one per "yes") and the usage: {"calls",
    "prompt_tokens", "completion_tokens", "judged" (pairs asked), "flagged", "malformed",
    "failed", "problems": [{"row_id", "benchmark", "item", "answer", "reason"}]}.

    Raises:
        UserError: `top` < 1, the provider is not OpenAI-compatible, no key or endpoint is
            configured, or the endpoint refuses the requests.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise UserError(f"decontamination judge top must be an integer >= 1, got {top!r}")
    pairs = shortlist(candidates, top)
    usage: dict[str, Any] = {
        "calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "judged": len(pairs),
        "flagged": 0, "malformed": 0, "failed": 0, "problems": [],
    }  # fmt: skip
    if not pairs:
        return [], usage
    client = _client(llm_config)
    answers = asyncio.run(_ask_all(client, llm_config, pairs, usage))
    flags = []
    for (row, item, _), answer in zip(pairs, answers, strict=True):
        if answer is None:
            continue
        verdict, text = answer
        if verdict is True:
            flags.append(Flag(row.id, item.benchmark, item.item, "judge", 1.0))
        elif verdict is None:
            usage["malformed"] += 1
            usage["problems"].append(_problem(row, item, text, "answer is neither yes nor no"))
    usage["flagged"] = len(flags)
    return flags, usage


def shortlist(
    candidates: Sequence[tuple[RowText, BenchmarkItem, float]], top: int
) -> list[tuple[RowText, BenchmarkItem, float]]:
    """Each item's `top` highest-scoring distinct rows (a pair listed twice keeps its highest
    score), ordered by item, then score (highest first), then row id."""
    best: dict[tuple[str, str, str], tuple[RowText, BenchmarkItem, float]] = {}
    for row, item, score in candidates:
        key = (item.benchmark, item.item, row.id)
        if key not in best or score > best[key][2]:
            best[key] = (row, item, float(score))
    ordered = sorted(best.values(), key=lambda c: (c[1].benchmark, c[1].item, -c[2], c[0].id))
    taken: dict[tuple[str, str], int] = {}
    out = []
    for row, item, score in ordered:
        key = (item.benchmark, item.item)
        if taken.get(key, 0) < top:
            taken[key] = taken.get(key, 0) + 1
            out.append((row, item, score))
    return out


def judge_messages(row: RowText, item: BenchmarkItem) -> list[dict[str, str]]:
    """The chat messages asking whether `row` is `item`'s problem."""
    user = JUDGE_USER_TEMPLATE.format(item=_cut(item_text(item)), row=_cut(row_text(row)))
    return [{"role": "system", "content": JUDGE_SYSTEM_PROMPT}, {"role": "user", "content": user}]


def item_text(item: BenchmarkItem) -> str:
    """The item's statement and solution (once, when the solution already holds the prompt)."""
    if item.prompt.strip() and item.prompt.strip() not in item.solution:
        return f"{item.prompt.strip()}\n\nReference solution ({item.language}):\n{item.solution}"
    return item.solution


def row_text(row: RowText) -> str:
    """The row's non-blank fields, each under its name."""
    parts = [f"{name}:\n{text.strip()}" for name, text in row.fields.items() if text.strip()]
    return "\n\n".join(parts)


def parse_answer(text: str | None) -> bool | None:
    """True for yes/true, False for no/false (first word, case and punctuation ignored), None
    for anything else."""
    words = re.findall(r"[a-z]+", (text or "").lower())
    if words and words[0] in _YES:
        return True
    if words and words[0] in _NO:
        return False
    return None


def judge_estimate(
    n_candidates: int, llm_config: LLMConfig, *, mean_pair_chars: int = MEAN_PAIR_CHARS
) -> dict[str, Any]:
    """What judging `n_candidates` pairs would cost, in the dry run's terms: calls, input tokens
    (the prompt template counted with the model's tokenizer when available, each pair's text at
    `mean_pair_chars` characters), expected and max output tokens, expected and max USD (None
    when the recipe gives no price)."""
    from pipeline.generation.dry_run import _cost, token_counter

    count, method = token_counter(llm_config)
    empty = RowText("", {})
    template = sum(count(m["content"]) for m in judge_messages(empty, _EMPTY_ITEM))
    per_call = template + -(-mean_pair_chars // CHARS_PER_TOKEN)
    config = dataclasses.replace(
        llm_config,
        generation_kwargs={**llm_config.generation_kwargs, "max_new_tokens": JUDGE_MAX_NEW_TOKENS},
    )
    method += f"; pair text {mean_pair_chars} characters at {CHARS_PER_TOKEN} per token"
    return _cost(
        config,
        n_candidates,
        n_candidates * per_call,
        n_candidates * EXPECTED_ANSWER_TOKENS,
        method,
    )


_EMPTY_ITEM = BenchmarkItem("", "", "", "", "")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def _problem(row: RowText, item: BenchmarkItem, answer: str | None, reason: str) -> dict:
    return {
        "row_id": row.id, "benchmark": item.benchmark, "item": item.item,
        "answer": None if answer is None else answer[:200], "reason": reason,
    }  # fmt: skip


def _client(config: LLMConfig):
    """An `openai.AsyncOpenAI` for the endpoint, keyed as `backends.build_llm` keys its LLMs."""
    if config.provider not in OPENAI_COMPATIBLE:
        raise UserError(
            f"the decontamination judge calls the discriminator over HTTP, so it needs provider "
            f"openai or hf-inference-providers, not {config.provider!r}; serve a local model with "
            "vLLM or `transformers serve` and pass its --base-url"
        )
    import openai

    from pipeline.generation.backends import HF_ROUTER_URL, LOCAL_SERVER_KEY
    from pipeline.generation.llm_access import NO_ENDPOINT_MESSAGE, resolve_api_key

    base_url = config.base_url or (HF_ROUTER_URL if config.provider != "openai" else None)
    key = resolve_api_key(config) or (LOCAL_SERVER_KEY if config.base_url else None)
    if not key:
        raise UserError(
            NO_ENDPOINT_MESSAGE.format(
                role="decontamination judge", provider=config.provider, model=config.model
            )
        )
    return openai.AsyncOpenAI(
        base_url=base_url, api_key=key, max_retries=config.max_retries, timeout=config.timeout
    )


async def _ask_all(client, config: LLMConfig, pairs, usage: dict) -> list:
    """One answer per pair: (verdict, text), or None when the request failed or was not sent."""
    from tqdm.auto import tqdm

    from pipeline.generation.llm_calls import describe_error, is_refusal

    slots = asyncio.Semaphore(config.concurrency)
    refused: list[str] = []
    extra = config.generation_kwargs.get("extra_body")
    bar = tqdm(total=len(pairs), unit="pair", desc="decontamination judge")

    async def ask(row: RowText, item: BenchmarkItem):
        async with slots:
            if refused:
                return None
            try:
                completion = await client.chat.completions.create(
                    model=config.model, messages=judge_messages(row, item),
                    max_tokens=JUDGE_MAX_NEW_TOKENS, temperature=0.0,
                    **({"extra_body": extra} if extra else {}),
                )  # fmt: skip
            except Exception as exc:
                if not _is_openai_error(exc):
                    raise
                if is_refusal(exc):
                    refused.append(describe_error(exc, config))
                else:
                    usage["failed"] += 1
                    usage["problems"].append(_problem(row, item, None, describe_error(exc, config)))
                return None
            finally:
                bar.update(1)
            usage["calls"] += 1
            if completion.usage is not None:
                usage["prompt_tokens"] += completion.usage.prompt_tokens or 0
                usage["completion_tokens"] += completion.usage.completion_tokens or 0
            text = completion.choices[0].message.content if completion.choices else None
            return parse_answer(text), text

    try:
        answers = await asyncio.gather(*(ask(row, item) for row, item, _ in pairs))
    finally:
        bar.close()
        await client.close()
    if refused:
        raise UserError(
            f"the decontamination judge's endpoint ({config.provider} model {config.model}) "
            f"refused the request: {refused[0]}; check the discriminator's base_url, key and model"
        )
    return answers


def _is_openai_error(exc: BaseException) -> bool:
    import openai

    return isinstance(exc, openai.OpenAIError)
