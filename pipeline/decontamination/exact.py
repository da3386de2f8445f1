"""Exact substring of normalised text, after bigcode's decontamination of The Stack
(bigcode-dataset `decontamination/find_substrings.py`): a row is contaminated when it contains a
benchmark's solution or its prompt's prose, here compared after normalisation (`normalize`), so
layout, comments and docstrings do not hide a copy.

Each item gives up to two needles: its solution body (`solution_body`: the code after the prompt
where the benchmark splits them, the whole solution otherwise) as code tokens, and its prompt's
prose (docstring or text, examples cut) as words. A needle is skipped when it is in the allow-list
of trivial solutions (bigcode's four, ``return x + y`` and the like) or shorter than `min_chars`
normalised characters: such strings occur in clean code by chance.

Scaling: one anchor n-gram per needle (the needle's window of `anchor_size` tokens that the
fewest other needles share; the whole needle when shorter) goes into an `NgramIndex`; only rows
holding an anchor are verified with a substring test on the joined tokens, so the cost is one hash
pass over the rows per anchor length, not a search of every needle in every row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.decontamination.items import BenchmarkItem
from pipeline.decontamination.ngrams import NgramIndex, PackedTexts, Vocabulary
from pipeline.decontamination.normalize import (
    code_tokens,
    is_c_like,
    joined,
    prompt_prose,
    prose_words,
)

# bigcode's HUMAN_EVAL_STRINGS_OK: HumanEval solutions generic enough to stay in training data.
ALLOWED_SOLUTIONS = (
    "return x + y",
    "return len(string)",
    "return n**2",
    "return ''.join(strings)",
    "return ' '.join(strings)",
)
ALLOWED = frozenset(joined(code_tokens(text)) for text in ALLOWED_SOLUTIONS)


def solution_body(item: BenchmarkItem) -> str:
    """The code the benchmark asks for: the solution after the prompt when it starts with it
    (HumanEval, HumanEvalPack), the whole solution otherwise (MBPP)."""
    if item.prompt and item.solution.startswith(item.prompt):
        return item.solution[len(item.prompt) :]
    return item.solution


@dataclass(frozen=True)
class Needle:
    """One string to find: `kind` "solution" (code tokens) or "prompt" (prose words)."""

    item: int
    kind: str
    tokens: tuple[str, ...]

    @property
    def text(self) -> str:
        return joined(list(self.tokens))


def make_needles(items: Sequence[BenchmarkItem], min_chars: int) -> tuple[list[Needle], int]:
    """The needles of `items`, and how many were skipped (allow-listed or too short)."""
    needles, skipped = [], 0
    for index, item in enumerate(items):
        body = solution_body(item)
        candidates = (
            Needle(index, "solution", tuple(code_tokens(body, is_c_like(item.solution)))),
            Needle(index, "prompt", tuple(prose_words(prompt_prose(item.prompt)))),
        )
        for needle in candidates:
            if not needle.tokens:
                continue
            if needle.text in ALLOWED or len(needle.text) < min_chars:
                skipped += 1
            else:
                needles.append(needle)
    return needles, skipped


class ExactIndex:
    """Anchors of every needle, grouped by length; `find` returns the verified matches."""

    def __init__(self, needles: Sequence[Needle], vocabulary: Vocabulary, anchor_size: int):
        self.needles = list(needles)
        self.texts = [f" {needle.text} " for needle in self.needles]
        frequency: Counter = Counter()
        for needle in self.needles:
            frequency.update(set(_windows(needle.tokens, anchor_size)))
        by_length: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        for number, needle in enumerate(self.needles):
            anchor = min(_windows(needle.tokens, anchor_size), key=frequency.__getitem__)
            by_length.setdefault(len(anchor), []).append((number, anchor))
        self.indexes = []
        for length, anchors in sorted(by_length.items()):
            texts = [vocabulary.encode(anchor) for _, anchor in anchors]
            numbers = np.array([number for number, _ in anchors], dtype=np.int64)
            self.indexes.append((NgramIndex(texts, vocabulary, length), numbers))

    @property
    def size(self) -> int:
        """Distinct anchors in the index."""
        return sum(index.size for index, _ in self.indexes)

    def find(
        self, kind: str, packed: PackedTexts, texts: Sequence[Sequence[str]]
    ) -> list[tuple[int, int]]:
        """(text position, needle number) for each needle of `kind` found in a packed text;
        `texts[i]` are the tokens of packed text i (joined only where an anchor hit)."""
        found = []
        joined_cache: dict[int, str] = {}
        for index, numbers in self.indexes:
            overlap = index.overlap(packed, 1.0)
            for position, anchor in zip(overlap.rows.tolist(), overlap.texts.tolist(), strict=True):
                number = int(numbers[anchor])
                if self.needles[number].kind != kind:
                    continue
                if position not in joined_cache:
                    joined_cache[position] = f" {joined(list(texts[position]))} "
                if self.texts[number] in joined_cache[position]:
                    found.append((position, number))
        return found


def _windows(tokens: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    size = min(size, len(tokens))
    return [tokens[i : i + size] for i in range(len(tokens) - size + 1)]
