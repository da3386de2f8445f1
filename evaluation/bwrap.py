"""The bubblewrap command line of one sandboxed run: namespaces, mounts and environment.

What the sandbox sees: ``/usr`` (and the merged-usr links ``/bin``, ``/lib``...), a few files of
``/etc`` (dynamic loader, Debian alternatives, the JDK's config), the Python prefix, the folders a
language's toolchain adds, and the launcher script, all read-only; ``/proc``, a minimal ``/dev``,
and a private tmpfs on ``/tmp``. Never ``/root``, ``/home`` or the evaluator's working tree.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Files of /etc that runtimes need (dynamic loader, Debian alternatives, the JDK's config).
ETC_FILES = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/java-17-openjdk",
    "/etc/java-21-openjdk",
)
MERGED_USR_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def bwrap_argv(
    bwrap: str, job, *, as_root: bool, init_script: str, init_in_sandbox: str
) -> list[str]:
    """argv running `init_script` (seen at `init_in_sandbox`) for `job` under `bwrap`.

    As root, bwrap keeps CAP_SETUID/CAP_SETGID only, for the launcher to switch to the run's uid;
    otherwise it maps the caller in a new user namespace and forbids nested ones.
    """
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
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "1777", "--size", str(job.limits.tmpfs_bytes), "--tmpfs", "/tmp"]
    binds = sorted(
        {p for p in ETC_FILES if os.path.exists(p)} | set(python_dirs()) | set(job.ro_binds)
    )
    # bwrap creates missing parents as root-only (0700); the run's uid must traverse them.
    for parent in _parents(binds):
        args += ["--perms", "0755", "--dir", parent]
    for path in binds:
        args += ["--ro-bind", path, path]
    args += ["--ro-bind", init_script, init_in_sandbox, "--chdir", "/tmp"]
    for key, value in step_env(job.env).items():
        args += ["--setenv", key, value]
    return [*args, sys.executable, "-I", "-S", init_in_sandbox]


def python_dirs() -> list[str]:
    """Folders the interpreter needs read-only: its prefix, base prefix, and real location."""
    real = Path(os.path.realpath(sys.executable)).parent.parent
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(real)}
    return sorted(d for d in dirs if not _under_bound_usr(d))


def site_packages() -> list[str]:
    """The interpreter's site-packages folders (the launcher runs with -S, no .pth processing)."""
    import site

    return [p for p in site.getsitepackages() if os.path.isdir(p)]


def _under_bound_usr(path: str) -> bool:
    return path == "/usr" or path.startswith("/usr/")


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
