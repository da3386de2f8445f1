"""The run's execution figures (`summary.json`'s ``execution``): statuses and pass rates overall,
per task and per language, and how many rows the `verified` config holds.

Pass rate = rows whose check held / rows checked, where

- a check held when the status is `passed`, or `not_applicable`: a summarization whose source
  parses or compiles, the only check its row gets (its prose is not behaviour-tested);
- rows checked = rows executed minus rows `skipped` (no sandbox language or no toolchain: nothing
  ran, so a skip says nothing about the code either way). `failed`, `error` (no usable tests, or
  the sandbox could not run a check) and `timeout` count against the rate.

A rate is None when no row was checked. Only generated rows count: corpus snippets (task None)
never reach execution; rows that stopped before it (generation failed, the post-filter rejected
them) or ran with execution off have a null `execution` column and are counted as `not_run`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pipeline.execution.config import ExecutionConfig
from pipeline.execution.run import NOT_APPLICABLE, PASSED, SKIPPED, STATUSES, sandbox_failed
from pipeline.generation.records import ACCEPTED

HELD = (PASSED, NOT_APPLICABLE)


def execution_summary(
    records: list[dict[str, Any]], config: ExecutionConfig, tester_model: str | None
) -> dict[str, Any]:
    """Figures of the rows' `execution` column (see the module docstring for the pass rate).

    ``statuses``, and each entry of ``per_task`` / ``per_language``, hold a count for every
    status (zeros included), ``executed``, ``checked`` (executed minus skipped), ``held`` and
    ``pass_rate`` (held / checked, 4 decimals; None when nothing was checked). A translation is
    counted under its source language (``language``). ``verified``: accepted rows whose status
    is `passed` (the `verified` config). ``skipped_reasons``: reason -> rows skipped for it.
    """
    overall: list[dict[str, Any]] = []
    per_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    per_language: dict[str, list[dict[str, Any]]] = defaultdict(list)
    skipped_reasons: Counter = Counter()
    verified = not_run = 0
    for record in records:
        if record.get("task") is None:  # a corpus snippet set aside before selection
            continue
        execution = record.get("execution")
        if execution is None or sandbox_failed(execution):  # nothing was checked: retried
            not_run += 1
            continue
        overall.append(execution)
        per_task[record["task"]].append(execution)
        per_language[record.get("language") or "unknown"].append(execution)
        if execution.get("status") == SKIPPED:
            skipped_reasons[execution.get("reason") or "no reason given"] += 1
        verified += record.get("status") == ACCEPTED and execution.get("status") == PASSED
    return {
        "mode": config.mode,
        "timeout_s": config.timeout_s,
        "max_tests": config.max_tests,
        "workers": config.workers,
        "tester_model": tester_model,
        **_figures(overall),
        "not_run": not_run,
        "verified": verified,
        "per_task": {task: _figures(per_task[task]) for task in sorted(per_task)},
        "per_language": {lang: _figures(per_language[lang]) for lang in sorted(per_language)},
        "skipped_reasons": dict(skipped_reasons.most_common()),
    }


def _figures(executions: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per status, executed, checked, held and the pass rate of one group of rows."""
    counts = Counter(e.get("status") for e in executions)
    # An unknown status (a newer record) is still shown, after the known ones.
    statuses = {s: counts.get(s, 0) for s in STATUSES}
    statuses.update({s: n for s, n in sorted(counts.items(), key=str) if s not in statuses})
    checked = len(executions) - counts.get(SKIPPED, 0)
    held = sum(counts.get(s, 0) for s in HELD)
    return {
        "statuses": statuses,
        "executed": len(executions),
        "checked": checked,
        "held": held,
        "pass_rate": round(held / checked, 4) if checked else None,
    }
