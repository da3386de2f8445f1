"""The checks of one case: which programs run, in which language, and whether each must pass.

| task | checks |
|---|---|
| generation | the solution (`output`) with the tests must pass |
| repair | the faulty code (`input`, else `source_code`) must parse, and with the tests must fail; the fix (`output`) with them must pass; both must define the same function |
| translation | the source (`source_code`) with the source-language tests and the translation (`output`) with the target-language tests must both pass |
| summarization | the source (`source_code`) must parse (or compile); its prose output is not run |

Tests are keyed by sandbox language name (`evaluation.languages.LANGUAGES`: python, js, java, go,
cpp, rust, php, ruby); case languages are the dataset's (`javascript`, `c++`...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evaluation.languages import Program
from pipeline.execution.languages import function_names, sandbox_name
from pipeline.execution.layout import checked_program, parse_program

PASS, FAIL = "pass", "fail"
# Bump when a layout changes, so cached results of the old programs are not reused.
LAYOUT_VERSION = 2
_FENCED = re.compile(r"```[^\n]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class Check:
    """One sandbox run: `program` in sandbox language `language`; `expected`: pass or fail."""

    name: str
    language: str
    expected: str
    program: Program


def code_of(text: str | None) -> str:
    """The code in a case field: the first fenced block when the field has one (an information
    that wraps the faulty code in prose), else the whole field."""
    match = _FENCED.search(text or "")
    return match.group(1) if match else text or ""


def case_languages(case: dict[str, Any]) -> list[str]:
    """The dataset languages a case runs in: its own, and for translation the target too."""
    languages = [case.get("language") or ""]
    if case.get("task") == "translation":
        languages.append(case.get("target_language") or "")
    return languages


def tested_languages(case: dict[str, Any]) -> list[str]:
    """Sandbox languages the tester must write tests in (none for summarization); an unknown
    language stays as given, so that the caller can say it is not supported."""
    if case.get("task") == "summarization":
        return []
    return [sandbox_name(lang) or lang for lang in case_languages(case)]


def build_checks(case: dict[str, Any], tests: dict[str, str] | None) -> list[Check]:
    """The checks of `case` (see the module docstring); `tests` maps sandbox language -> test
    code. Raises ValueError for an unknown task or when a needed test is absent."""
    task = case.get("task")
    language = sandbox_name(case.get("language")) or ""
    if task == "summarization":
        return [
            Check("parses", language, PASS, parse_program(language, code_of(case["source_code"])))
        ]
    tests = tests or {}
    for needed in tested_languages(case):
        if not (tests.get(needed) or "").strip():
            raise ValueError(f"no {needed} tests for a {task} case")
    if task == "generation":
        program = checked_program(language, code_of(case["output"]), tests[language])
        return [Check("solution passes the tests", language, PASS, program)]
    if task == "repair":
        faulty = code_of(case.get("input")) or case["source_code"]
        fixed = code_of(case["output"])
        before, after = function_names(faulty, language), function_names(fixed, language)
        if before and after and not set(before) & set(after):
            raise ValueError(
                f"the faulty code defines {', '.join(before)} and the repaired code "
                f"{', '.join(after)}: the same tests cannot exercise both"
            )
        return [
            # Faulty code that does not even parse would "fail the tests" for the wrong reason.
            Check("faulty code parses", language, PASS, parse_program(language, faulty)),
            Check(
                "faulty code fails the tests",
                language,
                FAIL,
                checked_program(language, faulty, tests[language]),
            ),
            Check(
                "repaired code passes the tests",
                language,
                PASS,
                checked_program(language, code_of(case["output"]), tests[language]),
            ),
        ]
    if task == "translation":
        target = sandbox_name(case.get("target_language")) or ""
        return [
            Check(
                "source passes the examples",
                language,
                PASS,
                checked_program(language, code_of(case["source_code"]), tests[language]),
            ),
            Check(
                "translation passes the examples",
                target,
                PASS,
                checked_program(target, code_of(case["output"]), tests[target]),
            ),
        ]
    raise ValueError(f"unknown task {task!r}")
