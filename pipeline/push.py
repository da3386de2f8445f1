"""`wavecoder push`: upload a dataset folder (from `wavecoder generate`) or a model folder."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import UserError

# Run state that stays local: caches, the distilabel work folder, dry-run prompts.
IGNORE_PATTERNS = [".wavecoder/**", "dry_run/**", "**/__pycache__/**", "*.lock"]
_MODEL_MARKERS = ("config.json", "adapter_config.json", "model.safetensors", "pytorch_model.bin")


def guess_repo_type(folder: Path) -> str:
    """``model`` when the folder holds weights or a model config, else ``dataset``."""
    if any((folder / name).exists() for name in _MODEL_MARKERS):
        return "model"
    if any(folder.glob("model*.safetensors")):
        return "model"
    return "dataset"


def files_to_upload(folder: Path) -> list[str]:
    """Relative paths `push_folder` uploads (everything but the ignored run state)."""
    from fnmatch import fnmatch

    paths = [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()]
    return [p for p in paths if not any(fnmatch(p, pat) for pat in IGNORE_PATTERNS)]


def push_folder(
    folder: str | Path, *, repo_id: str, private: bool = False, repo_type: str | None = None
) -> str:
    """Create ``repo_id`` if needed and upload ``folder``; returns the repository URL."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder")
    if "/" not in repo_id:
        raise UserError(f"--repo-id must be ORG/NAME, got {repo_id!r}")
    if not (folder / "README.md").exists():
        raise UserError(
            f"{folder} has no README.md (dataset or model card); "
            "push a folder written by `wavecoder generate` or training"
        )
    repo_type = repo_type or guess_repo_type(folder)
    if repo_type == "dataset":
        _check_dataset_folder(folder)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    api = HfApi()
    try:
        url = api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            repo_type=repo_type,
            folder_path=str(folder),
            ignore_patterns=IGNORE_PATTERNS,
            commit_message=f"Upload {folder.name} with wavecoder",
        )
    except LocalTokenNotFoundError as exc:
        raise UserError(
            "no Hugging Face token: run `hf auth login` or set HF_TOKEN (a write token)"
        ) from exc
    except HfHubHTTPError as exc:
        raise UserError(f"the Hub refused the upload to {repo_id}: {exc}") from exc
    except Exception as exc:  # connection errors of the HTTP client are not all OSErrors
        raise UserError(
            f"cannot reach the Hub or upload to {repo_id} ({type(exc).__name__}: {exc}); "
            "check the network and HF_TOKEN"
        ) from exc
    return str(url)


def _check_dataset_folder(folder: Path) -> None:
    summary = folder / "summary.json"
    parquet = list(folder.rglob("*.parquet"))
    if not parquet:
        raise UserError(f"{folder} holds no parquet data; run `wavecoder generate` first")
    if summary.exists():
        try:
            json.loads(summary.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{summary} is not valid JSON: {exc}") from exc
