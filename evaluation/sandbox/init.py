"""The first program inside the sandbox: apply limits, drop privileges, run the checked program.

`evaluation.sandbox.runner` starts this file (standard library only, run as ``python -I -S``)
inside bubblewrap and sends it one job on stdin (a `marshal`led dict: trusted, from the parent).
Startup cost is paid once per program, so it imports little (``_ast`` instead of ``ast``, no
``json`` on the Python path). It then:

1. sets the resource limits (CPU seconds, address-space or data bytes, processes, file bytes,
   open files, no core dumps);
2. when started as root (bwrap keeps only CAP_SETUID/CAP_SETGID), switches to the job's
   unprivileged uid, so that RLIMIT_NPROC counts only this sandbox's processes and nothing on the
   read-only host is readable beyond what "others" may read;
3. writes the job's files into the working directory (the private tmpfs);
4. writes ``READY`` to the report pipe: the sandbox is set up, and nothing checked has run yet
   (before it, a failure is reported as ``ERROR <nonce> <message>``, a sandbox error);
5. either runs a Python check in this very process (``python`` jobs), or runs the job's steps
   (compile, run) as child processes with their own timeouts (``steps`` jobs), marking itself
   non-dumpable first so that the children, running as the same uid, cannot reach its memory
   or file descriptors.

Verdicts go to the report pipe (``report_fd``), one line each: ``PY <nonce> passed`` or
``PY <nonce> failed <error>`` for Python, ``STEP <json>`` per step; the checked program's own
stdout and stderr go to the parent, which caps them.

Python verdicts and what they resist. The program is the benchmark's concatenation (model code,
then the test code), run in this process (the tests call the model's functions, so no other
process could judge them). A pass is reported only by this file, after ``exec`` of the whole
program returned, on the report pipe, carrying a per-run nonce sent in the job. So:

- ``os._exit(0)`` / ``sys.exit(0)`` / ``raise SystemExit`` before the asserts: no nonce line, or a
  caught exception -> failed;
- printing "passed" or any marker, writing to the report pipe without the nonce, closing or
  redirecting it -> no valid verdict -> failed;
- patching ``builtins`` (``abs``, ``print``, ``isinstance``...) through ``import builtins`` or
  ``__builtins__``: the test part runs with a fresh copy of the builtins taken before any model
  code ran;
- patching ``os.write``, ``os._exit``, ``sys.stdout``, ``atexit``, or the builtins this file
  itself calls after the model code ran (``exec``, ``dict``, ``str``...): it keeps its own
  references, taken before the model code runs, and leaves with ``os._exit`` (no exit hooks);
- reaching the nonce or the verdict writer: the nonce is removed from the job and lives only in a
  closure of the running frame, and an audit hook (`_audit_hook`, irremovable, installed before
  the model code runs and using no name the program could patch) refuses every way to that frame
  or to arbitrary objects: ``sys._getframe``, ``sys._current_frames``, the ``tb_frame``,
  ``gi_frame``, ``cr_frame``, ``ag_frame`` attributes, ``sys.settrace``/``setprofile``,
  ``gc.get_objects``/``get_referrers``/``get_referents``, ``ctypes`` (import and every ctypes
  event), new code objects (``CodeType``, ``code.replace``) and further audit hooks. Memory is out
  of reach too: a Python check runs without ``/proc`` (no ``/proc/self/mem``), and the seccomp
  filter denies ``ptrace`` and ``process_vm_readv`` to the processes it starts. ``sys._getframe``
  is refused with ValueError, which ``collections.namedtuple``, ``typing``, ``enum`` and
  ``logging`` already handle; code that walks its own stack (``inspect.stack()``,
  ``traceback.format_exc()``) fails.

What can still forge a pass, by design or for want of a cheap fix (the sandbox contains all of it):

- results that lie to the tests: an object whose ``__eq__`` is always true, a subclass of the
  expected type, patching a module the test uses (``math.isclose``...), as in the reference
  harness;
- a thread started by the model code that rewrites the shared globals (e.g. ``check``) between two
  test statements;
- an interpreter escape: a CPython memory-safety bug, or bytecode crafted through
  ``marshal.loads`` (which imports need, so it is not refused);
- on Python 3.10, where ``sys._getframe`` raises no audit event, it is replaced by a stub that
  refuses; a program that finds the original elsewhere gets the frames.
"""

import __future__

import _ast
import builtins
import marshal
import os
import resource
import sys

# Imported before the audit hook exists: `types` reads a traceback's tb_frame (to name FrameType)
# when first imported, which the hook refuses; typing, enum, dataclasses... all import it.
import types  # noqa: F401

# Exit status when the job itself is broken (not the checked program's fault).
SANDBOX_ERROR_EXIT = 125
PR_SET_DUMPABLE = 4
OUTPUT_TAIL_BYTES = 4096
# What the audit hook refuses to the checked Python program (see the module docstring).
REFUSED_EVENTS = frozenset(
    {
        "sys._getframe",
        "sys._getframemodulename",
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "sys.monitoring.register_callback",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "code.__new__",
    }
)
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
REFUSED_IMPORTS = frozenset({"ctypes", "_ctypes"})


def _apply_limits(limits):
    """Set this process's rlimits from the job's `limits` (seconds, bytes, counts)."""
    pairs = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_CPU, limits.get("cpu_s")),
        (resource.RLIMIT_FSIZE, limits.get("file_bytes")),
        (resource.RLIMIT_NOFILE, limits.get("open_files")),
        (resource.RLIMIT_NPROC, limits.get("processes")),
    ]
    memory = limits.get("memory_bytes")
    if memory:
        kind = resource.RLIMIT_DATA if limits.get("memory_kind") == "data" else resource.RLIMIT_AS
        pairs.append((kind, memory))
    for kind, value in pairs:
        if value is not None:
            resource.setrlimit(kind, (int(value), int(value)))


def _drop_privileges(uid):
    if os.getuid() == 0 and uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)


def _write_files(workdir, files):
    os.makedirs(workdir, exist_ok=True)
    for name, text in files.items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def _future_flags(tree):
    flags = 0
    for node in tree.body:
        if isinstance(node, _ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                if feature is not None:
                    flags |= feature.compiler_flag
    return flags


def _first_line(node):
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def compile_split(head, tail):
    """Compile ``head + tail`` as one module, returned as code objects (model part, test part).

    Parsing the concatenation keeps the reference harness's semantics exactly; the split only lets
    the test part run with fresh builtins. When a statement spans the boundary (e.g. an unclosed
    string in the model code), the program is returned whole, as one code object.
    """
    source = head + tail
    tree = compile(source, "<program>", "exec", _ast.PyCF_ONLY_AST, True)
    last_head_line = head.count("\n") + 1
    split = len(tree.body)
    for index, node in enumerate(tree.body):
        if _first_line(node) > last_head_line:
            split = index
            break
        if node.end_lineno > last_head_line:
            return [compile(tree, "<program>", "exec", 0, True)]
    flags = _future_flags(tree)
    parts = [tree.body[:split], tree.body[split:]]
    return [
        compile(_ast.Module(body=body, type_ignores=[]), "<program>", "exec", flags, True)
        for body in parts
        if body
    ]


def _audit_hook():
    """The hook refusing introspection to the checked program.

    Everything it uses is bound here, as closure cells: no global or builtin name that the
    program could rebind (``builtins.ValueError = ...``, ``__main__.REFUSED_EVENTS = ...``).
    """
    refused, frame_attributes, imports = REFUSED_EVENTS, FRAME_ATTRIBUTES, REFUSED_IMPORTS
    # ValueError: what sys._getframe raises when the stack is too shallow, which namedtuple,
    # typing, enum and logging catch. RuntimeError makes sys.addaudithook skip the new hook.
    refusal, import_refusal, hook_refusal = ValueError, ImportError, RuntimeError
    # An exact copy of a str subclass, whose __hash__/__eq__ could lie to the set lookup.
    exact = "".join

    def hook(event, args):
        if (
            event in refused
            or event.startswith("ctypes.")
            or (event == "object.__getattr__" and args[1] in frame_attributes)
        ):
            detail = f" ({args[1]})" if event == "object.__getattr__" else ""
            raise refusal(f"the sandbox refuses {event}{detail}")
        # Any module whose last component is (_)ctypes, under any name or file name.
        if event == "import" and exact((args[0],)).rpartition(".")[2] in imports:
            raise import_refusal("the sandbox refuses to import ctypes")
        if event == "sys.addaudithook":
            raise hook_refusal("the sandbox refuses new audit hooks")

    return hook


def _refuse_getframe(*args):
    raise ValueError("the sandbox refuses sys._getframe")


def run_python(job, write):
    """Execute the Python check in this process; report a nonce-signed verdict, then _exit."""
    nonce = job.pop("nonce")
    head, tail = job["python"]["head"], job["python"]["tail"]
    pristine = dict(builtins.__dict__)
    streams = (sys.stdout, sys.stderr)
    leave = os._exit
    # Builtins used once the program has run, bound now: it may rebind builtins.exec, .dict...
    run, fresh, anything, ignored, text, kind = exec, dict, BaseException, Exception, str, type

    def finish(status, code):
        for stream in streams:
            try:  # noqa: SIM105 (contextlib would be one more import per run)
                stream.flush()
            except ignored:  # the program may have broken its streams; the verdict matters
                pass
        write(f"PY {nonce} {status}\n".encode("utf-8", "replace"))
        leave(code)

    sys.addaudithook(_audit_hook())
    if sys.version_info < (3, 11):  # no audit event for sys._getframe before 3.11
        sys._getframe = _refuse_getframe
    try:
        codes = compile_split(head, tail)
        namespace = {}
        for code in codes:
            namespace["__builtins__"] = fresh(pristine)
            run(code, namespace)
    except anything as exc:
        message = text(exc)
        error = kind(exc).__name__ + (": " + message if message else "")
        finish("failed " + error[:1000].replace("\\", "\\\\").replace("\n", "\\n"), 1)
    finish("passed", 0)


def _tail(path):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - OUTPUT_TAIL_BYTES))
            return handle.read().decode("utf-8", "replace"), size
    except OSError:
        return "", 0


def _run_step(step, job):
    """Run one step to completion or timeout; return its report record."""
    import signal
    import subprocess
    import time

    limits = dict(job["limits"], **step.get("limits", {}))
    capture = step.get("capture", False)
    out_path = os.path.join(job["workdir"], f".{step['name']}.out")
    started = time.monotonic()
    with open(out_path if capture else os.devnull, "wb") as sink:
        try:
            child = subprocess.Popen(
                step["argv"],
                cwd=job["workdir"],
                env=job["env"],
                stdin=subprocess.DEVNULL,
                stdout=sink if capture else None,
                stderr=subprocess.STDOUT if capture else None,
                start_new_session=True,
                preexec_fn=lambda: _apply_limits(limits),
            )
        except OSError as exc:
            return {"step": step["name"], "status": "not-started", "error": str(exc)}
        try:
            code, status = child.wait(timeout=step["timeout_s"]), "exited"
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            code, status = child.wait(), "timeout"
    output, size = _tail(out_path) if capture else ("", 0)
    return {
        "step": step["name"],
        "status": status,
        "code": code,
        "output": output,
        "output_bytes": size,
        "wall_s": round(time.monotonic() - started, 3),
    }


def run_steps(job, write):
    """Run each step (e.g. compile, then run) as a child; stop at the first that fails."""
    import ctypes
    import json

    # Children run as this uid; a non-dumpable launcher keeps them out of its /proc entries.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    for step in job["steps"]:
        record = _run_step(step, job)
        write(("STEP " + json.dumps(record) + "\n").encode())
        if record["status"] != "exited" or record["code"] != 0:
            return 1
    return 0


def main():
    job = marshal.loads(sys.stdin.buffer.read())
    report_fd = job["report_fd"]
    os_write = os.write

    def write(data):
        os_write(report_fd, data)

    try:
        _drop_privileges(job.get("uid"))
        _write_files(job["workdir"], job.get("files", {}))
        os.chdir(job["workdir"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        sys.path.extend(job.get("sys_path", []))
        if job.get("python"):
            _apply_limits(job["limits"])
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        write(f"ERROR {job['nonce']} {error}\n".encode())
        os._exit(SANDBOX_ERROR_EXIT)
    # From here on the checked program may run: the parent trusts no set-up line after this.
    write(b"READY\n")
    if job.get("python"):
        run_python(job, write)
    sys.stdout.flush()
    os._exit(run_steps(job, write))


if __name__ == "__main__":
    main()
