"""KCenterGreedy: exactness against a naive textbook reference, edge cases, every algorithm."""

from __future__ import annotations

import platform
import sys

import numpy as np
import pytest

from pipeline.selection import coverage_radius, kcenter_greedy, kcenter_greedy_select


def textbook_kcenter(x: np.ndarray, k: int, first: int = 0) -> list[int]:
    """The google/active-learning greedy, written plainly: distances of every row to the new
    center (float64 sum of squares, rounded to float32, float32 sqrt), running minimum, argmax
    (first maximum). Chosen rows are excluded so duplicates cannot be picked twice."""
    x = np.asarray(x, dtype=np.float32)
    min_dist = np.full(len(x), np.inf, dtype=np.float32)
    chosen = np.zeros(len(x), dtype=bool)
    picks, pick = [], first
    for _ in range(min(k, len(x))):
        picks.append(pick)
        chosen[pick] = True
        diff = x.astype(np.float64) - x[pick].astype(np.float64)
        dist = np.sqrt((diff * diff).sum(axis=1).astype(np.float32))
        min_dist = np.minimum(min_dist, dist)
        pick = int(np.argmax(np.where(chosen, -1.0, min_dist)))
    return picks


def sklearn_kcenter(x: np.ndarray, k: int, first: int = 0) -> list[int]:
    """The reference implementation's arithmetic: per-pick sklearn pairwise distances."""
    from sklearn.metrics import pairwise_distances

    min_dist, picks, pick = None, [], first
    for _ in range(k):
        picks.append(pick)
        dist = pairwise_distances(x, x[pick : pick + 1]).ravel()
        min_dist = dist if min_dist is None else np.minimum(min_dist, dist)
        pick = int(np.argmax(min_dist))
    return picks


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# Every CPU implementation: (backend, algorithm).
IMPLEMENTATIONS = [("numba", "lazy"), ("numba", "eager"), ("torch", "eager")]


@pytest.mark.parametrize("backend,algorithm", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed,n,d,k", [(0, 2000, 384, 150), (1, 777, 33, 200), (2, 3000, 8, 300)])
def test_matches_textbook_and_sklearn_on_random_data(backend, algorithm, seed, n, d, k):
    x = unit_rows(n, d, seed) * np.float32(3.0)
    ours = kcenter_greedy(x, k, first=5, device="cpu", backend=backend, algorithm=algorithm)
    assert ours.dtype == np.int64
    assert ours.tolist() == textbook_kcenter(x, k, first=5)
    assert ours.tolist() == sklearn_kcenter(x, k, first=5)


def test_matches_textbook_on_real_embeddings(stdlib_embeddings):
    x = stdlib_embeddings
    k = min(300, len(x) - 1)
    ours, radii = kcenter_greedy(x, k, first=0, return_radii=True)
    assert ours.tolist() == textbook_kcenter(x, k)
    assert ours.tolist() == sklearn_kcenter(x, k)
    assert len(set(ours.tolist())) == k
    # Radii are the distances the picks were chosen at: non-increasing after the first.
    assert np.isinf(radii[0]) and np.all(np.diff(radii[1:]) <= 0)


def test_lazy_equals_eager_bit_for_bit_and_computes_fewer_distances(stdlib_embeddings):
    # Tiled with noise, as bench/kcenter.py does, so rows have near neighbours.
    rng = np.random.default_rng(0)
    base = stdlib_embeddings
    x = np.concatenate(
        [base] + [base + rng.normal(0, 0.01, base.shape).astype(np.float32) for _ in range(3)]
    )
    k = 300
    lazy = kcenter_greedy_select(x, k, first=17, device="cpu", algorithm="lazy")
    eager = kcenter_greedy_select(x, k, first=17, device="cpu", algorithm="eager")
    assert (lazy.algorithm, eager.algorithm) == ("lazy", "eager")
    assert lazy.indices.tolist() == eager.indices.tolist()
    assert lazy.radii.tobytes() == eager.radii.tobytes()
    assert lazy.final_radius == eager.final_radius == coverage_radius(x, lazy.indices)
    # The eager pass computes every unchosen row's distance to every center.
    n = len(x)
    assert eager.distance_evaluations == sum(n - 1 - t for t in range(k))
    assert n - 1 <= lazy.distance_evaluations < 0.75 * eager.distance_evaluations


@pytest.mark.parametrize("parallel,copy_budget", [(True, None), (False, None), (True, 24 * 4 * 50)])
def test_lazy_batches_and_sweeps_agree_with_the_textbook(parallel, copy_budget, monkeypatch):
    from pipeline.selection import _numba

    if copy_budget is not None:  # only the first 50 centers copied; later ones read from x
        monkeypatch.setattr(_numba, "_COPY_BUDGET", copy_budget)
    x = unit_rows(3000, 24, 9)
    k = 400
    state = _numba.LazyState(x, k, first=11)
    assert len(state.copies) == (50 if copy_budget else k)
    state.parallel = parallel
    for t0 in range(1, k, 37):  # resumable at any pick
        state.picks(t0, min(k, t0 + 37))
    assert state.indices.tolist() == textbook_kcenter(x, k, first=11)
    assert state.final_radius() == coverage_radius(x, state.indices)
    evaluations, updates, sweeps = state.stats.tolist()
    # The first pick sweeps every row; later picks update rows in batches.
    assert sweeps >= 1 and updates > 0 and evaluations < k * len(x) / 2


@pytest.mark.skipif(
    sys.platform == "darwin" or platform.machine() not in ("x86_64", "AMD64"),
    reason="the tbb wheel (a dependency) exists for x86-64 Linux and Windows only",
)
def test_cpu_kernels_use_tbb_and_work_in_forked_children():
    """TBB is the fast, fork-safe threading layer (installed with the package); a distilabel step
    runs in a forked child of a parent that has started GNU OpenMP through torch."""
    import multiprocessing

    import numba
    import torch

    from pipeline.selection import _numba

    x = unit_rows(4000, 16, 10)
    expected = kcenter_greedy(x, 50, device="cpu").tolist()
    assert numba.threading_layer() == "tbb"
    assert _numba.fast_parallel_launch()
    a = torch.randn(512, 512)
    float((a @ a).sum())  # starts torch's intra-op (OpenMP) threads here
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_select_on_cpu, [(x, 50), (x, 50)], chunksize=1)
    assert [r.tolist() for r in results] == [expected, expected]


def test_radii_are_distances_to_previous_centers():
    x = unit_rows(500, 16, 3)
    sel = kcenter_greedy_select(x, 40, first=7)
    for t in (1, 2, 10, 39):
        prev = x[sel.indices[:t]].astype(np.float64)
        diff = prev - x[sel.indices[t]].astype(np.float64)
        expected = np.sqrt((diff * diff).sum(axis=1).astype(np.float32)).min()
        assert sel.radii[t] == expected
    assert sel.final_radius == pytest.approx(coverage_radius(x, sel.indices))
    assert sel.final_radius < sel.radii[-1]


@pytest.mark.parametrize("algorithm", ["lazy", "eager"])
def test_k_at_least_rows_returns_every_row_once(algorithm):
    x = unit_rows(50, 8, 4)
    for k in (50, 51, 1000):
        sel = kcenter_greedy_select(x, k, first=3, device="cpu", algorithm=algorithm)
        assert sorted(sel.indices.tolist()) == list(range(50))
        assert sel.indices[0] == 3
        assert sel.final_radius == 0.0


@pytest.mark.parametrize("backend,algorithm", IMPLEMENTATIONS)
def test_duplicate_and_zero_rows(backend, algorithm):
    base = unit_rows(10, 12, 5)
    x = np.concatenate([base, base[:4], np.zeros((3, 12), np.float32)])
    picks = kcenter_greedy(
        x, len(x), first=0, device="cpu", backend=backend, algorithm=algorithm
    ).tolist()
    # Distinct rows (10 unit rows and the zero vector) first, then the duplicates, each at
    # distance exactly 0, in index order.
    assert sorted(picks[:11]) == [*range(10), 14]
    assert picks[11:] == [10, 11, 12, 13, 15, 16]
    assert picks[:11] == textbook_kcenter(x, 11)


@pytest.mark.parametrize("algorithm", ["lazy", "eager"])
def test_all_identical_rows(algorithm):
    x = np.ones((6, 4), np.float32)
    sel = kcenter_greedy_select(x, 4, first=2, device="cpu", algorithm=algorithm)
    assert sel.indices.tolist() == [2, 0, 1, 3]
    assert sel.radii[1:].tolist() == [0.0, 0.0, 0.0]


def test_first_none_is_seeded():
    x = unit_rows(300, 8, 6)
    a = kcenter_greedy(x, 10, first=None, seed=11)
    b = kcenter_greedy(x, 10, first=None, seed=11)
    c = kcenter_greedy(x, 10, first=None, seed=12)
    assert a.tolist() == b.tolist()
    assert a[0] == np.random.default_rng(11).integers(300)
    assert a.tolist() != c.tolist()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_a_clear_error(bad):
    x = unit_rows(20, 4, 7)
    x[13, 2] = bad
    with pytest.raises(ValueError, match="NaN or Inf"):
        kcenter_greedy(x, 3)


@pytest.mark.parametrize(
    "x,k,first,match",
    [
        (np.zeros((0, 4)), 1, 0, "non-empty"),
        (np.zeros(5), 1, 0, "2-D"),
        (np.ones((5, 2)), 0, 0, "k must be"),
        (np.ones((5, 2)), 2, 5, "out of range"),
    ],
)
def test_bad_arguments(x, k, first, match):
    with pytest.raises(ValueError, match=match):
        kcenter_greedy(x, k, first=first)


def test_bad_algorithm_is_a_clear_error():
    x = unit_rows(20, 4, 7)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        kcenter_greedy(x, 3, algorithm="fast")
    with pytest.raises(ValueError, match="eager algorithm only"):
        kcenter_greedy(x, 3, device="cpu", backend="torch", algorithm="lazy")


def test_lazy_runs_on_the_cpu_where_cuda_is_available(monkeypatch):
    import torch

    x = unit_rows(300, 8, 12)
    expected = kcenter_greedy(x, 20, device="cpu").tolist()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert kcenter_greedy(x, 20, algorithm="lazy").tolist() == expected


def _select_on_cpu(x, k):
    return kcenter_greedy(x, k, device="cpu")


@pytest.mark.parametrize("backend,algorithm", IMPLEMENTATIONS)
def test_values_whose_squares_overflow_float32(backend, algorithm):
    # Rows 1 and 2 are 3e19 from row 0: their squared distance overflows float32 to inf, as in
    # the reference; row 3 is then the farthest from {0, 1}.
    x = np.array([[0, 0], [3e19, 0], [3e19, 1], [1, 1]], np.float32)
    sel = kcenter_greedy_select(x, 3, device="cpu", backend=backend, algorithm=algorithm)
    with np.errstate(over="ignore"):
        assert sel.indices.tolist() == textbook_kcenter(x, 3) == [0, 1, 3]
    assert sel.radii.tolist() == [np.inf, np.inf, np.float32(np.sqrt(np.float32(2.0)))]


def column_order_distance(a: np.ndarray, b: np.ndarray) -> np.float32:
    """float64 squared differences summed strictly in column order, float32 rounding and sqrt."""
    sq = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    return np.sqrt(np.float32(np.cumsum(sq)[-1]))  # cumsum adds in order


def test_lazy_and_eager_agree_where_summation_order_decides_the_float32_rounding():
    # |v|^2 = 2 + 2^-23 + 6 * 2^-54: just above the midpoint between two float32 values, so
    # the float32 rounding depends on whether the 2^-54 terms are added before the large ones.
    # Both CPU kernels add in column order, like `column_order_distance`.
    d = 16
    v = np.zeros(d, np.float32)
    v[[8, 12]] = 1.0
    v[[10, 14]] = 2.0**-12
    v[[0, 1, 2, 3, 5, 7]] = 2.0**-27
    w = np.zeros(d, np.float32)
    w[[0, 1]] = 1.0
    w[2] = 2.0**-11
    x = np.stack([np.zeros(d, np.float32), v, w])
    expected_order = sorted([1, 2], key=lambda i: (-column_order_distance(x[i], x[0]), i))
    for algorithm in ("lazy", "eager"):
        sel = kcenter_greedy_select(x, 3, first=0, device="cpu", algorithm=algorithm)
        assert sel.indices.tolist() == [0, *expected_order], algorithm
        assert sel.radii[1] == column_order_distance(x[expected_order[0]], x[0])


@pytest.mark.parametrize(
    "centers,match",
    [
        ([], "non-empty"),
        ([[0, 1]], "1-D"),
        ([0.5], "integer"),
        ([-1], r"in \[0, 20\)"),
        ([20], "in"),
    ],
)
def test_coverage_radius_rejects_bad_centers(centers, match):
    with pytest.raises(ValueError, match=match):
        coverage_radius(unit_rows(20, 4, 7), centers)


def test_bfloat16_tensors_are_read_as_float32():
    import torch

    x = torch.from_numpy(unit_rows(100, 6, 13)).to(torch.bfloat16)
    expected = kcenter_greedy(x.float().numpy(), 10, device="cpu").tolist()
    assert kcenter_greedy(x, 10, device="cpu").tolist() == expected
    assert coverage_radius(x, expected) == coverage_radius(x.float().numpy(), expected)


def test_accepts_float64_lists_and_tensors():
    import torch

    x = unit_rows(100, 5, 8)
    expected = kcenter_greedy(x, 10).tolist()
    assert kcenter_greedy(x.astype(np.float64).tolist(), 10).tolist() == expected
    assert kcenter_greedy(torch.from_numpy(x), 10).tolist() == expected
