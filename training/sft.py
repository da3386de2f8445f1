# /// script
# requires-python = ">=3.10"
# dependencies = [
#     "trl>=1.16",
#     "transformers>=4.56",
#     "peft>=0.15",
#     "accelerate>=1.4",
#     "datasets>=3.0",
#     "bitsandbytes>=0.45; sys_platform == 'linux'",
#     "matplotlib>=3.8",
# ]
# ///
# The wavecoder package itself is not on PyPI: `wavecoder train --job` adds it with `uv run --with`
# (a git URL of this repository); locally, `pip install -e .` provides it.
"""Fine-tune a code model on CodeOcean with TRL's SFTTrainer: WaveCoder's training step.

The loss is on the response only: each row is a conversational prompt-completion pair, in the
paper's Alpaca prompt (saved with the model as its chat template) or the tokenizer's own chat
template. The run ends with the model, our model card (data lineage, hyperparameters as run,
loss plot) and, with `push_to_hub`, the upload.

Full fine-tuning (the paper's recipe, one node of 8 GPUs):
    accelerate launch --config_file training/accelerate/fsdp.yaml training/sft.py \\
        --config training/recipes/deepseek-coder-6.7b-base/sft/config_full.yaml \\
        --dataset_name ORG/codeocean

LoRA and QLoRA (one GPU; the same script, other keys):
    wavecoder train --config training/recipes/deepseek-coder-6.7b-base/sft/config_lora.yaml \\
        --dataset_name ORG/codeocean
    wavecoder train --config training/recipes/deepseek-coder-6.7b-base/sft/config_qlora.yaml \\
        --dataset_name ORG/codeocean --merge_adapter true

A CPU smoke run on a folder written by `wavecoder generate`:
    python training/sft.py --config training/recipes/smollm2-135m/sft/config_full.yaml \\
        --dataset_name codeocean --max_steps 20 --output_dir data/smoke

Multi-GPU DDP (any recipe):
    accelerate launch --config_file training/accelerate/ddp.yaml --num_processes 4 \\
        training/sft.py --config training/recipes/qwen2.5-coder-7b/sft/config_full.yaml

On HF Jobs (pushes to the Hub; prints the job URL):
    wavecoder train --job --flavor a10g-large \\
        --config training/recipes/smollm2-135m/sft/config_full.yaml \\
        --dataset_name ORG/codeocean --hub_model_id ORG/smollm2-135m-wavecoder

Resume a killed run from its last checkpoint: add `--resume_from_checkpoint true` (or a path); on a
new HF Job, `--resume_from_checkpoint hub` takes the `last-checkpoint/` pushed to `hub_model_id`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None):
    """(WaveCoderArguments, SFTConfig, ModelConfig) from `--config YAML` and flags; a GPU recipe
    on a machine without CUDA stops here, before anything is loaded."""
    from trl import ModelConfig, SFTConfig, TrlParser

    from training.configs import WaveCoderArguments
    from training.device import check_device
    from wavecoder.errors import UserError

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--config" in argv:
        config = argv[argv.index("--config") + 1] if argv.index("--config") + 1 < len(argv) else ""
        if not Path(config).is_file():
            raise UserError(f"--config: no recipe file {config!r} (see training/recipes/README.md)")
    if not {"-h", "--help"} & set(argv):  # help lists every flag, whatever the machine
        check_device(argv)
    parser = TrlParser((WaveCoderArguments, SFTConfig, ModelConfig))
    try:
        return parser.parse_args_and_config(args=argv)
    except ValueError as exc:  # unknown recipe keys or flags, bad values
        raise UserError(f"invalid training arguments: {exc}") from None


def main(script_args, training_args, model_args) -> None:
    from transformers import AutoTokenizer
    from trl import SFTTrainer, get_peft_config, get_quantization_config

    from training.base_model import base_model_license
    from training.checkpoints import resume_checkpoint
    from training.data import count_truncated, dataset_lineage, load_training_rows
    from training.formatting import prepare_tokenizer
    from training.publish import finish_run, set_generation_eos
    from wavecoder.errors import UserError

    started = time.monotonic()
    if not model_args.model_name_or_path:
        raise UserError("no model: set `model_name_or_path` in the recipe or pass it as a flag")
    resume = resume_checkpoint(training_args)  # before anything heavy: a wrong one fails at once
    dataset, rows_per_task = load_training_rows(script_args)
    tokenizer = AutoTokenizer.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
    )
    prepare_tokenizer(tokenizer, script_args.prompt_format)

    quantization = get_quantization_config(model_args)
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    if quantization is not None:
        from accelerate import PartialState

        # A quantized model is placed whole on this process's GPU.
        training_args.model_init_kwargs["device_map"] = {"": PartialState().local_process_index}
    trainer = SFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=quantization,
    )
    set_generation_eos(trainer.model, tokenizer)
    truncated = count_truncated(dataset, tokenizer, training_args.max_length)
    trainer.accelerator.print(
        f"training on {len(dataset)} rows of {script_args.dataset_name} "
        f"({', '.join(f'{task} {n}' for task, n in sorted(rows_per_task.items()))}); "
        f"{truncated} longer than max_length={training_args.max_length} tokens are truncated"
    )
    trainer.train(resume_from_checkpoint=resume)
    out = finish_run(
        trainer,
        tokenizer,
        script_args=script_args,
        training_args=training_args,
        model_args=model_args,
        lineage=dataset_lineage(script_args, rows_per_task),
        started=started,
        train_rows=len(dataset),
        truncated_rows=truncated,
        license=script_args.model_license or base_model_license(model_args.model_name_or_path),
    )
    trainer.accelerator.print(f"model, tokenizer and card saved to {out}")
    trainer.accelerator.end_training()


def run(argv: list[str] | None = None) -> int:
    """`wavecoder train` and `python training/sft.py`: parse, train; exit status."""
    main(*parse_args(argv))
    return 0


if __name__ == "__main__":
    from wavecoder.cli import run_command

    sys.exit(run_command("train", run))
