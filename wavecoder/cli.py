"""The `wavecoder` command line: one entry point, one subcommand per job.

Each package registers its own subcommands (``register(subparsers)`` in its ``commands``
module), so the heavy imports of a job happen only when that job runs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Callable

from wavecoder import __version__
from wavecoder.errors import StepFailed, UserError

# Packages whose `commands` module registers subcommands, in help order.
COMMAND_MODULES = (
    "pipeline.commands",
    "training.commands",
    "evaluation.commands",
    "space.commands",
)


def version() -> str:
    """The installed distribution's version, else the source tree's ``__version__``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    try:
        return distribution_version("wavecoder")
    except PackageNotFoundError:
        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wavecoder",
        description="WaveCoder on the Hugging Face Hub: build CodeOcean, train, evaluate, browse.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {version()}",
        help="print the installed wavecoder version and exit",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Library deprecation chatter (pydantic field metadata in distilabel, pyarrow options) is not
    # actionable for users of the command line.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*'default' attribute with value None.*")
    parser = build_parser()
    # A command that forwards flags to another parser (`train` to TRL's) takes what is unknown here.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.verbose:
        os.environ.setdefault("DISTILABEL_LOG_LEVEL", "INFO")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "passthrough", False):
        return run_command(args.command, lambda: args.func(args, extra), verbose=args.verbose)
    return run_command(args.command, lambda: args.func(args), verbose=args.verbose)


def run_command(command: str, call: Callable[[], int | None], *, verbose: bool = False) -> int:
    """Run a command's handler; its errors become one message on stderr and an exit status:
    2 for a user's error (`UserError`, no traceback), 1 for a bug in a pipeline step
    (`StepFailed`: the traceback with `verbose`, else in the log the message names), 130 for
    Ctrl-C. Any other exception is a bug of the command itself and keeps its traceback."""
    try:
        return int(call() or 0)
    except UserError as exc:
        print(f"wavecoder {command}: error: {exc}", file=sys.stderr)
        return 2
    except StepFailed as exc:
        if verbose and exc.traceback_text:
            print(exc.traceback_text, file=sys.stderr)
        print(f"wavecoder {command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"wavecoder {command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
