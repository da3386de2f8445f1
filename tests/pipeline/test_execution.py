"""Execution-verified cases (pipeline/execution): real bubblewrap runs of generated cases in
Python, JavaScript, C++ and Go for every task, hostile solutions among them, and the tester's
prompt and reply parser on canned replies."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from execution_fixtures import (
    BATCH,
    HOSTILE,
    PARSES,
    PY_ADD,
    PY_TESTS,
    TRUNCATE_HEAD,
    TRUNCATE_OK,
    TRUNCATE_TESTS,
    case,
    hostile_bodies,
)

from evaluation.execution import CheckResult
from evaluation.languages import LANGUAGES, ToolchainMissing
from evaluation.sandbox import Sandbox, find_bwrap
from evaluation.toolchains import REQUIRE_ENV, toolchains_required
from pipeline.execution.config import ExecutionConfig
from pipeline.execution.run import cache_key, execute_cases, toolchain_label

CONFIG = ExecutionConfig(enabled=True, timeout_s=3.0, workers=2)


def _skip_or_fail(reason: str):
    if toolchains_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 or CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    """The real sandbox with the toolchains the batch runs; skips (with the fix) without them,
    as tests/evaluation/conftest.py does."""
    if find_bwrap() is None:
        _skip_or_fail("bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)")
    for language in ("js", "cpp", "go"):
        try:
            LANGUAGES[language].toolchain()
        except ToolchainMissing as exc:
            _skip_or_fail(f"{LANGUAGES[language].display}: {exc}")
    return Sandbox()


class _VictimBound:
    """The sandbox with the victim's folder bound read-only, so that "write outside" targets a
    real host file (as in tests/evaluation/test_sandbox_hostile.py)."""

    def __init__(self, sandbox: Sandbox, folder: Path):
        self.sandbox, self.folder, self.kind = sandbox, str(folder), sandbox.kind

    def run(self, job):
        return self.sandbox.run(replace(job, ro_binds=(*job.ro_binds, self.folder)))


@pytest.fixture(scope="module")
def batch(sandbox):
    """Every case of `BATCH`, each hostile solution and a correct control per hostile one, run
    as one batch: name -> execution record; and the victim file."""
    folder = Path(tempfile.mkdtemp(dir="/var/tmp"))
    folder.chmod(0o777)
    victim = folder / "victim.txt"
    victim.write_text("precious")
    victim.chmod(0o666)
    named = {name: (c, tests) for name, (c, tests, _) in BATCH.items()}
    for name, body in hostile_bodies(victim).items():
        named[f"hostile: {name}"] = (
            case("generation", "python", TRUNCATE_HEAD + body),
            {"python": TRUNCATE_TESTS},
        )
        named[f"control: {name}"] = (
            case("generation", "python", TRUNCATE_OK),
            {"python": TRUNCATE_TESTS},
        )
    records = execute_cases(named.values(), config=CONFIG, sandbox=_VictimBound(sandbox, folder))
    return dict(zip(named, records, strict=True)), victim


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BATCH))
def test_each_case_gets_its_status(batch, name):
    record = batch[0][name]
    assert record["status"] == BATCH[name][2], (record["reason"], record["stderr_tail"])


@pytest.mark.slow
def test_a_passed_record(batch):
    record = batch[0]["python generation"]
    assert record["checks"] == [
        {
            "name": "solution passes the tests",
            "language": "python",
            "expected": "pass",
            "passed": True,
            "result": "passed",
        }
    ]
    assert record["tests"] == [{"language": "python", "code": PY_TESTS}]
    assert record["language"] == "python"
    assert record["toolchain"].startswith("Python 3.")
    assert record["reason"] == ""
    assert record["duration_s"] > 0


@pytest.mark.slow
def test_failures_say_which_check_and_why(batch):
    records = batch[0]
    wrong = records["python wrong solution"]
    assert wrong["reason"] == "solution passes the tests: failed: AssertionError"
    not_fixed = records["python repair that does not fix"]
    assert [(c["expected"], c["passed"]) for c in not_fixed["checks"]] == [
        ("pass", True),
        ("fail", False),
        ("pass", False),
    ]
    for name in ("python repair of passing code", "c++ repair of passing code"):
        record = records[name]
        assert [(c["expected"], c["passed"]) for c in record["checks"]] == [
            ("pass", True),
            ("fail", True),
            ("pass", True),
        ]
        assert record["reason"] == "faulty code fails the tests: it passed them (not fail-to-pass)"
    changed = records["python to javascript translation that changes behaviour"]
    assert [(c["language"], c["passed"]) for c in changed["checks"]] == [
        ("python", True),
        ("js", False),
    ]
    assert "add(1, 2) should be 3" in changed["stderr_tail"]
    js_wrong = records["javascript wrong solution"]
    assert "Error: add(1, 2) should be 3" in js_wrong["stderr_tail"]
    assert js_wrong["toolchain"].startswith("node v")


@pytest.mark.slow
def test_tests_that_do_not_compile_fail_with_the_compiler_message(batch):
    record = batch[0]["c++ tests that do not compile"]
    assert record["checks"][0]["result"].startswith("failed: compile error:")
    # g++ quotes with ‘’ or '' depending on the locale.
    assert "error: expected" in record["stderr_tail"]
    assert "before" in record["stderr_tail"]
    assert "token" in record["stderr_tail"]
    assert record["toolchain"].startswith("g++")


@pytest.mark.slow
def test_skipped_and_untested_cases_say_why(batch):
    records = batch[0]
    assert "no sandbox language for 'kotlin'" in records["a language with no sandbox"]["reason"]
    assert records["a case without tests"]["reason"] == "no usable tests"
    assert records["a case without tests"]["checks"] == []
    parse = records["python summarization of code that does not parse"]
    assert "SyntaxError" in parse["reason"]


@pytest.mark.slow
def test_hostile_solutions_are_contained_and_the_batch_goes_on(batch):
    records, victim = batch
    for name, status in HOSTILE.items():
        record = records[f"hostile: {name}"]
        assert record["status"] == status, (name, record["reason"])
        assert records[f"control: {name}"]["status"] == "passed", name
    assert "Read-only file system" in records["hostile: write outside tmpfs"]["reason"]
    assert records["hostile: infinite loop"]["reason"].endswith("timed out")
    assert victim.read_text() == "precious"


def test_a_missing_toolchain_is_a_skip_with_the_reason(sandbox, monkeypatch):
    monkeypatch.setattr(LANGUAGES["cpp"], "binaries", ("g++-not-installed",))
    toolchain_label.cache_clear()
    try:
        [record] = execute_cases(
            [(case("generation", "c++", "int one() { return 1; }"), {"cpp": "int main() {}"})],
            config=CONFIG,
            sandbox=sandbox,
        )
    finally:
        monkeypatch.undo()
        toolchain_label.cache_clear()
    assert record["status"] == "skipped"
    assert "C++ toolchain not installed (g++-not-installed not on PATH)" in record["reason"]
    assert record["checks"][0]["result"].startswith("skipped: ")


def test_cache_key_covers_what_decides_the_result():
    generation = case("generation", "python", PY_ADD)
    key = cache_key(generation, {"python": PY_TESTS}, CONFIG)
    assert len(key) == 64
    assert key == cache_key(dict(generation), {"python": PY_TESTS}, CONFIG)
    assert key != cache_key(generation, {"python": "assert add(1, 1) == 2\n"}, CONFIG)
    assert key != cache_key({**generation, "output": PY_ADD + "\n"}, {"python": PY_TESTS}, CONFIG)
    assert key != cache_key(generation, {"python": PY_TESTS}, replace(CONFIG, timeout_s=4.0))
    assert cache_key(generation, None, CONFIG) != cache_key(
        generation, {}, replace(CONFIG, timeout_s=1)
    )


@pytest.mark.slow
@pytest.mark.parametrize("language", list(PARSES))
def test_summarized_source_must_parse(sandbox, language):
    try:
        LANGUAGES[language].toolchain()
    except ToolchainMissing as exc:
        _skip_or_fail(f"{LANGUAGES[language].display}: {exc}")
    good, bad = PARSES[language]
    records = execute_cases(
        [
            (case("summarization", language, "Names it.", source_code=good), None),
            (case("summarization", language, "Names it.", source_code=bad), None),
        ],
        config=CONFIG,
        sandbox=sandbox,
    )
    assert [r["status"] for r in records] == ["not_applicable", "failed"], records[1]["reason"]
    assert records[1]["reason"].startswith("parses: failed: ")


def test_a_check_that_cannot_run_is_that_case_error_and_the_batch_goes_on(monkeypatch):
    def check_programs(programs, sandbox, **kwargs):
        if "boom" in programs[0].solution:
            raise RuntimeError("job could not be built")
        return [CheckResult(True, "passed")]

    monkeypatch.setattr("pipeline.execution.run.check_programs", check_programs)
    records = execute_cases(
        [
            (case("generation", "python", PY_ADD + "# boom\n"), {"python": PY_TESTS}),
            (case("generation", "python", PY_ADD), {"python": PY_TESTS}),
        ],
        config=CONFIG,
        sandbox=object(),
    )
    assert [r["status"] for r in records] == ["error", "passed"]
    assert records[0]["reason"] == (
        "not checked: solution passes the tests: failed: sandbox error: internal: "
        "RuntimeError('job could not be built')"
    )


def test_cache_key_changes_with_the_toolchain(monkeypatch):
    generation = case("generation", "python", PY_ADD)
    key = cache_key(generation, {"python": PY_TESTS}, CONFIG)
    monkeypatch.setattr("pipeline.execution.run.toolchain_label", lambda lang: "Python 3.99.0")
    assert cache_key(generation, {"python": PY_TESTS}, CONFIG) != key


@pytest.mark.slow
def test_a_repair_is_fail_to_pass_only_for_faulty_code_that_runs(batch):
    records = batch[0]
    unparsable = records["python repair whose faulty code does not parse"]
    assert unparsable["reason"].startswith("faulty code parses: failed: ")
    assert "SyntaxError" in unparsable["reason"]
    renamed = records["python repair of another function"]
    assert renamed["reason"] == (
        "cannot build the checks: the faulty code defines plus and the repaired code add: the "
        "same tests cannot exercise both"
    )


def test_a_ruby_source_with_an_emoji_parses(sandbox):
    try:
        LANGUAGES["ruby"].toolchain()
    except ToolchainMissing as exc:
        _skip_or_fail(f"Ruby: {exc}")
    source = 'def greet(name)\n  "hi #{name} \U0001f600"\nend\n'
    summary = case("summarization", "ruby", "Greets.", source_code=source)
    broken = case("summarization", "ruby", "Greets.", source_code=source.replace("end\n", ""))
    records = execute_cases([(summary, None), (broken, None)], config=CONFIG, sandbox=sandbox)
    assert [r["status"] for r in records] == ["not_applicable", "failed"]


def test_a_canary_that_timed_out_leaves_the_case_unchecked_not_skipped(monkeypatch):
    from pipeline.execution.run import sandbox_failed, worth_keeping

    timed_out = "skipped: the Python toolchain fails a known-good program (a canonical solution): timed out"  # fmt: skip
    monkeypatch.setattr(
        "pipeline.execution.run.check_programs",
        lambda programs, sandbox, **kwargs: [CheckResult(False, timed_out, skipped=True)],
    )
    record = execute_cases(
        [(case("generation", "python", PY_ADD), {"python": PY_TESTS})],
        config=CONFIG,
        sandbox=object(),
    )[0]
    assert record["status"] == "error"
    assert record["reason"] == f"not checked: solution passes the tests: {timed_out}"
    assert sandbox_failed(record) and not worth_keeping(record)
