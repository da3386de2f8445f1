"""Orchestration of `wavecoder evaluate`: load the benchmark, generate (with ``--model``) or read
the samples, score them in the sandbox, write ``results.jsonl`` and ``summary.json``, print the
summary, and publish (``--model-card``, ``--push-generations``).

The flags are registered in `evaluation.commands`, which imports this module only when the command
runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

from evaluation import model_card
from evaluation.benchmarks import get_benchmark
from evaluation.generation import GenerationConfig, generate_samples, make_generator
from evaluation.samples import read_samples, write_json, write_jsonl
from evaluation.sandbox import Sandbox
from evaluation.scoring import score_samples
from evaluation.toolchains import prepare_toolchains
from wavecoder.errors import UserError

log = logging.getLogger(__name__)


def evaluate_from_args(args: argparse.Namespace) -> int:
    """Run `wavecoder evaluate` (or its ``--prepare-toolchains``) with parsed `args`: 0 when done;
    UserError for what the user can fix."""
    if args.prepare_toolchains:
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
