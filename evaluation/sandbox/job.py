"""What a sandboxed run is given (`SandboxJob`, its `Step`s and `SandboxLimits`) and what it
returns (`SandboxResult`), with the Python verdict read from it (`python_passed`).

`evaluation.sandbox.runner` runs jobs; `evaluation.languages` builds them and judges the results.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

GiB = 1 << 30
MiB = 1 << 20


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the program): bwrap or the launcher could not set it up."""


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandboxed run. Times in seconds, sizes in bytes."""

    wall_s: float = 10.0
    cpu_s: int = 10
    memory_bytes: int = 2 * GiB
    # "as": RLIMIT_AS (virtual memory); "data": RLIMIT_DATA, for runtimes that reserve large
    # address ranges without using them (the JVM, V8, Go).
    memory_kind: str = "as"
    processes: int = 32
    output_bytes: int = 1 * MiB
    file_bytes: int = 64 * MiB
    tmpfs_bytes: int = 256 * MiB
    shm_bytes: int = 16 * MiB
    open_files: int = 256


@dataclass(frozen=True)
class Step:
    """One command run inside the sandbox, e.g. compile then run.

    `capture`: keep the step's output apart (its last 4 KiB come back in the report) instead of
    sending it to the run's stdout/stderr; used for compilers. `limits`: overrides of the job's
    rlimits for this step (keys of `SandboxLimits`).
    """

    name: str
    argv: tuple[str, ...]
    timeout_s: float
    capture: bool = False
    limits: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SandboxJob:
    """What to run: either a Python check (`python_head` + `python_tail`) or `steps`.

    `marker`: the line a steps job's test harness prints once every test ran (see
    `evaluation.languages`); copied to the result for the verdict.
    """

    files: dict = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    python_head: str | None = None
    python_tail: str = ""
    env: dict = field(default_factory=dict)
    ro_binds: tuple[str, ...] = ()
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    marker: str = ""


@dataclass
class SandboxResult:
    """Outcome of one run. `reports`: records from the launcher (nonce-checked for Python).

    `exit_code`/`signal`: bwrap's exit status, or the signal that killed it (our timeout kill);
    bwrap exits with 128 + N when the launcher dies of signal N (see `exit_signal`).
    """

    exit_code: int | None
    signal: int | None
    timed_out: bool
    output_exceeded: bool
    stdout: str
    stderr: str
    reports: list = field(default_factory=list)
    nonce: str = ""
    wall_s: float = 0.0
    leftovers_killed: int = 0
    marker: str = ""

    @property
    def exit_signal(self) -> int | None:
        """The signal that ended the run: ours (timeout, output limit) or the launcher's."""
        if self.signal:
            return self.signal
        code = self.exit_code or 0
        return code - 128 if 128 < code < 128 + 65 else None


def python_passed(result: SandboxResult) -> bool | None:
    """True/False from the nonce-signed Python verdict; None when there is no valid verdict."""
    verdicts = [r.get("status") for r in result.reports if r.get("nonce") == result.nonce]
    if "failed" in verdicts:
        return False
    if "passed" in verdicts and result.exit_code == 0 and not result.output_exceeded:
        return True
    return None


def signal_name(number: int) -> str:
    """The name of signal `number` (e.g. SIGKILL), or "signal N" when it has none."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
