"""`wavecoder space deploy`: create or update the Gradio Space on the Hub.

A Space runs `app.py` at its repository's root and installs `requirements.txt`. The Space gets:

- `app.py`: `space/app.py` as it is; its imports (`space.browse`, `pipeline.layout`, ...) are
  absolute, so they resolve the same on the Space as in this repository;
- the first-party modules the app imports, found by reading their imports (`module_closure`), at
  their paths in this repository: the app runs on the package's own code, not a copy of it;
- `requirements.txt` (`space/requirements.txt`: third-party packages only);
- `README.md`: `space/README.md` with its front matter naming the dataset and models, and the
  screenshots it shows;
- the Space variables WAVECODER_DATASET, WAVECODER_MODEL and WAVECODER_BASE_MODEL, which app.py
  reads, and the secrets named with --secret NAME[=ENV] (values from this environment), set when the
  Space is created (`create_repo(space_variables=..., space_secrets=...)`), so its first build
  has them; on an existing Space they are set before the files are committed;
- its settings: --private makes a new Space private and an existing one private too
  (`update_repo_settings`); --hardware asks for that hardware (`create_repo(space_hardware=...)`,
  or `request_space_hardware` for an existing Space).

The Space reads the dataset and models from the Hub: local folders are refused (push them first
with `wavecoder push`).

    plan = plan_deploy("org/wavecoder", dataset="org/codeocean", model="org/wavecoder-6.7b")
    print(plan.describe())   # --dry-run: nothing sent
    url = deploy_space(plan)
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from wavecoder.errors import UserError

SPACE_DIR = Path(__file__).resolve().parent
REPO_ROOT = SPACE_DIR.parent
FIRST_PARTY = ("wavecoder", "pipeline", "training", "evaluation", "cards", "space")
# Where the app starts; its own imports and theirs are followed from here.
ENTRY_MODULES = ("space.app",)
# Packages whose modules are found at run time (the task registry imports each module of
# pipeline.tasks with pkgutil), so every module in them is uploaded.
WHOLE_PACKAGES = ("pipeline.tasks",)
# First-party modules the Space never runs (the command line's side).
LOCAL_ONLY = ("space.commands", "space.deploy")
SCREENSHOTS = "screenshots"
DATASET_VARIABLE, MODEL_VARIABLE, BASE_MODEL_VARIABLE = (
    "WAVECODER_DATASET",
    "WAVECODER_MODEL",
    "WAVECODER_BASE_MODEL",
)
SPACE_VARIABLES = (DATASET_VARIABLE, MODEL_VARIABLE, BASE_MODEL_VARIABLE)
NO_TOKEN = (
    "no Hugging Face token: run `hf auth login` or set HF_TOKEN (a write token); "
    "`wavecoder space deploy --dry-run` lists what would be sent without one"
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SECRET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class DeployPlan:
    """What `deploy_space` sends: the Space's files (repo path -> bytes), variables, the names of
    the secrets it copies from the environment, and its settings (private, hardware)."""

    repo_id: str
    private: bool
    files: dict[str, bytes]
    variables: dict[str, str]
    hardware: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)  # secret name -> environment variable
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """The `--dry-run` listing: the Space and its settings, every file with its size, every
        variable, every secret's name (never its value)."""
        lines = [f"dry run: would create or update the Gradio Space {self.repo_id} (nothing sent)"]
        if self.private:
            lines.append("visibility: private (a new Space is created private; an existing one "
                         "is made private)")  # fmt: skip
        else:
            lines.append("visibility: public when created; an existing Space keeps its own "
                         "(--private to make it private)")  # fmt: skip
        if self.hardware:
            lines.append(f"hardware: {self.hardware} (asked for at creation, or requested for an "
                         "existing Space)")  # fmt: skip
        else:
            lines.append("hardware: unchanged (a new Space starts on cpu-basic; --hardware to ask "
                         "for another)")  # fmt: skip
        width = max(len(f"{len(data):,}") for data in self.files.values())
        lines += [f"  {len(data):>{width},} B  {path}" for path, data in self.files.items()]
        total = sum(len(data) for data in self.files.values())
        lines.append(f"{len(self.files)} files, {total:,} B in total")
        lines.append("variables (set at creation, or before the commit on an existing Space):")
        lines += [f"  {key}={value}" for key, value in self.variables.items()]
        if self.secrets:
            lines.append("secrets (values from this environment, not shown):")
            lines += [f"  {name} (from ${env})" for name, env in self.secrets.items()]
        return "\n".join(lines + self.notes)


def plan_deploy(
    repo_id: str,
    *,
    dataset: str,
    model: str | None = None,
    base_model: str | None = None,
    private: bool = False,
    hardware: str | None = None,
    secrets: list[str] | tuple[str, ...] = (),
) -> DeployPlan:
    """Check the arguments and gather the Space's files, variables, secrets' names and settings;
    no network, no token."""
    if not _REPO_ID.match(repo_id or ""):
        raise UserError(f"--repo-id must be ORG/NAME (the Space's id), got {repo_id!r}")
    _check_hardware(hardware)
    named = {}
    for secret in secrets:
        name, _, env = secret.partition("=")
        env = env or name
        if not (_SECRET.match(name) and _SECRET.match(env)):
            raise UserError(f"--secret takes NAME or NAME=ENV_VARIABLE, not {secret!r}")
        if not os.environ.get(env):
            raise UserError(
                f"--secret {secret}: {env} is not set here; the Space's secret {name} takes its "
                f"value from this environment (export {env} first)"
            )
        named[name] = env
    if base_model and not model:
        raise UserError("--base-model answers beside --model: give --model too")
    for flag, name, kind in (("--dataset", dataset, "dataset"), ("--model", model, "model"),
                             ("--base-model", base_model, "model")):  # fmt: skip
        _check_hub_id(flag, name, kind)
    variables = {DATASET_VARIABLE: dataset}
    if model:
        variables[MODEL_VARIABLE] = model
    if base_model:
        variables[BASE_MODEL_VARIABLE] = base_model
    files = {"README.md": space_readme([dataset], [m for m in (model, base_model) if m])}
    files["app.py"] = (SPACE_DIR / "app.py").read_bytes()
    files["requirements.txt"] = (SPACE_DIR / "requirements.txt").read_bytes()
    for path in module_files():
        if path != "space/app.py":
            files[path] = (REPO_ROOT / path).read_bytes()
    for image in sorted((SPACE_DIR / SCREENSHOTS).glob("*.png")):
        files[f"{SCREENSHOTS}/{image.name}"] = image.read_bytes()
    return DeployPlan(repo_id, private, files, variables, hardware=hardware,
                      secrets=named)  # fmt: skip


def space_readme(datasets: list[str], models: list[str]) -> bytes:
    """space/README.md with `datasets` and `models` in its front matter (the Space's card)."""
    from huggingface_hub import SpaceCard

    card = SpaceCard((SPACE_DIR / "README.md").read_text(encoding="utf-8"))
    card.data.datasets = datasets
    card.data.models = models or None
    return str(card).encode("utf-8")


def module_closure(entries: tuple[str, ...] = ENTRY_MODULES) -> list[str]:
    """Every first-party module `entries` import, directly or not (imports inside functions
    too), with their parent packages and every module of `WHOLE_PACKAGES`; sorted names."""
    todo, found = list(entries), {}
    for package in WHOLE_PACKAGES:
        folder = REPO_ROOT.joinpath(*package.split("."))
        todo += [f"{package}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"]
    while todo:
        name = todo.pop()
        path = _module_path(name)
        if name in found or path is None or name in LOCAL_ONLY:
            continue
        found[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from package import name`: name may be a submodule
                todo += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return sorted(found)


def module_files() -> list[str]:
    """The repository paths of `module_closure()`'s modules."""
    return sorted(_module_path(name).relative_to(REPO_ROOT).as_posix() for name in module_closure())


def deploy_space(plan: DeployPlan) -> str:
    """Create the Space (Gradio SDK) with its settings, variables and secrets, or bring an
    existing one's up to date; then commit the plan's files. Returns the Space's URL."""
    from pipeline.push import require_token

    token = require_token(NO_TOKEN)
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    secrets = {name: os.environ[env] for name, env in plan.secrets.items()}
    try:
        url = _create(api, plan, secrets)
        if url is None:  # it exists: settings, variables and secrets before the files
            url = f"{api.endpoint}/spaces/{plan.repo_id}"
            _update(api, plan, secrets)
        operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=data)
                      for path, data in plan.files.items()]  # fmt: skip
        api.create_commit(plan.repo_id, operations, repo_type="space",
                          commit_message="Deploy the WaveCoder Space with wavecoder")  # fmt: skip
    except HfHubHTTPError as exc:
        raise UserError(f"the Hub refused the Space {plan.repo_id}: {exc}") from exc
    except Exception as exc:  # connection errors of the HTTP client are not all OSErrors
        if isinstance(exc, UserError):
            raise
        raise UserError(
            f"cannot reach the Hub or update the Space {plan.repo_id} ({type(exc).__name__}: "
            f"{exc}); check the network and HF_TOKEN"
        ) from exc
    return str(url)


def _create(api, plan: DeployPlan, secrets: dict[str, str]) -> str | None:
    """Create the Space with everything it needs for its first build; None when it exists."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        return api.create_repo(
            plan.repo_id, repo_type="space", space_sdk="gradio", private=plan.private,
            space_hardware=plan.hardware,
            space_variables=[{"key": k, "value": v} for k, v in plan.variables.items()],
            space_secrets=[{"key": k, "value": v} for k, v in secrets.items()] or None,
        )  # fmt: skip
    except HfHubHTTPError as exc:
        if exc.response is not None and exc.response.status_code == 409:
            return None
        raise


def _update(api, plan: DeployPlan, secrets: dict[str, str]) -> None:
    """An existing Space: made private when asked (never made public), its hardware requested,
    its variables set (a model left out of this deployment unset) and its secrets set."""
    if plan.private:
        api.update_repo_settings(plan.repo_id, repo_type="space", private=True)
    if plan.hardware:
        api.request_space_hardware(plan.repo_id, plan.hardware)
    for key, value in plan.variables.items():
        api.add_space_variable(plan.repo_id, key, value)
    stale = set(api.get_space_variables(plan.repo_id)) & set(SPACE_VARIABLES)
    for key in sorted(stale - set(plan.variables)):
        api.delete_space_variable(plan.repo_id, key)
    for key, value in secrets.items():
        api.add_space_secret(plan.repo_id, key, value)


def _check_hardware(hardware: str | None) -> None:
    if hardware is None:
        return
    from huggingface_hub import SpaceHardware

    known = [h.value for h in SpaceHardware]
    if hardware not in known:
        raise UserError(f"--hardware {hardware} is not a Space hardware: use one of "
                        f"{', '.join(known)}")  # fmt: skip


def _check_hub_id(flag: str, name: str | None, kind: str) -> None:
    if name is None:
        return
    if Path(name).expanduser().exists() or not _REPO_ID.match(name):
        fix = "wavecoder push DIR --repo-id ORG/NAME"
        raise UserError(
            f"{flag} {name} is not a Hub id (ORG/NAME): the Space reads the {kind} from the "
            f"Hub, so push it first (`{fix}`) and pass that id"
        )


def _module_path(name: str) -> Path | None:
    if name.split(".")[0] not in FIRST_PARTY:
        return None
    base = REPO_ROOT.joinpath(*name.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None
