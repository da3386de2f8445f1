"""`--dry-run`: the prompts a run would send, and what it would cost, without calling an LLM.

The generator prompts of the first two waves are exact (they only use seed cases); later prompts
and every judge prompt depend on earlier answers, so they are estimated from the same templates
with seed cases standing in. Output tokens are given two ways: an upper bound (every call uses
max_new_tokens) and an expected figure (the size of the seed cases' answers).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.execution.config import ExecutionConfig
from pipeline.execution.programs import tested_languages
from pipeline.execution.tester import tester_calls, tester_prompt
from pipeline.generation.config import (
    GenerationConfig,
    LLMConfig,
    cost_usd,
    format_usd,
    tester_config,
)
from pipeline.generation.example_database import LAG_WAVES, ExampleDatabase
from pipeline.generation.execution_stage import execution_case
from pipeline.generation.generate_instruction import CASE_SCHEMA, CASE_SCHEMA_NAME
from pipeline.generation.llm_calls import request_settings
from pipeline.generation.prompts import render_case
from pipeline.layout import ESTIMATE_FILE, JUDGE_EXAMPLE_FILE, PROMPTS_FILE
from pipeline.tasks import all_tasks

# One judged rule: a one-sentence reason and the answer.
TOKENS_PER_JUDGED_RULE = 30
# One test the tester writes, in one language (an assert line with its inputs and output).
TOKENS_PER_TEST = 40


def token_counter(config: LLMConfig) -> tuple[Callable[[str], int], str]:
    """A token counter for the model and how it counts, preferring its own tokenizer offline."""
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(config.model, local_files_only=True)
        return (lambda text: len(tokenizer.encode(text))), f"{config.model} tokenizer"
    except Exception:
        pass
    try:
        import tiktoken

        encoding = tiktoken.encoding_for_model(config.model)
        return (lambda text: len(encoding.encode(text))), f"tiktoken {encoding.name}"
    except Exception:
        pass
    return (lambda text: (len(text) + 3) // 4), "approximation: 4 characters per token"


def write_dry_run(
    rows: list[dict[str, Any]],
    config: GenerationConfig,
    out: Path,
    *,
    seed: int,
    generator,
    judge,
    execution: ExecutionConfig | None = None,
) -> dict[str, Any]:
    """Write the prompts and the estimate (`ESTIMATE_FILE`) into `out`; returns the estimate.

    With `execution` enabled the tester is billed too: one call per case but summarizations and
    cases in a language the sandbox cannot run (an upper bound: cases stopped by the post-filter
    get none), its prompt
    estimated with the seed case standing in, as the judge's is."""
    out.mkdir(parents=True, exist_ok=True)
    tasks = all_tasks()
    examples = ExampleDatabase(tasks)  # in memory: seeds only, nothing persisted
    count_gen, gen_method = token_counter(config.generator)
    count_judge, judge_method = token_counter(config.discriminator)
    k = config.examples_per_prompt
    exact_rows = LAG_WAVES * config.wave_size
    gen_in = judge_in = gen_expected = 0
    executes = execution is not None and execution.enabled
    tester = tester_config(config)
    count_test, test_method = token_counter(tester) if executes else (None, "")
    test_calls = test_in = test_expected = 0
    settings = request_settings(config.generator, CASE_SCHEMA, CASE_SCHEMA_NAME)
    with open(out / PROMPTS_FILE, "w", encoding="utf-8") as f:
        for index, row in enumerate(rows):
            wave = index // config.wave_size
            good, bad = examples.choose(row["id"], row["task"], wave, k, seed)
            messages = generator.format_input({**row, "good_examples": good, "bad_examples": bad})
            gen_in += sum(count_gen(m["content"]) for m in messages)
            stand_in = next(c for c in tasks[row["task"]].seed_cases if c.good)
            gen_expected += count_gen(render_case(stand_in, config.generator.output_format))
            judge_messages = judge.format_input({**row, **_case(stand_in)})
            judge_in += sum(count_judge(m["content"]) for m in judge_messages)
            if executes:
                # the seed case stands in; a translation's target is taken to be the row's
                # language (the estimate needs a name)
                target = row.get("language") if row["task"] == "translation" else None
                subject = execution_case(row, _case(stand_in), target)
                prompt = tester_prompt(subject, max_tests=execution.max_tests)
                if prompt is not None:
                    test_calls += 1
                    test_in += count_test(prompt)
                    test_expected += (
                        tester_calls(subject)
                        * execution.max_tests
                        * (TOKENS_PER_TEST * len(tested_languages(subject)))
                    )
            if index < exact_rows:
                record = {
                    "id": row["id"],
                    "task": row["task"],
                    "wave": wave,
                    "model": config.generator.model,
                    "settings": settings,
                    "messages": messages,
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
            if index == 0:
                (out / JUDGE_EXAMPLE_FILE).write_text(
                    json.dumps({"note": "judge prompt with a seed case standing in for the "
                                "generator's answer", "messages": judge_messages}, indent=2, ensure_ascii=False),
                    encoding="utf-8",
                )  # fmt: skip
    n = len(rows)
    judge_expected = sum(len(tasks[row["task"]].rules) for row in rows) * TOKENS_PER_JUDGED_RULE
    estimate = {
        "rows": n,
        "tasks": {name: sum(r["task"] == name for r in rows) for name in tasks},
        "exact_prompts": min(n, exact_rows),
        "models": {
            "generator": _cost(config.generator, n, gen_in, gen_expected, gen_method),
            "discriminator": _cost(config.discriminator, n, judge_in, judge_expected, judge_method),
        },
    }
    if executes:
        estimate["models"]["tester"] = _cost(
            tester, test_calls, test_in, test_expected, test_method
        )
        estimate["execution"] = {"mode": execution.mode, "cases": n, "tester_calls": test_calls}
    for key in ("expected_usd", "max_usd"):
        values = [m[key] for m in estimate["models"].values()]
        estimate[f"total_{key}"] = None if None in values else round(sum(values), 4)
    (out / ESTIMATE_FILE).write_text(json.dumps(estimate, indent=2), encoding="utf-8")
    return estimate


def _case(seed_case) -> dict[str, str]:
    return {
        key: getattr(seed_case, key)
        for key in ("task_name", "instruction", "information", "solution")
    }


def _cost(config: LLMConfig, calls: int, tokens_in: int, expected_out: int, method: str) -> dict:
    price = config.price_per_million_tokens
    max_out = calls * config.max_new_tokens
    return {
        "model": config.model,
        "provider": config.provider,
        "calls": calls,
        "input_tokens": tokens_in,
        "expected_output_tokens": expected_out,
        "max_output_tokens": max_out,
        "expected_usd": cost_usd(price, tokens_in, expected_out),
        "max_usd": cost_usd(price, tokens_in, max_out),
        "token_count": method,
    }


def format_estimate(estimate: dict[str, Any], folder: Path) -> str:
    lines = [
        f"Dry run: no LLM was called. {estimate['rows']} selected snippets "
        f"({', '.join(f'{t} {c}' for t, c in estimate['tasks'].items())}).",
        f"Exact generator prompts of the first {estimate['exact_prompts']} rows: {folder / PROMPTS_FILE}",
        f"{'role':<14} {'model':<28} {'calls':>7} {'input tok':>11} {'output tok (expected / max)':>28} "
        f"{'USD (expected / max)':>26}",
    ]
    for role, m in estimate["models"].items():
        lines.append(
            f"{role:<14} {m['model'][:28]:<28} {m['calls']:>7} {m['input_tokens']:>11} "
            f"{m['expected_output_tokens']:>13} / {m['max_output_tokens']:<12} "
            f"{format_usd(m['expected_usd']):>13} / {format_usd(m['max_usd'])}"
        )
    lines.append(
        f"total: expected {format_usd(estimate['total_expected_usd'])}, at most "
        f"{format_usd(estimate['total_max_usd'])} (the judge is called only for cases that pass "
        "the post-filter; prices per million tokens come from the recipe)"
    )
    if estimate.get("execution"):
        e = estimate["execution"]
        lines.append(
            f"execution ({e['mode']}): {e['tester_calls']} tester calls (one per case, but none "
            "for a summarization, which is only parsed, or a language the sandbox cannot run), "
            "then each case runs in the sandbox"
            + (" and only the cases that pass are judged" if e["mode"] == "filter" else "")
        )
    methods = {m["token_count"] for m in estimate["models"].values()}
    lines.append(f"token counts: {'; '.join(sorted(methods))}")
    return "\n".join(lines)
