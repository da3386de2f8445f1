"""`wavecoder generate` with `execution: {enabled: true}` end to end (issue 13): the real CLI as a
subprocess against the scripted endpoint (`execution_teacher`), a corpus folder of Python,
JavaScript, Go, PHP and Ruby functions, all four tasks, the real sandbox. The `execution` column,
the `verified` config, summary.json's execution block and the card's pass-rate tables are
checked against what each (task, scenario) must give. The dry run's estimate, for the rows this
run selected, bills one tester call per case but summarization (in-process: `wavecoder generate
--dry-run` repeats the whole corpus-to-selection pipeline, about 35 s on two cores)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from execution_snippets import BY_ID
from execution_teacher import WRONG, execution_teacher, expected_status
from scripted_server import ScriptedServer

from evaluation.languages import LANGUAGES, ToolchainMissing
from evaluation.sandbox import find_bwrap
from evaluation.toolchains import REQUIRE_ENV, toolchains_required

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
# The corpus: one file per snippet; two snippets get wrong answers whatever their task.
SNIPPETS = ("py_digit_sum", "py_count_vowels", "py_gcd", "py_mean", "js_repeat_join",
            "go_is_prime", "php_double_all", "rb_count_char")  # fmt: skip
SCENARIOS = {"py_count_vowels": WRONG, "php_double_all": WRONG}
FILES = {"python": ("", ".py"), "javascript": ("", ".js"), "go": ("package corpus\n\n", ".go"),
         "php": ("<?php\n\n", ".php"), "ruby": ("", ".rb")}  # fmt: skip
TASKS = ("generation", "repair", "summarization", "translation")
STATUSES = ("passed", "failed", "error", "timeout", "skipped", "not_applicable")


def _skip_or_fail(reason: str):
    if toolchains_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 or CI=true)", pytrace=False)
    pytest.skip(reason)


def write_recipe(tmp: Path) -> Path:
    corpus = tmp / "corpus"
    corpus.mkdir(exist_ok=True)
    for snippet_id in SNIPPETS:
        fixture = BY_ID[snippet_id]
        head, extension = FILES[fixture.language]
        (corpus / f"{snippet_id}{extension}").write_text(head + fixture.code)
    llm = {"concurrency": 4, "max_retries": 1, "timeout": 20}
    recipe = {
        "name": "execution-test",
        "seed": 3,
        "corpus": {"source": str(corpus), "languages": sorted(FILES)},
        "embeddings": {"model": "offline:all-MiniLM-L6-v2", "cache_dir": str(tmp / "embeddings")},
        "selection": {"k": len(SNIPPETS)},
        "decontamination": {"enabled": False},
        "dedup": {"enabled": False},
        "generation": {
            "generator": {**llm, "model": "gen-model"},
            "discriminator": {**llm, "model": "judge-model"},
            "task_mix": dict.fromkeys(TASKS, 25),
            "wave_size": 4,
        },
        "execution": {"enabled": True, "timeout_s": 5, "workers": 2},
    }
    path = tmp / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The generate run's output folder and recipe."""
    if find_bwrap() is None:
        _skip_or_fail("bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)")
    for language in ("python", "js", "go", "php", "ruby"):
        try:
            LANGUAGES[language].toolchain()
        except ToolchainMissing as exc:
            _skip_or_fail(f"{LANGUAGES[language].display}: {exc}")
    tmp = tmp_path_factory.mktemp("execution-cli")
    out, recipe = tmp / "codeocean", write_recipe(tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(HF_HUB_OFFLINE="1", WAVECODER_CACHE=str(tmp / "cache"))
    with ScriptedServer(execution_teacher(SCENARIOS)) as server:
        cmd = [sys.executable, "-m", "wavecoder", "generate", "--recipe", str(recipe),
               "--output", str(out), "--base-url", server.base_url]  # fmt: skip
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, recipe


def rows(out: Path, config: str) -> list[dict]:
    import pyarrow.parquet as pq

    return [
        r for f in sorted((out / config).glob("*.parquet")) for r in pq.read_table(f).to_pylist()
    ]


def snippet_id(row: dict) -> str:
    return Path(row["source"]["path"]).stem


def expectations(out: Path) -> dict[str, tuple[str, str]]:
    """snippet id -> (task, the execution status it must get), the tasks as assigned."""
    every = rows(out, "data") + rows(out, "rejected") + rows(out, "failed")
    assert sorted(snippet_id(r) for r in every) == sorted(SNIPPETS)
    found = {}
    for row in every:
        name = snippet_id(row)
        status = expected_status(row["task"], SCENARIOS.get(name, "good"), BY_ID[name])
        found[name] = (row["task"], status)
    return found


def test_every_task_ran_and_each_row_has_its_execution_status(run):
    out, _ = run
    expected = expectations(out)
    assert sorted(task for task, _ in expected.values()) == sorted(TASKS * 2)
    accepted = {snippet_id(r): r for r in rows(out, "data")}
    rejected = {snippet_id(r): r for r in rows(out, "rejected")}
    assert rows(out, "failed") == []
    for name, (task, status) in expected.items():
        if status in ("failed", "error", "timeout"):
            row = rejected[name]
            assert (row["stage"], [r["check"] for r in row["reasons"]]) == (
                "execution",
                [f"execution_{status}"],
            )
        else:
            row = accepted[name]
        assert row["task"] == task
        assert row["execution"]["status"] == status, (name, row["execution"]["reason"])
        assert row["execution"]["language"] == BY_ID[name].language
        if task != "summarization":
            assert row["usage"]["tester"]["completion_tokens"] > 0
    # The two wrong answers fail whatever their task, unless it was a summarization.
    assert {n for n, (_, s) in expected.items() if s == "failed"} == {
        n for n in SCENARIOS if expected[n][0] != "summarization"
    }


def test_the_verified_config_holds_the_accepted_rows_that_passed(run):
    from datasets import load_dataset

    out, _ = run
    expected = expectations(out)
    verified = load_dataset(str(out), "verified", split="train")
    passed = {n for n, (_, status) in expected.items() if status == "passed"}
    assert sorted(snippet_id(r) for r in verified) == sorted(passed)
    assert {r["id"] for r in verified} == {
        r["id"] for r in rows(out, "data") if r["execution"]["status"] == "passed"
    }
    assert all(r["execution"]["status"] == "passed" for r in verified)


def _counts(groups: dict[str, list[str]]) -> dict[str, dict]:
    figures = {}
    for name, statuses in groups.items():
        checked = len(statuses) - statuses.count("skipped")
        held = statuses.count("passed") + statuses.count("not_applicable")
        figures[name] = {
            "statuses": {s: statuses.count(s) for s in STATUSES},
            "executed": len(statuses),
            "checked": checked,
            "held": held,
            "pass_rate": round(held / checked, 4) if checked else None,
        }
    return figures


def expected_figures(out: Path) -> dict:
    expected = expectations(out)
    per_task: dict[str, list[str]] = {}
    per_language: dict[str, list[str]] = {}
    for name, (task, status) in expected.items():
        per_task.setdefault(task, []).append(status)
        per_language.setdefault(BY_ID[name].language, []).append(status)
    every = [status for _, status in expected.values()]
    return {
        "all": _counts({"all": every})["all"],
        "per_task": _counts(dict(sorted(per_task.items()))),
        "per_language": _counts(dict(sorted(per_language.items()))),
        "verified": every.count("passed"),
    }


def test_summary_json_has_the_execution_figures(run):
    out, _ = run
    execution = json.loads((out / "summary.json").read_text())["execution"]
    figures = expected_figures(out)
    assert execution == {
        "mode": "filter", "timeout_s": 5, "max_tests": 5, "workers": 2,
        "tester_model": "gen-model", **figures["all"], "not_run": 0,
        "verified": figures["verified"], "per_task": figures["per_task"],
        "per_language": figures["per_language"], "skipped_reasons": execution["skipped_reasons"],
    }  # fmt: skip
    skipped = figures["all"]["statuses"]["skipped"]
    assert sum(execution["skipped_reasons"].values()) == skipped


def _table_line(name: str, entry: dict) -> str:
    counts = " | ".join(str(entry["statuses"][s]) for s in STATUSES)
    rate = entry["pass_rate"]
    shown = "—" if rate is None else f"{100 * rate:.1f}% ({entry['held']}/{entry['checked']})"
    return f"| {name} | {counts} | {shown} |"


def test_the_card_shows_the_pass_rates_per_task_and_language(run):
    out, _ = run
    card = (out / "README.md").read_text()
    figures = expected_figures(out)
    section = card.split("## Execution checks", 1)[1]
    assert f"**{figures['verified']} rows are in the `verified` config**" in section
    header = "| task | " + " | ".join(STATUSES) + " | pass rate |"
    task_table = section.split(header, 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert task_table == [
        *(_table_line(task, entry) for task, entry in figures["per_task"].items()),
        _table_line("**all**", figures["all"]),
    ]
    header = "| language | " + " | ".join(STATUSES) + " | pass rate |"
    language_table = section.split(header, 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert language_table == [
        _table_line(language, entry) for language, entry in figures["per_language"].items()
    ]
    assert "config_name: verified" in card


def test_the_dry_run_bills_one_tester_call_per_case_but_summarization(run, tmp_path):
    from pipeline.generation.backends import build_llm
    from pipeline.generation.dry_run import format_estimate, write_dry_run
    from pipeline.generation.loop import build_tasks
    from pipeline.generation.main_process import generation_config
    from pipeline.recipe import load_recipe

    out, recipe_path = run
    recipe = load_recipe(str(recipe_path))
    config = generation_config(recipe)
    import pyarrow.parquet as pq

    tasks = {r["id"]: r["task"] for r in rows(out, "data") + rows(out, "rejected")}
    selection = pq.read_table(out / "selection.parquet").to_pylist()
    selected = [{**r, "task": tasks[r["id"]]} for r in selection]
    llms = [
        build_llm(config.generator, for_dry_run=True),
        build_llm(config.discriminator, for_dry_run=True),
    ]
    generator, judge = build_tasks(config, *llms)
    estimate = write_dry_run(
        selected, config, tmp_path, seed=recipe.seed, generator=generator, judge=judge,
        execution=recipe.execution,
    )  # fmt: skip
    tested = sum(task != "summarization" for task, _ in expectations(out).values())
    assert tested == 6
    printed = format_estimate(estimate, tmp_path)
    [line] = [line for line in printed.splitlines() if line.startswith("tester ")]
    assert line.split()[:3] == ["tester", "gen-model", str(tested)]
    assert f"execution (filter): {tested} tester calls" in printed
    assert estimate["execution"] == {"mode": "filter", "cases": 8, "tester_calls": tested}
    # Without execution, no tester is billed.
    plain = write_dry_run(selected, config, tmp_path / "plain", seed=recipe.seed,
                          generator=generator, judge=judge)  # fmt: skip
    assert "tester" not in plain["models"] and "execution" not in plain
