"""Stop a GPU recipe on a machine without CUDA before any model is loaded, with one message.

TRL's `SFTConfig` itself refuses `bf16` without a GPU while the arguments are parsed, with a
message about `use_cpu`; a 6.7B model trained in fp32 on a CPU would take weeks. So the recipe's
`requires_cuda` and the precision flags are read first, from the same YAML and flags the script
parses, and explained in terms of the recipes.
"""

from __future__ import annotations

from wavecoder.errors import UserError

CPU_RECIPE = "training/recipes/smollm2-135m/sft/config_full.yaml"


def check_device(argv: list[str]) -> None:
    """Raise a `UserError` when the run these arguments describe needs CUDA and none is here."""
    import torch
    from trl import ModelConfig, TrlParser

    from training.configs import WaveCoderArguments

    if torch.cuda.is_available():
        return
    parser = TrlParser((WaveCoderArguments, ModelConfig))
    script_args, model_args, rest = parser.parse_args_and_config(
        args=list(argv), return_remaining_strings=True
    )
    needs = []
    if script_args.requires_cuda:
        needs.append("`requires_cuda` is true (the default; CPU recipes set it false)")
    if model_args.load_in_4bit or model_args.load_in_8bit:
        needs.append("4-/8-bit loading (QLoRA) needs bitsandbytes on a CUDA GPU")
    if _bf16_requested(rest):
        needs.append("`bf16: true` needs a GPU")
    if needs:
        raise UserError(
            "this run needs a CUDA GPU and none is visible: "
            + "; ".join(needs)
            + f". On a CPU, run the small recipe ({CPU_RECIPE}); to train this model on a CPU "
            "anyway (full or LoRA, not 4-/8-bit), pass `--requires_cuda false --bf16 false "
            "--dtype float32`."
        )


def _bf16_requested(rest: list[str]) -> bool:
    """Whether `bf16` is on in the remaining YAML/flag strings (SFTConfig's default is on)."""
    value = "true"
    for index, item in enumerate(rest):
        if item == "--bf16":
            following = rest[index + 1] if index + 1 < len(rest) else "true"
            value = "true" if following.startswith("--") else following
        elif item.startswith("--bf16="):
            value = item.split("=", 1)[1]
    return value.lower() in ("true", "1", "yes")
