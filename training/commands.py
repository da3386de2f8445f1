"""`wavecoder train`: TRL SFT on CodeOcean, here or on HF Jobs.

Every flag other than the ones below is TRL's (`SFTConfig`, `ModelConfig`) or ours
(`training/configs.py`) and goes to `training/sft.py` unchanged, after `--config RECIPE.yaml`.
"""

from __future__ import annotations

EPILOG = """Any other flag is a recipe key (TRL's SFTConfig / ModelConfig, or training/configs.py) and
overrides the recipe, e.g. --learning_rate 1e-4 --max_steps 20 --dataset_name ORG/codeocean.
`wavecoder train --config RECIPE.yaml --help` lists them all. Recipes: training/recipes/README.md."""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "train",
        help="fine-tune a code model on CodeOcean with TRL (locally or on HF Jobs)",
        description="Fine-tune a code model on CodeOcean with TRL's SFTTrainer (training/sft.py).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
        add_help=False,
    )
    p.add_argument("-h", "--help", action="store_true", help="show this help and TRL's flags")
    p.add_argument("--config", metavar="RECIPE.yaml", help="training recipe (training/recipes/)")
    job = p.add_argument_group("HF Jobs")
    job.add_argument("--job", action="store_true", help="run on Hugging Face Jobs instead of here")
    job.add_argument(
        "--flavor", default="a10g-large", help="Jobs hardware flavor (default: a10g-large)"
    )
    job.add_argument(
        "--timeout", help="Jobs timeout, e.g. 90m or 6h (default: estimated from the dataset)"
    )
    job.add_argument("--namespace", help="user or organization that runs the job")
    job.add_argument(
        "--package",
        metavar="SPEC",
        help="how the job installs wavecoder (default: this checkout's git URL at HEAD, or the "
        "installed version)",
    )
    job.add_argument(
        "--dry-run", action="store_true", help="print the Jobs request and send nothing"
    )
    p.set_defaults(func=train, passthrough=True, parser=p)


def train(args, extra: list[str]) -> int:
    if args.help:
        args.parser.print_help()
        print("\nTRL and recipe flags (training/sft.py):\n")
        from trl import ModelConfig, SFTConfig, TrlParser

        from training.configs import WaveCoderArguments

        TrlParser((WaveCoderArguments, SFTConfig, ModelConfig), prog="wavecoder train").print_help()
        return 0
    from wavecoder.errors import UserError

    if not args.config:
        raise UserError(
            "--config RECIPE.yaml is required (see training/recipes/README.md; on a CPU: "
            "training/recipes/smollm2-135m/sft/config_full.yaml)"
        )
    from pathlib import Path

    if not Path(args.config).is_file():  # before TRL is imported: a typo answers at once
        raise UserError(
            f"--config: no recipe file {args.config!r} (see training/recipes/README.md)"
        )
    if args.job or args.dry_run:
        if not args.job:
            raise UserError("--dry-run prints an HF Jobs request: add --job")
        from training.jobs import launch_job

        return launch_job(
            args.config, extra, flavor=args.flavor, timeout=args.timeout,
            namespace=args.namespace, dry_run=args.dry_run, package=args.package,
        )  # fmt: skip
    from training.sft import run

    return run(["--config", args.config, *extra])
