"""Hostile HumanEvalPack programs outside Python: buggy solutions that exit with status 0 before
the tests run must fail (no end marker), and killing the launcher must not stop the run.

One batch per language, scored through `score_samples` like `wavecoder evaluate`; each batch also
holds the canonical solution, which must still pass. A language whose toolchain is not prepared is
skipped with the reason (`require_toolchain`).
"""

from __future__ import annotations

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.scoring import score_samples

NO_MARKER = "failed: exited with status 0 before all tests ran (no end marker)"
RUST_EXIT = (
    '\n#[used]\n#[link_section = ".init_array"]\n'
    'static EARLY: extern "C" fn() = { extern "C" fn f() { std::process::exit(0) } f };\n'
)
# Per language: (case name, completion from the buggy solution of its task 0) for an early exit.
CASES = {
    "js": (
        ("js process.exit(0)", lambda buggy: buggy + "\nprocess.exit(0);\n"),
        (
            "js kills the launcher",
            lambda buggy: (
                buggy
                + "\nprocess.stderr.write('bwrap: x\\n');\nprocess.kill(process.ppid, 'SIGKILL');\n"
            ),
        ),
        (
            "js prints a guessed marker",
            lambda buggy: (
                buggy + "\nconsole.log('wavecoder: all tests ran 0');\nprocess.exit(0);\n"
            ),
        ),
    ),
    "java": (
        (
            "java static exit",
            lambda buggy: buggy.replace(
                "class Solution {", "class Solution {\n    static { System.exit(0); }", 1
            ),
        ),
    ),
    "cpp": (
        ("cpp static constructor", lambda buggy: buggy + "\nstatic int early = (exit(0), 0);\n"),
    ),
    "go": (
        ("go init exit", lambda buggy: 'import "os"\n' + buggy + "\nfunc init() { os.Exit(0) }\n"),
    ),
    "rust": (("rust init_array exit", lambda buggy: buggy + RUST_EXIT),),
}


@pytest.mark.slow
@pytest.mark.parametrize("language", CASES)
def test_early_exits_and_launcher_kills_fail(
    humanevalpack_dir, sandbox, require_toolchain, language
):
    require_toolchain(language)
    benchmark = get_benchmark("humanevalfix")
    problems = benchmark.load(language, str(humanevalpack_dir))
    problem = next(p for p in problems.values() if p.task_id.endswith("/0"))
    base = benchmark.prompt_base(problem)
    samples = [
        {
            "task_id": problem.task_id,
            "completion": case(base + problem.data["buggy_solution"]),
            "case": name,
        }
        for name, case in CASES[language]
    ]
    samples.append(
        {
            "task_id": problem.task_id,
            "completion": base + problem.data["canonical_solution"],
            "case": "canonical",
        }
    )

    scored = score_samples(benchmark, problems, samples, sandbox, workers=2)

    results = {}
    for row in scored.rows:
        results.setdefault(row["case"], []).append(row)
    assert all(row["passed"] for row in results.pop("canonical")), scored.rows
    assert set(results) == {name for name, _ in CASES[language]}
    for name, (row,) in results.items():
        assert row["passed"] is False, (name, row["result"])
        if name == "js kills the launcher":
            assert row["result"] == "failed: the run did not complete (killed by SIGKILL)"
        else:
            assert row["result"].startswith(NO_MARKER), (name, row["result"])
