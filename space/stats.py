"""The statistics tab: matplotlib figures of one CodeOcean folder, for `gr.Plot`.

Inputs are what `space.data` reads from a dataset folder: `summary` (summary.json), `rows` (a
pyarrow Table of the `default` config or of every config; only the columns a figure needs are
read) and `selection` (selection.parquet, or None). Figures are `matplotlib.figure.Figure`s with
an Agg canvas, never registered with pyplot, so nothing stays open: a figure is freed with its
last reference (gr.Plot also closes the ones it draws).

    figures = all_figures(view.summary, rows, view.selection)   # name -> Figure
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

STATUSES = ("accepted", "rejected", "failed")
COLORS = {"accepted": "#2e7d32", "rejected": "#c62828", "failed": "#9e9e9e"}
VERDICT_COLORS = {"yes": "#2e7d32", "no": "#c62828"}
LENGTH_COLUMNS = ("instruction", "output")
LENGTH_BINS = 20
FIGURE_SIZE = (7.0, 3.6)  # inches


def task_mix_figure(rows: pa.Table) -> Figure:
    """Rows per task, in the task registry's order (largest default share first)."""
    counts = _counts(rows.column("task"))
    labels = _task_order(counts)
    fig, ax = _figure()
    bars = ax.bar(_labels(labels), [counts[t] for t in labels], color="#1565c0")
    ax.bar_label(bars)
    ax.set_title(f"Rows per task ({rows.num_rows} rows)")
    ax.set_ylabel("rows")
    return fig


def language_mix_figure(rows: pa.Table) -> Figure:
    """Rows per source-code language, most frequent first (a null language is "unknown")."""
    counts = _counts(rows.column("language"))
    labels = sorted(counts, key=lambda name: (-counts[name], name))
    fig, ax = _figure()
    bars = ax.bar(_labels(labels), [counts[name] for name in labels], color="#6a1b9a")
    ax.bar_label(bars)
    ax.set_title("Rows per language")
    ax.set_ylabel("rows")
    return fig


def acceptance_figure(summary: dict[str, Any]) -> Figure:
    """Accepted, rejected and failed rows per task (summary.json's `per_task`), stacked; each
    tick names the task and its acceptance rate (accepted / judged)."""
    per_task = summary["per_task"]
    tasks = _task_order(per_task)
    fig, ax = _figure()
    bottom = [0] * len(tasks)
    ticks = [f"{task}\n{_rate(per_task[task])}" for task in tasks]
    for status in STATUSES:
        heights = [int(per_task[task].get(status, 0)) for task in tasks]
        ax.bar(_labels(ticks), heights, bottom=bottom, label=status, color=COLORS[status])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    rate = summary.get("acceptance_rate")
    overall = "" if rate is None else f" (acceptance {rate:.1%})"
    ax.set_title(f"Outcome per task{overall}")
    ax.set_ylabel("rows")
    ax.legend()
    return fig


def rejections_figure(summary: dict[str, Any]) -> Figure:
    """Rejected rows per check (summary.json's `rejections_by_check`: post-filter checks and
    judge rules), stacked by task, the most frequent check on top."""
    by_check = summary["rejections_by_check"]
    checks = sorted(by_check, key=lambda c: (-by_check[c]["total"], c))
    tasks = _task_order(Counter(t for c in checks for t in by_check[c].get("tasks", {})))
    fig, ax = _figure(height=max(FIGURE_SIZE[1], 0.45 * len(checks) + 1.2))
    ticks = [f"{check} ({by_check[check].get('stage', '?')})" for check in checks]
    left = [0] * len(checks)
    for task in tasks:
        widths = [int(by_check[c].get("tasks", {}).get(task, 0)) for c in checks]
        ax.barh(_labels(ticks), widths, left=left, label=task)
        left = [a + w for a, w in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_title("Rejections per check")
    ax.set_xlabel("rejected rows")
    ax.legend()
    return fig


def rule_verdicts_figure(rows: pa.Table) -> Figure:
    """The discriminator's yes and no per judge rule over the judged rows (`judgement.rules`):
    with the `default` config every answer is yes; with every config the no's show."""
    verdicts = _rule_verdicts(rows)
    rules = sorted(verdicts, key=lambda r: (-verdicts[r]["no"], r))
    fig, ax = _figure(height=max(FIGURE_SIZE[1], 0.45 * len(rules) + 1.2))
    left = [0] * len(rules)
    for verdict in ("yes", "no"):
        widths = [verdicts[rule][verdict] for rule in rules]
        ax.barh(_labels(rules), widths, left=left, label=verdict, color=VERDICT_COLORS[verdict])
        left = [a + w for a, w in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_title("Judge verdicts per rule")
    ax.set_xlabel("judged rows")
    ax.legend()
    return fig


def length_figure(rows: pa.Table) -> Figure:
    """Histograms of instruction and output length in characters (empty texts left out)."""
    columns = [c for c in LENGTH_COLUMNS if c in rows.column_names]
    fig = Figure(figsize=(FIGURE_SIZE[0], FIGURE_SIZE[1]), layout="constrained")
    FigureCanvasAgg(fig)
    for ax, column in zip(fig.subplots(1, len(columns), squeeze=False)[0], columns, strict=True):
        lengths = _lengths(rows.column(column))
        ax.hist(lengths, bins=LENGTH_BINS, color="#00838f")
        ax.set_title(f"{column} ({_median(lengths)} median)")
        ax.set_xlabel("characters")
        ax.set_ylabel("rows")
    return fig


def selection_figure(selection: pa.Table) -> Figure:
    """KCenterGreedy's coverage radius at each pick (selection.parquet): how far each selected
    snippet was from every earlier pick; the first pick has none."""
    ranks = selection.column("selection_rank").to_pylist()
    radii = selection.column("coverage_radius").to_pylist()
    points = sorted((r, d) for r, d in zip(ranks, radii, strict=True) if d is not None)
    fig, ax = _figure()
    ax.plot([r for r, _ in points], [d for _, d in points], marker=".", color="#ef6c00")
    ax.set_title(f"KCenterGreedy coverage radius by pick ({selection.num_rows} selected)")
    ax.set_xlabel("selection rank")
    ax.set_ylabel("coverage radius")
    return fig


def all_figures(
    summary: dict[str, Any] | None,
    rows: pa.Table | None,
    selection: pa.Table | None = None,
) -> dict[str, Figure]:
    """Every figure whose data is present, by name, in the tab's order: task_mix, language_mix,
    acceptance, rejections, rule_verdicts, lengths, selection."""
    summary = summary or {}
    columns = set(rows.column_names) if rows is not None and rows.num_rows else set()
    figures: dict[str, Figure] = {}
    if "task" in columns:
        figures["task_mix"] = task_mix_figure(rows)
    if "language" in columns:
        figures["language_mix"] = language_mix_figure(rows)
    if summary.get("per_task"):
        figures["acceptance"] = acceptance_figure(summary)
    if summary.get("rejections_by_check"):
        figures["rejections"] = rejections_figure(summary)
    if "judgement" in columns and _rule_verdicts(rows):
        figures["rule_verdicts"] = rule_verdicts_figure(rows)
    if any(_lengths(rows.column(c)) for c in LENGTH_COLUMNS if c in columns):
        figures["lengths"] = length_figure(rows)
    if (
        selection is not None
        and {"selection_rank", "coverage_radius"} <= set(selection.column_names)
        and selection.column("coverage_radius").null_count < selection.num_rows
    ):
        figures["selection"] = selection_figure(selection)
    return figures


def _figure(height: float = FIGURE_SIZE[1]):
    fig = Figure(figsize=(FIGURE_SIZE[0], height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _labels(labels: list[str]) -> list[str]:
    """Labels shown as written: a `$` would start matplotlib's mathtext."""
    return [str(label).replace("$", r"\$") for label in labels]


def _counts(column: pa.ChunkedArray) -> Counter:
    counts = Counter()
    for entry in pc.value_counts(column).to_pylist():
        counts[entry["values"] if entry["values"] is not None else "unknown"] += entry["counts"]
    return counts


def _task_order(names) -> list[str]:
    """`names` in the task registry's order, unknown names after them by name."""
    from pipeline.tasks.registry import all_tasks

    registry = list(all_tasks())
    return sorted(names, key=lambda n: (registry.index(n) if n in registry else len(registry), n))


def _rate(counts: dict[str, int]) -> str:
    judged = counts.get("accepted", 0) + counts.get("rejected", 0)
    return f"{counts.get('accepted', 0) / judged:.0%}" if judged else "n/a"


def _rule_verdicts(rows: pa.Table) -> dict[str, Counter]:
    """rule -> Counter of "yes" / "no" over the rows' judgement rules."""
    if "judgement" not in rows.column_names:
        return {}
    rules = pc.list_flatten(pc.struct_field(rows.column("judgement").combine_chunks(), "rules"))
    answers = pa.table(
        {"rule": pc.struct_field(rules, "rule"), "passed": pc.struct_field(rules, "passed")}
    )
    verdicts: dict[str, Counter] = {}
    for entry in answers.group_by(["rule", "passed"]).aggregate([([], "count_all")]).to_pylist():
        if entry["rule"] is not None and entry["passed"] is not None:
            verdict = "yes" if entry["passed"] else "no"
            verdicts.setdefault(entry["rule"], Counter())[verdict] += entry["count_all"]
    return verdicts


def _lengths(column: pa.ChunkedArray) -> list[int]:
    lengths = pc.utf8_length(pc.fill_null(column, "")).to_pylist()
    return [n for n in lengths if n]


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0
