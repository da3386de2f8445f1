"""Decontamination, near-dedup and the card's corpus map, in the main process after the
generation step (`main_process.write_generation_output`) or instead of it (the dry run).

The work itself is in `pipeline.decontamination.stages` and `pipeline.dedup`; this module reads
what the corpus step left in the output folder and the recipe's sections.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pipeline.generation.config import GenerationConfig
from pipeline.layout import (
    CORPUS_CONTAMINATION_FILE,
    CORPUS_MAP_FILE,
    DRY_RUN_DIR,
    SELECTION_FILE,
    STATE_DIR,
)
from wavecoder.errors import UserError

logger = logging.getLogger("wavecoder.generation")


def check_rows(
    records: list[dict[str, Any]], recipe: Any, config: GenerationConfig, out: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The generated rows after decontamination and near-dedup, plus the corpus stage's
    snippets; and summary.json's `decontamination` and `dedup` blocks."""
    from pipeline.decontamination.stages import (
        clean_generated,
        corpus_records,
        decontamination_summary,
        load_benchmarks,
        read_corpus_contamination,
    )

    decon = getattr(recipe, "decontamination", None)
    dedup = getattr(recipe, "dedup", None)
    if decon is None or dedup is None:  # a recipe object from before these sections
        return records, {}
    accepted = any(r["status"] == "accepted" for r in records)
    benchmarks = load_benchmarks(decon) if decon.enabled and accepted else None
    embed, why = (None, None)
    if decon.enabled and accepted:  # else there is nothing to check or embed
        embed, why = run_embedder(recipe.embeddings)
    judge = config.discriminator if decon.judge else None
    check = clean_generated(records, decon, dedup, benchmarks, embed=embed, judge_llm=judge)
    if why:
        for method in ("embedding", "nearest_k", "judge"):
            check.report.setdefault("skipped_methods", {})[method] = why
    flagged, corpus_report = read_corpus_contamination(out / CORPUS_CONTAMINATION_FILE)
    models = (config.generator.model, config.discriminator.model)
    rows = check.records + corpus_records(flagged, models)
    corpus_report = {k: v for k, v in corpus_report.items() if k not in ("benchmarks", "skipped")}
    stages = {"corpus": corpus_report, "generated": check.report}
    blocks: dict[str, Any] = {}
    if decon.enabled:
        blocks["decontamination"] = decontamination_summary(
            decon, benchmarks, stages, check.leakage
        )
    if check.dedup is not None:
        blocks["dedup"] = check.dedup
    return rows, blocks


def run_embedder(embeddings: Any):
    """(the run's embedder, None), or (None, why) when it cannot be loaded here: the rows the
    LLMs produced are then still written, with the embedding methods counted as skipped."""
    from pipeline.decontamination.embedding import make_embedder

    try:
        embed = make_embedder(embeddings, show_progress=False)
        embed(["def f():\n    return 1"])
    except UserError as exc:
        logger.warning("decontamination: the embedding methods are skipped: %s", exc)
        return None, f"the embedding model could not be loaded: {str(exc)[:200]}"
    return embed, None


def corpus_map(embeddings: Any, out: Path) -> dict[str, Any]:
    """The card's map of the corpus embeddings: the sampled corpus vectors the corpus step kept,
    with the selected snippets' vectors (from the embedding cache) marked."""
    import numpy as np

    path = out / STATE_DIR / CORPUS_MAP_FILE
    selection = out / SELECTION_FILE
    if not path.exists() or not selection.exists():
        return {}
    import pyarrow.parquet as pq

    sample = np.load(path)
    chosen = pq.read_table(selection, columns=["id", "code"]).to_pylist()
    if not chosen:
        return {}
    embed, _ = run_embedder(embeddings)
    if embed is None:
        return {}
    selected_ids = {row["id"] for row in chosen}
    others = np.array([i not in selected_ids for i in sample["ids"].tolist()], dtype=bool)
    rest = sample["vectors"][others].astype(np.float32)
    picked = embed([row["code"] for row in chosen])
    vectors = np.concatenate([rest, picked]) if len(rest) else picked
    mask = np.zeros(len(vectors), dtype=bool)
    mask[len(rest) :] = True
    return {"corpus_vectors": vectors, "selected_mask": mask}


def judge_dry_run(recipe: Any, config: GenerationConfig, out: Path) -> str | None:
    """The decontamination judge's price when it is on: at most `judge_top` candidates per
    benchmark item, among the generated rows (the corpus stage does not call it); written to
    `dry_run/decontamination_judge.json`."""
    decon = getattr(recipe, "decontamination", None)
    if decon is None or not decon.enabled or not decon.judge:
        return None
    from pipeline.decontamination.judge import judge_estimate
    from pipeline.decontamination.stages import load_benchmarks

    items = len(load_benchmarks(decon).items)
    calls = decon.judge_top * items
    estimate = judge_estimate(calls, config.discriminator)
    (out / DRY_RUN_DIR / "decontamination_judge.json").write_text(
        json.dumps(estimate, indent=2), encoding="utf-8"
    )
    usd = estimate.get("max_usd")
    return (
        f"decontamination judge ({config.discriminator.model}): at most "
        f"{calls} calls ({decon.judge_top} candidates x {items} benchmark items, generated rows only), "
        f"{estimate['input_tokens']} input tokens"
        + (f", at most ${usd:.4f}" if usd is not None else ", no price in the recipe")
    )
