"""The recipe's ``execution`` section: whether generated cases are run in the sandbox, and how.

Every key is a dataclass field documented once here, in the style of `pipeline.recipe`;
`validate_execution` raises a `UserError` naming the key for a value out of range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluation.execution import default_workers
from wavecoder.errors import UserError

MODES = ("filter", "annotate")


# The niceness of sandboxed programs: the generation loop's own process (the LLM calls, which need
# little CPU but need it at once) always runs before them, so execution never starves the calls.
SANDBOX_NICE = 10


def every_core() -> int:
    """The CPU cores this process may use: sandbox runs take whatever CPU the LLM calls leave,
    since they run at a lower priority (`SANDBOX_NICE`)."""
    return default_workers()


@dataclass
class ExecutionConfig:
    """Sandboxed execution of every generated case (pipeline/execution/README.md)."""

    # Run the cases at all; off by default (it needs bubblewrap and the toolchains).
    enabled: bool = False
    # `filter`: a case whose status is not `passed` (or `not_applicable`) is rejected with stage
    # `execution`; `annotate`: every case is kept and only its `execution` column records the run.
    mode: str = "filter"
    # Wall seconds for each test run in the sandbox (compiling has its own, longer bound).
    timeout_s: float = 10.0
    # Sandbox runs at once; default every core: they run at a lower priority (nice 10) than the
    # LLM calls, which keep the CPU they need.
    workers: int = field(default_factory=every_core)
    # At most this many checks the tester is asked to write per case (per language).
    max_tests: int = 5


def validate_execution(config: ExecutionConfig, where: str = "execution") -> None:
    """Raise UserError naming the key (`where.key`) and the allowed values for a bad setting."""
    if not isinstance(config.enabled, bool):
        raise UserError(f"{where}.enabled must be true or false, got {config.enabled!r}")
    if config.mode not in MODES:
        raise UserError(f"{where}.mode must be one of {list(MODES)}, got {config.mode!r}")
    if (
        isinstance(config.timeout_s, bool)
        or not isinstance(config.timeout_s, (int, float))
        or not 0 < config.timeout_s <= 600
    ):
        raise UserError(f"{where}.timeout_s must be in (0, 600] seconds, got {config.timeout_s!r}")
    if (
        isinstance(config.workers, bool)
        or not isinstance(config.workers, int)
        or config.workers < 1
    ):
        raise UserError(f"{where}.workers must be an integer of at least 1, got {config.workers!r}")
    if (
        isinstance(config.max_tests, bool)
        or not isinstance(config.max_tests, int)
        or not 1 <= config.max_tests <= 50
    ):
        raise UserError(
            f"{where}.max_tests must be an integer in [1, 50], got {config.max_tests!r}"
        )
