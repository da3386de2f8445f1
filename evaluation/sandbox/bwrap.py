"""The bubblewrap command line of one sandboxed run: namespaces, mounts, seccomp and environment;
`find_bwrap` finds the executable.

What the sandbox sees: ``/usr`` (and the merged-usr links ``/bin``, ``/lib``...), a few files of
``/etc`` (dynamic loader, Debian alternatives), the Python prefix and the site-packages folders
the evaluator imports from, the folders a language's toolchain adds (e.g. the ``/etc`` folders its
JDK links to), and the launcher script, all read-only; a minimal ``/dev`` (read-only, with a
``/dev/shm`` tmpfs of ``shm_bytes``), a private tmpfs of ``tmpfs_bytes`` on ``/tmp``, and
``/proc`` for steps jobs only (compilers and runtimes read it; a Python check runs without it,
so that the checked code cannot open the launcher's ``/proc/self/mem``). The root and ``/dev`` are
remounted read-only last, so ``/tmp`` and ``/dev/shm`` are the only writable places whatever the
uid. Never ``/root``, ``/home`` or the evaluator's working tree: even the launcher is a copy that
bwrap reads from a descriptor (``--ro-bind-data``), so a checkout no other uid may read (e.g. under
a private home folder) is never looked up from inside the sandbox.

Requires bubblewrap 0.7.0 as root (``--size``), 0.8.0 otherwise (``--disable-userns``).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

from wavecoder.errors import UserError

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Files of /etc that runtimes need (dynamic loader, Debian alternatives, time zone).
ETC_FILES = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
)
MERGED_USR_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
MIN_VERSION_ROOT = (0, 7, 0)
MIN_VERSION_USER = (0, 8, 0)


def find_bwrap() -> str | None:
    """Path of the `bwrap` executable, or None."""
    return shutil.which("bwrap")


def bwrap_argv(
    bwrap: str,
    job,
    *,
    as_root: bool,
    init_fd: int,
    init_in_sandbox: str,
    seccomp_fd: int | None = None,
) -> list[str]:
    """argv running the launcher for `job` under `bwrap`: bwrap copies it from the readable
    descriptor `init_fd` (read to its end) to a read-only file at `init_in_sandbox`.

    As root, bwrap keeps CAP_SETUID/CAP_SETGID only, for the launcher to switch to the run's uid;
    otherwise it maps the caller in a new user namespace and forbids nested ones. `seccomp_fd`:
    a readable descriptor holding `evaluation.sandbox.seccomp`'s filter.
    """
    limits = job.limits
    args = [bwrap, "--die-with-parent", "--new-session", "--clearenv"]
    if as_root:
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-all", "--unshare-user", "--disable-userns"]
    args += ["--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for path in MERGED_USR_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    if job.steps:
        args += ["--proc", "/proc"]
    args += ["--dev", "/dev", "--perms", "1777", "--size", str(limits.shm_bytes)]
    args += ["--tmpfs", "/dev/shm"]
    args += ["--perms", "1777", "--size", str(limits.tmpfs_bytes), "--tmpfs", "/tmp"]
    binds = _outermost(
        {p for p in ETC_FILES if os.path.exists(p)}
        | set(python_dirs())
        | set(python_paths())
        | set(job.ro_binds)
    )
    # bwrap creates missing parents as root-only (0700); the run's uid must traverse them.
    for parent in _parents(binds):
        args += ["--perms", "0755", "--dir", parent]
    for path in binds:
        args += ["--ro-bind", path, path]
    args += ["--perms", "0444", "--ro-bind-data", str(init_fd), init_in_sandbox]
    args += ["--chdir", "/tmp"]
    for key, value in step_env(job.env).items():
        args += ["--setenv", key, value]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    # Last: mounts made after a read-only remount would fail.
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    return [*args, sys.executable, "-I", "-S", init_in_sandbox]


def check_version(bwrap: str, *, as_root: bool) -> None:
    """UserError when `bwrap` is older than the flags used here need (or will not run)."""
    minimum = MIN_VERSION_ROOT if as_root else MIN_VERSION_USER
    version = bwrap_version(bwrap)
    if version is None or version < minimum:
        found = ".".join(map(str, version)) if version else "unknown"
        wanted = ".".join(map(str, minimum))
        raise UserError(
            f"bubblewrap {found} at {bwrap} is too old: the sandbox needs {wanted} or newer "
            f"({'--size' if as_root else '--disable-userns'}). Install a newer bubblewrap "
            "(Debian 12 / Ubuntu 24.04 ship 0.8.0+), or pass --unsafe-no-sandbox at your risk."
        )


@functools.cache
def bwrap_version(bwrap: str) -> tuple[int, ...] | None:
    """(major, minor, patch) of `bwrap --version`, or None when it does not answer."""
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", out.stdout)
    return tuple(int(part) for part in match.groups()) if match else None


def python_dirs() -> list[str]:
    """Folders the interpreter needs read-only: its prefix, base prefix, and real location."""
    real = Path(os.path.realpath(sys.executable)).parent.parent
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(real)}
    return sorted(d for d in dirs if not _under_bound_usr(d))


@functools.cache
def python_paths() -> tuple[str, ...]:
    """Folders the sandboxed Python imports from (the launcher runs with -S, no .pth files):
    site-packages, the user site-packages, and wherever numpy (HumanEvalPack's Python preamble
    imports it) is installed. Bound read-only and appended to the sandbox's sys.path."""
    paths = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        paths.append(site.getusersitepackages())
    numpy = importlib.util.find_spec("numpy")
    if numpy is not None and numpy.origin:
        paths.append(str(Path(numpy.origin).parent.parent))
    return tuple(dict.fromkeys(p for p in paths if os.path.isdir(p)))


def _under_bound_usr(path: str) -> bool:
    return path == "/usr" or path.startswith("/usr/")


def _outermost(paths: set[str]) -> list[str]:
    """`paths` without those inside another of them (a bind is recursive), sorted."""
    return sorted(p for p in paths if not any(a in paths for a in map(str, Path(p).parents)))


def _parents(binds: list[str]) -> list[str]:
    """Ancestors of the bind targets that bwrap must create, outermost first."""
    fixed = ("/usr", "/tmp", "/proc", "/dev", "/sandbox")
    parents = set()
    for path in binds:
        for parent in Path(path).parents:
            text = str(parent)
            if text != "/" and not any(text == f or text.startswith(f + "/") for f in fixed):
                parents.add(text)
    return sorted(parents - set(binds), key=lambda p: (p.count("/"), p))


def launcher_env() -> dict:
    return {"PATH": BASE_PATH, "HOME": "/tmp", "LANG": "C.UTF-8"}


def step_env(extra: dict) -> dict:
    env = launcher_env()
    env.update(extra)
    return env
