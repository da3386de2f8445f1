"""Run untrusted programs under bubblewrap: no network, read-only host, bounded everything.

Threat model: the program (model output plus benchmark tests) is hostile until proven otherwise.
Each run is one `bwrap` process tree with

- new network, PID, IPC, UTS and cgroup namespaces (no network at all, only its own processes,
  everything killed when its PID 1 dies: background processes cannot outlive the run);
- a private tmpfs of `tmpfs_bytes` (``/tmp``, also ``HOME``) and a ``/dev/shm`` of `shm_bytes`
  as the only writable places: the root and ``/dev`` are remounted read-only, so this holds for
  the caller's own uid too (non-root mode); the host is visible read-only and only in part (see
  `bwrap`); never ``/root``, ``/home`` or the evaluator's working tree;
- an empty environment apart from ``PATH``, ``HOME``, ``LANG`` and the language's own settings
  (no tokens, no proxies);
- limits: wall seconds (the whole tree is SIGKILLed), CPU seconds, address-space or data bytes per
  process, processes (RLIMIT_NPROC, counted for this run's uid or user namespace only), bytes per
  written file, open files, and bytes of stdout+stderr read back (more kills the run);
- a seccomp filter (`seccomp`): no new user namespaces (no private mounts, so no tmpfs outside the
  limits), no ptrace or cross-process memory access, no keyrings, bpf or perf events;
- no new privileges (bwrap sets NO_NEW_PRIVS), all capabilities dropped before the program runs.

Limits are rlimits, per process: memory in total is bounded by processes x memory plus the two
tmpfs sizes, not by a cgroup; apart from the seccomp deny list the kernel's syscall surface is
reachable from inside the namespaces.

Modules: `runner` (`Sandbox`: one job, one bwrap process tree, the result read back), `bwrap`
(the command line: namespaces, mounts, environment; `find_bwrap`), `seccomp` (the filter), `init`
(the launcher that runs inside the sandbox: limits, uid, the Python verdict protocol) and `job`
(what a run is given and returns). `evaluation.languages` builds the jobs and judges the results.
"""

from evaluation.sandbox.bwrap import find_bwrap
from evaluation.sandbox.job import (
    GiB,
    MiB,
    SandboxError,
    SandboxJob,
    SandboxLimits,
    SandboxResult,
    Step,
    python_passed,
    signal_name,
)
from evaluation.sandbox.runner import Sandbox, kill_uid_processes

__all__ = [
    "GiB",
    "MiB",
    "Sandbox",
    "SandboxError",
    "SandboxJob",
    "SandboxLimits",
    "SandboxResult",
    "Step",
    "find_bwrap",
    "kill_uid_processes",
    "python_passed",
    "signal_name",
]
