"""The recipe's near-dedup settings: MinHash LSH over each generated row's instruction + output.

Every key is a dataclass field documented once here, in the style of `pipeline.recipe`;
`validate_near_dedup` raises a `UserError` naming the key for a value out of range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wavecoder.errors import UserError

SHINGLE_UNITS = ("word", "char")


@dataclass
class NearDedupConfig:
    """Near-duplicate removal of generated rows (MinHash LSH, `pipeline.dedup.minhash`)."""

    # Drop near-duplicates; false keeps every row.
    enabled: bool = True
    # Jaccard similarity of two rows' shingle sets at or above which the later row is dropped.
    # 0.7, measured by bench/dedup.py on 822 stdlib-shaped rows with word 3-grams: it catches
    # every reworded first sentence and every reordering of the docstring's sentences, and 90%
    # of first-argument renamings (whitespace changes are free), while 8% of rows have another
    # row at or above it, true copies among them (posixpath/ntpath); at 0.8 that share is 3% but
    # 5% of rewordings and a third of the renamings are missed.
    threshold: float = 0.7
    # MinHash permutations; more = fewer missed pairs near the threshold, linearly slower.
    num_perm: int = 128
    # Shingle unit: `word` (identifiers, numbers and each punctuation mark are tokens) or `char`
    # (bytes of the normalised text). Text is lower-cased and its whitespace collapsed first.
    shingle: str = "word"
    # Units per shingle (a row shorter than this is one shingle of all its units).
    ngram: int = 3
    # Record fields joined (in this order) into the compared text.
    fields: list[str] = field(default_factory=lambda: ["instruction", "output"])
    # Seed of the permutations: same seed and rows, same signatures and same drops.
    seed: int = 42


def validate_near_dedup(config: NearDedupConfig, where: str = "dedup") -> None:
    """Raise UserError naming the key (`where.key`) and the allowed range for a bad value."""
    if not 0.0 < config.threshold <= 1.0:
        raise UserError(f"{where}.threshold must be in (0, 1] (Jaccard), got {config.threshold}")
    if not 2 <= config.num_perm <= 4096:
        raise UserError(f"{where}.num_perm must be in [2, 4096], got {config.num_perm}")
    if config.shingle not in SHINGLE_UNITS:
        raise UserError(
            f"{where}.shingle must be one of {list(SHINGLE_UNITS)}, got {config.shingle!r}"
        )
    if not 1 <= config.ngram <= 64:
        raise UserError(f"{where}.ngram must be in [1, 64], got {config.ngram}")
    if not config.fields or not all(isinstance(f, str) and f for f in config.fields):
        raise UserError(f"{where}.fields must name at least one record field, got {config.fields}")
    if len(set(config.fields)) != len(config.fields):
        raise UserError(f"{where}.fields names a field twice: {config.fields}")
