"""`wavecoder generate` as users run it: no endpoint, and a run killed with SIGKILL then resumed.

The resume test starts the real CLI as a subprocess against the scripted server, kills it once
the server has counted some LLM calls, runs the same command again, and checks that nothing
answered before is asked again and that the result equals an uninterrupted run's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from generation_fixtures import teacher
from scripted_server import Reply, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "generate", *args],
        cwd=ROOT, env=env or os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True, **kwargs,
    )  # fmt: skip


def test_without_an_endpoint_generate_stops_at_once_with_one_message(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "HF_TOKEN", "OPENAI_BASE_URL")
    }
    process = cli("--recipe", "demo", "--output", str(tmp_path / "out"), env=env)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith(
        "wavecoder generate: error: no LLM endpoint is configured for the generator (openai model gpt-4o-mini)."
    )
    for way in ("OPENAI_API_KEY", "--api-key", "HF_TOKEN", "hf-inference-providers", "--base-url", "vLLM, TGI, `transformers serve`", "provider: transformers or vllm", "--dry-run"):  # fmt: skip
        assert way in stderr
    assert not (tmp_path / "out" / "selection.parquet").exists()  # nothing ran


def write_recipe(tmp_path: Path) -> Path:
    llm = {"concurrency": 2, "max_retries": 1, "timeout": 20}
    recipe = {
        "name": "resume-test",
        "seed": 7,
        "corpus": {"source": "stdlib", "languages": ["python"], "limit": 400},
        "embeddings": {
            "model": "offline:all-MiniLM-L6-v2",
            "cache_dir": str(tmp_path / "embeddings"),
        },
        "selection": {"k": 24},
        "generation": {
            "generator": {**llm, "model": "gen-model"},
            "discriminator": {**llm, "model": "judge-model"},
            "wave_size": 6,
        },
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def slow_teacher():
    """Answers after 0.25 s; the judge rejects about a quarter of the cases (by their code)."""
    base = teacher(
        judge=lambda snippet: (
            "reject_rule2" if hashlib.sha1(snippet["code"].encode()).digest()[0] < 64 else ""
        )
    )

    def script(request) -> Reply:
        reply = base(request)
        reply.delay = 0.25
        return reply

    return script


def requests_of(server) -> list[tuple[str, str]]:
    return [(c["model"], c["messages"][0]["content"]) for c in server.calls()]


def folder_contents(out: Path) -> dict:
    import pyarrow.parquet as pq

    contents = {}
    for config in (
        "data",
        "generation",
        "summarization",
        "repair",
        "translation",
        "rejected",
        "failed",
    ):
        files = sorted((out / config).glob("*.parquet"))
        rows = pq.read_table(files[0]).to_pylist() if files else []
        contents[config] = [
            {k: r[k] for k in ("id", "task", "instruction", "input", "output", "judgement")}
            for r in rows
        ]
    return contents


@pytest.mark.slow
def test_sigkill_then_same_command_resumes_without_asking_again(tmp_path):
    recipe = write_recipe(tmp_path)
    with ScriptedServer(slow_teacher()) as server:

        def command(out: Path) -> list[str]:
            return ["--recipe", str(recipe), "--output", str(out), "--base-url", server.base_url]

        # An uninterrupted run, for reference.
        whole = cli(*command(tmp_path / "whole"))
        _, stderr = whole.communicate(timeout=300)
        assert whole.returncode == 0, stderr[-2000:]
        reference = requests_of(server)
        server.reset()

        # The same run, killed half-way through its LLM calls.
        killed = cli(*command(tmp_path / "resumed"))
        deadline = time.monotonic() + 240
        while len(server.calls()) < len(reference) // 2:
            assert killed.poll() is None and time.monotonic() < deadline, (
                "the run ended before the kill"
            )
            time.sleep(0.05)
        os.kill(killed.pid, signal.SIGKILL)  # the main process only, as an OOM killer would
        killed.wait(10)
        time.sleep(1.5)
        before_kill = requests_of(server)
        time.sleep(1.5)
        assert requests_of(server) == before_kill, "an orphaned worker kept calling the LLM"
        # Whatever else of the run is left; usually every process died with the main one.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(killed.pid, signal.SIGKILL)
        with sqlite3.connect(tmp_path / "resumed" / ".wavecoder" / "responses.sqlite") as db:
            answered = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        assert 0 < answered < len(reference)
        server.reset()

        # The same command again finishes the run, asking only what was never answered.
        again = cli(*command(tmp_path / "resumed"))
        _, stderr = again.communicate(timeout=300)
        assert again.returncode == 0, stderr[-2000:]
        resumed = requests_of(server)

    assert len(resumed) == len(reference) - answered
    assert sorted(set(before_kill) | set(resumed)) == sorted(set(reference))
    assert folder_contents(tmp_path / "resumed") == folder_contents(tmp_path / "whole")
    summary = json.loads((tmp_path / "resumed" / "summary.json").read_text())
    assert (
        summary["this_run"]["generator"]["cached"] + summary["this_run"]["discriminator"]["cached"]
        == answered
    )
    assert summary["accepted"] + summary["rejected"] == 24 and summary["failed"] == 0
    assert 0 < summary["rejected"] < 24
