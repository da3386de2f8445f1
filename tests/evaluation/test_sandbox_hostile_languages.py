"""Hostile HumanEvalPack programs outside Python: buggy solutions that exit with status 0 before
the tests run must fail (no end marker), and killing the launcher must not stop the run.

One batch per available toolchain, scored through `score_samples` like `wavecoder evaluate`; each
batch also holds the canonical solution, which must still pass.
"""

from __future__ import annotations

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.languages import LANGUAGES, ToolchainMissing
from evaluation.scoring import score_samples

NO_MARKER = "failed: exited with status 0 before all tests ran (no end marker)"


def _cases(benchmark, problems) -> list[tuple[str, str, str]]:
    """(task id, case name, completion): the buggy solution of task 0 plus an early exit."""

    def buggy(task_id):
        problem = problems[task_id]
        return benchmark.prompt_base(problem) + problem.data["buggy_solution"]

    rust_exit = (
        '\n#[used]\n#[link_section = ".init_array"]\n'
        'static EARLY: extern "C" fn() = { extern "C" fn f() { std::process::exit(0) } f };\n'
    )
    return [
        ("JavaScript/0", "js process.exit(0)", buggy("JavaScript/0") + "\nprocess.exit(0);\n"),
        (
            "JavaScript/0",
            "js kills the launcher",
            buggy("JavaScript/0")
            + "\nprocess.stderr.write('bwrap: x\\n');\nprocess.kill(process.ppid, 'SIGKILL');\n",
        ),
        (
            "JavaScript/0",
            "js prints a guessed marker",
            buggy("JavaScript/0")
            + "\nconsole.log('wavecoder: all tests ran 0');\nprocess.exit(0);\n",
        ),
        (
            "Java/0",
            "java static exit",
            buggy("Java/0").replace(
                "class Solution {", "class Solution {\n    static { System.exit(0); }", 1
            ),
        ),
        (
            "CPP/0",
            "cpp static constructor",
            buggy("CPP/0") + "\nstatic int early = (exit(0), 0);\n",
        ),
        (
            "Go/0",
            "go init exit",
            'import "os"\n' + buggy("Go/0") + "\nfunc init() { os.Exit(0) }\n",
        ),
        ("Rust/0", "rust init_array exit", buggy("Rust/0") + rust_exit),
    ]


@pytest.mark.slow
def test_early_exits_and_launcher_kills_fail(humanevalpack_dir, sandbox):
    benchmark = get_benchmark("humanevalfix")
    available = []
    for language in ("js", "java", "cpp", "go", "rust"):
        try:
            LANGUAGES[language].toolchain()
            available.append(language)
        except ToolchainMissing:
            continue
    if not available:
        pytest.skip("no HumanEvalPack toolchain besides Python is installed")
    problems = {}
    for language in available:
        problems.update(benchmark.load(language, str(humanevalpack_dir)))
    samples = []
    for task_id, name, completion in _cases(benchmark, problems):
        if task_id in problems:
            samples.append({"task_id": task_id, "completion": completion, "case": name})
    for task_id in {s["task_id"] for s in samples}:
        problem = problems[task_id]
        completion = benchmark.prompt_base(problem) + problem.data["canonical_solution"]
        samples.append({"task_id": task_id, "completion": completion, "case": "canonical"})

    scored = score_samples(benchmark, problems, samples, sandbox, workers=2)

    results = {}
    for row in scored.rows:
        results.setdefault(row["case"], []).append(row)
    assert all(row["passed"] for row in results.pop("canonical")), scored.rows
    for name, (row,) in results.items():
        assert row["passed"] is False, (name, row["result"])
        if name == "js kills the launcher":
            assert row["result"] == "failed: the run did not complete (killed by SIGKILL)"
        else:
            assert row["result"].startswith(NO_MARKER), (name, row["result"])
