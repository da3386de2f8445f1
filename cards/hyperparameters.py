"""The hyperparameters a training run actually used, read from its Trainer after training: what
the model card reports beside the paper's settings (`cards.model_card`)."""

from __future__ import annotations

from typing import Any


def training_hyperparameters(trainer) -> dict[str, Any]:
    """The settings the run actually used, read from `trainer` (a transformers/TRL Trainer) after
    training: its args, its state, and the LoRA config when the model is a PEFT model.
    `warmup_steps` is the resolved step count (a ratio also gives `warmup_ratio`); `max_steps` is
    None when epochs bounded the run; `global_batch_size` is rows per optimizer step."""
    args, state, model = trainer.args, trainer.state, trainer.model
    sharding = _sharding(trainer)
    world_size = int(getattr(args, "world_size", 1) or 1)
    hp: dict[str, Any] = {
        "learning_rate": args.learning_rate,
        "lr_scheduler_type": _name(args.lr_scheduler_type),
        **_warmup(args, state),
        "optim": _name(args.optim),
        "weight_decay": args.weight_decay,
        "num_train_epochs": args.num_train_epochs,
        "max_steps": args.max_steps if args.max_steps and args.max_steps > 0 else None,
        "per_device_train_batch_size": args.per_device_train_batch_size,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "world_size": world_size,
        # `train_batch_size` counts every GPU one process drives (DataParallel), as the Trainer does.
        "global_batch_size": int(
            getattr(args, "train_batch_size", args.per_device_train_batch_size)
        )
        * args.gradient_accumulation_steps
        * world_size,
        "max_length": getattr(args, "max_length", None),
        "packing": bool(getattr(args, "packing", False)),
        # TRL's None means "on" for the prompt-completion rows wavecoder trains on.
        "completion_only_loss": getattr(args, "completion_only_loss", None) is not False,
        "precision": "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
        "model_dtype": _name(getattr(model, "dtype", None)),
        "gradient_checkpointing": _checkpointing(args),
        "distributed": sharding,
        "seed": args.seed,
        "global_step": state.global_step,
        "epoch": round(state.epoch, 2) if state.epoch is not None else None,
        **_parameter_counts(model, sharding),
    }
    lora = _lora_config(model)
    if lora is not None:
        hp.update(
            lora_r=lora.r,
            lora_alpha=lora.lora_alpha,
            lora_dropout=lora.lora_dropout,
            lora_target_modules=_modules(lora.target_modules),
            load_in_4bit=_loaded_in_4bit(model),
        )
    return hp


def _name(value) -> str | None:
    """An enum's value (`SchedulerType.LINEAR` -> "linear"), a dtype without `torch.`."""
    if value is None:
        return None
    value = getattr(value, "value", value)
    return str(value).removeprefix("torch.")


def _warmup(args, state) -> dict[str, Any]:
    # transformers 5 takes a ratio as a float < 1 in `warmup_steps`; 4.x had `warmup_ratio`.
    ratio = getattr(args, "warmup_ratio", None) or None
    steps = args.warmup_steps
    if isinstance(steps, float) and 0 < steps < 1:
        ratio, steps = steps, 0
    if state.max_steps and hasattr(args, "get_warmup_steps"):
        steps = args.get_warmup_steps(state.max_steps)
    return {"warmup_steps": int(steps), **({"warmup_ratio": ratio} if ratio else {})}


def _checkpointing(args) -> bool:
    # transformers 5 renamed it `activation_checkpointing`; the old name is read by 4.x.
    value = getattr(args, "activation_checkpointing", None)
    return bool(args.gradient_checkpointing if value is None else value)


def _sharding(trainer) -> str | None:
    """`FSDP<version>` or `DeepSpeed ZeRO-<stage>`, read from the accelerator: an
    `accelerate launch --config_file` sets them up without any TrainingArguments field."""
    state = getattr(getattr(trainer, "accelerator", None), "state", None)
    if (fsdp := getattr(state, "fsdp_plugin", None)) is not None:
        return f"FSDP{getattr(fsdp, 'fsdp_version', None) or 1}"
    if (deepspeed := getattr(state, "deepspeed_plugin", None)) is not None:
        return f"DeepSpeed ZeRO-{deepspeed.zero_stage}"
    return None


def _parameter_counts(model, sharding: str | None) -> dict[str, int]:
    if sharding == "FSDP1":
        # FSDP1 leaves each process flat shards: a count would be a shard's. (FSDP2's DTensors
        # and ZeRO-3's `ds_numel` report full sizes.)
        return {}
    if hasattr(model, "get_nb_trainable_parameters"):
        # PEFT counts 4-bit packed weights at their real size; numel() would halve them.
        trainable, total = model.get_nb_trainable_parameters()
    else:
        # DeepSpeed ZeRO-3 empties `p` and keeps the full size in `ds_numel`.
        sizes = [(getattr(p, "ds_numel", None) or p.numel(), p.requires_grad)
                 for p in model.parameters()]  # fmt: skip
        trainable = sum(n for n, grad in sizes if grad)
        total = sum(n for n, _ in sizes)
    return {"trainable_parameters": int(trainable), "parameters": int(total)}


def _lora_config(model):
    configs = getattr(model, "peft_config", None)
    if not configs:
        return None
    config = configs.get("default") or next(iter(configs.values()))
    return config if hasattr(config, "lora_alpha") else None


def _modules(target) -> list[str] | str | None:
    if target is None or isinstance(target, str):
        return target  # "all-linear" or a regex stays as written
    return sorted(target)


def _loaded_in_4bit(model) -> bool:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if getattr(base, "is_loaded_in_4bit", False):
        return True
    quantization = getattr(getattr(base, "config", None), "quantization_config", None)
    if isinstance(quantization, dict):
        return bool(quantization.get("load_in_4bit"))
    return bool(getattr(quantization, "load_in_4bit", False))
