"""Stopping a run early without losing what was paid for: Ctrl-C, or an endpoint that refuses.

distilabel's own first Ctrl-C waits until every step finishes its current batch, and the
generation stage is one batch: the whole LLM stage. So:

- in the step's process, `sigint_stops(signal)` turns SIGINT into `StopSignal.set`: the loop
  sends no new request, awaits the ones in flight (their answers land in the response cache),
  and the step ends at once;
- in the main process, `pipeline.running.run_pipeline` forwards a SIGINT sent to it alone
  (`kill -INT PID`) to the step processes, as a terminal's Ctrl-C (sent to the whole process
  group) already does, and turns an interrupted run into KeyboardInterrupt after the pipeline
  has shut down, so nothing is written and the same command resumes.

A third Ctrl-C still forces distilabel to kill its processes (answers in flight are then lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator

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
