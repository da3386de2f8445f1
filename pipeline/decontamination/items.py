"""The three values decontamination passes around: a benchmark item, a row's text, a flag.

Declared once here; every method (`exact`, `ngram`, `embedding`, `judge`, `nearest_k`) takes
`RowText`s and `BenchmarkItem`s and returns `Flag`s, and the `contaminated` config stores flags
as `Flag.to_dict()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# The methods, in the order the card reports them.
METHODS = ("exact", "ngram", "embedding", "judge", "nearest_k")


@dataclass(frozen=True)
class BenchmarkItem:
    """One benchmark problem. `benchmark`: "humaneval", "mbpp" or "humanevalpack-<language>";
    `item`: the benchmark's task id; `solution`: the canonical solution as a whole function
    (prompt and body joined where the benchmark splits them)."""

    benchmark: str
    item: str
    language: str
    prompt: str
    solution: str


@dataclass(frozen=True)
class RowText:
    """The text of one row to check: `fields` maps a field name ("code" for a corpus row;
    "instruction", "input", "output" for a generated row) to its text."""

    id: str
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Flag:
    """Row `row_id` matched benchmark `item` by `method`. `score`: 1.0 for exact and judge, the
    share of the item's n-grams found for ngram, the cosine for embedding and nearest_k;
    `field`: the row field that matched ("" when the row was compared as a whole)."""

    row_id: str
    benchmark: str
    item: str
    method: str
    score: float
    field: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
