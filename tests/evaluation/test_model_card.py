"""Model-index entries and the generations dataset folder (what a push would upload)."""

from __future__ import annotations

import json

import yaml

from evaluation import model_card
from evaluation.benchmarks import get_benchmark


def test_humanevalpack_results_per_language_and_average(tmp_path):
    summary = {
        "benchmark": "humanevalfix",
        "pass@1": 0.5,
        "languages": {"python": {"pass@1": 0.6}, "js": {"pass@1": 0.4}},
    }
    results = model_card.eval_results(
        get_benchmark("humanevalfix"), summary, source_url="https://huggingface.co/datasets/o/g"
    )
    assert [(r.dataset_name, r.dataset_config, r.metric_value) for r in results] == [
        ("HumanEvalFix (Python)", "python", 60.0),
        ("HumanEvalFix (JavaScript)", "js", 40.0),
        ("HumanEvalFix (average of 2 languages)", None, 50.0),
    ]
    assert all(
        r.dataset_type == "bigcode/humanevalpack" and r.task_type == "text-generation"
        for r in results
    )
    assert results[0].source_url == "https://huggingface.co/datasets/o/g"

    card = tmp_path / "README.md"
    model_card.update_model_card(card, results, model_name="m")
    mbpp = model_card.eval_results(get_benchmark("mbpp"), {"language": "python", "pass@1": 0.63})
    model_card.update_model_card(card, mbpp)
    front = yaml.safe_load(card.read_text().split("---")[1])
    entries = front["model-index"][0]["results"]
    datasets = [
        (e["dataset"]["type"], e["dataset"].get("config"), e["metrics"][0]["value"])
        for e in entries
    ]
    assert ("mbpp", "full", 63.0) in datasets
    assert ("bigcode/humanevalpack", "python", 60.0) in datasets
    assert front["model-index"][0]["name"] == "m"


def test_generations_folder_is_a_loadable_dataset(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    rows = [
        {
            "task_id": "HumanEval/0",
            "completion": "x",
            "raw_generation": "y",
            "prompt": "p",
            "passed": False,
            "result": "failed: AssertionError",
        }
    ]
    (output / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"benchmark": "humaneval", "language": "python", "pass@1": 0.0}
    (output / "summary.json").write_text(json.dumps(summary))
    staging = tmp_path / "staging"
    folder = model_card.generations_folder(
        output,
        staging,
        get_benchmark("humaneval"),
        repo_id="org/gens",
        model="org/model",
        summary=summary,
        existing=("mbpp",),
    )
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "README.md",
        "humaneval/results.jsonl",
        "humaneval/summary.json",
    ]
    readme = (folder / "README.md").read_text()
    front = yaml.safe_load(readme.split("---")[1])
    assert [c["config_name"] for c in front["configs"]] == ["humaneval", "mbpp"]
    assert (
        "wavecoder evaluate --benchmark humaneval --samples generations/humaneval/results.jsonl"
        in readme
    )
    assert "| humaneval python | pass@1 | 0.0 |" in readme

    import datasets

    loaded = datasets.load_dataset(str(folder), "humaneval", split="test")
    assert loaded[0]["raw_generation"] == "y" and loaded[0]["passed"] is False
