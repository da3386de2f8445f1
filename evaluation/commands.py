"""`wavecoder evaluate`: score code models on HumanEval, MBPP and HumanEvalPack."""

from __future__ import annotations

from pipeline.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="score samples or a model on a code benchmark")
    p.add_argument("--benchmark", required=True)
    p.add_argument("--samples")
    p.add_argument("--model")
    p.add_argument("--output")
    p.set_defaults(func=_not_yet)


def _not_yet(args) -> int:
    raise UserError("`wavecoder evaluate` is not yet available in this release (the evaluation issue).")
