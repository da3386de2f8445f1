"""The Space's statistics tab: the figures of `space.stats`, one gr.Plot each.

The mix and length figures describe the dataset (the `default` config, accepted rows); the judge's
verdicts per rule are counted over every judged row (accepted and rejected), so that the rules
that rejected rows show; acceptance and rejections come from summary.json, the KCenterGreedy
radius from selection.parquet.
"""

from __future__ import annotations

import gradio as gr
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from pipeline.layout import DEFAULT_CONFIG, SHARD_PATTERN, config_folder
from space.data import CodeOceanView
from space.stats import all_figures

# Figure name (`space.stats.all_figures`) -> the label of its plot, in the tab's order.
FIGURE_LABELS = {
    "task_mix": "Task mix",
    "language_mix": "Language mix",
    "acceptance": "Acceptance per task",
    "rejections": "Rejections per check",
    "rule_verdicts": "Judge verdicts per rule",
    "lengths": "Lengths",
    "selection": "What KCenterGreedy chose",
}
JUDGED_CONFIGS = (DEFAULT_CONFIG, "rejected")
COLUMNS = ("task", "language", "instruction", "output", "judgement")


def dataset_figures(view: CodeOceanView) -> dict[str, Figure]:
    """Every figure the folder has data for, by name, in `FIGURE_LABELS` order."""
    figures = all_figures(view.summary, _read(view, DEFAULT_CONFIG), view.selection)
    judged = [_read(view, c, ["judgement"]) for c in JUDGED_CONFIGS if c in view.configs]
    judged = [t for t in judged if "judgement" in t.column_names]
    if judged:
        verdicts = all_figures({}, pa.concat_tables(judged, promote_options="permissive"))
        if "rule_verdicts" in verdicts:
            figures["rule_verdicts"] = verdicts["rule_verdicts"]
    order = list(FIGURE_LABELS)
    return dict(sorted(figures.items(), key=lambda item: order.index(item[0])))


def build_statistics_tab(view: CodeOceanView) -> list[gr.Plot]:
    """The tab's plots, two to a row (inside a gr.Tab), or a note when there is nothing to plot."""
    figures = list(dataset_figures(view).items())
    if not figures:
        gr.Markdown("This dataset has no rows to plot.")
    plots = []
    for start in range(0, len(figures), 2):
        with gr.Row():
            plots += [gr.Plot(figure, label=FIGURE_LABELS[name], elem_id=f"plot-{name}")
                      for name, figure in figures[start : start + 2]]  # fmt: skip
    return plots


def _read(view: CodeOceanView, config: str, columns: list[str] | None = None) -> pa.Table:
    """The columns (default: `COLUMNS`) a config's shards have, as one table."""
    files = sorted((view.folder / config_folder(config)).glob(SHARD_PATTERN))
    if not files:
        return pa.table({})
    names = pq.read_schema(files[0]).names
    present = [c for c in (columns or COLUMNS) if c in names]
    return pa.concat_tables(pq.read_table(f, columns=present) for f in files)
