"""KCenterGreedy coreset selection: exact, lazy on the CPU, fused on CUDA.

The textbook greedy (Sener & Savarese 2018; google/active-learning ``kcenter_greedy.py``) keeps,
for every row, the distance to its nearest chosen center and repeatedly picks the row where that
distance is largest. Done eagerly, each pick reads the whole embedding matrix once, and that read
is the floor of the eager algorithm's cost. Two implementations:

- ``lazy`` (the CPU default): a row's stored minimum can only fall, so rows are kept in a max-heap
  by their possibly stale minimum and only the rows that could be the farthest are brought up to
  date; on real embeddings that is about half of the N x k distances, computed from cache instead
  of streamed from memory, so it runs well below the eager floor (see `_numba`);
- ``eager``: one fused pass per pick computes the new distances, updates the running minima and
  finds the next arg-max over row blocks on all cores (numba), or as chunked tensor ops on CUDA
  (torch, the only algorithm there). Nothing of size N x d is allocated.

Exactness. Both compute distances as the reference does: the squared distance is accumulated in
float64 from the float32 inputs, rounded to float32, then square-rooted in float32. A float32
screen only decides which rows need that computation, with a margin far above its error bound.
Squared differences are summed directly, not through ``|x|^2 + |c|^2 - 2x.c``, so identical rows
are at distance exactly 0 and near rows suffer no cancellation. Ties go to the lowest index. A
chosen row is never chosen again, so with duplicate rows (or k >= N) every row is picked once,
duplicates last, lowest index first.

On the CPU the float64 sum runs in column order, so ``lazy`` and ``eager`` return the same
indices, radii and final radius bit for bit. Another order (sklearn's, numpy's pairwise sum,
torch's reductions on CUDA) can round to a different float32 only where the float64 sum lies
within float64 rounding error of a float32 rounding midpoint: a one-ulp difference that decides a
pick only on constructed inputs. On real and random embeddings all give the same indices (tested).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

ALGORITHMS = ("lazy", "eager")
# Picks per call into the CPU kernels: the progress bar and Ctrl-C are served between calls.
_PICKS_PER_CALL = 64
# One CPU selection at a time: numba's fallback threading layer (workqueue) is not safe for
# concurrent callers.
_CPU_LOCK = threading.Lock()


@dataclass
class KCenterSelection:
    """The result of a KCenterGreedy run.

    Attributes:
        indices: selected row indices in selection order (int64, length min(k, N)).
        radii: distance (float32) of each pick to its nearest previously chosen center at the
            moment it was chosen: the coverage radius of the centers chosen before it. The first
            pick has no previous center: ``inf``.
        final_radius: coverage radius of the whole selection, max over rows of the distance to
            the nearest chosen center (0.0 when every row is chosen).
        distance_evaluations: number of (row, center) distances the run computed; the eager
            algorithm computes every unchosen row's distance to every center.
        algorithm: ``"lazy"`` or ``"eager"``.
    """

    indices: np.ndarray
    radii: np.ndarray
    final_radius: float
    distance_evaluations: int = 0
    algorithm: str = "eager"


def kcenter_greedy(
    embeddings,
    k: int,
    *,
    first: int | None = 0,
    seed: int | None = None,
    device: str | None = None,
    backend: str | None = None,
    algorithm: str | None = None,
    return_radii: bool = False,
    progress: bool = False,
):
    """Select ``k`` rows by exact KCenterGreedy; returns the row indices in selection order.

    Args:
        embeddings: (N, d) array-like of finite numbers (a float32 C-contiguous numpy array or a
            torch tensor is used without copying).
        k: number of rows to select; clipped to N.
        first: index of the first center; ``None`` draws it from ``seed``.
        seed: seed of the random first center when ``first`` is None.
        device: ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``...), or None for CUDA when torch sees one.
        backend: ``"numba"`` (CPU) or ``"torch"`` (any torch device); None: torch on CUDA,
            numba on the CPU.
        algorithm: ``"lazy"`` or ``"eager"`` (see the module docstring); None: lazy with numba,
            eager with torch (its only algorithm). ``"lazy"`` with no device or backend runs on
            the CPU even where CUDA is available. Both return the same result.
        return_radii: also return each pick's coverage radius (see ``KCenterSelection.radii``).
        progress: show a progress bar over picks.

    Returns:
        int64 array of indices, or ``(indices, radii)`` when ``return_radii``.

    Raises:
        ValueError: on an empty or non-2-D matrix, NaN/Inf values, k < 1, ``first`` out of
            range, or an unknown backend or algorithm.
    """
    sel = kcenter_greedy_select(
        embeddings,
        k,
        first=first,
        seed=seed,
        device=device,
        backend=backend,
        algorithm=algorithm,
        progress=progress,
    )
    return (sel.indices, sel.radii) if return_radii else sel.indices


def kcenter_greedy_select(
    embeddings,
    k: int,
    *,
    first: int | None = 0,
    seed: int | None = None,
    device: str | None = None,
    backend: str | None = None,
    algorithm: str | None = None,
    progress: bool = False,
) -> KCenterSelection:
    """Like `kcenter_greedy`, returning the full `KCenterSelection`."""
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if algorithm == "lazy" and device is None and backend is None:
        device = "cpu"  # the lazy algorithm exists on the CPU only
    device = _resolve_device(device, embeddings)
    backend = backend or ("numba" if device == "cpu" else "torch")
    if backend == "torch":
        algorithm = algorithm or "eager"
        if algorithm != "eager":
            raise ValueError(
                "the lazy algorithm runs on the CPU (numba); the torch backend runs the eager "
                "algorithm only"
            )
        x = _as_torch_matrix(embeddings, device)
    elif backend == "numba" and device == "cpu":
        algorithm = algorithm or "lazy"
        x = _as_float32_matrix(embeddings)
    else:
        raise ValueError(f"backend {backend!r} cannot run on device {device!r}")
    n = x.shape[0]
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    k = min(int(k), n)
    if first is None:
        first = int(np.random.default_rng(seed).integers(n))
    if not 0 <= first < n:
        raise ValueError(f"first={first} is out of range for {n} rows")
    bar = _progress_bar(k, progress)
    # Pick t of the eager algorithm computes the distance of every row still unchosen (n - 1 - t).
    evaluations = k * (n - 1) - k * (k - 1) // 2
    try:
        if backend == "torch":
            from pipeline.selection import _torch

            indices, radii, final = _torch.select_eager(x, k, first, bar)
        elif algorithm == "lazy":
            indices, radii, final, evaluations = _select_lazy(x, k, first, bar)
        else:
            indices, radii, final = _select_eager_cpu(x, k, first, bar)
    finally:
        if bar is not None:
            bar.close()
    return KCenterSelection(
        indices=indices,
        radii=radii,
        final_radius=final,
        distance_evaluations=int(evaluations),
        algorithm=algorithm,
    )


# ---------------------------------------------------------------------------------------------
# Input checks


def _resolve_device(device: str | None, embeddings) -> str:
    if device is not None:
        return device
    if type(embeddings).__module__.startswith("torch") and embeddings.is_cuda:
        return str(embeddings.device)
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


def _check_finite_shape(shape, finite: bool) -> None:
    if len(shape) != 2:
        raise ValueError(f"embeddings must be a 2-D (rows, dimensions) matrix, got shape {shape}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"embeddings must be non-empty, got shape {shape}")
    if not finite:
        raise ValueError("embeddings contain NaN or Inf values; fix or drop those rows first")


def _as_float32_matrix(embeddings) -> np.ndarray:
    if type(embeddings).__module__.startswith("torch"):
        # .float() first: numpy has no bfloat16.
        embeddings = embeddings.detach().cpu().float().numpy()
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    finite = x.size == 0 or bool(np.isfinite(x).all()) if x.ndim == 2 else True
    _check_finite_shape(x.shape, finite)
    return x


def _as_torch_matrix(embeddings, device: str):
    import torch

    x = torch.as_tensor(embeddings, device=device, dtype=torch.float32).contiguous()
    finite = x.ndim != 2 or x.numel() == 0 or bool(torch.isfinite(x).all())
    _check_finite_shape(tuple(x.shape), finite)
    return x


def _progress_bar(k: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=k, desc="KCenterGreedy", unit="pick")


# ---------------------------------------------------------------------------------------------
# CPU (numba kernels in `_numba`, imported on first use: numba takes a while to import)


def _select_lazy(x: np.ndarray, k: int, first: int, bar):
    from pipeline.selection import _numba

    if bar is not None:
        bar.update(1)
    with _CPU_LOCK:
        state = _numba.LazyState(x, k, first)
        for t0 in range(1, k, _PICKS_PER_CALL):
            t1 = min(k, t0 + _PICKS_PER_CALL)
            state.picks(t0, t1)
            if bar is not None:
                bar.update(t1 - t0)
        final = state.final_radius() if k < x.shape[0] else 0.0
    return state.indices, state.radii, final, int(state.stats[0])


def _select_eager_cpu(x: np.ndarray, k: int, first: int, bar):
    from pipeline.selection import _numba

    indices = np.empty(k, dtype=np.int64)
    radii = np.empty(k, dtype=np.float32)
    pick, radius = first, np.float32(np.inf)
    with _CPU_LOCK:
        state = _numba.EagerPass(x)
        for t in range(k):
            indices[t], radii[t] = pick, radius
            state.min_dist[pick] = _numba.CHOSEN
            pick, radius = state.add_center(pick)
            if bar is not None:
                bar.update(1)
    final = float(max(radius, 0.0)) if k < x.shape[0] else 0.0
    return indices, radii, final


def coverage_radius(embeddings, centers) -> float:
    """Max over rows of the float32 Euclidean distance to the nearest of ``centers`` (indices),
    with the same arithmetic as the selection."""
    from pipeline.selection import _numba

    x = _as_float32_matrix(embeddings)
    rows = np.asarray(centers)
    if rows.ndim != 1 or rows.size == 0:
        raise ValueError("centers must be a non-empty 1-D sequence of row indices")
    if not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"centers must be integer row indices, got dtype {rows.dtype}")
    if rows.min() < 0 or rows.max() >= len(x):
        raise ValueError(f"centers must be row indices in [0, {len(x)})")
    with _CPU_LOCK:
        state = _numba.EagerPass(x)
        for c in rows.astype(np.int64):
            state.add_center(int(c))
    return float(state.min_dist.max())
