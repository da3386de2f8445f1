"""The language-independent part of sandboxed checking: a `Program`, the `Language` base class
that turns it into a `SandboxJob` and reads the `SandboxResult` back, and the steps and output
helpers the languages share. The languages themselves are in `evaluation.languages`."""

from __future__ import annotations

import math
import secrets
import shutil
from dataclasses import dataclass

from evaluation.sandbox import (
    GiB,
    MiB,
    SandboxJob,
    SandboxLimits,
    SandboxResult,
    Step,
    signal_name,
)
from evaluation.toolchain_probe import Toolchain, ToolchainMissing

COMPILE_TIMEOUT_S = {"java": 60.0, "cpp": 60.0, "go": 120.0, "rust": 120.0}
ERROR_TAIL_CHARS = 600
MARKER_PREFIX = "wavecoder: all tests ran"


@dataclass(frozen=True)
class Program:
    """`solution` (model code, with whatever the benchmark prepends) followed by `test`."""

    language: str
    solution: str
    test: str


class Language:
    """Base: a compiled or interpreted language run as sandbox steps (compile, run)."""

    name = ""
    display = ""
    file_name = ""
    binaries: tuple[str, ...] = ()
    install_hint = ""
    memory_kind = "as"
    memory_bytes = 2 * GiB
    processes = 32
    tmpfs_bytes = 256 * MiB
    # Seconds the launcher itself may take beyond the steps' own timeouts.
    grace_s = 5.0

    def toolchain(self) -> Toolchain:
        """The installed toolchain, or raise ToolchainMissing."""
        missing = [b for b in self.binaries if shutil.which(b) is None]
        if missing:
            raise ToolchainMissing(
                f"{self.display} toolchain not installed ({', '.join(missing)} not on PATH); "
                f"install it with {self.install_hint}"
            )
        return Toolchain()

    def source(self, program: Program, marker: str) -> str:
        """The file to build: solution, tests, and the code printing `marker` after them."""
        return program.solution + "\n" + program.test + self.end_marker(marker)

    def end_marker(self, marker: str) -> str:
        """Code, appended after the tests, that prints `marker` once all of them ran."""
        raise NotImplementedError

    def steps(self, program: Program, toolchain: Toolchain, timeout_s: float) -> tuple[Step, ...]:
        raise NotImplementedError

    def job(self, program: Program, timeout_s: float, toolchain: Toolchain) -> SandboxJob:
        """The sandbox job checking `program`; `timeout_s` bounds the test run (seconds)."""
        env = dict(toolchain.env)
        env["PATH"] = ":".join([*toolchain.path, "/usr/local/bin:/usr/bin:/bin"])
        marker = f"{MARKER_PREFIX} {secrets.token_hex(16)}"
        files = {self.file_name: self.source(program, marker), **dict(toolchain.files)}
        steps = self.steps(program, toolchain, timeout_s)
        if toolchain.warm_cache:
            copy = ("cp", "-r", toolchain.warm_cache, "/tmp/cache")
            steps = (Step("prepare", copy, 60.0, capture=True), *steps)
        limits = SandboxLimits(
            wall_s=self.grace_s,
            memory_bytes=self.memory_bytes,
            memory_kind=self.memory_kind,
            processes=self.processes,
            tmpfs_bytes=self.tmpfs_bytes,
        )
        return SandboxJob(
            files=files,
            steps=steps,
            env=env,
            ro_binds=toolchain.ro_binds,
            limits=limits,
            marker=marker,
        )

    def verdict(self, result: SandboxResult) -> tuple[bool, str]:
        """(passed, result string) from a steps run: every step exited 0, and the test run
        printed the end marker."""
        if result.output_exceeded:
            return False, "failed: output limit exceeded"
        for record in result.reports:
            if "step" not in record:
                continue
            name, status, code = record["step"], record["status"], record.get("code")
            if status == "timeout":
                return False, "timed out" if name == "run" else f"timed out ({name})"
            if status != "exited" or code != 0:
                detail = (record.get("output") or record.get("error") or "").strip()
                if name != "run":
                    return False, f"failed: {name} error: {detail[-ERROR_TAIL_CHARS:]}"
                why = (
                    f"killed by {signal_name(-code)}"
                    if code and code < 0
                    else f"exit status {code}"
                )
                output = output_tail(result)
                return False, f"failed: {why}: {output}"
        if result.timed_out:
            return False, "timed out"
        ran = [r for r in result.reports if r.get("step") == "run"]
        if not ran or result.exit_code != 0:
            sig = result.exit_signal
            why = f"killed by {signal_name(sig)}" if sig else f"exit {result.exit_code}"
            return False, f"failed: the run did not complete ({why})"
        if not printed(result, result.marker):
            return False, (
                "failed: exited with status 0 before all tests ran (no end marker): "
                + output_tail(result)
            ).rstrip(": ")
        return True, "passed"


def printed(result: SandboxResult, marker: str) -> bool:
    return bool(marker) and (marker in result.stdout or marker in result.stderr)


def output_tail(result: SandboxResult) -> str:
    """The run's stderr, else its stdout, without the end marker: the last characters."""
    marker = result.marker or "\0"
    stderr = result.stderr.replace(marker, "").strip()
    return (stderr or result.stdout.replace(marker, "").strip())[-ERROR_TAIL_CHARS:]


def run_step(argv: tuple[str, ...], timeout_s: float) -> Step:
    return Step("run", argv, timeout_s, limits={"cpu_s": math.ceil(timeout_s) + 1})


def compile_step(language: str, argv: tuple[str, ...]) -> Step:
    timeout = COMPILE_TIMEOUT_S[language]
    return Step("compile", argv, timeout, capture=True, limits={"cpu_s": math.ceil(timeout)})
