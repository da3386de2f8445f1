"""Run untrusted programs under bubblewrap: no network, read-only host, bounded everything.

Threat model: the program (model output plus benchmark tests) is hostile until proven otherwise.
Each run is one `bwrap` process tree with

- new network, PID, IPC, UTS and cgroup namespaces (no network at all, only its own processes,
  everything killed when its PID 1 dies: background processes cannot outlive the run);
- a private tmpfs of `tmpfs_bytes` as the only writable place (``/tmp``, also ``HOME``); the host
  is visible read-only and only in part: ``/usr`` and its merged-usr links, a few files of
  ``/etc``, the Python prefix and the toolchain folders the language needs; never ``/root``,
  ``/home`` or the evaluator's working tree;
- an empty environment apart from ``PATH``, ``HOME``, ``LANG`` and the language's own settings
  (no tokens, no proxies);
- limits: wall seconds (the whole tree is SIGKILLed), CPU seconds, address-space or data bytes per
  process, processes (RLIMIT_NPROC, counted for a uid used by this run only), bytes per written
  file, open files, and bytes of stdout+stderr read back (more kills the run);
- no new privileges (bwrap sets NO_NEW_PRIVS), all capabilities dropped before the program runs.

Limits are rlimits, per process: memory in total is bounded by processes x memory plus the tmpfs
size, not by a cgroup; there is no seccomp filter (the kernel's full syscall surface is reachable
from inside the namespaces).

When the evaluator runs as root, bwrap keeps CAP_SETUID/CAP_SETGID only for `sandbox_init.py`,
which switches to a fresh unprivileged uid per run; otherwise bwrap maps the caller's uid in a new
user namespace and forbids nested ones. `sandbox_init.py` documents the Python verdict protocol.

Without `bwrap` the sandbox refuses to run unless constructed with ``unsafe_no_sandbox=True``
(``--unsafe-no-sandbox``): the same launcher, verdicts and rlimits, but in the host namespaces,
with the evaluator's uid and environment-free, in a temporary folder: nothing stops writes, network
or background processes (and RLIMIT_NPROC does not bind root).
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from evaluation.bwrap import BASE_PATH, bwrap_argv, launcher_env, site_packages, step_env
from pipeline.errors import UserError

INIT_SCRIPT = Path(__file__).with_name("sandbox_init.py")
INIT_IN_SANDBOX = "/sandbox/init.py"
WORKDIR_IN_SANDBOX = "/tmp/work"
# Per-run uids when running as root: far above real users and the usual subuid ranges.
UID_BASE = 2_100_000_000
UID_SPAN = 100_000_000
GiB = 1 << 30
MiB = 1 << 20


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the program): bwrap could not start, the job was broken."""


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
    """What to run: either a Python check (`python_head` + `python_tail`) or `steps`."""

    files: dict = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    python_head: str | None = None
    python_tail: str = ""
    env: dict = field(default_factory=dict)
    ro_binds: tuple[str, ...] = ()
    limits: SandboxLimits = field(default_factory=SandboxLimits)


@dataclass
class SandboxResult:
    """Outcome of one run. `reports`: JSON records from the launcher (nonce-checked for Python)."""

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


def find_bwrap() -> str | None:
    """Path of the `bwrap` executable, or None."""
    return shutil.which("bwrap")


class Sandbox:
    """Runs `SandboxJob`s under bwrap (or, only when asked, unsandboxed)."""

    def __init__(self, *, unsafe_no_sandbox: bool = False, bwrap: str | None = None):
        self.bwrap = bwrap or find_bwrap()
        self.unsafe = unsafe_no_sandbox
        self.as_root = os.geteuid() == 0
        if self.bwrap is None and not self.unsafe:
            raise UserError(
                "bubblewrap (`bwrap`) is not installed, and model code is never run without a "
                "sandbox by default. Install it (`apt-get install bubblewrap`, or run "
                "scripts/setup.sh), or pass --unsafe-no-sandbox to run it on this host at your risk."
            )

    @property
    def kind(self) -> str:
        return "none (unsafe)" if self.unsafe else "bwrap"

    def run(self, job: SandboxJob) -> SandboxResult:
        """Run `job`; never raises for the program's behaviour, only for a broken sandbox."""
        nonce = secrets.token_hex(16)
        # Unsafe runs keep the evaluator's uid: a fresh uid could not read an interpreter under
        # /root, and nothing is mounted for it.
        uid = UID_BASE + secrets.randbelow(UID_SPAN) if self.as_root and not self.unsafe else None
        report_r, report_w = os.pipe()
        hostdir = None
        try:
            if self.unsafe:
                hostdir = tempfile.mkdtemp(prefix="wavecoder-unsafe-")
                workdir = hostdir
            else:
                workdir = WORKDIR_IN_SANDBOX
            spec = self._spec(job, nonce, uid, report_w, workdir)
            argv = self._argv(job) if not self.unsafe else self._unsafe_argv()
            result = self._execute(argv, spec, job, report_r, report_w)
        finally:
            os.close(report_r)
            if hostdir:
                shutil.rmtree(hostdir, ignore_errors=True)
        result.nonce = nonce
        if uid is not None:
            result.leftovers_killed = kill_uid_processes(uid)
        broken = any(
            r.get("status") == "sandbox-error" and r.get("nonce") == nonce for r in result.reports
        )
        if broken or _bwrap_failed(result):
            detail = next((r.get("error") for r in result.reports if "error" in r), None)
            raise SandboxError(
                f"the sandbox could not run the job: {detail or result.stderr[-500:]}"
            )
        return result

    def _spec(self, job, nonce, uid, report_w, workdir) -> bytes:
        limits = asdict(job.limits)
        spec = {
            "nonce": nonce,
            "report_fd": report_w,
            "uid": uid,
            "workdir": workdir,
            "files": job.files,
            "limits": limits,
            "env": step_env(job.env),
            "steps": [asdict(s) for s in job.steps],
            "python": None,
        }
        if job.python_head is not None:
            spec["python"] = {"head": job.python_head, "tail": job.python_tail}
        spec["sys_path"] = site_packages()
        return marshal.dumps(spec)

    def _argv(self, job: SandboxJob) -> list[str]:
        return bwrap_argv(
            self.bwrap,
            job,
            as_root=self.as_root,
            init_script=str(INIT_SCRIPT),
            init_in_sandbox=INIT_IN_SANDBOX,
        )

    def _unsafe_argv(self) -> list[str]:
        return [sys.executable, "-I", "-S", str(INIT_SCRIPT)]

    def _execute(self, argv, spec, job, report_r, report_w) -> SandboxResult:
        limits = job.limits
        wall = limits.wall_s + sum(step.timeout_s for step in job.steps)
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(report_w,),
            start_new_session=True,
            env=launcher_env() if self.unsafe else {"PATH": BASE_PATH},
            cwd="/",
        )
        os.close(report_w)
        try:
            proc.stdin.write(spec)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        streams = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
        report = bytearray()
        timed_out = exceeded = False
        with selectors.DefaultSelector() as selector:
            for fd in (*streams, report_r):
                selector.register(fd, selectors.EVENT_READ)
            open_fds = len(streams) + 1
            while open_fds:
                left = started + wall - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                for key, _ in selector.select(timeout=min(left, 1.0)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fd)
                        open_fds -= 1
                    elif key.fd == report_r:
                        report += chunk[: 1 * MiB - len(report)]
                    else:
                        streams[key.fd] += chunk
                if sum(len(b) for b in streams.values()) > limits.output_bytes:
                    exceeded = True
                    break
        if timed_out or exceeded:
            _kill_group(proc.pid)
        code = proc.wait()
        out, err = (bytes(streams[s.fileno()]) for s in (proc.stdout, proc.stderr))
        proc.stdout.close()
        proc.stderr.close()
        return SandboxResult(
            exit_code=code if code >= 0 else None,
            signal=-code if code < 0 else None,
            timed_out=timed_out,
            output_exceeded=exceeded,
            stdout=out[: limits.output_bytes].decode("utf-8", "replace"),
            stderr=err[: limits.output_bytes].decode("utf-8", "replace"),
            reports=_parse_reports(report),
            wall_s=time.monotonic() - started,
        )

    def self_check(self) -> None:
        """Run a trivial passing and failing check; raise UserError when the sandbox is broken."""
        try:
            ok = self.run(SandboxJob(python_head="x = 1\n", python_tail="\nassert x == 1\n"))
            bad = self.run(SandboxJob(python_head="x = 1\n", python_tail="\nassert x == 2\n"))
        except SandboxError as exc:
            raise UserError(
                f"{exc}. Check that `bwrap --unshare-all true` works on this host (user namespaces "
                "enabled), or pass --unsafe-no-sandbox at your risk."
            ) from exc
        if python_passed(ok) is not True or python_passed(bad) is not False:
            raise UserError(
                "the sandbox self-check failed (a trivial program was judged wrongly): "
                f"{ok.stderr[-300:]} {bad.stderr[-300:]}"
            )


def python_passed(result: SandboxResult) -> bool | None:
    """True/False from the nonce-signed Python verdict; None when there is no valid verdict."""
    verdicts = [r.get("status") for r in result.reports if r.get("nonce") == result.nonce]
    if "failed" in verdicts:
        return False
    if "passed" in verdicts and result.exit_code == 0 and not result.output_exceeded:
        return True
    return None


def _parse_reports(raw: bytes) -> list:
    """Launcher report lines as dicts; lines that are not well formed are ignored."""
    records = []
    for line in raw.decode("utf-8", "replace").splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "PY":
            nonce, _, verdict = rest.partition(" ")
            status, _, error = verdict.partition(" ")
            error = re.sub(r"\\(\\|n)", lambda m: "\n" if m.group(1) == "n" else "\\", error)
            records.append({"nonce": nonce, "status": status, "error": error})
        elif kind == "STEP":
            try:
                record = json.loads(rest)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        elif kind == "ERROR":
            nonce, _, error = rest.partition(" ")
            records.append({"nonce": nonce, "status": "sandbox-error", "error": error})
    return records


def _bwrap_failed(result: SandboxResult) -> bool:
    return not result.reports and result.stderr.startswith("bwrap:")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def kill_uid_processes(uid: int) -> int:
    """SIGKILL every process whose real uid is `uid`; return how many were found."""
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        uids = next(
            (line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")), []
        )
        if str(uid) in uids:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    return killed


def run_sandboxed(job: SandboxJob, sandbox: Sandbox | None = None) -> SandboxResult:
    """Run one job in `sandbox` (a default bwrap sandbox when None)."""
    return (sandbox or Sandbox()).run(job)


def with_limits(job: SandboxJob, **changes) -> SandboxJob:
    """`job` with some of its limits changed (keys of SandboxLimits)."""
    return replace(job, limits=replace(job.limits, **changes))
