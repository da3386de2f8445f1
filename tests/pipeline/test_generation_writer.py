"""The dataset folder: replaced only by a complete new one, never defaulting to rejected rows;
and the lock that keeps two runs from writing the same folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from generation_fixtures import judged_records as records

from pipeline.generation.main_process import finish_generation
from pipeline.generation.run_state import COMPLETED, acquire_lock, release_lock, write_status
from pipeline.generation.writer import write_dataset_folder
from pipeline.recipe import Recipe
from pipeline.tasks import all_tasks

TASKS = list(all_tasks())


def files(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".wavecoder" not in p.parts
    }


def test_a_failure_while_writing_leaves_the_previous_dataset_whole(tmp_path, monkeypatch):
    from datasets import Dataset

    out = tmp_path / "out"
    write_dataset_folder(records("accepted") + records("rejected"), out, tasks=TASKS)
    before = files(out)
    assert "data/train-00000-of-00001.parquet" in before

    original = Dataset.to_parquet

    def fail_on_rejected(self, path, *args, **kwargs):
        if "/rejected/" in str(path):
            raise OSError("disk full")
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(Dataset, "to_parquet", fail_on_rejected)
    with pytest.raises(OSError, match="disk full"):
        write_dataset_folder(records("accepted", 2) + records("rejected", 3), out, tasks=TASKS)
    assert files(out) == before
    monkeypatch.undo()
    # The next complete write replaces it, leaving nothing of the old one behind.
    counts = write_dataset_folder(records("accepted", 2), out, tasks=TASKS)
    assert counts["default"] == 2 and counts["rejected"] == 0
    assert not (out / "rejected").exists()
    assert sorted(p.name for p in (out / ".wavecoder").iterdir()) == []


def test_with_no_accepted_row_load_dataset_never_returns_the_rejected_ones(tmp_path):
    from datasets import load_dataset

    out = tmp_path / "out"
    counts = write_dataset_folder(records("rejected"), out, tasks=TASKS)
    assert counts["default"] == 0 and counts["rejected"] == 4
    card = (out / "README.md").read_text()
    assert "- config_name: default\n  default: true\n" in card
    assert "No row was accepted" in card
    cache = str(tmp_path / "hf-cache")
    with pytest.raises(ValueError, match="corresponds to no data"):
        load_dataset(str(out), split="train", cache_dir=cache)
    rejected = load_dataset(str(out), "rejected", split="train", cache_dir=cache)
    assert rejected.num_rows == 4


def test_finish_warns_when_no_row_was_accepted(tmp_path, capsys):
    from datasets import Dataset

    out = tmp_path / "out"
    rows = records("rejected")
    write_status(_state(out), COMPLETED, rows=len(rows))
    distiset = {"default": {"train": Dataset.from_list(rows)}}
    assert finish_generation(distiset, Recipe(), out, selected=len(rows)) == 0
    err = capsys.readouterr().err
    # A line of its own (a library's log handler may write to stderr too).
    warning = [line for line in err.splitlines() if line.startswith("warning: no row was")]
    assert len(warning) == 1
    assert warning[0].startswith("warning: no row was accepted, so the `default` config of ")


def _state(out: Path) -> Path:
    state = out / ".wavecoder"
    state.mkdir(parents=True, exist_ok=True)
    return state


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_lives(tmp_path):
    out = tmp_path / "out"
    acquire_lock(out)
    acquire_lock(out)  # the same process again: fine
    other = subprocess.run(
        [sys.executable, "-c", "import sys; from pipeline.generation.run_state import acquire_lock;"
         f" from pathlib import Path; acquire_lock(Path({str(out)!r}))"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert other.returncode != 0
    assert f"another `wavecoder generate` (pid {os.getpid()}) is writing to {out}" in other.stderr
    release_lock(out)
    assert not (out / ".wavecoder" / "lock").exists()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _state(out).joinpath("lock").write_text(f"{dead.pid} 12345")
    acquire_lock(out)
    assert (out / ".wavecoder" / "lock").read_text().split()[0] == str(os.getpid())
    release_lock(out)


def test_a_run_that_stopped_early_writes_nothing_and_says_why(tmp_path, capsys):
    from pipeline.generation.stopping import ENDPOINT_REFUSED, INTERRUPTED
    from wavecoder.errors import UserError

    out = tmp_path / "out"
    write_dataset_folder(records("accepted"), out, tasks=TASKS)
    before = files(out)
    write_status(_state(out), ENDPOINT_REFUSED, message="the generator endpoint refused 3 ...")
    (out / "corpus_report.json").write_text("{}")  # written by the run before the LLM stage
    with pytest.raises(
        UserError, match=r"refused 3 \.\.\. The dataset was not written to "
    ) as info:
        finish_generation({}, Recipe(), out, selected=4)
    assert str(info.value).endswith(
        "(a dataset already there is kept); this run's records are there: corpus_report.json."
    )
    (out / "corpus_report.json").unlink()
    write_status(_state(out), INTERRUPTED, message="interrupted")
    with pytest.raises(KeyboardInterrupt):
        finish_generation({}, Recipe(), out, selected=4)
    assert "Run the same command again to resume." in capsys.readouterr().err
    assert files(out) == before


def test_every_config_the_card_names_loads(tmp_path):
    """The card's front matter, its table of configs and its examples name only configs that
    `load_dataset` can open; the configs without rows are named as not declared."""
    import re

    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    out = tmp_path / "out"
    counts = write_dataset_folder(records("accepted") + records("rejected", 2), out, tasks=TASKS)
    card = (out / "README.md").read_text()
    declared = [c["config_name"] for c in DatasetCard(card).data.to_dict()["configs"]]
    table = re.findall(r"^\| `([a-z_]+)` \| (\d+) \|", card, flags=re.M)
    examples = re.findall(r'load_dataset\("[^"]+", "([a-z_]+)"', card)
    assert declared == [name for name, _ in table] == ["default", "generation", "rejected"]
    assert examples == ["generation", "rejected"]
    for name, rows in table:
        loaded = load_dataset(str(out), name, split="train", cache_dir=str(tmp_path / "hf"))
        assert len(loaded) == int(rows) == counts[name]
    assert counts["failed"] == 0 and "failed" not in declared
    assert "not declared (`datasets` cannot load an empty split):" in card
    assert "`summarization`, `repair`, `translation`, `contaminated`, `failed`." in card


def test_load_dataset_gives_the_rows_there_now_after_a_rewrite_and_across_same_named_folders(
    tmp_path,
):
    """datasets 5.2 keys its cache of a local folder by the card's metadata, not by the files;
    the card's `dataset_info` (rows and bytes per config) is what tells two writes apart."""
    from datasets import load_dataset

    first, second = tmp_path / "a" / "codeocean", tmp_path / "b" / "codeocean"
    write_dataset_folder(records("accepted", 3), first, tasks=list(all_tasks()))
    write_dataset_folder(records("accepted", 5), second, tasks=list(all_tasks()))
    assert len(load_dataset(str(first), split="train")) == 3
    assert len(load_dataset(str(second), split="train")) == 5
    write_dataset_folder(records("accepted", 2), first, tasks=list(all_tasks()))
    assert len(load_dataset(str(first), split="train")) == 2
    assert len(load_dataset(str(first), "generation", split="train")) == 2
