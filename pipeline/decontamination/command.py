"""`wavecoder decontaminate SOURCE --output DIR`: check an existing dataset against the benchmarks.

SOURCE is a folder written by `wavecoder generate` (every config is read back, the accepted rows
are checked again with these settings, and the folder is rewritten to DIR with its card), or any
instruction dataset: a Hub id, a local dataset folder, or a .jsonl/.json/.parquet/.csv file, whose
columns are named with ``--columns instruction=...,input=...,output=...``. DIR then gets the clean
rows as `default`, the flagged ones with their flags as `contaminated`, a `summary.json` and a
card with the decontamination section.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from wavecoder.errors import UserError

FIELDS = ("instruction", "input", "output")
SUFFIX_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def register(subparsers) -> None:
    d = subparsers.add_parser(
        "decontaminate",
        help="check a dataset against HumanEval, MBPP and HumanEvalPack; flagged rows go to "
        "a `contaminated` config",
        description=__doc__.split("\n\n", 1)[1],
    )
    d.add_argument("source", help="a `wavecoder generate` folder, a Hub dataset id, a local "
                   "dataset folder or a .jsonl/.json/.parquet/.csv file")  # fmt: skip
    d.add_argument("--output", required=True, metavar="DIR", help="folder to write")
    d.add_argument("--columns", help="field=column pairs, e.g. instruction=prompt,output=response "
                   "(default: the columns named instruction, input, output)")  # fmt: skip
    d.add_argument("--config", help="Hub dataset config (name) to load")
    d.add_argument("--split", default="train", help="split to load (default: train)")
    d.add_argument("--id-column", help="column holding row ids (default: id, else the row number)")
    d.add_argument("--benchmarks", help="comma-separated: humaneval, mbpp, humanevalpack[-LANG] "
                   "(default: all three)")  # fmt: skip
    d.add_argument("--benchmark-dir", metavar="DIR", help="local benchmark copies")
    d.add_argument("--nearest-k", type=int, metavar="K",
                   help="also flag each benchmark problem's K nearest rows (the paper's Ultra: 3)")  # fmt: skip
    d.add_argument("--ngram-size", type=int, metavar="N", help="n-gram size (default 10)")
    d.add_argument("--embedding-model", help="sentence-transformers model for the embedding "
                   "method and the leakage figure (default: the run's, else the recipe default)")  # fmt: skip
    d.add_argument("--embedding-threshold", type=float, help="cosine at which a row is flagged")
    d.add_argument("--dedup", action="store_true", help="also drop near-duplicates (MinHash)")
    d.add_argument("--dry-run", action="store_true",
                   help="load everything and say what would be checked; write nothing")  # fmt: skip
    d.set_defaults(func=_decontaminate)


def _decontaminate(args: argparse.Namespace) -> int:
    from pipeline.decontamination.config import DecontaminationConfig, validate_decontamination
    from pipeline.recipe import EmbeddingsConfig

    source = args.source
    ours = _is_our_folder(Path(source).expanduser())
    summary = _read_summary(Path(source).expanduser()) if ours else {}
    config = DecontaminationConfig(
        **{
            **(summary.get("decontamination") or {}).get("settings", {}),
            **_overrides(args),
        }
    )
    validate_decontamination(config)
    model = args.embedding_model or (summary.get("lineage") or {}).get("embedding_model")
    embeddings = EmbeddingsConfig(**({"model": model} if model else {}))
    out = Path(args.output).expanduser().resolve()
    check_output(Path(source).expanduser(), out)
    records = _our_records(Path(source).expanduser()) if ours else _external_rows(source, args)
    if args.dry_run:
        from pipeline.decontamination.stages import load_benchmarks

        benchmarks = load_benchmarks(config)
        print(
            f"wavecoder decontaminate (dry run): {len(records)} rows of {source} against "
            f"{len(benchmarks.items)} benchmark items ({', '.join(benchmarks.sources) or 'none'}"
            + (f"; skipped: {', '.join(benchmarks.skipped)}" if benchmarks.skipped else "")
            + f"); embeddings {embeddings.model}; nothing written"
        )
        return 0
    if ours:
        from pipeline.decontamination.rewrite import rewrite_our_folder

        counts = rewrite_our_folder(
            records, summary, config, embeddings, Path(source).expanduser(), out, dedup=args.dedup
        )
    else:
        from pipeline.decontamination.rewrite import write_external

        counts = write_external(records, source, config, embeddings, out, dedup=args.dedup)
    print(
        f"wavecoder decontaminate: {counts.get('default', 0)} clean rows, "
        f"{counts.get('contaminated', 0)} contaminated -> {out} "
        f"(load_dataset({str(out)!r}, 'contaminated'))"
    )
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if args.benchmarks:
        values["benchmarks"] = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    for flag, key in (
        ("benchmark_dir", "benchmark_dir"),
        ("nearest_k", "nearest_k"),
        ("ngram_size", "ngram_size"),
        ("embedding_threshold", "embedding_threshold"),
    ):
        if getattr(args, flag) is not None:
            values[key] = getattr(args, flag)
    return values


def check_output(source: Path, out: Path) -> None:
    """The output folder must be a new place: writing into the source (or a folder holding it,
    or inside it) could replace files of the source the command did not read."""
    if not source.exists():
        return  # a Hub id
    src = source.resolve()
    if out == src or src in out.parents or out in src.parents:
        raise UserError(
            f"--output {str(out)!r} overlaps the source {str(src)!r}; give a new folder (the "
            "source is never rewritten in place)"
        )


def _is_our_folder(path: Path) -> bool:
    """A folder `wavecoder generate` wrote: its summary has the run's lineage (a folder that
    `decontaminate` wrote from another dataset has a summary too, without it)."""
    from pipeline.layout import README, SUMMARY_FILE

    if not (path.is_dir() and (path / SUMMARY_FILE).is_file() and (path / README).is_file()):
        return False
    try:
        return "lineage" in json.loads((path / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False


def _read_summary(path: Path) -> dict[str, Any]:
    from pipeline.layout import SUMMARY_FILE

    try:
        return json.loads((path / SUMMARY_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path / SUMMARY_FILE} is not valid JSON: {exc}") from exc


def _our_records(folder: Path) -> list[dict[str, Any]]:
    """Every row of a `wavecoder generate` folder as a record (status, stage, reasons...)."""
    import pyarrow.parquet as pq

    from pipeline.generation.records import ACCEPTED, FAILED, REJECTED
    from pipeline.layout import DEFAULT_CONFIG, SELECTION_FILE, config_folder

    ranks: dict[str, int] = {}
    if (folder / SELECTION_FILE).exists():
        table = pq.read_table(folder / SELECTION_FILE, columns=["id", "selection_rank"])
        ranks = {r["id"]: r["selection_rank"] for r in table.to_pylist()}
    records = []
    for config in (DEFAULT_CONFIG, REJECTED, FAILED, "contaminated"):
        for path in sorted((folder / config_folder(config)).glob("*.parquet")):
            for position, row in enumerate(pq.read_table(path).to_pylist()):
                if config == DEFAULT_CONFIG:
                    row.update(status=ACCEPTED, stage="judgement", reasons=[])
                    row.setdefault("raw_generation", None)
                    row.setdefault("raw_judgement", None)
                row.setdefault("selection_rank", ranks.get(row["id"], position))
                row.setdefault("contamination", [])
                row.setdefault("duplicate_of", None)
                records.append(row)
    if not records:
        raise UserError(f"{folder} holds no rows (no parquet file in its configs)")
    return records


def parse_columns(text: str | None) -> dict[str, str]:
    """`instruction=prompt,output=response` -> {field: column}; a UserError for anything else."""
    if not text:
        return {}
    mapping = {}
    for pair in text.split(","):
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or field not in FIELDS or not column:
            raise UserError(
                f"--columns: {pair.strip()!r} is not FIELD=COLUMN with FIELD one of "
                f"{', '.join(FIELDS)} (e.g. --columns instruction=prompt,output=response)"
            )
        mapping[field] = column
    return mapping


def _external_rows(source: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The rows of another dataset, each with `_id` and `_fields` (field -> text) added."""
    dataset = load_source(source, args.config, args.split)
    mapping = parse_columns(args.columns)
    columns = list(dataset.column_names)
    if not mapping:
        mapping = {f: f for f in FIELDS if f in columns}
    missing = sorted(set(mapping.values()) - set(columns))
    if missing or not mapping:
        raise UserError(
            f"{source}: column(s) {missing or list(FIELDS)} not found; its columns are "
            f"{', '.join(columns)}. Name them with --columns instruction=...,output=..."
        )
    id_column = args.id_column or ("id" if "id" in columns else None)
    if args.id_column and args.id_column not in columns:
        raise UserError(f"--id-column {args.id_column!r} is not a column of {source}")
    rows = []
    for index, row in enumerate(dataset):
        row = dict(row)
        row["_id"] = str(row[id_column]) if id_column else f"row-{index}"
        row["_fields"] = {f: "" if row[c] is None else str(row[c]) for f, c in mapping.items()}
        rows.append(row)
    ids = [r["_id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise UserError(f"{source}: the ids in column {id_column!r} are not unique")
    return rows


def load_source(source: str, config: str | None, split: str):
    """A `datasets.Dataset` from a file, a local dataset folder or a Hub id."""
    import datasets

    path = Path(source).expanduser()
    try:
        if path.is_file():
            builder = SUFFIX_BUILDERS.get("".join(path.suffixes[-1:]).lower())
            if builder is None:
                raise UserError(
                    f"{source}: unknown file type; give .jsonl, .json, .parquet or .csv"
                )
            return datasets.load_dataset(builder, data_files=str(path), split="train")
        if path.is_dir():
            return datasets.load_dataset(str(path), config, split=split)
        return datasets.load_dataset(source, config, split=split)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"could not load {source!r} (split {split!r}): {exc}") from exc
