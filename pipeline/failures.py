"""A failure in a step process ends the whole run within seconds, with one clear message.

distilabel meets an exception in a step process in ways that do not suit a command-line run:
a normal step's failed batch becomes a batch of None columns and the run goes on (an embedding
failure then read as "the filtered corpus is empty", exit 0); a failing generator or global step
stops the pipeline, which was seen to hang for minutes; a step process killed by a signal
leaves the pool waiting forever. So, while `watch_failures` runs (it sets `FAILURE_DIR_ENV`):

- in a step process, `ReportsFailures` (a mixin of every wavecoder step) catches what the
  step's `load` or `process` raises and records it in the failure folder; from then on every
  such step yields empty output without working (no paid LLM call on a partial selection);
- in the main process, a thread watches that folder and the pool's worker processes. A record,
  or a worker that died, ends distilabel's loop at once, which then tells every step to stop;
  if `pipeline.run` has not returned `GRACE_S` seconds later (a step busy with a long batch, or
  a dead one it waits for), the pipeline's processes are killed and the command exits with the
  message.

After the run `raise_failure` turns the first record into a `UserError` (the step's own
message, no traceback) or a `StepFailed` (a bug: the message names the log with the traceback).
Without the variable (a step used in someone else's pipeline) the mixin changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wavecoder.errors import StepFailed, UserError

FAILURE_DIR_ENV = "WAVECODER_FAILURE_DIR"
GRACE_S = 10.0
DEATH_GRACE_S = 2.0
POLL_S = 0.2
# Exit statuses of the command line: a user's error, a bug.
USER_ERROR_STATUS, BUG_STATUS = 2, 1

_failed_steps: set[str] = set()  # in a step process: steps that recorded a failure


def _failure_dir() -> Path | None:
    value = os.environ.get(FAILURE_DIR_ENV)
    return Path(value) if value else None


def record_failure(step: str, exc: BaseException) -> None:
    """Write `exc` of `step` to the failure folder (a no-op outside `watch_failures`)."""
    folder = _failure_dir()
    _failed_steps.add(step)
    if folder is None:
        return
    record = {
        "step": step,
        "pid": os.getpid(),
        "time": time.time(),
        "user_error": isinstance(exc, UserError),
        "type": type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "traceback": "".join(traceback.format_exception(exc)),
    }
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".failure-{os.getpid()}-{step}.tmp"
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(folder / f"failure-{os.getpid()}-{step}.json")


def register_process(step: str) -> None:
    """Note which step this process runs, so a death by signal can be named."""
    folder = _failure_dir()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"process-{os.getpid()}").write_text(step, encoding="utf-8")


_guard_depth = 0  # in a step process: how many guarded `load`/`unload` calls are running


def _guarded(step: Any, call: Any) -> None:
    """Run `load` or `unload`: the outermost guard records a failure instead of raising it."""
    global _guard_depth
    if _failure_dir() is None or _guard_depth:
        call()
        return
    _guard_depth += 1
    try:
        call()
    except Exception as exc:
        if step.name not in _failed_steps:  # an unload after a failure may fail too
            record_failure(step.name, exc)
    finally:
        _guard_depth -= 1


class ReportsFailures:
    """Mixin for a distilabel step: a failure is recorded and ends the run (see the module).

    Put it first among the bases: ``class LoadCodeCorpus(ReportsFailures, GeneratorStep)``.
    A subclass's own `load` and `unload` are guarded whole, not only their `super()` call.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("load", "unload"):
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_reports_failures", False):
                setattr(cls, name, _guard_method(method))

    def load(self) -> None:
        register_process(self.name)
        _guarded(self, super().load)

    def unload(self) -> None:
        _guarded(self, super().unload)

    def process_applying_mappings(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        folder = _failure_dir()
        # After any step's failure no work is done (no paid LLM call on a partial selection).
        if folder is not None and (self.name in _failed_steps or any(folder.glob("failure-*"))):
            yield from self._empty_output()
            return
        try:
            yield from super().process_applying_mappings(*args, **kwargs)
        except Exception as exc:
            if _failure_dir() is None:
                raise
            record_failure(self.name, exc)
            yield from self._empty_output()

    def _empty_output(self) -> Iterator[Any]:
        yield ([], True) if self.is_generator else []


def _guard_method(method: Any) -> Any:
    def guarded(self: Any) -> None:
        if method.__name__ == "load":
            register_process(self.name)
        _guarded(self, lambda: method(self))

    guarded.__name__, guarded.__doc__ = method.__name__, method.__doc__
    guarded.__qualname__ = method.__qualname__
    guarded._reports_failures = True  # type: ignore[attr-defined]
    return guarded


def read_failures(folder: Path) -> list[dict]:
    """The recorded failures, earliest first."""
    records = []
    for path in folder.glob("failure-*.json"):
        with contextlib.suppress(OSError, json.JSONDecodeError):
            records.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(records, key=lambda r: r["time"])


def _process_steps(folder: Path) -> dict[int, str]:
    steps = {}
    for path in folder.glob("process-*"):
        with contextlib.suppress(OSError, ValueError):
            steps[int(path.name.removeprefix("process-"))] = path.read_text(encoding="utf-8")
    return steps


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _signal_name(exitcode: int | None) -> str:
    if exitcode is None:
        return "an unknown status (it was gone before it could be watched)"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-exitcode).name}"
        return f"signal {-exitcode}"
    return f"exit status {exitcode}"


def _record_death(folder: Path, pid: int, exitcode: int | None) -> None:
    step = _process_steps(folder).get(pid)
    who = f"the process of step {step!r}" if step else "a step process"
    record = {
        "step": step or "?",
        "pid": pid,
        "time": time.time(),
        "user_error": False,
        "type": "ProcessDied",
        "message": f"{who} (pid {pid}) died with {_signal_name(exitcode)}",
        "traceback": "",
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"failure-{pid}-died.json").write_text(json.dumps(record), encoding="utf-8")


def failure_error(record: dict, log_path: Path, where: str = "") -> UserError | StepFailed:
    """The exception the command raises for a failure record."""
    suffix = f" {where}" if where else ""
    if record["user_error"]:
        message = record["message"].rstrip()
        return UserError(
            message + ("" if not suffix or message.endswith((".", "!", "?")) else ".") + suffix
        )
    if record["type"] == "ProcessDied":
        return StepFailed(f"{record['message']}.{suffix}", "", log_path)
    return StepFailed(
        f"step {record['step']!r} failed with a bug, {record['type']}: {record['message']} "
        f"(the traceback is in {log_path}; `-v` prints it).{suffix}",
        record["traceback"],
        log_path,
    )


def _write_log(records: list[dict], log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(
        f"[{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(r['time']))}] step {r['step']!r} "
        f"(pid {r['pid']}): {r['type']}: {r['message']}\n{r['traceback']}"
        for r in records
    )
    log_path.write_text(text, encoding="utf-8")


def raise_failure(folder: Path, log_path: Path, where: str = "") -> None:
    """Raise the first recorded failure, if any (every record goes to `log_path`)."""
    records = read_failures(folder)
    if records:
        _write_log(records, log_path)
        raise failure_error(records[0], log_path, where)


class _Watcher(threading.Thread):
    """Ends a run whose step failed (see the module)."""

    def __init__(self, pipeline: Any, folder: Path, log_path: Path, where: str, command: str):
        super().__init__(name="wavecoder-failure-watch", daemon=True)
        self.pipeline, self.folder, self.log_path = pipeline, folder, log_path
        self.where, self.command = where, command
        self.done = threading.Event()
        self._workers: dict[int, Any] = {}

    def run(self) -> None:
        failed_at, grace = None, GRACE_S
        while not self.done.wait(POLL_S):
            if failed_at is None:
                if self._check_workers():
                    grace = DEATH_GRACE_S  # distilabel would wait for the dead step forever
                if read_failures(self.folder):
                    failed_at = time.monotonic()
                    self._stop_pipeline()
            elif time.monotonic() - failed_at > grace:
                self._end_run()
                return

    def _stop_pipeline(self) -> None:
        """Make distilabel's loop finish now: it then tells every step to stop and returns.

        (Letting the failed step's empty output drain through the pipeline is not enough:
        distilabel 1.5 waits forever for batches that hold no rows.)
        """
        queue = getattr(self.pipeline, "_output_queue", None)
        if queue is not None:
            with contextlib.suppress(Exception):
                queue.put(None)

    def _running(self) -> bool:
        thread = getattr(self.pipeline, "_output_queue_thread", None)
        return thread is not None and thread.is_alive()

    def _check_workers(self) -> bool:
        """Record a step process that died while the pipeline ran; True if one did.

        Pool workers are watched through their `Process` objects (which keep the exit code);
        a step process that died before the watcher first saw it is found by the pid it
        registered. A death after a stop was asked for (Ctrl-C: distilabel terminates its
        pool) or during distilabel's own teardown is not a failure.
        """
        pool = getattr(self.pipeline, "_pool", None)
        for process in list(getattr(pool, "_pool", None) or []):
            self._workers.setdefault(process.pid, process)
        died = False
        for pid, process in list(self._workers.items()):
            exitcode = None if process is None else process.exitcode
            if exitcode is not None and self._failure_time():
                _record_death(self.folder, pid, exitcode)
                self._workers[pid] = None  # reported once
                died = True
        for pid in _process_steps(self.folder):
            if pid not in self._workers and not _alive(pid) and self._failure_time():
                _record_death(self.folder, pid, None)
                self._workers[pid] = None  # reported once
                died = True
        return died

    def _failure_time(self) -> bool:
        """Whether a step process dying now is a failure (the run is on and not stopping)."""
        return self._running() and not getattr(self.pipeline, "_stop_called", False)

    def _end_run(self) -> None:
        """The pipeline did not drain: kill its processes and exit with the message."""
        import multiprocessing

        records = read_failures(self.folder)
        error = failure_error(records[0], self.log_path, self.where)
        _write_log(records, self.log_path)
        for child in multiprocessing.active_children():
            with contextlib.suppress(OSError, AttributeError):
                child.kill()
        if logging.getLogger().isEnabledFor(logging.DEBUG) and getattr(error, "traceback_text", ""):
            print(error.traceback_text, file=sys.stderr)  # `-v`, as `run_command` does
        print(f"wavecoder {self.command}: error: {error}", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(USER_ERROR_STATUS if isinstance(error, UserError) else BUG_STATUS)


@contextlib.contextmanager
def watch_failures(
    pipeline: Any, folder: Path, log_path: Path, *, where: str = "", command: str = "generate"
) -> Iterator[None]:
    """Around `pipeline.run(...)`: step failures end the run (see the module).

    `where` is appended to every failure message (what was kept, how to resume).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("failure-*.json"), *folder.glob("process-*")]:
        stale.unlink(missing_ok=True)
    previous = os.environ.get(FAILURE_DIR_ENV)
    os.environ[FAILURE_DIR_ENV] = str(folder)
    watcher = _Watcher(pipeline, folder, log_path, where, command)
    watcher.start()
    try:
        yield
    except Exception:
        # distilabel re-raises a step's load error; the recorded failure says it better.
        raise_failure(folder, log_path, where)
        raise
    finally:
        watcher.done.set()
        watcher.join()
        if previous is None:
            os.environ.pop(FAILURE_DIR_ENV, None)
        else:
            os.environ[FAILURE_DIR_ENV] = previous
    raise_failure(folder, log_path, where)
