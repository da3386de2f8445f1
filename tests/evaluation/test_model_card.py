"""Model-index entries and the generations dataset folder (what a push would upload)."""

from __future__ import annotations

import json
import shutil

import yaml

from evaluation import model_card
from evaluation.benchmarks import get_benchmark

PACK = ("cpp", "go", "java", "js", "python", "rust")


def _pack_summary(scored):
    blocks = {lang: {"pass@1": 0.1 * (i + 1)} for i, lang in enumerate(PACK)}
    for lang in set(PACK) - set(scored):
        blocks[lang] = {"n_skipped": 2}
    values = [blocks[lang]["pass@1"] for lang in scored]
    return {
        "benchmark": "humanevalfix",
        "pass@1": sum(values) / len(values),
        "languages_scored": sorted(scored),
        "languages": blocks,
    }


def test_humanevalpack_average_only_when_all_six_languages_were_scored():
    benchmark = get_benchmark("humanevalfix")
    partial = model_card.eval_results(benchmark, _pack_summary(["python", "js"]))
    assert [(r.dataset_name, r.dataset_config, r.metric_value) for r in partial] == [
        ("HumanEvalFix (JavaScript)", "js", 40.0),
        ("HumanEvalFix (Python)", "python", 50.0),
    ]
    # Five of six scored (one toolchain skipped): still no average.
    five = model_card.eval_results(benchmark, _pack_summary([x for x in PACK if x != "rust"]))
    assert not any("average" in r.dataset_name for r in five)

    full = model_card.eval_results(
        benchmark, _pack_summary(PACK), source_url="https://huggingface.co/datasets/o/g"
    )
    assert len(full) == 7
    average = full[-1]
    assert average.dataset_name == "HumanEvalFix (average of 6 languages)"
    assert average.dataset_config is None and average.metric_value == 35.0
    assert all(
        r.dataset_type == "bigcode/humanevalpack" and r.task_type == "text-generation" for r in full
    )
    assert full[0].source_url == "https://huggingface.co/datasets/o/g"


def test_model_card_merge_keeps_other_entries(tmp_path):
    card = tmp_path / "README.md"
    pack = model_card.eval_results(get_benchmark("humanevalfix"), _pack_summary(["python"]))
    model_card.update_model_card(card, pack, model_name="m")
    mbpp = model_card.eval_results(get_benchmark("mbpp"), {"language": "python", "pass@1": 0.63})
    model_card.update_model_card(card, mbpp)
    front = yaml.safe_load(card.read_text().split("---")[1])
    entries = front["model-index"][0]["results"]
    datasets = [
        (e["dataset"]["type"], e["dataset"].get("config"), e["metrics"][0]["value"])
        for e in entries
    ]
    assert ("mbpp", "full", 63.0) in datasets
    assert ("bigcode/humanevalpack", "python", 50.0) in datasets
    assert front["model-index"][0]["name"] == "m"


def _row(task_id, passed=False):
    return {
        "task_id": task_id,
        "completion": "x",
        "raw_generation": "y",
        "prompt": "p",
        "passed": passed,
        "result": "passed" if passed else "failed: AssertionError",
    }


def _write_output(folder, rows, summary):
    folder.mkdir()
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_generations_folder_has_one_config_per_benchmark_and_language(tmp_path, humanevalpack_dir):
    import datasets

    benchmark = get_benchmark("humanevalfix")
    problems = {}
    for language in ("python", "js"):
        problems.update(benchmark.load(language, str(humanevalpack_dir)))
    rows = [_row("Python/0", True), _row("JavaScript/0"), _row("Python/2"), _row("JavaScript/2")]
    summary = {
        "benchmark": "humanevalfix",
        "pass@1": 0.25,
        "languages_scored": ["js", "python"],
        "languages": {"js": {"pass@1": 0.0}, "python": {"pass@1": 0.5}},
    }
    output = _write_output(tmp_path / "out", rows, summary)
    folder = model_card.generations_folder(
        output,
        tmp_path / "staging",
        benchmark,
        problems,
        repo_id="org/gens",
        model="org/model",
        summary=summary,
        existing=("humaneval", "humanevalfix-go"),
    )
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "README.md",
        "humanevalfix-js/results.jsonl",
        "humanevalfix-js/summary.json",
        "humanevalfix-python/results.jsonl",
        "humanevalfix-python/summary.json",
    ]
    js_summary = json.loads((folder / "humanevalfix-js" / "summary.json").read_text())
    assert js_summary == {"benchmark": "humanevalfix", "language": "js", "pass@1": 0.0}
    readme = (folder / "README.md").read_text()
    front = yaml.safe_load(readme.split("---")[1])
    assert [c["config_name"] for c in front["configs"]] == [
        "humaneval",
        "humanevalfix-go",
        "humanevalfix-js",
        "humanevalfix-python",
    ]
    for line in (
        "wavecoder evaluate --benchmark humaneval --samples generations/humaneval/results.jsonl",
        "wavecoder evaluate --benchmark humanevalfix --language js "
        "--samples generations/humanevalfix-js/results.jsonl",
        "wavecoder evaluate --benchmark humanevalfix --language go "
        "--samples generations/humanevalfix-go/results.jsonl",
    ):
        assert line in readme
    assert "| humanevalfix-python | pass@1 | 50.0 |" in readme

    # The repo after the upload: the configs already there, and this upload's.
    hub = tmp_path / "hub"
    shutil.copytree(folder, hub)
    for existing in ("humaneval", "humanevalfix-go"):
        _write_output(hub / existing, [_row("X/0")], {})
    loaded = datasets.load_dataset(str(hub), "humanevalfix-js", split="test")
    assert loaded["task_id"] == ["JavaScript/0", "JavaScript/2"]


def test_generations_folder_single_language_benchmark(tmp_path):
    benchmark = get_benchmark("humaneval")
    summary = {"benchmark": "humaneval", "language": "python", "pass@1": 0.0}
    output = _write_output(tmp_path / "out", [_row("HumanEval/0")], summary)
    folder = model_card.generations_folder(
        output,
        tmp_path / "staging",
        benchmark,
        benchmark.load(),
        repo_id="org/gens",
        model="org/model",
        summary=summary,
    )
    assert (folder / "humaneval" / "results.jsonl").exists()
    readme = (folder / "README.md").read_text()
    assert "| humaneval | pass@1 | 0.0 |" in readme
    assert "--language" not in readme
