"""`wavecoder train`: TRL SFT on CodeOcean (not yet available)."""

from __future__ import annotations

from wavecoder.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="fine-tune a code model on CodeOcean with TRL (not yet available)"
    )
    p.add_argument("--config", help="training recipe YAML")
    p.set_defaults(func=_not_yet)


def _not_yet(args) -> int:
    raise UserError("`wavecoder train` is not yet available in this release (the training issue).")
