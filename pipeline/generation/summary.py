"""The run summary: outcomes per task and per rule, acceptance, calls per sample, tokens, cost."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pipeline.generation.config import GenerationConfig, cost_usd, format_usd
from pipeline.generation.records import ACCEPTED, CONTAMINATED, FAILED, REJECTED

ROLES = ("generator", "discriminator")
# The stages of rows the discriminator answered: its own, and those that set rows aside after it
# accepted them (pipeline/decontamination/stages.py, pipeline/dedup).
AFTER_JUDGE = ("dedup", "decontamination")
JUDGED_STAGES = ("judgement", *AFTER_JUDGE)


def summarize(
    records: list[dict[str, Any]],
    config: GenerationConfig,
    call_stats: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Figures of one dataset folder; `call_stats` are this run's requests (sent / cached)."""
    per_task: dict[str, Counter] = defaultdict(Counter)
    per_check: dict[str, dict[str, Any]] = {}
    calls = Counter()
    tokens = {role: Counter() for role in ROLES}
    contaminated_snippets = set_aside = 0
    for record in records:
        if record.get("task") is None:  # a corpus snippet set aside before selection
            contaminated_snippets += record["status"] == CONTAMINATED
            continue
        per_task[record["task"]][record["status"]] += 1
        if record["status"] == REJECTED:
            for reason in record["reasons"]:
                entry = per_check.setdefault(
                    reason["check"], {"stage": record["stage"], "total": 0, "tasks": Counter()}
                )
                entry["total"] += 1
                entry["tasks"][record["task"]] += 1
        answered_generation = not (record["status"] == FAILED and record["stage"] == "generation")
        # Rows set aside after the judge accepted them (near-duplicates, benchmark copies) were
        # judged too.
        answered_judgement = record["stage"] in JUDGED_STAGES and record["status"] != FAILED
        set_aside += record["stage"] in AFTER_JUDGE
        calls["generator"] += answered_generation
        calls["discriminator"] += answered_judgement
        for role in ROLES:
            tokens[role].update(record["usage"][role])
    totals = Counter()
    for counts in per_task.values():
        totals.update(counts)
    judged = totals[ACCEPTED] + totals[REJECTED] + totals[CONTAMINATED]
    # The judge's acceptance: rows it accepted that were set aside after it count as accepted.
    judge_accepted = totals[ACCEPTED] + set_aside
    cost = {
        role: cost_usd(
            getattr(config, role).price_per_million_tokens,
            tokens[role]["prompt_tokens"],
            tokens[role]["completion_tokens"],
        )
        for role in ROLES
    }
    known = [c for c in cost.values() if c is not None]
    cost["total"] = round(sum(known), 4) if len(known) == len(ROLES) else None
    return {
        "rows": len(records) - contaminated_snippets,
        "accepted": totals[ACCEPTED],
        "rejected": totals[REJECTED],
        "failed": totals[FAILED],
        # generated rows that copy a benchmark item; and corpus snippets set aside before selection
        "contaminated": totals[CONTAMINATED],
        "contaminated_snippets": contaminated_snippets,
        "acceptance_rate": round(judge_accepted / judged, 4) if judged else None,
        "per_task": {task: dict(per_task[task]) for task in sorted(per_task)},
        "rejections_by_check": {
            check: {**entry, "tasks": dict(entry["tasks"])}
            for check, entry in sorted(per_check.items(), key=lambda item: -item[1]["total"])
        },
        "llm_calls": dict(calls),
        "llm_calls_per_accepted": round(sum(calls.values()) / totals[ACCEPTED], 3)
        if totals[ACCEPTED]
        else None,
        "tokens": {role: dict(tokens[role]) for role in ROLES},
        "models": {role: getattr(config, role).model for role in ROLES},
        "cost_usd": cost,
        "this_run": call_stats or {},
    }


def format_summary(summary: dict[str, Any]) -> str:
    rate = summary["acceptance_rate"]
    lines = [
        f"{summary['rows']} rows: {summary['accepted']} accepted, {summary['rejected']} rejected, "
        f"{summary['failed']} failed"
        + (f", {summary['contaminated']} contaminated" if summary.get("contaminated") else "")
        + "; acceptance rate "
        + (f"{rate:.1%} of answered rows" if rate is not None else "n/a"),
        f"{'task':<16}{'accepted':>10}{'rejected':>10}{'failed':>8}",
    ]
    for task, counts in summary["per_task"].items():
        lines.append(
            f"{task:<16}{counts.get(ACCEPTED, 0):>10}{counts.get(REJECTED, 0):>10}{counts.get(FAILED, 0):>8}"
        )
    if summary["rejections_by_check"]:
        lines.append("rejections by rule (stage: count, per task):")
        for check, entry in summary["rejections_by_check"].items():
            per = ", ".join(f"{t} {n}" for t, n in sorted(entry["tasks"].items()))
            lines.append(f"  {check:<26} {entry['stage']:<10} {entry['total']:>5}  ({per})")
    per_accepted = summary["llm_calls_per_accepted"]
    lines.append(
        f"LLM calls: generator {summary['llm_calls'].get('generator', 0)}, discriminator "
        f"{summary['llm_calls'].get('discriminator', 0)}; per accepted sample "
        + (f"{per_accepted:.2f}" if per_accepted is not None else "n/a")
    )
    for role in ROLES:
        t = summary["tokens"][role]
        lines.append(
            f"tokens {role} ({summary['models'][role]}): {t.get('prompt_tokens', 0)} prompt, "
            f"{t.get('completion_tokens', 0)} completion, {format_usd(summary['cost_usd'][role])}"
        )
    for role, stats in summary["this_run"].items():
        lines.append(
            f"this run, {role}: {stats.get('sent', 0)} requests answered by the endpoint, "
            f"{stats.get('cached', 0)} from the response cache, {stats.get('failed', 0)} failed"
        )
    decon = summary.get("decontamination")
    if decon:
        stages = decon.get("stages") or {}
        corpus = (stages.get("corpus") or {}).get("flagged_rows", 0)
        generated = (stages.get("generated") or {}).get("flagged_rows", 0)
        benchmarks = ", ".join(f"{n} ({b['items']})" for n, b in decon["benchmarks"].items())
        lines.append(
            f"decontamination against {benchmarks or 'no benchmark'}: {corpus} corpus snippets "
            f"set aside before selection, {generated} generated rows flagged (the `contaminated` "
            "config)"
            + (f"; skipped: {', '.join(decon['skipped'])}" if decon.get("skipped") else "")
        )
        for name, leak in (decon.get("leakage") or {}).items():
            if leak.get("before") is not None:
                lines.append(
                    f"  leakage {name}: mean highest cosine {leak['before']:.3f} before, "
                    f"{leak['after'] if leak['after'] is None else format(leak['after'], '.3f')} after"
                )
    if summary.get("dedup"):
        d = summary["dedup"]
        lines.append(
            f"near-dedup (Jaccard >= {d['threshold']}): {d['dropped']} of {d['checked']} accepted "
            "rows dropped as near-duplicates (`rejected`, stage dedup)"
        )
    if summary["failed"]:
        lines.append(
            f"{summary['failed']} rows failed (see the `failed` config); run the same command "
            "again to retry exactly those."
        )
    return "\n".join(lines)
