"""`accelerate launch` with training/accelerate/ddp.yaml on a CPU: two processes over gloo train
the small recipe on a tiny model, and the result is the one-process run with the same global
batch (both ranks' gradients went into every step).

On a CPU the launcher needs `--mixed_precision no` (the file asks for bf16) and the script
`--use_cpu true`: without it each process sees no accelerator, starts a world of its own and
trains alone (training/accelerate/README.md, "CPU")."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "training" / "recipes" / "smollm2-135m" / "sft" / "config_full.yaml"


def sft_flags(model: Path, data: Path, out: Path, per_device: int) -> list[str]:
    """The small recipe, overridden for a tiny model: 4 steps with a learning rate that moves
    the weights far enough to compare two runs."""
    return [
        "--config", str(RECIPE), "--model_name_or_path", str(model), "--dataset_name", str(data),
        "--output_dir", str(out), "--max_steps", "4", "--per_device_train_batch_size",
        str(per_device), "--gradient_accumulation_steps", "1", "--learning_rate", "3e-3",
        "--lr_scheduler_type", "constant", "--warmup_steps", "0", "--logging_steps", "1",
        "--save_strategy", "no", "--report_to", "none", "--requires_cuda", "false",
        "--bf16", "false", "--seed", "0",
    ]  # fmt: skip


def run(command: list[str]) -> subprocess.CompletedProcess:
    # One thread per process: two ranks share the two cores of a small machine.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return done


def state(out: Path) -> dict:
    return json.loads((out / "trainer_state.json").read_text())


def losses(out: Path) -> list[float]:
    return [entry["loss"] for entry in state(out)["log_history"] if "loss" in entry]


@pytest.mark.slow
def test_two_cpu_processes_train_as_one_with_the_same_global_batch(
    tmp_path, tiny_model, codeocean_dir
):
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    ddp, single = tmp_path / "ddp", tmp_path / "single"
    run([sys.executable, "-m", "accelerate.commands.launch",
         "--config_file", str(REPO / "training" / "accelerate" / "ddp.yaml"),
         "--num_processes", "2", "--mixed_precision", "no", "--main_process_port", "0",
         str(REPO / "training" / "sft.py"),
         *sft_flags(tiny_model, codeocean_dir, ddp, per_device=2), "--use_cpu", "true"])  # fmt: skip
    run([sys.executable, str(REPO / "training" / "sft.py"),
         *sft_flags(tiny_model, codeocean_dir, single, per_device=4)])  # fmt: skip

    # 2 rows per process x 2 processes: 8 rows are 2 steps, so 4 steps are 2 epochs (a process
    # that trained alone would have needed 4 steps for one).
    assert state(ddp)["global_step"] == 4 and state(ddp)["epoch"] == 2.0
    card = (ddp / "README.md").read_text()
    assert "| processes (world size) | 2 |" in card
    assert "| global batch (rows per optimizer step) | 4 |" in card

    curve = losses(ddp)
    assert len(curve) == 4 and all(math.isfinite(x) for x in curve)
    assert curve == pytest.approx(losses(single), rel=1e-5)
    # The tokens seen are summed over the ranks: the same counts as the one process's.
    seen = [e["num_tokens"] for e in state(ddp)["log_history"] if "num_tokens" in e]
    assert seen == [e["num_tokens"] for e in state(single)["log_history"] if "num_tokens" in e]

    trained, alone = load_file(ddp / "model.safetensors"), load_file(single / "model.safetensors")
    initial = load_file(Path(tiny_model) / "model.safetensors")
    moved = max((trained[k] - initial[k]).abs().max().item() for k in trained)
    apart = max((trained[k] - alone[k]).abs().max().item() for k in trained)
    assert moved > 1e-2 and apart < 1e-3 * moved, (moved, apart)

    model = AutoModelForCausalLM.from_pretrained(ddp)
    logits = model(torch.tensor([[1, 2, 3, 4]])).logits
    assert logits.shape[-1] == model.config.vocab_size and torch.isfinite(logits).all()
