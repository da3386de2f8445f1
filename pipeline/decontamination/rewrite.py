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
    out: Path,
    *,
    dedup: bool,
) -> dict[str, int]:
    """Check the accepted rows again and write every config, summary and card to `out`. The
    corpus stage's snippets and its report are kept as they were (the corpus is not re-read)."""
    from pipeline.decontamination.stages import (
        clean_generated,
        decontamination_summary,
        load_benchmarks,
    )
    from pipeline.generation.cleaning import run_embedder
    from pipeline.generation.writer import write_dataset_folder
    from pipeline.tasks import all_tasks

    benchmarks = load_benchmarks(config)
    embed, why = run_embedder(embeddings) if config.enabled else (None, None)
    near = NearDedupConfig(
        **{**((summary.get("recipe") or {}).get("dedup") or {}), "enabled": dedup}
    )
    check = clean_generated(records, config, near, benchmarks, embed=embed)
    if why:
        for method in ("embedding", "nearest_k", "judge"):
            check.report.setdefault("skipped_methods", {})[method] = why
    stages = dict((summary.get("decontamination") or {}).get("stages") or {})
    stages["generated"] = check.report
    new = dict(summary)
    new["decontamination"] = decontamination_summary(config, benchmarks, stages, check.leakage)
    if check.dedup is not None:
        new["dedup"] = check.dedup
    counts = _counts(check.records)
    new.update(counts)
    recipe = summary.get("recipe") or {}
    return write_dataset_folder(
        check.records,
        out,
        tasks=list(all_tasks()),
        summary=new,
        title=recipe.get("name") or out.name,
        card_context={"recipe": recipe, "languages": _languages(check.records)},
    )


def _counts(records: list[dict[str, Any]]) -> dict[str, int]:
    from collections import Counter

    status = Counter(r["status"] for r in records if r.get("task"))
    return {name: status[name] for name in ("accepted", "rejected", "failed", "contaminated")}


def _languages(records):
    from collections import Counter

    return Counter(r.get("language") or "unknown" for r in records)


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
    `contamination` and `reasons`; summary.json and a card. Written in a staging folder, then
    swapped in."""
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
    dropped = {}
    if dedup:
        from pipeline.dedup.minhash import find_near_duplicates

        near = NearDedupConfig()
        texts_by_id = [(r["_id"], "\n".join(r["_fields"].values())) for r in rows]
        dropped = find_near_duplicates([t for t in texts_by_id if t[0] not in result.flags], near)
    summary = {
        "source": source,
        "rows": len(rows),
        "decontamination": decontamination_summary(
            config, benchmarks, {"generated": result.report}, leakage
        ),
    }
    if dedup:
        summary["dedup"] = {"threshold": near.threshold, "num_perm": near.num_perm,
                            "checked": len(clean), "dropped": len(dropped)}  # fmt: skip
        kept_ids = [r["_id"] for r in rows if r["_id"] not in result.flags]
        clean = [row for row, i in zip(clean, kept_ids, strict=True) if i not in dropped]
    return _write_split(out, clean, flagged, summary, source)


def _write_split(out: Path, clean, flagged, summary, source: str) -> dict[str, int]:
    from datasets import Dataset

    from cards.decontaminated_card import render_decontaminated_card
    from pipeline.layout import README, SHARD, STATE_DIR, SUMMARY_FILE

    staging = out / STATE_DIR / f"staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    counts = {"default": len(clean), "contaminated": len(flagged)}
    written = []
    for name, rows in (("data", clean), ("contaminated", flagged)):
        if rows:
            (staging / name).mkdir()
            Dataset.from_list(rows).to_parquet(str(staging / name / SHARD))
            written.append("default" if name == "data" else name)
    (staging / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    card = render_decontaminated_card(source=source, counts=counts, written=written,
                                      summary=summary)  # fmt: skip
    (staging / README).write_text(card, encoding="utf-8")
    for name in ("data", "contaminated", SUMMARY_FILE, README):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if (staging / name).exists():
            (staging / name).rename(target)
    shutil.rmtree(staging)
    return counts
