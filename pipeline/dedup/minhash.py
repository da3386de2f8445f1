"""Near-duplicate rows by MinHash LSH, in numpy (no datasketch, no NLTK).

1. Normalise: lower-case, whitespace collapsed to single spaces.
2. Shingle: `word` units are identifiers/numbers (runs of ``[a-z0-9_]`` and non-ASCII bytes) and
   each punctuation mark; `char` units are the bytes of the normalised text. A shingle is `ngram`
   consecutive units, hashed to 32 bits (polynomial over the units, splitmix64 finaliser); a row
   shorter than `ngram` units is one shingle. Hashes depend on the row's text only.
3. MinHash: ``(a * x + b) mod p`` with p = 2**32 - 5 for `num_perm` seeded (a, b); the
   product fits in uint64 exactly, so this is the textbook universal family.
4. LSH: b bands of r rows (`lsh_params`); rows sharing a band's key are candidates.
5. Verify: the exact Jaccard of the two shingle sets, >= threshold. Rows are visited in the given
   (priority) order; a row is dropped when a candidate among the rows *kept so far* reaches the
   threshold, and it names the kept row of highest Jaccard (the earliest on a tie). Kept rows
   are thus pairwise below the threshold (on the pairs LSH found) and each kept row is the
   earliest of its group; a row near a dropped row only is kept (no transitive chains).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from pipeline.dedup.config import NearDedupConfig, validate_near_dedup

PRIME = (1 << 32) - 5
# Weights of the (b, r) optimisation: candidates are verified by exact Jaccard, so a false
# positive costs one comparison while a false negative keeps a duplicate; recall is favoured.
FALSE_POSITIVE_WEIGHT, FALSE_NEGATIVE_WEIGHT = 0.1, 0.9
_CHUNK_BYTES = 1 << 23  # normalised text shingled per numpy pass (bounds memory)
_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_SEP = 0x20  # rows are joined by a space, which never belongs to a word token


# The stage and reason check of a row dropped here (`rejected` config; its `duplicate_of` column
# holds the kept id).
DEDUP_STAGE, DEDUP_CHECK = "dedup", "near_duplicate"


def dedup_reason(kept_id: str, jaccard: float) -> dict[str, str]:
    """The `reasons` entry of a dropped row."""
    return {"check": DEDUP_CHECK, "message": f"near-duplicate of {kept_id} (Jaccard {jaccard:.3f})"}


def normalise(text: str) -> str:
    """Lower-cased, whitespace runs collapsed to one space, stripped."""
    return " ".join(text.lower().split())


def row_text(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The record's `fields` joined by newlines (None counts as empty); KeyError naming a
    missing field, so a misspelt field never dedups on partial text."""
    missing = [f for f in fields if f not in record]
    if missing:
        raise KeyError(f"record {record.get('id')!r} has no field(s) {missing} to dedup on")
    return "\n".join("" if record[f] is None else str(record[f]) for f in fields)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 (wrapping)."""
    z = z ^ (z >> _U64(30))
    z *= _U64(0xBF58476D1CE4E5B9)
    z ^= z >> _U64(27)
    z *= _U64(0x94D049BB133111EB)
    z ^= z >> _U64(31)
    return z


def _odd_constants(count: int, salt: int) -> np.ndarray:
    """`count` fixed odd uint64 multipliers (not seeded: shingle hashes never change)."""
    return _mix(np.arange(1, count + 1, dtype=_U64) + _U64(salt)) | _U64(1)


def _ngrams(units: np.ndarray, unit_row: np.ndarray, rows: int, n: int):
    """Hashes (uint64) and rows of every n-gram of units that stays inside its row, plus one
    shingle of all units for a row with fewer than n."""
    counts = np.bincount(unit_row, minlength=rows)
    first = np.cumsum(counts) - counts
    end = (first + counts)[unit_row]
    pos = np.arange(units.size)
    consts = _odd_constants(n, 0x5EED)
    acc = np.zeros(units.size, dtype=_U64)
    for j in range(min(n, units.size)):
        part = np.zeros(units.size, dtype=_U64)
        part[: units.size - j] = units[j:]
        part[pos + j >= end] = 0
        acc += part * consts[j]
    keep = (pos + n <= end) | ((pos == first[unit_row]) & (counts[unit_row] < n))
    return _mix(acc[keep]), unit_row[keep]


def _word_units(buf: np.ndarray, byte_row: np.ndarray):
    """Token hashes and rows: each maximal run of word bytes and each punctuation byte. A token's
    hash is sum (byte + 1) * B**offset over its bytes, mixed."""
    word = (
        ((buf >= ord("a")) & (buf <= ord("z")))
        | ((buf >= ord("0")) & (buf <= ord("9")))
        | (buf == ord("_"))
        | (buf >= 0x80)
    )
    space = buf == _SEP
    prev = np.concatenate(([False], word[:-1]))
    is_start = (word & ~prev) | (~word & ~space)
    starts = np.flatnonzero(is_start)
    if starts.size == 0:
        return np.zeros(0, dtype=_U64), np.zeros(0, dtype=np.int32)
    index = np.arange(buf.size, dtype=np.int32)
    offset = index - np.maximum.accumulate(np.where(is_start, index, 0))
    powers = np.full(int(offset.max()) + 1, 0x100000001B3, dtype=_U64)
    powers[0] = 1
    contrib = (buf.astype(_U64) + _U64(1)) * np.cumprod(powers, dtype=_U64)[offset]
    contrib[space] = 0
    return _mix(np.add.reduceat(contrib, starts, dtype=_U64)), byte_row[starts]


def _first_of_runs(sorted_values: np.ndarray) -> np.ndarray:
    """Mask of the elements of a sorted array that differ from their predecessor."""
    first = np.ones(sorted_values.size, dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return first


def _shingle_sets(texts: Sequence[str], unit: str, n: int):
    """Sorted unique 32-bit shingle hashes of each normalised text, concatenated (uint64),
    and the count per text."""
    encoded = [t.encode("utf-8") for t in texts]
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    buf = np.frombuffer(b" ".join(encoded), dtype=np.uint8)
    byte_row = np.repeat(np.arange(len(encoded), dtype=np.int32), lengths + 1)[: buf.size]
    if unit == "word":
        units, unit_row = _word_units(buf, byte_row)
    else:
        inside = np.ones(buf.size, dtype=bool)
        inside[np.cumsum(lengths + 1)[:-1] - 1] = False  # the joining spaces
        units, unit_row = buf[inside].astype(_U64) + _U64(1), byte_row[inside]
    hashes, rows = _ngrams(units, unit_row, len(encoded), n)
    keys = np.sort((rows.astype(_U64) << _U64(32)) | (hashes >> _U64(32)))
    keys = keys[_first_of_runs(keys)]  # np.unique: its hash table takes 100x longer here
    counts = np.bincount((keys >> _U64(32)).astype(np.int64), minlength=len(encoded))
    return keys & _MASK32, counts


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, PRIME, size=num_perm, dtype=np.int64).astype(_U64)
    b = rng.integers(0, PRIME, size=num_perm, dtype=np.int64).astype(_U64)
    return a, b


def _signatures(shingles: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray):
    """MinHash signatures (rows x num_perm, uint32); an empty row is all 2**32 - 1."""
    sig = np.full((counts.size, a.size), 0xFFFFFFFF, dtype=np.uint32)
    filled = np.flatnonzero(counts)
    if shingles.size == 0:
        return sig
    offsets = (np.cumsum(counts) - counts)[filled]
    h = np.empty(shingles.size, dtype=_U64)
    for j in range(a.size):
        np.multiply(shingles, a[j], out=h)
        h += b[j]
        h %= _U64(PRIME)
        sig[filled, j] = np.minimum.reduceat(h, offsets)
    return sig


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) with bands * rows <= num_perm minimising the weighted integrals of
    the false-positive probability below the threshold and the false-negative one above it
    (datasketch's optimisation, with FALSE_POSITIVE_WEIGHT and FALSE_NEGATIVE_WEIGHT)."""
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)])
    bands, rows = pairs[:, :1].astype(float), pairs[:, 1:].astype(float)
    below, above = np.linspace(0.0, threshold, 513), np.linspace(threshold, 1.0, 513)

    def integral(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return ((y[:, 1:] + y[:, :-1]) / 2 * np.diff(x)).sum(axis=1)

    fp = integral(1 - (1 - below**rows) ** bands, below)
    fn = integral((1 - above**rows) ** bands, above)
    best = int(np.argmin(FALSE_POSITIVE_WEIGHT * fp + FALSE_NEGATIVE_WEIGHT * fn))
    return int(pairs[best, 0]), int(pairs[best, 1])


def _band_buckets(sig: np.ndarray, bands: int, rows: int, filled: np.ndarray) -> np.ndarray:
    """For each row and band, a bucket number (band-major, unique over all bands) when another
    non-empty row shares the band's values, else -1."""
    consts = _odd_constants(rows, 0xBA4D)
    out = np.full((sig.shape[0], bands), -1, dtype=np.int64)
    offset = 0
    for k in range(bands):
        block = sig[:, k * rows : (k + 1) * rows].astype(_U64)
        key = _mix((block * consts).sum(axis=1, dtype=_U64))[filled]
        order = np.argsort(key, kind="stable")
        group = np.cumsum(_first_of_runs(key[order])) - 1
        sizes = np.bincount(group)
        shared = sizes[group] > 1
        out[filled[order[shared]], k] = group[shared] + offset
        offset += sizes.size
    return out


def _jaccard(x: np.ndarray, y: np.ndarray) -> float:
    """Exact Jaccard of two sorted arrays of unique values."""
    if x.size > y.size:
        x, y = y, x
    found = np.searchsorted(y, x)
    inter = int(np.count_nonzero(y[np.minimum(found, y.size - 1)] == x))
    return inter / (x.size + y.size - inter)


def find_near_duplicates(
    rows: Sequence[tuple[str, str]], config: NearDedupConfig
) -> dict[str, tuple[str, float]]:
    """Dropped row id -> (id of the kept row it duplicates, their exact Jaccard), for (id, text)
    pairs in priority order (the earliest of a group is kept). Empty texts are never dropped
    and never duplicated; ids must be unique. A disabled config drops nothing."""
    validate_near_dedup(config)
    ids = [row_id for row_id, _ in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("find_near_duplicates needs unique row ids")
    if not config.enabled or len(rows) < 2:
        return {}
    texts = [normalise(text) for _, text in rows]
    a, b = _permutations(config.num_perm, config.seed)
    sets: list[np.ndarray] = []
    signatures = []
    start = 0
    while start < len(texts):
        stop, size = start, 0
        while stop < len(texts) and (stop == start or size + len(texts[stop]) < _CHUNK_BYTES):
            size += len(texts[stop]) + 1
            stop += 1
        shingles, counts = _shingle_sets(texts[start:stop], config.shingle, config.ngram)
        sets.extend(np.split(shingles, np.cumsum(counts)[:-1]))
        signatures.append(_signatures(shingles, counts, a, b))
        start = stop
    sig = np.concatenate(signatures)
    filled = np.flatnonzero([len(t) > 0 for t in texts])
    bands, band_rows = lsh_params(config.threshold, config.num_perm)
    buckets = _band_buckets(sig, bands, band_rows, filled)
    kept: dict[int, list[int]] = {}
    dropped: dict[str, tuple[str, float]] = {}
    involved = np.flatnonzero((buckets >= 0).any(axis=1))
    for i, row_buckets in zip(involved.tolist(), buckets[involved].tolist(), strict=True):
        mine = [k for k in row_buckets if k >= 0]
        candidates = sorted({c for k in mine for c in kept.get(k, ())})
        best, best_j = -1, -1.0
        for c in candidates:
            j = _jaccard(sets[i], sets[c])
            if j >= config.threshold and j > best_j:
                best, best_j = c, j
        if best >= 0:
            dropped[ids[i]] = (ids[best], best_j)
        else:
            for k in mine:
                kept.setdefault(k, []).append(i)
    return dropped
