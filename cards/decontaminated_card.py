"""The card of a dataset checked by `wavecoder decontaminate` that `wavecoder generate` did not
write: its clean rows (`default`), its flagged rows (`contaminated`), and the decontamination
section the CodeOcean card has (`templates/decontamination.md.jinja2`)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cards.dataset_card import TEMPLATES, decontamination_tables, size_category
from pipeline import layout

NOTES = {
    "default": "the rows no method flagged, with their own columns",
    "contaminated": "the flagged rows, with `row_id`, `contamination` (benchmark, item, method, "
    "score, field) and `reasons`",
    "rejected": "`--dedup`: near-duplicates of earlier rows, with `row_id`, `duplicate_of` and "
    "`reasons`",
}


def render_decontaminated_card(
    *,
    source: str,
    counts: dict[str, int],
    written: list[str],
    summary: dict[str, Any],
    repo_id: str = "PATH_OR_REPO_ID",
) -> str:
    """YAML front matter (the configs with files, source_datasets) and the Markdown body."""
    from huggingface_hub import DatasetCardData

    hub_source = not source.startswith(("/", ".", "~")) and source.count("/") == 1
    data = DatasetCardData(
        pretty_name=f"{source} (decontaminated)",
        task_categories=["text-generation"],
        tags=["code", "decontaminated", "wavecoder"],
        size_categories=[size_category(counts.get("default", 0))],
        source_datasets=[source] if hub_source else ["original"],
        configs=[
            {
                "config_name": name,
                **({"default": True} if name == "default" else {}),
                "data_files": [
                    {
                        "split": "train",
                        "path": f"{layout.config_folder(name)}/{layout.SHARD_PATTERN}",
                    }
                ],
            }
            for name in written
        ],
    )
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True
    )
    env.filters["count"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    body = env.get_template("decontaminated_card.md.jinja2").render(
        title=f"{source}, decontaminated",
        source=source,
        repo_id=repo_id,
        configs={name: counts.get(name, 0) for name in written},
        notes=NOTES,
        decontamination=decontamination_tables(summary),
        dedup=summary.get("dedup"),
    )
    return f"---\n{data.to_yaml()}\n---\n\n{body}"
