"""The run summary: outcomes per task and per rule, acceptance, calls per sample, tokens, cost.

With execution on (issue 13) a third LLM role, the `tester`, writes each case's tests; its calls,
tokens and cost are reported only when a row used it, so a run without execution keeps the
two-role summary it always had.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pipeline.generation import config as generation_config
from pipeline.generation.config import GenerationConfig, cost_usd, format_usd
from pipeline.generation.records import ACCEPTED, CONTAMINATED, FAILED, REJECTED

ROLES = ("generator", "discriminator")
TESTER = "tester"
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
    tokens = {role: Counter() for role in (*ROLES, TESTER)}
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
        calls[TESTER] += _tester_answered(record)
        for role in ROLES:
            tokens[role].update(record["usage"][role])
        # Records written before the tester existed have no such usage: zeros.
        tokens[TESTER].update(record["usage"].get(TESTER) or {})
    totals = Counter()
    for counts in per_task.values():
        totals.update(counts)
    judged = totals[ACCEPTED] + totals[REJECTED] + totals[CONTAMINATED]
    # The judge's acceptance: rows it accepted that were set aside after it count as accepted.
    judge_accepted = totals[ACCEPTED] + set_aside
    roles = (*ROLES, TESTER) if calls[TESTER] else ROLES
    if TESTER not in roles:  # execution off: the summary keeps the two roles it always had
        calls.pop(TESTER, None)
        tokens.pop(TESTER)
    llms = {role: _llm(config, role) for role in roles}
    cost = {
        role: cost_usd(
            llms[role]["prices"],
            tokens[role]["prompt_tokens"],
            tokens[role]["completion_tokens"],
        )
        for role in roles
    }
    known = [c for c in cost.values() if c is not None]
    cost["total"] = round(sum(known), 4) if len(known) == len(roles) else None
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
        "tokens": {role: dict(tokens[role]) for role in roles},
        "models": {role: llms[role]["model"] for role in roles},
        "cost_usd": cost,
        "this_run": call_stats or {},
    }


def _tester_answered(record: dict[str, Any]) -> bool:
    """Whether the tester answered for this row: its execution record holds tests, or the usage
    counts tester tokens (a reply with no usable tests still cost a call)."""
    execution = record.get("execution") or {}
    usage = record["usage"].get(TESTER) or {}
    return bool(execution.get("tests")) or any(usage.get(k, 0) > 0 for k in usage)


def _llm(config: GenerationConfig, role: str) -> dict[str, Any]:
    """The model and prices (USD per million tokens) of `role`. The tester is resolved by
    `pipeline.generation.config.tester_config` when that exists; otherwise from
    `config.tester` (None or a dict of overrides of the generator's keys), whose prices default
    to the generator's, as its endpoint does."""
    if role != TESTER:
        llm = getattr(config, role)
        return {"model": llm.model, "prices": llm.price_per_million_tokens}
    resolve = getattr(generation_config, "tester_config", None)
    if resolve is not None:
        llm = resolve(config)
        return {"model": llm.model, "prices": llm.price_per_million_tokens}
    tester = getattr(config, TESTER, None)
    tester = tester if isinstance(tester, dict) else {}
    prices = tester.get("price_per_million_tokens")
    return {
        "model": tester.get("model") or config.generator.model,
        "prices": prices if prices is not None else config.generator.price_per_million_tokens,
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
    tester = summary["llm_calls"].get(TESTER)
    lines.append(
        f"LLM calls: generator {summary['llm_calls'].get('generator', 0)}, discriminator "
        f"{summary['llm_calls'].get('discriminator', 0)}"
        + (f", tester {tester}" if tester is not None else "")
        + "; per accepted sample "
        + (f"{per_accepted:.2f}" if per_accepted is not None else "n/a")
    )
    for role in summary["tokens"]:
        t = summary["tokens"][role]
        lines.append(
            f"tokens {role} ({summary['models'][role]}): {t.get('prompt_tokens', 0)} prompt, "
            f"{t.get('completion_tokens', 0)} completion, {format_usd(summary['cost_usd'][role])}"
        )
    for role, stats in summary["this_run"].items():
        if role == "execution":  # the sandbox's cases (pipeline.execution.executor), not requests
            lines.append(
                f"this run, execution: {stats.get('executed', 0)} cases run in the sandbox "
                f"({stats.get('sandbox_seconds', 0.0):.1f} s), {stats.get('cached', 0)} from "
                "the execution cache"
            )
            continue
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
    if summary.get("execution"):
        lines.extend(_execution_lines(summary["execution"]))
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


def _execution_lines(execution: dict[str, Any]) -> list[str]:
    """Statuses, pass rate per task (held / checked, see `pipeline.execution.summary`), the
    `verified` rows and the skips with their reasons."""
    statuses = ", ".join(f"{s} {n}" for s, n in execution["statuses"].items() if n)
    rates = ", ".join(
        f"{task} {_rate(entry['pass_rate'])} ({entry['held']}/{entry['checked']})"
        for task, entry in execution["per_task"].items()
    )
    lines = [
        f"execution ({execution['mode']}, tester {execution['tester_model']}): "
        f"{execution['executed']} rows run, {execution['not_run']} not run; "
        f"{statuses or 'no status'}",
        f"  pass rate {_rate(execution['pass_rate'])} of checked rows (passed or "
        f"not_applicable / run minus skipped); per task: {rates or 'none'}",
        f"  {execution['verified']} rows in the `verified` config (accepted and passed)",
    ]
    reasons = execution.get("skipped_reasons") or {}
    if reasons:
        lines.append(
            f"  skipped {sum(reasons.values())} for {len(reasons)} reason(s): "
            + "; ".join(f"{reason} ({n})" for reason, n in reasons.items())
        )
    return lines


def _rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"
