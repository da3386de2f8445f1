"""Stopping a run early without losing what was paid for: Ctrl-C, or an endpoint that refuses.

distilabel's own first Ctrl-C waits until every step finishes its current batch, and the
generation stage is one batch: the whole LLM stage. So:

- in the step's process, `sigint_stops(signal)` turns SIGINT into `StopSignal.set`: the loop
  sends no new request, awaits the ones in flight (their answers land in the response cache),
  and the step ends at once;
- in the main process, `run_pipeline` forwards a SIGINT sent to it alone (`kill -INT PID`) to
  the step processes, as a terminal's Ctrl-C (sent to the whole process group) already does,
  and turns an interrupted run into KeyboardInterrupt after the pipeline has shut down, so
  nothing is written and the same command resumes.

A third Ctrl-C still forces distilabel to kill its processes (answers in flight are then lost).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipeline.failures import watch_failures
from pipeline.layout import ERROR_LOG, FAILURES_DIR, STATE_DIR

INTERRUPTED = "interrupted"
ENDPOINT_REFUSED = "endpoint_refused"


class StopSignal:
    """Why the run stops (`reason`: INTERRUPTED or ENDPOINT_REFUSED) and a message; falsy until set.

    Set and read on the event loop's thread; callbacks run once, when it is first set.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        self.message: str | None = None
        self._callbacks: list[Callable[[], None]] = []

    def __bool__(self) -> bool:
        return self.reason is not None

    def set(self, reason: str, message: str) -> None:
        if self.reason is not None:
            return
        self.reason, self.message = reason, message
        for callback in self._callbacks:
            callback()

    def on_set(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)


class RunStopped(Exception):
    """The loop stopped before every row was done; `reason` and the message say why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


INTERRUPT_MESSAGE = "interrupted (Ctrl-C): no new LLM request was sent after it"


@contextlib.contextmanager
def sigint_stops(stop: StopSignal) -> Iterator[None]:
    """While the running event loop runs, SIGINT sets `stop` (main thread only)."""
    import asyncio

    from distilabel.constants import SIGINT_HANDLER_CALLED_ENV_NAME

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    loop.add_signal_handler(signal.SIGINT, stop.set, INTERRUPTED, INTERRUPT_MESSAGE)
    # distilabel's handler in step processes notes a Ctrl-C that came before the loop started.
    if os.environ.get(SIGINT_HANDLER_CALLED_ENV_NAME):
        stop.set(INTERRUPTED, INTERRUPT_MESSAGE)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, previous)


def run_pipeline(pipeline: Any, output_dir: Any = None, *, where: str = "") -> Any:
    """`pipeline.run(use_cache=False)`; a Ctrl-C ends it early and raises KeyboardInterrupt.

    With `output_dir`, a failing step ends the run and raises its error (`pipeline.failures`);
    `where` is added to that message (what the folder keeps).

    distilabel installs its SIGINT handler inside `run`; this wraps that handler so a SIGINT to
    the main process alone also reaches the step processes (the multiprocessing manager ignores
    SIGINT).
    """
    interrupted = threading.Event()
    install = pipeline._handle_keyboard_interrupt

    def handle_keyboard_interrupt() -> Any:
        original = install()
        distilabel_handler = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: Any) -> None:
            if not interrupted.is_set():
                interrupted.set()
                for child in multiprocessing.active_children():
                    with contextlib.suppress(ProcessLookupError, TypeError):
                        os.kill(child.pid, signal.SIGINT)
            if callable(distilabel_handler):
                distilabel_handler(signum, frame)

        signal.signal(signal.SIGINT, handler)
        return original

    pipeline._handle_keyboard_interrupt = handle_keyboard_interrupt
    state = Path(output_dir) / STATE_DIR if output_dir is not None else None
    if state is None:
        distiset = pipeline.run(use_cache=False)
    else:
        with watch_failures(pipeline, state / FAILURES_DIR, state / ERROR_LOG, where=where):
            distiset = pipeline.run(use_cache=False)
    if interrupted.is_set():
        print(interrupted_message(output_dir), file=sys.stderr)
        raise KeyboardInterrupt
    return distiset


def interrupted_message(output_dir: Any = None) -> str:
    where = f" in {output_dir}/{STATE_DIR}" if output_dir is not None else ""
    return (
        "Interrupted: no new LLM request was sent after Ctrl-C and nothing was written; the "
        f"answers received so far are cached{where}. Run the same command again to resume."
    )
