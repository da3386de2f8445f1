"""The Space's data access (`space.data.CodeOceanView`) on a 100K-row CodeOcean folder.

The folder is synthetic, written in a temporary directory with the writer's schema
(`pipeline.generation.writer.features`) and the writer's parquet layout (`datasets`' `to_parquet`:
row groups of at most 100 MB, one shard per config): `default` with ``--rows`` accepted rows, one
config per task, `rejected` (a quarter as many, one to three failed rules each) and `failed`.
Lengths follow the paper's data (characters, lognormal): instruction ~160, input ~600 (empty for
most generation rows), output ~250 (summaries) to ~700 (code), source code ~650, five judge rules
with ~120-character reasons.

Each figure is the median of ``--runs`` runs, each on a freshly opened view, so "cold" figures
include reading what they need from the shards. The search text is built once per folder and kept
in the search-text cache (`space.shards`, here a temporary `$WAVECODER_CACHE`): "cold" searches
map it from there, as every view opened after the Space's start-up does; the figures marked
"once" build it (the cache emptied before each run), as the Space's start-up thread does once. The baseline, measured in the same run, is the
straightforward Space: `pandas.read_parquet` of the whole config, then pandas filters
(`str.contains(case=False)` over the four text columns for search).

    python bench/space.py                  # 100K rows, 5 runs
    python bench/space.py --rows 20000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.generation.writer import features
from pipeline.layout import SHARD, config_folder
from space.data import CodeOceanView

TARGET_S = 1.0  # each figure a visitor waits for, on the 2-core development machine
ONCE = "(once per folder)"  # figures of the start-up build: no visitor waits for them
TASKS = {"generation": 0.571, "summarization": 0.158, "repair": 0.158, "translation": 0.113}
LANGUAGES = {"python": 0.4, "java": 0.2, "javascript": 0.15, "go": 0.1, "php": 0.1, "ruby": 0.05}
RULES = ["names_language", "solution_is_code", "instruction_is_clear", "one_or_two_sentences",
         "input_matches_task", "output_is_correct"]  # fmt: skip
SOURCE_FIELDS = ["dataset", "repo", "path", "url", "func_name", "license"]
NEEDLE = "fibonacci"  # a rare word of the vocabulary: the full-text search
WORDS = (
    "def return self if else for in while import from class lambda yield None True False value "
    "index result items data node list dict key count total buffer path file name parse read "
    "write open close append extend sort filter map reduce cache token the a of to and is that "
    "this function returns given input string number array"
)


class TextSource:
    """Code-like text: slices of one long random stream of `WORDS` (NEEDLE once in ~20k words)."""

    def __init__(self, rng: np.random.Generator, chars: int = 8_000_000):
        words = WORDS.split()
        vocab = [*words, *(f"{w}_{i}" for i, w in enumerate(words * 20)), NEEDLE]
        weights = np.ones(len(vocab))
        weights[-1] = len(vocab) / 20_000
        picks = rng.choice(len(vocab), size=chars // 6, p=weights / weights.sum())
        seps = rng.choice([" ", " ", " ", "\n    ", "(", ")", ", "], size=len(picks))
        self.stream = "".join(vocab[p] + s for p, s in zip(picks, seps, strict=True))
        self.rng = rng

    def take(self, mean: float, low: int = 20, high: int = 6000) -> str:
        n = int(np.clip(self.rng.lognormal(np.log(mean), 0.6), low, high))
        start = int(self.rng.integers(0, len(self.stream) - n))
        return self.stream[start : start + n]


def synthetic_rows(n: int, status: str, rng: np.random.Generator, text: TextSource) -> list[dict]:
    """`n` rows with the writer's columns (accepted, or with the outcome columns)."""
    tasks = rng.choice(list(TASKS), size=n, p=list(TASKS.values()))
    languages = rng.choice(list(LANGUAGES), size=n, p=list(LANGUAGES.values()))
    rows = []
    for i in range(n):
        task, language = str(tasks[i]), str(languages[i])
        instruction = text.take(160, 40, 600)
        input_ = "" if task == "generation" and rng.random() < 0.8 else text.take(600)
        output = text.take(250 if task == "summarization" else 700)
        user = f"{instruction}\n\n{input_}" if input_ else instruction
        prompt = [{"role": "user", "content": user}]
        completion = [{"role": "assistant", "content": output}]
        failed = set(rng.choice(RULES, size=int(rng.integers(1, 4)), replace=False))
        rules = [
            {"rule": r, "passed": r not in failed or status == "accepted", "reason": text.take(120)}
            for r in RULES[:5]
        ]
        row = {
            "id": f"{status}-{i:06d}",
            "task": task,
            "language": language,
            "target_language": "python" if task == "translation" else None,
            "instruction": instruction,
            "input": input_,
            "output": output,
            "messages": prompt + completion,
            "prompt": prompt,
            "completion": completion,
            "source_code": text.take(650, 80, 4000),
            "source": {f: f"{f}-{i}" for f in SOURCE_FIELDS},
            "generator_model": "gpt-4o-mini",
            "discriminator_model": "gpt-4o",
            "judgement": {"rules": rules, "overall": status == "accepted"},
            "usage": {"generator": {"prompt_tokens": 900, "completion_tokens": 300},
                      "discriminator": {"prompt_tokens": 700, "completion_tokens": 250}},
        }  # fmt: skip
        if status != "accepted":
            del row["prompt"], row["completion"]
            row.update(
                status=status,
                stage="judgement",
                reasons=[{"check": r, "message": text.take(120)} for r in sorted(failed)],
                selection_rank=i,
                raw_generation=text.take(1500),
                raw_judgement=text.take(1000),
            )
        rows.append(row)
    return rows


def write_config(folder: Path, name: str, rows: list[dict], with_outcome: bool) -> None:
    """One config's shard, as the writer writes it (`Dataset.to_parquet`)."""
    import pyarrow as pa
    from datasets import Dataset, DatasetInfo
    from datasets.table import InMemoryTable

    feats = features(SOURCE_FIELDS, with_outcome)
    table = pa.Table.from_pylist(rows, schema=feats.arrow_schema)
    path = folder / config_folder(name) / SHARD
    path.parent.mkdir(parents=True)
    Dataset(InMemoryTable(table), info=DatasetInfo(features=feats)).to_parquet(str(path))


def build_folder(folder: Path, rows: int) -> dict[str, int]:
    import datasets

    datasets.disable_progress_bars()
    rng = np.random.default_rng(0)
    text = TextSource(rng)
    accepted = synthetic_rows(rows, "accepted", rng, text)
    configs = {
        "default": (accepted, False),
        **{t: ([r for r in accepted if r["task"] == t], False) for t in TASKS},
        "rejected": (synthetic_rows(rows // 4, "rejected", rng, text), True),
        "failed": (synthetic_rows(rows // 50, "failed", rng, text), True),
    }
    for name, (config_rows, with_outcome) in configs.items():
        write_config(folder, name, config_rows, with_outcome)
    (folder / "README.md").write_text("# synthetic CodeOcean\n")
    return {name: len(config_rows) for name, (config_rows, _) in configs.items()}


def median_s(runs: int, setup: Callable[[], object] | None, measure: Callable[[object], object]):
    """Median seconds of `measure(setup())` over `runs` (setup untimed), and its last result."""
    times, result = [], None
    for _ in range(runs):
        state = setup() if setup else None
        start = time.perf_counter()
        result = measure(state)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pandas_baseline(folder: Path, runs: int, open_runs: int, deep: str) -> dict[str, tuple]:
    """The straightforward Space: the whole `default` config in pandas, filtered there."""
    import pandas as pd

    def pandas_open():
        return pd.read_parquet(folder / config_folder("default"))

    def search(df, needle):
        hit = np.zeros(len(df), dtype=bool)
        for column in ("instruction", "input", "output", "source_code"):
            hit |= df[column].str.contains(needle, case=False, regex=False).to_numpy()
        return int(hit.sum())

    df = pandas_open()
    opened = median_s(open_runs, None, lambda _: len(pandas_open()))
    return {
        "first page (cold)": opened,
        f"warm-up of default, first ever {ONCE}": opened,
        "task + language filter": median_s(
            runs, lambda: df, lambda d: int(((d.task == "repair") & (d.language == "python")).sum())
        ),
        "full-text search": median_s(runs, lambda: df, lambda d: search(d, NEEDLE.upper())),
        "search + task + language": median_s(
            runs,
            lambda: df,
            lambda d: search(d[(d.task == "repair") & (d.language == "python")], NEEDLE),
        ),
        "row lookup, last row group (cold)": median_s(
            runs, lambda: df, lambda d: d[d.id == deep].iloc[0].to_dict()["id"]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="accepted rows (default)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the median counts")
    parser.add_argument(
        "--folder", type=Path, help="write the folder here, or reuse it (default: a temporary one)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache:
        os.environ["WAVECODER_CACHE"] = cache  # the search-text cache of this run only
        folder = args.folder or Path(tmp)
        start = time.perf_counter()
        if not (folder / config_folder("default") / SHARD).exists():
            folder.mkdir(parents=True, exist_ok=True)
            counts = build_folder(folder, args.rows)
            print(f"wrote {counts} rows per config in {time.perf_counter() - start:.0f} s")
        size = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 2**20
        print(f"folder: {folder}, {size:.0f} MiB of parquet")
        source = str(folder)
        deep = f"accepted-{args.rows - 7:06d}"  # in the last row group
        rejected_id = f"rejected-{args.rows // 4 - 3:06d}"  # looked up in default first

        def cold() -> CodeOceanView:  # nothing read yet but the footers
            return CodeOceanView.open(source, warm=False)

        def first_ever() -> CodeOceanView:  # cold, and the search-text cache empty
            shutil.rmtree(Path(cache) / "space-search", ignore_errors=True)
            return cold()

        view = CodeOceanView.open(source, warm=False)
        view.warm()  # default's columns and search text built, as the Space's are after start-up

        def ready() -> CodeOceanView:
            return view

        n = args.runs
        ours = {
            "open (shard footers, no warm-up)": median_s(n, None, lambda _: len(cold().configs)),
            "first page (cold)": median_s(n, cold, lambda v: v.query().total),
            "task + language filter": median_s(
                n, ready, lambda v: v.query(task="repair", language="python").total
            ),
            "rejected: failed-rule filter (cold)": median_s(
                n, cold, lambda v: v.query(config="rejected", failed_rule=RULES[0]).total
            ),
            f"full-text search, first ever: builds the text {ONCE}": median_s(
                n, first_ever, lambda v: v.query(search=NEEDLE).total
            ),
            "full-text search (cold: text mapped from the cache)": median_s(
                n, cold, lambda v: v.query(search=NEEDLE).total
            ),
            "full-text search": median_s(n, ready, lambda v: v.query(search=NEEDLE.upper()).total),
            "search + task + language (cold)": median_s(
                n, cold, lambda v: v.query(search=NEEDLE, task="repair", language="python").total
            ),
            "search + task + language": median_s(
                n, ready, lambda v: v.query(search=NEEDLE, task="repair", language="python").total
            ),
            "row lookup, last row group (cold)": median_s(n, cold, lambda v: v.row(deep)["id"]),
            "row lookup in rejected (cold)": median_s(n, cold, lambda v: v.row(rejected_id)["id"]),
            "facets of default (cold)": median_s(n, cold, lambda v: len(v.facets()["language"])),
            f"warm-up of default, first ever {ONCE}": median_s(
                n, first_ever, lambda v: (v.warm(), v.num_rows())[1]
            ),
            "warm-up of default (open's thread; text cached)": median_s(
                n, cold, lambda v: (v.warm(), v.num_rows())[1]
            ),
        }

        runs = max(1, min(args.runs, 3))
        baseline = pandas_baseline(folder, args.runs, runs, deep)

    print(
        f"\nmedian of {args.runs} runs; target < {TARGET_S} s. pandas: read_parquet of the whole "
        f"default config (its first page and warm-up; median of {runs}), then in-memory filters; "
        f"ratio = pandas / ours; {ONCE}: the start-up thread's build, cached for every later view"
    )
    width = max(map(len, ours))
    header = (
        f"{'figure':<{width}}  {'ours':>9}  {'result':>15}  {'target':>6}  {'pandas':>9}  ratio"
    )
    print(header + "\n" + "-" * len(header))
    for name, (seconds, result) in ours.items():
        verdict = "once" if ONCE in name else "PASS" if seconds < TARGET_S else "FAIL"
        line = f"{name:<{width}}  {seconds:>7.3f} s  {result!s:>15}  {verdict:>6}"
        if name in baseline:
            base, base_result = baseline[name]
            same = "" if str(base_result) == str(result) else " (differs!)"
            line += f"  {base:>7.3f} s  {base / seconds:.2g}x{same}"
        print(line)


if __name__ == "__main__":
    main()
