"""`wavecoder generate` and `wavecoder push`: build CodeOcean and upload folders to the Hub."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    g = subparsers.add_parser(
        "generate",
        help="build a CodeOcean dataset folder from raw code (recipe + flags)",
        description="Raw code -> rule filters -> embeddings -> KCenterGreedy -> LLM generator and "
        "discriminator -> a Hub-ready dataset folder. Flags override the recipe's keys.",
    )
    g.add_argument(
        "--recipe", default="demo", help="recipe YAML path or shipped name (demo, paper)"
    )
    g.add_argument("--corpus", help="stdlib, a folder path, or hub:<dataset id>")
    g.add_argument("--languages", help="comma-separated languages to keep (e.g. python,go)")
    g.add_argument("--limit", type=int, help="read at most this many raw functions")
    g.add_argument("--num-samples", type=int, help="number of snippets to select (KCenterGreedy k)")
    g.add_argument("--embedding-model", help="sentence-transformers model id or folder")
    g.add_argument("--embedding-backend", choices=["auto", "torch", "onnx", "onnx-int8"])
    g.add_argument("--base-url", help="OpenAI-compatible endpoint URL")
    g.add_argument("--api-key", help="API key (else from the environment)")
    g.add_argument("--generator-model", help="LLM that writes instruction data")
    g.add_argument("--discriminator-model", help="LLM that judges it")
    g.add_argument("--output", help="output folder (a Hub-ready dataset folder)")
    g.add_argument("--seed", type=int, help="seed of task assignment and the first center")
    g.add_argument(
        "--dry-run",
        nargs="?",
        const="always",
        choices=["always", "auto"],
        help="run up to the first LLM call and write the prompts and a token and cost estimate "
        "instead; `--dry-run auto` does so only when no LLM endpoint is configured",
    )
    g.add_argument(
        "--select-only",
        action="store_true",
        help="stop after KCenterGreedy selection (no LLM stage): writes selection.parquet",
    )
    g.add_argument(
        "--concurrency", type=int, help="LLM requests in flight per model (or local batch size)"
    )
    g.set_defaults(func=_generate)

    p = subparsers.add_parser("push", help="upload a dataset or model folder to the Hub")
    p.add_argument("folder", help="folder produced by `wavecoder generate` or training")
    p.add_argument("--repo-id", required=True, help="ORG/NAME on the Hub")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument(
        "--repo-type", choices=["dataset", "model"], help="default: guessed from the folder"
    )
    p.set_defaults(func=_push)


def _generate(args: argparse.Namespace) -> int:
    from pipeline.run import generate_from_args

    return generate_from_args(args)


def _push(args: argparse.Namespace) -> int:
    from pipeline.push import push_folder

    url = push_folder(
        args.folder, repo_id=args.repo_id, private=args.private, repo_type=args.repo_type
    )
    print(f"pushed {args.folder} -> {url}")
    return 0
