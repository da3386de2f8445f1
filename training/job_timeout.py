"""How long an HF Jobs training run may take: the `timeout` `wavecoder train --job` sends when
`--timeout` is not given.

tokens = rows x mean characters of instruction + input + output / 3.5 (each row capped at
`max_length`) x epochs (or `max_steps` x rows per step), with the rows read from the recipe's
configs of its Hub dataset (minus `drop_tasks`, up to `max_train_rows`); seconds = tokens / a
rough tokens/s figure for the flavor's GPUs and the model's class (`GPU_TOKENS_PER_S`), x 1.5,
plus set-up, and at least 30 min. Recipe values are read as `training/jobs.py::recipe_settings`
gives them: YAML values, or strings from flags.
"""

from __future__ import annotations

import re
import tempfile
from typing import Any

from wavecoder.errors import UserError

CHARS_PER_TOKEN = 3.5
TIMEOUT_MARGIN = 1.5
SETUP_S = 15 * 60  # uv installs torch and the package, the model downloads, the last push
TIMEOUT_FLOOR_S = 30 * 60
DEFAULT_MAX_LENGTH = 1024  # SFTConfig's
DEFAULT_EPOCHS = 3.0  # TrainingArguments'
# Rough training throughput of ONE GPU in tokens/s, for a ~7B model fully fine-tuned, a ~7B model
# with LoRA, and a small model (<= 3B): bf16 peak FLOP/s x ~35% utilisation / FLOPs per token
# (8 x parameters with gradient checkpointing, 6 x with LoRA; 6.7B and 1.3B parameters). None: it
# does not fit (7B full needs ~80 GB per GPU even with Adafactor; 7B LoRA in bf16 ~24 GB).
GPU_TOKENS_PER_S = {
    "T4": (None, None, 2000),
    "L4": (None, 1000, 4000),
    "A10G": (None, 600, 2300),
    "L40S": (None, 3100, 12000),
    "A100 80GB": (2000, 2700, 10500),
    "H200": (6400, 8600, 33000),
    "RTX PRO 6000": (3200, 4300, 16800),
}
FLAVOR_GPUS = {
    "t4-small": ("T4", 1), "t4-medium": ("T4", 1), "l4x1": ("L4", 1), "l4x4": ("L4", 4),
    "l40sx1": ("L40S", 1), "l40sx4": ("L40S", 4), "l40sx8": ("L40S", 8),
    "a10g-small": ("A10G", 1), "a10g-large": ("A10G", 1), "a10g-largex2": ("A10G", 2),
    "a10g-largex4": ("A10G", 4), "a100-large": ("A100 80GB", 1), "a100x4": ("A100 80GB", 4),
    "a100x8": ("A100 80GB", 8), "h200": ("H200", 1), "h200x2": ("H200", 2),
    "h200x4": ("H200", 4), "h200x8": ("H200", 8), "rtx-pro-6000": ("RTX PRO 6000", 1),
    "rtx-pro-6000x2": ("RTX PRO 6000", 2), "rtx-pro-6000x4": ("RTX PRO 6000", 4),
    "rtx-pro-6000x8": ("RTX PRO 6000", 8),
}  # fmt: skip
# `uv run` starts one process: the Trainer spreads each batch over the GPUs with DataParallel.
MULTI_GPU_EFFICIENCY = 0.7
CLASS_NAMES = ("7B full", "7B LoRA", "small")


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def as_list(value: Any, default: list[str]) -> list[str]:
    if value is None:
        return default
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def parse_timeout(text: str) -> int:
    """Seconds of a duration such as `90m`, `6h`, `1.5d` or `3600` (seconds)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text))
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
    seconds = float(match[1]) * unit[match[2]] if match else 0
    if seconds < 1:
        raise UserError(f"--timeout {text!r}: give a duration such as 90m, 6h or 1.5d")
    return int(seconds)


def format_duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes} min"


def estimate_timeout(api, settings: dict[str, Any], flavor: str) -> tuple[int, str]:
    """(timeout in seconds, how it was computed) from the dataset on the Hub and the flavor."""
    gpu, count = FLAVOR_GPUS.get(flavor, (None, 0))
    if gpu is None:
        raise UserError(
            f"no throughput figure for {flavor} to estimate the timeout: pass --timeout"
        )
    model = str(settings.get("model_name_or_path") or "")
    params_b = model_size_b(model)
    if params_b is None:
        raise UserError(
            f"cannot tell the size of {model or 'the model'} from its id, so the timeout cannot be "
            "estimated: pass --timeout (e.g. --timeout 12h)"
        )
    lora = as_bool(settings.get("use_peft")) or as_bool(settings.get("load_in_4bit"))
    column = 2 if params_b is not None and params_b <= 3 else 1 if lora else 0
    per_gpu = GPU_TOKENS_PER_S[gpu][column]
    if per_gpu is None:
        raise UserError(
            f"{model or 'the model'} ({CLASS_NAMES[column]}) does not fit on {flavor} ({gpu}): "
            "use LoRA (--use_peft true), a flavor with 80 GB GPUs (a100-large, h200), or pass "
            "--timeout"
        )
    scale = 6.7 / params_b if params_b is not None and params_b > 10 else 1.0
    speed = per_gpu * count * (MULTI_GPU_EFFICIENCY if count > 1 else 1.0) * scale
    max_length = int(settings.get("max_length") or DEFAULT_MAX_LENGTH)
    rows, tokens, source = dataset_tokens(api, settings, max_length)
    max_steps = int(settings.get("max_steps") or -1)
    if max_steps > 0:
        batch = (
            int(settings.get("per_device_train_batch_size") or 8)
            * int(settings.get("gradient_accumulation_steps") or 1)
            * count
        )
        trained = tokens / rows * max_steps * batch
        passes = f"x {max_steps} steps of {batch} rows"
    else:
        epochs = float(settings.get("num_train_epochs") or DEFAULT_EPOCHS)
        trained = tokens * epochs
        passes = f"x {epochs:g} epochs"
    hours = trained / speed / 3600
    timeout_s = max(TIMEOUT_FLOOR_S, int(trained / speed * TIMEOUT_MARGIN + SETUP_S))
    size = f"{params_b:g}B parameters"
    how = (
        f"  rows:    {rows:,} ({source})\n"
        f"  tokens:  {tokens / rows:,.0f} per row (instruction + input + output characters / "
        f"{CHARS_PER_TOKEN}, at most max_length {max_length}) {passes} = {trained / 1e6:,.1f}M\n"
        f"  speed:   ~{speed:,.0f} tokens/s on {flavor} ({count} x {gpu}; {model or 'model'}: "
        f"{size}, {CLASS_NAMES[column]}; a rough estimate)\n"
        f"  time:    {hours:,.1f} h x {TIMEOUT_MARGIN} margin + {SETUP_S // 60} min set-up "
        f"(at least {TIMEOUT_FLOOR_S // 60} min)"
    )
    return timeout_s, how


# Bases whose id names no size.
KNOWN_SIZES_B = {"bigcode/starcoder": 15.5, "bigcode/starcoderbase": 15.5}


def model_size_b(model: str) -> float | None:
    """Billions of parameters named in a model id (`deepseek-coder-6.7b-base`: 6.7), or known for
    it (`bigcode/starcoder`), else None."""
    if model.lower() in KNOWN_SIZES_B:
        return KNOWN_SIZES_B[model.lower()]
    match = re.search(r"(\d+(?:\.\d+)?)([bm])(?![a-z])", model.rsplit("/", 1)[-1].lower())
    if not match:
        return None
    return float(match[1]) / (1000 if match[2] == "m" else 1)


def dataset_tokens(api, settings: dict[str, Any], max_length: int) -> tuple[int, float, str]:
    """(rows, tokens per epoch, where they came from): the training rows of the recipe's configs
    of its Hub dataset (minus `drop_tasks`, up to `max_train_rows`), read from its parquet files."""
    import pyarrow.parquet as pq
    from huggingface_hub.errors import RepositoryNotFoundError

    from pipeline.layout import config_folder

    repo_id = str(settings["dataset_name"])
    revision = settings.get("dataset_revision")
    configs = as_list(settings.get("dataset_configs"), ["default"])
    drop = set(as_list(settings.get("drop_tasks"), []))
    seen: set[str] = set()
    lengths: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as cache:
            for config in configs:
                folder = config_folder(config)
                files = [
                    f.path
                    for f in api.list_repo_tree(
                        repo_id, folder, recursive=True, repo_type="dataset", revision=revision
                    )
                    if f.path.endswith(".parquet")
                ]
                if not files:
                    raise UserError(
                        f"dataset {repo_id} has no parquet file under {folder}/ (config {config})"
                    )
                for name in sorted(files):
                    path = api.hf_hub_download(
                        repo_id, name, repo_type="dataset", revision=revision, cache_dir=cache
                    )
                    columns = ["id", "task", "instruction", "input", "output"]
                    for row in pq.read_table(path, columns=columns).to_pylist():
                        # `default` and a task config hold the same rows: each counts once.
                        if row["id"] in seen or row["task"] in drop:
                            continue
                        seen.add(row["id"])
                        chars = sum(len(row[k] or "") for k in ("instruction", "input", "output"))
                        lengths.append(min(chars / CHARS_PER_TOKEN, max_length))
    except RepositoryNotFoundError:
        raise UserError(
            f"dataset {repo_id} is not on the Hub (or your token cannot read it): push it with "
            f"`wavecoder push DIR --repo-id {repo_id}`, or fix dataset_name"
        ) from None
    except UserError:
        raise
    except Exception as exc:  # offline, unreachable, unexpected files: the user can still launch
        raise UserError(
            f"could not read dataset {repo_id} from the Hub to estimate the job's duration "
            f"({type(exc).__name__}: {exc}): pass --timeout (e.g. --timeout 6h)"
        ) from None
    max_rows = settings.get("max_train_rows")
    if max_rows is not None:
        lengths = lengths[: int(max_rows)]
    if not lengths:
        raise UserError(
            f"no row to train on in {repo_id} (configs {configs}, dropped {sorted(drop)})"
        )
    at = f"@{revision}" if revision else ""
    return len(lengths), sum(lengths), f"{repo_id}{at}, configs {', '.join(configs)}"
