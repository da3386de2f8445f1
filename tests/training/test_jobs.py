"""`launch_job` against a loopback Hub (tests/training/hub_server.py): the upload of the script and
the recipe to the jobs bucket, the job spec the API receives, the token only where the API needs
it, the timeout estimated from the dataset, and the errors a user can cause. The launches run in
a subprocess whose environment points huggingface_hub at the loopback server (HF_ENDPOINT) with
offline mode off; the checks that need no network run here, offline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hub_server import JOB_ID, XET_ACCESS_TOKEN, HubServer, xorb_chunks

from training import jobs
from training.job_timeout import model_size_b
from training.jobs import https_url, launch_job, package_spec
from wavecoder.errors import UserError

REPO = Path(__file__).resolve().parents[2]
TOKEN = "hf_TestTokenThatMustNeverBePrinted0123"
SPEC = "wavecoder @ git+https://github.com/acme/wavecoder.git@" + "a" * 40
UV_IMAGE = "ghcr.io/astral-sh/uv:python3.12-bookworm"
RECIPE = {
    "model_name_or_path": "deepseek-ai/deepseek-coder-6.7b-base",
    "dataset_name": "acme/codeocean",
    "use_peft": True,
    "num_train_epochs": 3,
    "max_length": 2048,
    "bf16": True,
    "output_dir": "data/wavecoder-lora",
}
# The loopback dataset: 1,500 generation and 500 repair rows of 500 + 1,000 + 2,000 characters
# (1,000 tokens at 3.5 characters per token); `default` holds all, `repair` the repair rows again.
ROWS = 2000


@pytest.fixture(scope="module")
def hub_dataset(tmp_path_factory) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("hub-codeocean")
    rows = [
        {"id": f"row{i}", "task": "repair" if i % 4 == 0 else "generation",
         "instruction": "i" * 500, "input": "x" * 1000, "output": "o" * 2000}
        for i in range(ROWS)
    ]  # fmt: skip
    for config, subset in (("data", rows), ("repair", [r for r in rows if r["task"] == "repair"])):
        (folder / config).mkdir()
        pq.write_table(
            pa.Table.from_pylist(subset), folder / config / "train-00000-of-00001.parquet"
        )
    (folder / "README.md").write_text("---\nconfigs: []\n---\n")
    return folder


def write_recipe(folder: Path, **changes) -> Path:
    recipe = {k: v for k, v in {**RECIPE, **changes}.items() if v is not None}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def launch_in_subprocess(
    hub: HubServer, tmp_path: Path, local_token: str | None = TOKEN, offline=False, **kwargs
) -> subprocess.CompletedProcess:
    """`launch_job(**kwargs)` in a process whose huggingface_hub talks to `hub` (`offline`: with
    HF_HUB_OFFLINE=1), with `local_token` as the local token; a UserError exits 2 with its message
    on stderr, as the CLI does."""
    driver = (
        "import json, sys\n"
        "from training.jobs import launch_job\n"
        "from wavecoder.errors import UserError\n"
        "try:\n"
        "    sys.exit(launch_job(**json.loads(sys.argv[1])))\n"
        "except UserError as exc:\n"
        "    print(f'error: {exc}', file=sys.stderr)\n"
        "    sys.exit(2)\n"
    )
    unset = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_DISABLE_PROGRESS_BARS="1", PYTHONPATH=str(REPO),
    )  # fmt: skip
    if local_token:
        env["HF_TOKEN"] = local_token
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", driver, json.dumps(kwargs)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_launch_uploads_script_and_recipe_and_sends_the_job_spec(hub_dataset, tmp_path):
    recipe = write_recipe(tmp_path)
    trl_args = ["--hub_model_id", "acme/wavecoder-lora", "--learning_rate", "1e-4",
                "--dataset_configs", "default", "repair"]  # fmt: skip
    with HubServer(user="alice", datasets={"acme/codeocean": hub_dataset}) as hub:
        done = launch_in_subprocess(
            hub, tmp_path, config=str(recipe), trl_args=trl_args, flavor="a10g-large",
            timeout=None, namespace=None, dry_run=False, package=SPEC,
        )  # fmt: skip
        calls = hub.calls()
    assert done.returncode == 0, done.stderr
    routes = [(c.method, c.path) for c in calls]
    job_posts = [c for c in calls if c.path.startswith("/api/jobs/")]
    assert [(c.method, c.path) for c in job_posts] == [("POST", "/api/jobs/alice")]
    spec = job_posts[0].json()

    # The timeout: 2,000 rows (the repair rows of both configs once) x 1,000 tokens x 3 epochs
    # = 6M tokens at ~600 tokens/s (one A10G, 7B LoRA) = 10,000 s, x 1.5 + 900 s of set-up.
    assert spec["timeoutSeconds"] == 15900
    assert "timeout: 4h 25m, estimated" in done.stdout
    assert f"rows:    {ROWS:,} (acme/codeocean, configs default, repair)" in done.stdout
    assert "~600 tokens/s on a10g-large (1 x A10G" in done.stdout

    # The uploads: a private jobs-artifacts bucket holding exactly the script and the recipe.
    assert ("POST", "/api/buckets/alice/jobs-artifacts") in routes
    bucket = next(c for c in calls if c.path == "/api/buckets/alice/jobs-artifacts")
    assert bucket.json() == {"visibility": "private"}
    added = next(c for c in calls if c.path == "/api/buckets/alice/jobs-artifacts/batch").ndjson()
    folder = added[0]["path"].split("/")[0]
    assert sorted(op["path"] for op in added) == [f"{folder}/recipe.yaml", f"{folder}/sft.py"]
    import hf_xet

    local = {"sft.py": jobs.SFT_SCRIPT, "recipe.yaml": recipe}
    infos = hf_xet.hash_files([str(path) for path in local.values()])
    hashes = {name: info.hash for name, info in zip(local, infos, strict=True)}
    assert {op["path"].split("/")[1]: op["xetHash"] for op in added} == hashes
    uploaded = b"".join(
        b"".join(xorb_chunks(c.body)) for c in calls if c.path.startswith("/cas/v1/xorbs/")
    )
    assert jobs.SFT_SCRIPT.read_bytes() in uploaded and recipe.read_bytes() in uploaded

    # The job: uv runs the uploaded script with our package, the recipe and the forced flags.
    assert spec["command"] == [
        "uv", "run", "--with", SPEC, "/data/sft.py", "--config", "/data/recipe.yaml", *trl_args,
        "--push_to_hub", "true", "--hub_strategy", "checkpoint",
    ]  # fmt: skip
    assert spec["flavor"] == "a10g-large"
    assert spec["dockerImage"] == UV_IMAGE
    assert spec["environment"] == {"PYTHONUNBUFFERED": "1"}
    assert spec["secrets"] == {"HF_TOKEN": TOKEN}
    assert spec["volumes"] == [
        {"type": "bucket", "source": "alice/jobs-artifacts", "mountPath": "/data",
         "readOnly": False, "path": folder}
    ]  # fmt: skip

    # The token: in the Hub API's Authorization header and the job's secrets, nowhere else.
    for call in calls:
        if call.path.startswith("/cas/") or call.path == "/v1/telemetry":
            assert call.headers.get("authorization") == f"Bearer {XET_ACCESS_TOKEN}"
        elif call.path != "/api/agent-harnesses":
            assert call.headers["authorization"] == f"Bearer {TOKEN}", call.path
        others = {k: v for k, v in call.headers.items() if k != "authorization"}
        assert TOKEN not in json.dumps(others), call.path
        body = call.body
        if call is job_posts[0]:
            body = json.dumps({k: v for k, v in spec.items() if k != "secrets"}).encode()
        assert TOKEN.encode() not in body, call.path
    assert TOKEN not in done.stdout + done.stderr

    job_url = f"{hub.url}/jobs/alice/{JOB_ID}"
    assert f"job started: {job_url}\nfollow its logs: hf jobs logs -f {JOB_ID}\n" in done.stdout
    assert f"the model is pushed to {hub.url}/acme/wavecoder-lora" in done.stdout


def test_dry_run_prints_the_request_and_sends_nothing(hub_dataset, tmp_path):
    recipe = write_recipe(tmp_path, hub_model_id="acme/wavecoder-lora", hub_strategy="every_save")
    with HubServer(datasets={"acme/codeocean": hub_dataset}) as hub:
        done = launch_in_subprocess(
            hub, tmp_path, config=str(recipe), trl_args=["--push_to_hub"], flavor="h200",
            timeout="6h", namespace="acme", dry_run=True, package=SPEC,
        )  # fmt: skip
        calls = hub.calls()
    assert done.returncode == 0, done.stderr
    assert calls == []
    out = done.stdout
    assert "HF Jobs request (dry run: nothing is sent):" in out
    expected = {
        "script": str(jobs.SFT_SCRIPT),
        "script args": f"--config {recipe} --push_to_hub",  # both already set: nothing forced
        "dependencies": SPEC,
        "command": f"uv run --with '{SPEC}' /data/sft.py --config /data/recipe.yaml --push_to_hub",
        "flavor": "h200",
        "timeout": "21600 s (6h 00m)",
        "secrets": "HF_TOKEN (your local token; value not shown)",
        "env": "PYTHONUNBUFFERED=1",
        "namespace": "acme",
    }
    printed = dict(
        line.strip().split(":", 1) for line in out.splitlines()[1:] if line.startswith("  ")
    )
    assert {k: printed[k].strip() for k in expected} == expected
    assert printed["uploaded"].strip() == f"{jobs.SFT_SCRIPT}, {recipe} -> /data/ (private bucket)"
    assert TOKEN not in out + done.stderr
    assert "job started" not in out


def test_a_refused_token_is_a_user_error_that_names_the_fix(tmp_path):
    recipe = write_recipe(tmp_path, hub_model_id="acme/m")
    with HubServer(job_status=401) as hub:
        done = launch_in_subprocess(
            hub, tmp_path, config=str(recipe), trl_args=[], flavor="a10g-large",
            timeout="2h", namespace=None, dry_run=False, package=SPEC,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "error: HF Jobs did not start the job (HTTP 401: Invalid credentials in Authorization "
        "header): your token was refused: log in again with `hf auth login`"
    )
    assert "Traceback" not in done.stderr and TOKEN not in done.stdout + done.stderr


def test_without_a_local_token_nothing_is_sent(hub_dataset, tmp_path):
    recipe = write_recipe(tmp_path, hub_model_id="acme/m")
    with HubServer(datasets={"acme/codeocean": hub_dataset}) as hub:
        done = launch_in_subprocess(
            hub, tmp_path, local_token=None, config=str(recipe), trl_args=[],
            flavor="a10g-large", timeout=None, namespace=None, dry_run=False, package=SPEC,
        )  # fmt: skip
        calls = hub.calls()
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "error: no Hugging Face token: log in with `hf auth login` (or set HF_TOKEN)"
    )
    assert calls == []


def test_estimate_counts_the_training_rows_and_stops_where_7b_does_not_fit(hub_dataset, tmp_path):
    recipe = write_recipe(tmp_path, hub_model_id="acme/m", drop_tasks=["repair"], max_length=500)
    with HubServer(datasets={"acme/codeocean": hub_dataset}) as hub:
        done = launch_in_subprocess(
            hub, tmp_path, config=str(recipe), trl_args=["--num_train_epochs", "1"],
            flavor="a100x4", timeout=None, namespace=None, dry_run=True, package=SPEC,
        )  # fmt: skip
        full = launch_in_subprocess(
            hub, tmp_path, config=str(recipe), trl_args=["--use_peft", "false"],
            flavor="a10g-large", timeout=None, namespace=None, dry_run=True, package=SPEC,
        )  # fmt: skip
        calls = hub.calls()
    assert done.returncode == 0, done.stderr
    # 1,500 rows (repair dropped) x 500 tokens (max_length) x 1 epoch = 0.75M tokens at
    # 2,700 x 4 x 0.7 = 7,560 tokens/s: 99 s, x 1.5 + 900 s, below the 30 min floor.
    assert "timeout:      1800 s (30 min)" in done.stdout
    assert "rows:    1,500 (acme/codeocean, configs default)" in done.stdout
    assert "= 0.8M" in done.stdout and "~7,560 tokens/s on a100x4 (4 x A100 80GB" in done.stdout
    assert all(c.method in ("GET", "HEAD") for c in calls)  # a dry run reads, never writes
    assert full.returncode == 2
    assert "does not fit on a10g-large" in full.stderr and "--use_peft true" in full.stderr


def test_an_unreadable_dataset_asks_for_a_timeout(tmp_path):
    recipe = write_recipe(tmp_path, hub_model_id="acme/m")
    with HubServer() as hub:
        done = launch_in_subprocess(
            hub, tmp_path, offline=True, config=str(recipe), trl_args=[], flavor="a10g-large",
            timeout=None, namespace=None, dry_run=False, package=SPEC,
        )  # fmt: skip
        calls = hub.calls()
    assert done.returncode == 2
    last = done.stderr.splitlines()[-1]
    assert last.startswith(
        "error: could not read dataset acme/codeocean from the Hub to estimate the job's duration "
        "(OfflineModeIsEnabled: "
    )
    assert last.endswith("pass --timeout (e.g. --timeout 6h)")
    assert calls == []


@pytest.mark.parametrize(
    ("changes", "trl_args", "message"),
    [
        ({}, [], "--hub_model_id ORG/NAME"),
        ({"hub_model_id": "acme/m"}, ["--dataset_name", "LOCAL"], "wavecoder push LOCAL"),
        ({"hub_model_id": "acme/m", "dataset_name": None}, [], "--dataset_name ORG/NAME"),
        ({"hub_model_id": "acme/m", "model_name_or_path": "LOCAL"}, [], "a local folder"),
    ],
)
def test_what_a_job_cannot_run_is_refused_before_anything_is_sent(
    codeocean_dir, tmp_path, capsys, changes, trl_args, message
):
    changes = {k: str(codeocean_dir) if v == "LOCAL" else v for k, v in changes.items()}
    trl_args = [str(codeocean_dir) if a == "LOCAL" else a for a in trl_args]
    recipe = write_recipe(tmp_path, **changes)
    with pytest.raises(UserError) as raised:
        launch_job(str(recipe), trl_args, flavor="a10g-large", timeout="1h", namespace=None,
                   dry_run=True, token=TOKEN, package=SPEC)  # fmt: skip
    assert message.replace("LOCAL", str(codeocean_dir)) in str(raised.value)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flavor": "a10g-huge"}, "unknown HF Jobs flavor 'a10g-huge'"),
        ({"flavor": "cpu-upgrade"}, "needs a CUDA GPU .* and cpu-upgrade has none"),
        ({"timeout": "six hours"}, "--timeout 'six hours': give a duration such as 90m"),
        ({"config": "missing.yaml"}, "recipe 'missing.yaml' not found"),
    ],
)
def test_bad_flags_are_user_errors(tmp_path, kwargs, message):
    args = {"config": str(write_recipe(tmp_path, hub_model_id="acme/m")), "trl_args": [],
            "flavor": "a10g-large", "timeout": "2h", "namespace": None, "dry_run": True,
            "token": TOKEN, "package": SPEC, **kwargs}  # fmt: skip
    with pytest.raises(UserError, match=message):
        launch_job(**args)


def test_package_spec_is_the_pushed_commit_of_this_checkout_without_credentials(tmp_path):
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip

    git("init", "-q")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'wavecoder'\n")
    git("add", "pyproject.toml")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    with pytest.raises(UserError, match="no `origin` remote"):
        package_spec(tmp_path)
    git("remote", "add", "origin", "https://someone:ghp_secret@github.com/acme/wavecoder.git")
    with pytest.raises(UserError, match="`git push` it first"):
        package_spec(tmp_path)
    git("update-ref", "refs/remotes/origin/main", "HEAD")  # as a push leaves it
    commit = git("rev-parse", "HEAD")
    assert (
        package_spec(tmp_path) == f"wavecoder @ git+https://github.com/acme/wavecoder.git@{commit}"
    )


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:acme/wavecoder.git", "https://github.com/acme/wavecoder.git"),
        ("ssh://git@github.com/acme/wavecoder", "https://github.com/acme/wavecoder"),
        ("https://github.com/acme/wavecoder.git", "https://github.com/acme/wavecoder.git"),
        ("https://u:tok@gitlab.com/acme/wavecoder", "https://gitlab.com/acme/wavecoder"),
    ],
)
def test_git_remotes_become_https_urls(remote, url):
    assert https_url(remote) == url


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("deepseek-ai/deepseek-coder-6.7b-base", 6.7),
        ("Qwen/Qwen2.5-Coder-7B", 7.0),
        ("HuggingFaceTB/SmolLM2-135M", 0.135),
        ("bigcode/starcoder2-15b", 15.0),
        ("gpt2", None),
    ],
)
def test_model_size_is_read_from_the_model_id(model, size):
    assert model_size_b(model) == size


def test_the_script_header_leaves_wavecoder_to_the_job_dependencies():
    # `uv run --with SPEC sft.py` resolves the PEP 723 header on its own first: a bare `wavecoder`
    # there (not on PyPI) fails the job before it starts; the package comes from `--with`.
    from packaging.requirements import Requirement

    header = jobs.SFT_SCRIPT.read_text().split("# /// script\n", 1)[1].split("# ///\n", 1)[0]
    listed = header.split("dependencies", 1)[1].split("]", 1)[0]
    requirements = [Requirement(r) for r in re.findall(r'"([^"]+)"', listed)]
    assert "trl" in [r.name for r in requirements]  # the header was read
    bare = [str(r) for r in requirements if r.name == "wavecoder" and not r.url]
    assert bare == [], "training/sft.py's PEP 723 header requires wavecoder from an index"
