"""The generation stage inside a real distilabel Pipeline, writing the Hub-ready folder."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from generation_fixtures import SNIPPETS, teacher
from scripted_server import ScriptedServer

from pipeline.generation.backends import build_llm
from pipeline.generation.loop import build_tasks, run_generation
from pipeline.generation.main_process import (
    add_generation_steps,
    finish_generation,
    prepare_generation,
)
from pipeline.recipe import load_recipe
from pipeline.steps.assign_task import assign_tasks
from pipeline.tasks import default_mix

pytestmark = pytest.mark.slow


def write_recipe(tmp_path: Path, base_url: str, fmt: str = "text") -> Path:
    llm = {
        "base_url": base_url,
        "output_format": fmt,
        "max_retries": 1,
        "timeout": 2,
        "concurrency": 4,
    }
    recipe = {
        "name": "codeocean-test",
        "seed": 3,
        "selection": {"k": len(SNIPPETS)},
        "generation": {
            "generator": {
                **llm,
                "model": "gen-model",
                "price_per_million_tokens": {"input": 1.0, "output": 2.0},
            },
            "discriminator": {
                **llm,
                "model": "judge-model",
                "price_per_million_tokens": {"input": 10.0, "output": 20.0},
            },
            "wave_size": 4,
        },
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def run_stage(recipe_path: Path, out: Path, cache: Path, dry_run=False) -> int:
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts

    recipe = load_recipe(str(recipe_path))
    dry = prepare_generation(recipe, out, dry_run=dry_run)
    with Pipeline(name="generation-test", cache_dir=cache) as pipeline:
        load = LoadDataFromDicts(data=SNIPPETS, batch_size=8)
        add_generation_steps(pipeline, load, recipe, out, dry_run=dry)
    distiset = pipeline.run(use_cache=False)
    return finish_generation(distiset, recipe, out, dry_run=dry, selected=len(SNIPPETS))


def run_crashing_stage(recipe_path: Path, out: Path, monkeypatch) -> int:
    def crash(*args, **kwargs):
        raise RuntimeError("a bug in the generation loop")

    # The step runs in a forked process, which inherits the patch.
    monkeypatch.setattr("pipeline.steps.generate_and_judge.run_generation", crash)
    try:
        return run_stage(recipe_path, out, out / ".wavecoder" / "distilabel")
    finally:
        monkeypatch.undo()


def dataset_files(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".wavecoder" not in p.parts
    }


def test_pipeline_writes_every_config_and_the_summary_and_a_crash_keeps_them(
    tmp_path, capsys, monkeypatch
):
    from datasets import load_dataset

    script = teacher(
        {"py_flatten": "three_sentences", "java_repeat": "http500_always"},
        {"go_max": "reject_rule2"},
    )
    out = tmp_path / "codeocean"
    with ScriptedServer(script) as server:
        recipe = write_recipe(tmp_path, server.base_url)
        assert run_stage(recipe, out, tmp_path / "cache") == 0
        calls = server.calls()
        written = dataset_files(out)
        printed = capsys.readouterr().out
        # The same folder again, with a generation step that crashes: nothing is overwritten,
        # the exit status says so, and the message points at distilabel's log.
        assert run_crashing_stage(recipe, out, monkeypatch) == 1
    message = capsys.readouterr().err
    assert dataset_files(out) == written
    assert message.startswith(
        "wavecoder generate: error: the generation step failed, so the dataset was not written to "
    )
    log = Path(message.split("Its traceback is in ", 1)[1].split(". The LLM answers", 1)[0])
    assert log.name == "pipeline.log" and "a bug in the generation loop" in log.read_text()

    # Generator and discriminator overlap: judgements start before the last case is written.
    first_judgement = min(c["time"] for c in calls if c["model"] == "judge-model")
    assert first_judgement < max(c["time"] for c in calls if c["model"] == "gen-model")

    default = load_dataset(str(out), split="train", cache_dir=str(out.parent / "hf-cache"))
    rejected = load_dataset(
        str(out), "rejected", split="train", cache_dir=str(out.parent / "hf-cache")
    )
    failed = load_dataset(str(out), "failed", split="train", cache_dir=str(out.parent / "hf-cache"))
    assert (default.num_rows, rejected.num_rows, failed.num_rows) == (13, 2, 1)
    assert set(default.column_names) == {
        "id", "task", "language", "target_language", "instruction", "input", "output", "messages",
        "prompt", "completion", "source_code", "source", "generator_model", "discriminator_model",
        "judgement", "execution", "usage",
    }  # fmt: skip
    # TRL's prompt-completion pair is the chat split in two; rejected rows are not training data.
    for row in default:
        assert row["messages"] == row["prompt"] + row["completion"]
        assert row["completion"] == [{"role": "assistant", "content": row["output"]}]
    assert {"prompt", "completion"}.isdisjoint(rejected.column_names + failed.column_names)
    assert {"messages", "status", "reasons"} <= set(rejected.column_names)
    # The dataset card: Hub metadata naming every written config, `default` the default one,
    # and the run's figures.
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(out / "README.md")
    configs = {c["config_name"]: c for c in card.data.to_dict()["configs"]}
    assert configs["default"]["default"] is True
    assert set(configs) == {"default", *written_configs(out)}
    assert "13 accepted, 2 rejected" in card.text and "1 failed" in card.text
    # Tasks follow the mix (9/3/2/2 of 16) as assigned for seed 3; each task config holds its rows.
    assigned = dict(
        zip([s["id"] for s in SNIPPETS], assign_tasks(16, default_mix(), 3), strict=True)
    )
    accepted = [s["id"] for s in SNIPPETS if s["id"] not in ("go_max", "py_flatten", "java_repeat")]
    assert Counter(assigned.values()) == {
        "generation": 9,
        "repair": 3,
        "summarization": 2,
        "translation": 2,
    }
    for task in ("generation", "summarization", "repair", "translation"):
        rows = load_dataset(str(out), task, split="train", cache_dir=str(out.parent / "hf-cache"))
        assert rows["id"] == [i for i in accepted if assigned[i] == task]
        assert set(rows["task"]) <= {task}
    assert sorted(
        zip(rejected["id"], [r[0]["check"] for r in rejected["reasons"]], strict=True)
    ) == [
        ("go_max", "names_language"),
        ("py_flatten", "instruction_sentences"),
    ]
    assert failed["id"] == ["java_repeat"] and failed["stage"] == ["generation"]
    assert default[0]["source"]["repo"] == "wavecoder/tests"
    assert default["id"] == [
        s["id"] for s in SNIPPETS if s["id"] not in ("go_max", "py_flatten", "java_repeat")
    ]

    summary = json.loads((out / "summary.json").read_text())
    assert (summary["accepted"], summary["rejected"], summary["failed"]) == (13, 2, 1)
    assert summary["acceptance_rate"] == round(13 / 15, 4)
    assert summary["llm_calls"] == {"generator": 15, "discriminator": 14}
    assert summary["llm_calls_per_accepted"] == round(29 / 13, 3)
    assert summary["rejections_by_check"]["names_language"] == {
        "stage": "judgement",
        "total": 1,
        "tasks": {assigned["go_max"]: 1},
    }
    assert summary["this_run"]["generator"]["sent"] == 15
    prompt_tokens = sum(
        len(c["messages"][0]["content"]) // 4
        for c in calls
        if c["model"] == "gen-model" and c["status"] == 200
    )
    assert summary["tokens"]["generator"]["prompt_tokens"] == prompt_tokens
    assert summary["cost_usd"]["generator"] == round(
        (prompt_tokens * 1.0 + summary["tokens"]["generator"]["completion_tokens"] * 2.0) / 1e6, 4
    )

    card = (out / "README.md").read_text()
    for config in (
        "default",
        "generation",
        "summarization",
        "repair",
        "translation",
        "rejected",
        "failed",
    ):
        assert f"- config_name: {config}\n" in card
    examples = [
        json.loads(line) for line in (out / "example_database.jsonl").read_text().splitlines()
    ]
    assert len(examples) == 16 + 14  # seeds + every judged case
    assert (
        "16 rows: 13 accepted, 2 rejected, 1 failed; acceptance rate 86.7% of answered rows"
        in printed
    )
    assert "run the same command again to retry exactly those" in printed


def test_dry_run_calls_nothing_and_writes_the_exact_first_prompts(tmp_path, capsys):
    with ScriptedServer(teacher()) as server:
        recipe = write_recipe(tmp_path, server.base_url, fmt="json")
        dry = tmp_path / "dry"
        assert run_stage(recipe, dry, tmp_path / "cache", dry_run=True) == 0
        assert server.calls() == []
        # The real run's prompts, from the loop itself (the pipeline around it is tested above).
        config = load_recipe(str(recipe)).generation
        rows = [{**s, "task": t} for s, t in zip(SNIPPETS, assign_tasks(16, default_mix(), 3), strict=True)]  # fmt: skip
        llms = [build_llm(config.generator), build_llm(config.discriminator)]
        for llm in llms:
            llm.load()
        generator, judge = build_tasks(config, *llms)
        state = tmp_path / "real" / ".wavecoder"
        state.mkdir(parents=True)
        run_generation(rows, config, generator=generator, judge=judge, state_dir=state, seed=3)
        sent = {(c["model"], c["messages"][0]["content"]) for c in server.calls()}

    prompts = [
        json.loads(line)
        for line in (dry / "dry_run" / "generator_prompts.jsonl").read_text().splitlines()
    ]
    assert len(prompts) == 8  # two waves of 4 only use seed cases, so they are exact
    for prompt in prompts:
        assert ("gen-model", prompt["messages"][0]["content"]) in sent
        assert (
            prompt["settings"]["extra_body"]["response_format"]["json_schema"]["name"]
            == "instruction_case"
        )
    estimate = json.loads((dry / "dry_run" / "estimate.json").read_text())
    assert estimate["tasks"] == {"generation": 9, "repair": 3, "summarization": 2, "translation": 2}
    generator = estimate["models"]["generator"]
    assert (generator["calls"], generator["max_output_tokens"]) == (16, 16 * 512)
    assert generator["max_usd"] == round(
        (generator["input_tokens"] * 1.0 + 16 * 512 * 2.0) / 1e6, 4
    )
    assert generator["token_count"] == "approximation: 4 characters per token"
    printed = capsys.readouterr().out
    assert "Dry run: no LLM was called. 16 selected snippets" in printed
    assert not (dry / "data").exists()


def written_configs(out) -> set[str]:
    """Config names of the parquet folders in a dataset folder (`data` is `default`)."""
    return {p.parent.name for p in out.glob("*/train-*.parquet")} - {"data"}
