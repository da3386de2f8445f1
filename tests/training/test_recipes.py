"""The training recipes: every YAML under training/recipes/ parses with the script's own parser
(`TrlParser((WaveCoderArguments, SFTConfig, ModelConfig))`), holds the paper's numbers, switches
LoRA and QLoRA on by keys only, and says its command, in its header and in the recipes README."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml

RECIPES_DIR = Path(__file__).resolve().parents[2] / "training" / "recipes"
RECIPES = sorted(RECIPES_DIR.glob("*/sft/config_*.yaml"))
VARIANTS = ("full", "lora", "qlora")

# base folder: (model id, global batch, GPUs the batch comment assumes, full-run learning rate).
# The first four are the paper's (WAVECODER.md, "Training"); the last two are ours: Qwen's batch
# counts 2048-token packed sequences, SmolLM2's is one device's.
BASES = {
    "deepseek-coder-6.7b-base": ("deepseek-ai/deepseek-coder-6.7b-base", 512, 8, 5e-5),
    "codellama-7b": ("codellama/CodeLlama-7b-hf", 256, 8, 2e-5),
    "codellama-13b": ("codellama/CodeLlama-13b-hf", 256, 8, 2e-5),
    "starcoder-15b": ("bigcode/starcoder", 256, 8, 2e-5),
    "qwen2.5-coder-7b": ("Qwen/Qwen2.5-Coder-7B", 64, 8, 2e-5),
    "smollm2-135m": ("HuggingFaceTB/SmolLM2-135M", 16, 1, 5e-5),
}
CPU_BASES = {"smollm2-135m"}
PAPER_LORA = {"lora_r": 8, "learning_rate": 1e-4}

LORA_KEYS = {
    "use_peft", "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "merge_adapter",
    "learning_rate",
}  # fmt: skip
QUANT_KEYS = {"load_in_4bit", "bnb_4bit_quant_type", "use_bnb_nested_quant"}
# bitsandbytes' 4-bit layers need CUDA, so a CPU base's QLoRA recipe is a GPU recipe.
DEVICE_KEYS = {"requires_cuda", "bf16", "dtype"}

BATCH_COMMENT = re.compile(
    r"^# Global batch (\d+) = (\d+) per device x (\d+) accumulation steps x (\d+) (?:GPUs?|device)\b",
    re.MULTILINE,
)
# `wavecoder train`, or `accelerate launch` with one of training/accelerate/'s configs and any
# launcher flags (e.g. `--fsdp_transformer_layer_cls_to_wrap`) before the script.
COMMAND = (
    r"(?:wavecoder train|accelerate launch --config_file training/accelerate/(?:ddp|fsdp|zero3)"
    r"\.yaml(?: --[a-z_]+ [^ -]\S*)* training/sft\.py) --config {path}(?= |$)"
)


def base_of(path: Path) -> str:
    return path.relative_to(RECIPES_DIR).parts[0]


def variant_of(path: Path) -> str:
    return path.stem.removeprefix("config_")


def rel(path: Path) -> str:
    return path.relative_to(RECIPES_DIR.parents[1]).as_posix()


@cache
def raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def bf16_gpu() -> bool:
    from transformers.utils import is_torch_bf16_gpu_available

    return is_torch_bf16_gpu_available()


def parse(path: Path, *overrides: str):
    """The recipe through the parser `training/sft.py` builds, plus command-line `overrides`."""
    from trl import ModelConfig, SFTConfig, TrlParser

    from training.configs import WaveCoderArguments

    # A fresh parser per recipe: `set_defaults_with_config` writes the YAML into the parser's
    # defaults, so a reused parser would carry one recipe's keys into the next.
    parser = TrlParser((WaveCoderArguments, SFTConfig, ModelConfig))
    return parser.parse_args_and_config(args=["--config", str(path), *overrides])


@cache
def parsed(path: Path):
    """The recipe's three dataclasses. A GPU recipe (bf16 true) on a machine without a bf16 GPU
    is parsed with `--use_cpu true`: transformers rejects bf16 there at `__post_init__` unless
    use_cpu is set, and use_cpu is the one key no recipe sets, so every value read below is the
    recipe's own."""
    if raw(path).get("bf16") and not bf16_gpu():
        return parse(path, "--use_cpu", "true")
    return parse(path)


def ids(paths):
    return [p.relative_to(RECIPES_DIR).as_posix() for p in paths]


def test_every_base_has_full_lora_and_qlora_and_nothing_else():
    every_yaml = sorted([*RECIPES_DIR.rglob("*.yaml"), *RECIPES_DIR.rglob("*.yml")])
    assert every_yaml == RECIPES
    assert {(base_of(p), variant_of(p)) for p in RECIPES} == {
        (base, variant) for base in BASES for variant in VARIANTS
    }


@pytest.mark.parametrize("path", RECIPES, ids=ids(RECIPES))
def test_recipe_parses_and_its_choice_keys_hold_allowed_values(path):
    from trl import ModelConfig, SFTConfig, TrlParser

    from training.configs import WaveCoderArguments
    from training.formatting import PROMPT_FORMATS

    args, training_args, model_args = parsed(path)
    assert isinstance(training_args, SFTConfig)
    assert isinstance(model_args, ModelConfig)
    assert args.prompt_format in PROMPT_FORMATS
    # argparse checks `choices` on command-line values only, not on the defaults a YAML sets:
    # a `dtype: bf16` would parse and fail at model load.
    actions = {a.dest: a for a in TrlParser((WaveCoderArguments, SFTConfig, ModelConfig))._actions}
    for key, value in raw(path).items():
        if actions[key].choices:
            assert value in actions[key].choices, (key, value)


@pytest.mark.parametrize("path", RECIPES, ids=ids(RECIPES))
def test_recipe_holds_the_papers_schedule(path):
    base, variant = base_of(path), variant_of(path)
    model_id, global_batch, gpus, full_lr = BASES[base]
    args, training_args, model_args = parsed(path)

    assert model_args.model_name_or_path == model_id
    assert training_args.num_train_epochs == 3
    assert training_args.max_length == 2048
    assert training_args.lr_scheduler_type == "linear"
    assert training_args.warmup_steps == 15
    assert training_args.optim == "adafactor"
    assert training_args.weight_decay == 0.0
    assert training_args.gradient_checkpointing is True
    assert training_args.seed == 42
    assert args.prompt_format == "alpaca"
    expected_lr = PAPER_LORA["learning_rate"] if variant != "full" else full_lr
    assert training_args.learning_rate == pytest.approx(expected_lr)

    stated = BATCH_COMMENT.findall(path.read_text())
    assert len(stated) == 1, "one `# Global batch N = a per device x b accumulation steps x G GPUs`"
    batch, per_device, accumulation, stated_gpus = map(int, stated[0])
    assert (per_device, accumulation) == (
        training_args.per_device_train_batch_size,
        training_args.gradient_accumulation_steps,
    )
    assert stated_gpus == gpus
    assert batch == per_device * accumulation * gpus == global_batch


@pytest.mark.parametrize("path", RECIPES, ids=ids(RECIPES))
def test_recipe_output_dataset_and_hub_keys(path):
    base, variant = base_of(path), variant_of(path)
    args, training_args, _ = parsed(path)

    assert args.dataset_name == "ORG/codeocean"
    assert training_args.output_dir == f"data/{base}-wavecoder-{variant}"
    assert training_args.report_to in ([], ["tensorboard"])
    assert training_args.logging_steps >= 1
    assert training_args.save_strategy == "steps"
    assert training_args.save_steps >= 1
    assert training_args.save_total_limit >= 1
    assert training_args.push_to_hub is False
    assert training_args.hub_strategy == "checkpoint"
    assert "\n# hub_model_id: ORG/" in path.read_text()


@pytest.mark.parametrize("path", RECIPES, ids=ids(RECIPES))
def test_gpu_recipes_need_cuda_and_bf16_and_cpu_recipes_neither(path):
    args, training_args, model_args = parsed(path)
    on_cpu = base_of(path) in CPU_BASES and variant_of(path) != "qlora"
    assert args.requires_cuda is (not on_cpu)
    assert training_args.bf16 is (not on_cpu)
    assert model_args.dtype == ("float32" if on_cpu else "bfloat16")


@pytest.mark.parametrize("variant", ["full", "lora"])
def test_the_cpu_recipe_parses_as_written(variant):
    """What the end-to-end CPU test runs: no override needed to parse on a CPU."""
    args, training_args, _ = parse(RECIPES_DIR / "smollm2-135m" / "sft" / f"config_{variant}.yaml")
    assert args.requires_cuda is False
    assert training_args.bf16 is False


GPU_RECIPES = [p for p in RECIPES if raw(p)["requires_cuda"]]


@pytest.mark.skipif(bf16_gpu(), reason="this machine has a bf16 GPU")
@pytest.mark.parametrize("path", GPU_RECIPES, ids=ids(GPU_RECIPES))
def test_gpu_recipe_without_a_bf16_gpu_stops_in_the_parser(path):
    """transformers' TrainingArguments raises on bf16 without a bf16 GPU before `training/sft.py`
    sees `requires_cuda`: the script's own message must come from catching this, or from a check
    made before parsing."""
    with pytest.raises(ValueError, match="bf16"):
        parse(path)


@pytest.mark.parametrize("base", sorted(BASES))
def test_lora_and_qlora_differ_from_full_only_in_peft_and_quantization_keys(base):
    full, lora, qlora = (raw(RECIPES_DIR / base / "sft" / f"config_{v}.yaml") for v in VARIANTS)

    def changed(a: dict, b: dict) -> set[str]:
        return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} - {"output_dir"}

    device = DEVICE_KEYS if base in CPU_BASES else set()
    assert changed(full, lora) <= LORA_KEYS
    assert changed(lora, qlora) <= QUANT_KEYS | device
    assert changed(full, qlora) <= LORA_KEYS | QUANT_KEYS | device

    assert full.get("use_peft", False) is False and full.get("load_in_4bit", False) is False
    for recipe in (lora, qlora):
        assert recipe["use_peft"] is True
        assert recipe["lora_r"] == PAPER_LORA["lora_r"]
        assert recipe["learning_rate"] == PAPER_LORA["learning_rate"]
        assert recipe["num_train_epochs"] == 3
    assert lora.get("load_in_4bit", False) is False
    assert qlora["load_in_4bit"] is True
    assert qlora["bnb_4bit_quant_type"] == "nf4"
    assert qlora["use_bnb_nested_quant"] is True
    assert qlora["requires_cuda"] is True


@pytest.mark.parametrize("variant", ["lora", "qlora"])
def test_peft_keys_reach_model_config(variant):
    _, _, model_args = parsed(
        RECIPES_DIR / "deepseek-coder-6.7b-base" / "sft" / f"config_{variant}.yaml"
    )
    assert model_args.use_peft is True
    assert (model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout) == (8, 16, 0.05)
    assert model_args.lora_target_modules == "all-linear"
    assert model_args.load_in_4bit is (variant == "qlora")
    assert model_args.use_bnb_nested_quant is (variant == "qlora")
    assert model_args.bnb_4bit_quant_type == "nf4"


def test_the_papers_lora_is_the_deepseek_lora_recipe_and_says_so():
    text = (RECIPES_DIR / "deepseek-coder-6.7b-base" / "sft" / "config_lora.yaml").read_text()
    assert "the paper's small-data ablation" in text


def test_qwen_packs_padding_free():
    _, training_args, model_args = parsed(
        RECIPES_DIR / "qwen2.5-coder-7b" / "sft" / "config_full.yaml"
    )
    assert training_args.packing is True
    assert training_args.packing_strategy == "bfd"
    assert training_args.padding_free is True
    assert model_args.attn_implementation == "flash_attention_2"


def one_line(text: str) -> str:
    """Shell commands with their `\\` continuations joined, comment markers dropped."""
    text = re.sub(r"^#\s?", "", text, flags=re.MULTILINE)
    return re.sub(r"\s+", " ", text.replace("\\\n", " "))


@pytest.mark.parametrize("path", RECIPES, ids=ids(RECIPES))
def test_recipe_header_and_readme_give_its_command(path):
    command = re.compile(COMMAND.format(path=re.escape(rel(path))))
    header = "".join(line for line in path.read_text().splitlines(True) if line.startswith("#"))
    assert command.search(one_line(header)), f"{rel(path)}: no command in its header"
    readme = (RECIPES_DIR / "README.md").read_text()
    assert command.search(one_line(readme)), f"{rel(path)}: no command in the README"


def test_readme_has_a_section_per_base():
    readme = (RECIPES_DIR / "README.md").read_text()
    for base in BASES:
        assert re.search(rf"^#+ .*`{re.escape(base)}/sft/`", readme, re.MULTILINE), base
