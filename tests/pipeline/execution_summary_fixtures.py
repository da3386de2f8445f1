"""Synthetic rows with an `execution` column: every status, four tasks, six languages.

| # | task | language | row | execution | tester call |
|---|---|---|---|---|---|
| 1, 2 | generation | python | accepted | passed | yes |
| 3 | generation | python | rejected (execution) | failed | yes |
| 4 | generation | python | rejected (execution) | timeout | yes |
| 5 | generation | python | rejected (execution) | error, no tests | yes (tokens only) |
| 6 | generation | ruby | accepted | skipped: no toolchain | yes |
| 7 | repair | go | accepted | passed | yes |
| 8 | repair | go | rejected (execution) | failed | yes |
| 9 | repair | typescript | accepted | skipped: no sandbox language | yes |
| 10 | translation | javascript | rejected (judgement) | passed | yes |
| 11 | translation | javascript | accepted | passed | yes |
| 12 | summarization | python | accepted | not_applicable | no |
| 13 | summarization | java | rejected (execution) | failed | no |
| 14 | generation | python | failed (generation) | not run | no |
| 15 | repair | python | rejected (postfilter) | not run | no |
| 16 | corpus snippet (task None) | python | contaminated | not run | no |
"""

from __future__ import annotations

from pipeline.generation.records import build_record

NO_TOOLCHAIN = "Ruby toolchain missing: install ruby"
NO_SANDBOX = "typescript has no sandbox language"
TESTER_TOKENS = {"prompt_tokens": 100, "completion_tokens": 40}
CASE = {"instruction": "Do it.", "information": "<noinput>", "solution": "def f():\n    return 1"}


def execution(status: str, language: str, *, tests: bool = True, reason: str = "") -> dict:
    return {
        "status": status,
        "reason": reason,
        "tests": [{"language": language, "code": "assert f() == 1\n"}] if tests else [],
        "checks": [],
        "language": language,
        "toolchain": "",
        "duration_s": 0.5,
        "stdout_tail": "",
        "stderr_tail": "",
    }


def row(n, task, language, status, stage, run=None, *, tester=TESTER_TOKENS, reasons=None):
    """Row `n`; `run` is its execution record (None: not run); `tester` its tester tokens."""
    record = build_record(
        {"id": f"r{n:02d}", "task": task, "language": language, "code": "def f(): pass"},
        status=status,
        stage=stage,
        case=CASE,
        target_language="python" if task == "translation" else None,
        reasons=reasons,
        models=("gen-m", "judge-m"),
    )
    record["execution"] = run
    record["usage"]["tester"] = dict(tester or {"prompt_tokens": 0, "completion_tokens": 0})
    return record


def rejected(check: str) -> list[dict]:
    return [{"check": check, "message": "a check missed its expectation"}]


def execution_records() -> list[dict]:
    none = None
    return [
        row(1, "generation", "python", "accepted", "judgement", execution("passed", "python")),
        row(2, "generation", "python", "accepted", "judgement", execution("passed", "python")),
        row(3, "generation", "python", "rejected", "execution", execution("failed", "python"),
            reasons=rejected("execution_failed")),
        row(4, "generation", "python", "rejected", "execution", execution("timeout", "python"),
            reasons=rejected("execution_timeout")),
        row(5, "generation", "python", "rejected", "execution",
            execution("error", "python", tests=False, reason="no usable tests"),
            tester={"prompt_tokens": 80, "completion_tokens": 10},
            reasons=rejected("execution_error")),
        row(6, "generation", "ruby", "accepted", "judgement",
            execution("skipped", "ruby", reason=NO_TOOLCHAIN)),
        row(7, "repair", "go", "accepted", "judgement", execution("passed", "go")),
        row(8, "repair", "go", "rejected", "execution", execution("failed", "go"),
            reasons=rejected("execution_failed")),
        row(9, "repair", "typescript", "accepted", "judgement",
            execution("skipped", "typescript", reason=NO_SANDBOX)),
        row(10, "translation", "javascript", "rejected", "judgement", execution("passed", "js"),
            reasons=rejected("rule_2")),
        row(11, "translation", "javascript", "accepted", "judgement", execution("passed", "js")),
        row(12, "summarization", "python", "accepted", "judgement",
            execution("not_applicable", "python", tests=False), tester=none),
        row(13, "summarization", "java", "rejected", "execution",
            execution("failed", "java", tests=False), tester=none,
            reasons=rejected("execution_failed")),
        row(14, "generation", "python", "failed", "generation", tester=none,
            reasons=[{"check": "llm_error", "message": "timeout"}]),
        row(15, "repair", "python", "rejected", "postfilter", tester=none,
            reasons=rejected("instruction_sentences")),
        {**row(16, None, "python", "contaminated", "corpus-decontamination", tester=none)},
    ]  # fmt: skip
