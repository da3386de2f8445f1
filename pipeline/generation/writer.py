"""The Hub-ready dataset folder: parquet per config, a README with `configs:` front matter.

Layout (loadable with `datasets.load_dataset(DIR)` and `load_dataset(DIR, "repair")`):

    DIR/README.md                      dataset card with the configs
    DIR/data/train-00000-of-00001.parquet        `default`: every accepted row
    DIR/<task>/train-00000-of-00001.parquet      one config per code task (accepted rows)
    DIR/rejected/train-00000-of-00001.parquet    rejected rows with stage and reasons
    DIR/failed/train-00000-of-00001.parquet      rows the endpoint never answered (retried next run)

A config without rows has no file and is not listed in `configs:` (`datasets` cannot load an
empty split); the card's table still shows it with 0.
    DIR/summary.json, DIR/example_database.jsonl
    DIR/.wavecoder/                    run state (response cache, example database); not data
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pipeline.generation.records import ACCEPTED, DATASET_COLUMNS, FAILED, OUTCOME_COLUMNS, REJECTED

SHARD = "train-00000-of-00001.parquet"


def features(source_fields: list[str], with_outcome: bool):
    from datasets import Features, Value

    text = Value("string")
    usage = {"prompt_tokens": Value("int64"), "completion_tokens": Value("int64")}
    spec: dict[str, Any] = {
        "id": text,
        "task": text,
        "language": text,
        "target_language": text,
        "instruction": text,
        "input": text,
        "output": text,
        "messages": [{"role": text, "content": text}],
        "source_code": text,
        "source": {name: text for name in source_fields},
        "generator_model": text,
        "discriminator_model": text,
        "judgement": {
            "rules": [{"rule": text, "passed": Value("bool"), "reason": text}],
            "overall": Value("bool"),
        },
        "usage": {"generator": usage, "discriminator": usage},
    }
    if with_outcome:
        spec.update(
            status=text,
            stage=text,
            reasons=[{"check": text, "message": text}],
            selection_rank=Value("int64"),
            raw_generation=text,
            raw_judgement=text,
        )
    return Features(spec)


def write_dataset_folder(
    records: list[dict[str, Any]],
    output_dir: str | Path,
    *,
    tasks: list[str],
    summary: dict[str, Any] | None = None,
    title: str = "CodeOcean",
) -> dict[str, int]:
    """Write every config of `records` into `output_dir`; returns rows per config."""
    import datasets
    from datasets import Dataset

    datasets.disable_progress_bars()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = sorted(records, key=lambda r: (r.get("selection_rank", -1), r["id"]))
    source_fields = _source_fields(records)
    accepted = [r for r in records if r["status"] == ACCEPTED]
    configs: dict[str, tuple[list[dict], bool]] = {"default": (accepted, False)}
    for task in tasks:
        configs[task] = ([r for r in accepted if r["task"] == task], False)
    configs[REJECTED] = ([r for r in records if r["status"] == REJECTED], True)
    configs[FAILED] = ([r for r in records if r["status"] == FAILED], True)
    counts = {}
    for name, (rows, with_outcome) in configs.items():
        folder = out / ("data" if name == "default" else name)
        if folder.exists():
            shutil.rmtree(folder)
        counts[name] = len(rows)
        if not rows:
            # `datasets` cannot load an empty split, so an empty config has no files and is left
            # out of the card's `configs:` (its row count still shows).
            continue
        folder.mkdir(parents=True)
        columns = [*DATASET_COLUMNS, *(OUTCOME_COLUMNS if with_outcome else ())]
        table = [_row(r, columns, source_fields) for r in rows]
        feats = features(source_fields, with_outcome)
        Dataset.from_list(table, features=feats).to_parquet(str(folder / SHARD))
    if summary is not None:
        (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "README.md").write_text(render_card(title, counts, summary), encoding="utf-8")
    return counts


def _source_fields(records: list[dict]) -> list[str]:
    try:
        from pipeline.corpus.rows import SOURCE_FIELDS

        fields = list(SOURCE_FIELDS)
    except ImportError:
        fields = []
    for record in records:
        fields.extend(k for k in (record.get("source") or {}) if k not in fields)
    return fields or ["dataset"]


def _row(record: dict, columns: list[str], source_fields: list[str]) -> dict:
    row = {column: record.get(column) for column in columns}
    source = record.get("source") or {}
    row["source"] = {k: None if source.get(k) is None else str(source[k]) for k in source_fields}
    return row


def render_card(title: str, counts: dict[str, int], summary: dict[str, Any] | None) -> str:
    configs = []
    for name in (name for name, n in counts.items() if n):
        path = "data" if name == "default" else name
        configs.append(
            f"- config_name: {name}\n  data_files:\n  - split: train\n    path: {path}/train-*.parquet"
        )
    front = "\n".join(
        [
            "---",
            "configs:",
            *configs,
            "task_categories:",
            "- text-generation",
            "tags:",
            "- code",
            "- synthetic",
            "- distilabel",
            "- wavecoder",
            "---",
        ]
    )
    rows = "\n".join(f"| `{name}` | {n} |" for name, n in counts.items())
    rate = (summary or {}).get("acceptance_rate")
    figures = f"\nAcceptance rate of judged rows: {rate:.1%}.\n" if rate is not None else ""
    return f"""{front}

# {title}

Instruction data for code LLMs built with the WaveCoder method: raw functions selected by
KCenterGreedy, turned into code generation, summarization, repair and translation cases by an LLM
generator, and kept only when an LLM discriminator passed every rule.

| config | rows |
|---|---|
{rows}
{figures}
```python
from datasets import load_dataset

ds = load_dataset("PATH_OR_REPO_ID", split="train")            # every accepted row
repair = load_dataset("PATH_OR_REPO_ID", "repair", split="train")
```

Columns: `instruction`, `input`, `output` (Alpaca), `messages` (chat format for TRL's SFTTrainer),
`source_code` and `source` (provenance and licence), `judgement` (each rule's verdict and reason),
`usage` (tokens of both LLM calls). `rejected` adds `status`, `stage` and `reasons`; `failed`
holds rows the endpoint never answered. `summary.json` has the run's figures and
`example_database.jsonl` the good and bad cases the generator learnt from.
"""
