"""KCenterGreedy coreset selection: exact, fused, memory-bandwidth bound.

The textbook greedy (Sener & Savarese 2018; google/active-learning ``kcenter_greedy.py``) keeps,
for every row, the distance to its nearest chosen center and repeatedly picks the row where that
distance is largest. Each pick therefore has to read the whole embedding matrix once; that read is
the floor of the algorithm's cost, and this module is written to run at that floor:

- one fused pass per pick computes the new distances, updates the running minima and finds the next
  arg-max, so the matrix is read exactly once per pick and nothing of size N x d is allocated;
- the pass runs over row blocks on all cores (numba), or as chunked tensor ops on CUDA (torch);
- temporary memory is O(N) float32 (the running minima) plus O(blocks).

Exactness. Distances are the float32 Euclidean distances of the reference: the squared distance is
accumulated in float64 from the float32 inputs, rounded to float32, then square-rooted in float32
(sklearn's ``pairwise_distances`` on float32 input does the same up to float64 rounding, which
never reaches a float32 result except in ties of a float32 ulp). Ties go to the lowest index.
Squared differences are summed directly, not through ``|x|^2 + |c|^2 - 2x.c``, so identical rows are
at distance exactly 0 and near rows suffer no cancellation. A chosen row is never chosen again, so
with duplicate rows (or k >= N) every row is picked once, duplicates last, lowest index first.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

# Rows per block of the CPU kernel: 512 x 384 float32 = 768 KiB, so a block's min-distances and
# its slice of the matrix stay in L2 while being reduced.
_BLOCK_ROWS = 512
# Rows per chunk on CUDA: bounds the float64 temporary to chunk x d x 8 bytes.
_CUDA_CHUNK_ROWS = 1 << 16
# Minimum distance given to a row once it is chosen: below any real distance (>= 0).
_CHOSEN = np.float32(-1.0)


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
    """

    indices: np.ndarray
    radii: np.ndarray
    final_radius: float


def kcenter_greedy(
    embeddings,
    k: int,
    *,
    first: int | None = 0,
    seed: int | None = None,
    device: str | None = None,
    backend: str | None = None,
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
        return_radii: also return each pick's coverage radius (see ``KCenterSelection.radii``).
        progress: show a progress bar over picks.

    Returns:
        int64 array of indices, or ``(indices, radii)`` when ``return_radii``.

    Raises:
        ValueError: on an empty or non-2-D matrix, NaN/Inf values, k < 1, or ``first`` out of
            range.
    """
    sel = kcenter_greedy_select(
        embeddings, k, first=first, seed=seed, device=device, backend=backend, progress=progress
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
    progress: bool = False,
) -> KCenterSelection:
    """Like `kcenter_greedy`, returning the full `KCenterSelection`."""
    device = _resolve_device(device, embeddings)
    backend = backend or ("numba" if device == "cpu" else "torch")
    if backend == "torch":
        x = _as_torch_matrix(embeddings, device)
    elif backend == "numba" and device == "cpu":
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
    try:
        if backend == "torch":
            return _select_torch(x, k, first, bar)
        return _select_cpu(x, k, first, bar)
    finally:
        if bar is not None:
            bar.close()


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
        embeddings = embeddings.detach().cpu().numpy()
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
# CPU: numba kernel, one fused parallel pass per pick
#
# Screen, then refine: the new squared distance is first computed in float32 (16 lanes per
# AVX-512 instruction, so the pass stays bound by memory reads); only a row whose float32 value
# could beat its current minimum, within a margin far above the float32 error bound, is
# recomputed in float64. The float64 value is the one kept, so results are exact; the refined rows
# are those whose nearest center changes (a few hundred of 40k per pick on real embeddings).

# Relative margin of the float32 screen: the float32 sum of d squares is within about d * 2^-24
# (2.3e-5 at d = 384) of the exact one; 1e-4 leaves room for any summation order up to d ~ 1600,
# and wider vectors scale it (see `_screen_margin`).
_SCREEN_TOL = 1e-4


def _screen_margin(d: int) -> np.float32:
    return np.float32(max(_SCREEN_TOL, 4.0 * (d + 8) * 2.0**-24))


def _block_bounds(n: int) -> np.ndarray:
    # At least a few blocks per thread so uneven thread speeds even out.
    threads = max(1, os.cpu_count() or 1)
    rows = max(64, min(_BLOCK_ROWS, math.ceil(n / (4 * threads))))
    return np.append(np.arange(0, n, rows, dtype=np.int64), np.int64(n))


_KERNEL = None
# numba's workqueue threading layer is not safe for concurrent callers: one pass at a time.
_KERNEL_LOCK = threading.Lock()


def _cpu_kernel():
    """Compile (once, cached on disk by numba) the fused update-and-argmax pass."""
    global _KERNEL
    if _KERNEL is not None:
        return _KERNEL
    import numba

    # distilabel runs steps in forked processes, often after torch has started GNU OpenMP in the
    # parent; numba's OpenMP layer then hangs or aborts in the child. The workqueue layer is
    # fork-safe. An explicit NUMBA_THREADING_LAYER wins.
    if "NUMBA_THREADING_LAYER" not in os.environ:
        numba.config.THREADING_LAYER = "workqueue"

    # Reassociation lets both sums vectorise; no other fast-math flag (infs are used).
    @numba.njit(parallel=True, fastmath={"reassoc", "contract"}, cache=True, nogil=True)
    def update_and_argmax(x, c32, c64, margin, min_dist, bounds, best_val, best_idx):
        n_blocks = bounds.shape[0] - 1
        d = x.shape[1]
        tiny = np.float32(1e-30)
        one = np.float32(1.0)
        for b in numba.prange(n_blocks):
            top = np.float32(-2.0)
            top_i = -1
            for i in range(bounds[b], bounds[b + 1]):
                m = min_dist[i]
                # Chosen rows hold a negative sentinel and are skipped.
                if m >= 0:
                    approx = np.float32(0.0)
                    for j in range(d):
                        diff = x[i, j] - c32[j]
                        approx += diff * diff
                    if approx <= m * m * (one + margin) + tiny:
                        acc = 0.0
                        for j in range(d):
                            diff64 = np.float64(x[i, j]) - c64[j]
                            acc += diff64 * diff64
                        dist = np.sqrt(np.float32(acc))
                        if dist < m:
                            m = dist
                            min_dist[i] = m
                if m > top:
                    top = m
                    top_i = i
            best_val[b] = top
            best_idx[b] = top_i

    _KERNEL = update_and_argmax
    return _KERNEL


class _CpuPass:
    """The per-pick pass over a float32 matrix, with its O(N) state."""

    def __init__(self, x: np.ndarray):
        self.x = x
        self.kernel = _cpu_kernel()
        self.bounds = _block_bounds(x.shape[0])
        self.best_val = np.empty(len(self.bounds) - 1, dtype=np.float32)
        self.best_idx = np.empty(len(self.bounds) - 1, dtype=np.int64)
        self.margin = _screen_margin(x.shape[1])
        self.min_dist = np.full(x.shape[0], np.inf, dtype=np.float32)

    def add_center(self, c: int) -> tuple[int, np.float32]:
        """Update minima with center row ``c``; return the farthest unchosen row and its distance."""
        row = self.x[c]
        with _KERNEL_LOCK:
            self.kernel(
                self.x,
                row.copy(),
                row.astype(np.float64),
                self.margin,
                self.min_dist,
                self.bounds,
                self.best_val,
                self.best_idx,
            )
        # Blocks are in row order and each keeps its first maximum: argmax keeps the lowest index.
        b = int(np.argmax(self.best_val))
        return int(self.best_idx[b]), self.best_val[b]


def _select_cpu(x: np.ndarray, k: int, first: int, bar) -> KCenterSelection:
    state = _CpuPass(x)
    indices = np.empty(k, dtype=np.int64)
    radii = np.empty(k, dtype=np.float32)
    pick, radius = first, np.float32(np.inf)
    for t in range(k):
        indices[t], radii[t] = pick, radius
        state.min_dist[pick] = _CHOSEN
        pick, radius = state.add_center(pick)
        if bar is not None:
            bar.update(1)
    final = float(max(radius, 0.0)) if k < x.shape[0] else 0.0
    return KCenterSelection(indices=indices, radii=radii, final_radius=final)


def coverage_radius(embeddings, centers) -> float:
    """Max over rows of the float32 Euclidean distance to the nearest of ``centers`` (indices),
    with the same arithmetic as the selection."""
    x = _as_float32_matrix(embeddings)
    state = _CpuPass(x)
    for c in np.asarray(centers, dtype=np.int64):
        state.add_center(int(c))
    return float(state.min_dist.max())


# ---------------------------------------------------------------------------------------------
# torch (CUDA): the same screen-and-refine. The screen is one float32 matrix-vector product per
# pick (the matrix read once, at memory bandwidth) with row norms computed once; its error bound
# is absolute, (d + 8) * 2^-24 * (|x| + |c|)^2 doubled for margin. Candidates are refined in
# float64 in bounded chunks.


def _select_torch(x, k: int, first: int, bar) -> KCenterSelection:
    import torch

    n, d = x.shape
    previous = torch.get_float32_matmul_precision()
    # TF32 would break the screen's error bound.
    torch.set_float32_matmul_precision("highest")
    try:
        sq_norms = torch.empty(n, dtype=torch.float64, device=x.device)
        for start in range(0, n, _CUDA_CHUNK_ROWS):
            chunk = x[start : start + _CUDA_CHUNK_ROWS].to(torch.float64)
            sq_norms[start : start + chunk.shape[0]] = chunk.square().sum(dim=1)
        sq32 = sq_norms.to(torch.float32)
        norms = sq_norms.sqrt().to(torch.float32)
        err = 2.0 * (d + 8) * 2.0**-24
        margin = float(_screen_margin(d))
        min_dist = torch.full((n,), float("inf"), dtype=torch.float32, device=x.device)
        indices = np.empty(k, dtype=np.int64)
        radii = np.empty(k, dtype=np.float32)
        pick, radius = first, np.float32(np.inf)
        for t in range(k):
            indices[t], radii[t] = pick, radius
            min_dist[pick] = float(_CHOSEN)
            c = x[pick]
            approx = sq32 + sq32[pick] - 2.0 * torch.mv(x, c)
            bound = err * (norms + norms[pick]).square_()
            cand = (min_dist >= 0) & (approx <= min_dist.square() * (1 + margin) + bound + 1e-30)
            rows = cand.nonzero().squeeze(1)
            c64 = c.to(torch.float64)
            for start in range(0, rows.numel(), _CUDA_CHUNK_ROWS):
                r = rows[start : start + _CUDA_CHUNK_ROWS]
                exact = (x[r].to(torch.float64) - c64).square_().sum(dim=1).to(torch.float32)
                min_dist[r] = torch.minimum(min_dist[r], exact.sqrt_())
            # torch.argmax returns the first maximum: ties go to the lowest index.
            pick = int(torch.argmax(min_dist))
            radius = np.float32(min_dist[pick].item())
            if bar is not None:
                bar.update(1)
    finally:
        torch.set_float32_matmul_precision(previous)
    final = float(max(radius, 0.0)) if k < n else 0.0
    return KCenterSelection(indices=indices, radii=radii, final_radius=final)
