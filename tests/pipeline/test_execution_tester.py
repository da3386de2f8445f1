"""What is asked of the tester and how a case becomes checks, without running anything: the
tester's prompts and reply parser, the function under test, when no tester call is made, the
repair guard, and the `execution` section's validation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from execution_fixtures import PY_ADD, PY_TESTS, case

from pipeline.execution import tester
from pipeline.execution.config import ExecutionConfig, validate_execution
from pipeline.execution.languages import function_name
from pipeline.execution.tester import missing_tests_reason, parse_tests
from wavecoder.errors import UserError


def test_the_tester_prompt_names_the_function_and_the_form():
    generation = case("generation", "python", PY_ADD)
    prompt = tester.tester_prompt(generation, max_tests=4)
    assert "checks of `add`" in prompt
    assert "at most 4 checks" in prompt
    assert prompt.rstrip().endswith("Reply with one ```python code block holding only the tests.")
    translation = case(
        "translation", "python", "func Add(a, b int) int { return a + b }", source_code=PY_ADD
    )
    translation["target_language"] = "go"
    prompt = tester.tester_prompt(translation, max_tests=3)
    assert "Python tests of `add` and as Go tests of `Add`" in prompt
    assert "two code blocks: ```python first, then ```go" in prompt
    summary = case("summarization", "python", "Adds.", source_code=PY_ADD)
    assert tester.tester_prompt(summary, max_tests=3) is None
    assert [tester.tester_calls(c) for c in (generation, translation, summary)] == [1, 1, 0]


def test_the_tester_reply_parser():
    generation = case("generation", "javascript", "function add(a, b) { return a + b; }")
    good = "Here are the tests:\n```javascript\nif (add(1, 2) !== 3) throw 1;\n```\n"
    assert parse_tests(generation, good) == {"js": "if (add(1, 2) !== 3) throw 1;\n"}
    assert parse_tests(generation, "```\nthrow 1;\n```") == {"js": "throw 1;\n"}
    no_block = "add(1, 2) should be 3."
    assert parse_tests(generation, no_block) == {}
    assert missing_tests_reason(generation, no_block) == (
        "no usable tests: the tester's reply has no code block (wanted ```javascript)"
    )
    wrong_language = "```python\nassert add(1, 2) == 3\n```"
    assert parse_tests(generation, wrong_language) == {}
    assert "lacks a non-empty block for ```javascript" in missing_tests_reason(
        generation, wrong_language
    )
    translation = case("translation", "python", "function add(a, b) {}", source_code=PY_ADD)
    translation["target_language"] = "javascript"
    assert parse_tests(translation, wrong_language) == {}
    both = wrong_language + "\n```js\nif (add(1, 2) !== 3) throw 1;\n```"
    assert set(parse_tests(translation, both)) == {"python", "js"}
    assert parse_tests(case("summarization", "python", "Adds."), good) == {}


def test_execution_config_is_validated():
    assert ExecutionConfig().enabled is False
    assert ExecutionConfig().mode == "filter"
    assert ExecutionConfig().workers >= 1
    validate_execution(ExecutionConfig())
    for bad, key in (
        ({"mode": "drop"}, "execution.mode"),
        ({"timeout_s": 0}, "execution.timeout_s"),
        ({"workers": 0}, "execution.workers"),
        ({"max_tests": 100}, "execution.max_tests"),
        ({"enabled": "yes"}, "execution.enabled"),
    ):
        with pytest.raises(UserError, match=key):
            validate_execution(replace(ExecutionConfig(), **bad))


@pytest.mark.parametrize(
    ("language", "code", "name"),
    [
        ("python", "def add(a, b):\n    return a + b", "add"),
        ("javascript", "const sum = (a, b) => a + b;", "sum"),
        ("java", "static int add(int a, int b) { return a + b; }", "add"),
        (
            "java",
            "public static <T> List<T> copyOf(List<T> xs)\n    throws IOException {",
            "copyOf",
        ),
        ("c++", "int main() { return 0; }\nint add(int a) {", "add"),
        ("go", "func (r *Repo) Name() string {", "Name"),
        ("rust", "pub fn parse(s: &str) -> i32 {", "parse"),
        ("php", "public function getName() {", "getName"),
        ("ruby", "def self.valid?(x)", "valid?"),
        ("typescript", "function add(a: number) {}", None),
    ],
)
def test_the_function_under_test_is_named(language, code, name):
    assert function_name(code, language) == name


def test_no_tester_call_for_a_case_nothing_can_run():
    to_typescript = case("translation", "python", "function add(a, b) { return a + b; }",
                         source_code=PY_ADD, target_language="typescript")  # fmt: skip
    assert tester.tester_calls(to_typescript) == 0
    assert tester.tester_prompt(to_typescript, max_tests=3) is None
    assert tester.tester_calls(case("summarization", "python", "Adds.", source_code=PY_ADD)) == 0
    to_js = {**to_typescript, "target_language": "javascript"}
    assert tester.tester_calls(to_js) == 1
    assert "This Python code was translated to JavaScript." in tester.tester_prompt(
        to_js, max_tests=3
    )


def test_a_repair_may_add_a_helper_but_must_keep_a_function_of_the_faulty_code():
    from pipeline.execution.programs import build_checks

    helper_first = (
        "def _abs(x):\n    return -x if x < 0 else x\n\ndef gcd(a, b):\n    return _abs(a)\n"
    )
    fine = case("repair", "python", helper_first, input="def gcd(a, b):\n    return a\n")
    assert [c.name for c in build_checks(fine, {"python": "assert gcd(2, 4) == 2\n"})] == [
        "faulty code parses",
        "faulty code fails the tests",
        "repaired code passes the tests",
    ]
    other = case("repair", "python", PY_ADD, input="def plus(a, b):\n    return a - b\n")
    with pytest.raises(ValueError, match="defines plus and the repaired code add"):
        build_checks(other, {"python": PY_TESTS})
