"""KCenterGreedy: exactness against a naive textbook reference, edge cases, both backends."""

from __future__ import annotations

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


@pytest.mark.parametrize("backend", ["numba", "torch"])
@pytest.mark.parametrize("seed,n,d,k", [(0, 2000, 384, 150), (1, 777, 33, 200), (2, 3000, 8, 300)])
def test_matches_textbook_and_sklearn_on_random_data(backend, seed, n, d, k):
    x = unit_rows(n, d, seed) * np.float32(3.0)
    ours = kcenter_greedy(x, k, first=5, device="cpu", backend=backend)
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


def test_k_at_least_rows_returns_every_row_once():
    x = unit_rows(50, 8, 4)
    for k in (50, 51, 1000):
        sel = kcenter_greedy_select(x, k, first=3)
        assert sorted(sel.indices.tolist()) == list(range(50))
        assert sel.indices[0] == 3
        assert sel.final_radius == 0.0


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_duplicate_and_zero_rows(backend):
    base = unit_rows(10, 12, 5)
    x = np.concatenate([base, base[:4], np.zeros((3, 12), np.float32)])
    picks = kcenter_greedy(x, len(x), first=0, device="cpu", backend=backend).tolist()
    # Distinct rows (10 unit rows and the zero vector) first, then the duplicates, each at
    # distance exactly 0, in index order.
    assert sorted(picks[:11]) == [*range(10), 14]
    assert picks[11:] == [10, 11, 12, 13, 15, 16]
    assert picks[:11] == textbook_kcenter(x, 11)


def test_all_identical_rows():
    x = np.ones((6, 4), np.float32)
    sel = kcenter_greedy_select(x, 4, first=2)
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


def test_accepts_float64_lists_and_tensors():
    import torch

    x = unit_rows(100, 5, 8)
    expected = kcenter_greedy(x, 10).tolist()
    assert kcenter_greedy(x.astype(np.float64).tolist(), 10).tolist() == expected
    assert kcenter_greedy(torch.from_numpy(x), 10).tolist() == expected
