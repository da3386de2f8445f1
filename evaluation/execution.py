"""Check many programs in the sandbox, in parallel over a bounded pool of workers.

Each program runs in its own sandbox (one bwrap process tree); `workers` of them run at once
(default: the CPU cores this process may use). A language whose toolchain is missing yields a
counted skip per program, with the reason, and never a pass.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from evaluation.languages import LANGUAGES, Program, ToolchainMissing
from evaluation.sandbox import Sandbox

log = logging.getLogger(__name__)


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


def check_programs(
    programs: Sequence[Program],
    sandbox: Sandbox,
    *,
    timeout_s: float,
    workers: int | None = None,
) -> list[CheckResult]:
    """Results in the order of `programs`; `timeout_s`: wall seconds for each test run."""
    toolchains, missing = {}, {}
    for name in sorted({p.language for p in programs}):
        try:
            toolchains[name] = LANGUAGES[name].toolchain()
        except ToolchainMissing as exc:
            missing[name] = str(exc)
            log.warning("skipping %s programs: %s", name, exc)

    def check(program: Program) -> CheckResult:
        if program.language in missing:
            return CheckResult(False, f"skipped: {missing[program.language]}", skipped=True)
        language = LANGUAGES[program.language]
        job = language.job(program, timeout_s, toolchains[program.language])
        passed, result = language.verdict(sandbox.run(job))
        return CheckResult(passed, result)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        results = list(pool.map(check, programs))
    log.info(
        "checked %d programs in %.1f s (%d passed, %d skipped)",
        len(results),
        time.monotonic() - started,
        sum(r.passed for r in results),
        sum(r.skipped for r in results),
    )
    return results
