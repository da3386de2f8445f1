"""`wavecoder space deploy`: the files and variables of the Space (--dry-run), the front matter
and requirements the Space reads, the uploaded tree running as a Space runs it (app.py at the
root, no other copy of wavecoder importable), the no-token error, and a real deploy with
huggingface_hub against the loopback Hub of tests/training/hub_server.py, given Space routes
here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import gradio as gr
import pytest
import yaml
from packaging.requirements import Requirement
from space_fixtures import PLANTED_ID, tiny_model, write_codeocean
from space_hub import SpaceHub

from space.deploy import DATASET_VARIABLE, module_closure, plan_deploy
from wavecoder.cli import main

REPO = Path(__file__).resolve().parents[2]

REPO_ID = "alice/wavecoder"
DEPLOY = ["space", "deploy", "--repo-id", REPO_ID, "--dataset", "alice/codeocean",
          "--model", "alice/wavecoder-6.7b"]  # fmt: skip
TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE")


def front_matter(readme: bytes) -> dict:
    text = readme.decode()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_dry_run_lists_settings_files_variables_and_secrets_and_sends_nothing(capsys, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: a call would fail
    for name in TOKEN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPACE_READ_TOKEN", "hf_secret_value")
    assert main([*DEPLOY, "--base-model", "org/base", "--private", "--hardware", "zero-a10g",
                 "--secret", "HF_TOKEN=SPACE_READ_TOKEN", "--dry-run"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "hf_secret_value" not in text
    out = text.splitlines()
    assert out[:3] == [
        f"dry run: would create or update the Gradio Space {REPO_ID} (nothing sent)",
        "visibility: private (a new Space is created private; an existing one is made private)",
        "hardware: zero-a10g (asked for at creation, or requested for an existing Space)",
    ]
    paths = [line.split("B  ", 1)[1] for line in out if "B  " in line]
    assert paths[:3] == ["README.md", "app.py", "requirements.txt"]
    assert {"space/browse.py", "space/data.py", "space/shards.py", "space/chat.py",
            "space/prompts.py", "pipeline/layout.py", "pipeline/tasks/translation.py",
            "training/formatting.py", "wavecoder/errors.py"} <= set(paths)  # fmt: skip
    assert not {"space/app.py", "space/commands.py", "space/deploy.py"} & set(paths)
    assert not any(p.startswith(("evaluation/", "cards/", "tests/")) for p in paths)
    assert out[-6:] == [
        "variables (set at creation, or before the commit on an existing Space):",
        "  WAVECODER_DATASET=alice/codeocean",
        "  WAVECODER_MODEL=alice/wavecoder-6.7b",
        "  WAVECODER_BASE_MODEL=org/base",
        "secrets (values from this environment, not shown):",
        "  HF_TOKEN (from $SPACE_READ_TOKEN)",
    ]
    assert main([*DEPLOY, "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:3] == [
        "visibility: public when created; an existing Space keeps its own (--private to make it "
        "private)",
        "hardware: unchanged (a new Space starts on cpu-basic; --hardware to ask for another)",
    ]


def test_space_card_and_requirements_name_what_was_tested():
    plan = plan_deploy(REPO_ID, dataset="alice/codeocean", model="alice/m", base_model="org/b")
    meta = front_matter(plan.files["README.md"])
    assert (meta["sdk"], meta["sdk_version"], meta["app_file"]) == ("gradio", gr.__version__,
                                                                    "app.py")  # fmt: skip
    assert meta["python_version"] in ("3.10.13", "3.12.12")  # what ZeroGPU runs
    assert (meta["datasets"], meta["models"]) == (["alice/codeocean"], ["alice/m", "org/b"])
    assert meta["short_description"] and len(meta["short_description"]) <= 60
    assert {"license", "tags", "suggested_hardware", "title"} <= set(meta)
    requirements = plan.files["requirements.txt"].decode().splitlines()
    assert f"gradio=={gr.__version__}" in requirements
    pins = [Requirement(line) for line in requirements if line and not line.startswith("#")]
    assert {"spaces", "transformers", "torch", "peft", "pyarrow", "matplotlib"} <= {
        r.name for r in pins}  # fmt: skip
    for pin in pins:  # each bounded above, and the version tested here within it
        assert any(spec.operator in ("<", "==") for spec in pin.specifier), pin
        assert pin.specifier.contains(version(pin.name), prereleases=True), (pin, version(pin.name))
    torch = next(pin for pin in pins if pin.name == "torch").specifier
    assert torch.contains("2.4.0") and torch.contains("2.8.0") and not torch.contains("3.0")
    # The body's screenshots go with it, so the Space's card shows them.
    body = plan.files["README.md"].decode().split("---\n", 2)[2]
    for image in ("browse", "statistics", "try"):
        assert f"screenshots/{image}.png" in body
        assert f"screenshots/{image}.png" in plan.files


def test_closure_reads_imports_inside_functions_and_the_task_registry():
    modules = module_closure()
    assert {"space.rows", "pipeline.tasks.registry", "pipeline.tasks.repair"} <= set(modules)
    assert "space.deploy" not in modules and "pipeline.generation.writer" not in modules


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dataset", "."], "--dataset . is not a Hub id (ORG/NAME): the Space reads the dataset"),
        (["--dataset", "a/b", "--model", "/tmp"], "--model /tmp is not a Hub id"),
        (["--dataset", "a/b", "--base-model", "c/d"], "--base-model answers beside --model"),
        (["--dataset", "a/b", "--hardware", "gpu9000"], "--hardware gpu9000 is not a Space hard"),
        (["--dataset", "a/b", "--secret", "X=WAVECODER_UNSET"], "WAVECODER_UNSET is not set here"),
        (["--dataset", "a/b", "--secret", "a b"], "--secret takes NAME or NAME=ENV_VARIABLE"),
    ],
)
def test_local_folders_and_lone_base_models_are_refused(flags, message, capsys):
    assert main(["space", "deploy", "--repo-id", REPO_ID, *flags, "--dry-run"]) == 2
    assert message in capsys.readouterr().err


def wavecoder(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`wavecoder ARGS` in a subprocess: huggingface_hub reads HF_ENDPOINT and HF_HOME (where a
    stored token is) when it is imported."""
    # Other test folders' conftests set HF_HUB_OFFLINE=1 for the whole session; this one talks
    # to a loopback Hub.
    clean = {k: v for k, v in os.environ.items() if k not in (*TOKEN_ENV, "HF_HUB_OFFLINE")}
    clean.update(HF_HOME=str(tmp_path / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1", **env)
    return subprocess.run([sys.executable, "-m", "wavecoder", *args], env=clean, cwd=REPO,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_no_token_is_one_message(tmp_path):
    done = wavecoder(DEPLOY, tmp_path, HF_ENDPOINT="http://127.0.0.1:9")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "wavecoder space: error: no Hugging Face token: run `hf auth login` or set HF_TOKEN (a "
        "write token); `wavecoder space deploy --dry-run` lists what would be sent without one\n"
    )


@pytest.mark.slow
def test_uploaded_files_run_as_a_space_with_nothing_else_importable(tmp_path):
    """The plan's files in a folder, app.py run as __main__ there (launch recorded, not served)
    from the variables, with this checkout's editable install unreachable; then a row and a
    reply, which import the task registry and the chat code."""
    data = write_codeocean(tmp_path / "codeocean")
    model = tiny_model(tmp_path / "model")
    plan = plan_deploy(REPO_ID, dataset="alice/codeocean", model="alice/m")
    space = tmp_path / "space"
    for path, content in plan.files.items():
        (space / path).parent.mkdir(parents=True, exist_ok=True)
        (space / path).write_bytes(content)
    script = f"""
import json, runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
sys.path[:] = [p for p in sys.path if not p.startswith({str(REPO)!r}) or "site-packages" in p]
import gradio as gr
launched = []
gr.Blocks.launch = lambda self, **kw: launched.append(kw)
runpy.run_path("app.py", run_name="__main__")
from space.browse import BrowseTab
from space.data import CodeOceanView
from space.try_model import generate_replies, MODELS
with gr.Blocks():
    tab = BrowseTab(CodeOceanView.open({str(data)!r}))
shown = tab.row_values({PLANTED_ID!r}, None, "")
turn = [{{"instruction": "Add.", "input": "", "replies": [""]}}]
reply = list(generate_replies(list(MODELS), turn, "alpaca", 2, 0.0))[-1]
first = ("wavecoder", "pipeline", "training", "evaluation", "cards", "space")
files = {{n: m.__file__ for n, m in sys.modules.items() if n.split(".")[0] in first}}
print(json.dumps({{"launched": launched, "header": shown[1], "reply": reply, "files": files}}))
"""
    env = {**os.environ, "PYTHONPATH": "", "WAVECODER_DATASET": str(data),
           "WAVECODER_MODEL": str(model)}  # fmt: skip
    env.pop("WAVECODER_BASE_MODEL", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=space, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["launched"] == [{}]  # main() leaves host and port to GRADIO_SERVER_* on a Space
    assert "planted&#45;html" in result["header"]
    assert result["reply"] == [" coder wave"]
    outside = {n: f for n, f in result["files"].items() if not f.startswith(str(space))}
    assert outside == {}
    assert "pipeline.tasks.generation" in result["files"]


@pytest.mark.slow
def test_deploy_creates_the_space_with_its_settings_then_updates_it(tmp_path, monkeypatch):
    import huggingface_hub.constants
    from huggingface_hub import HfApi

    # This test reads the loopback Hub itself, whatever another folder's conftest set.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    with SpaceHub(root=tmp_path / "hub") as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_test_token", "READ_TOKEN": "hf_read"}
        done = wavecoder([*DEPLOY, "--base-model", "org/base", "--hardware", "zero-a10g",
                          "--secret", "HF_TOKEN=READ_TOKEN"], tmp_path, **env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"deployed the Space {REPO_ID} -> ")
        create = next(c for c in hub.calls() if c.path == "/api/repos/create").json()
        assert (create["type"], create["sdk"], create["hardware"]) == ("space", "gradio",
                                                                      "zero-a10g")  # fmt: skip
        # Variables and secrets come with the creation, so the first build has them.
        assert create["variables"] == [
            {"key": DATASET_VARIABLE, "value": "alice/codeocean"},
            {"key": "WAVECODER_MODEL", "value": "alice/wavecoder-6.7b"},
            {"key": "WAVECODER_BASE_MODEL", "value": "org/base"},
        ]
        assert create["secrets"] == [{"key": "HF_TOKEN", "value": "hf_read"}]
        space = f"/api/spaces/{REPO_ID}"
        settings_calls = ("/variables", "/secrets", "/settings", "/hardware")
        assert not [c for c in hub.calls() if c.path.startswith(space)
                    and c.path.endswith(settings_calls)]  # fmt: skip
        folder = hub.repos.folder(REPO_ID)
        plan = plan_deploy(REPO_ID, dataset="alice/codeocean", model="alice/wavecoder-6.7b",
                           base_model="org/base")  # fmt: skip
        for path, content in plan.files.items():  # text as a commit line, PNGs through Xet
            assert (folder / path).read_bytes() == content, path
        api = HfApi(endpoint=hub.url, token="hf_test_token")
        variables = {k: v.value for k, v in api.get_space_variables(REPO_ID).items()}
        assert variables == {DATASET_VARIABLE: "alice/codeocean",
                             "WAVECODER_MODEL": "alice/wavecoder-6.7b",
                             "WAVECODER_BASE_MODEL": "org/base"}  # fmt: skip
        assert hub.repos.state(REPO_ID)["settings"] == {
            "visibility": "public",
            "hardware": "zero-a10g",
        }

        # Deployed again: made private, other hardware, without the base model, a new secret;
        # the settings and variables change before the files are committed.
        before = len(hub.calls())
        done = wavecoder([*DEPLOY, "--private", "--hardware", "t4-small", "--secret",
                          "HF_TOKEN=READ_TOKEN"], tmp_path, **{**env, "READ_TOKEN": "hf_new"})  # fmt: skip
        assert done.returncode == 0, done.stderr
        calls = [(c.method, c.path) for c in hub.calls()[before:]]
        assert (("PUT", f"{space}/settings") in calls and ("POST", f"{space}/hardware") in calls
                and ("DELETE", f"{space}/variables") in calls)  # fmt: skip
        commit = next(i for i, (_, path) in enumerate(calls) if "/commit/" in path)
        assert all(i < commit for i, (_, path) in enumerate(calls)
                   if path.startswith(space) and path.endswith(settings_calls))  # fmt: skip
        assert hub.repos.state(REPO_ID)["settings"] == {
            "visibility": "private",
            "hardware": "t4-small",
        }
        assert hub.repos.state(REPO_ID)["secrets"] == {"HF_TOKEN": "hf_new"}
        variables = {k: v.value for k, v in api.get_space_variables(REPO_ID).items()}
        assert "WAVECODER_BASE_MODEL" not in variables and len(variables) == 2
        # Without --private an existing Space keeps its visibility: never made public.
        done = wavecoder(DEPLOY, tmp_path, **env)
        assert done.returncode == 0, done.stderr
        assert hub.repos.state(REPO_ID)["settings"]["visibility"] == "private"
        # The first commit and two deploys: the third changed no file, so the client skipped it.
        assert len(hub.repos.commits(REPO_ID)) == 3
