"""Near-duplicate removal of generated rows: MinHash LSH over instruction + output
(`find_near_duplicates`), configured by `NearDedupConfig`. README.md says what it catches."""

from pipeline.dedup.config import NearDedupConfig, validate_near_dedup
from pipeline.dedup.minhash import (
    DEDUP_CHECK,
    DEDUP_STAGE,
    dedup_reason,
    find_near_duplicates,
    lsh_params,
    normalise,
    row_text,
)

__all__ = [
    "DEDUP_CHECK",
    "DEDUP_STAGE",
    "NearDedupConfig",
    "dedup_reason",
    "find_near_duplicates",
    "lsh_params",
    "normalise",
    "row_text",
    "validate_near_dedup",
]
