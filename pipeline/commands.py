"""`wavecoder generate` and `wavecoder push`: build CodeOcean and upload folders to the Hub."""

from __future__ import annotations

import argparse

from pipeline.layout import DRY_RUN_DIR, SELECTION_FILE, STATE_DIR


def register(subparsers) -> None:
    g = subparsers.add_parser(
        "generate",
        help="build a CodeOcean dataset folder from raw code (recipe + flags)",
        description="Raw code -> rule filters -> embeddings -> KCenterGreedy -> LLM generator and "
        "discriminator -> a Hub-ready dataset folder. Flags override the recipe's keys. The "
        "folder is the recipe's `output`, relative to the current folder (./codeocean-demo for "
        "--recipe demo, ./codeocean for --recipe paper), unless --output says otherwise.",
    )
    g.add_argument(
        "--recipe", default="demo", help="recipe YAML path or shipped name (demo, paper)"
    )
    g.add_argument("--corpus", help="stdlib, a folder path, or hub:<dataset id>")
    g.add_argument("--languages", help="comma-separated languages to keep (e.g. python,go)")
    g.add_argument("--limit", type=int, help="read at most this many raw functions")
    g.add_argument(
        "--num-snippets",
        "--num-samples",
        dest="num_samples",
        type=int,
        metavar="K",
        help="number of code snippets KCenterGreedy selects (its k; the recipe's selection.k); "
        "--num-samples is the old name",
    )
    g.add_argument("--embedding-model", help="sentence-transformers model id or folder")
    g.add_argument(
        "--embedding-backend",
        choices=["auto", "torch", "onnx", "onnx-int8"],
        help="how embeddings are computed: auto (ONNX Runtime fp32 on CPU, torch fp16 on CUDA), "
        "torch, onnx (fp32) or onnx-int8 (faster, slightly different picks)",
    )
    g.add_argument("--base-url", help="OpenAI-compatible endpoint URL")
    g.add_argument("--api-key", help="API key (else from the environment)")
    g.add_argument("--generator-model", help="LLM that writes instruction data")
    g.add_argument("--discriminator-model", help="LLM that judges it")
    g.add_argument(
        "--output",
        metavar="DIR",
        help="output folder, a Hub-ready dataset folder (default: the recipe's `output` in the "
        "current folder: ./codeocean-demo for demo, ./codeocean for paper)",
    )
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
        help=f"stop after KCenterGreedy selection (no LLM stage): writes {SELECTION_FILE}",
    )
    g.add_argument(
        "--concurrency", type=int, help="LLM requests in flight per model (or local batch size)"
    )
    g.set_defaults(func=_generate)

    p = subparsers.add_parser(
        "push",
        help="upload a dataset or model folder to the Hub",
        description="Upload a folder written by `wavecoder generate` (a dataset) or by training "
        f"(a model) to the Hub, leaving the run state ({STATE_DIR}/, {DRY_RUN_DIR}/) behind. Needs a "
        "write token (`hf auth login`, or HF_TOKEN) except with --dry-run.",
    )
    p.add_argument("folder", help="folder produced by `wavecoder generate` or training")
    p.add_argument("--repo-id", required=True, help="ORG/NAME on the Hub")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument(
        "--repo-type",
        choices=["dataset", "model"],
        help="default: model when the folder holds weights or a model config, else dataset",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check the folder and list every file that would be uploaded, with sizes; send "
        "nothing (no token needed)",
    )
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="push a dataset whose default config has no accepted row (refused otherwise)",
    )
    p.set_defaults(func=_push)


def _generate(args: argparse.Namespace) -> int:
    from pipeline.run import generate_from_args

    return generate_from_args(args)


def _push(args: argparse.Namespace) -> int:
    from pipeline.push import plan_push, push_folder

    options = dict(
        repo_id=args.repo_id,
        private=args.private,
        repo_type=args.repo_type,
        allow_empty=args.allow_empty,
    )
    if args.dry_run:
        print(plan_push(args.folder, **options).describe())
        return 0
    url = push_folder(args.folder, **options)
    print(f"pushed {args.folder} -> {url}")
    return 0
