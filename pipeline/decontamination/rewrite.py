"""What `wavecoder decontaminate` writes: our folder rewritten, or another dataset split in two.

Both check rows with the same code `wavecoder generate` uses (`stages.clean_generated` and
`detect.decontaminate`), so a folder checked again gives the figures a run would.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from pipeline.decontamination.config import DecontaminationConfig
from pipeline.dedup.config import NearDedupConfig


def rewrite_our_folder(
    records: list[dict[str, Any]],
    summary: dict[str, Any],
    config: DecontaminationConfig,
    embeddings,
    source: Path,
    out: Path,
    *,
    dedup: bool,
) -> dict[str, int]:
    """Check every generated row again, as a run would, and write every config, summary, card
    and plot to `out`; the run's records (selection, corpus report, corpus stage) are copied.

    Rows an earlier check set aside after the judge (stage `decontamination`, and with `dedup`
    stage `dedup`) are accepted again first, so the new figures cover every generated row and a
    folder checked twice reads as checked once. The corpus stage is not re-run (the corpus is not
    re-read): its snippets and report are kept."""
    from pipeline.decontamination.stages import (
        GENERATED_STAGE,
        clean_generated,
        decontamination_summary,
        load_benchmarks,
    )
    from pipeline.generation.cleaning import corpus_map, run_embedder
    from pipeline.generation.config import GenerationConfig
    from pipeline.generation.summary import summarize
    from pipeline.generation.writer import write_dataset_folder
    from pipeline.layout import CORPUS_REPORT_FILE, RUN_RECORDS, SELECTION_FILE
    from pipeline.tasks import all_tasks

    reopened = {GENERATED_STAGE, "dedup"} if dedup else {GENERATED_STAGE}
    records = [_accepted_again(r) if r.get("stage") in reopened else r for r in records]
    benchmarks = load_benchmarks(config)
    embed, why = run_embedder(embeddings) if config.enabled else (None, None)
    recipe = summary.get("recipe") or {}
    near = NearDedupConfig(**{**(recipe.get("dedup") or {}), "enabled": dedup})
    check = clean_generated(records, config, near, benchmarks, embed=embed)
    if why:
        for method in ("embedding", "nearest_k", "judge"):
            check.report.setdefault("skipped_methods", {})[method] = why
    stages = dict((summary.get("decontamination") or {}).get("stages") or {})
    stages["generated"] = check.report
    generation = GenerationConfig(**(recipe.get("generation") or {}))
    new = {
        **summary,
        **summarize(check.records, generation, summary.get("this_run")),
        "decontamination": decontamination_summary(config, benchmarks, stages, check.leakage),
    }
    if check.dedup is not None:
        new["dedup"] = check.dedup
    if summary.get("execution"):  # rows set aside here leave `verified`: count again
        from pipeline.execution.config import ExecutionConfig
        from pipeline.execution.summary import execution_summary

        execution = ExecutionConfig(**{**(recipe.get("execution") or {}), "enabled": True})
        tester = summary["execution"].get("tester_model")
        new["execution"] = execution_summary(check.records, execution, tester)
    report = source / CORPUS_REPORT_FILE
    corpus_report = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    out.mkdir(parents=True, exist_ok=True)
    for name in (*RUN_RECORDS, SELECTION_FILE):
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
    return write_dataset_folder(
        check.records,
        out,
        tasks=list(all_tasks()),
        summary=new,
        title=recipe.get("name") or out.name,
        card_context={
            "recipe": recipe,
            "corpus_report": corpus_report,
            "languages": _languages(check.records),
        },
        plot_context=corpus_map(embeddings, source),
    )


def _accepted_again(record: dict[str, Any]) -> dict[str, Any]:
    """A row an earlier check set aside after the judge, as the judge left it."""
    from pipeline.generation.records import ACCEPTED

    messages = record.get("messages") or []
    return {
        **record,
        "status": ACCEPTED,
        "stage": "judgement",
        "reasons": [],
        "contamination": [],
        "duplicate_of": None,
        "prompt": messages[:1],
        "completion": messages[1:],
    }


def _languages(records):
    from collections import Counter

    return Counter(r.get("language") or "unknown" for r in records if r.get("task"))


def write_external(
    rows: list[dict[str, Any]],
    source: str,
    config: DecontaminationConfig,
    embeddings,
    out: Path,
    *,
    dedup: bool,
) -> dict[str, int]:
    """`out`/data: the clean rows (their own columns); `out`/contaminated: the flagged ones with
    `contamination` and `reasons`; with `dedup`, `out`/rejected: the near-duplicates with
    `duplicate_of`; summary.json and a card. Written in a staging folder, then swapped in."""
    from pipeline.decontamination.detect import decontaminate
    from pipeline.decontamination.items import RowText
    from pipeline.decontamination.stages import (
        decontamination_summary,
        flag_dicts,
        leakage_figure,
        load_benchmarks,
        reasons,
    )
    from pipeline.generation.cleaning import run_embedder

    benchmarks = load_benchmarks(config)
    embed, why = run_embedder(embeddings) if config.enabled else (None, None)
    texts = [RowText(r["_id"], r["_fields"]) for r in rows]
    result = decontaminate(texts, benchmarks.items, config, embed=embed, stage="generated")
    if why:
        for method in ("embedding", "nearest_k", "judge"):
            result.report.setdefault("skipped_methods", {})[method] = why
    as_records = [{"id": r["_id"], "output": r["_fields"].get("output", "")} for r in rows]
    leakage = leakage_figure(as_records, benchmarks.items, result, embed)
    clean, flagged = [], []
    for row in rows:
        data = {k: v for k, v in row.items() if k not in ("_id", "_fields")}
        flags = result.flags.get(row["_id"])
        if flags:
            flagged.append(
                {**data, "row_id": row["_id"], "contamination": flag_dicts(flags),
                 "reasons": reasons(flags)}
            )  # fmt: skip
        else:
            clean.append(data)
    rejected: list[dict[str, Any]] = []
    summary = {
        "source": source,
        "rows": len(rows),
        "decontamination": decontamination_summary(
            config, benchmarks, {"generated": result.report}, leakage
        ),
    }
    if dedup:
        from pipeline.dedup.minhash import dedup_reason, find_near_duplicates

        near = NearDedupConfig()
        kept_ids = [r["_id"] for r in rows if r["_id"] not in result.flags]
        joined = {r["_id"]: "\n".join(r["_fields"].values()) for r in rows}
        dropped = find_near_duplicates([(i, joined[i]) for i in kept_ids], near)
        kept = []
        for row, row_id in zip(clean, kept_ids, strict=True):
            if row_id in dropped:
                original, jaccard = dropped[row_id]
                rejected.append(
                    {**row, "row_id": row_id, "duplicate_of": original,
                     "reasons": [dedup_reason(original, jaccard)]}
                )  # fmt: skip
            else:
                kept.append(row)
        clean = kept
        summary["dedup"] = {"threshold": near.threshold, "num_perm": near.num_perm,
                            "checked": len(kept_ids), "dropped": len(dropped)}  # fmt: skip
    return _write_split(out, clean, flagged, rejected, summary, source)


def _write_split(out: Path, clean, flagged, rejected, summary, source: str) -> dict[str, int]:
    from datasets import Dataset

    from cards.decontaminated_card import render_decontaminated_card
    from pipeline.layout import README, SHARD, STATE_DIR, SUMMARY_FILE

    staging = out / STATE_DIR / f"staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    counts = {"default": len(clean), "contaminated": len(flagged), "rejected": len(rejected)}
    written = []
    for name, rows in (("data", clean), ("contaminated", flagged), ("rejected", rejected)):
        if rows:
            (staging / name).mkdir()
            Dataset.from_list(rows).to_parquet(str(staging / name / SHARD))
            written.append("default" if name == "data" else name)
    (staging / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    card = render_decontaminated_card(source=source, counts=counts, written=written,
                                      summary=summary)  # fmt: skip
    (staging / README).write_text(card, encoding="utf-8")
    for name in ("data", "contaminated", "rejected", SUMMARY_FILE, README):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if (staging / name).exists():
            (staging / name).rename(target)
    shutil.rmtree(staging)
    return counts
