"""Embedding decontamination: rows whose vector is close to a benchmark problem's.

Two methods, both over vectors from the run's own embedder (`make_embedder`):

- `embedding_flags` ("embedding"): every (row, item) pair with cosine >= a threshold.
- `nearest_k_flags` ("nearest_k"): for each benchmark item, its k nearest rows whatever their
  cosine. The paper's Ultra variant removed each benchmark problem's 3 nearest training rows from
  evol-codealpaca (``--nearest-k 3``).

Both compute rows x items cosines as one matrix product taken in row chunks of at most
`CHUNK_BYTES` of similarities, never a loop over pairs; memory beyond the vectors is about three
chunks (the similarities, nearest_k's partition copy, masks). Measured on 2 shared CPU cores,
200K rows x 3,000 items x 384-d: embedding 20 s, nearest_k (k=3) 41 s, leakage 16 s, peak RSS
0.95 GB with 0.3 GB of input vectors; time grows linearly with rows, memory does not.

`DEFAULT_THRESHOLD` (0.80) was measured with offline:all-MiniLM-L6-v2, HumanEval's 164 solutions
(prompt + canonical solution) against the 4,451 filtered functions of the Python 3.11 standard
library. Cosine of a copy to its own problem: verbatim 1.0; statements reordered min 0.874 (all
>= 0.80); every identifier renamed (v0, v1...), docstring kept: median 0.897, 91.5% >= 0.80 (a
hand-renamed HumanEval/0 with meaningful names: 0.808); a ``__main__`` test call appended: min
0.891; a reworded problem statement against the prompt: 0.89-0.90. Clean code: the closest stdlib
function to any solution scores 0.757 (operator.add vs HumanEval/53 ``add``), 99.9th percentile
0.695; the closest stdlib docstring to any prompt 0.660. The embedding does not see a copy
stripped of its docstring with every name renamed (median 0.50): that is the n-gram and judge
methods' work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from pipeline.decontamination.items import BenchmarkItem, Flag, RowText
from wavecoder.errors import UserError

# Cosine at or above which a row is flagged as a copy of a benchmark item (see the docstring).
DEFAULT_THRESHOLD = 0.80
# Bytes of float32 similarities held at once (rows chunk x items).
CHUNK_BYTES = 256 << 20
# Show a progress bar from this many rows on.
PROGRESS_ROWS = 100_000


def make_embedder(
    embeddings_config, *, show_progress: bool = True
) -> Callable[[list[str]], np.ndarray]:
    """The run's embedder (the recipe's `EmbeddingsConfig`) with its disk cache: texts ->
    (n, d) L2-normalised float32 vectors."""
    from pipeline.embeddings import CodeEmbedder

    embedder = CodeEmbedder.from_config(embeddings_config, show_progress=show_progress)

    def embed(texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, embedder.dimension), np.float32)
        return normalise(embedder.embed(texts))

    embed.embedder = embedder  # type: ignore[attr-defined]  (cache statistics for the report)
    return embed


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm as float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def embedding_flags(
    rows: Sequence[RowText],
    row_vectors: np.ndarray,
    items: Sequence[BenchmarkItem],
    item_vectors: np.ndarray,
    *,
    threshold: float,
    field: str,
) -> list[Flag]:
    """A flag (method "embedding", score = cosine) for every (row, item) pair whose cosine is
    >= `threshold`; rows whose `field` is blank are skipped (``field=""``: whole rows).

    Raises:
        UserError: `threshold` is not in (0, 1].
    """
    if not 0.0 < threshold <= 1.0:
        raise UserError(
            f"decontamination embedding threshold must be in (0, 1], got {threshold}; "
            f"{DEFAULT_THRESHOLD} separates copies of HumanEval solutions from clean code"
        )
    usable = _usable_rows(rows, row_vectors, items, item_vectors, field)
    flags = []
    for start, sims in similarity_chunks(
        row_vectors, item_vectors, desc="embedding decontamination"
    ):
        hit_rows, hit_items = np.nonzero(sims >= threshold)
        for r, i in zip(hit_rows.tolist(), hit_items.tolist(), strict=True):
            row = start + r
            if usable[row]:
                item = items[i]
                flags.append(
                    Flag(rows[row].id, item.benchmark, item.item, "embedding",
                         round(float(sims[r, i]), 4), field)
                )  # fmt: skip
    return flags


def nearest_k_flags(
    rows: Sequence[RowText],
    row_vectors: np.ndarray,
    items: Sequence[BenchmarkItem],
    item_vectors: np.ndarray,
    *,
    k: int,
    field: str,
) -> list[Flag]:
    """For each item, a flag (method "nearest_k", score = cosine) on each of its `k` nearest
    rows (all rows when there are fewer), nearest first; rows whose `field` is blank are skipped.

    Raises:
        UserError: `k` < 1.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UserError(f"decontamination nearest_k must be an integer >= 1, got {k!r}")
    usable = _usable_rows(rows, row_vectors, items, item_vectors, field)
    # The best k so far of every item as flat (item, row, cosine) arrays; `floor[i]` is item i's
    # k-th best cosine (-inf until it has k). Per chunk only entries at or above both the floor
    # and the chunk's own k-th best per item are gathered, so the merge stays ~k per item.
    best_item = np.empty(0, np.int64)
    best_row = np.empty(0, np.int64)
    best_sim = np.empty(0, np.float32)
    floor = np.full(len(items), -np.inf, np.float32)
    for start, sims in similarity_chunks(
        row_vectors, item_vectors, desc="nearest-k decontamination"
    ):
        sims[~usable[start : start + len(sims)]] = -np.inf
        cut = floor
        if len(sims) > k:
            cut = np.maximum(floor, np.partition(sims, len(sims) - k, axis=0)[len(sims) - k])
        hit_rows, hit_items = np.nonzero((sims >= cut) & np.isfinite(sims))
        best_item = np.concatenate([best_item, hit_items])
        best_row = np.concatenate([best_row, hit_rows + start])
        best_sim = np.concatenate([best_sim, sims[hit_rows, hit_items]])
        order = np.lexsort((best_row, -best_sim, best_item))
        best_item, best_row, best_sim = best_item[order], best_row[order], best_sim[order]
        rank = np.arange(len(best_item)) - np.searchsorted(best_item, best_item, side="left")
        keep = rank < k
        best_item, best_row, best_sim = best_item[keep], best_row[keep], best_sim[keep]
        kth = rank[keep] == k - 1
        floor = np.full(len(items), -np.inf, np.float32)
        floor[best_item[kth]] = best_sim[kth]
    return [
        Flag(rows[r].id, items[i].benchmark, items[i].item, "nearest_k", round(float(c), 4), field)
        for i, r, c in zip(best_item.tolist(), best_row.tolist(), best_sim.tolist(), strict=True)
    ]


def similarity_chunks(
    row_vectors: np.ndarray, item_vectors: np.ndarray, *, desc: str = "cosine"
) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, rows-chunk x items float32 cosines) over all rows, at most `CHUNK_BYTES` each.
    Vectors must be L2-normalised (`normalise`)."""
    from tqdm.auto import tqdm

    item_t = np.ascontiguousarray(np.asarray(item_vectors, dtype=np.float32).T)
    n_rows, n_items = len(row_vectors), item_t.shape[1]
    step = max(1, CHUNK_BYTES // (4 * max(1, n_items)))
    with tqdm(total=n_rows, unit="row", desc=desc, disable=n_rows < PROGRESS_ROWS) as bar:
        for start in range(0, n_rows, step):
            chunk = np.asarray(row_vectors[start : start + step], dtype=np.float32)
            yield start, chunk @ item_t
            bar.update(len(chunk))


def _usable_rows(rows, row_vectors, items, item_vectors, field: str) -> np.ndarray:
    """Which rows have text in `field` (all when `field` is ""); checks the shapes agree."""
    row_vectors, item_vectors = np.asarray(row_vectors), np.asarray(item_vectors)
    if row_vectors.ndim != 2 or item_vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-D, got {row_vectors.shape} and {item_vectors.shape}")
    if len(rows) != len(row_vectors) or len(items) != len(item_vectors):
        raise ValueError(
            f"{len(rows)} rows for {len(row_vectors)} vectors, "
            f"{len(items)} items for {len(item_vectors)} vectors"
        )
    if len(rows) and len(items) and row_vectors.shape[1] != item_vectors.shape[1]:
        raise ValueError(
            f"row vectors have dimension {row_vectors.shape[1]}, item vectors "
            f"{item_vectors.shape[1]}: embed both with the same model"
        )
    if not field:
        return np.ones(len(rows), bool)
    return np.fromiter(
        (bool(row.fields.get(field, "").strip()) for row in rows), bool, count=len(rows)
    )
