"""Loaders, prompts, post-processing and programs of each benchmark, on local fixtures."""

from __future__ import annotations

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.languages import LANGUAGES
from evaluation.prompts import ALPACA, format_prompt
from evaluation.scoring import score_samples

PACK_LANGUAGES = ("python", "js", "java", "go", "cpp", "rust")


def test_humaneval_loads_the_bundled_164_problems_and_builds_prompts():
    benchmark = get_benchmark("humaneval")
    problems = benchmark.load()
    assert len(problems) == 164
    problem = problems["HumanEval/0"]
    request = benchmark.request(problem)
    assert request.instruction == (
        "Write a solution to the following problem:\n```python\n" + problem.prompt.strip() + "\n```"
    )
    alpaca = format_prompt(
        "alpaca", request.instruction, request.response_prefix, plain=request.plain
    )
    assert alpaca == ALPACA.format(instruction=request.instruction)
    assert alpaca.endswith("### Response:\n")
    assert format_prompt("plain", request.instruction, plain=request.plain) == problem.prompt


def test_humaneval_postprocessing():
    benchmark = get_benchmark("humaneval")
    problem = benchmark.load()["HumanEval/0"]
    answer = (
        "Sure:\n```python\ndef has_close_elements(numbers, threshold):\n    return False\n```\n"
    )
    assert (
        benchmark.postprocess(problem, answer, template="alpaca", primed=False)
        == "def has_close_elements(numbers, threshold):\n    return False\n"
    )
    continuation = "    return False\n\n\ndef main():\n    pass\n"
    assert benchmark.postprocess(problem, continuation, template="plain", primed=True) == (
        "    return False\n\n"
    )
    assert (
        benchmark.postprocess(
            problem, "    return 1\n### Instruction:\nmore", template="alpaca", primed=False
        )
        == "return 1"
    )


def test_mbpp_loads_fixture_with_wavecoder_prompt(mbpp_path, sandbox):
    benchmark = get_benchmark("mbpp")
    problems = benchmark.load(source=str(mbpp_path))
    assert list(problems) == ["Mbpp/11", "Mbpp/12", "Mbpp/14", "Mbpp/17"]
    problem = problems["Mbpp/14"]
    assert benchmark.request(problem).instruction == (
        "Write a python function to find the volume of a triangular prism.\n"
        "the function should pass the following test code:\n"
        "assert find_Volume(10,8,6) == 240\nassert find_Volume(3,2,2) == 6\n"
        "assert find_Volume(1,2,1) == 1"
    )
    assert benchmark.request(problem).plain == (
        '"""\nWrite a python function to find the volume of a triangular prism.\n'
        'assert find_Volume(10,8,6) == 240\n"""\n'
    )
    samples = [{"task_id": t, "completion": p.data["code"]} for t, p in problems.items()]
    samples.append(
        {"task_id": "Mbpp/17", "completion": "def square_perimeter(a):\n    return a * a"}
    )
    samples.append({"task_id": "Mbpp/11", "completion": "def remove_Occ(s, ch):\n    return s"})
    scored = score_samples(benchmark, problems, samples, sandbox, workers=2)
    assert [r["passed"] for r in scored.rows] == [True, True, True, True, False, False]
    assert scored.rows[4]["result"] == "failed: AssertionError"
    # Task 17's test setup (``import math``) runs before its asserts.
    assert problems["Mbpp/17"].test.startswith("import math\n")
    assert scored.summary["pass@1"] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert scored.summary["n_samples"] == 6


@pytest.mark.parametrize("language", PACK_LANGUAGES)
def test_humanevalpack_loads_each_language(humanevalpack_dir, language):
    problems = get_benchmark("humanevalfix").load(language, str(humanevalpack_dir))
    prefix = {"python": "Python", "js": "JavaScript", "java": "Java", "go": "Go", "cpp": "CPP"}
    assert list(problems) == [f"{prefix.get(language, 'Rust')}/{n}" for n in (0, 2)]
    assert all(p.language == language for p in problems.values())


def test_fix_prompt_is_buggy_code_tests_then_instruction_primed_with_declaration(humanevalpack_dir):
    benchmark = get_benchmark("humanevalfix")
    problem = benchmark.load("python", str(humanevalpack_dir))["Python/0"]
    request = benchmark.request(problem)
    declaration = problem.data["declaration"]
    assert request.instruction == (
        declaration
        + problem.data["buggy_solution"]
        + "\n"
        + problem.test
        + "\nFix bugs in has_close_elements."
    )
    assert request.response_prefix == declaration
    prompt = format_prompt("alpaca", request.instruction, request.response_prefix)
    assert prompt == (ALPACA.format(instruction=request.instruction) + declaration).rstrip()
    raw = "\n    return any(abs(a - b) < threshold for i, a in enumerate(numbers)\n               for j, b in enumerate(numbers) if i != j)\n\nprint(1)\n"
    completion = benchmark.postprocess(problem, raw, template="alpaca", primed=True)
    assert completion == declaration.rstrip() + raw[: raw.index("\n\nprint")]


def test_fix_rust_and_java_prefixes(humanevalpack_dir):
    benchmark = get_benchmark("humanevalfix")
    rust = benchmark.load("rust", str(humanevalpack_dir))["Rust/0"]
    assert benchmark.request(rust).response_prefix.startswith("fn main(){}\n\nuse std::")
    java = benchmark.load("java", str(humanevalpack_dir))["Java/0"]
    raw = "\n        return false;\n    }\n}\n\nclass Extra {}\n"
    completion = benchmark.postprocess(java, raw, template="alpaca", primed=True)
    assert completion.endswith("return false;\n    }\n}")
    assert "Extra" not in completion


def test_explain_describe_and_synthesize(humanevalpack_dir):
    benchmark = get_benchmark("humanevalexplain")
    problem = benchmark.load("python", str(humanevalpack_dir))["Python/0"]
    length = len(problem.data["docstring"])
    describe = benchmark.describe_request(problem)
    assert describe.instruction.endswith(
        f"Provide a concise natural language description of the code using at most {length} characters."
    )
    assert describe.instruction.startswith(
        problem.data["declaration"] + problem.data["canonical_solution"]
    )
    copied = "for idx, elem in enumerate(numbers):"
    raw = f"  Checks pairs. {copied} " + "x" * 500
    description = benchmark.description(problem, raw)
    assert len(description) <= length
    assert copied not in description and description.startswith("Checks pairs.")
    synthesize = benchmark.request(problem, description)
    assert (
        synthesize.instruction
        == description + "\nWrite functional code in Python according to the description."
    )
    assert synthesize.response_prefix == problem.data["declaration"]


@pytest.mark.parametrize("language", PACK_LANGUAGES)
def test_fix_canonical_passes_and_buggy_fails_when_executed(
    humanevalpack_dir, sandbox, require_toolchain, language
):
    require_toolchain(language)
    benchmark = get_benchmark("humanevalfix")
    problems = benchmark.load(language, str(humanevalpack_dir))
    samples = []
    for problem in problems.values():
        base = benchmark.prompt_base(problem)
        samples.append(
            {"task_id": problem.task_id, "completion": base + problem.data["canonical_solution"]}
        )
        samples.append(
            {"task_id": problem.task_id, "completion": base + problem.data["buggy_solution"]}
        )
    scored = score_samples(benchmark, problems, samples, sandbox, workers=2)
    assert [r["passed"] for r in scored.rows] == [True, False, True, False], [
        r["result"] for r in scored.rows
    ]
    assert all(r["result"].startswith("failed: ") for r in scored.rows[1::2])
    assert scored.summary["pass@1"] == 0.5
    assert scored.summary["language"] == language


def test_missing_toolchain_is_a_counted_skip_never_a_pass(humanevalpack_dir, sandbox, monkeypatch):
    benchmark = get_benchmark("humanevalfix")
    problems = {}
    for language in ("python", "js"):
        problems.update(benchmark.load(language, str(humanevalpack_dir)))
    monkeypatch.setattr(LANGUAGES["js"], "binaries", ("node-that-is-not-installed",))
    samples = [
        {
            "task_id": p.task_id,
            "completion": benchmark.prompt_base(p) + p.data["canonical_solution"],
        }
        for p in problems.values()
    ]
    scored = score_samples(benchmark, problems, samples, sandbox, workers=2)
    js_rows = [r for r in scored.rows if r["task_id"].startswith("JavaScript/")]
    assert [r["passed"] for r in js_rows] == [False, False]
    assert all("skipped: JavaScript toolchain not installed" in r["result"] for r in js_rows)
    js = scored.summary["languages"]["js"]
    assert js["n_skipped"] == 2 and js["n_tasks"] == 0 and "pass@1" not in js
    assert "apt-get install nodejs" in next(iter(js["skipped"]))
    assert scored.summary["languages"]["python"]["pass@1"] == 1.0
    # The average covers only languages that were scored.
    assert scored.summary["pass@1"] == 1.0
    assert scored.summary["n_skipped"] == 2
