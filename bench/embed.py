"""Embedding throughput and quality: our `CodeEmbedder` against plain `SentenceTransformer.encode`.

Corpus: documented functions of the running interpreter's standard library (`pipeline.corpus`),
50 to 800 characters, exact duplicates dropped (about 5k on CPython 3.11; ``--blacklist`` also
applies the paper's word blacklist). Both sides embed the same texts with the same model and the
same thread count, interleaved in rounds (each round a stride slice of the corpus, the order of
the two sides alternating) so that load from other processes hits both alike. Ours runs cold: a
fresh cache folder, so every text is computed (the one-off ONNX export is timed apart).

Quality: cosine similarity of ours to plain, and the KCenterGreedy coverage radius (max over rows
of the distance to the nearest center, measured in the plain embedding space) of the k centers
selected from ours vs from plain (`pipeline.selection`, first center row 0).

    python bench/embed.py                        # all functions, backend auto (onnx fp32 on CPU)
    python bench/embed.py --limit 600 --rounds 2 # quick
    python bench/embed.py --backend onnx-int8 --backend onnx --cache-rows 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pipeline.corpus import CorpusReport, iter_corpus
from pipeline.embeddings import CodeEmbedder, resolve_model
from pipeline.embeddings.cache import EmbeddingCache
from pipeline.embeddings.model_spec import embedding_dimension
from pipeline.embeddings.onnx_backend import cpu_threads
from pipeline.filters import CodeFilter
from pipeline.selection import coverage_radius, kcenter_greedy


def stdlib_functions(limit: int | None, blacklist: bool) -> list[str]:
    """Code of the filtered stdlib functions; ``limit`` keeps an evenly spaced subset."""
    report = CorpusReport()
    rows = CodeFilter(report, blacklist=None if blacklist else [])(iter_corpus("stdlib", report))
    texts = [row["code"] for row in rows]
    if limit is not None and limit < len(texts):
        texts = [texts[int(i)] for i in np.linspace(0, len(texts) - 1, limit)]
    return texts


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def radius_row(plain: np.ndarray, ours: np.ndarray, k: int) -> tuple[float, float, float, float]:
    """(radius from plain, radius from ours, relative difference %, shared centers %)."""
    from_plain = kcenter_greedy(plain, k, first=0, device="cpu")
    from_ours = kcenter_greedy(ours, k, first=0, device="cpu")
    r_plain = coverage_radius(plain, from_plain)
    r_ours = coverage_radius(plain, from_ours)
    shared = len(set(from_plain.tolist()) & set(from_ours.tolist())) / len(from_plain)
    return r_plain, r_ours, 100 * (r_ours / r_plain - 1), 100 * shared


def cache_scale(rows: int, dim: int, folder: Path) -> dict[str, float]:
    """Write ``rows`` random vectors in 4096-row shards, then time a fresh open + full lookup."""
    rng = np.random.default_rng(0)
    keys = [rng.bytes(16) for _ in range(rows)]
    cache = EmbeddingCache(folder)
    start = time.perf_counter()
    for i in range(0, rows, 4096):
        cache.put(
            keys[i : i + 4096], rng.standard_normal((len(keys[i : i + 4096]), dim), np.float32)
        )
    write = time.perf_counter() - start
    start = time.perf_counter()
    fresh = EmbeddingCache(folder)
    n = len(fresh)
    opened = time.perf_counter() - start
    start = time.perf_counter()
    hit, vectors = fresh.get(keys)
    looked = time.perf_counter() - start
    assert n == rows and hit.all() and vectors.shape == (rows, dim)
    return {"write": write, "open": opened, "lookup": looked}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="offline:all-MiniLM-L6-v2")
    parser.add_argument("--backend", action="append", help="ours (repeatable); default auto")
    parser.add_argument("--limit", type=int, help="embed only this many functions")
    parser.add_argument("--blacklist", action="store_true", help="also apply the word blacklist")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved timing rounds")
    parser.add_argument(
        "--k", type=int, action="append", help="KCenterGreedy k (default 200, 1000)"
    )
    parser.add_argument("--cache-rows", type=int, default=0, help="also time a cache of N rows")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    backends = args.backend or ["auto"]
    threads = cpu_threads()
    torch.set_num_threads(threads)  # ONNX Runtime gets the same count (CodeEmbedder's default)
    texts = stdlib_functions(args.limit, args.blacklist)
    print(f"corpus: {len(texts)} stdlib functions, model {args.model}, {threads} threads")

    plain_model = SentenceTransformer(resolve_model(args.model), device="cpu")
    tmp = tempfile.TemporaryDirectory(prefix="wavecoder-bench-embed-")
    ours, exports = {}, {}
    for backend in backends:
        embedder = CodeEmbedder(
            args.model, backend=backend, batch_size=args.batch_size,
            cache_dir=str(Path(tmp.name) / backend), show_progress=False,
        )  # fmt: skip
        start = time.perf_counter()
        embedder.model_id  # noqa: B018  (the one-off export)
        exports[backend] = time.perf_counter() - start
        ours[backend] = embedder
    warmup = [f"def f{i}(x):\n    '''Add {i}.'''\n    return x + {i}" for i in range(64)]
    plain_model.encode(warmup, batch_size=args.batch_size)
    for embedder in ours.values():
        embedder.embed(warmup)

    plain = np.empty((len(texts), embedding_dimension(plain_model)), np.float32)
    vectors = {b: np.empty_like(plain) for b in backends}
    seconds = {name: [] for name in ["plain", *backends]}
    for r in range(args.rounds):
        rows = np.arange(r, len(texts), args.rounds)
        chunk = [texts[i] for i in rows]
        sides = ["plain", *backends]
        for side in sides if r % 2 == 0 else sides[::-1]:
            start = time.perf_counter()
            if side == "plain":
                plain[rows] = plain_model.encode(chunk, batch_size=args.batch_size)
            else:
                vectors[side][rows] = ours[side].embed(chunk)
                assert ours[side].cache_hits == 0
            seconds[side].append(time.perf_counter() - start)
        print(
            f"round {r + 1}/{args.rounds}: "
            + ", ".join(f"{s} {seconds[s][-1]:.1f} s" for s in sides)
        )

    ks = [k for k in args.k or [200, 1000] if k < len(texts)]
    plain_rate = len(texts) / sum(seconds["plain"])
    lines = [
        ("plain SentenceTransformer.encode", f"{plain_rate:.1f} functions/s"),
    ]
    for backend, embedder in ours.items():
        rate = len(texts) / sum(seconds[backend])
        per_round = np.array(seconds["plain"]) / np.array(seconds[backend])
        cos = cosine(vectors[backend], plain)
        start = time.perf_counter()
        again = CodeEmbedder(
            args.model, backend=backend, cache_dir=embedder.cache_dir, show_progress=False
        )
        cached = again.embed(texts)
        cached_s = time.perf_counter() - start
        assert again.embedded == 0 and np.array_equal(cached, vectors[backend])
        name = f"ours {embedder.resolved_backend} ({embedder.model_id.split('|')[1]})"
        lines += [
            (f"{name}: one-off export", f"{exports[backend]:.1f} s"),
            (f"{name}: cold", f"{rate:.1f} functions/s"),
            ("  speed-up vs plain (total time)", f"{rate / plain_rate:.2f}x"),
            ("  speed-up per round (min..max)", f"{per_round.min():.2f}x..{per_round.max():.2f}x"),
            (
                "  cached re-run (new instance, incl. open)",
                f"{len(texts) / cached_s:.0f} functions/s",
            ),
            ("  cosine to plain: mean / min", f"{cos.mean():.5f} / {cos.min():.5f}"),
        ]
        for k in ks:
            r_plain, r_ours, diff, shared = radius_row(plain, vectors[backend], k)
            lines.append(
                (f"  KCenterGreedy k={k} radius plain / ours", f"{r_plain:.4f} / {r_ours:.4f} "
                 f"({diff:+.2f}%, {shared:.0f}% same centers)")
            )  # fmt: skip
    if args.cache_rows:
        dim = plain.shape[1]
        t = cache_scale(args.cache_rows, dim, Path(tmp.name) / "scale")
        n = args.cache_rows
        lines += [
            (
                f"cache, {n} rows x {dim}-d: write",
                f"{t['write']:.1f} s ({n / t['write']:.0f} rows/s)",
            ),
            ("  open (read keys, build index)", f"{t['open']:.2f} s"),
            (
                "  look up every row, read vectors",
                f"{t['lookup']:.2f} s ({n / t['lookup']:.0f} rows/s)",
            ),
        ]
    width = max(len(a) for a, _ in lines)
    print()
    for a, b in lines:
        print(f"{a:<{width}}  {b}")


if __name__ == "__main__":
    main()
