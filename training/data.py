"""The rows a training run sees: chosen configs of a CodeOcean folder or Hub repo, formatted as
conversational prompt-completion pairs (training/formatting.py), and where they came from.

`load_training_rows` returns only the `prompt` and `completion` columns, so SFTTrainer has one
way to read each row and puts the loss on the completion. `dataset_lineage` reads what the card
reports about the data (the folder's or repo's `summary.json`: models, recipe, k, embedder).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.layout import SHARD_PATTERN, SUMMARY_FILE, config_folder
from training.configs import TASKS, WaveCoderArguments
from training.formatting import prompt_completion
from wavecoder.errors import UserError


def is_local(name: str) -> bool:
    return Path(name).expanduser().is_dir()


def load_training_rows(args: WaveCoderArguments):
    """The training `Dataset` (columns `prompt`, `completion`) and its rows per task. A Hub
    dataset's revision is resolved to its commit first (`args.dataset_revision` is set to it)."""
    from datasets import concatenate_datasets

    if not args.dataset_name:
        raise UserError(
            "no dataset: set `dataset_name` in the recipe or pass --dataset_name DIR_OR_ID"
        )
    unknown = sorted(set(args.drop_tasks) - set(TASKS))
    if unknown:
        raise UserError(f"drop_tasks names unknown tasks {unknown}: use some of {', '.join(TASKS)}")
    # Pinned first: the rows and the card's revision are the same commit even if the repo moves.
    args.dataset_revision = _resolved_revision(args)
    parts = [_load_config(args, config) for config in args.dataset_configs]
    dataset = concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    seen: set[str] = set()
    keep = []
    for index, (row_id, task) in enumerate(zip(dataset["id"], dataset["task"], strict=True)):
        # `default` and a task config hold the same rows: each row is trained on once.
        if row_id not in seen and task not in args.drop_tasks:
            seen.add(row_id)
            keep.append(index)
    if args.max_train_rows is not None:
        keep = keep[: args.max_train_rows]
    dataset = dataset.select(keep)
    if len(dataset) == 0:
        raise UserError(
            f"no row to train on in {args.dataset_name} (configs {args.dataset_configs}, "
            f"dropped tasks {args.drop_tasks})"
        )
    rows_per_task = dict(Counter(dataset["task"]))
    fmt = args.prompt_format
    formatted = dataset.map(
        lambda row: prompt_completion(row, fmt),
        remove_columns=dataset.column_names,
        desc=f"formatting rows ({fmt})",
    )
    return formatted, rows_per_task


def _load_config(args: WaveCoderArguments, config: str):
    if is_local(args.dataset_name):
        return _local_config(Path(args.dataset_name).expanduser(), config)
    from datasets import load_dataset

    try:
        return load_dataset(
            args.dataset_name, config, split="train", revision=args.dataset_revision
        )
    except ValueError as exc:
        raise UserError(
            f"{args.dataset_name} has no config {config!r} with rows; "
            f"choose from default, {', '.join(TASKS)} ({exc})"
        ) from None
    except FileNotFoundError as exc:
        raise UserError(
            f"cannot load {args.dataset_name}: it is neither a dataset folder written by "
            f"`wavecoder generate` nor a reachable Hub dataset ({exc})"
        ) from None


def _local_config(folder: Path, config: str):
    """A config of a local folder, read from its parquet shards.

    Not through `load_dataset(folder)`: datasets 5.2 keys its cache of a local folder by the
    folder's name and the card's `configs`, not by the files, so a regenerated folder, or another
    folder of the same name, would silently give the rows cached before.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    shards = sorted((folder / config_folder(config)).glob(SHARD_PATTERN))
    if not shards:
        present = [c for c in ("default", *TASKS) if (folder / config_folder(c)).is_dir()]
        raise UserError(
            f"{folder} has no config {config!r} with rows (it has: {', '.join(present) or 'none'}"
            "); is it a folder written by `wavecoder generate`?"
        )
    return Dataset(pa.concat_tables([pq.read_table(shard) for shard in shards]))


def dataset_lineage(args: WaveCoderArguments, rows_per_task: dict[str, int]) -> dict[str, Any]:
    """What the model card says about the data (keys of `cards.model_card.render_model_card`'s
    `dataset`); unknown values are None."""
    summary = _summary(args)
    lineage = summary.get("lineage") or {}
    models = summary.get("models") or {}
    return {
        "name": args.dataset_name,
        "local": is_local(args.dataset_name),
        "revision": args.dataset_revision,
        "configs": list(args.dataset_configs),
        "drop_tasks": list(args.drop_tasks),
        "rows_per_task": rows_per_task,
        "generator_model": lineage.get("generator_model") or models.get("generator"),
        "discriminator_model": lineage.get("discriminator_model") or models.get("discriminator"),
        "embedding_model": lineage.get("embedding_model"),
        "k": lineage.get("k"),
        "corpus": lineage.get("corpus"),
    }


def _summary(args: WaveCoderArguments) -> dict[str, Any]:
    if is_local(args.dataset_name):
        path = Path(args.dataset_name).expanduser() / SUMMARY_FILE
    else:
        try:
            from huggingface_hub import hf_hub_download

            path = Path(
                hf_hub_download(
                    args.dataset_name,
                    SUMMARY_FILE,
                    repo_type="dataset",
                    revision=args.dataset_revision,
                )
            )
        except Exception:  # a repo without a summary (not ours) or offline: lineage unknown
            return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _resolved_revision(args: WaveCoderArguments) -> str | None:
    """The commit trained on for a Hub dataset (so the card pins it); the given one otherwise."""
    if is_local(args.dataset_name):
        return args.dataset_revision
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(args.dataset_name, revision=args.dataset_revision).sha
    except Exception:
        return args.dataset_revision


def count_truncated(dataset, tokenizer, max_length: int | None) -> int:
    """Rows whose prompt + completion is longer than `max_length` tokens (SFTTrainer cuts them)."""
    if not max_length:
        return 0
    truncated = 0
    for start in range(0, len(dataset), 256):
        batch = dataset[start : start + 256]
        for prompt, completion in zip(batch["prompt"], batch["completion"], strict=True):
            ids = tokenizer.apply_chat_template(prompt + completion, tokenize=True)
            if hasattr(ids, "keys"):  # transformers 5 may return a BatchEncoding
                ids = ids["input_ids"]
            truncated += len(ids) > max_length
    return truncated
