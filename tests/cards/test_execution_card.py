"""The dataset card's "Execution checks" section and the `verified` config, from the execution
figures of `tests/pipeline/execution_summary_fixtures.py` (13 rows run, 4 verified)."""

from __future__ import annotations

from huggingface_hub import DatasetCard

from cards.dataset_card import render_dataset_card
from pipeline.execution.config import ExecutionConfig
from pipeline.execution.summary import execution_summary
from tests.pipeline.execution_summary_fixtures import (
    NO_SANDBOX,
    NO_TOOLCHAIN,
    execution_records,
)

HEADER = "| passed | failed | error | timeout | skipped | not_applicable | pass rate |"
CONFIGS = {"default": 7, "generation": 2, "repair": 2, "translation": 1, "summarization": 1,
           "verified": 4, "rejected": 7, "failed": 1}  # fmt: skip


def render(summary: dict) -> str:
    return render_dataset_card(
        title="CodeOcean executed", configs=CONFIGS, summary=summary, repo_id="me/codeocean"
    )


def executed() -> dict:
    config = ExecutionConfig(enabled=True, mode="filter", timeout_s=7.5, workers=2, max_tests=4)
    return {"execution": execution_summary(execution_records(), config, "tester-m")}


def test_pass_rates_per_task_and_per_language():
    text = render(executed())
    section = text[text.index("## Execution checks") : text.index("## Columns")]
    assert f"| task {HEADER}\n|---|---|---|---|---|---|---|---|\n" in section
    assert (
        "| generation | 2 | 1 | 1 | 1 | 1 | 0 | 40.0% (2/5) |\n"
        "| repair | 1 | 1 | 0 | 0 | 1 | 0 | 50.0% (1/2) |\n"
        "| summarization | 0 | 1 | 0 | 0 | 0 | 1 | 50.0% (1/2) |\n"
        "| translation | 2 | 0 | 0 | 0 | 0 | 0 | 100.0% (2/2) |\n"
        "| **all** | 5 | 3 | 1 | 1 | 2 | 1 | 54.5% (6/11) |\n"
    ) in section
    assert f"| language {HEADER}\n" in section
    assert (
        "| go | 1 | 1 | 0 | 0 | 0 | 0 | 50.0% (1/2) |\n"
        "| java | 0 | 1 | 0 | 0 | 0 | 0 | 0.0% (0/1) |\n"
        "| javascript | 2 | 0 | 0 | 0 | 0 | 0 | 100.0% (2/2) |\n"
        "| python | 2 | 1 | 1 | 1 | 0 | 1 | 50.0% (3/6) |\n"
        "| ruby | 0 | 0 | 0 | 0 | 1 | 0 | — |\n"
        "| typescript | 0 | 0 | 0 | 0 | 1 | 0 | — |\n"
    ) in section


def test_settings_verified_rows_and_what_is_verified():
    section = render(executed()).split("## Execution checks")[1].split("## Columns")[0]
    assert "the **tester** (`tester-m`, at most 4 tests per case and language)" in section
    assert "each test\nrun had 7.5 seconds" in section
    assert "Mode `filter`: a case that failed, errored or timed out was rejected" in section
    assert "13 rows were run; 2 have no result" in section
    assert "**4 rows are in the `verified` config**" in section
    assert f"Skipped, by reason: {NO_TOOLCHAIN} (1); {NO_SANDBOX} (1)." in section
    for task in ("generation", "repair", "translation", "summarization"):
        assert f"- **{task}** `" in section
    assert "fail-to-pass" in section and "Code can lie to its tests" in section
    assert "not behaviour-tested, so no summarization row is in `verified`" in section
    assert "Execution checks were not run" not in section


def test_verified_config_is_described_and_ordered_before_rejected():
    text = render(executed())
    names = [c["config_name"] for c in DatasetCard(text).data.to_dict()["configs"]]
    assert names == ["default", "generation", "summarization", "repair", "translation",
                     "verified", "rejected", "failed"]  # fmt: skip
    assert "| `verified` | 4 | accepted rows whose execution status is `passed`" in text
    assert 'verified = load_dataset("me/codeocean", "verified", split="train")' in text


def test_without_execution_the_section_says_it_was_not_run():
    text = render({})
    section = text.split("## Execution checks\n")[1].split("## ")[0]
    assert section.strip() == (
        "Execution checks were not run: no row was run against tests, so correctness rests on "
        "the discriminator alone."
    )
