"""`Sandbox`: runs one `SandboxJob` as one `bwrap` process tree and reads its result back.

The evaluator reads the launcher (`init.py`, beside this file) and hands bwrap a copy through a
descriptor, with the command line of `bwrap.py`, the seccomp filter of `seccomp.py`, and the job on
the launcher's stdin. When the evaluator runs as root, bwrap keeps CAP_SETUID/CAP_SETGID only for
the launcher, which switches to a fresh unprivileged uid per run (its processes are killed after
the run); otherwise bwrap maps the caller's uid in a new user namespace and forbids nested ones.
`init.py` documents the Python verdict protocol.

A job the sandbox itself could not run raises `SandboxError`. The launcher writes ``READY`` on the
report pipe once the sandbox is set up, before any checked code runs, so a run without it is a
sandbox failure and anything after it is the program's doing: a program cannot fake a broken
sandbox (e.g. by printing ``bwrap: ...`` and exiting).

Without `bwrap` the sandbox refuses to run unless constructed with ``unsafe_no_sandbox=True``
(``--unsafe-no-sandbox``): the same launcher, verdicts and rlimits, but in the host namespaces,
with the evaluator's uid and environment-free, in a temporary folder: nothing stops writes, network
or background processes (and RLIMIT_NPROC does not bind root).
"""

from __future__ import annotations

import contextlib
import json
import logging
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
from dataclasses import asdict
from pathlib import Path

from evaluation.sandbox.bwrap import (
    BASE_PATH,
    bwrap_argv,
    check_version,
    find_bwrap,
    launcher_env,
    python_paths,
    step_env,
)
from evaluation.sandbox.job import MiB, SandboxError, SandboxJob, SandboxResult, python_passed
from evaluation.sandbox.seccomp import seccomp_filter
from wavecoder.errors import UserError

INIT_SCRIPT = Path(__file__).with_name("init.py")
INIT_IN_SANDBOX = "/sandbox/init.py"
WORKDIR_IN_SANDBOX = "/tmp/work"
# Per-run uids when running as root: far above real users and the usual subuid ranges.
UID_BASE = 2_100_000_000
UID_SPAN = 100_000_000
log = logging.getLogger(__name__)


class Sandbox:
    """Runs `SandboxJob`s under bwrap (or, only when asked, unsandboxed)."""

    def __init__(self, *, unsafe_no_sandbox: bool = False, bwrap: str | None = None, nice: int = 0):
        """`nice`: the niceness sandboxed programs run at (coreutils' `nice`), so that a process
        running them beside latency-sensitive work (the generation loop's LLM calls) keeps the
        CPU it needs; 0 = the caller's priority."""
        self.bwrap = bwrap or find_bwrap()
        self.nice = (shutil.which("nice"), nice) if nice else None
        self.unsafe = unsafe_no_sandbox
        self.as_root = os.geteuid() == 0
        self.seccomp = seccomp_filter()
        # Read here, by the evaluator: bwrap gets a copy through a descriptor, so neither it nor
        # the run's uid has to read the checkout this file lives in (see `bwrap.py`).
        self.launcher = INIT_SCRIPT.read_bytes()
        if self.unsafe:
            return
        if self.bwrap is None:
            raise UserError(
                "bubblewrap (`bwrap`) is not installed, and model code is never run without a "
                "sandbox by default. Install it (`apt-get install bubblewrap`, or run "
                "scripts/setup.sh), or pass --unsafe-no-sandbox to run it on this host at your risk."
            )
        check_version(self.bwrap, as_root=self.as_root)
        if self.seccomp is None:
            log.warning(
                "no seccomp filter for this architecture: sandboxed code may use ptrace%s",
                " and create user namespaces" if self.as_root else "",
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
        extra_fds = []
        hostdir = None
        try:
            if self.unsafe:
                hostdir = tempfile.mkdtemp(prefix="wavecoder-unsafe-")
                workdir = hostdir
                argv = self._unsafe_argv()
            else:
                workdir = WORKDIR_IN_SANDBOX
                seccomp_fd = self._seccomp_fd()
                if seccomp_fd is not None:
                    extra_fds.append(seccomp_fd)
                init_fd = _data_fd("wavecoder-launcher", self.launcher)
                extra_fds.append(init_fd)
                argv = self._argv(job, init_fd, seccomp_fd)
            spec = self._spec(job, nonce, uid, report_w, workdir)
            result = self._execute(argv, spec, job, report_r, report_w, tuple(extra_fds))
        finally:
            os.close(report_r)
            for fd in extra_fds:
                os.close(fd)
            if hostdir:
                shutil.rmtree(hostdir, ignore_errors=True)
        result.nonce = nonce
        result.marker = job.marker
        if uid is not None:
            result.leftovers_killed = kill_uid_processes(uid)
        if not any(r.get("status") == "ready" for r in result.reports):
            # The launcher never reached the checked code: only bwrap or the launcher's own set-up
            # can have failed (their messages are the only output so far).
            detail = next((r["error"] for r in result.reports if r.get("error")), None)
            detail = detail or result.stderr.strip()[-500:] or f"exit status {result.exit_code}"
            if result.timed_out:
                detail = f"timed out before the launcher started ({detail})"
            raise SandboxError(f"the sandbox could not run the job: {detail}")
        return result

    def _seccomp_fd(self) -> int | None:
        """A pipe's read end holding the seccomp filter (bwrap reads it to EOF), or None."""
        if self.seccomp is None:
            return None
        read, write = os.pipe()
        try:
            os.write(write, self.seccomp)  # a few hundred bytes: below any pipe buffer
        finally:
            os.close(write)
        return read

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
        spec["sys_path"] = list(python_paths())
        return marshal.dumps(spec)

    def _argv(self, job: SandboxJob, init_fd: int, seccomp_fd: int | None) -> list[str]:
        return bwrap_argv(
            self.bwrap,
            job,
            as_root=self.as_root,
            init_fd=init_fd,
            init_in_sandbox=INIT_IN_SANDBOX,
            seccomp_fd=seccomp_fd,
        )

    def _unsafe_argv(self) -> list[str]:
        return [sys.executable, "-I", "-S", str(INIT_SCRIPT)]

    def _execute(self, argv, spec, job, report_r, report_w, extra_fds=()) -> SandboxResult:
        limits = job.limits
        wall = limits.wall_s + sum(step.timeout_s for step in job.steps)
        started = time.monotonic()
        if self.nice and self.nice[0]:
            argv = [self.nice[0], "-n", str(self.nice[1]), *argv]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(report_w, *extra_fds),
                start_new_session=True,
                env=launcher_env() if self.unsafe else {"PATH": BASE_PATH},
                cwd="/",
            )
        except OSError as exc:
            os.close(report_w)
            raise SandboxError(f"could not start {argv[0]}: {exc}") from exc
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


def _data_fd(name: str, data: bytes) -> int:
    """A descriptor reading `data` from its start (a memfd: no pipe-buffer size limit)."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _parse_reports(raw: bytes) -> list:
    """Launcher report lines as dicts; lines that are not well formed are ignored, and so are
    set-up lines (READY, ERROR) after the first READY: from then on the program could write them.
    """
    records, ready = [], False
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
        elif kind == "READY" and not ready:
            ready = True
            records.append({"status": "ready"})
        elif kind == "ERROR" and not ready:
            nonce, _, error = rest.partition(" ")
            records.append({"nonce": nonce, "status": "sandbox-error", "error": error})
    return records


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
