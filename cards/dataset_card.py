"""The CodeOcean dataset card: Hub metadata (configs, tags, size) and a README from a template."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline import layout

TEMPLATES = Path(__file__).parent / "templates"
CONFIG_NOTES = {
    "default": "every accepted row, all tasks",
    "rejected": "rows the post-filter or the discriminator rejected, with `status`, `stage`, `reasons`",
    "failed": "rows whose LLM call never succeeded, with the error (a re-run retries them)",
}
# The task configs keep this order; any other config follows.
ORDER = ("default", "generation", "summarization", "repair", "translation", "rejected", "failed")


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
    metadata, not by the files).
    """
    from huggingface_hub import DatasetCardData

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
    recipe = recipe or {}
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
