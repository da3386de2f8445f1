"""Near-dedup (`pipeline.dedup.find_near_duplicates`): what it separates, and how fast.

    python bench/dedup.py                  # stdlib rows, then 100,000 synthetic rows
    python bench/dedup.py --rows 20000     # a smaller speed run

Rows are stdlib-shaped generated rows: the instruction "Write a Python function `f(args)`. <its
docstring>", the output its source (documented functions of 40 stdlib modules, 150-1,500
characters). It prints:

- separation: for word and char shingles of several sizes and thresholds, the share of rows with
  a *distinct* row at or above the threshold (an upper bound of wrong drops: the stdlib has true
  copies, e.g. posixpath/ntpath) and the recall of three planted edits: the first sentence
  reworded, the docstring's sentences reordered, the first argument renamed with whitespace
  changes;
- speed: rows/s of the default config on N synthetic rows (each stdlib row with its identifiers
  renamed at random, plus 10% planted rewordings of earlier rows), with the drops and the
  planted recall.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.dedup import NearDedupConfig, find_near_duplicates, normalise
from pipeline.dedup.minhash import _jaccard, _shingle_sets

MODULES = [
    "textwrap",
    "shlex",
    "json.decoder",
    "calendar",
    "fractions",
    "statistics",
    "difflib",
    "string",
    "heapq",
    "bisect",
    "glob",
    "fnmatch",
    "posixpath",
    "ntpath",
    "base64",
    "colorsys",
    "html",
    "urllib.parse",
    "email.utils",
    "csv",
    "tokenize",
    "random",
    "shutil",
    "tarfile",
    "zipfile",
    "gettext",
    "locale",
    "argparse",
    "configparser",
    "logging",
    "pathlib",
    "inspect",
    "ast",
    "functools",
    "copy",
    "pprint",
    "datetime",
    "ipaddress",
    "uuid",
]


def stdlib_rows() -> list[dict]:
    rows = []
    for name in MODULES:
        source = inspect.getsource(importlib.import_module(name))
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef) or not ast.get_docstring(node):
                continue
            code = ast.get_source_segment(source, node) or ""
            if not 150 <= len(code) <= 1500:
                continue
            args = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
            doc = " ".join(ast.get_docstring(node).split())
            instruction = f"Write a Python function `{node.name}({', '.join(args)})`. {doc}"
            rows.append(
                {"id": f"{name}.{node.name}.{len(rows)}", "instruction": instruction,
                 "output": code, "args": args}
            )  # fmt: skip
    return rows


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", text)


def reworded(row: dict) -> str:
    first, *rest = _sentences(row["instruction"])
    first = first.replace("Write a Python function", "Implement the function") + " in Python"
    return " ".join([first, *rest]) + "\n" + row["output"]


def reordered(row: dict) -> str | None:
    first, *rest = _sentences(row["instruction"])
    return " ".join([first, *rest[::-1]]) + "\n" + row["output"] if len(rest) > 1 else None


def renamed(row: dict) -> str | None:
    if not row["args"]:
        return None
    arg = row["args"][0]
    output = re.sub(rf"\b{re.escape(arg)}\b", "renamed_" + arg[:3], row["output"])
    return row["instruction"] + "\n" + output.replace("    ", "  ").replace("\n", "\n\n")


def separation(rows: list[dict]) -> None:
    texts = [normalise(r["instruction"] + "\n" + r["output"]) for r in rows]
    edits = {"reworded": reworded, "reordered": reordered, "renamed+ws": renamed}
    planted = {k: [(i, v) for i, r in enumerate(rows) if (v := f(r))] for k, f in edits.items()}
    print(f"separation on {len(rows)} stdlib rows (exact Jaccard of shingle sets)")
    print("shingles   t     distinct>=t  " + "  ".join(f"{k:>10}" for k in edits))
    for unit, n in (("word", 2), ("word", 3), ("word", 4), ("char", 5), ("char", 7)):
        shingles, counts = _shingle_sets(texts, unit, n)
        sets = np.split(shingles, np.cumsum(counts)[:-1])
        nearest = np.zeros(len(sets))
        for i in range(len(sets)):
            for j in range(i + 1, len(sets)):
                s = _jaccard(sets[i], sets[j])
                nearest[i], nearest[j] = max(nearest[i], s), max(nearest[j], s)
        scores = {}
        for k, pairs in planted.items():
            vs, vc = _shingle_sets([normalise(v) for _, v in pairs], unit, n)
            vsets = np.split(vs, np.cumsum(vc)[:-1])
            scores[k] = np.array([_jaccard(sets[i], vsets[q]) for q, (i, _) in enumerate(pairs)])
        for t in (0.6, 0.7, 0.8, 0.85):
            recall = "  ".join(f"{np.mean(v >= t):>10.1%}" for v in scores.values())
            print(f"{unit} {n}     {t:<5} {np.mean(nearest >= t):>10.1%}   {recall}")


def synthetic(rows: list[dict], count: int, seed: int = 0) -> tuple[list, dict[str, str]]:
    """`count` (id, text) rows: the instruction of one stdlib row and the output of another,
    every word of 4+ letters mapped to a random vocabulary word (one mapping per row), and 10%
    planted rewordings of an earlier row; returns the rows and planted id -> original id."""
    rng = random.Random(seed)
    vocabulary = sorted({w for r in rows for w in re.findall(r"[a-z]{4,}", r["output"])})
    out, planted = [], {}
    for i in range(count):
        if i > 10 and rng.random() < 0.1:
            j = rng.randrange(len(out))
            instruction, _, output = out[j][1].partition("\n")
            first, *rest = _sentences(instruction)
            text = " ".join(["Implement: " + first.lower(), *rest]) + "\n" + output
            planted[f"r{i}"] = out[j][0]
        else:
            a, b = rng.choice(rows), rng.choice(rows)
            mapping: dict[str, str] = {}

            def rename(m: re.Match, mapping: dict[str, str] = mapping) -> str:
                return mapping.setdefault(m.group(0), rng.choice(vocabulary))

            text = re.sub(r"[a-z]{4,}", rename, a["instruction"] + "\n" + b["output"])
        out.append((f"r{i}", text))
    return out, planted


def speed(rows: list[dict], count: int) -> None:
    data, planted = synthetic(rows, count)
    config = NearDedupConfig()
    chars = sum(len(t) for _, t in data)
    start, cpu = time.perf_counter(), time.process_time()
    dropped = find_near_duplicates(data, config)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    found = sum(1 for p in planted if p in dropped)
    print(
        f"\nspeed: {count:,} rows ({chars / count:.0f} characters each), default config "
        f"(word 3-grams, {config.num_perm} permutations, threshold {config.threshold}): "
        f"{elapsed:.1f} s wall, {count / elapsed:,.0f} rows/s ({cpu:.1f} s CPU, "
        f"{count / cpu:,.0f} rows per CPU-second); dropped {len(dropped):,} "
        f"({len(dropped) / count:.1%}), planted rewordings found {found:,}/{len(planted):,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=int, default=100_000, help="synthetic rows for the speed run"
    )
    parser.add_argument("--skip-separation", action="store_true")
    args = parser.parse_args()
    rows = stdlib_rows()
    if not args.skip_separation:
        separation(rows)
    speed(rows, args.rows)


if __name__ == "__main__":
    main()
