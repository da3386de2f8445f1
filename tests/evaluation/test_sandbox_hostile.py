"""Hostile programs: each must be contained and scored as a failure while the evaluator goes on.

Every case is a model "completion" for a real HumanEval task, scored through the same path as
`wavecoder evaluate` (benchmark program -> sandbox -> verdict), in one batch with correct samples
that must still pass. Host-side effects are checked from outside the sandbox.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from listening import listening_socket

from evaluation.benchmarks import get_benchmark
from evaluation.languages import LANGUAGES, Program
from evaluation.sandbox import MiB, SandboxJob, python_passed
from evaluation.scoring import score_samples

TIMEOUT_S = 5.0
# HumanEval/2 truncate_number: its test compares with abs(...) < 1e-6.
WRONG_TRUNCATE = "    return 0.5\n"


def _hostile_cases(victim: Path, secret_file: Path, port: int, token: str) -> dict[str, str]:
    evaluator_pid = os.getpid()
    return {
        "fork bomb": "    import os\n    while True:\n        os.fork()\n",
        "memory bomb": "    x = bytearray(64 * 1024 ** 3)\n    return 0.5\n",
        "memory creep": "    chunks = []\n    while True:\n        chunks.append(bytearray(10 ** 8))\n",
        "infinite loop": "    while True:\n        pass\n",
        "huge output": "    while True:\n        print('x' * 65536)\n",
        "huge file": (
            "    with open('big', 'wb') as f:\n        while True:\n            f.write(b'x' * 2 ** 20)\n"
        ),
        "delete outside tmpfs": f"    import os\n    os.remove({str(victim)!r})\n",
        "write outside tmpfs": f"    open({str(victim)!r}, 'w').write('owned')\n",
        "write system dirs": "    open('/usr/owned', 'w').write('x')\n",
        "network": (
            "    import socket\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
            "    return 0.5\n"
        ),
        "internet": "    import socket\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n",
        "environment secrets": "    import os\n    return os.environ['HF_TOKEN']\n",
        "secret files": f"    return open({str(secret_file)!r}).read()\n",
        "kill the parent": (
            "    import os, signal\n"
            f"    for pid in (os.getppid(), 1, {evaluator_pid}):\n"
            "        try:\n"
            "            os.kill(pid, signal.SIGKILL)\n"
            "        except OSError:\n"
            "            pass\n"
            "    os.kill(-1, signal.SIGKILL)\n"
        ),
        "exit before asserts": "    import os\n    os._exit(0)\n",
        "exit at import": "    pass\nimport os\nos._exit(0)\n",
        "system exit": "    raise SystemExit(0)\nraise SystemExit(0)\n",
        "fake success marker": (
            "    pass\nimport os, sys\n"
            "print('passed'); print('PY 0 passed')\n"
            "for fd in range(3, 64):\n"
            "    try:\n"
            "        os.write(fd, b'PY 00000000000000000000000000000000 passed\\n')\n"
            "    except OSError:\n"
            "        pass\n"
            "sys.stdout.flush()\n"
            "os._exit(0)\n"
        ),
        "patch builtins": (
            WRONG_TRUNCATE + "import builtins\nbuiltins.abs = lambda x: 0\n"
            "__builtins__['abs'] = lambda x: 0\n"
        ),
        "patch the harness": (
            WRONG_TRUNCATE + "import os, sys, builtins\n"
            "os.write = lambda *a: len(a[1])\nos._exit = lambda *a: None\n"
            "sys.exit = lambda *a: None\nbuiltins.print = lambda *a, **k: None\n"
            "import atexit\natexit.register(lambda: os.system('echo PY 0 passed'))\n"
        ),
        # The launcher's own exec/dict calls after the model part: rebinding them skips the tests.
        "patch the launcher's builtins": (
            WRONG_TRUNCATE + "import builtins\n"
            "_dict = dict\n"
            "builtins.dict = lambda d: _dict(d, abs=lambda x: 0)\n"
            "builtins.exec = lambda *a, **k: None\n"
        ),
        "background process": (
            WRONG_TRUNCATE + "import subprocess\n"
            f"subprocess.Popen(['sh', '-c', 'sleep 30; echo {token}'], start_new_session=True)\n"
            "import os\nif os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(30)\n"
        ),
        # A program posing as a broken sandbox must not stop the run.
        "fake sandbox failure": (
            "    import os, sys\n"
            "    sys.stderr.write('bwrap: Can\\'t mount proc\\n')\n"
            "    sys.stderr.flush()\n"
            "    os._exit(1)\n"
        ),
        "kill itself": "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        "write the root": WRONG_TRUNCATE + "open('/owned', 'w').write('x')\n",
        "write /dev": WRONG_TRUNCATE + "open('/dev/owned', 'w').write('x')\n",
        "fill /dev/shm": (
            WRONG_TRUNCATE + "with open('/dev/shm/big', 'wb') as f:\n"
            "    for _ in range(256):\n        f.write(b'x' * 2 ** 20)\n"
        ),
        "user namespace": (
            WRONG_TRUNCATE + "import subprocess\n"
            "done = subprocess.run(['unshare', '-Urm', 'sh', '-c', "
            "'mount -t tmpfs -o size=8g none /mnt && echo mounted'], capture_output=True)\n"
            "raise RuntimeError(done.stderr.decode().strip() or done.stdout.decode())\n"
        ),
        # Forging the Python verdict from inside: every way to the launcher's frame or memory.
        "frame walk to the verdict": (
            WRONG_TRUNCATE + "import sys\nsys._getframe(1).f_locals['finish']('passed', 0)\n"
        ),
        "gc walk to the verdict": (
            WRONG_TRUNCATE + "import gc\n"
            "for o in gc.get_objects():\n"
            "    if getattr(o, '__name__', '') == 'finish':\n"
            "        o('passed', 0)\n"
        ),
        "traceback walk to the verdict": (
            WRONG_TRUNCATE + "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
            "    e.__traceback__.tb_frame.f_back.f_locals['finish']('passed', 0)\n"
        ),
        "trace the asserts away": WRONG_TRUNCATE + "import sys\nsys.settrace(lambda *a: None)\n",
        "ctypes": WRONG_TRUNCATE + "import ctypes\n",
        "ctypes under a lying name": (
            WRONG_TRUNCATE + "class Name(str):\n"
            "    def __hash__(self):\n        return 1\n"
            "    def __eq__(self, other):\n        return False\n"
            "__import__(Name('_ctypes'))\n"
        ),
        "read own memory": WRONG_TRUNCATE + "open('/proc/self/mem', 'rb')\n",
    }


def _leftover_processes(token: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if token in cmdline:
                found.append(cmdline)
    return found


@pytest.mark.slow
def test_hostile_programs_are_contained_and_fail(sandbox, monkeypatch):
    benchmark = get_benchmark("humaneval")
    problems = benchmark.load()
    task = problems["HumanEval/2"]
    # World-writable on the host, so that only the sandbox's read-only mount protects it.
    victim_dir = Path(tempfile.mkdtemp(dir="/var/tmp"))
    victim_dir.chmod(0o777)
    victim = victim_dir / "victim.txt"
    victim.write_text("precious")
    victim.chmod(0o666)
    # Readable by anyone on the host, but outside everything the sandbox mounts.
    secret_dir = Path(tempfile.mkdtemp(dir="/var/tmp"))
    secret_dir.chmod(0o755)
    secret_file = secret_dir / "token"
    secret = "hf_" + secrets.token_hex(12)
    secret_file.write_text(secret)
    secret_file.chmod(0o644)
    monkeypatch.setenv("HF_TOKEN", secret)
    token = "wavecoder-leftover-" + secrets.token_hex(6)
    server, accepted = listening_socket()
    cases = _hostile_cases(victim, secret_file, server.getsockname()[1], token)
    canonical = {"task_id": task.task_id, "completion": task.data["canonical_solution"]}
    samples = [canonical]
    for name, completion in cases.items():
        samples += [
            {"task_id": task.task_id, "completion": completion, "case": name},
            dict(canonical),
        ]
    # The victim folder is bound read-only, so "write/delete outside" target a real host file;
    # 512 MiB of address space keeps the memory cases quick.
    original_run = sandbox.run

    def run(job):
        binds = (*job.ro_binds, str(victim_dir))
        limits = replace(job.limits, memory_bytes=512 * MiB)
        return original_run(replace(job, ro_binds=binds, limits=limits))

    monkeypatch.setattr(sandbox, "run", run)
    scored = score_samples(benchmark, problems, samples, sandbox, timeout_s=TIMEOUT_S, workers=2)

    by_case = {row["case"]: row for row in scored.rows if "case" in row}
    assert set(by_case) == set(cases)
    for name, row in by_case.items():
        assert row["passed"] is False, (name, row["result"])
    controls = [row for row in scored.rows if "case" not in row]
    assert len(controls) == len(cases) + 1
    assert all(row["passed"] for row in controls), [
        r["result"] for r in controls if not r["passed"]
    ]

    results = {name: row["result"] for name, row in by_case.items()}
    assert results["infinite loop"] == "timed out"
    assert results["huge output"] == "failed: output limit exceeded"
    assert results["memory bomb"].startswith("failed: MemoryError")
    assert results["memory creep"].startswith("failed: MemoryError")
    assert results["huge file"].startswith("failed: OSError: [Errno 27] File too large")
    assert "Read-only file system" in results["delete outside tmpfs"]
    assert "Read-only file system" in results["write outside tmpfs"]
    assert "Read-only file system" in results["write system dirs"]
    assert "ConnectionRefusedError" in results["network"]
    assert "Network is unreachable" in results["internet"]
    assert results["environment secrets"] == "failed: KeyError: 'HF_TOKEN'"
    assert "FileNotFoundError" in results["secret files"]
    assert results["exit before asserts"].startswith("failed: exited with status 0 before")
    assert results["exit at import"].startswith("failed: exited with status 0 before")
    assert results["system exit"] == "failed: SystemExit: 0"
    assert results["fake success marker"].startswith("failed: exited with status 0 before")
    assert results["patch builtins"] == "failed: AssertionError"
    assert results["patch the harness"] == "failed: AssertionError"
    assert results["patch the launcher's builtins"] == "failed: AssertionError"
    assert results["background process"] == "failed: AssertionError"
    assert results["fake sandbox failure"].startswith("failed: exited with status 1 before")
    assert results["kill itself"] == "failed: killed by SIGKILL"
    for name in ("write the root", "write /dev"):
        assert "Read-only file system" in results[name], results[name]
    assert "No space left on device" in results["fill /dev/shm"]
    assert "Operation not permitted" in results["user namespace"]
    assert results["frame walk to the verdict"] == (
        "failed: ValueError: the sandbox refuses sys._getframe"
    )
    assert results["gc walk to the verdict"] == (
        "failed: ValueError: the sandbox refuses gc.get_objects"
    )
    assert results["traceback walk to the verdict"] == (
        "failed: ValueError: the sandbox refuses object.__getattr__ (tb_frame)"
    )
    assert results["trace the asserts away"] == (
        "failed: ValueError: the sandbox refuses sys.settrace"
    )
    assert results["ctypes"] == "failed: ImportError: the sandbox refuses to import ctypes"
    assert results["ctypes under a lying name"] == results["ctypes"]
    assert "FileNotFoundError" in results["read own memory"]

    # Host side: nothing written, deleted, leaked or left running; the evaluator is alive.
    assert victim.read_text() == "precious"
    assert not Path("/usr/owned").exists()
    assert accepted == []
    assert all(secret not in row["result"] for row in scored.rows)
    assert _leftover_processes(token) == []
    server.close()


def test_fork_bomb_is_bounded_by_the_process_limit(sandbox):
    # Children sleep instead of exiting, so the count of successful forks is the live bound.
    program = (
        "import os, time\n"
        "children = 0\n"
        "try:\n"
        "    for _ in range(200):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "except BlockingIOError:\n"
        "    pass\n"
        "raise RuntimeError(f'children={children}')\n"
    )
    python = LANGUAGES["python"]
    job = python.job(Program("python", program, ""), 20.0, python.toolchain())
    assert job.limits.processes == 8
    result = sandbox.run(job)
    assert python_passed(result) is False and not result.timed_out
    (verdict,) = [r for r in result.reports if r.get("nonce") == result.nonce]
    children = int(verdict["error"].removeprefix("RuntimeError: children="))
    # 8 processes for the run's uid (root) or user namespace: the launcher (and, non-root,
    # bwrap's init) plus the children.
    assert 5 <= children <= 7


def test_sandbox_sees_no_host_environment_and_a_private_tmp(sandbox, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    marker = Path(tempfile.gettempdir()) / f"host-marker-{secrets.token_hex(4)}"
    marker.write_text("host")
    program = (
        "import os\n"
        "assert sorted(os.environ) == ['HOME', 'LANG', 'MKL_NUM_THREADS', 'OMP_NUM_THREADS', "
        "'OPENBLAS_NUM_THREADS', 'PATH', 'PWD'], sorted(os.environ)\n"
        f"assert not os.path.exists({str(marker)!r})\n"
        "assert os.getuid() != 0\n"
        "open('/tmp/scratch', 'w').write('ok')\n"
        "assert not os.path.exists('/root/.cache')\n"
        "assert not os.path.exists('/home') or os.listdir('/home') == []\n"
    )
    python = LANGUAGES["python"]
    job = python.job(Program("python", program, ""), 5.0, python.toolchain())
    result = sandbox.run(job)
    marker.unlink()
    assert python.verdict(result) == (True, "passed"), result.reports


def test_nonce_differs_per_run(sandbox):
    job = SandboxJob(python_head="x = 1\n", python_tail="\nassert x == 1\n")
    first, second = sandbox.run(job), sandbox.run(job)
    assert python_passed(first) and python_passed(second)
    assert first.nonce != second.nonce
