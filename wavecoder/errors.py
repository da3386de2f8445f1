"""The exception types the command line turns into one clear message and an exit status."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """An error caused by the user's input or set-up; the CLI prints its message, no traceback.

    The message must say what is wrong and how to fix it.
    """


class StepFailed(Exception):
    """A bug in a pipeline step's process: the CLI prints the message (exit status 1), and the
    traceback only with `-v`; the message names the log file that holds it."""

    def __init__(self, message: str, traceback_text: str = "", log_path: Path | None = None):
        super().__init__(message)
        self.traceback_text = traceback_text
        self.log_path = log_path
