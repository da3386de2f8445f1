"""`wavecoder train` as users run it: a GPU recipe on this CPU machine, a run killed after a
checkpoint and resumed, and the small recipe end to end on a folder `wavecoder generate` wrote,
its card then filled by `wavecoder evaluate --model-card`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "training" / "recipes"
SMALL = RECIPES / "smollm2-135m" / "sft" / "config_full.yaml"


def train(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wavecoder", "train", *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs,
    )  # fmt: skip


def log_of(out: Path) -> dict[int, float]:
    state = json.loads((out / "trainer_state.json").read_text())
    return {e["step"]: e["loss"] for e in state["log_history"] if "loss" in e}


@pytest.mark.parametrize("variant", ["full", "lora", "qlora"])
def test_a_gpu_recipe_on_a_cpu_stops_before_loading_the_model(variant):
    config = RECIPES / "deepseek-coder-6.7b-base" / "sft" / f"config_{variant}.yaml"
    started = time.monotonic()
    process = train("--config", str(config), "--dataset_name", "ORG/codeocean")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr[-2000:]
    assert stderr.count("\n") == 1 and stderr.startswith(
        "wavecoder train: error: this run needs a CUDA GPU and none is visible"
    )
    assert "training/recipes/smollm2-135m/sft/config_full.yaml" in stderr
    assert "Loading weights" not in stderr and stdout == ""
    assert time.monotonic() - started < 60  # parsing only: no 6.7B download or load


def cpu_recipe(tmp_path: Path, model: Path, data: Path, **keys) -> Path:
    values = yaml.safe_load(SMALL.read_text())
    values.update(model_name_or_path=str(model), dataset_name=str(data), **keys)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.mark.slow
def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_curve(tmp_path, tiny_model, codeocean_dir):
    keys = {"max_steps": 40, "save_strategy": "steps", "save_steps": 10, "logging_steps": 5,
            "learning_rate": 1e-3, "per_device_train_batch_size": 4, "seed": 3,
            "gradient_accumulation_steps": 1, "report_to": "none"}  # fmt: skip
    recipe = cpu_recipe(tmp_path, tiny_model, codeocean_dir, **keys)
    whole = train("--config", str(recipe), "--output_dir", str(tmp_path / "whole"))
    _, stderr = whole.communicate(timeout=600)
    assert whole.returncode == 0, stderr[-3000:]
    reference = log_of(tmp_path / "whole")

    out = tmp_path / "resumed"
    killed = train("--config", str(recipe), "--output_dir", str(out))
    deadline = time.monotonic() + 300
    while not (out / "checkpoint-10" / "trainer_state.json").exists():
        assert killed.poll() is None and time.monotonic() < deadline, killed.stderr.read()[-3000:]
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(30)
    assert not (out / "trainer_state.json").exists()  # it never finished
    saved = sorted(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*"))
    assert saved and saved[-1] < 40

    again = train("--config", str(recipe), "--output_dir", str(out), "--resume_from_checkpoint", "true")
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-3000:]
    resumed = log_of(out)
    assert max(resumed) == max(reference) == 40
    assert sorted(resumed) == sorted(reference)
    for step in reference:
        assert resumed[step] == pytest.approx(reference[step], rel=1e-3), (step, resumed, reference)


def test_resume_without_a_checkpoint_is_a_user_error(tmp_path, tiny_model, codeocean_dir):
    recipe = cpu_recipe(tmp_path, tiny_model, codeocean_dir)
    process = train("--config", str(recipe), "--output_dir", str(tmp_path / "none"),
                    "--resume_from_checkpoint", "true")  # fmt: skip
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 2
    assert "holds no checkpoint-N folder yet" in stderr
