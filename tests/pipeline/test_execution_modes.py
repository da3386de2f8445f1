"""Execution modes and failures of the sandbox itself, through the generation loop against the
scripted endpoint: `annotate` keeps failing cases (a failed run is still a bad example), and a
sandbox that cannot run fails the rows for a rerun and keeps nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from execution_run_harness import EXECUTION, CountingSandbox, run_loop
from execution_teacher import NO_TESTS, WRONG, execution_teacher, snippet_rows
from scripted_server import ScriptedServer

from evaluation.sandbox import find_bwrap
from evaluation.toolchains import REQUIRE_ENV, toolchains_required
from pipeline.generation.example_database import ExampleDatabase
from pipeline.generation.loop import EXAMPLES_FILE
from pipeline.tasks import all_tasks

pytestmark = pytest.mark.slow


def _skip_or_fail(reason: str):
    if toolchains_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 or CI=true)", pytrace=False)
    pytest.skip(reason)


def test_annotate_keeps_failing_cases_and_records_them(tmp_path, victim):
    if find_bwrap() is None:
        _skip_or_fail("bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)")
    tasks = {"py_sign": "generation", "py_count_vowels": "translation",
             "py_word_lengths": "generation", "js_last_of": "generation"}  # fmt: skip
    scenarios = {"py_count_vowels": WRONG, "py_word_lengths": NO_TESTS, "js_last_of": WRONG}
    with ScriptedServer(execution_teacher(scenarios)) as server:
        records, _ = run_loop(
            server, snippet_rows(tasks), tmp_path / "state", replace(EXECUTION, mode="annotate"),
            CountingSandbox(victim.parent),
        )  # fmt: skip
    assert {k: (r["status"], r["stage"], r["reasons"]) for k, r in records.items()} == {
        k: ("accepted", "judgement", []) for k in tasks
    }
    assert {k: r["execution"]["status"] for k, r in records.items()} == {
        "py_sign": "passed", "py_count_vowels": "failed", "py_word_lengths": "error",
        "js_last_of": "failed",
    }  # fmt: skip
    assert "Error: lastOf([1, 2, 3]) should be 3" in records["js_last_of"]["execution"]["reason"]
    db = ExampleDatabase(all_tasks(), tmp_path / "state" / EXAMPLES_FILE)
    try:
        cases = {c.id: c for c in db.cases() if not c.id.startswith("seed:")}
    finally:
        db.close()
    # The judge kept every row, but a case that failed its run is a bad example all the same;
    # one without tests (the tester's fault) is judged on the judge's word alone.
    assert sorted(k for k, c in cases.items() if not c.good) == ["js_last_of", "py_count_vowels"]
    assert sorted(k for k, c in cases.items() if c.good) == ["py_sign", "py_word_lengths"]
    assert cases["js_last_of"].analysis.startswith(
        "execution: no, the code was run against tests and solution passes the tests: failed:"
    )


class BrokenSandbox:
    """bwrap installed but unable to run anything (a container without user namespaces)."""

    kind = "bwrap"

    def run(self, job):
        from evaluation.sandbox import SandboxError

        raise SandboxError("bwrap: setting up uid map: Permission denied")


def test_a_sandbox_that_cannot_run_fails_the_rows_for_a_rerun_and_keeps_nothing(tmp_path):
    """Nothing was checked: the rows are `failed` (retried next run), not rejected, not skipped
    into the judge, and no result is cached."""
    tasks = {"py_sign": "generation", "js_last_of": "repair"}
    with ScriptedServer(execution_teacher({})) as server:
        records, stats = run_loop(
            server, snippet_rows(tasks), tmp_path / "state", EXECUTION, BrokenSandbox()
        )
    for row in records.values():
        assert (row["status"], row["stage"]) == ("failed", "execution"), row["id"]
        assert [r["check"] for r in row["reasons"]] == ["sandbox_error"]
        assert row["execution"]["status"] == "error"
        assert (
            "sandbox error: bwrap: setting up uid map: Permission denied"
            in row["reasons"][0]["message"]
        )
    assert stats["execution"]["cached"] == 0
    from pipeline.execution.executor import EXECUTIONS_FILE, ExecutionCache

    cache = ExecutionCache(tmp_path / "state" / EXECUTIONS_FILE)
    try:
        assert len(cache) == 0
    finally:
        cache.close()
