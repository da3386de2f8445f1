"""Every AutoTrain config in training/autotrain/ is read by AutoTrain Advanced's own parser
(`AutoTrainConfigParser`, then `LLMTrainingParams` as its `run()` builds them) without training,
and says what the TRL recipe of the same run says.

autotrain-advanced 0.8.36 pins transformers 4.48, trl 0.13 and peft 0.14, so it lives in its own
virtual environment (scripts/setup.sh creates it; `WAVECODER_AUTOTRAIN_VENV` moves it) and the
parser runs there in a subprocess. Without that environment the test skips, with the reason,
except where every tool is required (`CI=true` or `WAVECODER_REQUIRE_TOOLCHAINS=1`, the rule of
tests/evaluation/test_toolchains.py): there it fails, so CI proves the set-up.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from evaluation.toolchains import REQUIRE_ENV, toolchains_required

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "training" / "autotrain"
RECIPES = REPO / "training" / "recipes" / "deepseek-coder-6.7b-base" / "sft"
VENV_ENV = "WAVECODER_AUTOTRAIN_VENV"
DEFAULT_VENV = Path.home() / ".cache" / "wavecoder" / "autotrain-venv"
# Each shipped config: the TRL recipe of the same run, and the GPUs its global batch assumes.
SHIPPED = {
    "deepseek-coder-6.7b-full.yaml": {"recipe": "config_full.yaml", "gpus": 8, "peft": False},
    "deepseek-coder-6.7b-lora.yaml": {"recipe": "config_lora.yaml", "gpus": 1, "peft": True},
}
GLOBAL_BATCH = 512  # the paper's, in rows

# What AutoTrain's `autotrain --config` does before it trains, and the keys it would ignore.
PARSE = """
import json, sys
from autotrain.parser import AutoTrainConfigParser
from autotrain.trainers.clm.params import LLMTrainingParams
out = {}
for path in sys.argv[1:]:
    parser = AutoTrainConfigParser(path)
    params = LLMTrainingParams(**parser.parsed_config)
    out[path] = {"task": parser.task, "backend": parser.backend, "params": params.model_dump(),
                 "ignored": sorted(set(parser.parsed_config) - set(LLMTrainingParams.model_fields))}
print(json.dumps(out))
"""


def autotrain_python() -> Path:
    venv = Path(os.environ.get(VENV_ENV) or DEFAULT_VENV).expanduser()
    python = venv / "bin" / "python"
    probe = "from importlib.metadata import version; version('autotrain-advanced')"
    found = python.is_file() and subprocess.run([str(python), "-c", probe], capture_output=True)
    if not (found and found.returncode == 0):
        reason = (
            f"no AutoTrain environment at {venv}: run scripts/setup.sh (it creates it), or set "
            f"{VENV_ENV} to one with autotrain-advanced==0.8.36"
        )
        if toolchains_required():
            pytest.fail(f"{reason} (required here: {REQUIRE_ENV}=1 or CI=true)")
        pytest.skip(reason)
    return python


def test_shipped_configs_are_the_ones_checked():
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(SHIPPED)


@pytest.mark.slow
def test_autotrain_parses_every_config_as_the_paper_run():
    python = autotrain_python()
    env = {**os.environ, "HF_USERNAME": "acme", "HF_TOKEN": "hf_not_a_real_token"}
    paths = [str(CONFIGS / name) for name in sorted(SHIPPED)]
    done = subprocess.run(
        [str(python), "-c", PARSE, *paths],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    for name, shipped in SHIPPED.items():
        result = parsed[str(CONFIGS / name)]
        params = result["params"]
        recipe = yaml.safe_load((RECIPES / shipped["recipe"]).read_text())
        assert (result["task"], result["backend"], result["ignored"]) == (
            "lm_training",
            "local",
            [],
        )
        assert {
            k: params[k]
            for k in ("trainer", "model", "text_column", "chat_template", "push_to_hub", "username")
        } == {
            "trainer": "sft",
            "model": recipe["model_name_or_path"],
            "text_column": "messages",
            "chat_template": "tokenizer",
            "push_to_hub": True,
            "username": "acme",  # ${HF_USERNAME}, resolved by the parser
        }, name
        # The TRL recipe's hyperparameters, in AutoTrain's names.
        assert {
            "lr": params["lr"],
            "epochs": params["epochs"],
            "block_size": params["block_size"],
            "model_max_length": params["model_max_length"],
            "scheduler": params["scheduler"],
            "optimizer": params["optimizer"],
            "weight_decay": params["weight_decay"],
            "mixed_precision": params["mixed_precision"],
            "seed": params["seed"],
        } == {
            "lr": recipe["learning_rate"],
            "epochs": recipe["num_train_epochs"],
            "block_size": recipe["max_length"],
            "model_max_length": recipe["max_length"],
            "scheduler": recipe["lr_scheduler_type"],
            "optimizer": recipe["optim"],
            "weight_decay": recipe["weight_decay"],
            "mixed_precision": "bf16" if recipe["bf16"] else None,
            "seed": recipe["seed"],
        }, name
        assert (
            params["batch_size"] * params["gradient_accumulation"] * shipped["gpus"] == GLOBAL_BATCH
        )
        # AutoTrain takes a warmup ratio: the recipe's warmup steps of 3 epochs of 512 rows of ~20K.
        steps = recipe["num_train_epochs"] * round(20_000 / GLOBAL_BATCH)
        assert params["warmup_ratio"] == pytest.approx(recipe["warmup_steps"] / steps, abs=0.005)
        assert params["peft"] is shipped["peft"]
        if shipped["peft"]:
            lora = {
                k: params[k] for k in ("lora_r", "lora_alpha", "lora_dropout", "target_modules")
            }
            assert lora == {
                "lora_r": recipe["lora_r"],
                "lora_alpha": recipe["lora_alpha"],
                "lora_dropout": recipe["lora_dropout"],
                "target_modules": recipe["lora_target_modules"],
            }, name
            assert params["quantization"] is None  # bf16 LoRA, as the recipe (not QLoRA)
