"""The dataset card's "Execution checks" section: pass rates per task and per language, from
``summary["execution"]`` (`pipeline.execution.summary.execution_summary`)."""

from __future__ import annotations

from typing import Any

# What each mode did with a case whose check did not hold.
MODES = {
    "filter": "a case that failed, errored or timed out was rejected (stage `execution`, in the "
    "`rejected` config, with the failure as its reason) before the discriminator saw it",
    "annotate": "every case went on to the discriminator whatever its result; only the "
    "`execution` column records it",
}


def execution_tables(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """The section's settings and tables; None when the run did not execute its cases.

    Each table row is ``(group, [count per status], rate)``, the statuses in the summary's
    order; ``rate`` reads "66.7% (2/3)" (rows whose check held / rows checked) or "—" when no
    row was checked.
    """
    execution = (summary or {}).get("execution")
    if not execution:
        return None
    statuses = list(execution.get("statuses") or {})
    return {
        "mode": execution.get("mode", "?"),
        "mode_note": MODES.get(execution.get("mode"), "see the summary"),
        "timeout_s": execution.get("timeout_s", "?"),
        "max_tests": execution.get("max_tests", "?"),
        "tester_model": execution.get("tester_model") or "?",
        "executed": execution.get("executed", 0),
        "not_run": execution.get("not_run", 0),
        "verified": execution.get("verified", 0),
        "statuses": statuses,
        "per_task": _rows(execution.get("per_task") or {}, statuses),
        "per_language": _rows(execution.get("per_language") or {}, statuses),
        "total": _row("all", execution, statuses),
        "skipped_reasons": list((execution.get("skipped_reasons") or {}).items()),
    }


def _rows(groups: dict[str, dict[str, Any]], statuses: list[str]) -> list[tuple]:
    return [_row(name, entry, statuses) for name, entry in groups.items()]


def _row(name: str, entry: dict[str, Any], statuses: list[str]) -> tuple:
    counts = entry.get("statuses") or {}
    rate = entry.get("pass_rate")
    shown = "—" if rate is None else f"{100 * rate:.1f}% ({entry['held']}/{entry['checked']})"
    return name, [counts.get(s, 0) for s in statuses], shown
