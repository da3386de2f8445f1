"""Re-running `wavecoder generate` on a folder with a larger `--num-samples` (the old name of
`--num-snippets`, KCenterGreedy's k) appends: every row the first run wrote keeps its id and its
content, new rows are added, and nothing the first run asked an LLM is asked again.

Both runs are the real CLI against the scripted OpenAI-compatible server on loopback, on the
standard library corpus with the offline embedding model."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from generation_fixtures import teacher
from scripted_server import ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
FIRST, SECOND = 8, 14
ACCEPTED_CONFIGS = ("data", "generation", "summarization", "repair", "translation")

pytestmark = pytest.mark.slow


def write_recipe(tmp_path: Path) -> Path:
    llm = {"concurrency": 4, "max_retries": 1, "timeout": 20}
    recipe = {
        "name": "append-test",
        "seed": 5,
        "corpus": {"source": "stdlib", "languages": ["python"], "limit": 200},
        "embeddings": {"model": "offline:all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "emb")},
        "selection": {"k": 4},  # the flag overrides it
        "generation": {
            "generator": {**llm, "model": "gen-model"},
            "discriminator": {**llm, "model": "judge-model"},
            "wave_size": 3,
        },
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def judge_rejects_half():
    """Yes on every rule, except rule 2 for about half the snippets (by a hash of their code, so
    the same snippet gets the same verdict in both runs)."""
    return teacher(
        judge=lambda snippet: (
            "reject_rule2" if hashlib.sha1(snippet["code"].encode()).digest()[0] % 2 else ""
        )
    )


def generate(recipe: Path, out: Path, base_url: str, num_samples: int) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(HF_HUB_OFFLINE="1", WAVECODER_CACHE=str(out.parent / "cache"))
    cmd = [sys.executable, "-m", "pipeline", "generate", "--recipe", str(recipe),
           "--output", str(out), "--base-url", base_url, "--num-samples", str(num_samples)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def rows(out: Path, config: str) -> list[dict]:
    import pyarrow.parquet as pq

    files = sorted((out / config).glob("*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_a_larger_num_samples_appends_and_keeps_every_row_written(tmp_path):
    recipe, out = write_recipe(tmp_path), tmp_path / "codeocean"
    with ScriptedServer(judge_rejects_half()) as server:
        generate(recipe, out, server.base_url, FIRST)
        first_requests = [(c["model"], json.dumps(c["messages"])) for c in server.calls()]
        first = {config: rows(out, config) for config in (*ACCEPTED_CONFIGS, "rejected")}
        first_summary = json.loads((out / "summary.json").read_text())
        server.reset()

        generate(recipe, out, server.base_url, SECOND)
        second_requests = [(c["model"], json.dumps(c["messages"])) for c in server.calls()]
    second = {config: rows(out, config) for config in (*ACCEPTED_CONFIGS, "rejected")}
    summary = json.loads((out / "summary.json").read_text())

    # The first run judged its 8 snippets, some accepted and some rejected.
    assert first_summary["accepted"] + first_summary["rejected"] == FIRST
    assert first_summary["failed"] == 0
    assert len(first["data"]) == first_summary["accepted"] > 0
    assert len(first["rejected"]) == first_summary["rejected"] > 0

    # The second run judged 14, and every row of the first is there, unchanged: same id, same
    # values in every column, in the same order, in every config.
    assert summary["accepted"] + summary["rejected"] == SECOND and summary["failed"] == 0
    for config, before in first.items():
        ids = {row["id"] for row in before}
        kept = [row for row in second[config] if row["id"] in ids]
        assert kept == before, config
    first_ids = {row["id"] for row in [*first["data"], *first["rejected"]]}
    second_ids = {row["id"] for row in [*second["data"], *second["rejected"]]}
    assert len(first_ids) == FIRST and first_ids < second_ids
    assert len(second_ids - first_ids) == SECOND - FIRST  # the new rows
    for config in ("data", "rejected"):  # appended after the rows already there
        assert second[config][: len(first[config])] == first[config], config

    # Only the new snippets reached the endpoint: every answer of the first run came from the
    # response cache (6 new snippets: a generator and a judge call each).
    assert set(first_requests).isdisjoint(second_requests)
    assert len(second_requests) == 2 * (SECOND - FIRST)
