"""The dataset card's figures: PNG files in DIR/plots/, linked from the README.

One function per figure; each takes plain data and the file to write and returns the link the
card uses (the file's folder and name, ``plots/<name>.png``). `write_card_plots` writes every
figure that has data. matplotlib (Agg backend) is imported only when a figure is drawn. Output
is deterministic: the same data gives the same bytes (fixed seeds, no timestamp or version in
the PNG's metadata). Figures are 8 inches at 100 dpi: 800 pixels, the width of a Hub README.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

PLOTS_DIR = "plots"
# Figure name -> (file, caption); the card lists them in this order.
FIGURES = {
    "task_mix": ("task_mix.png", "Rows per task and per source language, by outcome"),
    "lengths": ("lengths.png", "Instruction and output lengths in tokens"),
    "acceptance": ("acceptance.png", "Acceptance per task and per discriminator rule"),
    "leakage": ("leakage.png", "Leakage: each benchmark item's highest cosine to the data"),
    "embedding_map": ("embedding_map.png", "Corpus embeddings in 2-D (PCA), selected marked"),
}
# The paper's mean leakage of CodeOcean (WaveCoder repository, imgs/leakage/*.png).
PAPER_LEAKAGE = {"humaneval": 0.880, "mbpp": 0.877}
STATUSES = ("accepted", "rejected", "contaminated", "failed")
COLORS = {
    "accepted": "#2a9d8f",
    "rejected": "#e76f51",
    "contaminated": "#8e44ad",
    "failed": "#9e9e9e",
}
BEFORE, AFTER, PAPER = "#e76f51", "#2a9d8f", "#555555"
WIDTH, DPI = 8.0, 100
MAP_POINTS = 20_000

# The default token counter of the length histograms: identifiers and keywords, numbers, and
# every other non-space character as its own token (operators, brackets, punctuation).
CODE_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?|[^\sA-Za-z_0-9]")
CODE_TOKENIZER = (
    "`cards.plots.count_code_tokens`, a regex code tokenizer: an identifier or keyword, a "
    "number, or any other single non-space character is one token"
)


def count_code_tokens(text: str) -> int:
    """Tokens of `text` by `CODE_TOKEN` (see `CODE_TOKENIZER`)."""
    return len(CODE_TOKEN.findall(text or ""))


def plot_task_language_mix(records: list[Mapping[str, Any]], path: str | Path) -> str:
    """Two bar charts: rows per task and rows per source language (top 12, then "other"),
    each bar split by outcome (`status`)."""
    tasks = Counter((_get(r, "task"), _get(r, "status")) for r in records)
    langs = Counter(_get(r, "language") for r in records)
    top = [lang for lang, _ in sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))[:12]]
    by_lang = Counter(
        (_get(r, "language") if _get(r, "language") in top else "other", _get(r, "status"))
        for r in records
    )
    lang_names = top + (["other"] if len(langs) > len(top) else [])
    task_names = sorted({t for t, _ in tasks})
    statuses = _statuses(s for _, s in tasks)
    fig, axes = _figure(0.5 + 0.32 * max(len(lang_names), 5), nrows=1, ncols=2)
    for ax, names, counts, what in (
        (axes[0], task_names, tasks, "task"),
        (axes[1], lang_names, by_lang, "source language"),
    ):
        left = np.zeros(len(names))
        for status in statuses:
            values = np.array([counts.get((n, status), 0) for n in names], dtype=float)
            ax.barh(names, values, left=left, color=_color(status), label=status)
            left += values
        for y, total in enumerate(left):
            ax.text(total, y, f" {int(total)}", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(left.max(), 1) * 1.18)
        ax.set_title(f"rows per {what}", fontsize=10)
        ax.set_xlabel("rows")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Task and language mix ({len(records)} rows)", fontsize=11)
    return _save(fig, path)


def plot_length_histograms(
    records: list[Mapping[str, Any]],
    path: str | Path,
    count_tokens: Callable[[str], int] | None = None,
    *,
    tokenizer_name: str | None = None,
) -> str:
    """Histograms of instruction and output lengths in tokens, one series per outcome, the
    median of each marked. `count_tokens` (text -> int; default `count_code_tokens`) counts;
    `tokenizer_name` is shown on the axis (default: the counter's name). Rows without an
    output (failed calls) are left out; lengths past the 99th percentile share the last bin."""
    count = count_tokens or count_code_tokens
    name = tokenizer_name or getattr(count, "__name__", type(count).__name__)
    rows = [r for r in records if (r.get("output") or "").strip()]
    fig, axes = _figure(3.4, nrows=1, ncols=2)
    for ax, field in zip(axes, ("instruction", "output"), strict=True):
        lengths = {
            status: np.array(
                [count(r.get(field) or "") for r in rows if _get(r, "status") == status]
            )
            for status in _statuses(r.get("status") for r in rows)
        }
        everything = np.concatenate([v for v in lengths.values()] or [np.zeros(1)])
        top = max(float(np.percentile(everything, 99)), 1.0)
        bins = np.linspace(0, top, 31)
        for status, values in lengths.items():
            ax.hist(
                np.clip(values, 0, top), bins=bins, histtype="stepfilled", alpha=0.45,
                color=_color(status), edgecolor=_color(status),
                label=f"{status} (n={len(values)}, median {np.median(values):.0f})",
            )  # fmt: skip
            ax.axvline(float(np.median(values)), color=_color(status), linestyle="--", lw=1.2)
        ax.set_title(f"{field} length", fontsize=10)
        ax.set_xlabel(f"tokens ({name}); last bin: >= {top:.0f}", fontsize=8)
        ax.set_ylabel("rows")
        ax.legend(fontsize=7)
    fig.suptitle("Lengths in tokens (dashed: median)", fontsize=11)
    return _save(fig, path)


def plot_acceptance_per_rule(records: list[Mapping[str, Any]], path: str | Path) -> str:
    """Left: the share of judged rows accepted, per task. Right: the share of verdicts that
    passed, per discriminator rule (``task: rule``). Each bar is annotated with its count."""
    judged = [r for r in records if (r.get("judgement") or {}).get("rules")]
    per_task: dict[str, list[int]] = {}
    per_rule: dict[str, list[int]] = {}
    for r in judged:
        task = _get(r, "task")
        # The judge's verdict: rows set aside after it (benchmark copies, near-duplicates) passed.
        passed = r.get("status") in ("accepted", "contaminated") or r.get("stage") == "dedup"
        per_task.setdefault(task, []).append(int(passed))
        for verdict in r["judgement"]["rules"]:
            key = f"{task}: {verdict.get('rule')}"
            per_rule.setdefault(key, []).append(int(bool(verdict.get("passed"))))
    task_names, rule_names = sorted(per_task), sorted(per_rule)
    height = 1.0 + 0.28 * max(len(rule_names), len(task_names), 4)
    fig, axes = _figure(height, nrows=1, ncols=2, width_ratios=(1, 1.6))
    for ax, names, values, title in (
        (axes[0], task_names, per_task, "judged rows accepted, per task"),
        (axes[1], rule_names, per_rule, "verdicts passed, per rule"),
    ):
        shares = [100 * np.mean(values[n]) for n in names]
        ax.barh(names, shares, height=0.6, color=COLORS["accepted"])
        rest = [100 - s for s in shares]
        ax.barh(names, rest, left=shares, height=0.6, color=COLORS["rejected"], alpha=0.35)
        for y, (n, share) in enumerate(zip(names, shares, strict=True)):
            ax.text(2, y, f"{share:.0f}% of {len(values[n])}", va="center", fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("%")
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle(f"Acceptance ({len(judged)} judged rows)", fontsize=11)
    return _save(fig, path)


def plot_leakage_histograms(leakage: Mapping[str, Mapping[str, Any]], path: str | Path) -> str:
    """One row per benchmark. Left, as the WaveCoder repository plots leakage: each item's
    highest cosine similarity to the data against the item's index, with the mean as a line,
    before and after decontamination (and the paper's CodeOcean mean where it has one). Right:
    the histograms of the same values, the means marked."""
    names = [
        b for b in leakage if any(v is not None for v in leakage[b].get("before_max_cosines") or [])
    ]
    if not names:
        raise ValueError("no benchmark in `leakage` has `before_max_cosines`")
    fig, axes = _figure(2.9 * len(names), nrows=len(names), ncols=2, squeeze=False)
    for (scatter, hist), bench in zip(axes, names, strict=True):
        entry = leakage[bench]
        series = [("before", entry["before_max_cosines"], BEFORE, "*")]
        # "after" is all None when no row was kept: then there is nothing to draw for it.
        if any(v is not None for v in entry.get("after_max_cosines") or []):
            series.append(("after", entry["after_max_cosines"], AFTER, "<"))
        values = np.concatenate([np.asarray(v, dtype=float) for _, v, _, _ in series])
        low = min(float(np.nanmin(values)), PAPER_LEAKAGE.get(bench, 1.0)) - 0.02
        bins = np.linspace(low, 1.0, 31)
        for label, cosines, color, marker in series:
            cosines = np.asarray(cosines, dtype=float)
            cosines = cosines[~np.isnan(cosines)]
            mean = float(cosines.mean())
            scatter.scatter(np.arange(len(cosines)), cosines, s=6, color=color, marker=marker)
            scatter.axhline(mean, color=color, lw=1.3, label=f"{label} (avg {mean:.3f})")
            hist.hist(cosines, bins=bins, alpha=0.45, color=color, label=label)
            hist.axvline(mean, color=color, lw=1.3)
        if bench in PAPER_LEAKAGE:
            ref = PAPER_LEAKAGE[bench]
            scatter.axhline(ref, color=PAPER, ls=":", lw=1.3, label=f"paper CodeOcean (avg {ref})")
            hist.axvline(ref, color=PAPER, ls=":", lw=1.3)
        scatter.set_ylim(low, 1.0)
        scatter.set_xlabel(f"{bench} item ({entry.get('items', len(values))} items)", fontsize=8)
        scatter.set_ylabel("max cosine")
        scatter.legend(fontsize=7, loc="lower right")
        hist.set_xlabel("max cosine (lines: means)", fontsize=8)
        hist.set_ylabel("items")
        hist.legend(fontsize=7, loc="upper left")
        scatter.set_title(f"{bench}: data leakage", fontsize=10)
        hist.set_title(f"{bench}: distribution", fontsize=10)
    return _save(fig, path)


def embedding_map_points(
    vectors: np.ndarray,
    selected_mask: np.ndarray | None,
    *,
    max_points: int = MAP_POINTS,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The map's points: ``(xy, selected, explained)``. A sample of at most `max_points` rows
    (every selected row first, then unselected ones at random with `seed`) projected on the
    first two principal components (numpy SVD of the centred sample, signs fixed so each
    component's largest loading is positive); `selected` marks the sampled rows that were selected; `explained` is
    each component's share of the variance."""
    vectors = np.asarray(vectors, dtype=np.float64)
    n = len(vectors)
    mask = np.zeros(n, bool) if selected_mask is None else np.asarray(selected_mask, bool)
    if mask.shape != (n,):
        raise ValueError(f"selected_mask has shape {mask.shape}, expected ({n},)")
    rng = np.random.default_rng(seed)
    chosen, others = np.flatnonzero(mask), np.flatnonzero(~mask)
    if len(chosen) > max_points:
        chosen = rng.choice(chosen, max_points, replace=False)
    room = max_points - len(chosen)
    if len(others) > room:
        others = rng.choice(others, room, replace=False)
    rows = np.sort(np.concatenate([chosen, others]))
    sample = vectors[rows] - vectors[rows].mean(axis=0)
    if len(sample) > sample.shape[1]:
        # The SVD of the d x d scatter matrix: the same components and squared singular
        # values as the SVD of the sample itself, at a fraction of the cost for n >> d.
        _, variance, vt = np.linalg.svd(sample.T @ sample, hermitian=True)
    else:
        _, singular, vt = np.linalg.svd(sample, full_matrices=False)
        variance = singular**2
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    xy = sample @ components.T
    if xy.shape[1] < 2:
        xy = np.column_stack([xy, np.zeros(len(xy))])
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return xy, mask[rows], np.pad(explained, (0, 2 - len(explained)))


def plot_embedding_map(
    vectors: np.ndarray,
    selected_mask: np.ndarray | None,
    path: str | Path,
    *,
    max_points: int = MAP_POINTS,
    seed: int = 0,
) -> str:
    """The corpus embeddings on their first two principal components (`embedding_map_points`),
    the KCenterGreedy selection drawn on top of the other rows."""
    xy, selected, explained = embedding_map_points(
        vectors, selected_mask, max_points=max_points, seed=seed
    )
    fig, ax = _figure(6.0)
    ax.scatter(*xy[~selected].T, s=3, color="#b0b0b0", alpha=0.5, linewidths=0,
               label=f"corpus ({int((~selected).sum())} shown)")  # fmt: skip
    if selected.any():
        ax.scatter(*xy[selected].T, s=14, color="#d62828", marker="x", linewidths=0.8,
                   label=f"selected ({int(selected.sum())})")  # fmt: skip
    ax.set_xlabel(f"PC 1 ({100 * explained[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * explained[1]:.1f}% of variance)")
    shown = f"{len(xy)} of {len(vectors)}" if len(xy) < len(vectors) else f"{len(xy)}"
    ax.set_title(f"Corpus embeddings, 2-D PCA ({shown} rows)", fontsize=11)
    ax.legend(fontsize=8, loc="best", markerscale=2)
    return _save(fig, path)


def write_card_plots(
    records: list[Mapping[str, Any]],
    summary: Mapping[str, Any] | None,
    folder: str | Path,
    *,
    corpus_vectors: np.ndarray | None = None,
    selected_mask: np.ndarray | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> dict[str, str]:
    """Write every figure that has data into `folder`/plots/; returns figure name -> link
    (``plots/<file>``), in `FIGURES` order, for `render_dataset_card(plots=...)`. A figure of
    an earlier run that has no data this time is removed, so the folder shows only this run."""
    out = Path(folder) / PLOTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    leakage = ((summary or {}).get("decontamination") or {}).get("leakage") or {}
    judged = any((r.get("judgement") or {}).get("rules") for r in records)
    drawn = {
        "task_mix": (lambda p: plot_task_language_mix(records, p)) if records else None,
        "lengths": (lambda p: plot_length_histograms(records, p, count_tokens))
        if any((r.get("output") or "").strip() for r in records)
        else None,
        "acceptance": (lambda p: plot_acceptance_per_rule(records, p)) if judged else None,
        "leakage": (lambda p: plot_leakage_histograms(leakage, p))
        if any(v.get("before_max_cosines") for v in leakage.values())
        else None,
        "embedding_map": (lambda p: plot_embedding_map(corpus_vectors, selected_mask, p))
        if corpus_vectors is not None and len(corpus_vectors) >= 2
        else None,
    }
    written = {}
    for name, (file, _) in FIGURES.items():
        if drawn[name] is not None:
            written[name] = drawn[name](out / file)
        else:
            (out / file).unlink(missing_ok=True)
    if not any(out.iterdir()):
        out.rmdir()
    return written


def _get(record: Mapping[str, Any], key: str) -> str:
    return record.get(key) or "?"


def _statuses(values: Iterable[str | None]) -> list[str]:
    present = {v or "?" for v in values}
    return [s for s in STATUSES if s in present] + sorted(present - set(STATUSES))


def _color(status: str) -> str:
    return COLORS.get(status, "#264653")


def _figure(height: float, **subplots):
    """A figure on matplotlib's Agg canvas, without pyplot (no global state, no GUI backend),
    and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(**subplots)


def _save(fig, path: str | Path) -> str:
    """Write `fig` as a PNG without metadata that varies (software version, time)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return f"{path.parent.name}/{path.name}"
