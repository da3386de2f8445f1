"""`wavecoder push`: what is uploaded, the repository type, and clear errors (no network here)."""

from __future__ import annotations

import pytest

from pipeline.errors import UserError
from pipeline.push import files_to_upload, guess_repo_type, push_folder


@pytest.fixture
def dataset_folder(tmp_path):
    folder = tmp_path / "codeocean"
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text("---\nconfigs: []\n---\n# card\n")
    (folder / "data" / "default.parquet").write_bytes(b"PAR1")
    (folder / "summary.json").write_text("{}")
    (folder / ".wavecoder" / "distilabel").mkdir(parents=True)
    (folder / ".wavecoder" / "responses.sqlite").write_bytes(b"x")
    (folder / "dry_run").mkdir()
    (folder / "dry_run" / "generator_prompts.jsonl").write_text("{}\n")
    return folder


def test_files_to_upload_leave_run_state_behind(dataset_folder):
    assert files_to_upload(dataset_folder) == ["README.md", "data/default.parquet", "summary.json"]


def test_guess_repo_type(dataset_folder, tmp_path):
    assert guess_repo_type(dataset_folder) == "dataset"
    model = tmp_path / "ckpt"
    model.mkdir()
    (model / "adapter_config.json").write_text("{}")
    assert guess_repo_type(model) == "model"


def test_push_errors(dataset_folder, tmp_path, monkeypatch):
    with pytest.raises(UserError, match="ORG/NAME"):
        push_folder(dataset_folder, repo_id="codeocean")
    with pytest.raises(UserError, match="not a folder"):
        push_folder(tmp_path / "missing", repo_id="me/x")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("# card\n")
    with pytest.raises(UserError, match="no parquet"):
        push_folder(empty, repo_id="me/x")
    (empty / "README.md").unlink()
    with pytest.raises(UserError, match=r"no README\.md"):
        push_folder(empty, repo_id="me/x")
    # No network on this machine: the Hub call fails with a message, not a traceback.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_dummy")
    with pytest.raises(UserError, match=r"cannot reach the Hub|refused|token"):
        push_folder(dataset_folder, repo_id="me/codeocean")
