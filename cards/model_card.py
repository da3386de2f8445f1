"""The model card of a `wavecoder train` run: Hub metadata, data lineage, hyperparameters as run,
hardware, the loss plot, copy-paste inference and the WaveCoder citation, from a template.

It replaces TRL's generic card, for full fine-tunes and LoRA/QLoRA adapters alike. The scores
section sits between `SCORES_START` and `SCORES_END`; `wavecoder evaluate --model-card README.md`
fills it and the card's `model-index` (evaluation/model_card.py).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from training.formatting import ALPACA_NO_INPUT, ALPACA_WITH_INPUT

TEMPLATES = Path(__file__).parent / "templates"
README = "README.md"
LOSS_PLOT = "training_loss.png"
SCORES_START = "<!-- wavecoder:scores:start -->"
SCORES_END = "<!-- wavecoder:scores:end -->"
BASE_TAGS = ["code", "wavecoder", "trl", "sft"]

# The hyperparameters table's rows, in order: key of `training_hyperparameters` -> label. Keys a
# caller adds beyond these are shown after them under their own name.
LABELS = {
    "learning_rate": "learning rate",
    "lr_scheduler_type": "schedule",
    "warmup_steps": "warmup steps",
    "warmup_ratio": "warmup ratio",
    "optim": "optimizer",
    "weight_decay": "weight decay",
    "num_train_epochs": "epochs",
    "max_steps": "max steps",
    "per_device_train_batch_size": "batch per device",
    "gradient_accumulation_steps": "gradient accumulation",
    "world_size": "processes (world size)",
    "global_batch_size": "global batch (rows per optimizer step)",
    "max_length": "max length (tokens)",
    "packing": "packing",
    "completion_only_loss": "loss on the response only",
    "precision": "mixed precision",
    "model_dtype": "weights dtype",
    "gradient_checkpointing": "gradient checkpointing",
    "distributed": "sharding",
    "seed": "seed",
    "lora_r": "LoRA r",
    "lora_alpha": "LoRA alpha",
    "lora_dropout": "LoRA dropout",
    "lora_target_modules": "LoRA target modules",
    "load_in_4bit": "base loaded in 4 bit (QLoRA)",
    "trainable_parameters": "trainable parameters",
    "parameters": "parameters",
    "global_step": "optimizer steps run",
    "epoch": "epochs run",
}
# The paper's settings (WAVECODER.md), shown beside this run's so a deviation is visible.
PAPER_FULL = {
    "learning_rate": 5e-5, "lr_scheduler_type": "linear", "warmup_steps": 15, "optim": "adafactor",
    "weight_decay": 0, "num_train_epochs": 3, "global_batch_size": 512, "max_length": 2048,
    "precision": "bf16", "distributed": "FSDP",
}  # fmt: skip
PAPER_LORA = {"learning_rate": 1e-4, "num_train_epochs": 3, "lora_r": 8}


def describe_hardware() -> dict[str, Any]:
    """The accelerators this process sees (CUDA/ROCm GPUs by name and count, else Apple MPS, else
    CPU), the CPU cores and the torch version. `devices` counts this node's visible GPUs only."""
    import torch

    info: dict[str, Any] = {
        "accelerator": "CPU",
        "devices": 0,
        "cpu_cores": os.cpu_count(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        names = Counter()
        for i in range(count):
            gib = torch.cuda.get_device_properties(i).total_memory / 2**30
            names[f"{torch.cuda.get_device_name(i)} ({gib:.0f} GiB)"] += 1
        info["accelerator"] = ", ".join(f"{n} x {name}" for name, n in names.items())
        info["devices"] = count
        # ROCm builds answer torch.cuda too; torch.version says which runtime it is.
        if torch.version.hip:
            info["rocm"] = torch.version.hip
        else:
            info["cuda"] = torch.version.cuda
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        info.update(accelerator="Apple MPS", devices=1)
    return info


def plot_training_loss(log_history: list[dict], path: str | Path) -> Path | None:
    """A PNG at `path` of the training loss (and eval loss, when logged) against the optimizer
    step; None, and nothing written, when `log_history` holds no loss."""
    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e and "step" in e]
    if not train:
        return None
    evals = [(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e and "step" in e]
    # A Figure with its own Agg canvas leaves pyplot's global backend alone (no display needed).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(*zip(*train, strict=True), label="training loss", linewidth=1.2)
    if evals:
        axes.plot(*zip(*evals, strict=True), "o-", label="eval loss")
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("loss")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def is_hub_id(name: str | None) -> bool:
    """Whether `name` names a Hub repo (not an existing local path, and a valid repo id)."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if not name or Path(name).expanduser().exists():
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def render_model_card(
    *,
    model_name: str,
    base_model: str,
    dataset: dict[str, Any],
    hyperparameters: dict[str, Any],
    hardware: dict[str, Any],
    wall_time_s: float | None,
    prompt_format: str,
    adapter: bool,
    license: str | None,
    loss_plot: str | None,
    repo_id: str | None,
    train_rows: int,
    truncated_rows: int,
    final_loss: float | None,
    merged_repo_id: str | None = None,
) -> str:
    """The card (YAML front matter + Markdown). `dataset` holds the lineage (name, revision,
    configs, drop_tasks, rows_per_task, generator_model, discriminator_model, embedding_model, k,
    corpus; optional `local`); `loss_plot` is a path relative to the card; `wall_time_s` is in
    seconds. Only Hub ids go into the `base_model` / `datasets` metadata."""
    from huggingface_hub import ModelCardData

    dataset_name = dataset.get("name")
    dataset_on_hub = not dataset.get("local") and is_hub_id(dataset_name)
    base_on_hub = is_hub_id(base_model)
    data = ModelCardData(
        model_name=model_name,
        base_model=base_model if base_on_hub else None,
        datasets=[dataset_name] if dataset_on_hub else None,
        library_name="peft" if adapter else "transformers",
        pipeline_tag="text-generation",
        license=license or None,
        tags=BASE_TAGS + (["lora", "peft"] if adapter else []),
    )
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True
    )
    lora = "lora_r" in hyperparameters
    paper = PAPER_LORA if lora else PAPER_FULL
    body = env.get_template("model_card.md.jinja2").render(
        model_name=model_name,
        base_model=base_model,
        base_on_hub=base_on_hub,
        dataset=dataset,
        dataset_name=dataset_name,
        dataset_on_hub=dataset_on_hub,
        corpus=_corpus(dataset.get("corpus")),
        hyperparameter_rows=[
            (LABELS.get(key, key), _value(value), _value(paper[key]) if key in paper else "")
            for key, value in _ordered(hyperparameters)
        ],
        paper_column="paper (small-data LoRA ablation)" if lora else "paper (DeepSeek-Coder-6.7B)",
        hyperparameters=hyperparameters,
        hardware_line=_hardware_line(hardware),
        wall_time=_duration(wall_time_s),
        prompt_format=prompt_format,
        alpaca_with_input=ALPACA_WITH_INPUT,
        alpaca_no_input=ALPACA_NO_INPUT,
        adapter=adapter,
        merged_from_lora=lora and not adapter,
        loss_plot=loss_plot,
        repo=repo_id or f"path/to/{model_name}",
        repo_id=repo_id,
        merged_repo_id=merged_repo_id,
        train_rows=train_rows,
        truncated_rows=truncated_rows,
        final_loss=final_loss,
        scores_start=SCORES_START,
        scores_end=SCORES_END,
    )
    return f"---\n{data.to_yaml()}\n---\n\n{body}"


def write_model_card(
    output_dir: str | Path, *, log_history: list[dict] | None = None, **render_kwargs
) -> Path:
    """Write README.md (replacing one TRL or PEFT wrote) and, when `log_history` holds a loss,
    training_loss.png into `output_dir`; returns the README's path. `loss_plot` and `final_loss`
    default to what `log_history` gives."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if log_history is not None:
        plot = plot_training_loss(log_history, output_dir / LOSS_PLOT)
        if plot is None:
            # A plot left by an earlier run in this folder would be uploaded as this run's.
            (output_dir / LOSS_PLOT).unlink(missing_ok=True)
        render_kwargs.setdefault("loss_plot", LOSS_PLOT if plot else None)
        losses = [e["loss"] for e in log_history if "loss" in e]
        render_kwargs.setdefault("final_loss", losses[-1] if losses else None)
    readme = output_dir / README
    readme.write_text(render_model_card(**render_kwargs), encoding="utf-8")
    return readme


def _ordered(hyperparameters: dict[str, Any]):
    known = [(k, hyperparameters[k]) for k in LABELS if hyperparameters.get(k) is not None]
    extra = [(k, v) for k, v in hyperparameters.items() if k not in LABELS and v is not None]
    return known + extra


def _value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(f"`{v}`" for v in value)
    return str(value)


def _corpus(corpus) -> str | None:
    """The corpus as one line: a string as given, a recipe's corpus dict as source (languages)."""
    if not corpus:
        return None
    if isinstance(corpus, dict):
        langs = ", ".join(corpus.get("languages") or [])
        return f"`{corpus.get('source', '?')}`" + (f" ({langs})" if langs else "")
    return f"`{corpus}`"


def _hardware_line(hardware: dict[str, Any]) -> str:
    parts = [
        hardware.get("accelerator") or "unknown",
        *([f"CUDA {hardware['cuda']}"] if hardware.get("cuda") else []),
        *([f"ROCm {hardware['rocm']}"] if hardware.get("rocm") else []),
        *([f"{hardware['cpu_cores']} CPU cores"] if hardware.get("cpu_cores") else []),
        *([f"torch {hardware['torch']}"] if hardware.get("torch") else []),
    ]
    return ", ".join(parts)


def _duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
