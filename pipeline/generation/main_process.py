"""The generation stage's work in the main process, around the distilabel pipeline.

`pipeline.run` calls it before, while building, and after running the pipeline (whose steps,
`AssignCodeTask` and `GenerateAndJudge`, run in their own processes):

    dry_run = prepare_generation(recipe, output_dir, dry_run=mode)   # checks, lock, resume state
    ...  last = add_generation_steps(pipeline, select_step, recipe, output_dir, dry_run=dry_run)
    distiset = run_pipeline(pipeline, output_dir)               # pipeline.running: Ctrl-C stops it
    return finish_generation(distiset, recipe, output_dir, dry_run=dry_run, selected=n)

distilabel's own cache is not used for resuming: after a SIGKILL it was seen to hang. A run is
resumed by running the same command again; every request answered before comes from the
response cache in `DIR/.wavecoder/`, so only unanswered work reaches the endpoint. The dataset
folder is rewritten only by a run whose generation step finished (`finish_generation`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pipeline.execution.config import ExecutionConfig
from pipeline.execution.summary import execution_summary
from pipeline.generation.cleaning import check_rows, corpus_map, judge_dry_run
from pipeline.generation.config import (
    GenerationConfig,
    tester_config,
    tester_needs_own_llm,
    validate_generation,
)
from pipeline.generation.example_database import ExampleDatabase
from pipeline.generation.llm_access import endpoint_configured, require_llm_access
from pipeline.generation.run_state import (
    COMPLETED,
    acquire_lock,
    check_resume_state,
    clear_status,
    read_status,
    release_lock,
    settings_fingerprint,
)
from pipeline.generation.stopping import ENDPOINT_REFUSED, INTERRUPTED
from pipeline.generation.summary import format_summary, summarize
from pipeline.generation.writer import write_dataset_folder
from pipeline.layout import (
    CALL_STATS_FILE,
    CORPUS_REPORT_FILE,
    DISTILABEL_DIR,
    DISTILABEL_LOG,
    DRY_RUN_DIR,
    ESTIMATE_FILE,
    EXAMPLE_DATABASE_FILE,
    EXAMPLES_FILE,
    RUN_RECORDS,
    STATE_DIR,
    SUMMARY_FILE,
)
from pipeline.running import interrupted_message, leaf_rows
from pipeline.tasks import all_tasks, default_mix
from wavecoder.errors import UserError

GENERATION_STEP = "generate_and_judge"
logger = logging.getLogger("wavecoder.generation")


def generation_config(recipe: Any) -> GenerationConfig:
    config = recipe.generation
    if isinstance(config, dict):  # a recipe built before the section had a schema
        config = GenerationConfig(**config)
    return config


def prepare_generation(
    recipe: Any, output_dir: str | Path, *, dry_run: bool | Literal["auto"] = False
) -> bool:
    """Validate the generation section and decide real run or dry run; returns dry_run.

    `dry_run="auto"` (`--dry-run auto`) is a dry run only when no endpoint is configured.
    Without a dry run, a missing endpoint or local model is a UserError naming the fix; a real
    run then takes the folder's lock and checks that the folder's run had the same settings.
    """
    config = generation_config(recipe)
    recipe.generation = config
    validate_generation(config)
    if dry_run == "auto":
        ready = all(endpoint_configured(getattr(config, r)) for r in ("generator", "discriminator"))
        dry_run = not ready
        print(
            "An LLM endpoint is configured: doing a real run."
            if ready
            else "No LLM endpoint is configured: doing a dry run (prompts and cost estimate only). "
            "For a real run set OPENAI_API_KEY (or pass --api-key), set HF_TOKEN with provider "
            "hf-inference-providers, or pass --base-url of a local OpenAI-compatible server."
        )
    execution = getattr(recipe, "execution", None)
    executes = bool(execution is not None and execution.enabled)
    if not dry_run:
        require_llm_access(config, tester=executes)
        if executes:
            require_sandbox()
        out = Path(output_dir)
        acquire_lock(out)
        check_resume_state(out, settings_fingerprint(recipe, config))
        clear_status(out / STATE_DIR, CALL_STATS_FILE)
    return bool(dry_run)


def require_sandbox() -> None:
    """Execution runs generated code only in the bwrap sandbox: a UserError naming the fix when
    bubblewrap is missing, or installed but unable to run a program (a container that forbids
    user namespaces), before any LLM is called. Nothing ever runs outside it."""
    from evaluation.execution import run_program
    from evaluation.languages import LANGUAGES
    from evaluation.sandbox import Sandbox, find_bwrap
    from pipeline.execution.layout import canary_program

    fix = "install bubblewrap (`apt-get install bubblewrap`, or scripts/setup.sh)"
    if find_bwrap() is None:
        raise UserError(f"execution.enabled needs the sandbox: bubblewrap is not installed; {fix}"
                        ", or run without --execution")  # fmt: skip
    try:
        sandbox = Sandbox()
        outcome = run_program(
            canary_program("python"), sandbox, LANGUAGES["python"].toolchain(), timeout_s=30
        )
    except UserError as exc:
        raise UserError(f"execution.enabled needs the sandbox: {exc}") from None
    if outcome.result.startswith("timed out"):
        raise UserError(
            "execution.enabled needs the sandbox, and a known-good Python program timed out in "
            "it (30 s): the machine is too loaded to check cases; try again, or run without "
            "--execution"
        )
    if not outcome.passed:
        raise UserError(
            "execution.enabled needs the sandbox, and bubblewrap cannot run a known-good Python "
            f"program here: {outcome.result[:300]}. Run where bwrap may create user namespaces "
            "(e.g. a container started with --privileged or a seccomp profile allowing them), or "
            "run without --execution"
        )


def add_generation_steps(
    pipeline: Any, upstream: Any, recipe: Any, output_dir: str | Path, *, dry_run: bool = False
) -> Any:
    """Connect task assignment and the Generator-Discriminator step after `upstream`.

    Call it inside the `with Pipeline(...)` block; returns the last step.
    """
    # distilabel: imported once a pipeline is built (`pipeline.run.build_pipeline` says why).
    from pipeline.generation.backends import build_llm
    from pipeline.steps import AssignCodeTask, GenerateAndJudge

    config = generation_config(recipe)
    out = Path(output_dir).resolve()
    assign = AssignCodeTask(
        name="assign_code_task",
        mix=config.task_mix or default_mix(),
        seed=recipe.seed,
        pipeline=pipeline,
    )
    execution = getattr(recipe, "execution", None) or ExecutionConfig()
    # The generator's own LLM serves the tester when no key of its own is set (one model loaded).
    tester = None
    if execution.enabled and tester_needs_own_llm(config):
        tester = build_llm(tester_config(config), for_dry_run=dry_run)
    generate = GenerateAndJudge(
        name=GENERATION_STEP,
        generator_llm=build_llm(config.generator, for_dry_run=dry_run),
        discriminator_llm=build_llm(config.discriminator, for_dry_run=dry_run),
        tester_llm=tester,
        execution=dataclasses.asdict(execution),
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
    distiset: Any,
    recipe: Any,
    output_dir: str | Path,
    *,
    dry_run: bool = False,
    selected: int | None = None,
) -> int:
    """Write the dataset folder (or report the dry run) and print the summary; exit status.

    `selected` is the number of rows the generation step was given (None: unknown). The dataset
    folder is written only when the step finished: after a Ctrl-C, a crash, or an endpoint that
    refused every request, what the folder held is left as it was.
    """
    out = Path(output_dir)
    if dry_run:
        # distilabel (the dry run's prompts are the tasks'): already imported by the pipeline.
        from pipeline.generation.dry_run import format_estimate

        estimate = json.loads((out / DRY_RUN_DIR / ESTIMATE_FILE).read_text(encoding="utf-8"))
        print(format_estimate(estimate, out / DRY_RUN_DIR))
        judge = judge_dry_run(recipe, generation_config(recipe), out)
        if judge:
            print(judge)
        return 0
    status = read_status(out / STATE_DIR) or {}
    records = distiset_records(distiset)
    if status.get("status") == INTERRUPTED:
        print(interrupted_message(out), file=sys.stderr)
        raise KeyboardInterrupt
    if status.get("status") == ENDPOINT_REFUSED:
        raise UserError(f"{status['message']} {not_written(out)}")
    # No status: the step crashed, or never ran because nothing was selected (selected == 0).
    if status.get("status") != COMPLETED and selected != 0:
        _report_crash(out)
        return 1
    if status.get("status") == COMPLETED and status.get("rows", 0) != len(records):
        _report_crash(out, f"it produced {status['rows']} rows but {len(records)} arrived")
        return 1
    summary = write_generation_output(records, recipe, out)
    print(format_summary(summary))
    print(f"dataset folder: {out} (datasets.load_dataset({str(out)!r}))")
    if records and not summary["accepted"]:
        why = [f"`{name}`" for name in ("rejected", "failed") if summary.get(name)]
        print(
            f"warning: no row was accepted, so the `default` config of {out} is empty; see why in "
            f"{' and '.join([*why, SUMMARY_FILE])}"
            + (f" (load_dataset({str(out)!r}, {why[0]!r}))" if why else ""),
            file=sys.stderr,
        )
    release_lock(out)
    return 0


def _report_crash(out: Path, detail: str = "") -> None:
    logs = sorted(
        (out / STATE_DIR / DISTILABEL_DIR).glob(f"**/{DISTILABEL_LOG}"),
        key=lambda p: p.stat().st_mtime,
    )
    log = logs[-1] if logs else out / STATE_DIR / DISTILABEL_DIR
    print(
        f"wavecoder generate: error: the generation step failed{f' ({detail})' if detail else ''}"
        f", so the dataset was not written to {out} (a dataset already there is kept). Its "
        "traceback is "
        f"in {log}. The LLM answers received are cached: once the cause is fixed, the same "
        "command resumes.",
        file=sys.stderr,
    )


def not_written(out: Path) -> str:
    """What an unfinished run left in `out`: the dataset was not written, its records were."""
    records = [name for name in RUN_RECORDS if (out / name).exists()]
    kept = f"; this run's records are there: {', '.join(records)}" if records else ""
    return f"The dataset was not written to {out} (a dataset already there is kept){kept}."


def distiset_records(distiset: Any) -> list[dict[str, Any]]:
    """The rows of the generation step from a distilabel Distiset ([] when it has none)."""
    return leaf_rows(distiset, GENERATION_STEP) or []


def card_context(recipe: Any, out: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the dataset card reports besides the rows: the recipe, the filters' counts, languages."""
    report_path = out / CORPUS_REPORT_FILE
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    recipe_dict = recipe.to_dict() if hasattr(recipe, "to_dict") else {}
    if not isinstance(recipe_dict.get("generation"), dict):
        recipe_dict["generation"] = dataclasses.asdict(generation_config(recipe))
    return {
        "recipe": recipe_dict,
        "corpus_report": report,
        "languages": Counter(r.get("language") or "unknown" for r in records),
    }


def lineage(recipe: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the rows came from, for the model card of a checkpoint trained on them
    (`training.data.dataset_lineage` reads it from `summary.json`).

    `k` is the number of snippets selected (one row each, whatever became of it), which can be
    less than the recipe's `selection.k`; `languages` are the selected snippets' languages, most
    frequent first, since an empty `corpus.languages` in the recipe means all of them.
    """
    config = generation_config(recipe)
    languages = Counter(r.get("language") or "unknown" for r in records)
    return {
        "recipe": recipe.name,
        "corpus": recipe.corpus.source,
        "languages": [name for name, _ in sorted(languages.items(), key=lambda i: (-i[1], i[0]))],
        "embedding_model": recipe.embeddings.model,
        "k": len(records),
        "generator_model": config.generator.model,
        "discriminator_model": config.discriminator.model,
    }


def execution_block(recipe: Any, config: GenerationConfig, records: list[dict]) -> dict:
    """The summary's `execution` block (pass rates per task and language) when the recipe ran
    cases in the sandbox; {} otherwise."""
    execution = getattr(recipe, "execution", None)
    if execution is None or not execution.enabled:
        return {}
    return {"execution": execution_summary(records, execution, tester_config(config).model)}


def write_generation_output(
    records: list[dict[str, Any]], recipe: Any, out: Path
) -> dict[str, Any]:
    """Decontaminate and near-dedup the rows (`pipeline.decontamination.stages`), then write the
    configs, the summary, the card's plots and the example database's pools; returns the summary."""
    config = generation_config(recipe)
    stats_file = out / STATE_DIR / CALL_STATS_FILE
    call_stats = json.loads(stats_file.read_text()) if stats_file.exists() else None
    records, checks = check_rows(records, recipe, config, out)
    context = card_context(recipe, out, records)
    summary = {
        **summarize(records, config, call_stats),
        "lineage": lineage(recipe, [r for r in records if r.get("task")]),
        **checks,
        **execution_block(recipe, config, records),
        # the recipe as run: `wavecoder decontaminate` re-renders the card from it
        "recipe": context["recipe"],
    }
    write_dataset_folder(
        records,
        out,
        tasks=list(all_tasks()),
        summary=summary,
        title=recipe.name,
        card_context=context,
        plot_context=corpus_map(recipe.embeddings, out),
    )
    db = ExampleDatabase(all_tasks(), out / STATE_DIR / EXAMPLES_FILE)
    try:
        db.export_jsonl(out / EXAMPLE_DATABASE_FILE, row_ids={r["id"] for r in records})
    finally:
        db.close()
    return summary
