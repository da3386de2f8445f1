"""The run summary's execution figures and the tester's calls, tokens and cost
(pipeline/execution/summary.py, pipeline/generation/summary.py), on the rows of
`execution_summary_fixtures`: every count below is read off its table."""

from __future__ import annotations

import pytest

from pipeline.execution.config import ExecutionConfig
from pipeline.execution.summary import execution_summary
from pipeline.generation import config as generation_config
from pipeline.generation.config import GenerationConfig
from pipeline.generation.summary import format_summary, summarize
from tests.pipeline.execution_summary_fixtures import (
    NO_SANDBOX,
    NO_TOOLCHAIN,
    execution_records,
)

STATUSES = ("passed", "failed", "error", "timeout", "skipped", "not_applicable")
EXECUTION = ExecutionConfig(enabled=True, mode="filter", timeout_s=7.5, workers=3, max_tests=4)
PRICES = {"input": 1.0, "output": 2.0}


def counts(*values: int) -> dict[str, int]:
    return dict(zip(STATUSES, values, strict=True))


def figures(statuses, executed, checked, held, rate):
    return {"statuses": statuses, "executed": executed, "checked": checked, "held": held,
            "pass_rate": rate}  # fmt: skip


def generation(**tester) -> GenerationConfig:
    return GenerationConfig(
        generator={"model": "gen-m", "price_per_million_tokens": PRICES},
        discriminator={"model": "judge-m", "price_per_million_tokens": PRICES},
        tester=tester or None,
    )


def test_counts_and_pass_rates_overall_per_task_and_per_language():
    summary = execution_summary(execution_records(), EXECUTION, "tester-m")
    assert summary == {
        "mode": "filter",
        "timeout_s": 7.5,
        "max_tests": 4,
        "workers": 3,
        "tester_model": "tester-m",
        # 13 rows ran; skipped ones are not checked; passed + not_applicable held: 6 of 11.
        **figures(counts(5, 3, 1, 1, 2, 1), 13, 11, 6, 0.5455),
        "not_run": 2,  # the generation failure and the post-filter rejection; not the snippet
        "verified": 4,  # rows 1, 2, 7, 11: row 10 passed but the judge rejected it
        "per_task": {
            "generation": figures(counts(2, 1, 1, 1, 1, 0), 6, 5, 2, 0.4),
            "repair": figures(counts(1, 1, 0, 0, 1, 0), 3, 2, 1, 0.5),
            "summarization": figures(counts(0, 1, 0, 0, 0, 1), 2, 2, 1, 0.5),
            "translation": figures(counts(2, 0, 0, 0, 0, 0), 2, 2, 2, 1.0),
        },
        "per_language": {
            "go": figures(counts(1, 1, 0, 0, 0, 0), 2, 2, 1, 0.5),
            "java": figures(counts(0, 1, 0, 0, 0, 0), 1, 1, 0, 0.0),
            "javascript": figures(counts(2, 0, 0, 0, 0, 0), 2, 2, 2, 1.0),
            "python": figures(counts(2, 1, 1, 1, 0, 1), 6, 6, 3, 0.5),
            "ruby": figures(counts(0, 0, 0, 0, 1, 0), 1, 0, 0, None),
            "typescript": figures(counts(0, 0, 0, 0, 1, 0), 1, 0, 0, None),
        },
        "skipped_reasons": {NO_TOOLCHAIN: 1, NO_SANDBOX: 1},
    }


def test_no_row_run_gives_no_rate():
    records = [r for r in execution_records() if r["execution"] is None]
    summary = execution_summary(records, EXECUTION, None)
    assert (summary["executed"], summary["checked"], summary["pass_rate"]) == (0, 0, None)
    assert summary["not_run"] == 2 and summary["verified"] == 0
    assert summary["statuses"] == counts(0, 0, 0, 0, 0, 0) and summary["per_task"] == {}


def test_tester_calls_tokens_and_cost_join_the_run_summary():
    summary = summarize(execution_records(), generation())
    # Rows 1-11 had a tester call (10 with tests, row 5 only tokens); summarizations have none.
    assert summary["llm_calls"] == {"generator": 14, "discriminator": 8, "tester": 11}
    assert summary["llm_calls_per_accepted"] == round(33 / 7, 3)
    assert summary["tokens"]["tester"] == {"prompt_tokens": 1080, "completion_tokens": 410}
    assert summary["models"] == {
        "generator": "gen-m",
        "discriminator": "judge-m",
        "tester": "gen-m",
    }
    # The tester runs on the generator's endpoint and prices: 1080 x $1 + 410 x $2 per million.
    assert summary["cost_usd"] == {
        "generator": 0.0,
        "discriminator": 0.0,
        "tester": 0.0019,
        "total": 0.0019,
    }
    assert summary["rejections_by_check"]["execution_failed"]["total"] == 3
    assert summary["rejections_by_check"]["execution_failed"]["stage"] == "execution"


def test_a_tester_of_its_own_has_its_model_and_prices():
    own = summarize(
        execution_records(),
        generation(model="tester-m", price_per_million_tokens={"input": 10, "output": 20}),
    )
    assert own["models"]["tester"] == "tester-m"
    assert own["cost_usd"]["tester"] == 0.019 and own["cost_usd"]["total"] == 0.019
    unpriced = summarize(execution_records(), generation(model="other-m"))
    assert unpriced["cost_usd"]["tester"] is None and unpriced["cost_usd"]["total"] is None


@pytest.mark.parametrize(
    ("tester", "model", "cost"),
    [
        ({}, "gen-m", 0.0019),
        ({"model": "tester-m", "price_per_million_tokens": {"input": 10, "output": 20}},
         "tester-m", 0.019),
        ({"model": "tester-m"}, "tester-m", 0.0019),  # prices default to the generator's
    ],
)  # fmt: skip
def test_without_tester_config_the_tester_falls_back_to_the_recipe_dict(
    monkeypatch, tester, model, cost
):
    monkeypatch.delattr(generation_config, "tester_config", raising=False)
    summary = summarize(execution_records(), generation(**tester))
    assert summary["models"]["tester"] == model and summary["cost_usd"]["tester"] == cost


def test_runs_without_execution_keep_the_two_role_summary():
    records = execution_records()
    for record in records:
        record["execution"] = None
        record["usage"]["tester"] = {"prompt_tokens": 0, "completion_tokens": 0}
    records[0]["usage"].pop("tester")  # a record written before the tester existed
    summary = summarize(records, generation())
    assert set(summary["llm_calls"]) == {"generator", "discriminator"}
    assert set(summary["tokens"]) == set(summary["models"]) == {"generator", "discriminator"}
    assert set(summary["cost_usd"]) == {"generator", "discriminator", "total"}
    lines = format_summary(summary).splitlines()
    assert "LLM calls: generator 14, discriminator 8; per accepted sample 3.14" in lines
    assert not [line for line in lines if line.startswith(("tokens tester", "execution ("))]


def test_format_summary_prints_the_execution_figures():
    records = execution_records()
    this_run = {
        "tester": {"sent": 9, "cached": 2, "failed": 0},
        "execution": {"executed": 10, "cached": 3, "sandbox_seconds": 12.345},
    }
    summary = {
        **summarize(records, generation(model="tester-m"), this_run),
        "execution": execution_summary(records, EXECUTION, "tester-m"),
    }
    lines = format_summary(summary).splitlines()
    assert "LLM calls: generator 14, discriminator 8, tester 11; per accepted sample 4.71" in lines
    assert "tokens tester (tester-m): 1080 prompt, 410 completion, price unknown" in lines
    assert (
        "this run, tester: 9 requests answered by the endpoint, 2 from the response cache, 0 failed"
        in lines
    )
    assert (
        "this run, execution: 10 cases run in the sandbox (12.3 s), 3 from the execution cache"
        in lines
    )
    start = lines.index(
        "execution (filter, tester tester-m): 13 rows run, 2 not run; passed 5, failed 3, "
        "error 1, timeout 1, skipped 2, not_applicable 1"
    )
    assert lines[start + 1 : start + 4] == [
        "  pass rate 54.5% of checked rows (passed or not_applicable / run minus skipped); "
        "per task: generation 40.0% (2/5), repair 50.0% (1/2), summarization 50.0% (1/2), "
        "translation 100.0% (2/2)",
        "  4 rows in the `verified` config (accepted and passed)",
        f"  skipped 2 for 2 reason(s): {NO_TOOLCHAIN} (1); {NO_SANDBOX} (1)",
    ]


def test_a_case_the_sandbox_could_not_check_is_not_run_not_held_against_the_rate():
    records = execution_records()
    before = execution_summary(records, EXECUTION, None)
    unchecked = {**records[0], "status": "failed", "stage": "execution", "execution": {
        **records[0]["execution"], "status": "error",
        "reason": "not checked: solution passes the tests: failed: sandbox error: bwrap: denied"}}  # fmt: skip
    after = execution_summary([unchecked, *records[1:]], EXECUTION, None)
    assert after["not_run"] == before["not_run"] + 1
    assert after["executed"] == before["executed"] - 1
    assert after["statuses"]["error"] == before["statuses"]["error"]
