"""Check many programs in the sandbox, in parallel over a bounded pool of workers.

Each program runs in its own sandbox (one bwrap process tree); `workers` of them run at once
(default: the CPU cores this process may use). Before any sample of a language runs, a known-good
program of that language (the benchmark's canonical solution of its first task) must pass: a
language whose toolchain is missing, or installed but failing that program, yields a counted skip
per program, with the reason, never a silent 0%. Canary results are cached per process.

One program never stops the run: a job the sandbox itself could not run (`SandboxError`) is that
program's failure ("failed: sandbox error: ...").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from evaluation.languages import LANGUAGES, Program, ToolchainMissing
from evaluation.sandbox import Sandbox, SandboxError

log = logging.getLogger(__name__)
# (language, toolchain, canary program, sandbox kind, timeout) -> failure reason or None.
_CANARY_RESULTS: dict[tuple, str | None] = {}
_CANARY_LOCK = threading.Lock()


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one program: `result` is "passed", "failed: ...", "timed out" or "skipped: ..."."""

    passed: bool
    result: str
    skipped: bool = False


def default_workers() -> int:
    """CPU cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_program(program: Program, sandbox: Sandbox, toolchain, timeout_s: float) -> CheckResult:
    """Check one program; a sandbox failure is this program's failure, never an exception."""
    language = LANGUAGES[program.language]
    try:
        result = sandbox.run(language.job(program, timeout_s, toolchain))
    except SandboxError as exc:
        log.warning("%s program: %s", language.display, exc)
        return CheckResult(False, f"failed: sandbox error: {exc}")
    return CheckResult(*language.verdict(result))


def check_programs(
    programs: Sequence[Program],
    sandbox: Sandbox,
    *,
    timeout_s: float,
    workers: int | None = None,
    canaries: Mapping[str, Program] | None = None,
) -> list[CheckResult]:
    """Results in the order of `programs`; `timeout_s`: wall seconds for each test run;
    `canaries`: per language, a program that must pass before that language is scored."""
    toolchains, missing = {}, {}
    for name in sorted({p.language for p in programs}):
        try:
            toolchains[name] = LANGUAGES[name].toolchain()
        except ToolchainMissing as exc:
            missing[name] = str(exc)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        checked = [name for name in toolchains if canaries and name in canaries]

        def canary(name: str) -> str | None:
            return _canary_failure(canaries[name], sandbox, toolchains[name], timeout_s)

        for name, failure in zip(checked, pool.map(canary, checked), strict=True):
            if failure:
                missing[name] = failure
        for name, reason in missing.items():
            log.warning("skipping %s programs: %s", name, reason)

        def check(program: Program) -> CheckResult:
            if program.language in missing:
                return CheckResult(False, f"skipped: {missing[program.language]}", skipped=True)
            return run_program(program, sandbox, toolchains[program.language], timeout_s)

        results = list(pool.map(check, programs))
    log.info(
        "checked %d programs in %.1f s (%d passed, %d skipped)",
        len(results),
        time.monotonic() - started,
        sum(r.passed for r in results),
        sum(r.skipped for r in results),
    )
    return results


def _canary_failure(program: Program, sandbox: Sandbox, toolchain, timeout_s: float) -> str | None:
    """None when the known-good `program` passes; else why its language cannot be scored."""
    key = (program.language, toolchain, program, sandbox.kind, timeout_s)
    with _CANARY_LOCK:
        if key in _CANARY_RESULTS:
            return _CANARY_RESULTS[key]
    outcome = run_program(program, sandbox, toolchain, timeout_s)
    failure = None
    if not outcome.passed:
        display = LANGUAGES[program.language].display
        failure = (
            f"the {display} toolchain fails a known-good program (a canonical solution): "
            f"{outcome.result[:300]}"
        )
    if outcome.result.startswith(("timed out", "failed: sandbox error")):
        # A machine under load, or a sandbox that failed this once: the next program tries the
        # canary again instead of skipping its language for the rest of the process.
        return failure
    with _CANARY_LOCK:
        _CANARY_RESULTS[key] = failure
    return failure
