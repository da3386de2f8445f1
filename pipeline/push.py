"""`wavecoder push`: upload a dataset folder (from `wavecoder generate`) or a model folder.

Everything that can be checked locally is checked before the Hub is contacted: the folder and
its card, the repository id, the dataset's data (a dataset whose `default` config has no accepted
row is refused unless ``allow_empty``), then that a token exists. ``plan_push`` does those checks
and lists what would be uploaded; `wavecoder push --dry-run` prints that list and sends nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.generation.records import FAILED, REJECTED
from pipeline.layout import DEFAULT_CONFIG, NOT_PUSHED, README, SUMMARY_FILE, config_folder
from wavecoder.errors import UserError

# Run state that stays local: caches, the distilabel work folder, dry-run prompts.
IGNORE_PATTERNS = [*(f"{name}/**" for name in NOT_PUSHED), "**/__pycache__/**", "*.lock"]
_MODEL_MARKERS = ("config.json", "adapter_config.json", "model.safetensors", "pytorch_model.bin")
DEFAULT_CONFIG_DIR = config_folder(DEFAULT_CONFIG)
_OUTCOME_CONFIGS = (REJECTED, FAILED)
NO_TOKEN = (
    "no Hugging Face token: run `hf auth login` or set HF_TOKEN (a write token); "
    "`wavecoder push --dry-run` lists what would be uploaded without one"
)


@dataclass
class PushPlan:
    """What `push_folder` uploads: the checked folder, its files and the target repository."""

    folder: Path
    repo_id: str
    repo_type: str
    private: bool
    files: list[tuple[str, int]]  # (relative path, bytes), in upload order
    rows: dict[str, int] | None = None  # dataset: rows per config (default, rejected, failed)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    def describe(self) -> str:
        """The `--dry-run` listing: repository, every file with its size, the total."""
        visibility = "private" if self.private else "public"
        lines = [
            f"dry run: would upload {self.folder} to the {visibility} {self.repo_type} "
            f"repository {self.repo_id} (nothing sent)"
        ]
        if self.rows is not None:
            counts = ", ".join(f"{name} {n}" for name, n in self.rows.items())
            lines.append(f"rows: {counts}")
        width = max((len(f"{size:,}") for _, size in self.files), default=1)
        lines += [f"  {size:>{width},} B  {path}" for path, size in self.files]
        lines.append(f"{len(self.files)} files, {self.total_bytes:,} B in total")
        return "\n".join(lines)


def guess_repo_type(folder: Path) -> str:
    """``model`` when the folder holds weights or a model config, else ``dataset``."""
    if any((folder / name).exists() for name in _MODEL_MARKERS):
        return "model"
    if any(folder.glob("model*.safetensors")):
        return "model"
    return "dataset"


def files_to_upload(folder: Path) -> list[str]:
    """Relative paths `push_folder` uploads: everything but the ignored run state and what
    `upload_folder` itself always leaves out (``.git/``, ``.cache/huggingface/``), matched by
    huggingface_hub's own filter so that the list is exactly what is sent."""
    from huggingface_hub.hf_api import DEFAULT_IGNORE_PATTERNS
    from huggingface_hub.utils import filter_repo_objects

    paths = [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()]
    ignore = [*IGNORE_PATTERNS, *DEFAULT_IGNORE_PATTERNS]
    return list(filter_repo_objects(paths, ignore_patterns=ignore))


def plan_push(
    folder: str | Path,
    *,
    repo_id: str,
    private: bool = False,
    repo_type: str | None = None,
    allow_empty: bool = False,
) -> PushPlan:
    """Check ``folder`` for upload to ``repo_id`` without the network or a token."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder")
    if "/" not in repo_id:
        raise UserError(f"--repo-id must be ORG/NAME, got {repo_id!r}")
    if not (folder / README).exists():
        raise UserError(
            f"{folder} has no {README} (dataset or model card); push a folder written by a "
            "`wavecoder generate` run (--dry-run and --select-only write no dataset) or by training"
        )
    repo_type = repo_type or guess_repo_type(folder)
    files = files_to_upload(folder)
    rows = None
    if repo_type == "dataset":
        rows = _check_dataset_folder(folder, files, allow_empty=allow_empty)
    sized = [(path, (folder / path).stat().st_size) for path in files]
    return PushPlan(folder, repo_id, repo_type, private, sized, rows)


def require_token(no_token: str = NO_TOKEN) -> str:
    """The Hugging Face token `huggingface_hub` would send, or a UserError saying `no_token`
    (no network)."""
    from huggingface_hub import get_token

    try:
        token = get_token()
    except Exception as exc:  # e.g. HF_OIDC_RESOURCE set but the exchange failed
        raise UserError(f"{no_token} ({type(exc).__name__}: {exc})") from exc
    if not token:
        raise UserError(no_token)
    return token


def push_folder(
    folder: str | Path,
    *,
    repo_id: str,
    private: bool = False,
    repo_type: str | None = None,
    allow_empty: bool = False,
) -> str:
    """Create ``repo_id`` if needed and upload ``folder``; returns the repository URL."""
    plan = plan_push(
        folder, repo_id=repo_id, private=private, repo_type=repo_type, allow_empty=allow_empty
    )
    token = require_token()
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type=plan.repo_type, private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            repo_type=plan.repo_type,
            folder_path=str(plan.folder),
            ignore_patterns=IGNORE_PATTERNS,
            commit_message=f"Upload {plan.folder.name} with wavecoder",
        )
    except LocalTokenNotFoundError as exc:
        raise UserError(NO_TOKEN) from exc
    except HfHubHTTPError as exc:
        raise UserError(f"the Hub refused the upload to {repo_id}: {exc}") from exc
    except Exception as exc:  # connection errors of the HTTP client are not all OSErrors
        raise UserError(
            f"cannot reach the Hub or upload to {repo_id} ({type(exc).__name__}: {exc}); "
            "check the network and HF_TOKEN"
        ) from exc
    return str(url)


def _check_dataset_folder(folder: Path, files: list[str], *, allow_empty: bool) -> dict[str, int]:
    """Rows per config (`default` first); refuses a folder without data or accepted rows."""
    if not any(path.endswith(".parquet") for path in files):
        raise UserError(f"{folder} holds no parquet data; run `wavecoder generate` first")
    summary = folder / SUMMARY_FILE
    if summary.exists():
        try:
            json.loads(summary.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{summary} is not valid JSON: {exc}") from exc
    default = _config_files(folder, files, DEFAULT_CONFIG_DIR)
    if not default:
        raise UserError(
            f"{folder} has no `default` config ({DEFAULT_CONFIG_DIR}/*.parquet, the accepted "
            "rows); push a folder written by `wavecoder generate`"
        )
    rows = {DEFAULT_CONFIG: _count_rows(folder, default)}
    for name in _OUTCOME_CONFIGS:
        shards = _config_files(folder, files, name)
        if shards:
            rows[name] = _count_rows(folder, shards)
    if rows[DEFAULT_CONFIG] == 0 and not allow_empty:
        others = "".join(f"; {name} {n}" for name, n in rows.items() if name != DEFAULT_CONFIG)
        raise UserError(
            f"{folder} has 0 accepted rows in its `default` config ({DEFAULT_CONFIG_DIR}/*.parquet"
            f"{others}): nothing to train on, and `load_dataset` cannot load it (the `rejected` "
            "config says why each case failed); pass --allow-empty to push it anyway"
        )
    return rows


def _config_files(folder: Path, files: list[str], config_dir: str) -> list[str]:
    return [p for p in files if p.startswith(f"{config_dir}/") and p.endswith(".parquet")]


def _count_rows(folder: Path, shards: list[str]) -> int:
    import pyarrow.parquet as pq

    total = 0
    for shard in shards:
        try:
            total += pq.ParquetFile(folder / shard).metadata.num_rows
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            raise UserError(f"{folder / shard} is not a readable parquet file: {exc}") from exc
    return total
