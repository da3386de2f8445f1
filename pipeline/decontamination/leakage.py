"""The paper's leakage figure: how close a dataset comes to each benchmark's solutions.

For each benchmark problem, the highest cosine similarity between its solution's vector and any
row's vector (the dataset's outputs), averaged over the benchmark's problems; computed with the
run's own embedder (`embedding.make_embedder`). WaveCoder reports 0.880 for HumanEval and 0.877
for MBPP on CodeOcean and plots one histogram of the per-problem maxima per benchmark (its
repository's ``imgs/leakage/*.png``); `histogram` gives those counts.

Rows x items cosines are taken as chunked matrix products (`embedding.similarity_chunks`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.decontamination.embedding import similarity_chunks
from pipeline.decontamination.items import BenchmarkItem

# Decimals kept in the figures (they go into the dataset card).
DECIMALS = 4
# Histogram bins over cosine [0, 1] (negative maxima fall in the first bin).
HISTOGRAM_BINS = 20


def leakage(
    items: Sequence[BenchmarkItem], item_vectors: np.ndarray, row_vectors: np.ndarray
) -> dict[str, dict]:
    """Per benchmark: {"items": n, "mean_max_cosine": mean of the per-item maxima (None without
    rows), "max_cosines": each item's highest cosine to any row, in `items` order}."""
    best = _max_cosines(item_vectors, row_vectors, kept_mask=None)[0]
    out = {}
    for benchmark, index in _by_benchmark(items).items():
        values = best[index]
        out[benchmark] = {
            "items": len(index),
            "mean_max_cosine": _mean(values),
            "max_cosines": _values(values),
        }
    return out


def leakage_before_after(
    items: Sequence[BenchmarkItem],
    item_vectors: np.ndarray,
    row_vectors: np.ndarray,
    kept_mask: np.ndarray,
) -> dict[str, dict]:
    """Per benchmark, the leakage over all rows ("before") and over the rows `kept_mask` keeps
    ("after"): {"items", "before", "after", "before_max_cosines", "after_max_cosines"}; both
    from one pass over the rows."""
    kept_mask = np.asarray(kept_mask, dtype=bool)
    if kept_mask.shape != (len(row_vectors),):
        raise ValueError(f"kept_mask of shape {kept_mask.shape} for {len(row_vectors)} rows")
    before, after = _max_cosines(item_vectors, row_vectors, kept_mask=kept_mask)
    out = {}
    for benchmark, index in _by_benchmark(items).items():
        out[benchmark] = {
            "items": len(index),
            "before": _mean(before[index]),
            "after": _mean(after[index]),
            "before_max_cosines": _values(before[index]),
            "after_max_cosines": _values(after[index]),
        }
    return out


def histogram(max_cosines: Sequence[float | None], bins: int = HISTOGRAM_BINS) -> dict[str, list]:
    """Counts of `max_cosines` in `bins` equal bins over [0, 1]: {"edges": bins + 1 floats,
    "counts": bins ints}; None values (no rows) are not counted."""
    values = np.clip([v for v in max_cosines if v is not None], 0.0, 1.0)
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    return {"edges": [round(float(e), DECIMALS) for e in edges], "counts": counts.tolist()}


def _max_cosines(
    item_vectors: np.ndarray, row_vectors: np.ndarray, *, kept_mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each item's highest cosine over all rows and over the kept rows (-inf: no such row)."""
    item_vectors = np.asarray(item_vectors, dtype=np.float32)
    n_items = len(item_vectors)
    best = np.full(n_items, -np.inf, np.float32)
    kept = None if kept_mask is None else np.full(n_items, -np.inf, np.float32)
    if not len(row_vectors) or not n_items:
        return best, kept
    if np.shape(row_vectors)[1] != item_vectors.shape[1]:
        raise ValueError(
            f"row vectors have dimension {np.shape(row_vectors)[1]}, item vectors "
            f"{item_vectors.shape[1]}: embed both with the same model"
        )
    for start, sims in similarity_chunks(row_vectors, item_vectors, desc="leakage"):
        chunk_best = sims.max(axis=0)
        np.maximum(best, chunk_best, out=best)
        if kept is not None:
            mask = kept_mask[start : start + len(sims)]
            if mask.all():
                np.maximum(kept, chunk_best, out=kept)
            elif mask.any():
                sims[~mask] = -np.inf  # in place: the chunk is ours and already counted
                np.maximum(kept, sims.max(axis=0), out=kept)
    return best, kept


def _by_benchmark(items: Sequence[BenchmarkItem]) -> dict[str, np.ndarray]:
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item.benchmark, []).append(index)
    return {name: np.asarray(index, dtype=np.int64) for name, index in groups.items()}


def _mean(values: np.ndarray) -> float | None:
    if not len(values) or not np.isfinite(values).all():
        return None
    return round(float(values.astype(np.float64).mean()), DECIMALS)


def _values(values: np.ndarray) -> list[float | None]:
    return [round(float(v), DECIMALS) if np.isfinite(v) else None for v in values]
