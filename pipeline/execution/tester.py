"""The tester: an LLM call of its own that writes the tests a case is run against, so the paper's
generator prompt stays as published.

One call per generation, repair or translation case; none for summarization (its output is prose;
only the source's parsing is checked). The prompt names the function under test and the form the
tests must take for the sandbox's layout (`pipeline.execution.layout`). The reply must hold one
fenced code block per tested language, labelled with the language (```python, ```go...); a reply
without a usable block yields no tests, which is a counted outcome, never a pass.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.execution.languages import (
    FENCES,
    display_name,
    function_name,
    sandbox_name,
    unsupported_reason,
)
from pipeline.execution.programs import case_languages, tested_languages

# How tests must be written in each sandbox language, to fit its program layout.
TEST_FORMS = {
    "python": "plain top-level `assert` statements (no unittest, no `if __name__` guard)",
    "js": (
        "top-level statements that `throw new Error(...)` when a check fails; print nothing, "
        "and do not `require` or import the code"
    ),
    "java": (
        "one `public class Main` whose `public static void main(String[] args)` throws "
        "`AssertionError` when a check fails (not the `assert` keyword: assertions are off); "
        "code without a class of its own is in `class Solution` (call static methods as "
        "`Solution.name(...)`, others on `new Solution()`)"
    ),
    "go": (
        "`func TestXxx(t *testing.T)` functions (package main, no `TestMain`) calling "
        "`t.Fatalf` when a check fails; standard library imports only"
    ),
    "cpp": "one `int main()` that checks with `assert` (the standard headers are included)",
    "rust": "`#[cfg(test)] mod tests { use super::*; ... }` with `#[test]` functions and `assert_eq!`",
    "php": (
        "top-level statements that `throw new Exception(...)` when a check fails; a method "
        "copied out of its class (code starting with `public`, `private`...) is in `class "
        "Wrapped`: call it on `new Wrapped()`"
    ),
    "ruby": "top-level statements that `raise` when a check fails (no test framework)",
}

GENERATION_PROMPT = """Write tests for this {language} solution to the instruction below.

Instruction: {instruction}
{information}
Solution:
```{fence}
{code}
```

Write at most {max_tests} checks of {function} whose inputs and expected outputs follow from the \
instruction, so that any correct solution passes them. The code is defined above the tests; do \
not repeat it. Tests: {form}.
Reply with one ```{fence} code block holding only the tests."""

REPAIR_PROMPT = """This {language} code has a bug:

```{fence}
{faulty}
```

The repaired code:

```{fence}
{code}
```

The problem: {instruction}
Write at most {max_tests} checks of {function} that the repaired code passes and the buggy code \
fails (at least one check must exercise the bug). The code is defined above the tests; do not \
repeat it. Tests: {form}.
Reply with one ```{fence} code block holding only the tests."""

TRANSLATION_PROMPT = """This {language} code was translated to {target}.

```{fence}
{source}
```

```{target_fence}
{code}
```

Write the same at most {max_tests} examples (inputs and the expected outputs of the {language} \
code) twice: as {language} tests of {function} and as {target} tests of {target_function}. The \
code is defined above the tests; do not repeat it. {language} tests: {form}. {target} tests: \
{target_form}.
Reply with two code blocks: ```{fence} first, then ```{target_fence}."""

_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)```", re.S)


def tester_calls(case: dict[str, Any]) -> int:
    """LLM calls the tester makes for `case`: 0 for summarization (only parsed) and for a case
    in a language the sandbox cannot run (it is `skipped` without tests), else 1."""
    if case.get("task") == "summarization":
        return 0
    return 0 if any(unsupported_reason(lang) for lang in case_languages(case)) else 1


def tester_prompt(case: dict[str, Any], *, max_tests: int) -> str | None:
    """The tester's prompt for `case`, or None when it needs none (`tester_calls`)."""
    task = case.get("task")
    language = case.get("language")
    sandbox = sandbox_name(language) or ""
    common = {
        "language": display_name(language),
        "fence": FENCES.get(sandbox, (language or "").lower()),
        "code": (case.get("output") or "").strip(),
        "instruction": (case.get("instruction") or "").strip(),
        "max_tests": max_tests,
        "form": TEST_FORMS.get(sandbox, "statements that fail the run when a check fails"),
    }
    if not tester_calls(case):
        return None
    if task == "generation":
        information = (case.get("input") or "").strip()
        return GENERATION_PROMPT.format(
            **common,
            information=f"Information: {information}\n" if information else "",
            function=_function(case.get("output"), language),
        )
    if task == "repair":
        return REPAIR_PROMPT.format(
            **common,
            faulty=(case.get("input") or case.get("source_code") or "").strip(),
            function=_function(case.get("output"), language),
        )
    if task == "translation":
        target = case.get("target_language")
        target_sandbox = sandbox_name(target) or ""
        return TRANSLATION_PROMPT.format(
            **common,
            source=(case.get("source_code") or "").strip(),
            function=_function(case.get("source_code"), language),
            target=display_name(target),
            target_fence=FENCES.get(target_sandbox, (target or "").lower()),
            target_function=_function(case.get("output"), target),
            target_form=TEST_FORMS.get(target_sandbox, "statements that fail when a check fails"),
        )
    raise ValueError(f"unknown task {task!r}")


def parse_tests(case: dict[str, Any], reply: str | None) -> dict[str, str]:
    """Sandbox language -> test code from the tester's `reply`: the first block labelled with
    each tested language (an unlabelled block counts for a one-language case). Empty when any
    tested language has no non-empty block: no usable tests."""
    needed = tested_languages(case)
    if not needed:
        return {}
    blocks: dict[str, str] = {}
    unlabelled = []
    for label, body in _FENCE.findall(reply or ""):
        if not body.strip():
            continue
        if not label:
            unlabelled.append(body)
            continue
        blocks.setdefault(sandbox_name(label) or label.lower(), body)
    if len(needed) == 1 and needed[0] not in blocks and len(unlabelled) == 1:
        blocks[needed[0]] = unlabelled[0]
    if not all(lang in blocks for lang in needed):
        return {}
    return {lang: blocks[lang].strip("\n") + "\n" for lang in needed}


def missing_tests_reason(case: dict[str, Any], reply: str | None) -> str:
    """Why `parse_tests` found no usable tests in `reply`, naming the blocks it wanted."""
    wanted = ", ".join(f"```{FENCES.get(lang, lang)}" for lang in tested_languages(case))
    if not _FENCE.search(reply or ""):
        return f"no usable tests: the tester's reply has no code block (wanted {wanted})"
    return f"no usable tests: the tester's reply lacks a non-empty block for {wanted}"


def _function(code: str | None, language: str | None) -> str:
    name = function_name(code or "", language)
    return f"`{name}`" if name else "the code's main function"
