"""`WaveCoderArguments`: what to train on and how to format it; the rest of a recipe is TRL's
`SFTConfig` and `ModelConfig`. Every field's help is written once, here, and is what
`wavecoder train --help` and `python training/sft.py --help` print."""

from __future__ import annotations

from dataclasses import dataclass, field

TASKS = ("generation", "summarization", "repair", "translation")


@dataclass
class WaveCoderArguments:
    dataset_name: str = field(
        default=None,
        metadata={
            "help": "CodeOcean dataset: a folder written by `wavecoder generate` or a Hub repo id."
        },
    )
    dataset_revision: str | None = field(
        default=None,
        metadata={
            "help": "Hub revision (branch, tag or commit) of `dataset_name`; recorded in the card."
        },
    )
    dataset_configs: list[str] = field(
        default_factory=lambda: ["default"],
        metadata={
            "help": "Configs to train on: `default` (every accepted row) or task configs "
            "(generation, summarization, repair, translation)."
        },
    )
    drop_tasks: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Tasks left out of the chosen configs (the paper's drop-one-task ablation)."
        },
    )
    max_train_rows: int | None = field(
        default=None,
        metadata={"help": "Train on the first N rows only (smoke runs); None trains on all."},
    )
    prompt_format: str = field(
        default="alpaca",
        metadata={
            "help": "`alpaca`: the paper's Alpaca prompt, saved as the model's chat template; "
            "`chat`: the tokenizer's own chat template."
        },
    )
    requires_cuda: bool = field(
        default=True,
        metadata={
            "help": "Stop before loading the model when no CUDA device is present (GPU recipes); "
            "the small recipe sets it false to run on a CPU."
        },
    )
    merge_adapter: bool = field(
        default=False,
        metadata={
            "help": "LoRA/QLoRA: also write (and push) the adapter merged into the base model."
        },
    )
    model_license: str | None = field(
        default=None,
        metadata={
            "help": "The card's `license` (the base model's); read from the base model's card when unset."
        },
    )
