"""`wavecoder generate`: the whole CodeOcean run as one distilabel Pipeline.

    LoadCodeCorpus (stream + rule filters)
      >> EmbeddingGeneration (sentence-transformers, cached on disk)
      >> DecontaminateCorpus (benchmark copies set aside: pipeline/decontamination)
      >> KCenterGreedySelect (exact coreset)  >> selection record (a leaf: what was selected)
      >> the generation stage (task assignment, Generator, post-filter, Discriminator)

Resuming is running the same command again: embeddings come from the embedding cache, the
selection is recomputed (seconds), and every LLM answer already received comes from the response
cache in the output folder. distilabel's own batch cache is off (it was seen to hang after a
SIGKILL).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pipeline.corpus import CorpusReport
from pipeline.generation.main_process import (
    add_generation_steps,
    finish_generation,
    prepare_generation,
)
from pipeline.generation.records import in_selection_order
from pipeline.layout import (
    CORPUS_REPORT_FILE,
    DISTILABEL_DIR,
    PIPELINE_YAML,
    SELECTION_FILE,
    STATE_DIR,
)
from pipeline.preflight import check_inputs
from pipeline.recipe import Recipe
from pipeline.running import leaf_rows, run_pipeline

logger = logging.getLogger("wavecoder.run")

SELECTION_COLUMNS = ["id", "language", "source", "selection_rank", "coverage_radius", "code"]


def build_pipeline(recipe: Recipe, output_dir: Path, *, generation: dict | None = None):
    """The distilabel Pipeline of a run; ``generation`` (``{"dry_run": bool}``) adds the LLM stage.

    Returns ``(pipeline, names)`` where ``names`` maps roles to step names.
    """
    # distilabel and the steps built on it (seconds to import): only once a pipeline is built,
    # so that a bad input fails in about a second.
    from distilabel.pipeline import Pipeline
    from distilabel.steps import KeepColumns

    from pipeline.embeddings import CachedSentenceTransformerEmbeddings
    from pipeline.steps import (
        DecontaminateCorpus,
        EmbedCode,
        KCenterGreedySelect,
        LoadCodeCorpus,
    )

    c, f, e, s = recipe.corpus, recipe.filters, recipe.embeddings, recipe.selection
    state = output_dir / STATE_DIR
    with Pipeline(name=f"wavecoder-{recipe.name}", cache_dir=state / DISTILABEL_DIR) as pipeline:
        load = LoadCodeCorpus(
            name="load_corpus",
            source=c.source,
            languages=c.languages or None,
            split=c.split,
            limit=c.limit,
            column_mapping=c.column_mapping or None,
            min_chars=f.min_chars,
            max_chars=f.max_chars,
            blacklist=f.blacklist,
            dedup=f.dedup,
            report_path=str(output_dir / CORPUS_REPORT_FILE),
            batch_size=512,
        )
        embed = EmbedCode(
            name="embed_code",
            embeddings=CachedSentenceTransformerEmbeddings(
                model=e.model,
                backend=e.backend,
                batch_size=e.batch_size,
                cache_dir=e.cache_dir,
                device=e.device,
                show_progress=True,
            ),
            input_mappings={"text": "code"},
            input_batch_size=512,
        )
        decontaminate = DecontaminateCorpus(
            name="decontaminate_corpus",
            settings=dataclasses.asdict(recipe.decontamination),
            embeddings=dataclasses.asdict(e),
            output_dir=str(output_dir),
        )
        select = KCenterGreedySelect(
            name="kcenter_greedy",
            num_centers=s.k,
            fraction=s.fraction,
            first=s.first,
            seed=recipe.seed,
        )
        record = KeepColumns(name="selection", columns=SELECTION_COLUMNS)
        load >> embed >> decontaminate >> select >> record
        names = {"selection": "selection"}
        if generation is not None:
            last = add_generation_steps(
                pipeline, select, recipe, output_dir, dry_run=generation["dry_run"]
            )
            names["generation"] = last.name
    return pipeline, names


def generate(
    recipe: Recipe, *, select_only: bool = False, dry_run: bool | Literal["auto"] = False
) -> int:
    """Run `recipe` (its flags applied) into its output folder; returns the exit status.

    `select_only` stops after selection; `dry_run` (or "auto": when no endpoint is configured)
    writes the LLM stage's prompts and cost estimate instead of calling an LLM.
    """
    check_inputs(recipe)
    output_dir = Path(recipe.output).expanduser().resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    generation = None
    if not select_only:
        generation = {"dry_run": prepare_generation(recipe, output_dir, dry_run=dry_run)}
    print(describe_run(recipe, output_dir, select_only, generation))
    quiet_library_output()
    pipeline, names = build_pipeline(recipe, output_dir, generation=generation)
    kept = (
        ""
        if select_only or generation["dry_run"]
        else f"The dataset in {output_dir} was not rewritten; the LLM answers received are "
        f"cached in {output_dir / STATE_DIR}, so once the cause is fixed the same command resumes."
    )
    # Ctrl-C: KeyboardInterrupt; a failed step: its error (pipeline.failures). Nothing written.
    distiset = run_pipeline(pipeline, output_dir, where=kept)
    keep_pipeline_yaml(distiset, output_dir)
    selected = write_selection(distiset, names["selection"], output_dir)
    print(format_selection(selected, output_dir))
    if generation is None:
        return 0
    return finish_generation(
        distiset, recipe, output_dir, dry_run=generation["dry_run"], selected=len(selected)
    )


def quiet_library_output() -> None:
    """Keep the run's own progress bars and summaries readable: no per-split bars from
    `datasets`, no distilabel warning about a leaf that wrote nothing (the dry run's)."""
    import datasets

    # distilabel's per-step INFO lines would bury the progress bars; `-v` or the variable shows them.
    os.environ.setdefault("DISTILABEL_LOG_LEVEL", "WARNING")
    datasets.disable_progress_bars()
    logging.getLogger("distilabel.distiset").setLevel(logging.ERROR)


def describe_run(recipe: Recipe, output_dir: Path, select_only: bool, generation) -> str:
    s = recipe.selection
    size = f"k={s.k}" if s.k is not None else f"fraction={s.fraction}"
    limit = f", at most {recipe.corpus.limit} functions" if recipe.corpus.limit else ""
    stop = (
        "stopping after selection"
        if select_only
        else "dry run of the LLM stage"
        if generation and generation["dry_run"]
        else "with the LLM Generator and Discriminator"
    )
    return (
        f"wavecoder generate: recipe {recipe.name!r} ({recipe.path}); corpus {recipe.corpus.source}"
        f"{limit}; embeddings {recipe.embeddings.model} ({recipe.embeddings.backend}); "
        f"KCenterGreedy {size}; {stop}; output {output_dir}"
    )


def keep_pipeline_yaml(distiset: Any, output_dir: Path) -> None:
    """Copy distilabel's description of the pipeline (steps, settings; no secrets) beside the data."""
    path = getattr(distiset, "pipeline_path", None)
    if path and Path(path).is_file():
        shutil.copyfile(path, output_dir / PIPELINE_YAML)


def write_selection(distiset: Any, name: str, output_dir: Path) -> list[dict]:
    """Save the selected rows (selection order) as `SELECTION_FILE`; return them."""
    from datasets import Dataset

    rows = leaf_rows(distiset, name)
    if rows is None:
        return []
    rows = in_selection_order(rows)
    Dataset.from_list(rows).to_parquet(str(output_dir / SELECTION_FILE))
    return rows


def format_selection(rows: list[dict], output_dir: Path, show: int = 5) -> str:
    report_path = output_dir / CORPUS_REPORT_FILE
    lines = []
    if report_path.exists():
        report = CorpusReport.from_dict(json.loads(report_path.read_text(encoding="utf-8")))
        lines += ["corpus:", *("  " + x for x in report.format().splitlines())]
    if not rows:
        lines.append("KCenterGreedy selected nothing (the filtered corpus is empty)")
        return "\n".join(lines)
    langs = Counter(r["language"] for r in rows)
    radius = rows[-1]["coverage_radius"]
    lines.append(
        f"KCenterGreedy selected {len(rows)} snippets ("
        + ", ".join(f"{lang} {n}" for lang, n in langs.most_common())
        + (f"); last pick chosen at distance {radius:.4f}" if radius is not None else ")")
    )
    for row in rows[:show]:
        src = row["source"] or {}
        where = f"{src.get('path') or src.get('repo') or '?'}:{src.get('func_name') or '?'}"
        first_line = row["code"].strip().splitlines()[0][:70]
        lines.append(f"  #{row['selection_rank']:<4} {where}  {first_line}")
    if len(rows) > show:
        lines.append(f"  ... {len(rows) - show} more in {output_dir / SELECTION_FILE}")
    return "\n".join(lines)
