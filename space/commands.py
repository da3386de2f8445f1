"""`wavecoder space`: run the Gradio Space locally (not yet available)."""

from __future__ import annotations

from wavecoder.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "space", help="browse CodeOcean and try a model in Gradio (not yet available)"
    )
    p.add_argument(
        "--dataset", metavar="DIR_OR_ID", help="CodeOcean folder or Hub dataset id to browse"
    )
    p.add_argument("--model", metavar="PATH_OR_ID", help="model folder or Hub id to try")
    p.add_argument(
        "--port", type=int, default=7860, help="local port of the Gradio server (default: 7860)"
    )
    p.set_defaults(func=_not_yet)


def _not_yet(args) -> int:
    raise UserError("`wavecoder space` is not yet available in this release (the Space issue).")
