"""The Hub-ready dataset folder: parquet per config, a README with `configs:` front matter.

Layout (loadable with `datasets.load_dataset(DIR)` and `load_dataset(DIR, "repair")`):

    DIR/README.md                      dataset card with the configs
    DIR/data/train-00000-of-00001.parquet        `default`: every accepted row (with the
                                                 conversational `prompt` and `completion`)
    DIR/<task>/train-00000-of-00001.parquet      one config per code task (accepted rows)
    DIR/verified/train-00000-of-00001.parquet    accepted rows whose case passed its sandbox
                                                 checks (pipeline/execution; with execution on)
    DIR/rejected/train-00000-of-00001.parquet    rejected rows with stage and reasons
    DIR/failed/train-00000-of-00001.parquet      rows without an answer or with an internal error
                                                 (with stage and reasons; retried next run)
    DIR/contaminated/train-00000-of-00001.parquet   snippets and rows that copy a benchmark item,
                                                 with the items, methods and scores
    DIR/plots/*.png                              the card's figures (cards/plots.py)
    DIR/summary.json, DIR/example_database.jsonl
    DIR/.wavecoder/                    run state (response cache, example database); not data

`default` is always written and marked `default: true`, so `load_dataset(DIR)` never falls back
to another config: with no accepted row its file holds only the schema, and `datasets` refuses
to load the empty split instead of handing out rejected rows. Other configs without rows have
no file and are left out of `configs:` (the card's table still shows them with 0).

The folder is replaced only once the new one is complete: every file is written into
`DIR/.wavecoder/staging-PID/` first, then swapped in, so a failure while writing leaves the
previous dataset as it was.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from cards.dataset_card import render_dataset_card
from cards.plots import write_card_plots
from pipeline.corpus.rows import SOURCE_FIELDS
from pipeline.generation.records import (
    ACCEPTED,
    COMMON_COLUMNS,
    CONTAMINATED,
    DATASET_COLUMNS,
    FAILED,
    OUTCOME_COLUMNS,
    REJECTED,
    USAGE_ROLES,
    VERIFIED,
    in_selection_order,
)
from pipeline.layout import (
    DEFAULT_CONFIG,
    PLOTS_DIR,
    README,
    REPLACED_PREFIX,
    SHARD,
    STAGING_PREFIX,
    STATE_DIR,
    SUMMARY_FILE,
    config_folder,
)

logger = logging.getLogger("wavecoder.writer")


def features(source_fields: list[str], with_outcome: bool):
    """The schema of the accepted configs, or with `with_outcome` of `rejected`, `failed` and
    `contaminated` (which have the outcome columns and not `prompt` / `completion`)."""
    from datasets import Features, Value

    text = Value("string")
    usage = {"prompt_tokens": Value("int64"), "completion_tokens": Value("int64")}
    turns = [{"role": text, "content": text}]
    spec: dict[str, Any] = {
        "id": text,
        "task": text,
        "language": text,
        "target_language": text,
        "instruction": text,
        "input": text,
        "output": text,
        "messages": turns,
        "prompt": turns,
        "completion": turns,
        "source_code": text,
        "source": {name: text for name in source_fields},
        "generator_model": text,
        "discriminator_model": text,
        "judgement": {
            "rules": [{"rule": text, "passed": Value("bool"), "reason": text}],
            "overall": Value("bool"),
        },
        "execution": {
            "status": text,
            "reason": text,
            "tests": [{"language": text, "code": text}],
            "checks": [
                {
                    "name": text,
                    "language": text,
                    "expected": text,
                    "passed": Value("bool"),
                    "result": text,
                }
            ],
            "language": text,
            "toolchain": text,
            "duration_s": Value("float64"),
            "stdout_tail": text,
            "stderr_tail": text,
        },
        "usage": {role: usage for role in USAGE_ROLES},
    }
    if with_outcome:
        spec = {name: spec[name] for name in COMMON_COLUMNS}
        spec.update(
            status=text,
            stage=text,
            reasons=[{"check": text, "message": text}],
            selection_rank=Value("int64"),
            raw_generation=text,
            raw_judgement=text,
            duplicate_of=text,
            contamination=[
                {
                    "benchmark": text,
                    "item": text,
                    "method": text,
                    "score": Value("float64"),
                    "field": text,
                }
            ],
        )
    return Features(spec)


def write_dataset_folder(
    records: list[dict[str, Any]],
    output_dir: str | Path,
    *,
    tasks: list[str],
    summary: dict[str, Any] | None = None,
    title: str = "CodeOcean",
    card_context: dict[str, Any] | None = None,
    plot_context: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Write every config of `records` into `output_dir`; returns rows per config.

    ``card_context``: extra arguments of `cards.dataset_card.render_dataset_card` (recipe,
    corpus_report, languages) for the README; ``plot_context``: extra arguments of
    `cards.plots.write_card_plots` (the corpus map), whose figures go to ``plots/``.
    """
    import datasets
    import pyarrow.parquet as pq
    from datasets import Dataset

    datasets.disable_progress_bars()
    out = Path(output_dir)
    staging = out / STATE_DIR / f"{STAGING_PREFIX}{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    records = in_selection_order(records)
    source_fields = _source_fields(records)
    accepted = [r for r in records if r["status"] == ACCEPTED]
    configs: dict[str, tuple[list[dict], bool]] = {DEFAULT_CONFIG: (accepted, False)}
    for task in tasks:
        configs[task] = ([r for r in accepted if r["task"] == task], False)
    if any(r.get("execution") for r in records):  # a run with execution on
        configs[VERIFIED] = ([r for r in accepted if _passed(r)], False)
    configs[REJECTED] = ([r for r in records if r["status"] == REJECTED], True)
    configs[FAILED] = ([r for r in records if r["status"] == FAILED], True)
    configs[CONTAMINATED] = ([r for r in records if r["status"] == CONTAMINATED], True)
    counts, sizes = {}, {}
    for name, (rows, with_outcome) in configs.items():
        counts[name] = len(rows)
        feats = features(source_fields, with_outcome)
        folder = staging / config_folder(name)
        if rows:
            folder.mkdir()
            columns = [*COMMON_COLUMNS, *OUTCOME_COLUMNS] if with_outcome else DATASET_COLUMNS
            table = [_row(r, columns, source_fields) for r in rows]
            dataset = Dataset.from_list(table, features=feats)
            dataset.to_parquet(str(folder / SHARD))
            sizes[name] = {
                "num_bytes": dataset.data.nbytes,
                "download_size": (folder / SHARD).stat().st_size,
            }
        elif name == DEFAULT_CONFIG:
            folder.mkdir()
            pq.ParquetWriter(str(folder / SHARD), feats.arrow_schema).close()  # the schema only
    if summary is not None:
        (staging / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    written = [name for name in configs if (staging / config_folder(name)).exists()]
    try:
        plots = write_card_plots(records, summary or {}, staging, **(plot_context or {}))
    except Exception as exc:  # a figure never costs the rows: the card goes without pictures
        logger.warning("the dataset card's plots could not be drawn: %r", exc)
        plots = {}
    card = render_dataset_card(
        title=title,
        configs=counts,
        summary=summary,
        written=written,
        sizes=sizes,
        plots=plots,
        **(card_context or {}),
    )
    (staging / README).write_text(card, encoding="utf-8")
    # `verified` too when this run has none: a folder's earlier one must not outlive it.
    names = [config_folder(name) for name in {**configs, VERIFIED: None}]
    names += [SUMMARY_FILE, README, PLOTS_DIR]
    _swap_in(staging, out, names)
    return counts


def _swap_in(staging: Path, out: Path, names: list[str]) -> None:
    """Move the complete new folder's entries into `out`, replacing the old ones."""
    replaced = staging.with_name(f"{REPLACED_PREFIX}{os.getpid()}")
    if replaced.exists():
        shutil.rmtree(replaced)
    replaced.mkdir()
    for name in names:
        if (out / name).exists():
            (out / name).rename(replaced / name)
        if (staging / name).exists():
            (staging / name).rename(out / name)
    shutil.rmtree(replaced)
    shutil.rmtree(staging)


def _source_fields(records: list[dict]) -> list[str]:
    fields = list(SOURCE_FIELDS)
    for record in records:
        fields.extend(k for k in (record.get("source") or {}) if k not in fields)
    return fields or ["dataset"]


def _passed(record: dict) -> bool:
    """The case passed its sandbox checks (a summarization's is `not_applicable`: not verified)."""
    return (record.get("execution") or {}).get("status") == "passed"


def _row(record: dict, columns: list[str], source_fields: list[str]) -> dict:
    row = {column: record.get(column) for column in columns}
    usage = record.get("usage") or {}
    row["usage"] = {role: usage.get(role) or {"prompt_tokens": 0, "completion_tokens": 0}
                    for role in USAGE_ROLES}  # fmt: skip
    source = record.get("source") or {}
    row["source"] = {k: None if source.get(k) is None else str(source[k]) for k in source_fields}
    return row
