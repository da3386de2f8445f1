"""The `accelerate launch` configs in training/accelerate/: each is read by accelerate's own
loader, names only options the launcher knows, and resolves (file + flags, as `accelerate launch`
merges them) to the distributed set-up and FSDP plugin the README describes."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "accelerate"
EXPECTED = {"ddp.yaml": "MULTI_GPU", "fsdp.yaml": "FSDP", "zero3.yaml": "DEEPSPEED"}


def launch_plan(*argv: str):
    """The launcher's arguments after it merged `argv` (flags + --config_file) with the file.

    `_validate_launch_command` is private, but it is exactly what `accelerate launch` runs to
    merge the two, so the test reads the file as the launcher does."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    args = launch_command_parser().parse_args([*argv, "train.py"])
    args, _, _ = _validate_launch_command(args)
    return args


def fsdp_plugin(monkeypatch, *flags: str):
    """The FSDP plugin a training process builds from the environment the launcher gives it."""
    from accelerate.utils import FullyShardedDataParallelPlugin
    from accelerate.utils.launch import prepare_multi_gpu_env

    args = launch_plan("--config_file", str(CONFIGS / "fsdp.yaml"), "--main_process_port", "0",
                       *flags)  # fmt: skip
    for key, value in prepare_multi_gpu_env(args).items():
        if key.startswith(("FSDP_", "ACCELERATE_")):
            monkeypatch.setenv(key, value)
    return FullyShardedDataParallelPlugin()


def test_the_folder_holds_the_three_configs():
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_config_loads_with_accelerates_own_loader(name):
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file
    from accelerate.utils import ComputeEnvironment, DistributedType

    config = load_config_from_file(str(CONFIGS / name))
    assert isinstance(config, ClusterConfig)
    assert config.compute_environment == ComputeEnvironment.LOCAL_MACHINE
    assert config.distributed_type == DistributedType[EXPECTED[name]]
    assert (config.mixed_precision, config.num_machines, config.num_processes) == ("bf16", 1, 8)
    assert config.use_cpu is False


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_plugin_key_is_a_launcher_option(name):
    """accelerate copies `fsdp_config` / `deepspeed_config` keys onto launcher options by name
    and ignores the rest, so a misspelt key would be silently dropped."""
    import yaml
    from accelerate.commands.launch import launch_command_parser

    options = {action.dest for action in launch_command_parser()._actions}
    raw = yaml.safe_load((CONFIGS / name).read_text())
    keys = list(raw.get("fsdp_config", {})) + list(raw.get("deepspeed_config", {}))
    assert [key for key in keys if key not in options] == []
    assert keys or name == "ddp.yaml"


def test_ddp_runs_one_process_per_gpu_and_num_processes_overrides_the_file():
    from accelerate.utils.launch import prepare_multi_gpu_env

    args = launch_plan("--config_file", str(CONFIGS / "ddp.yaml"), "--num_processes", "2",
                       "--main_process_port", "0")  # fmt: skip
    assert args.multi_gpu and not (args.use_fsdp or args.use_deepspeed)
    env = prepare_multi_gpu_env(args)
    assert args.nproc_per_node == "2"
    assert env["ACCELERATE_MIXED_PRECISION"] == "bf16"
    assert "ACCELERATE_USE_FSDP" not in env


def test_fsdp_wraps_llama_decoder_layers_and_saves_a_full_state_dict(monkeypatch):
    from torch.distributed.fsdp import CPUOffloadPolicy, StateDictType

    plugin = fsdp_plugin(monkeypatch)
    assert plugin.fsdp_version == 2
    assert plugin.transformer_cls_names_to_wrap == ["LlamaDecoderLayer"]
    assert plugin.state_dict_type == StateDictType.FULL_STATE_DICT
    assert plugin.reshard_after_forward is True  # FSDP2's full shard
    assert plugin.cpu_ram_efficient_loading is True
    assert not isinstance(plugin.cpu_offload, CPUOffloadPolicy)


def test_fsdp_wrap_class_is_found_in_a_llama_and_missing_from_a_qwen2(monkeypatch):
    """The class name resolves in a Llama-shaped model; another base fails at start-up until its
    own class is passed as a flag (the override the README and recipes give)."""
    import torch
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    sizes = {"vocab_size": 32, "hidden_size": 16, "intermediate_size": 32,
             "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1}  # fmt: skip
    with torch.device("meta"):
        llama, qwen = LlamaForCausalLM(LlamaConfig(**sizes)), Qwen2ForCausalLM(Qwen2Config(**sizes))
    plugin = fsdp_plugin(monkeypatch)
    assert plugin.auto_wrap_policy is transformer_auto_wrap_policy
    plugin.set_auto_wrap_policy(llama)
    assert {cls.__name__ for cls in plugin.auto_wrap_policy.keywords["transformer_layer_cls"]} == {
        "LlamaDecoderLayer"
    }
    with pytest.raises(ValueError, match="LlamaDecoderLayer"):
        fsdp_plugin(monkeypatch).set_auto_wrap_policy(qwen)
    overridden = fsdp_plugin(
        monkeypatch, "--fsdp_transformer_layer_cls_to_wrap", "Qwen2DecoderLayer"
    )
    overridden.set_auto_wrap_policy(qwen)
    assert overridden.transformer_cls_names_to_wrap == ["Qwen2DecoderLayer"]


@pytest.mark.parametrize(
    ("module", "model_class", "layer"),
    [
        ("llama", "LlamaPreTrainedModel", "LlamaDecoderLayer"),
        ("qwen2", "Qwen2PreTrainedModel", "Qwen2DecoderLayer"),
        ("gpt_bigcode", "GPTBigCodePreTrainedModel", "GPTBigCodeBlock"),
        ("starcoder2", "Starcoder2PreTrainedModel", "Starcoder2DecoderLayer"),
    ],
)
def test_the_layer_classes_named_in_fsdp_yaml_are_the_models_own(module, model_class, layer):
    """fsdp.yaml's comment gives each recipe's class; each is its model's `_no_split_modules`."""
    import importlib

    models = importlib.import_module(f"transformers.models.{module}.modeling_{module}")
    assert getattr(models, model_class)._no_split_modules == [layer]
    assert layer in (CONFIGS / "fsdp.yaml").read_text()


def test_zero3_partitions_everything_and_saves_a_loadable_checkpoint():
    from accelerate.commands.config.config_args import load_config_from_file

    deepspeed = load_config_from_file(str(CONFIGS / "zero3.yaml")).deepspeed_config
    assert deepspeed["zero_stage"] == 3
    assert deepspeed["zero3_init_flag"] is True
    assert deepspeed["zero3_save_16bit_model"] is True
    assert (deepspeed["offload_optimizer_device"], deepspeed["offload_param_device"]) == (
        "none",
        "none",
    )
    args = launch_plan("--config_file", str(CONFIGS / "zero3.yaml"))
    assert args.use_deepspeed and args.zero_stage == 3 and not args.multi_gpu
