"""Execution-verified generation against a scripted endpoint (issue 13): the real OpenAI client
over HTTP to `scripted_server`, the generation loop, and the real bubblewrap sandbox.

`execution_teacher` plays the generator, the judge and the tester. Per task and language it
returns correct cases with good tests, wrong solutions, repairs that do not fix, translations that
change behaviour, tests that do not compile, no tests at all, a tester that is down, and the
evaluation's hostile programs as solutions. Each row's outcome (status, stage, reasons) and its
`execution` record are asserted exactly in `filter` mode; `annotate` keeps the failing cases; a
failing case is a bad example with the failure as its analysis; a rerun executes nothing again.
"""

from __future__ import annotations

import re

import pytest
from execution_run_harness import EXECUTION, CountingSandbox, run_loop
from execution_snippets import BY_ID
from execution_teacher import (
    BROKEN_TESTS,
    GOOD,
    NO_TESTS,
    TESTER_DOWN,
    WRONG,
    execution_teacher,
    expected_status,
    snippet_rows,
)
from scripted_server import ScriptedServer

from evaluation.languages import LANGUAGES, ToolchainMissing
from evaluation.sandbox import find_bwrap
from evaluation.toolchains import REQUIRE_ENV, toolchains_required
from pipeline.execution.languages import sandbox_name
from pipeline.generation.example_database import ExampleDatabase
from pipeline.generation.loop import EXAMPLES_FILE
from pipeline.tasks import all_tasks

pytestmark = pytest.mark.slow

# id -> (task, scenario) of the filter run: every scenario, every corpus language, and C++, Rust
# and TypeScript (no sandbox language: skipped) as translation targets.
ROWS = {
    # Python
    "py_sign": ("generation", GOOD),
    "py_palindrome": ("generation", BROKEN_TESTS),  # the tests do not parse
    "py_word_lengths": ("generation", NO_TESTS),
    "py_squares": ("generation", TESTER_DOWN),
    "py_chunks": ("repair", GOOD),
    "py_gcd": ("repair", WRONG),  # the "fix" is still the wrong code
    "py_digit_sum": ("translation", GOOD),  # to Go
    "py_count_vowels": ("translation", WRONG),  # a JavaScript translation that changes behaviour
    "py_is_leap": ("translation", GOOD),  # to Rust
    "py_clamp": ("translation", BROKEN_TESTS),  # C++ tests that do not compile
    "py_mean": ("translation", GOOD),  # to TypeScript: no sandbox language
    "py_running_total": ("generation", "fork bomb"),
    "py_fib": ("generation", "infinite loop"),
    "py_dedupe": ("repair", "write outside tmpfs"),
    # JavaScript
    "js_word_count": ("generation", GOOD),
    "js_last_of": ("generation", WRONG),
    "js_sum_evens": ("repair", GOOD),
    "js_is_sorted": ("repair", WRONG),
    "js_repeat_join": ("translation", GOOD),  # to Ruby
    "js_title_case": ("summarization", GOOD),
    # Go
    "go_reverse": ("generation", GOOD),
    "go_min_of": ("generation", WRONG),
    "go_count_byte": ("generation", BROKEN_TESTS),  # an unused variable: Go does not compile it
    "go_factorial": ("repair", GOOD),
    "go_is_prime": ("translation", GOOD),  # to Python
    # PHP
    "php_percent": ("generation", GOOD),
    "php_first_word": ("generation", WRONG),
    "php_cube": ("repair", WRONG),
    "php_double_all": ("translation", WRONG),  # a Python translation that changes behaviour
    # Ruby
    "rb_squares_of": ("generation", GOOD),
    "rb_shout": ("generation", WRONG),
    "rb_sum_odd": ("repair", GOOD),
    "rb_count_char": ("translation", GOOD),  # to JavaScript
    "rb_initials": ("generation", BROKEN_TESTS),  # a syntax error
    # Java (the JVM is slow: one row; tests/pipeline/test_execution.py parses Java too)
    "java_max_of_three": ("generation", GOOD),
}
# The record's reason (= the rejection's message) where it does not depend on a toolchain's
# version or the sandbox's paths.
REASONS = {
    "py_palindrome": (
        "solution passes the tests: failed: SyntaxError: '(' was never closed (<program>, line 8)"
    ),
    "py_word_lengths": "no usable tests: the tester's reply has no code block (wanted ```python)",
    "py_gcd": "repaired code passes the tests: failed: AssertionError",
    "py_running_total": (
        "solution passes the tests: failed: BlockingIOError: [Errno 11] Resource temporarily "
        "unavailable"
    ),
    "py_fib": "solution passes the tests: timed out",
    "php_double_all": "translation passes the examples: failed: AssertionError",
}
# The others: how the reason starts, and what it says further on (the failing test's message).
REASON_PARTS = {
    "py_count_vowels": (
        "translation passes the examples: failed: exit status 1: ",
        'Error: countVowels("AEIOU xyz") should be 5',
    ),
    "py_clamp": ("translation passes the examples: failed: compile error: ", "int broken()"),
    "py_mean": ("no sandbox language for 'typescript'", ""),
    "py_dedupe": (
        "repaired code passes the tests: failed: OSError: [Errno 30] Read-only file system: ",
        "victim.txt",
    ),
    "js_last_of": (
        "solution passes the tests: failed: exit status 1: ",
        "Error: lastOf([1, 2, 3]) should be 3",
    ),
    "js_is_sorted": (
        "repaired code passes the tests: failed: exit status 1: ",
        "Error: isSorted([1, 1, 2]) should be true",
    ),
    "go_min_of": (
        "solution passes the tests: failed: exit status 1: --- FAIL: TestMinOf",
        "MinOf([]int{3, 1, 2}) = 3",
    ),
    "go_count_byte": ("solution passes the tests: failed: compile error: ", "not used"),
    "php_first_word": (
        "solution passes the tests: failed: exit status 255: PHP Fatal error:  Uncaught Exception: ",
        'first_word("  padded start") should be "padded"',
    ),
    "php_cube": (
        "repaired code passes the tests: failed: exit status 255: ",
        "Uncaught Exception: cube(2) should be 8",
    ),
    "rb_shout": (
        "solution passes the tests: failed: exit status 1: ",
        'shout("hi") should be "HI!"',
    ),
    "rb_initials": ("solution passes the tests: failed: exit status 1: ", "syntax error"),
}


def _skip_or_fail(reason: str):
    if toolchains_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 or CI=true)", pytrace=False)
    pytest.skip(reason)


def missing_toolchain(row_id: str) -> str | None:
    """Why a row's languages cannot all run here, or None."""
    fixture = BY_ID[row_id]
    task = ROWS[row_id][0]
    languages = [fixture.language] + ([fixture.target] if task == "translation" else [])
    for language in languages:
        name = sandbox_name(language)
        if name is None:
            continue
        try:
            LANGUAGES[name].toolchain()
        except ToolchainMissing as exc:
            return f"{LANGUAGES[name].display}: {exc}"
    return None


@pytest.fixture(scope="module")
def filter_run(tmp_path_factory, victim):
    """The filter-mode run of every row of ROWS, then the same run again on its state folder:
    (records, stats, server calls) of the first and of the second, the sandbox, the state."""
    if find_bwrap() is None:
        _skip_or_fail("bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)")
    missing = sorted({m for m in map(missing_toolchain, ROWS) if m})
    scenarios = {row_id: scenario for row_id, (_, scenario) in ROWS.items()}
    rows = snippet_rows({row_id: task for row_id, (task, _) in ROWS.items()})
    state = tmp_path_factory.mktemp("execution-filter")
    sandbox = CountingSandbox(victim.parent)
    with ScriptedServer(execution_teacher(scenarios, victim=victim)) as server:
        first = run_loop(server, rows, state, EXECUTION, sandbox)
        first_calls = server.calls()
        first_runs = sandbox.runs
        server.reset()
        second = run_loop(server, rows, state, EXECUTION, sandbox)
        second_calls = server.calls()
    return {
        "records": first[0], "stats": first[1], "calls": first_calls, "runs": first_runs,
        "again": second[0], "again_stats": second[1], "again_calls": second_calls,
        "again_runs": sandbox.runs - first_runs, "state": state, "missing": missing,
    }  # fmt: skip


def needs_every_toolchain(filter_run) -> None:
    """Skip (fail under CI) a test of figures over all the rows when a toolchain is missing."""
    if filter_run["missing"]:
        _skip_or_fail("; ".join(filter_run["missing"]))


def outcome_of(row_id: str) -> tuple[str, str, list[str]]:
    """(status, stage, reason checks) a row must end with in filter mode."""
    task, scenario = ROWS[row_id]
    status = expected_status(task, scenario, BY_ID[row_id])
    if status is None:
        return "failed", "execution", ["llm_error"]
    if status in ("failed", "error", "timeout"):
        return "rejected", "execution", [f"execution_{status}"]
    return "accepted", "judgement", []


@pytest.mark.parametrize("row_id", list(ROWS))
def test_each_row_gets_its_execution_status_and_outcome(filter_run, row_id):
    missing = missing_toolchain(row_id)
    if missing:
        _skip_or_fail(missing)
    record = filter_run["records"][row_id]
    task, scenario = ROWS[row_id]
    execution = record["execution"]
    status = expected_status(task, scenario, BY_ID[row_id])
    if status is None:
        assert execution is None
    else:
        assert execution["status"] == status, (execution["reason"], execution["stderr_tail"])
    assert (record["status"], record["stage"], [r["check"] for r in record["reasons"]]) == (
        outcome_of(row_id)
    )
    if record["stage"] == "execution" and status is not None:
        assert record["reasons"][0]["message"] == execution["reason"]
    if row_id in REASONS:
        assert execution["reason"] == REASONS[row_id]
    if row_id in REASON_PARTS:
        start, part = REASON_PARTS[row_id]
        assert execution["reason"].startswith(start), execution["reason"]
        assert part in execution["reason"], execution["reason"]
    if status in ("passed", "not_applicable"):
        assert execution["reason"] == ""
    if status is not None and status != "skipped" and task != "summarization":
        # The tester's call is billed to the row, and its tests recorded.
        assert record["usage"]["tester"]["completion_tokens"] > 0
    if task == "summarization":
        assert record["usage"]["tester"] == {"prompt_tokens": 0, "completion_tokens": 0}


def test_the_statuses_add_up(filter_run):
    needs_every_toolchain(filter_run)
    records = filter_run["records"]
    counts: dict[str, int] = {}
    for record in records.values():
        status = (record["execution"] or {}).get("status", "none")
        counts[status] = counts.get(status, 0) + 1
    assert counts == {
        "passed": 15, "failed": 15, "timeout": 1, "error": 1, "skipped": 1,
        "not_applicable": 1, "none": 1,
    }  # fmt: skip
    assert sorted(r["status"] for r in records.values()).count("accepted") == 17


def test_a_passed_record_names_its_checks_tests_and_toolchains(filter_run):
    needs_every_toolchain(filter_run)
    record = filter_run["records"]["py_digit_sum"]["execution"]
    fixture = BY_ID["py_digit_sum"]
    assert record["tests"] == [
        {"language": "python", "code": fixture.tests},
        {"language": "go", "code": fixture.target_tests},
    ]
    assert [(c["name"], c["language"], c["expected"], c["passed"], c["result"]) for c in record["checks"]] == [
        ("source passes the examples", "python", "pass", True, "passed"),
        ("translation passes the examples", "go", "pass", True, "passed"),
    ]  # fmt: skip
    assert record["language"] == "python"
    assert (
        record["toolchain"].startswith("Python 3.") and ", go version go1." in record["toolchain"]
    )
    assert record["duration_s"] > 0
    repair = filter_run["records"]["go_factorial"]["execution"]
    assert [(c["name"], c["expected"], c["passed"]) for c in repair["checks"]] == [
        ("faulty code parses", "pass", True),
        ("faulty code fails the tests", "fail", False),
        ("repaired code passes the tests", "pass", True),
    ]


def test_failures_keep_what_the_run_said(filter_run):
    needs_every_toolchain(filter_run)
    records = filter_run["records"]
    js = records["js_last_of"]["execution"]
    assert "Error: lastOf([1, 2, 3]) should be 3" in js["stderr_tail"]
    assert js["toolchain"].startswith("node v")
    go = records["go_count_byte"]["execution"]
    assert re.search(
        r"unused declared (and|but) not used|declared and not used: unused", go["stderr_tail"]
    )
    cpp = records["py_clamp"]["execution"]
    assert [(c["language"], c["passed"]) for c in cpp["checks"]] == [
        ("python", True),
        ("cpp", False),
    ]
    assert "error: expected" in cpp["stderr_tail"]
    changed = records["php_double_all"]["execution"]
    assert [(c["language"], c["passed"]) for c in changed["checks"]] == [
        ("php", True),
        ("python", False),
    ]
    not_fixed = records["py_gcd"]["execution"]
    assert [(c["expected"], c["passed"]) for c in not_fixed["checks"]] == [
        ("pass", True),
        ("fail", False),
        ("pass", False),
    ]


def test_hostile_solutions_are_contained(filter_run, victim):
    assert victim.read_text() == "precious"
    records = filter_run["records"]
    for row_id in ("py_running_total", "py_fib", "py_dedupe"):
        assert records[row_id]["output"].startswith(f"def {BY_ID[row_id].name}(")
        assert records[row_id]["status"] == "rejected"
    # The run went on: every other row has its outcome (test_each_row_...), the judge was asked
    # about none of the rejected ones.
    judged = {
        c["messages"][0]["content"] for c in filter_run["calls"] if c["model"] == "judge-model"
    }
    assert len(judged) == 17


def test_failing_cases_join_the_bad_pool_with_the_failure_as_analysis(filter_run):
    db = ExampleDatabase(all_tasks(), filter_run["state"] / EXAMPLES_FILE)
    try:
        bad = {c.id: c for c in db.cases() if not c.good and not c.id.startswith("seed:")}
    finally:
        db.close()
    failing = {
        row_id for row_id, r in filter_run["records"].items()
        if r["execution"] and r["execution"]["status"] in ("failed", "timeout")
    }  # fmt: skip
    assert set(bad) == failing
    gcd = bad["py_gcd"]
    assert gcd.task == "repair"
    assert gcd.analysis.startswith(
        "execution: no, the code was run against tests and repaired code passes the tests: "
        "failed: AssertionError. The run said: "
    )
    assert "assert gcd(12, 8) == 4" in gcd.analysis or "AssertionError" in gcd.analysis
    assert bad["py_fib"].analysis.startswith(
        "execution: no, the code was run against tests and solution passes the tests: timed out."
    )


def test_the_tester_is_asked_once_per_tested_case_in_its_language(filter_run):
    tester = [
        c for c in filter_run["calls"]
        if c["model"] == "gen-model" and c["messages"][0]["content"].startswith(("Write tests", "This "))
    ]  # fmt: skip
    # Every row but the summarization and the translation to TypeScript (no sandbox language: it
    # is skipped without tests); the tester that is down was asked twice (a retry).
    assert len(tester) == len(ROWS) - 2 + 1
    prompts = [c["messages"][0]["content"] for c in tester]
    assert sum(p.startswith("Write tests for this Python solution") for p in prompts) == 7
    assert sum(p.startswith("This Go code has a bug") for p in prompts) == 1
    assert not any("translated to TypeScript" in p for p in prompts)
    assert sum(p.startswith("This PHP code was translated to Python.") for p in prompts) == 1
    assert all(len(c["messages"]) == 1 for c in tester)


def test_a_rerun_executes_nothing_again(filter_run):
    assert filter_run["runs"] > 0
    assert filter_run["again_runs"] == 0
    stats = filter_run["stats"]["execution"]
    again = filter_run["again_stats"]["execution"]
    ran = sum(1 for r in filter_run["records"].values() if r["execution"] is not None)
    # A skip is worked out again (a toolchain installed since decides anew), without a run: it
    # counts neither as executed nor as cached.
    skipped = sum(1 for r in filter_run["records"].values()
                  if (r["execution"] or {}).get("status") == "skipped")  # fmt: skip
    assert skipped == 1
    # Executed: the cases whose checks reached the sandbox (not a case without tests).
    reached = sum(1 for r in filter_run["records"].values() if (r["execution"] or {}).get("checks"))
    assert reached == ran - skipped - 1
    assert (stats["executed"], stats["cached"]) == (reached, 0)
    assert again["executed"] == 0 and again["cached"] == ran - skipped
    strip = lambda r: {k: v for k, v in r.items() if k != "usage"}  # noqa: E731
    assert {k: strip(r) for k, r in filter_run["again"].items()} == {
        k: strip(r) for k, r in filter_run["records"].items()
    }
    # Only the tester that is down is asked again (its calls failed, so nothing was cached).
    assert [c["attempt"] for c in filter_run["again_calls"]] == [1, 2]
