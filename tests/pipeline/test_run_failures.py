"""A failing step ends the whole run at once: a user's error, a bug, a process killed by a signal.

Each case runs a real distilabel pipeline (tests/pipeline/failing_pipeline.py) in a subprocess,
the way `wavecoder generate` runs one, and asserts the exit status, the one message, and that
the run ended (a generous timeout stands for "within seconds"; distilabel alone needs ~10 s).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("failing_pipeline.py")
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120  # a hang was minutes; the failed runs end in ~15 s here


def run_failing(tmp_path: Path, kind: str, failure: str, *extra: str):
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "out"), kind, failure, *extra],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=ROOT,
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("wavecoder generate: error:")]


def assert_one_user_error(done: subprocess.CompletedProcess) -> None:
    """Exit 2, the step's message once, no traceback, and no result after the failure."""
    assert done.returncode == 2, done.stderr[-2000:]
    assert error_lines(done.stderr) == [
        "wavecoder generate: error: the corpus folder /x holds no source file; give a folder "
        "with code. Nothing was lost."
    ]
    assert "Traceback" not in done.stderr
    assert "rows:" not in done.stdout


@pytest.mark.slow
def test_a_user_error_in_the_generator_step_is_one_message_without_traceback(tmp_path):
    assert_one_user_error(run_failing(tmp_path, "generator", "user"))


@pytest.mark.slow
def test_a_failure_in_a_steps_own_load_is_one_message(tmp_path):
    # The step's `load` fails after its base class loaded (as GenerateAndJudge loads its LLMs).
    assert_one_user_error(run_failing(tmp_path, "load", "user"))


@pytest.mark.slow
def test_a_bug_in_a_step_names_its_log_and_v_prints_the_traceback(tmp_path):
    done = run_failing(tmp_path, "normal", "bug")
    log = tmp_path / "out" / ".wavecoder" / "error.log"
    assert done.returncode == 1, done.stderr[-2000:]
    assert error_lines(done.stderr) == [
        "wavecoder generate: error: step 'double' failed with a bug, RuntimeError: an invariant "
        f"broke (the traceback is in {log}; `-v` prints it). Nothing was lost."
    ]
    assert "Traceback" not in done.stderr
    text = log.read_text()
    assert "RuntimeError: an invariant broke" in text and "in fail" in text
    assert "rows:" not in done.stdout

    verbose = run_failing(tmp_path, "normal", "bug", "-v")
    assert verbose.returncode == 1
    assert 'raise RuntimeError("an invariant broke")' in verbose.stderr


@pytest.mark.slow
def test_a_step_process_killed_by_a_signal_ends_the_run(tmp_path):
    done = run_failing(tmp_path, "global", "kill")
    assert done.returncode == 1, done.stderr[-2000:]
    (line,) = error_lines(done.stderr)
    assert line.startswith("wavecoder generate: error: the process of step 'total' (pid ")
    assert line.endswith(") died with signal SIGKILL. Nothing was lost.")
    assert "rows:" not in done.stdout


@pytest.mark.slow
def test_without_a_failure_the_same_pipeline_finishes(tmp_path):
    done = run_failing(tmp_path, "none", "user")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "rows: [380]"  # 2 * sum(range(20))
    assert not list((tmp_path / "out" / ".wavecoder" / "failures").glob("failure-*"))


def test_distilabel_polls_its_steps_promptly_and_keeps_its_clock():
    """distilabel's main process waits for steps in polling sleeps of 2.5 s; `run_pipeline` caps
    them at POLL_SECONDS (a --select-only run of 6 snippets: 34 s -> 14 s on 2 cores)."""
    import inspect
    import time

    from distilabel.pipeline import base

    from pipeline.running import POLL_SECONDS, poll_promptly

    # What the shortcut relies on: distilabel's own polling through its module's `time`.
    source = inspect.getsource(base)
    assert "time.sleep(2.5)" in source and "\nimport time\n" in source

    poll_promptly()
    poll_promptly()  # idempotent
    slept = []
    real, time.sleep = time.sleep, slept.append
    try:
        base.time.sleep(2.5)
        base.time.sleep(0.01)
    finally:
        time.sleep = real
    assert slept == [POLL_SECONDS, 0.01]
    assert base.time.time is time.time and base.time.monotonic is time.monotonic
