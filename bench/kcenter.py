"""KCenterGreedy: ours vs the straightforward reference, and vs the memory-bandwidth floor.

    python bench/kcenter.py                 # N = stdlib (k 300), 40k and 200k (k 1000)
    python bench/kcenter.py --huge          # also N = 1M, k = 10k (about 10 minutes on 2 cores)

Embeddings are real: all-MiniLM-L6-v2 (384-d) of the standard library's documented functions
after the paper's filters (cached on disk after the first run), tiled with small Gaussian noise
(sigma 0.01 per coordinate) to reach larger N. For each size it prints:

- the reference: per-pick ``sklearn.metrics.pairwise_distances`` + running minimum + argmax, as
  google/active-learning's kcenter_greedy.py does (timed on all picks, or on the first picks and
  extrapolated where marked ``~``);
- ours: `pipeline.selection.kcenter_greedy` with its default (lazy) algorithm, and with the eager
  fused pass (timed on its first 1,000 picks and extrapolated at N >= 500k); whether their indices
  equal the reference's (on the picks the reference made) and each other's (on the picks the eager
  pass made), and the speed-ups;
- the floor of an eager algorithm: every pick reads the whole matrix once, so k x matrix bytes /
  read bandwidth, where the read bandwidth is measured on the same matrix by a parallel sum over
  all cores (best of 10, before and after our runs); each of ours as a percentage of the floor's
  speed (above 100% means faster than any pass that reads the matrix once per pick), the eager
  pass's GB/s, and the share of the N x k row-center distances the lazy algorithm computed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.corpus import CorpusReport, iter_corpus
from pipeline.embeddings import CodeEmbedder
from pipeline.filters import CodeFilter
from pipeline.selection import kcenter_greedy_select


def stdlib_embeddings(model: str, backend: str) -> np.ndarray:
    report = CorpusReport()
    codes = [row["code"] for row in CodeFilter(report)(iter_corpus("stdlib", report))]
    embedder = CodeEmbedder(model, backend=backend, show_progress=True)
    return embedder.embed(codes).astype(np.float32)


def tile(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    reps = -(-n // len(base))
    out = np.empty((reps * len(base), base.shape[1]), dtype=np.float32)
    for r in range(reps):
        block = out[r * len(base) : (r + 1) * len(base)]
        block[:] = base
        if r:
            block += rng.normal(0.0, 0.01, size=base.shape).astype(np.float32)
    return np.ascontiguousarray(out[:n])


def reference_kcenter(x: np.ndarray, k: int, first: int = 0) -> list[int]:
    from sklearn.metrics import pairwise_distances

    min_dist, picks, pick = None, [], first
    for _ in range(k):
        picks.append(pick)
        dist = pairwise_distances(x, x[pick : pick + 1], metric="euclidean").ravel()
        min_dist = dist if min_dist is None else np.minimum(min_dist, dist)
        pick = int(np.argmax(min_dist))
    return picks


_READ = None


def read_bandwidth(x: np.ndarray, repeats: int = 10) -> float:
    """Bytes/s of the fastest full read of ``x`` by a parallel sum over all cores."""
    global _READ
    import numba

    if _READ is None:

        @numba.njit(parallel=True, fastmath=True, nogil=True)
        def parallel_sum(m, bounds, out):
            for b in numba.prange(bounds.shape[0] - 1):
                acc = np.float32(0.0)
                for i in range(bounds[b], bounds[b + 1]):
                    for j in range(m.shape[1]):
                        acc += m[i, j]
                out[b] = acc

        _READ = parallel_sum
    bounds = np.append(np.arange(0, len(x), 512), len(x)).astype(np.int64)
    out = np.empty(len(bounds) - 1, np.float32)
    _READ(x[:1024], bounds[bounds <= 1024], out)  # compile
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        _READ(x, bounds, out)
        best = min(best, time.perf_counter() - t0)
    return x.nbytes / best


def bench(x: np.ndarray, k: int, ref_picks: int | None, eager_picks: int | None) -> dict:
    n = len(x)
    kcenter_greedy_select(x[:2000], 3)  # compile / warm the kernels outside the timing
    kcenter_greedy_select(x[:2000], 3, algorithm="eager")
    before = read_bandwidth(x)
    t0 = time.perf_counter()
    lazy = kcenter_greedy_select(x, k, first=0, progress=n >= 500_000)
    t_lazy = time.perf_counter() - t0
    e_picks = k if eager_picks is None else min(k, eager_picks)
    t0 = time.perf_counter()
    eager = kcenter_greedy_select(x, e_picks, first=0, algorithm="eager", progress=n >= 500_000)
    t_eager = (time.perf_counter() - t0) * (k / e_picks)
    after = read_bandwidth(x)
    bandwidth = max(before, after)  # measured on both sides of our runs; the faster one counts
    picks = k if ref_picks is None else min(k, ref_picks)
    t0 = time.perf_counter()
    ref = reference_kcenter(x, picks)
    t_ref = (time.perf_counter() - t0) * (k / picks)
    floor = k * x.nbytes / bandwidth
    return {
        "n": n,
        "d": x.shape[1],
        "k": k,
        "ref_s": t_ref,
        "ref_extrapolated": picks < k,
        "lazy_s": t_lazy,
        "eager_s": t_eager,
        "eager_extrapolated": e_picks < k,
        "identical": lazy.indices[:picks].tolist() == ref and eager.indices[:picks].tolist() == ref,
        "checked": picks,
        "lazy_eq_eager": lazy.indices[:e_picks].tolist() == eager.indices.tolist()
        and lazy.radii[:e_picks].tobytes() == eager.radii.tobytes(),
        "eager_checked": e_picks,
        "speedup": t_ref / t_lazy,
        "eager_speedup": t_ref / t_eager,
        "read_gbs": bandwidth / 1e9,
        "read_range": (min(before, after) / 1e9, bandwidth / 1e9),
        "eager_gbs": k * x.nbytes / t_eager / 1e9,
        "floor_s": floor,
        "lazy_of_floor": floor / t_lazy,
        "eager_of_floor": floor / t_eager,
        "evaluated": lazy.distance_evaluations / (n * k),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="offline:all-MiniLM-L6-v2")
    parser.add_argument("--backend", default="auto")
    parser.add_argument(
        "--sizes", default="base:300,40000:1000,200000:1000", help="N:k pairs; base = stdlib"
    )
    parser.add_argument("--huge", action="store_true", help="add N = 1M, k = 10k")
    parser.add_argument(
        "--ref-picks", type=int, default=None, help="time the reference on only this many picks"
    )
    parser.add_argument(
        "--eager-picks", type=int, default=None, help="time the eager pass on only this many picks"
    )
    args = parser.parse_args()

    base = stdlib_embeddings(args.model, args.backend)
    print(
        f"\nstdlib embeddings: {base.shape[0]} x {base.shape[1]} ({args.model}); "
        f"{os.cpu_count()} cores; numba threads {os.environ.get('NUMBA_NUM_THREADS', 'default')}"
    )
    sizes = [tuple(s.split(":")) for s in args.sizes.split(",")]
    if args.huge:
        sizes.append(("1000000", "10000"))
    rows = []
    for n_text, k_text in sizes:
        n = len(base) if n_text == "base" else int(n_text)
        k = int(k_text)
        x = base if n_text == "base" else tile(base, n)
        ref_picks = args.ref_picks or (50 if n >= 500_000 else None)
        eager_picks = args.eager_picks or (1000 if n >= 500_000 else None)
        print(f"N={n} k={k}: running ...", flush=True)
        rows.append(bench(x, k, ref_picks, eager_picks))
        del x

    def approx(r: dict, key: str) -> str:
        return ("~" if r[key.replace("_s", "_extrapolated")] else "") + f"{r[key]:.2f}"

    header = (
        f"{'N':>9} {'k':>6} | {'reference s':>11} {'lazy s':>7} {'eager s':>8} "
        f"{'speed-up':>15} {'same idx':>10} | {'read GB/s':>15} {'floor s':>7} "
        f"{'lazy/eager of floor':>19} {'eager GB/s':>10} {'computed':>8}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        same = "yes" if r["identical"] and r["lazy_eq_eager"] else "NO"
        if r["ref_extrapolated"] or r["eager_extrapolated"]:
            same += f"@{r['checked']}/{r['eager_checked']}"
        speedups = f"{r['speedup']:.1f}x / {r['eager_speedup']:.1f}x"
        read = f"{r['read_gbs']:.1f} ({r['read_range'][0]:.0f}-{r['read_range'][1]:.0f})"
        of_floor = f"{r['lazy_of_floor']:.0%} / {r['eager_of_floor']:.0%}"
        print(
            f"{r['n']:>9} {r['k']:>6} | {approx(r, 'ref_s'):>11} {r['lazy_s']:>7.2f} "
            f"{approx(r, 'eager_s'):>8} {speedups:>15} {same:>10} | {read:>15} "
            f"{r['floor_s']:>7.2f} {of_floor:>19} {r['eager_gbs']:>10.1f} {r['evaluated']:>8.1%}"
        )
    print(
        "\nspeed-up: reference time / ours, lazy (the default) / eager. same idx: lazy, eager and"
        " the reference\npick the same rows (@n/m: compared on the reference's first n picks and"
        " the eager pass's first m).\n~: extrapolated from the first picks. read GB/s: the faster"
        " of two full-read measurements (range).\nfloor: k x matrix bytes / read bandwidth, the"
        " least time of any pass that reads the matrix once\nper pick. computed: share of the N x k"
        " row-center distances the lazy algorithm computed."
    )


if __name__ == "__main__":
    main()
