"""A small seccomp filter for the sandbox, hand-assembled as classic BPF (no libseccomp needed).

bwrap loads it (``--seccomp FD``) right before it executes the launcher, so it binds the launcher
and everything the checked program starts. It denies, with an errno so that runtimes fall back:

- new user namespaces: ``unshare`` and ``clone`` with ``CLONE_NEWUSER`` (EPERM), ``clone3``
  (ENOSYS: its flags live in memory a filter cannot read; glibc, Go and the JVM fall back to
  ``clone``), ``setns`` (EPERM). A user namespace would give the program a root of its own to
  mount tmpfs (memory outside every rlimit) and a larger kernel surface;
- reading or writing another process's memory: ``ptrace``, ``process_vm_readv``/``writev``
  (a child could otherwise read the Python launcher's verdict nonce);
- kernel surfaces no benchmark program needs: keyrings (``keyctl``, ``add_key``,
  ``request_key``), ``bpf``, ``perf_event_open``, ``userfaultfd``;
- every system call of a foreign ABI (i386 ``int 0x80`` and x32 on x86-64), whose numbers differ.

Only x86-64 and aarch64 are supported; elsewhere `seccomp_filter` returns None and the sandbox
runs without it (user namespaces are then blocked only in non-root mode, by ``--disable-userns``).
"""

from __future__ import annotations

import errno
import platform
import struct

# struct seccomp_data offsets (bytes): nr, arch, then args[0] (its low 32 bits, little-endian).
NR, ARCH, ARG0 = 0, 4, 16
CLONE_NEWUSER = 0x10000000
X32_SYSCALL_BIT = 0x40000000
# Classic BPF opcodes.
LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET = 0x06  # BPF_RET | BPF_K
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000

# (audit arch, syscall numbers) per machine.
ARCHES = {
    "x86_64": (
        0xC000003E,
        {
            "unshare": 272, "clone": 56, "clone3": 435, "setns": 308,
            "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
            "keyctl": 250, "add_key": 248, "request_key": 249,
            "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "unshare": 97, "clone": 220, "clone3": 435, "setns": 268,
            "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
            "keyctl": 219, "add_key": 217, "request_key": 218,
            "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        },
    ),
}  # fmt: skip
# Denied outright; unshare and clone only with CLONE_NEWUSER.
DENIED = {name: errno.EPERM for name in ARCHES["x86_64"][1]}
DENIED["clone3"] = errno.ENOSYS
FLAG_CHECKED = ("unshare", "clone")


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def seccomp_filter(machine: str | None = None) -> bytes | None:
    """The filter as bytes for ``bwrap --seccomp`` (struct sock_filter[]), or None when
    `machine` (default: this one) is not supported."""
    arch = ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, numbers = arch
    enosys = RET_ERRNO | errno.ENOSYS
    program = [
        _op(LD_ABS, ARCH),
        _op(JEQ, audit_arch, 1, 0),
        _op(RET, enosys),
        _op(LD_ABS, NR),
    ]
    if audit_arch == ARCHES["x86_64"][0]:
        program += [_op(JGE, X32_SYSCALL_BIT, 0, 1), _op(RET, enosys)]
    for name, number in numbers.items():
        if name in FLAG_CHECKED:
            program += [
                _op(JEQ, number, 0, 4),
                _op(LD_ABS, ARG0),
                _op(JSET, CLONE_NEWUSER, 0, 1),
                _op(RET, RET_ERRNO | DENIED[name]),
                _op(RET, RET_ALLOW),
            ]
        else:
            program += [_op(JEQ, number, 0, 1), _op(RET, RET_ERRNO | DENIED[name])]
    program.append(_op(RET, RET_ALLOW))
    return b"".join(program)
