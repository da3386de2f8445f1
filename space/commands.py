"""`wavecoder space` (run the Gradio Space here) and `wavecoder space deploy` (publish it)."""

from __future__ import annotations

import argparse
import os

from wavecoder.errors import UserError

DESCRIPTION = """\
Browse a CodeOcean dataset row by row (filters, full-text search, why each row was kept) and try
a model, in a Gradio app: `?row=<id>` in its URL opens that row. `deploy` publishes the same app
as a Hugging Face Space that reads the dataset and models from the Hub.
"""
EPILOG = """\
examples:
    wavecoder space --dataset codeocean-demo --model data/smollm2-135m-wavecoder-full
    wavecoder space deploy --repo-id ORG/wavecoder --dataset ORG/codeocean \\
        --model ORG/wavecoder-6.7b --hardware zero-a10g --secret HF_TOKEN=SPACE_READ_TOKEN --dry-run
"""
DEPLOY_ONLY = ("repo_id", "private", "hardware", "secret", "dry_run")
RUN_ONLY = ("port", "host")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "space",
        help="browse CodeOcean and try a model in Gradio; `space deploy` publishes the Space",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=["deploy"],
        metavar="deploy",
        help="deploy: create or update the Space on the Hub (default: run the app here)",
    )
    p.add_argument(
        "--dataset",
        metavar="DIR_OR_ID",
        help="CodeOcean folder or Hub dataset id (default: $WAVECODER_DATASET); deploy: a Hub id",
    )
    p.add_argument("--model", metavar="PATH_OR_ID", help="model folder or Hub id to try")
    p.add_argument(
        "--base-model",
        metavar="PATH_OR_ID",
        help="a second model answering beside --model (e.g. the base model it was tuned from)",
    )
    run = p.add_argument_group("run here")
    run.add_argument("--port", type=int, help="port of the Gradio server (default: 7860)")
    run.add_argument(
        "--host", help="address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)"
    )
    deploy = p.add_argument_group("deploy")
    deploy.add_argument("--repo-id", metavar="ORG/NAME", help="the Space's id on the Hub")
    deploy.add_argument(
        "--private",
        action="store_true",
        help="make the Space private (a new one at creation, an existing one too)",
    )
    deploy.add_argument(
        "--hardware",
        metavar="FLAVOR",
        help="ask for this hardware (e.g. zero-a10g, t4-small, a10g-small; default: leave it)",
    )
    deploy.add_argument(
        "--secret",
        action="append",
        metavar="NAME[=ENV]",
        help="set the Space secret NAME from the environment variable ENV (default: NAME), e.g. "
        "HF_TOKEN=SPACE_READ_TOKEN for a private dataset; repeatable; values are never printed",
    )
    deploy.add_argument(
        "--dry-run",
        action="store_true",
        help="list the settings, files, variables and secrets' names the Space would get; send "
        "nothing (no token needed)",
    )
    p.set_defaults(func=space)


def space(args: argparse.Namespace) -> int:
    wrong = RUN_ONLY if args.action == "deploy" else DEPLOY_ONLY
    given = [name for name in wrong if getattr(args, name) not in (None, False, [])]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        where = "running the app here" if args.action == "deploy" else "`wavecoder space deploy`"
        raise UserError(f"{flags} applies only to {where}")
    dataset = args.dataset or os.environ.get("WAVECODER_DATASET")
    if not dataset:
        raise UserError(
            "which dataset? pass --dataset DIR_OR_ID (a folder `wavecoder generate` wrote, or a "
            "Hub dataset id) or set WAVECODER_DATASET"
        )
    if args.action == "deploy":
        return _deploy(args, dataset)
    from space.app import build_demo, launch

    demo = build_demo(dataset, args.model, args.base_model)
    launch(demo, host=args.host or "127.0.0.1", port=args.port or 7860)
    return 0


def _deploy(args: argparse.Namespace, dataset: str) -> int:
    from space.deploy import deploy_space, plan_deploy

    if not args.repo_id:
        raise UserError("deploy needs the Space's id: --repo-id ORG/NAME")
    plan = plan_deploy(args.repo_id, dataset=dataset, model=args.model,
                       base_model=args.base_model, private=args.private,
                       hardware=args.hardware, secrets=args.secret or [])  # fmt: skip
    if args.dry_run:
        print(plan.describe())
        return 0
    url = deploy_space(plan)
    print(f"deployed the Space {args.repo_id} -> {url}")
    return 0
