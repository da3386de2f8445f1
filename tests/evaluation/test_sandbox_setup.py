"""The sandbox's set-up: failures of one job never stop a run, broken toolchains and old bwrap
are reported as such, and the host outside the tmpfs stays read-only for a non-root evaluator."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from evaluation import execution
from evaluation.benchmarks import get_benchmark
from evaluation.execution import check_programs
from evaluation.languages import LANGUAGES, Program, Toolchain, ToolchainMissing
from evaluation.sandbox import Sandbox, SandboxError
from evaluation.sandbox.bwrap import python_paths
from evaluation.scoring import score_samples
from evaluation.toolchain_probe import command_output, jdk_links_outside_usr
from wavecoder.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def test_a_job_the_sandbox_cannot_run_is_a_failed_row(sandbox, monkeypatch):
    original = sandbox.run

    def run(job):
        if "BREAK_THE_SANDBOX" in (job.python_head or ""):
            raise SandboxError("the sandbox could not run the job: bwrap: cannot mount")
        return original(job)

    monkeypatch.setattr(sandbox, "run", run)
    programs = [
        Program("python", "x = 1  # BREAK_THE_SANDBOX\n", "assert x == 1\n"),
        Program("python", "x = 1\n", "assert x == 1\n"),
    ]
    results = check_programs(programs, sandbox, timeout_s=5.0, workers=2)
    assert [r.passed for r in results] == [False, True]
    assert results[0].result == (
        "failed: sandbox error: the sandbox could not run the job: bwrap: cannot mount"
    )


def _executable(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_bwrap_too_old_is_a_user_error(tmp_path):
    fake = _executable(tmp_path, "bwrap", "echo 'bubblewrap 0.6.1'\n")
    with pytest.raises(
        UserError, match=r"bubblewrap 0\.6\.1 .* too old: the sandbox needs 0\.[78]\.0"
    ):
        Sandbox(bwrap=str(fake))


def test_broken_sandbox_start_is_a_sandbox_error(tmp_path):
    fake = _executable(
        tmp_path,
        "bwrap",
        'case "$1" in --version) echo bubblewrap 0.8.0;; *) echo "bwrap: no" >&2; exit 1;; esac\n',
    )
    sandbox = Sandbox(bwrap=str(fake))
    python = LANGUAGES["python"]
    job = python.job(Program("python", "x = 1\n", ""), 5.0, python.toolchain())
    with pytest.raises(SandboxError, match="bwrap: no"):
        sandbox.run(job)
    with pytest.raises(UserError, match="Check that `bwrap --unshare-all true` works"):
        sandbox.self_check()


def test_installed_but_failing_toolchain_is_a_counted_skip(sandbox, humanevalpack_dir, monkeypatch):
    """A `node` that runs but fails everything: skipped with the reason, not a silent 0%. (The
    fake `node` stands in for the real one, which need not be installed.)"""
    # Outside /tmp (the sandbox's own tmpfs), readable by the run's uid.
    folder = Path(tempfile.mkdtemp(dir="/var/tmp"))
    try:
        folder.chmod(0o755)
        _executable(folder, "node", "exit 1\n")
        broken = Toolchain(path=(str(folder),), ro_binds=(str(folder),))
        monkeypatch.setattr(LANGUAGES["js"], "toolchain", lambda: broken)
        benchmark = get_benchmark("humanevalfix")
        problems = benchmark.load("js", str(humanevalpack_dir))
        samples = [
            {
                "task_id": p.task_id,
                "completion": benchmark.prompt_base(p) + p.data["canonical_solution"],
            }
            for p in problems.values()
        ]
        scored = score_samples(benchmark, problems, samples, sandbox, workers=2)
    finally:
        shutil.rmtree(folder)
    assert [r["passed"] for r in scored.rows] == [False, False]
    for row in scored.rows:
        assert row["result"].startswith(
            "skipped: the JavaScript toolchain fails a known-good program (a canonical solution)"
        ), row["result"]
    assert scored.summary["n_skipped"] == 2 and "pass@1" not in scored.summary


def test_canary_runs_once_per_process(sandbox, monkeypatch):
    calls = []
    original = execution.run_program

    def counting(program, *args):
        calls.append(program)
        return original(program, *args)

    monkeypatch.setattr(execution, "run_program", counting)
    monkeypatch.setattr(execution, "_CANARY_RESULTS", {})
    canary = Program("python", "def f():\n    return 1\n", "assert f() == 1\n")
    program = Program("python", "def f():\n    return 2\n", "assert f() == 1\n")
    for _ in range(2):
        (result,) = check_programs([program], sandbox, timeout_s=5.0, canaries={"python": canary})
        assert result.result == "failed: AssertionError"
    assert calls.count(canary) == 1 and calls.count(program) == 2


def test_toolchain_probes_fail_as_missing_toolchains():
    with pytest.raises(ToolchainMissing, match="failed \\(exit 1\\)"):
        command_output(("false",))
    with pytest.raises(ToolchainMissing, match="could not run"):
        command_output(("wavecoder-no-such-compiler", "--version"))


def test_jdk_configuration_links_are_resolved_not_hard_coded(require_toolchain):
    require_toolchain("java")
    java = shutil.which("java")
    binds = jdk_links_outside_usr(java)
    home = Path(os.path.realpath(java)).parent.parent
    for link in (home / "conf").rglob("*"):
        if link.is_symlink() and not os.path.realpath(link).startswith("/usr/"):
            target = os.path.realpath(link)
            assert any(target.startswith(b + "/") for b in binds), (link, binds)


def test_the_sandbox_binds_nothing_of_the_checkout(sandbox):
    """bwrap gets the launcher through a descriptor: no bind of the evaluator's working tree, so
    a checkout that the sandbox's uid may not read (a private home folder) does not matter."""
    python = LANGUAGES["python"]
    job = python.job(Program("python", "x = 1\n", ""), 5.0, python.toolchain())
    argv = sandbox._argv(job, init_fd=7, seccomp_fd=None)
    package = str(Path(execution.__file__).parent)
    assert [a for a in argv if a.startswith(package)] == []
    index = argv.index("--ro-bind-data")
    assert argv[index + 1 : index + 3] == ["7", "/sandbox/init.py"]


def test_sandbox_python_path_holds_numpy():
    numpy = Path(importlib.util.find_spec("numpy").origin).parent.parent
    assert str(numpy) in python_paths()


# What the uid-65534 process imports; from a world-readable copy of the modules it needs, never from
# the checkout, which that uid may not read (a clone in root's private home folder).
NON_ROOT_IMPORTS = """
from evaluation.languages import LANGUAGES, Program
from evaluation.sandbox.runner import INIT_SCRIPT, Sandbox
"""
NON_ROOT_SCRIPT = (
    """
import json, sys
sys.path.insert(0, sys.argv[1])
"""
    + NON_ROOT_IMPORTS
    + """
repo = sys.argv[3]
loaded = [m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)]
assert not [f for f in loaded if f.startswith(repo + "/")], loaded
python = LANGUAGES["python"]
sandbox = Sandbox()
programs = json.loads(sys.argv[2])
results = {}
for name, code in programs.items():
    job = python.job(Program("python", code, ""), 5.0, python.toolchain())
    results[name] = python.verdict(sandbox.run(job))
print(json.dumps(results))
"""
)
NON_ROOT_PROGRAMS = {
    "uid": "import os\nraise RuntimeError(os.getuid())",
    "root": "open('/owned', 'w').write('x')",
    "dev": "open('/dev/owned', 'w').write('x')",
    "dev shm": "f = open('/dev/shm/big', 'wb')\nfor _ in range(64):\n    f.write(b'x' * 2 ** 20)",
    "user namespace": (
        "import subprocess\n"
        "done = subprocess.run(['unshare', '-Ur', 'true'], capture_output=True)\n"
        "raise RuntimeError(done.stderr.decode().strip())"
    ),
    "correct": "x = 1",
}


AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
# The folders the sandbox binds for an interpreter must be readable by the caller.
PROBE = (
    "import os, sys; "
    "real = os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))); "
    "[os.listdir(p) for p in {sys.prefix, sys.base_prefix, real}]"
)


def _nobody_python() -> str | None:
    """An interpreter uid 65534 can run with its own prefix (this one may live under /root)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run([*AS_NOBODY, candidate, "-I", "-c", PROBE], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def _readable_copy(python: str, folder: Path) -> None:
    """Copy into `folder`, readable by every uid, the checkout's modules that NON_ROOT_IMPORTS
    loads under `python`, and the launcher script the sandbox sends into bwrap."""
    listing = (
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\n{NON_ROOT_IMPORTS}\n"
        "files = [m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)]\n"
        "print('\\n'.join([*files, str(INIT_SCRIPT)]))\n"
    )
    done = subprocess.run([python, "-I", "-c", listing], capture_output=True, text=True, check=True)
    for name in done.stdout.splitlines():
        path = Path(name).resolve()
        if REPO in path.parents:
            target = folder / path.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_non_root_sandbox_writes_only_its_tmpfs():
    """Run as uid 65534 (the non-root path: bwrap maps the caller in a user namespace), from a
    copy of the modules it needs: it must not read the checkout, which may be private to root."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to uid 65534 (setpriv)")
    if shutil.which("setpriv") is None or shutil.which("bwrap") is None:
        pytest.skip("needs setpriv (util-linux) and bwrap")
    python = _nobody_python()
    if python is None:
        pytest.skip("no Python interpreter that uid 65534 may run")
    folder = Path(tempfile.mkdtemp(prefix="wavecoder-non-root-", dir="/tmp"))
    try:
        _readable_copy(python, folder)
        argv = [python, "-I", "-c", NON_ROOT_SCRIPT, str(folder), json.dumps(NON_ROOT_PROGRAMS)]
        done = subprocess.run(
            [*AS_NOBODY, *argv, str(REPO)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
        )
    finally:
        shutil.rmtree(folder)
    if "user namespace" in done.stderr and "bwrap" in done.stderr:
        pytest.skip(f"unprivileged user namespaces are disabled here: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr
    results = {name: tuple(v) for name, v in json.loads(done.stdout).items()}
    assert results["uid"] == (False, "failed: RuntimeError: 65534")
    assert "Read-only file system: '/owned'" in results["root"][1]
    assert "Read-only file system: '/dev/owned'" in results["dev"][1]
    assert "No space left on device" in results["dev shm"][1]
    assert "Operation not permitted" in results["user namespace"][1]
    assert results["correct"] == (True, "passed")
