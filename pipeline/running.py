"""Running a distilabel pipeline as a command does, in the main process, and reading its leaves.

`run_pipeline` runs every pipeline of `wavecoder generate` (`--select-only` too): a Ctrl-C ends
it within seconds and raises KeyboardInterrupt once the pipeline has shut down (see
`generation.stopping` for the step processes' side), and a failing step ends it with its error
(`pipeline.failures`). `leaf_rows` reads one leaf of the Distiset it returns.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from pipeline.failures import watch_failures
from pipeline.layout import ERROR_LOG, FAILURES_DIR, STATE_DIR

# distilabel's main process checks whether a stage's steps have loaded every 2.5 s (and whether
# they have finished every 0.5 s); a `generate` run has up to four stages, so that was about 10 s
# of idle waiting per run, whatever its size. Its checks keep their order and meaning: they only
# come sooner.
POLL_SECONDS = 0.1


class _PromptClock:
    """The `time` module as distilabel's pipeline sees it, with its polling sleeps shortened to
    `POLL_SECONDS`."""

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        import time

        time.sleep(min(seconds, POLL_SECONDS))


def poll_promptly() -> None:
    """Make distilabel's pipeline poll its steps every `POLL_SECONDS` instead of 2.5 s."""
    from distilabel.pipeline import base

    if not isinstance(base.time, _PromptClock):
        base.time = _PromptClock()


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
    poll_promptly()
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


def leaf_rows(distiset: Any, name: str) -> list[dict[str, Any]] | None:
    """The rows of the leaf step `name` of a distilabel Distiset; None when it has no such leaf
    (a leaf that wrote no rows has none).

    distilabel names the config of a pipeline's only leaf `default`, whatever the step's name.
    """
    if not distiset:
        return None
    if name not in distiset:
        if len(distiset) != 1 or "default" not in distiset:
            return None
        name = "default"
    split = distiset[name]
    dataset = split["train"] if "train" in split else next(iter(split.values()))
    return dataset.to_list()
