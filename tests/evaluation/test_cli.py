"""`wavecoder evaluate` end to end: files written, errors a user can cause, sandbox refusal."""

from __future__ import annotations

import json

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.sandbox import runner as sandbox_module
from wavecoder.cli import build_parser, main


def write_samples(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def humaneval_samples(tmp_path):
    problems = get_benchmark("humaneval").load()
    rows = []
    for task_id in ("HumanEval/0", "HumanEval/1", "HumanEval/2"):
        rows.append(
            {"task_id": task_id, "completion": problems[task_id].data["canonical_solution"]}
        )
        rows.append({"task_id": task_id, "completion": "    return None\n", "note": "wrong"})
    return write_samples(tmp_path / "samples.jsonl", rows)


def test_scores_samples_into_results_and_summary(humaneval_samples, tmp_path, sandbox, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "evaluate",
            "--benchmark",
            "humaneval",
            "--samples",
            str(humaneval_samples),
            "--output",
            str(out),
            "--k",
            "1,2",
        ]
    )
    assert code == 0
    rows = read_jsonl(out / "results.jsonl")
    assert [r["task_id"] for r in rows] == [
        "HumanEval/0",
        "HumanEval/0",
        "HumanEval/1",
        "HumanEval/1",
        "HumanEval/2",
        "HumanEval/2",
    ]
    assert [r["passed"] for r in rows] == [True, False] * 3
    assert [r["result"] for r in rows[:2]] == ["passed", "failed: AssertionError"]
    assert rows[1]["note"] == "wrong" and "_line" not in rows[1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass@1"] == 0.5 and summary["pass@2"] == 1.0
    assert summary["n_tasks"] == 3 and summary["n_tasks_without_samples"] == 161
    assert summary["sandbox"] == "bwrap" and summary["timeout_s"] == 3.0
    assert summary["partial"] is True
    out = capsys.readouterr().out
    assert "pass@1 50.0%" in out
    assert "WARNING: python: 161 tasks have no sample (a partial set)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--benchmark", "humaneval"], "exactly one of --samples"),
        (["--benchmark", "humaneval", "--samples", "a.jsonl", "--model", "m"], "exactly one of"),
        (["--benchmark", "humaneval", "--samples", "x.jsonl", "--language", "js"], "Python only"),
        (["--samples", "x.jsonl"], "--benchmark is required"),
        (["--benchmark", "mbpp", "--samples", "x.jsonl", "--k", "1,a"], "--k must be"),
        (["--benchmark", "mbpp", "--samples", "x.jsonl", "--limit", "3"], "--limit applies to"),
        (
            ["--benchmark", "mbpp", "--model", "m", "--limit", "3", "--model-card", "R.md"],
            "--limit 3 leaves out tasks",
        ),
    ],
)
def test_flag_mistakes_are_user_errors(argv, message, capsys):
    assert main(["evaluate", *argv]) == 2
    assert message in capsys.readouterr().err


def test_malformed_and_unknown_samples_are_user_errors(tmp_path, sandbox, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "HumanEval/0", "completion": ""}\n{oops}\n')
    assert (
        main(
            [
                "evaluate",
                "--benchmark",
                "humaneval",
                "--samples",
                str(bad),
                "--output",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert f"{bad}:2: not valid JSON" in capsys.readouterr().err
    unknown = write_samples(tmp_path / "u.jsonl", [{"task_id": "Python/0", "completion": ""}])
    assert (
        main(
            [
                "evaluate",
                "--benchmark",
                "humaneval",
                "--samples",
                str(unknown),
                "--output",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "line 1: unknown task_id 'Python/0' for humaneval" in err
    assert "Traceback" not in err


def test_refuses_without_bwrap_unless_unsafe_is_explicit(
    humaneval_samples, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--benchmark",
        "humaneval",
        "--samples",
        str(humaneval_samples),
        "--output",
        str(out),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "bubblewrap (`bwrap`) is not installed" in err and "--unsafe-no-sandbox" in err
    assert not (out / "results.jsonl").exists()
    assert main([*argv, "--unsafe-no-sandbox"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sandbox"] == "none (unsafe)" and summary["pass@1"] == 0.5


def test_humanevalfix_all_languages(humanevalpack_dir, tmp_path, sandbox):
    benchmark = get_benchmark("humanevalfix")
    rows = []
    for language in benchmark.languages:
        for problem in benchmark.load(language, str(humanevalpack_dir)).values():
            base = benchmark.prompt_base(problem)
            rows.append(
                {
                    "task_id": problem.task_id,
                    "completion": base + problem.data["canonical_solution"],
                }
            )
            rows.append(
                {"task_id": problem.task_id, "completion": base + problem.data["buggy_solution"]}
            )
    samples = write_samples(tmp_path / "fix.jsonl", rows)
    out = tmp_path / "out"
    assert (
        main(
            [
                "evaluate",
                "--benchmark",
                "humanevalfix",
                "--language",
                "all",
                "--samples",
                str(samples),
                "--dataset",
                str(humanevalpack_dir),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    blocks = summary["languages"]
    assert set(blocks) == {"python", "js", "java", "go", "cpp", "rust"}
    scored = summary["languages_scored"]
    assert "python" in scored
    for language, block in blocks.items():
        if language in scored:
            assert block["pass@1"] == 0.5 and block["n_passed"] == 2
        else:
            assert block["n_skipped"] == 4 and "pass@1" not in block
    assert summary["pass@1"] == pytest.approx(0.5)
    results = read_jsonl(out / "results.jsonl")
    assert len(results) == 24


def test_writes_model_index_and_replaces_it_on_rerun(humaneval_samples, tmp_path, sandbox, capsys):
    card = tmp_path / "model" / "README.md"
    card.parent.mkdir()
    card.write_text(
        "---\nlicense: apache-2.0\nbase_model: deepseek-ai/deepseek-coder-6.7b-base\n---\n# WaveCoder\n\nBody.\n"
    )
    argv = [
        "evaluate",
        "--benchmark",
        "humaneval",
        "--samples",
        str(humaneval_samples),
        "--output",
        str(tmp_path / "out"),
        "--model-card",
        str(card),
        "--model-name",
        "wavecoder-ds-6.7b",
    ]
    before = card.read_text()
    # 3 of HumanEval's 164 tasks: refused, the card untouched, unless asked for.
    assert main(argv) == 2
    assert "161 of 164 tasks have no sample" in capsys.readouterr().err
    assert card.read_text() == before
    argv.append("--allow-partial")
    assert main(argv) == 0
    assert main(argv) == 0
    from huggingface_hub import ModelCard

    loaded = ModelCard.load(card)
    results = loaded.data.eval_results
    assert [(r.dataset_type, r.metric_type, r.metric_value) for r in results] == [
        ("openai_humaneval", "pass@1", 50.0)
    ]
    assert loaded.data.model_name == "wavecoder-ds-6.7b"
    assert loaded.data.license == "apache-2.0"
    assert "# WaveCoder\n\nBody." in card.read_text()


@pytest.mark.parametrize("flag", ["--samples-per-task", "--n-samples"])
def test_samples_per_task_and_its_old_name(flag):
    assert build_parser().parse_args(["evaluate", flag, "3"]).n_samples == 3
    assert build_parser().parse_args(["evaluate"]).n_samples == 1


def test_help_names_samples_per_task_and_keeps_the_alias(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "--samples-per-task N, --n-samples N samples generated per task (default: 1; pass@k needs "
        "N >= k); --n-samples is the old name" in text
    )
