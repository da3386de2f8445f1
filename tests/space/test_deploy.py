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
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import gradio as gr
import pytest
import yaml
from space_fixtures import PLANTED_ID, tiny_model, write_codeocean

from space.deploy import DATASET_VARIABLE, module_closure, plan_deploy
from wavecoder.cli import main

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "training"))  # hub_server imports hub_repos by name
import hub_server  # noqa: E402
from hub_repos import ModelRepos  # noqa: E402

REPO_ID = "alice/wavecoder"
DEPLOY = ["space", "deploy", "--repo-id", REPO_ID, "--dataset", "alice/codeocean",
          "--model", "alice/wavecoder-6.7b"]  # fmt: skip
TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE")


def front_matter(readme: bytes) -> dict:
    text = readme.decode()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_dry_run_lists_files_and_variables_and_sends_nothing(capsys, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: a call would fail
    for name in TOKEN_ENV:
        monkeypatch.delenv(name, raising=False)
    assert main([*DEPLOY, "--base-model", "org/base", "--private", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"dry run: would create or update the private Gradio Space {REPO_ID} (nothing sent)"
    )
    paths = [line.split("B  ", 1)[1] for line in out if "B  " in line]
    assert paths[:3] == ["README.md", "app.py", "requirements.txt"]
    assert {"space/browse.py", "space/data.py", "space/chat.py", "pipeline/layout.py",
            "pipeline/tasks/translation.py", "training/formatting.py",
            "wavecoder/errors.py"} <= set(paths)  # fmt: skip
    assert not {"space/app.py", "space/commands.py", "space/deploy.py"} & set(paths)
    assert not any(p.startswith(("evaluation/", "cards/", "tests/")) for p in paths)
    assert out[-4:] == [
        "variables:",
        "  WAVECODER_DATASET=alice/codeocean",
        "  WAVECODER_MODEL=alice/wavecoder-6.7b",
        "  WAVECODER_BASE_MODEL=org/base",
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
    named = {line.split("=")[0].split(">")[0].split("<")[0] for line in requirements
             if line and not line.startswith("#")}  # fmt: skip
    assert {"spaces", "transformers", "torch", "pyarrow", "matplotlib"} <= named
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
reply = list(generate_replies(list(MODELS), "Add.", "", "alpaca", 2, 0.0))[-1]
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


# -- a real deploy against the loopback Hub ---------------------------------------------------


class SpaceRepos(ModelRepos):
    """The model repos of hub_server, reached as Spaces, plus Space variables (in the server
    process: tests read them back through the API)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.variables: dict[str, dict[str, dict]] = {}

    def route(self, h, method: str, segments: list[str], body: bytes) -> bool:
        if method == "POST" and segments == ["api", "repos", "create"]:
            payload = json.loads(body)
            if payload.get("type") == "space":
                if payload.get("sdk") != "gradio":
                    return h._send(400, {"error": "sdk must be set for a space"}) or True
                payload["type"] = "model"
            return self._create(h, payload) or True
        if segments[:2] != ["api", "spaces"] or len(segments) < 5:
            return super().route(h, method, segments, body)
        repo_id = "/".join(segments[2:4])
        if segments[4] == "variables":
            if not h.headers.get("authorization"):
                return h._send(401, {"error": "Invalid username or password."}) or True
            found = self.variables.setdefault(repo_id, {})
            if method == "POST":
                sent = json.loads(body)
                found[sent["key"]] = {"value": sent["value"], "description": None}
            elif method == "DELETE":
                found.pop(json.loads(body)["key"], None)
            return h._send(200, found) or True
        return super().route(h, method, ["api", "models", *segments[2:]], body)


class SpaceHub(hub_server.HubServer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.repos = SpaceRepos(self.repos.root, self.user, {})

    def _serve(self) -> None:  # hub_server's, with DELETE (delete_space_variable) routed too
        calls, lock, server = [], threading.Lock(), self

        class Handler(hub_server._Handler):
            hub = server
            log = calls
            log_lock = lock

            def do_DELETE(self) -> None:
                self._handle()

        ThreadingHTTPServer(("127.0.0.1", self.port), Handler).serve_forever()


@pytest.mark.slow
def test_deploy_creates_the_space_commits_its_files_and_sets_its_variables(tmp_path, monkeypatch):
    import huggingface_hub.constants
    from huggingface_hub import HfApi

    # This test reads the loopback Hub itself, whatever another folder's conftest set.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    with SpaceHub(root=tmp_path / "hub") as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_test_token"}
        done = wavecoder([*DEPLOY, "--base-model", "org/base", "--private"], tmp_path, **env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"deployed the Space {REPO_ID} -> ")
        create = next(c for c in hub.calls() if c.path == "/api/repos/create").json()
        assert (create["type"], create["sdk"], create["visibility"]) == ("space", "gradio",
                                                                      "private")  # fmt: skip
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
        # Deployed again without the base model: the Space stops loading it.
        done = wavecoder(DEPLOY, tmp_path, **env)
        assert done.returncode == 0, done.stderr
        variables = {k: v.value for k, v in api.get_space_variables(REPO_ID).items()}
        assert "WAVECODER_BASE_MODEL" not in variables and len(variables) == 2
        assert len(hub.repos.commits(REPO_ID)) == 3  # the repo's first commit and two deploys
