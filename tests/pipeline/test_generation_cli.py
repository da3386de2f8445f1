"""`wavecoder generate` as users run it: no endpoint; a run stopped with Ctrl-C, then killed
with SIGKILL, then resumed.

The resume test starts the real CLI as a subprocess against the scripted server. It interrupts
one run with SIGINT to its process group (what Ctrl-C in a terminal does) while answers take 2 s,
and checks that the run exits at once, sends nothing more, caches what was in flight and writes
nothing; it kills the next run with SIGKILL once the server has counted some LLM calls; then it
runs the same command again and checks that nothing answered before is asked again and that the
result equals an uninterrupted run's.
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
# Snippets the resume test selects: 12 (2 rejected by the judge) out of the first 160 functions
# exercise Ctrl-C, SIGKILL and resume as well as 24 of 400 did, with half the LLM calls.
K = 12


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
        "corpus": {"source": "stdlib", "languages": ["python"], "limit": 160},
        "embeddings": {
            "model": "offline:all-MiniLM-L6-v2",
            "cache_dir": str(tmp_path / "embeddings"),
        },
        "selection": {"k": K},
        "generation": {
            "generator": {**llm, "model": "gen-model"},
            "discriminator": {**llm, "model": "judge-model"},
            "wave_size": 6,
        },
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def slow_teacher(slower: Path | None = None):
    """Answers after 0.25 s (2 s while the file `slower` exists); the judge rejects about a
    quarter of the cases (by their code)."""
    base = teacher(
        judge=lambda snippet: (
            "reject_rule2" if hashlib.sha1(snippet["code"].encode()).digest()[0] < 64 else ""
        )
    )

    def script(request) -> Reply:
        reply = base(request)
        reply.delay = 2.0 if slower is not None and slower.exists() else 0.25
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


def wait_for_calls(server, process, count: int, deadline: float) -> None:
    while len(server.calls()) < count:
        assert process.poll() is None and time.monotonic() < deadline, "the run ended too soon"
        time.sleep(0.05)


def cached_answers(out: Path) -> int:
    with sqlite3.connect(out / ".wavecoder" / "responses.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


@pytest.mark.slow
def test_ctrl_c_then_sigkill_then_same_command_resumes_without_asking_again(tmp_path):
    recipe = write_recipe(tmp_path)
    slower = tmp_path / "slower"
    with ScriptedServer(slow_teacher(slower)) as server:

        def command(out: Path) -> list[str]:
            return ["--recipe", str(recipe), "--output", str(out), "--base-url", server.base_url]

        # An uninterrupted run, for reference.
        whole = cli(*command(tmp_path / "whole"))
        _, stderr = whole.communicate(timeout=300)
        assert whole.returncode == 0, stderr[-2000:]
        reference = requests_of(server)
        server.reset()

        # Ctrl-C while answers take 2 s: no new request, the ones in flight are cached, and
        # the run ends within seconds (not after the whole LLM stage) writing nothing.
        out = tmp_path / "resumed"
        slower.touch()
        interrupted = cli(*command(out))
        wait_for_calls(server, interrupted, 3, time.monotonic() + 240)
        os.killpg(interrupted.pid, signal.SIGINT)
        signalled = time.time()
        _, stderr = interrupted.communicate(timeout=30)
        exited = time.time()
        slower.unlink()
        assert interrupted.returncode == 130, stderr[-2000:]
        assert exited - signalled < 8
        assert "Interrupted: no new LLM request was sent after Ctrl-C" in stderr
        calls = server.calls()
        assert [c for c in calls if c["time"] > signalled + 0.5] == []
        assert cached_answers(out) == len(calls) < len(reference) // 2
        assert not (out / "README.md").exists() and not (out / "data").exists()
        time.sleep(1)
        assert len(server.calls()) == len(calls)
        after_ctrl_c = requests_of(server)
        server.reset()

        # The same run, killed half-way through its LLM calls.
        killed = cli(*command(out))
        wait_for_calls(server, killed, len(reference) // 2 - len(calls), time.monotonic() + 240)
        os.kill(killed.pid, signal.SIGKILL)  # the main process only, as an OOM killer would
        killed.wait(10)
        time.sleep(1.5)
        before_kill = requests_of(server)
        time.sleep(1.5)
        assert requests_of(server) == before_kill, "an orphaned worker kept calling the LLM"
        # Whatever else of the run is left; usually every process died with the main one.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(killed.pid, signal.SIGKILL)
        answered = cached_answers(out)
        assert len(calls) < answered < len(reference)
        assert set(after_ctrl_c).isdisjoint(before_kill)  # nothing answered was asked again
        server.reset()

        # The same command again finishes the run, asking only what was never answered.
        again = cli(*command(out))
        _, stderr = again.communicate(timeout=300)
        assert again.returncode == 0, stderr[-2000:]
        resumed = requests_of(server)

    assert len(resumed) == len(reference) - answered
    assert sorted(set(after_ctrl_c) | set(before_kill) | set(resumed)) == sorted(set(reference))
    assert folder_contents(out) == folder_contents(tmp_path / "whole")
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["this_run"]["generator"]["cached"] + summary["this_run"]["discriminator"]["cached"]
        == answered
    )
    assert summary["accepted"] + summary["rejected"] == K and summary["failed"] == 0
    assert 0 < summary["rejected"] < K
