"""`wavecoder train --job`: run `training/sft.py` on Hugging Face Jobs with `HfApi.run_uv_job`.

`run_uv_job` uploads the local files it is given (the script, and every script argument that is
an existing file: the recipe) to the private bucket `{namespace}/jobs-artifacts`, mounts it at
`/data` and runs `uv run --with DEPENDENCY /data/sft.py --config /data/RECIPE.yaml ...` in the
`ghcr.io/astral-sh/uv` image. The job installs our package from `dependencies` (`package_spec`:
this checkout's pushed commit, else the installed distribution). Unlike `hf jobs uv run`,
`run_uv_job` ignores a `[tool.hf-jobs]` table in the script's PEP 723 header, so everything the
job needs is passed here.

A job's disk is gone when it ends, so the run must push: `push_to_hub` is forced on, a
`hub_model_id` is required, and `hub_strategy: checkpoint` (unless the recipe sets another) pushes
every save with a `last-checkpoint/` folder, so a job killed late loses one save interval at most.
The dataset must be a Hub repo. The token travels only as the `HF_TOKEN` secret (the API stores
secrets encrypted); nothing here prints it.

Without `--timeout`, the timeout is estimated from the dataset and the flavor
(training/job_timeout.py).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.job_timeout import as_bool, estimate_timeout, format_duration, parse_timeout
from wavecoder.errors import UserError

SFT_SCRIPT = Path(__file__).resolve().with_name("sft.py")
SOURCE_ROOT = Path(__file__).resolve().parents[1]
# The package's own folders: uncommitted changes there are not in the job.
PACKAGE_PATHS = ("wavecoder", "pipeline", "training", "evaluation", "cards", "space")
JOB_ENV = {"PYTHONUNBUFFERED": "1"}  # logs stream as they are written
ARTIFACTS_MOUNT = "/data"  # where run_uv_job mounts the uploaded files


@dataclass
class JobRequest:
    """What `run_uv_job` is asked for; `describe()` is what --dry-run prints."""

    script: str
    script_args: list[str]
    dependencies: list[str]
    flavor: str
    timeout_s: int
    namespace: str | None
    env: dict[str, str] = field(default_factory=lambda: dict(JOB_ENV))

    def uploads(self) -> list[str]:
        return [f for f in [self.script, *self.script_args] if Path(f).is_file()]

    def command(self) -> list[str]:
        # As run_uv_job rewrites it: uploaded files by their name under the /data mount.
        remote = {f: f"{ARTIFACTS_MOUNT}/{Path(f).name.replace(' ', '_')}" for f in self.uploads()}
        with_args = [arg for dep in self.dependencies for arg in ("--with", dep)]
        files = [remote.get(a, a) for a in [self.script, *self.script_args]]
        return ["uv", "run", *with_args, *files]

    def describe(self, token_found: bool) -> str:
        token = "your local token" if token_found else "NOT SET: log in with `hf auth login`"
        rows = [
            ("script", self.script),
            ("script args", shlex.join(self.script_args)),
            ("uploaded", f"{', '.join(self.uploads())} -> {ARTIFACTS_MOUNT}/ (private bucket)"),
            ("dependencies", ", ".join(self.dependencies)),
            ("command", shlex.join(self.command())),
            ("flavor", self.flavor),
            ("timeout", f"{self.timeout_s} s ({format_duration(self.timeout_s)})"),
            ("secrets", f"HF_TOKEN ({token}; value not shown)"),
            ("env", " ".join(f"{k}={v}" for k, v in self.env.items())),
            ("namespace", self.namespace or "your user (the token's)"),
        ]
        return "\n".join(f"  {name + ':':14}{value}" for name, value in rows)


def launch_job(
    config: str,
    trl_args: list[str],
    *,
    flavor: str,
    timeout: str | None,
    namespace: str | None,
    dry_run: bool,
    token: str | None = None,
    package: str | None = None,
) -> int:
    """Start `training/sft.py --config CONFIG TRL_ARGS` on HF Jobs; prints the request, the job
    URL and the command that follows its logs, and returns 0. `dry_run`: print the request and
    send nothing. `timeout` ("6h", "90m", seconds): None estimates it. `token`: None takes the
    local one (`hf auth login`, HF_TOKEN). `package`: how the job installs wavecoder (a pip
    requirement); None: `package_spec()`."""
    from huggingface_hub import HfApi, get_token

    from wavecoder.cli import version

    if not Path(config).is_file():
        raise UserError(f"recipe {config!r} not found: give the path of a training recipe YAML")
    if not SFT_SCRIPT.is_file():
        raise UserError(f"{SFT_SCRIPT} is missing: reinstall wavecoder")
    settings = recipe_settings(config, trl_args)
    _check_flavor(flavor, settings)
    script_args = ["--config", config, *trl_args, *_forced_args(settings)]
    token = token or get_token()
    if not token and not dry_run:
        raise UserError("no Hugging Face token: log in with `hf auth login` (or set HF_TOKEN)")
    api = HfApi(token=token, library_name="wavecoder", library_version=version())
    spec = package or package_spec()
    if timeout is not None:
        timeout_s = parse_timeout(timeout)
    else:
        timeout_s, how = estimate_timeout(api, settings, flavor)
        print(f"timeout: {format_duration(timeout_s)}, estimated (set it with --timeout):\n{how}")
    request = JobRequest(str(SFT_SCRIPT), script_args, [spec], flavor, timeout_s, namespace)
    header = "HF Jobs request (dry run: nothing is sent)" if dry_run else "HF Jobs request"
    print(f"{header}:\n{request.describe(token_found=bool(token))}")
    if dry_run:
        return 0
    job = _submit(api, request, token)
    logs = f"hf jobs logs -f {job.id}" + (f" --namespace {namespace}" if namespace else "")
    print(f"job started: {job.url}\nfollow its logs: {logs}")
    print(f"the model is pushed to {api.endpoint}/{settings['hub_model_id']}")
    return 0


def _submit(api, request: JobRequest, token: str):
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*run_uv_job.*experimental")
            return api.run_uv_job(
                request.script,
                script_args=request.script_args,
                dependencies=request.dependencies,
                env=request.env,
                secrets={"HF_TOKEN": token},
                flavor=request.flavor,
                timeout=request.timeout_s,
                namespace=request.namespace,
            )
    except OfflineModeIsEnabled:
        raise UserError("HF_HUB_OFFLINE is set: unset it to launch a job") from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        fix = {
            401: "your token was refused: log in again with `hf auth login`",
            402: "HF Jobs needs credits or a payment method: huggingface.co/settings/billing",
            403: "your token cannot run jobs there: use a token with write access "
            "(`hf auth login`) or another --namespace",
        }.get(status, "see the Hub's answer above")
        answer = (exc.server_message or str(exc)).strip().replace("\n", " ")
        raise UserError(f"HF Jobs did not start the job (HTTP {status}: {answer}): {fix}") from None
    except OSError as exc:  # connection errors
        raise UserError(f"could not reach the Hub at {api.endpoint}: {exc}") from None


def recipe_settings(config: str, trl_args: list[str]) -> dict[str, Any]:
    """The recipe's keys with the TRL flags applied (as sft.py's parser will see them), checked
    for what a job needs: a Hub dataset, a Hub model, a `hub_model_id`."""
    import yaml

    try:
        recipe = yaml.safe_load(Path(config).read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"recipe {config} is not valid YAML: {exc}") from None
    if not isinstance(recipe, dict):
        raise UserError(f"recipe {config} must be a mapping of keys to values")
    settings = {**recipe, **_flag_values(trl_args)}
    if settings.get("hub_token"):
        raise UserError(
            "hub_token would be visible in the job's command: drop it; the job gets your token "
            "as its HF_TOKEN secret"
        )
    if settings.get("attn_implementation") == "flash_attention_2":
        raise UserError(
            "the job cannot install flash-attn (it compiles against the GPU's CUDA): pass "
            "--attn_implementation sdpa --padding_free false"
        )
    dataset = settings.get("dataset_name")
    if not dataset:
        raise UserError(
            "no dataset: set `dataset_name` in the recipe or pass --dataset_name ORG/NAME"
        )
    if Path(str(dataset)).expanduser().exists():
        raise UserError(
            f"dataset_name {dataset!r} is a local folder, which a job cannot read: push it first "
            f"with `wavecoder push {dataset} --repo-id ORG/NAME`, then pass --dataset_name ORG/NAME"
        )
    model = settings.get("model_name_or_path")
    if model and Path(str(model)).expanduser().exists():
        raise UserError(
            f"model_name_or_path {model!r} is a local folder, which a job cannot read: push it "
            f"with `wavecoder push {model} --repo-id ORG/NAME`, then pass --model_name_or_path "
            "ORG/NAME"
        )
    if not settings.get("hub_model_id"):
        raise UserError(
            "a job's disk is deleted when it ends, so it pushes the model to the Hub: set "
            "`hub_model_id: ORG/NAME` in the recipe or pass --hub_model_id ORG/NAME"
        )
    return settings


def _flag_values(args: list[str]) -> dict[str, Any]:
    """`--key value`, `--key=value`, `--key v1 v2` (a list) and a bare `--key` (true)."""
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        if not args[i].startswith("--"):
            i += 1
            continue
        name, eq, value = args[i][2:].partition("=")
        name = name.replace("-", "_")
        i += 1
        if eq:
            values[name] = value
            continue
        rest = []
        while i < len(args) and not args[i].startswith("--"):
            rest.append(args[i])
            i += 1
        values[name] = True if not rest else rest[0] if len(rest) == 1 else rest
    return values


def _forced_args(settings: dict[str, Any]) -> list[str]:
    forced = []
    if not as_bool(settings.get("push_to_hub")):
        forced += ["--push_to_hub", "true"]
    if "hub_strategy" not in settings:
        forced += ["--hub_strategy", "checkpoint"]
    return forced


def _check_flavor(flavor: str, settings: dict[str, Any]) -> None:
    from huggingface_hub import JobHardware

    known = [h.value for h in JobHardware]
    if flavor not in known:
        raise UserError(
            f"unknown HF Jobs flavor {flavor!r}: use one of {', '.join(known)} (a flavor newer "
            "than your huggingface_hub needs `pip install -U huggingface_hub`)"
        )
    # sft.py stops such a run at once (training/device.py); say so before a machine starts.
    if flavor.startswith("cpu") and as_bool(settings.get("requires_cuda", True)):
        raise UserError(
            f"this recipe needs a CUDA GPU (`requires_cuda: true`) and {flavor} has none: pick a "
            "GPU flavor such as a10g-large, or a CPU recipe (`requires_cuda: false`)"
        )


def package_spec(root: Path = SOURCE_ROOT) -> str:
    """How the job installs wavecoder: this source checkout's commit from its `origin` (it must
    be pushed), else the installed distribution's VCS URL or version. Prints what it chose."""
    if (root / ".git").exists() and (root / "pyproject.toml").is_file():
        url = _git(root, "remote", "get-url", "origin")
        if not url:
            raise UserError(
                "the job installs wavecoder from a URL, and this checkout has no `origin` remote: "
                "push it, or pass --package 'wavecoder @ git+https://HOST/ORG/REPO@COMMIT'"
            )
        commit = _git(root, "rev-parse", "HEAD")
        if not _git(root, "branch", "-r", "--contains", commit):
            raise UserError(
                f"commit {commit[:12]} is on no branch of origin that this checkout knows: "
                "`git push` it first (the job installs wavecoder from it), or pass --package SPEC"
            )
        if _git(root, "status", "--porcelain", "--", *PACKAGE_PATHS, "pyproject.toml"):
            print(f"note: uncommitted changes are not in the job; it installs commit {commit[:12]}")
        return f"wavecoder @ git+{https_url(url)}@{commit}"
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("wavecoder")
    except PackageNotFoundError:
        raise UserError("wavecoder is not installed: pass --package SPEC") from None
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    vcs = direct.get("vcs_info")
    if vcs:
        return f"wavecoder @ git+{https_url(direct['url'])}@{vcs['commit_id']}"
    if direct:  # a local folder or archive the job cannot reach
        raise UserError(
            f"wavecoder was installed from {direct.get('url')}, which a job cannot reach: pass "
            "--package 'wavecoder @ git+https://HOST/ORG/REPO@COMMIT'"
        )
    return f"wavecoder=={dist.version}"


def https_url(url: str) -> str:
    """A git remote as an https URL without credentials (`git@host:org/repo` included)."""
    url = url.strip().removeprefix("git+")
    if match := re.fullmatch(r"(?:ssh://)?[^@/]+@([^:/]+)[:/](.+)", url):
        url = f"https://{match[1]}/{match[2]}"
    return re.sub(r"^(https?://)[^@/]+@", r"\1", url)  # a token in the URL must not travel


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""
