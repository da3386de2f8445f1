"""The CodeOcean dataset card: Hub metadata (configs, tags, size) and a README from a template."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cards.execution_section import execution_tables
from cards.plots import CODE_TOKENIZER, FIGURES, PAPER_LEAKAGE
from pipeline import layout
from pipeline.decontamination.items import METHODS

TEMPLATES = Path(__file__).parent / "templates"
CONFIG_NOTES = {
    "default": "every accepted row, all tasks",
    "verified": "accepted rows whose execution status is `passed`: their tests ran in the "
    "sandbox and held (summarization rows are `not_applicable`, never here)",
    "rejected": "rows the post-filter or the discriminator rejected, with `status`, `stage`, `reasons`",
    "failed": "rows whose LLM call never succeeded, with the error (a re-run retries them)",
    "contaminated": "rows flagged by decontamination, each with the benchmark, the item, the method "
    "and its score",
}
# The task configs keep this order; any other config follows.
ORDER = (
    "default", "generation", "summarization", "repair", "translation", "verified", "rejected",
    "contaminated", "failed",
)  # fmt: skip
# Decontamination stages, in the card's order, and what each one checked.
STAGES = {
    "corpus": "the filtered corpus, before KCenterGreedy selection",
    "generated": "the generated rows: instruction, input and output",
}


def size_category(n: int) -> str:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < bound:
            return name
    return "100K<n<1M" if n < 1_000_000 else "1M<n<10M"


def render_dataset_card(
    *,
    title: str,
    configs: dict[str, int],
    summary: dict[str, Any] | None = None,
    recipe: dict[str, Any] | None = None,
    corpus_report: dict[str, Any] | None = None,
    languages: Counter | dict[str, int] | None = None,
    repo_id: str = "PATH_OR_REPO_ID",
    written: list[str] | None = None,
    sizes: dict[str, dict[str, int]] | None = None,
    plots: dict[str, str] | None = None,
) -> str:
    """A dataset card (YAML front matter + Markdown) for a CodeOcean folder.

    ``configs`` maps config names to row counts. The front matter, the table of configs and the
    examples name only the configs that have files (``written``; default: those with rows, since
    ``datasets`` cannot load an empty split); the others are listed as not declared;
    ``default`` is marked as the default config so no other config becomes the implicit one. ``recipe`` is the run's
    recipe as a dict (`Recipe.to_dict()`); ``corpus_report`` the filters' counts. ``sizes``:
    per config with a file, ``num_bytes`` (Arrow) and ``download_size`` (parquet bytes), declared
    as ``dataset_info``: besides showing on the Hub, it is how `datasets` tells this folder from an
    earlier one at the same path (datasets 5.2 keys its cache of a local folder by the card's
    metadata, not by the files). ``summary["decontamination"]`` and ``summary["dedup"]`` fill the
    decontamination section (without them it says decontamination was not run), and
    ``summary["execution"]`` the execution checks' (`cards.execution_section`). ``plots``:
    figure name -> link, as `cards.plots.write_card_plots` returns it; the card shows those.
    """
    from huggingface_hub import DatasetCardData

    recipe = recipe or {}
    ordered = dict(sorted(configs.items(), key=lambda kv: (_rank(kv[0]), kv[0])))
    has_files = set(written) if written is not None else {n for n, rows in ordered.items() if rows}
    loadable = [name for name in ordered if name in has_files]
    data = DatasetCardData(
        pretty_name=title,
        license="other",
        language=["en", "code"],
        task_categories=["text-generation"],
        tags=["code", "synthetic", "distilabel", "wavecoder", "instruction-tuning"],
        size_categories=[size_category(ordered.get("default", 0))],
        source_datasets=_source_datasets(recipe.get("corpus") or {}),
        configs=[
            {
                "config_name": name,
                **({"default": True} if name == "default" else {}),
                "data_files": [{"split": "train", "path": _shards(name)}],
            }
            for name in loadable
        ],
        dataset_info=[
            {
                "config_name": name,
                "splits": [
                    {
                        "name": "train",
                        "num_examples": ordered[name],
                        "num_bytes": sizes[name]["num_bytes"],
                    }
                ],
                "download_size": sizes[name]["download_size"],
                "dataset_size": sizes[name]["num_bytes"],
            }
            for name in loadable
            if name in (sizes or {})
        ]
        or None,
    )
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True
    )
    env.filters["count"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    body = env.get_template("dataset_card.md.jinja2").render(
        title=title,
        repo_id=repo_id,
        layout=layout,
        configs={name: ordered[name] for name in loadable},
        empty_configs=[name for name in ordered if name not in has_files],
        example_task=_example_task(loadable),
        config_notes=CONFIG_NOTES,
        outcome=_outcome(summary),
        models=(summary or {}).get("models") or {},
        per_task_rows=_per_task_rows(summary),
        top_rejections=_top_rejections(summary),
        languages=Counter(languages or {}).most_common(),
        corpus_line=_corpus_line(recipe.get("corpus") or {}, corpus_report),
        filters_line=_filters_line(recipe.get("filters") or {}, corpus_report),
        embeddings_line=_embeddings_line(recipe.get("embeddings") or {}),
        selection_line=_selection_line(recipe.get("selection") or {}, summary),
        mix_line=_mix_line((recipe.get("generation") or {}).get("task_mix")),
        decontamination=decontamination_tables(summary),
        dedup=(summary or {}).get("dedup"),
        execution=execution_tables(summary),
        plots=_plots(plots),
        tokenizer=CODE_TOKENIZER,
    )
    return f"---\n{data.to_yaml()}\n---\n\n{body}"


def _shards(config: str) -> str:
    return f"{layout.config_folder(config)}/{layout.SHARD_PATTERN}"


def _example_task(loadable: list[str]) -> str | None:
    """The task config the card's example loads: `repair` when it has rows, else the first."""
    tasks = [name for name in loadable if name not in ("default", *CONFIG_NOTES)]
    return "repair" if "repair" in tasks else next(iter(tasks), None)


def _rank(name: str) -> int:
    return ORDER.index(name) if name in ORDER else len(ORDER)


def _outcome(summary) -> dict[str, Any] | None:
    """The outcome line's figures; None when `summary` lacks the row counts (a folder written
    from records rather than by a run), so the card leaves the line out instead of failing."""
    if not summary or any(key not in summary for key in ("rows", "accepted", "rejected", "failed")):
        return None
    return {**summary, "acceptance_rate": summary.get("acceptance_rate")}


def _per_task_rows(summary):
    rows = []
    for task, counts in ((summary or {}).get("per_task") or {}).items():
        rows.append((task, {k: counts.get(k, 0) for k in ("accepted", "rejected", "failed")}))
    return rows


def _top_rejections(summary, n: int = 5):
    checks = (summary or {}).get("rejections_by_check") or {}
    return [(check, entry["total"]) for check, entry in list(checks.items())[:n]]


def _corpus_line(corpus: dict, report: dict | None) -> str:
    source = corpus.get("source", "?")
    langs = ", ".join(corpus.get("languages") or []) or "all languages"
    read = f"; {report['functions_read']:,} documented functions read" if report else ""
    return f"`{source}` ({langs}){read}"


def _filters_line(filters: dict, report: dict | None) -> str:
    line = (
        f"{filters.get('min_chars', 50)}-{filters.get('max_chars', 800)} characters, "
        + ("Code Alpaca blacklist" if filters.get("blacklist") is None else "custom blacklist")
        + (", exact dedup" if filters.get("dedup", True) else "")
    )
    if report:
        dropped = ", ".join(f"{k} {v:,}" for k, v in sorted(report.get("dropped", {}).items()))
        line += f"; dropped: {dropped or 'none'}; kept {report.get('kept', 0):,}"
    return line


def _embeddings_line(embeddings: dict) -> str:
    return f"`{embeddings.get('model', '?')}` (backend {embeddings.get('backend', 'auto')})"


def _selection_line(selection: dict, summary) -> str:
    if selection.get("k") is not None:
        size = f"k = {selection['k']}"
    elif selection.get("fraction") is not None:
        size = f"fraction {selection['fraction']}"
    else:
        size = f"{(summary or {}).get('rows', '?')} snippets"
    return f"exact KCenterGreedy (Euclidean), {size}"


def _mix_line(mix: dict | None) -> str:
    if not mix:
        return "the paper's shares: generation 57.1%, summarization 15.8%, repair 15.8%, translation 11.2%"
    total = sum(mix.values()) or 1
    return ", ".join(f"{task} {100 * share / total:.1f}%" for task, share in mix.items())


def _source_datasets(corpus: dict) -> list[str]:
    """The Hub dataset the functions came from (`hub:<id>`), else "original"."""
    source = str(corpus.get("source") or "")
    return [source.removeprefix("hub:")] if source.startswith("hub:") else ["original"]


def _plots(plots: dict[str, str] | None) -> list[tuple[str, str, str]]:
    """``(name, caption, link)`` of each figure, in `FIGURES` order, then any other."""
    names = sorted((plots or {}), key=lambda n: (list(FIGURES).index(n) if n in FIGURES else 99, n))
    return [(n, FIGURES[n][1] if n in FIGURES else n.replace("_", " "), plots[n]) for n in names]


def decontamination_tables(summary) -> dict[str, Any] | None:
    """The decontamination section's tables; None when no stage was checked."""
    decon = (summary or {}).get("decontamination") or {}
    found = decon.get("stages") or {}
    stages = {
        name: found[name] for name in [*STAGES, *sorted(set(found) - set(STAGES))] if name in found
    }
    if not stages:
        return None
    settings = decon.get("settings") or {}
    benchmarks = decon.get("benchmarks") or {}
    used = _methods_used(settings, stages)
    named = {b for s in stages.values() for m in (s.get("by_method") or {}).values() for b in m}
    flagged = []
    for bench in [*benchmarks, *sorted(named - set(benchmarks))]:
        for method in used:
            cells = []
            for stage in stages.values():
                skipped = method in (stage.get("skipped_methods") or {})
                count = ((stage.get("by_method") or {}).get(method) or {}).get(bench, 0)
                cells.append("skipped" if skipped else count)
            flagged.append((bench, method, cells))
    sizes = sorted({int(n) for s in stages.values() for n in (s.get("sweep") or {})})
    sweep = [
        (size, size == settings.get("ngram_size"),
         [(s.get("sweep") or {}).get(str(size), "—") for s in stages.values()])
        for size in sizes
    ]  # fmt: skip
    leakage = [
        (bench, entry.get("items", "?"), _fixed(entry.get("before")), _fixed(entry.get("after")),
         _fixed(PAPER_LEAKAGE.get(bench)))
        for bench, entry in (decon.get("leakage") or {}).items()
    ]  # fmt: skip
    return {
        "stages": {name: (STAGES.get(name, name), stage) for name, stage in stages.items()},
        "missing_stages": [(name, note) for name, note in STAGES.items() if name not in stages],
        "benchmarks": benchmarks,
        "skipped": decon.get("skipped") or {},
        "settings": _settings_lines(settings, used),
        "flagged": flagged,
        "skipped_methods": [
            (name, method, reason)
            for name, stage in stages.items()
            for method, reason in (stage.get("skipped_methods") or {}).items()
            if method in used  # a method switched off is "off" in the table, not a skip
        ],
        "sweep": sweep,
        "leakage": leakage,
    }


def _methods_used(settings: dict, stages: dict) -> list[str]:
    """The methods switched on in `settings` or reported by a stage, in `METHODS` order."""
    on = {
        "exact": bool(settings.get("exact")),
        "ngram": settings.get("ngram_size") is not None,
        "embedding": settings.get("embedding_threshold") is not None,
        "judge": bool(settings.get("judge")),
        "nearest_k": settings.get("nearest_k") is not None,
    }
    # A method off in the settings is still shown when a stage flagged rows with it (a report
    # of another run); one that is only listed with zero rows or as skipped stays "off".
    for stage in stages.values():
        for method, per_benchmark in (stage.get("by_method") or {}).items():
            if any(per_benchmark.values()):
                on[method] = True
    return [m for m in METHODS if on.get(m)] + sorted(m for m in on if on[m] and m not in METHODS)


def _settings_lines(settings: dict, used: list[str]) -> list[tuple[str, str]]:
    """``(method, what flags a row)``; methods that were off say so."""
    lines = {
        "exact": f"a benchmark solution body or prompt of at least "
        f"{settings.get('min_exact_chars', '?')} characters found in the row (normalised text, "
        "trivial solutions allow-listed)",
        "ngram": f"the row holds at least {_share(settings.get('ngram_threshold'))} of an item's "
        f"{settings.get('ngram_size', '?')}-grams",
        "embedding": "cosine similarity of the row's code to an item's solution at least "
        f"{settings.get('embedding_threshold')}"
        + (
            f", of its instruction or input to an item's prompt at least {prose}"
            if (prose := settings.get("prose_embedding_threshold")) is not None
            else ""
        ),
        "judge": "an LLM judge confirms the match (top "
        f"{settings.get('judge_top', '?')} candidates per item)",
        "nearest_k": f"among the {settings.get('nearest_k')} rows nearest to an item",
    }
    return [(m, lines.get(m, "see the summary") if m in used else "off") for m in lines]


def _share(value) -> str:
    return f"{100 * value:g}%" if isinstance(value, int | float) else "?"


def _fixed(value) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "—"
