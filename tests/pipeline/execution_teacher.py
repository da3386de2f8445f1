"""A scripted teacher for execution-verified generation (issue 13): one `scripted_server.Script`
that plays the generator, the judge and the tester.

The snippets are `execution_snippets.FIXTURES`: small functions in Python, JavaScript, Go, PHP,
Ruby and Java with a wrong variant, hand-written tests and, for most, a translation into Go,
JavaScript, C++, Rust, PHP, Ruby, Python or TypeScript. A scenario per snippet id decides what the
teacher returns for whatever task the prompt asks:

| scenario | generator | tester |
|---|---|---|
| good | the right code (repair: the wrong code as input, the right as fix) | good tests |
| wrong | generation: the wrong code; repair: a "fix" still wrong; translation: a wrong translation | good tests |
| broken_tests | as good | tests that do not compile or parse |
| no_tests | as good | prose, no code block |
| tester_down | as good | HTTP 500 on every attempt |
| fork bomb, infinite loop, write outside tmpfs | the evaluation's hostile bodies (Python) under the function's own `def` | good tests |

The judge says yes to every rule. `expected_status` says which `execution.status` each (task,
scenario) must get.
"""

from __future__ import annotations

import re
from pathlib import Path

from execution_fixtures import hostile_bodies
from execution_snippets import BY_ID, BY_NAME, FIXTURES, Fixture
from generation_fixtures import as_reply_text, judgement_text, prompt_input, task_of
from scripted_server import Reply, Request

GOOD, WRONG, BROKEN_TESTS, NO_TESTS, TESTER_DOWN = (
    "good",
    "wrong",
    "broken_tests",
    "no_tests",
    "tester_down",
)
# The hostile programs of tests/evaluation/test_sandbox_hostile.py (by its names), and the status
# each must get when planted as a generated solution.
HOSTILE = {"fork bomb": "failed", "infinite loop": "timeout", "write outside tmpfs": "failed"}
TESTER_PROMPT = re.compile(
    r"\A(Write tests for this|This .+? code has a bug|This .+? code was translated to)"
)
_FUNCTION = re.compile(r"(?:checks|tests) of `([^`]+)`")
DISPLAY = {
    "python": "Python",
    "javascript": "JavaScript",
    "go": "Go",
    "php": "PHP",
    "ruby": "Ruby",
    "java": "Java",
    "c++": "C++",
    "rust": "Rust",
    "typescript": "TypeScript",
}
FENCES = {"javascript": "javascript", "c++": "cpp", "typescript": "typescript"}
COMMENTS = {"python": "#", "ruby": "#"}
# Appended to good tests, each makes them fail to compile (or parse) in its language.
BROKEN = {
    "python": "assert (\n",
    "javascript": "if (\n",
    "go": "func TestBroken(t *testing.T) {\n\tunused := 1\n}\n",
    "c++": "int broken() { return 1 }\n",
    "java": "class Broken { int x = ; }\n",
    "rust": "fn broken() -> i32 { 1 + }\n",
    "php": "if ( {\n",
    "ruby": "def broken(\n",
    "typescript": "if (\n",
}


def snippet_rows(tasks: dict[str, str]) -> list[dict]:
    """Selected-snippet rows (as the selection stage emits them) of the fixtures in `tasks`
    (id -> task), in that order, each with its `task`."""
    rows = []
    for rank, (fixture_id, task) in enumerate(tasks.items()):
        fixture = BY_ID[fixture_id]
        source = {"dataset": "fixture", "repo": "wavecoder/tests", "path": f"{fixture.id}.src",
                  "url": None, "func_name": fixture.name, "license": "apache-2.0"}  # fmt: skip
        rows.append({
            "id": fixture.id, "code": fixture.code, "docstring": "", "language": fixture.language,
            "source": source, "selection_rank": rank, "coverage_radius": round(1 - rank / 100, 3),
            "task": task,
        })  # fmt: skip
    return rows


def expected_status(task: str, scenario: str, fixture: Fixture) -> str | None:
    """The `execution.status` a (task, scenario) case of `fixture` must get; None when no
    execution record is written (the tester's call failed)."""
    if task == "summarization":
        return "not_applicable"  # the source parses; the prose is not run, the tester not asked
    if scenario == TESTER_DOWN:
        return None
    if scenario == NO_TESTS:
        return "error"
    if task == "translation" and fixture.target == "typescript":
        return "skipped"
    if scenario in HOSTILE:
        return HOSTILE[scenario]
    return "passed" if scenario == GOOD else "failed"


def execution_teacher(scenarios: dict[str, str] | None = None, *, victim: Path | None = None):
    """A Script playing the generator, the judge (yes on every rule) and the tester; a snippet's
    scenario (default good) comes from `scenarios` (id -> scenario). `victim`: the host file
    the `write outside tmpfs` solution writes to."""
    scenarios = scenarios or {}
    hostile = hostile_bodies(victim or Path("/nonexistent/victim.txt"))

    def script(request: Request) -> Reply:
        if request.prompt.startswith("You check"):
            return Reply(judgement_text(request))
        if TESTER_PROMPT.match(request.prompt):
            return tester_reply(request, scenarios)
        fixture = fixture_of(*prompt_input(request))
        scenario = scenarios.get(fixture.id, GOOD)
        case = generated_case(fixture, task_of(request), scenario, hostile)
        return Reply(as_reply_text(case, request))

    return script


def fixture_of(language: str, code: str) -> Fixture:
    """The fixture whose code a generator prompt's input holds (exactly, or by its function
    name, for code a corpus extractor re-wrote)."""
    for fixture in FIXTURES:
        if fixture.code.strip() == code.strip():
            return fixture
    named = [f for f in FIXTURES if re.search(rf"\b{re.escape(f.name)}\s*\(", code)]
    assert len(named) == 1, f"no single fixture for this {language} input: {code[:200]!r}"
    return named[0]


def generated_case(fixture: Fixture, task: str, scenario: str, hostile: dict[str, str]) -> dict:
    language = DISPLAY[fixture.language]
    right, wrong = fixture.code, fixture.wrong
    if scenario in HOSTILE:
        right = fixture.code.split("\n", 1)[0] + "\n" + hostile[scenario]
    elif scenario == WRONG:
        right = wrong
    if task == "generation":
        return {"task_name": f"Implement {fixture.name}",
                "instruction": f"Write a {language} function {fixture.name} that {fixture.does}.",
                "information": "<noinput>", "solution": right}  # fmt: skip
    if task == "repair":
        if scenario == WRONG:  # a "fix" that is still the wrong code
            right = f"{COMMENTS.get(fixture.language, '//')} Fixed.\n{wrong}"
        return {"task_name": f"Repair {fixture.name}",
                "instruction": f"The {language} function {fixture.name} below gives wrong results; fix it.",
                "information": wrong, "solution": right}  # fmt: skip
    if task == "translation":
        target = DISPLAY[fixture.target]
        solution = fixture.translated_wrong if scenario == WRONG else fixture.translated
        return {"task_name": f"Translate {fixture.name}",
                "instruction": f"Translate this {language} function into {target}.",
                "information": fixture.code, "solution": solution}  # fmt: skip
    return {"task_name": f"Summarize {fixture.name}",
            "instruction": f"Summarize what the {language} function {fixture.name} does.",
            "information": fixture.code,
            "solution": f"The function {fixture.name} {fixture.does}. It returns the result."}  # fmt: skip


def tester_reply(request: Request, scenarios: dict[str, str]) -> Reply:
    """The tester's answer: the fixture's tests in fenced blocks, broken, absent, or HTTP 500."""
    match = _FUNCTION.search(request.prompt)
    assert match, request.prompt[:300]
    fixture = BY_NAME.get(match.group(1)) or BY_NAME[_hostile_name(request.prompt)]
    scenario = scenarios.get(fixture.id, GOOD)
    if scenario == TESTER_DOWN:
        return Reply(status=500)
    if scenario == NO_TESTS:
        return Reply(f"The tests would check {fixture.name} on a few inputs; it looks right.")
    translated = " code was translated to " in request.prompt.split("\n", 1)[0]
    blocks = [(fixture.language, fixture.tests)]
    if translated:
        blocks.append((fixture.target, fixture.target_tests))
    if scenario == BROKEN_TESTS:
        language, tests = blocks[-1]
        blocks[-1] = (language, tests + BROKEN[language])
    text = "Here are the tests.\n\n" + "\n".join(
        f"```{FENCES.get(language, language)}\n{tests}```\n" for language, tests in blocks
    )
    return Reply(text)


def _hostile_name(prompt: str) -> str:
    # A hostile solution keeps its function's `def` line, so the tester is asked about it.
    return re.search(r"def (\w+)\(", prompt).group(1)
