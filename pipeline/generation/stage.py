"""The generation stage of `wavecoder generate`, as `pipeline.run` uses it.

    dry_run = prepare_generation(recipe, args, output_dir)     # flags, checks, resume state
    ...  last = add_generation_steps(pipeline, select_step, recipe, output_dir, dry_run=dry_run)
    distiset = pipeline.run(use_cache=False)                    # the response cache resumes
    return finish_generation(distiset, recipe, output_dir, dry_run=dry_run)

distilabel's own cache is not used for resuming: after a SIGKILL it was seen to hang. A run is
resumed by running the same command again; every request answered before comes from the
response cache in `DIR/.wavecoder/`, so only unanswered work reaches the endpoint.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from pipeline.errors import UserError
from pipeline.generation.config import GenerationConfig, apply_cli_overrides, validate_generation

STATE_DIR = ".wavecoder"
GENERATION_STEP = "generate_and_judge"
DRY_RUN_DIR = "dry_run"
logger = logging.getLogger("wavecoder.generation")


def generation_config(recipe: Any) -> GenerationConfig:
    config = recipe.generation
    if isinstance(config, dict):  # a recipe built before the section had a schema
        config = GenerationConfig(**config)
    return config


def prepare_generation(recipe: Any, args: Any, output_dir: str | Path) -> bool:
    """Apply the generation flags, validate, and decide real run or dry run; returns dry_run.

    `--dry-run` is a dry run; `--dry-run auto` is a dry run only when no endpoint is configured.
    Without `--dry-run`, a missing endpoint is a UserError naming every way to provide one.
    """
    from pipeline.generation.backends import endpoint_configured, require_llm_access

    config = generation_config(recipe)
    recipe.generation = config
    apply_cli_overrides(config, args)
    validate_generation(config)
    mode = getattr(args, "dry_run", None)
    if mode == "auto":
        ready = all(endpoint_configured(getattr(config, r)) for r in ("generator", "discriminator"))
        dry_run = not ready
        print(
            "An LLM endpoint is configured: doing a real run."
            if ready
            else "No LLM endpoint is configured: doing a dry run (prompts and cost estimate only). "
            "For a real run set OPENAI_API_KEY (or pass --api-key), set HF_TOKEN with provider "
            "hf-inference-providers, or pass --base-url of a local OpenAI-compatible server."
        )
    else:
        dry_run = bool(mode)
    if not dry_run:
        require_llm_access(config)
        check_resume_state(Path(output_dir), settings_fingerprint(recipe, config))
    return dry_run


def settings_fingerprint(recipe: Any, config: GenerationConfig) -> dict[str, Any]:
    """What a resumed run must share with the run it continues."""
    from pipeline.tasks import default_mix

    return {
        "seed": recipe.seed,
        "wave_size": config.wave_size,
        "examples_per_prompt": config.examples_per_prompt,
        "task_mix": config.task_mix or default_mix(),
        "generator": [config.generator.provider, config.generator.model],
        "discriminator": [config.discriminator.provider, config.discriminator.model],
    }


def check_resume_state(output_dir: Path, fingerprint: dict[str, Any]) -> None:
    """Refuse to continue a run in `output_dir` that was made with other settings."""
    from pipeline.generation.example_database import ExampleDatabase
    from pipeline.generation.step import EXAMPLES_FILE
    from pipeline.tasks import all_tasks

    db = ExampleDatabase(all_tasks(), output_dir / STATE_DIR / EXAMPLES_FILE)
    try:
        stored = db.get_meta("settings")
        current = json.dumps(fingerprint, sort_keys=True)
        if stored is None:
            db.set_meta("settings", current)
        elif stored != current:
            before = json.loads(stored)
            changed = ", ".join(
                f"{k}: {before.get(k)} -> {v}" for k, v in fingerprint.items() if before.get(k) != v
            )
            raise UserError(
                f"{output_dir} holds a run made with other generation settings ({changed}); "
                f"use another --output, or delete {output_dir / STATE_DIR} to start over"
            )
    finally:
        db.close()


def add_generation_steps(
    pipeline: Any, upstream: Any, recipe: Any, output_dir: str | Path, *, dry_run: bool = False
) -> Any:
    """Connect task assignment and the Generator-Discriminator step after `upstream`.

    Call it inside the `with Pipeline(...)` block; returns the last step.
    """
    from pipeline.generation.assignment import AssignCodeTask
    from pipeline.generation.backends import build_llm
    from pipeline.generation.step import GenerateAndJudge
    from pipeline.tasks import default_mix

    config = generation_config(recipe)
    out = Path(output_dir).resolve()
    assign = AssignCodeTask(
        name="assign_code_task",
        mix=config.task_mix or default_mix(),
        seed=recipe.seed,
        pipeline=pipeline,
    )
    generate = GenerateAndJudge(
        name=GENERATION_STEP,
        generator_llm=build_llm(config.generator, for_dry_run=dry_run),
        discriminator_llm=build_llm(config.discriminator, for_dry_run=dry_run),
        generation=dataclasses.asdict(config),
        seed=recipe.seed,
        state_dir=str(out / STATE_DIR),
        dry_run_dir=str(out / DRY_RUN_DIR) if dry_run else None,
        pipeline=pipeline,
    )
    upstream.connect(assign)
    assign.connect(generate)
    return generate


def finish_generation(
    distiset: Any, recipe: Any, output_dir: str | Path, *, dry_run: bool = False
) -> int:
    """Write the dataset folder (or report the dry run) and print the summary; exit status."""
    out = Path(output_dir)
    if dry_run:
        from pipeline.generation.dry_run import ESTIMATE_FILE, format_estimate

        estimate = json.loads((out / DRY_RUN_DIR / ESTIMATE_FILE).read_text(encoding="utf-8"))
        print(format_estimate(estimate, out / DRY_RUN_DIR))
        return 0
    records = distiset_records(distiset)
    summary = write_generation_output(records, recipe, out)
    from pipeline.generation.summary import format_summary

    print(format_summary(summary))
    print(f"dataset folder: {out} (datasets.load_dataset({str(out)!r}))")
    return 0


def distiset_records(distiset: Any) -> list[dict[str, Any]]:
    """The rows of the generation step from a distilabel Distiset."""
    if not distiset:
        return []
    if GENERATION_STEP in distiset:
        name = GENERATION_STEP
    elif len(distiset) == 1 and "default" in distiset:  # the pipeline's only leaf
        name = "default"
    else:
        return []  # nothing was selected, so the step never produced rows
    split = distiset[name]
    dataset = split["train"] if "train" in split else next(iter(split.values()))
    return dataset.to_list()


def write_generation_output(
    records: list[dict[str, Any]], recipe: Any, out: Path
) -> dict[str, Any]:
    """Write configs, summary.json and example_database.jsonl; returns the summary."""
    from pipeline.generation.example_database import ExampleDatabase
    from pipeline.generation.step import CALL_STATS_FILE, EXAMPLES_FILE
    from pipeline.generation.summary import summarize
    from pipeline.generation.writer import write_dataset_folder
    from pipeline.tasks import all_tasks

    config = generation_config(recipe)
    stats_file = out / STATE_DIR / CALL_STATS_FILE
    call_stats = json.loads(stats_file.read_text()) if stats_file.exists() else None
    summary = summarize(records, config, call_stats)
    write_dataset_folder(records, out, tasks=list(all_tasks()), summary=summary, title=recipe.name)
    db = ExampleDatabase(all_tasks(), out / STATE_DIR / EXAMPLES_FILE)
    try:
        db.export_jsonl(out / "example_database.jsonl")
    finally:
        db.close()
    return summary
