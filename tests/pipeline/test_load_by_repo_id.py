"""A dataset folder pushed by `wavecoder push` loads by repo id, every config, exactly as written.

The folder is written by the real writer from records of all four tasks and every outcome. The
real CLI pushes it (huggingface_hub: create_repo, upload_folder, parquet through Xet) to the
loopback Hub (tests/training/hub_server.py, dataset repos in hub_datasets.py), which keeps the
files it received; then a process whose clients point at that Hub loads it with the real
`datasets.load_dataset("org/codeocean"[, config], revision=...)` and opens it with the Space's
`CodeOceanView`. Both run as subprocesses because huggingface_hub and datasets read HF_ENDPOINT,
HF_HUB_OFFLINE and their cache folders when first imported (and other test folders set
HF_HUB_OFFLINE=1 for the whole session).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from generation_fixtures import SNIPPETS, good_case

from pipeline.generation.records import build_record
from pipeline.generation.writer import write_dataset_folder
from pipeline.push import files_to_upload
from pipeline.tasks import all_tasks

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "training"))  # hub_server imports hub_repos by name
from hub_repos import repo_paths  # noqa: E402
from hub_server import HubServer  # noqa: E402

REPO_ID = "org/codeocean"
TASKS = list(all_tasks())
TOKEN = "hf_LoopbackWriteToken0123456789"
REJECTED_RANKS, FAILED_RANK = (2, 7, 12), 13
OUTCOME_COLUMNS = ("status", "stage", "reasons", "selection_rank", "raw_generation",
                   "raw_judgement")  # fmt: skip
pytestmark = pytest.mark.slow


def codeocean_records() -> list[dict]:
    """The 16 fixture snippets, tasks in turn: 12 accepted, 3 rejected (a failed rule), 1 failed
    (no answer)."""
    records = []
    for rank, snippet in enumerate(SNIPPETS):
        task = TASKS[rank % len(TASKS)]
        row = {**snippet, "task": task, "selection_rank": rank}
        case = good_case(snippet, task)
        target = ("go" if snippet["language"] == "python" else "python") if task == "translation" else None  # fmt: skip
        models = ("gen-model", "judge-model")
        usage = {"generator": {"prompt_tokens": 100 + rank, "completion_tokens": 40 + rank},
                 "discriminator": {"prompt_tokens": 200 + rank, "completion_tokens": 60}}  # fmt: skip
        if rank == FAILED_RANK:
            records.append(build_record(row, status="failed", stage="generation", models=models,
                reasons=[{"check": "http_error", "message": "HTTP 500 after 2 attempts"}]))  # fmt: skip
            continue
        passed = rank not in REJECTED_RANKS
        rules = [{"rule": "1", "passed": True, "reason": f"The {task} case is clear."},
                 {"rule": "2", "passed": passed, "reason": "It names the language." if passed
                  else "The instruction does not name the language."}]  # fmt: skip
        records.append(
            build_record(
                row, status="accepted" if passed else "rejected", stage="judgement", case=case,
                target_language=target, judgement={"rules": rules, "overall": passed},
                reasons=[] if passed else [{"check": "rule 2", "message": rules[1]["reason"]}],
                usage=usage, models=models, raw_generation=f"reply {rank}",
                raw_judgement=f"judgement {rank}",
            )
        )  # fmt: skip
    return records


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "codeocean"
    write_dataset_folder(codeocean_records(), out, tasks=TASKS, summary={"accepted": 12})
    # Run state, which stays local.
    (out / ".wavecoder").mkdir(exist_ok=True)
    (out / ".wavecoder" / "responses.sqlite").write_bytes(b"x")
    (out / "dry_run").mkdir()
    (out / "dry_run" / "estimate.json").write_text("{}")
    return out


def hub_env(hub: HubServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    unset = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN",
             "HUGGING_FACE_HUB_TOKEN", "HF_DATASETS_CACHE")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"), PYTHONPATH=str(REPO),
               HF_DATASETS_CACHE=str(tmp_path / "datasets-cache"),
               HF_HUB_DISABLE_PROGRESS_BARS="1", **extra)  # fmt: skip
    return env


LOADER = """
import json, sys
import datasets
from space.data import CodeOceanView

repo, revision, configs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
datasets.disable_progress_bars()
out = {"by_name": {}}
main = datasets.load_dataset(repo)
out["main_splits"] = sorted(main)
out["main"] = main["train"].to_list()
out["default"] = datasets.load_dataset(repo, revision=revision, split="train").to_list()
for name in configs:
    loaded = datasets.load_dataset(repo, name, revision=revision, split="train")
    out["by_name"][name] = loaded.to_list()
try:
    datasets.load_dataset(repo, revision="0" * 40)
    out["other_revision"] = "loaded"
except Exception as exc:
    out["other_revision"] = f"{type(exc).__name__}: {exc}"
view = CodeOceanView.open(repo, revision=revision)
out["space"] = {name: [r["id"] for r in view.query(config=name, page_size=100).rows]
                for name in view.configs}
out["space_row"] = view.row(out["default"][0]["id"])["instruction"]
print(json.dumps(out))
"""


def written_rows(folder: Path, config_dir: str) -> list[dict]:
    table = pq.read_table(folder / config_dir / "train-00000-of-00001.parquet")
    return json.loads(json.dumps(table.to_pylist()))


def test_pushed_folder_loads_by_repo_id_every_config(folder, tmp_path):
    card = yaml.safe_load((folder / "README.md").read_text().split("---\n")[1])
    dirs = {c["config_name"]: c["data_files"][0]["path"].split("/")[0] for c in card["configs"]}
    records = {r["id"]: r for r in codeocean_records()}
    assert set(dirs) == {"default", *TASKS, "rejected", "failed"}

    with HubServer(root=tmp_path / "hub") as hub:
        push = subprocess.run(
            [sys.executable, "-m", "wavecoder", "push", str(folder), "--repo-id", REPO_ID],
            env=hub_env(hub, tmp_path, HF_TOKEN=TOKEN), cwd=tmp_path,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert push.returncode == 0, push.stderr[-3000:]
        repos = hub.dataset_repos
        revision = repos.head(REPO_ID)
        # The repo holds exactly the files push uploads (and the Hub's .gitattributes), byte
        # for byte; the run state and the dry run stayed local.
        served = repos.folder(REPO_ID)
        assert repo_paths(served) == sorted([*files_to_upload(folder), ".gitattributes"])
        assert not any(p.startswith((".wavecoder", "dry_run")) for p in repo_paths(served))
        for path in files_to_upload(folder):
            assert (served / path).read_bytes() == (folder / path).read_bytes(), path
        assert repos.commits(REPO_ID)[-1]["summary"] == "Upload codeocean with wavecoder"
        parquet_puts = [c for c in hub.calls() if c.path.startswith("/cas/v1/xorbs/")]
        assert parquet_puts, "the parquet files did not go through Xet"

        load = subprocess.run(
            [sys.executable, "-c", LOADER, REPO_ID, revision, json.dumps(sorted(dirs))],
            env=hub_env(hub, tmp_path), cwd=tmp_path, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
    assert load.returncode == 0, load.stderr[-3000:]
    loaded = json.loads(load.stdout.splitlines()[-1])

    # Every config of the card loads by name: the rows written, in order, every column.
    for name, config_dir in dirs.items():
        assert loaded["by_name"][name] == written_rows(folder, config_dir), name
    # No name: `default` (the accepted rows), at the revision and at main.
    default = written_rows(folder, "data")
    assert loaded["default"] == loaded["main"] == default
    assert loaded["main_splits"] == ["train"]
    assert loaded["other_revision"] == (  # the Hub's 404 RevisionNotFound, as datasets words it
        f"DatasetNotFoundError: Revision '{'0' * 40}' doesn't exist for dataset '{REPO_ID}' on the Hub."
    )

    # The rows are the records' (ids, content), each in the configs its status and task say.
    accepted = [r for r in records.values() if r["status"] == "accepted"]
    assert [r["id"] for r in default] == [r["id"] for r in accepted] and len(accepted) == 12
    for row in default:
        record = records[row["id"]]
        for column in ("task", "instruction", "input", "output", "messages", "target_language",
                       "source_code", "judgement", "usage"):  # fmt: skip
            assert row[column] == record[column], (row["id"], column)
    for task in TASKS:
        ids = [r["id"] for r in loaded["by_name"][task]]
        assert ids == [r["id"] for r in accepted if r["task"] == task] and ids, task
    rejected = loaded["by_name"]["rejected"]
    assert [r["id"] for r in rejected] == ["py_retry", "java_repeat", "php_initials"]
    for row in rejected:
        record = records[row["id"]]
        assert {c: row[c] for c in OUTCOME_COLUMNS} == {c: record[c] for c in OUTCOME_COLUMNS}
        assert row["status"] == "rejected" and row["reasons"][0]["check"] == "rule 2"
        assert "prompt" not in row and "completion" not in row
    (failed,) = loaded["by_name"]["failed"]
    assert [failed[c] for c in ("id", "status", "stage")] == ["php_clamp", "failed", "generation"]

    # The Space opens the same repo at the same revision and sees the same rows.
    assert loaded["space"]["default"] == [r["id"] for r in default]
    assert loaded["space"]["rejected"] == [r["id"] for r in rejected]
    assert loaded["space_row"] == default[0]["instruction"]
