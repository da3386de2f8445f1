"""CPU kernels of KCenterGreedy (numba): the lazy selection and the eager fused pass.

Both compute every distance with the same code, so both give the same indices and radii, bit for
bit, and the reference's:

- screen: the squared distance in float32 (16 lanes per AVX-512 instruction);
- refine: only where the float32 value could beat the row's current minimum (within a margin far
  above the float32 error bound), `_exact` recomputes it: float64 squares of the float32
  differences summed in column order, rounded to float32, square-rooted in float32. That value is
  the one kept. Minima are order-independent, so it does not matter in which order a row meets
  its centers.

Eager (`EagerPass`): one fused parallel pass per pick over the whole matrix updates every row's
minimum and finds the arg-max. It reads the matrix once per pick, so memory bandwidth is its floor.

Lazy (`LazyState`): each row keeps its minimum over the centers it has *seen* (``last[i]`` of
them), which can only be too large, never too small. A max-heap holds the rows by that stale value
(ties: lowest index first). To pick, rows are popped from the top and brought up to date (their
distances to the centers added since they were last seen) until the top row is up to date: it is
then the true farthest row, because every row below it has a stale value, and so a true value, no
larger (and a lower index where equal). Rows far inside the covered region are never touched
again; on real embeddings the lazy pick evaluates about half of the N x k distances, and from
cache (the centers seen by one row are consecutive) instead of streaming the matrix from memory.
Popped rows are updated in parallel batches; should one pick pop a large share of the rows, all
rows are brought up to date at once in a parallel sweep and the heap is rebuilt (this also makes
the first pick a plain parallel pass). Memory: 20 bytes per row (minimum, centers seen, heap entry)
plus contiguous copies of the centers up to `_COPY_BUDGET`.
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np

# Before any parallel launch in this process. TBB first: parallel regions start in about 1 us
# (numba's own workqueue takes about 90 us on this 2-core VM, and the lazy pick launches several
# regions per pick), it is safe for concurrent callers, and it is fork-safe; distilabel runs steps
# in forked processes, where the OpenMP layer hangs once torch has started GNU OpenMP in the
# parent. Workqueue is the fork-safe fallback when the `tbb` package is absent. An explicit
# NUMBA_THREADING_LAYER wins.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "default"
    numba.config.THREADING_LAYER_PRIORITY = ["tbb", "workqueue", "omp"]

# Reassociation lets the sums vectorise; no other fast-math flag (infinities are used).
_FM = {"reassoc", "contract"}

# Rows per block of the eager pass: 512 x 384 float32 = 768 KiB, so a block's slice of the matrix
# and its minima stay in L2 while being reduced.
_BLOCK_ROWS = 512

# Bytes of contiguous center copies the lazy selection keeps (the first 349k centers at d = 384).
_COPY_BUDGET = 512 << 20

# Relative margin of the float32 screen: the float32 sum of d squares is within about d * 2^-24
# (2.3e-5 at d = 384) of the exact one; 1e-4 leaves room for any summation order up to d ~ 1600,
# and wider vectors scale it (see `screen_margin`).
_SCREEN_TOL = 1e-4


def screen_margin(d: int) -> np.float32:
    return np.float32(max(_SCREEN_TOL, 4.0 * (d + 8) * 2.0**-24))


def fast_parallel_launch() -> bool:
    """Whether numba's threading layer starts parallel regions cheaply (TBB or OpenMP)."""
    _warm_up()
    return numba.threading_layer() in ("tbb", "omp")


_WARM = False


def _warm_up() -> None:
    # numba picks its threading layer at the first parallel launch; run one so it is known.
    global _WARM
    if not _WARM:
        x = np.zeros((2, 1), np.float32)
        EagerPass(x).add_center(0)
        _WARM = True


# ---------------------------------------------------------------------------------------------
# Shared arithmetic


@numba.njit(fastmath=False, nogil=True, cache=True)
def _exact(x, i, c):
    """The kept distance of rows ``i`` and ``c``: the float64 sum of squared differences in column
    order, rounded to float32, then a float32 square root. The order is fixed so that the eager
    and lazy kernels agree bit for bit: no fast-math, stated explicitly because numba otherwise
    compiles a callee with its caller's fast-math flags, and reassociation would let the
    compiler pick the order."""
    acc = 0.0
    for col in range(x.shape[1]):
        diff64 = np.float64(x[i, col]) - np.float64(x[c, col])
        acc += diff64 * diff64
    return np.sqrt(np.float32(acc))


@numba.njit(fastmath=_FM, nogil=True, cache=True)
def _catch_up(x, i, centers, copies, lo, hi, m, margin):
    """Row ``i``'s minimum ``m`` lowered by its distances to centers ``lo .. hi - 1``: the rows
    ``centers[lo:hi]`` of ``x``, screened against ``copies[lo:hi]`` where it holds them (a
    contiguous copy keeps the centers in few pages; scattered rows cost TLB misses)."""
    d = x.shape[1]
    scale = np.float32(1.0) + margin
    tiny = np.float32(1e-30)
    split = max(lo, min(hi, copies.shape[0]))
    # Two copies of the screen: one loop body reading either array vectorises worse.
    for j in range(lo, split):
        approx = np.float32(0.0)
        for col in range(d):
            diff = x[i, col] - copies[j, col]
            approx += diff * diff
        if approx <= m * m * scale + tiny:
            m = min(m, _exact(x, i, centers[j]))
    for j in range(split, hi):
        c = centers[j]
        approx = np.float32(0.0)
        for col in range(d):
            diff = x[i, col] - x[c, col]
            approx += diff * diff
        if approx <= m * m * scale + tiny:
            m = min(m, _exact(x, i, c))
    return m


# ---------------------------------------------------------------------------------------------
# Lazy selection


@numba.njit(nogil=True, cache=True)
def _before(value_a, index_a, value_b, index_b):
    """Heap order: larger value first, then lower index (the reference's first arg-max)."""
    return value_a > value_b or (value_a == value_b and index_a < index_b)


@numba.njit(nogil=True, cache=True)
def _sift_down(hv, hx, size, pos):
    value, index = hv[pos], hx[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(hv[right], hx[right], hv[child], hx[child]):
            child = right
        if not _before(hv[child], hx[child], value, index):
            break
        hv[pos], hx[pos] = hv[child], hx[child]
        pos = child
    hv[pos], hx[pos] = value, index


@numba.njit(nogil=True, cache=True)
def _sift_up(hv, hx, pos):
    value, index = hv[pos], hx[pos]
    while pos > 0:
        parent = (pos - 1) // 2
        if not _before(value, index, hv[parent], hx[parent]):
            break
        hv[pos], hx[pos] = hv[parent], hx[parent]
        pos = parent
    hv[pos], hx[pos] = value, index


@numba.njit(parallel=True, fastmath=_FM, nogil=True, cache=True)
def _catch_up_rows(x, centers, copies, margin, m, last, rows, count, t, step):
    """Bring ``rows[:count]`` up to date with the first ``t`` centers, ``step`` rows per task."""
    for b in numba.prange((count + step - 1) // step):
        for q in range(b * step, min(count, (b + 1) * step)):
            i = rows[q]
            m[i] = _catch_up(x, i, centers, copies, last[i], t, m[i], margin)
            last[i] = t


@numba.njit(nogil=True, cache=True)
def _settle(
    x, centers, copies, margin, m, last, hv, hx, size, t, batch, parallel, sweep_after, stats
):  # fmt: skip
    """Bring the heap's top row up to date with the first ``t`` centers."""
    popped = 0
    while size > 0:
        count = 0
        while count < batch.shape[0] and size > 0 and last[hx[0]] < t:
            batch[count] = hx[0]
            count += 1
            size -= 1
            hv[0], hx[0] = hv[size], hx[size]
            _sift_down(hv, hx, size, 0)
        if count == 0:
            return
        popped += count
        size += count  # the popped rows go back below, at the end of the heap
        if popped > sweep_after:
            # Too many stale rows near the top: bring every row up to date, rebuild the heap.
            for q in range(count):
                hx[size - count + q] = batch[q]
            for q in range(size):
                stats[0] += t - last[hx[q]]
            _catch_up_rows(x, centers, copies, margin, m, last, hx, size, t, 256)
            for q in range(size):
                hv[q] = m[hx[q]]
            for q in range(size // 2 - 1, -1, -1):
                _sift_down(hv, hx, size, q)
            stats[2] += 1
            return
        for q in range(count):
            stats[0] += t - last[batch[q]]
        if parallel and count > 1:
            _catch_up_rows(x, centers, copies, margin, m, last, batch, count, t, 1)
        else:
            for q in range(count):
                i = batch[q]
                m[i] = _catch_up(x, i, centers, copies, last[i], t, m[i], margin)
                last[i] = t
        for q in range(count):
            pos = size - count + q
            hv[pos], hx[pos] = m[batch[q]], batch[q]
            _sift_up(hv, hx, pos)
        stats[1] += count


@numba.njit(nogil=True, cache=True)
def _lazy_picks(
    x, copies, margin, m, last, hv, hx, size, t0, t1, indices, radii, batch, parallel, sweep_after,
    stats,
):  # fmt: skip
    """Choose centers ``t0 .. t1 - 1``; returns the heap's new size."""
    for t in range(t0, t1):
        _settle(
            x, indices, copies, margin, m, last, hv, hx, size, t, batch, parallel, sweep_after,
            stats,
        )  # fmt: skip
        pick = hx[0]
        indices[t], radii[t] = pick, hv[0]
        size -= 1
        hv[0], hx[0] = hv[size], hx[size]
        _sift_down(hv, hx, size, 0)
        if t < copies.shape[0]:
            for col in range(x.shape[1]):
                copies[t, col] = x[pick, col]
    return size


class LazyState:
    """The lazy selection's state: stale minima, centers seen, the heap, the centers so far."""

    def __init__(self, x: np.ndarray, k: int, first: int):
        n, d = x.shape
        self.x = x
        self.k = k
        self.margin = screen_margin(d)
        # Selection order; the first t entries are the centers a pick t sees.
        self.indices = np.empty(k, np.int64)
        self.radii = np.empty(k, np.float32)
        self.indices[0], self.radii[0] = first, np.float32(np.inf)
        # Contiguous copies of the centers, within a memory budget; later centers are read
        # from x (correct, about twice as slow).
        self.copies = np.empty((min(k, max(1, _COPY_BUDGET // (4 * d))), d), np.float32)
        self.copies[0] = x[first]
        self.min_dist = np.full(n, np.inf, np.float32)
        self.last = np.zeros(n, np.int32)  # centers seen by each row
        # Every other row, at distance inf: sorted by index, a valid heap.
        self.heap_values = np.full(n, np.inf, np.float32)
        self.heap_rows = np.empty(n, np.int64)
        self.heap_rows[:first] = np.arange(first)
        self.heap_rows[first : n - 1] = np.arange(first + 1, n)
        self.size = n - 1
        self.parallel = fast_parallel_launch() and numba.get_num_threads() > 1
        self.batch = np.empty(max(16, 8 * numba.get_num_threads()), np.int64)
        self.sweep_after = max(256, n // 16)
        self.stats = np.zeros(3, np.int64)  # distance evaluations, row updates, sweeps

    def picks(self, t0: int, t1: int) -> None:
        """Choose centers ``t0 .. t1 - 1`` into ``indices`` and ``radii``."""
        # Rows of a batch differ in work: parallel tasks are handed out one by one.
        with numba.parallel_chunksize(1):
            self.size = self._picks(t0, t1)

    def _picks(self, t0: int, t1: int) -> int:
        return _lazy_picks(
            self.x, self.copies, self.margin, self.min_dist, self.last, self.heap_values,
            self.heap_rows, self.size, t0, t1, self.indices, self.radii, self.batch, self.parallel,
            self.sweep_after, self.stats,
        )  # fmt: skip

    def final_radius(self) -> float:
        """Coverage radius of all k centers: the true value of the farthest remaining row."""
        if self.size == 0:
            return 0.0
        with numba.parallel_chunksize(1):
            self._settle_all()
        return float(self.heap_values[0])

    def _settle_all(self) -> None:
        _settle(
            self.x, self.indices, self.copies, self.margin, self.min_dist, self.last, self.heap_values,
            self.heap_rows, self.size, self.k, self.batch, self.parallel, self.sweep_after,
            self.stats,
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Eager fused pass


@numba.njit(parallel=True, fastmath=_FM, nogil=True, cache=True)
def _update_and_argmax(x, c, c32, margin, min_dist, bounds, best_val, best_idx):
    n_blocks = bounds.shape[0] - 1
    d = x.shape[1]
    scale = np.float32(1.0) + margin
    tiny = np.float32(1e-30)
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
                if approx <= m * m * scale + tiny:
                    dist = _exact(x, i, c)
                    if dist < m:
                        m = dist
                        min_dist[i] = m
            if m > top:
                top = m
                top_i = i
        best_val[b] = top
        best_idx[b] = top_i


def _block_bounds(n: int) -> np.ndarray:
    # At least a few blocks per thread so uneven thread speeds even out.
    threads = numba.get_num_threads()
    rows = max(64, min(_BLOCK_ROWS, math.ceil(n / (4 * threads))))
    return np.append(np.arange(0, n, rows, dtype=np.int64), np.int64(n))


# Minimum distance given to a row once it is chosen: below any real distance (>= 0).
CHOSEN = np.float32(-1.0)


class EagerPass:
    """The per-pick fused pass over a float32 matrix, with its O(N) state."""

    def __init__(self, x: np.ndarray):
        self.x = x
        self.bounds = _block_bounds(x.shape[0])
        self.best_val = np.empty(len(self.bounds) - 1, dtype=np.float32)
        self.best_idx = np.empty(len(self.bounds) - 1, dtype=np.int64)
        self.margin = screen_margin(x.shape[1])
        self.min_dist = np.full(x.shape[0], np.inf, dtype=np.float32)

    def add_center(self, c: int) -> tuple[int, np.float32]:
        """Update minima with center row ``c``; return the farthest unchosen row and its distance."""
        row = self.x[c]
        _update_and_argmax(
            self.x,
            c,
            row.copy(),
            self.margin,
            self.min_dist,
            self.bounds,
            self.best_val,
            self.best_idx,
        )
        # Blocks are in row order and each keeps its first maximum: argmax keeps the lowest index.
        b = int(np.argmax(self.best_val))
        return int(self.best_idx[b]), self.best_val[b]
