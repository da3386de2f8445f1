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

from pipeline.errors import UserError

# Packages whose `commands` module registers subcommands, in help order.
COMMAND_MODULES = (
    "pipeline.commands",
    "training.commands",
    "evaluation.commands",
    "space.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wavecoder",
        description="WaveCoder on the Hugging Face Hub: build CodeOcean, train, evaluate, browse.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
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
    args = parser.parse_args(argv)
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
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"wavecoder {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"wavecoder {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
