"""N-gram overlap: an index of the n-grams of every benchmark text, built once, and the share of
each text's n-grams that a row contains.

A row's tokens become ids through the benchmarks' `Vocabulary`; a token no benchmark text has gets
id 0, and a window holding a 0 cannot match anything, so it is dropped before any lookup. Each id
maps to a 64-bit value and a window of n values hashes as a polynomial, computed for every
window of a batch of rows at once with numpy (n vector operations, no loop over windows). Matches
are found with one `searchsorted` against the sorted distinct hashes of the index and counted per
(row, text) pair with `np.unique`: no loop over pairs. Two different n-grams share a hash with
probability about 2**-64 per pair, far below anything a share threshold can see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


class Vocabulary:
    """Token -> id (1, 2, ...) over the benchmark texts, and id -> a 64-bit value (splitmix64 of
    the id, so a value never changes as tokens are added)."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self._values = np.zeros(1, dtype=np.uint64)

    def add(self, tokens: Sequence[str]) -> None:
        for token in tokens:
            if token not in self.ids:
                self.ids[token] = len(self.ids) + 1

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of `tokens`, 0 for a token no benchmark text has."""
        get = self.ids.get
        return [get(token, 0) for token in tokens]

    @property
    def values(self) -> np.ndarray:
        """uint64 value of each id; id 0 (unknown, separator) has value 0."""
        if len(self._values) != len(self.ids) + 1:
            self._values = splitmix64(np.arange(len(self.ids) + 1, dtype=np.uint64))
            self._values[0] = 0
        return self._values


def splitmix64(x: np.ndarray) -> np.ndarray:
    """Steele et al.'s 64-bit mixer: distinct inputs give well-spread, distinct outputs."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class PackedTexts:
    """Many token-id sequences in one array, a 0 between two texts, with their window hashes
    cached per n. `owner[i]` is the text position i belongs to (-1 for a separator)."""

    def __init__(self, sequences: Sequence[Sequence[int]], vocabulary: Vocabulary):
        lengths = np.fromiter((len(s) + 1 for s in sequences), dtype=np.int64, count=len(sequences))
        ids = np.zeros(int(lengths.sum()), dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        flat = [token for sequence in sequences for token in (*sequence, 0)]
        if flat:
            ids[:] = flat
        self.count = len(sequences)
        self.ids = ids
        self.values = vocabulary.values[ids]
        self.owner = np.repeat(np.arange(len(sequences), dtype=np.int64), lengths)
        self.owner[starts + lengths - 1] = -1
        self._unknown = np.concatenate([[0], np.cumsum(ids == 0)])
        self._hashes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def windows(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, owners) of every window of n known tokens inside one text."""
        if n not in self._hashes:
            m = len(self.ids) - n + 1
            if m <= 0:
                empty = np.zeros(0, dtype=np.uint64)
                self._hashes[n] = (empty, np.zeros(0, dtype=np.int64))
            else:
                hashes = np.zeros(m, dtype=np.uint64)
                for j in range(n):
                    hashes *= _MULTIPLIER
                    hashes += self.values[j : j + m]
                valid = (self._unknown[n : n + m] - self._unknown[:m]) == 0
                self._hashes[n] = (hashes[valid], self.owner[:m][valid])
        return self._hashes[n]


@dataclass
class Overlap:
    """Pairs (row, text) whose row holds at least the threshold share of the text's n-grams."""

    rows: np.ndarray
    texts: np.ndarray
    shares: np.ndarray


class NgramIndex:
    """The distinct n-grams of each benchmark text (`texts`: token-id sequences, all tokens
    known), and which texts hold each. A text shorter than n has no n-gram and never matches."""

    def __init__(self, texts: Sequence[Sequence[int]], vocabulary: Vocabulary, n: int):
        self.n = n
        hashes, owners = PackedTexts(texts, vocabulary).windows(n)
        pairs = np.unique(np.stack([hashes, owners.astype(np.uint64)], axis=1), axis=0)
        self.sizes = np.bincount(pairs[:, 1].astype(np.int64), minlength=len(texts))
        self.keys, starts = np.unique(pairs[:, 0], return_index=True)
        self.offsets = np.append(starts, len(pairs)).astype(np.int64)
        self.holders = pairs[:, 1].astype(np.int64)

    @property
    def size(self) -> int:
        """Distinct n-grams in the index."""
        return len(self.keys)

    def overlap(self, packed: PackedTexts, threshold: float) -> Overlap:
        """Every (row, text) pair where the row holds >= `threshold` of the text's n-grams."""
        hashes, owners = packed.windows(self.n)
        empty = Overlap(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
        if not len(hashes) or not len(self.keys):
            return empty
        slots = np.searchsorted(self.keys, hashes)
        slots[slots == len(self.keys)] = 0
        hit = self.keys[slots] == hashes
        if not hit.any():
            return empty
        # Each distinct n-gram counts once per row, however often the row repeats it.
        row_slot = np.unique(owners[hit] * len(self.keys) + slots[hit])
        rows, slots = np.divmod(row_slot, len(self.keys))
        counts = self.offsets[slots + 1] - self.offsets[slots]
        first = np.repeat(self.offsets[slots] - np.cumsum(counts) + counts, counts)
        texts = self.holders[first + np.arange(int(counts.sum()))]
        rows = np.repeat(rows, counts)
        pairs, found = np.unique(rows * len(self.sizes) + texts, return_counts=True)
        rows, texts = np.divmod(pairs, len(self.sizes))
        shares = found / self.sizes[texts]
        keep = shares >= threshold
        return Overlap(rows[keep], texts[keep], shares[keep])
