"""Run cases' checks in the sandbox and summarise each case as its `execution` record.

Every check is one `evaluation.execution.check_programs` call (the hardened bwrap sandbox, its
limits and verdicts, the language's canary and toolchain probe) on a bounded pool of
`config.workers` threads, so a hostile or hanging program costs one worker for at most its
timeout and never stops the batch.

The record of a case::

    {"status": passed | failed | error | timeout | skipped | not_applicable,
     "reason": why, when not passed (else ""),
     "tests": [{"language": sandbox language, "code": test code}],
     "checks": [{"name", "language", "expected": "pass" | "fail",
                 "passed": whether the program passed its tests, "result": the sandbox verdict}],
     "language": the case's language, "toolchain": e.g. "Python 3.11.2, g++ (Debian 12.2.0) 12.2.0",
     "duration_s": seconds spent in its checks, "stdout_tail", "stderr_tail": of the telling run}

Status: `skipped` when a language has no sandbox language or no toolchain; `error` when the case
has no usable tests or the sandbox could not run a check; else `timeout` or `failed` when a check
missed its expectation (a timeout is a failure for a check expected to fail); else `passed`, or
`not_applicable` for a summarization whose source parses (its prose is not behaviour-tested).
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from evaluation.execution import CheckResult, check_programs
from evaluation.languages import LANGUAGES, ToolchainMissing
from evaluation.sandbox import SandboxResult
from evaluation.toolchain_probe import command_output
from pipeline.execution.config import ExecutionConfig
from pipeline.execution.languages import sandbox_name, unsupported_reason
from pipeline.execution.layout import canary_program
from pipeline.execution.programs import (
    LAYOUT_VERSION,
    PASS,
    Check,
    build_checks,
    case_languages,
)

log = logging.getLogger(__name__)
PASSED, FAILED, ERROR, TIMEOUT, SKIPPED, NOT_APPLICABLE = (
    "passed",
    "failed",
    "error",
    "timeout",
    "skipped",
    "not_applicable",
)
STATUSES = (PASSED, FAILED, ERROR, TIMEOUT, SKIPPED, NOT_APPLICABLE)
# The statuses `execution.mode: filter` rejects; `skipped` (nothing could run) and
# `not_applicable` (a summarization whose source parses) go on to the judge, unverified.
FAILING = (FAILED, ERROR, TIMEOUT)
NO_TESTS = "no usable tests"
# How evaluation.execution words a job the sandbox itself could not run (bwrap refused, ...).
SANDBOX_ERROR = "sandbox error"


# In the reason of an `error` the case is not to blame for: the sandbox failed, or the language's
# known-good program (its canary) timed out on a machine too loaded to check anything.
UNCHECKED = "not checked"


def sandbox_failed(record: dict[str, Any]) -> bool:
    """The sandbox, not the case, failed: nothing was checked, so the result is neither kept
    in the cache nor held against the case (the row is retried next run)."""
    return record.get("status") == ERROR and (record.get("reason") or "").startswith(UNCHECKED)


def _unchecked(result: CheckResult) -> bool:
    return SANDBOX_ERROR in result.result or (
        result.skipped and result.result.endswith(": timed out")  # the canary timed out
    )


def worth_keeping(record: dict[str, Any]) -> bool:
    """Whether a result may be reused by a rerun: not a sandbox failure, and not `skipped` (a
    toolchain installed or a canary that passes next time decides anew, and skips cost no run)."""
    return not sandbox_failed(record) and record.get("status") != SKIPPED


TAIL_CHARS = 2000
# How to ask each toolchain its version, where its Toolchain does not say.
_VERSION_COMMANDS = {
    "js": ("node", "--version"),
    "java": ("javac", "-version"),
    "go": ("go", "version"),
    "cpp": ("g++", "--version"),
    "rust": ("rustc", "--version"),
    "php": ("php", "--version"),
    "ruby": ("ruby", "--version"),
}


def execute_cases(
    cases_with_tests: Iterable[tuple[dict[str, Any], dict[str, str] | None]],
    *,
    config: ExecutionConfig,
    sandbox,
) -> list[dict[str, Any]]:
    """The `execution` record of each (case, tests) pair, in order. `tests`: sandbox language
    -> test code (`pipeline.execution.tester.parse_tests`); None or {} = no usable tests."""
    pairs = list(cases_with_tests)
    plans: list[tuple[list[Check], dict[str, Any] | None]] = []
    for case, tests in pairs:
        plans.append(_plan(case, tests))
    flat = [check for checks, early in plans if early is None for check in checks]
    # Probed once per batch, so a missing toolchain is one warning, not one per check.
    missing = _missing_toolchains({check.language for check in flat})

    def run(check: Check):
        if check.language in missing:
            skipped = CheckResult(False, f"skipped: {missing[check.language]}", skipped=True)
            return skipped, None, 0.0
        return _run_check(check, sandbox, config.timeout_s)

    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        outcomes = iter(list(pool.map(run, flat)))
    records = []
    for (case, tests), (checks, early) in zip(pairs, plans, strict=True):
        base = {
            "tests": [{"language": lang, "code": code} for lang, code in (tests or {}).items()],
            "language": case.get("language") or "",
        }
        if early is not None:
            records.append({**_empty_record(), **base, **early})
            continue
        ran = [(check, *next(outcomes)) for check in checks]
        records.append({**_summarise(case, ran), **base})
    return records


def cache_key(case: dict[str, Any], tests: dict[str, str] | None, config: ExecutionConfig) -> str:
    """sha256 over what determines a case's result: its programs (or, when none can be built,
    its code fields and tests), the expectations, the toolchains' versions, the timeout and the
    layout version."""
    try:
        checks = [
            [c.name, c.language, c.expected, c.program.solution, c.program.test]
            for c in build_checks(case, tests)
        ]
    except (ValueError, KeyError):
        fields = ("task", "language", "target_language", "input", "output", "source_code")
        checks = [{name: case.get(name) for name in fields}, tests or {}]
    languages = [sandbox_name(lang) or lang for lang in case_languages(case)]
    payload = {
        "layout": LAYOUT_VERSION,
        # A toolchain installed or upgraded since decides the result anew.
        "toolchains": [toolchain_label(lang) for lang in languages],
        "timeout_s": float(config.timeout_s),
        "languages": case_languages(case),
        "checks": checks,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plan(case, tests) -> tuple[list[Check], dict[str, Any] | None]:
    """The case's checks, or its record's status and reason when nothing can run."""
    for language in case_languages(case):
        reason = unsupported_reason(language)
        if reason:
            return [], {"status": SKIPPED, "reason": reason}
    if case.get("task") != "summarization" and not tests:
        return [], {"status": ERROR, "reason": NO_TESTS}
    try:
        return build_checks(case, tests), None
    except (ValueError, KeyError) as exc:
        reason = NO_TESTS if str(exc).startswith("no ") else f"cannot build the checks: {exc}"
        return [], {"status": ERROR, "reason": reason}


class _RecordingSandbox:
    """The sandbox, remembering the last result it returned (the check's own run)."""

    def __init__(self, sandbox):
        self._sandbox = sandbox
        self.last: SandboxResult | None = None

    @property
    def kind(self) -> str:
        return self._sandbox.kind

    def run(self, job) -> SandboxResult:
        self.last = self._sandbox.run(job)
        return self.last


def _run_check(check: Check, sandbox, timeout_s: float):
    """(CheckResult, the check's SandboxResult or None, seconds) of one check."""
    recorder = _RecordingSandbox(sandbox)
    canary = canary_program(check.language)
    started = time.monotonic()
    try:
        result = check_programs(
            [check.program],
            recorder,
            timeout_s=timeout_s,
            workers=1,
            canaries={check.language: canary} if canary else None,
        )[0]
    except Exception as exc:  # one case's bug in building its job must not end the batch
        log.exception("%s check %r could not run", check.language, check.name)
        result = CheckResult(False, f"failed: sandbox error: internal: {exc!r}"[:600])
    return result, recorder.last, time.monotonic() - started


_WARNED: set[str] = set()


def _missing_toolchains(languages: Iterable[str]) -> dict[str, str]:
    """Sandbox language -> why its toolchain is missing, for those of `languages` without one
    (warned once per language and process: the generation loop asks case by case)."""
    missing = {}
    for language in sorted(languages):
        try:
            LANGUAGES[language].toolchain()
        except ToolchainMissing as exc:
            missing[language] = str(exc)
            if language not in _WARNED:
                _WARNED.add(language)
                log.warning("execution skips %s cases: %s", LANGUAGES[language].display, exc)
    return missing


def _summarise(case, ran: list[tuple[Check, CheckResult, SandboxResult | None, float]]):
    checks = [
        {
            "name": check.name,
            "language": check.language,
            "expected": check.expected,
            "passed": result.passed,
            "result": result.result,
        }
        for check, result, _, _ in ran
    ]
    status, reason, telling = _status(case, ran)
    _, result, sandboxed, _ = telling
    stdout, stderr = _tails(sandboxed)
    if not stderr and not result.passed:
        stderr = result.result[-TAIL_CHARS:]
    return {
        "status": status,
        "reason": reason,
        "checks": checks,
        "toolchain": ", ".join(dict.fromkeys(toolchain_label(c.language) for c, *_ in ran)),
        "duration_s": round(sum(seconds for *_, seconds in ran), 3),
        "stdout_tail": stdout,
        "stderr_tail": stderr,
    }


def _status(case, ran):
    """(status, reason, the run whose output the record shows)."""
    for item in ran:
        if _unchecked(item[1]):
            return ERROR, f"{UNCHECKED}: {item[0].name}: {item[1].result}", item
    for item in ran:
        if item[1].skipped:
            return SKIPPED, item[1].result.removeprefix("skipped: "), item
    missed = [item for item in ran if item[1].passed != (item[0].expected == PASS)]
    if not missed:
        done = NOT_APPLICABLE if case.get("task") == "summarization" else PASSED
        return done, "", ran[-1]
    first = next((i for i in missed if i[1].result.startswith("timed out")), missed[0])
    check, result = first[0], first[1]
    if check.expected == PASS:
        reason = f"{check.name}: {result.result}"
    else:
        reason = f"{check.name}: it passed them (not fail-to-pass)"
    status = TIMEOUT if result.result.startswith("timed out") else FAILED
    return status, reason, first


def _tails(result: SandboxResult | None) -> tuple[str, str]:
    if result is None:
        return "", ""
    marker = result.marker or "\0"
    stdout = result.stdout.replace(marker, "").strip()
    steps = [
        f"[{r['step']}] {(r.get('output') or r.get('error') or '').strip()}"
        for r in result.reports
        if "step" in r and (r.get("output") or r.get("error"))
    ]
    stderr = "\n".join([*steps, result.stderr.replace(marker, "").strip()]).strip()
    return stdout[-TAIL_CHARS:], stderr[-TAIL_CHARS:]


def _empty_record() -> dict[str, Any]:
    return {
        "status": ERROR,
        "reason": "",
        "tests": {},
        "checks": [],
        "language": "",
        "toolchain": "",
        "duration_s": 0.0,
        "stdout_tail": "",
        "stderr_tail": "",
    }


_VERSION_LOCK = threading.Lock()


@cache
def toolchain_label(language: str) -> str:
    """The toolchain of sandbox language `language` with its version, e.g. "go version go1.22.1
    linux/amd64"; "<Language>: not installed" when its probe fails."""
    if language not in LANGUAGES:
        return f"{language}: no sandbox language"
    display = LANGUAGES[language].display
    if language == "python":
        return f"Python {platform.python_version()}"
    try:
        toolchain = LANGUAGES[language].toolchain()
        version = getattr(toolchain, "version", None)
        if version:
            return str(version)
        argv = _VERSION_COMMANDS.get(language)
        if argv is None:
            return display
        with _VERSION_LOCK:
            first = command_output(argv).strip().splitlines()
        line = first[0] if first else ""
        return line if line.startswith(argv[0]) else f"{argv[0]} {line}".strip()
    except (ToolchainMissing, KeyError) as exc:
        return f"{display}: not installed ({exc})"
