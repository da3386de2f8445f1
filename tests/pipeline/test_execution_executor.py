"""The generation loop's executor (pipeline/execution/executor.py): sandboxed programs run below
the LLM calls' priority, results are kept across runs but a sandbox failure is not, and a halt
(Ctrl-C) runs no case still waiting for a worker."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from execution_fixtures import PY_ADD, PY_SUB, PY_TESTS, case

from evaluation.execution import CheckResult
from evaluation.sandbox import Sandbox, find_bwrap
from evaluation.toolchains import REQUIRE_ENV, toolchains_required
from pipeline.execution.config import ExecutionConfig

CONFIG = ExecutionConfig(enabled=True, timeout_s=3.0, workers=2)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    if find_bwrap() is None:
        reason = "bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)"
        if toolchains_required():
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1 or CI=true)", pytrace=False)
        pytest.skip(reason)
    return Sandbox()


def test_the_loop_executor_runs_below_the_llm_calls_priority_and_caches(sandbox, tmp_path):
    """The generation loop's executor: programs run at nice 10 (the LLM calls' process comes
    first), a second run of the same case comes from executions.sqlite, a sandbox failure is
    not kept."""
    from pipeline.execution.executor import EXECUTIONS_FILE, CaseExecutor

    niceness = case("generation", "python", "import os\n\ndef level():\n    return os.nice(0)\n")
    import os

    expected = min(19, os.nice(0) + 10)  # nice adds to the caller's niceness
    tests = {"python": f"assert level() == {expected}, level()\n"}
    executor = CaseExecutor(replace(CONFIG, workers=1), tmp_path)  # its own Sandbox(nice=10)
    try:
        first = asyncio.run(executor.execute(niceness, tests))
        again = asyncio.run(executor.execute(niceness, tests))
    finally:
        executor.close()
    assert (first["status"], first["reason"]) == ("passed", "")
    assert again == first
    assert (executor.stats.executed, executor.stats.cached) == (1, 1)
    assert 0 < executor.stats.sandbox_seconds < 60
    reopened = CaseExecutor(replace(CONFIG, workers=1), tmp_path, sandbox=sandbox)
    try:
        assert len(reopened.cache) == 1 and (tmp_path / EXECUTIONS_FILE).exists()
        assert asyncio.run(reopened.execute(niceness, tests)) == first
        assert reopened.stats.executed == 0
    finally:
        reopened.close()


def test_a_sandbox_failure_is_not_cached(tmp_path, monkeypatch):
    from pipeline.execution.executor import CaseExecutor

    def check_programs(programs, sandbox, **kwargs):
        return [CheckResult(False, "failed: sandbox error: bwrap: setting up uid map: denied")]

    monkeypatch.setattr("pipeline.execution.run.check_programs", check_programs)
    executor = CaseExecutor(replace(CONFIG, workers=1), tmp_path, sandbox=object())
    try:
        generation = case("generation", "python", PY_ADD)
        record = asyncio.run(executor.execute(generation, {"python": PY_TESTS}))
        assert record["status"] == "error" and "sandbox error" in record["reason"]
        assert len(executor.cache) == 0
        asyncio.run(executor.execute(generation, {"python": PY_TESTS}))
        assert executor.stats.executed == 2  # asked again, not served from the cache
    finally:
        executor.close()


def test_halting_runs_no_case_still_waiting_for_a_worker(tmp_path, monkeypatch):
    """Ctrl-C: the case running finishes (its result is kept), the one waiting is not run."""
    import threading

    from pipeline.execution.executor import CaseExecutor, ExecutionHalted

    started, release = threading.Event(), threading.Event()
    ran = []

    def execute_cases(pairs, config, sandbox):
        ran.append(pairs[0][0]["output"])
        started.set()
        release.wait(10)
        return [{"status": "passed", "reason": ""}]

    monkeypatch.setattr("pipeline.execution.executor.execute_cases", execute_cases)
    executor = CaseExecutor(replace(CONFIG, workers=1), tmp_path, sandbox=object())

    async def both():
        first = asyncio.ensure_future(executor.execute(case("generation", "python", PY_ADD), {"python": PY_TESTS}))  # fmt: skip
        second = asyncio.ensure_future(executor.execute(case("generation", "python", PY_SUB), {"python": PY_TESTS}))  # fmt: skip
        await asyncio.to_thread(started.wait, 10)
        executor.halt()
        release.set()
        return await asyncio.gather(first, second, return_exceptions=True)

    try:
        first, second = asyncio.run(both())
        kept = len(executor.cache)
    finally:
        executor.close()
    assert first == {"status": "passed", "reason": ""}
    assert isinstance(second, ExecutionHalted)
    assert ran == [PY_ADD] and kept == 1
