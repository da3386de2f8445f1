"""`wavecoder train --push_to_hub true` against a loopback Hub (tests/training/hub_server.py and
hub_repos.py): the checkpoints the Trainer pushes while it trains (`hub_strategy: checkpoint`), our
final upload (our card, the loss plot, no local checkpoints, the merged model in its own repo), and
`--resume_from_checkpoint hub` continuing from the pushed `last-checkpoint/`. Each run is a real
tiny training in a subprocess whose huggingface_hub talks to the loopback server (HF_ENDPOINT),
offline mode off, with a fake token."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hub_repos import repo_paths
from hub_server import HubRequest, HubServer

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "training" / "recipes" / "smollm2-135m" / "sft" / "config_full.yaml"
TOKEN = "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42"
REPO = "alice/tiny-wavecoder"
FINAL = "wavecoder train: final model and card"
PUSH = ["--push_to_hub", "true", "--hub_model_id", REPO, "--hub_strategy", "checkpoint"]
SAVES = ["--save_strategy", "steps", "--save_steps", "2"]
UNSIGNED = ("/api/telemetry/", "/api/agent-harnesses")  # sent without the token by the libraries


def recipe(tmp_path: Path, model: Path, data: Path) -> Path:
    """The small recipe on the tiny model and the fixture folder: one row a step, a loss each."""
    values = yaml.safe_load(SMALL.read_text())
    values.update(model_name_or_path=str(model), dataset_name=str(data), logging_steps=1,
                  per_device_train_batch_size=2, gradient_accumulation_steps=1, report_to="none",
                  learning_rate=1e-3, warmup_steps=0)  # fmt: skip
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def train(hub: HubServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    unset = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"), HF_TOKEN=TOKEN,
               HF_HUB_DISABLE_PROGRESS_BARS="1", PYTHONPATH=str(ROOT))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "wavecoder", "train", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert TOKEN not in done.stdout + done.stderr
    return done


def committed_text(calls: list[HubRequest], summary: str, path: str) -> str:
    """A text file as the commit `summary` sent it (inline, base64)."""
    for call in calls:
        if call.method == "POST" and "/commit/" in call.path:
            lines = call.ndjson()
            if lines[0]["value"]["summary"] == summary:
                sent = {ln["value"]["path"]: ln["value"] for ln in lines if ln["key"] == "file"}
                return base64.b64decode(sent[path]["content"]).decode()
    raise AssertionError(f"no commit {summary!r}")


def uploads(calls: list[HubRequest]) -> list[list[str]]:
    """The files each upload_folder offered, in order (its preupload requests)."""
    return [[f["path"] for f in c.json()["files"]] for c in calls if "/preupload/" in c.path]


def state(folder: Path) -> dict:
    return json.loads((folder / "trainer_state.json").read_text())


def card(readme: Path):
    from huggingface_hub import ModelCard

    return ModelCard.load(readme)


def assert_token_only_in_authorization(calls: list[HubRequest]) -> None:
    for call in calls:
        others = {k: v for k, v in call.headers.items() if k != "authorization"}
        assert TOKEN not in json.dumps(others) and TOKEN.encode() not in call.body, call.path
        if call.path.startswith("/api/") and not call.path.startswith(UNSIGNED):
            assert call.headers.get("authorization") == f"Bearer {TOKEN}", call.path


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, tiny_model, codeocean_dir):
    """A full fine-tune of 4 steps, saved every 2, pushed to REPO."""
    tmp = tmp_path_factory.mktemp("push-full")
    out = tmp / "out"
    with HubServer(root=tmp / "hub") as hub:
        done = train(
            hub, tmp, "--config", str(recipe(tmp, tiny_model, codeocean_dir)),
            "--model_name_or_path", str(tiny_model), "--dataset_name", str(codeocean_dir),
            "--max_steps", "4", *SAVES, *PUSH, "--output_dir", str(out),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        calls = hub.calls()
    assert_token_only_in_authorization(calls)
    return hub, out, done, calls


@pytest.mark.slow
def test_training_pushes_checkpoints_then_our_final_upload(full_run):
    hub, out, done, calls = full_run
    commits = hub.repos.commits(REPO)
    repo = hub.repos.folder(REPO)
    files = repo_paths(repo)

    # While training: the Trainer's pushes of the output folder and of `last-checkpoint/` (a push
    # still under way when the next save comes is not repeated, so step 4's may be left out).
    pushed = [c for c in commits if c["summary"].startswith("Training in progress, step ")]
    checkpoints = [c for c in pushed if c["summary"].endswith(", checkpoint")]
    assert checkpoints and all(
        {"last-checkpoint/trainer_state.json", "last-checkpoint/model.safetensors",
         "last-checkpoint/optimizer.pt"} <= set(c["added"]) for c in checkpoints
    )  # fmt: skip
    step = state(repo / "last-checkpoint")["global_step"]
    assert step in (2, 4) and checkpoints[-1]["summary"].startswith(
        f"Training in progress, step {step}"
    )
    for name in ("model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json"):
        # binary files came through Xet (xorbs + shard), rebuilt byte for byte
        local = out / f"checkpoint-{step}" / name
        assert (repo / "last-checkpoint" / name).read_bytes() == local.read_bytes(), name
    trl_card = committed_text(calls, "Training in progress, step 2", "README.md")
    assert "It has been trained using [TRL]" in trl_card  # what TRL writes at each save

    # The end: our upload offers the output folder without local checkpoints (the Hub keeps
    # from its commit what changed since the Trainer's last push), and the repo holds the run.
    assert [c["summary"] for c in commits] == [
        "initial commit",
        *[c["summary"] for c in pushed],
        FINAL,
    ]
    # Two uploads a Trainer save (output folder, checkpoint), then ours: `save_model` at the end
    # does not push the folder with TRL's card first.
    assert len(uploads(calls)) == 2 * len(checkpoints) + 1
    final = uploads(calls)[-1]
    expected = {"README.md", "model.safetensors", "config.json", "generation_config.json",
                "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                "training_loss.png", "trainer_state.json"}  # fmt: skip
    assert expected <= set(final)
    assert [p for p in final if p.startswith(("checkpoint-", "runs/", "merged/"))] == []
    assert {"README.md", "training_loss.png", "trainer_state.json"} <= set(commits[-1]["added"])
    for name in expected:
        assert (repo / name).read_bytes() == (out / name).read_bytes(), name
    assert state(repo)["global_step"] == 4
    ours = card(repo / "README.md")
    assert ours.data.library_name == "transformers" and ours.data.pipeline_tag == "text-generation"
    assert "CodeOcean" in ours.text and "gen-model" in ours.text and "judge-model" in ours.text
    assert "It has been trained using [TRL]" not in ours.text
    assert [f for f in files if f.startswith(("checkpoint-", "runs/", "merged/"))] == []
    assert f"pushed the final model and card to {hub.url}/{REPO}" in done.stdout


@pytest.mark.slow
def test_lora_pushes_the_adapter_and_the_merged_model_to_its_own_repo(
    tmp_path, tiny_model, codeocean_dir
):
    out = tmp_path / "out"
    with HubServer(root=tmp_path / "hub") as hub:
        done = train(
            hub, tmp_path, "--config", str(recipe(tmp_path, tiny_model, codeocean_dir)),
            "--max_steps", "2", "--save_strategy", "no", *PUSH, "--output_dir", str(out),
            "--use_peft", "true", "--lora_r", "4", "--lora_target_modules", "q_proj", "v_proj",
            "--merge_adapter", "true",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert_token_only_in_authorization(hub.calls())
    adapter, merged = hub.repos.folder(REPO), hub.repos.folder(f"{REPO}-merged")
    assert {"adapter_model.safetensors", "adapter_config.json", "README.md",
            "tokenizer.json"} <= set(repo_paths(adapter))  # fmt: skip
    assert "model.safetensors" not in repo_paths(adapter)
    assert not any(p.startswith("merged/") for p in repo_paths(adapter))
    assert card(adapter / "README.md").data.library_name == "peft"
    assert (adapter / "adapter_model.safetensors").read_bytes() == (
        out / "adapter_model.safetensors"
    ).read_bytes()

    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
            "README.md"} <= set(repo_paths(merged))  # fmt: skip
    assert not any(p.startswith("adapter_") for p in repo_paths(merged))
    assert (merged / "model.safetensors").read_bytes() == (
        out / "merged" / "model.safetensors"
    ).read_bytes()
    merged_card = card(merged / "README.md")
    assert merged_card.data.library_name == "transformers"
    assert f"{REPO}-merged" in merged_card.text
    summaries = [c["summary"] for c in hub.repos.commits(f"{REPO}-merged")]
    assert summaries == ["initial commit", "wavecoder train: merged model and card"]
    assert f"pushed the merged model and card to {hub.url}/{REPO}-merged" in done.stdout


@pytest.mark.slow
def test_resume_from_the_hub_continues_from_the_pushed_checkpoint(
    full_run, tmp_path, tiny_model, codeocean_dir
):
    first_hub = full_run[0]
    pushed = state(first_hub.repos.folder(REPO) / "last-checkpoint")
    out = tmp_path / "resumed"
    with HubServer(root=tmp_path / "hub", models={REPO: first_hub.repos.folder(REPO)}) as hub:
        done = train(
            hub, tmp_path, "--config", str(recipe(tmp_path, tiny_model, codeocean_dir)),
            "--max_steps", "6", *SAVES, *PUSH, "--output_dir", str(out),
            "--resume_from_checkpoint", "hub",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        calls = hub.calls()
    assert_token_only_in_authorization(calls)
    downloaded = [c.path for c in calls if c.method == "GET" and "/resolve/" in c.path]
    assert downloaded and all("/last-checkpoint/" in p for p in downloaded)
    assert state(out / "_from_hub" / "last-checkpoint") == pushed  # what the Hub held, downloaded

    resumed = state(out)
    assert resumed["global_step"] == 6
    steps = [e["step"] for e in resumed["log_history"] if "loss" in e]
    assert steps == list(range(1, 7))
    assert resumed["log_history"][: len(pushed["log_history"])] == pushed["log_history"]

    # The resumed run pushes its own checkpoints, and our final upload leaves them in place.
    commits = hub.repos.commits(REPO)
    repo = hub.repos.folder(REPO)
    saved = [
        int(c["summary"].split("step ")[1].split(",")[0])
        for c in commits
        if c["summary"].startswith("Training in progress") and c["summary"].endswith(", checkpoint")
    ]
    assert saved and saved[-1] > pushed["global_step"]
    assert state(repo / "last-checkpoint")["global_step"] == saved[-1]
    assert commits[-1]["summary"] == FINAL
    assert not any(p.startswith("last-checkpoint/") for p in commits[-1]["added"])
    assert state(repo)["global_step"] == 6


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "seeded", "message"),
    [
        ([], False, "--resume_from_checkpoint hub needs --hub_model_id (the repo pushed to)"),
        (["--hub_model_id", REPO], True, f"{REPO} has no last-checkpoint/ yet (a run with "
         "push_to_hub and `hub_strategy: checkpoint` pushes one at each save); start without "
         "--resume_from_checkpoint"),
        (["--hub_model_id", "alice/missing"], False, "cannot download "
         "alice/missing/last-checkpoint: no such repo, or your token cannot read it"),
    ],
)  # fmt: skip
def test_resume_from_the_hub_without_a_checkpoint_is_a_user_error(
    tmp_path, tiny_model, codeocean_dir, args, seeded, message
):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "README.md").write_text(
        "---\nlibrary_name: transformers\n---\n# a model, no checkpoint\n"
    )
    with HubServer(root=tmp_path / "hub", models={REPO: seed} if seeded else None) as hub:
        done = train(
            hub, tmp_path, "--config", str(recipe(tmp_path, tiny_model, codeocean_dir)),
            "--max_steps", "2", "--output_dir", str(tmp_path / "out"),
            "--resume_from_checkpoint", "hub", *args,
        )  # fmt: skip
        calls = hub.calls()
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.splitlines()[-1] == f"wavecoder train: error: {message}"
    assert "Traceback" not in done.stderr
    assert all(c.method in ("GET", "HEAD") for c in calls)  # it read, wrote nothing
