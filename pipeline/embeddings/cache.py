"""On-disk embedding cache: append-only numpy shards keyed by a hash of the text.

One folder per model id. Each shard is one ``.npy`` file of rows ``(key: 16 bytes of the text's
sha256, vec: float32[d])``, written to a temporary name, fsynced, then renamed, so a reader sees
whole shards or none; a process killed half-way leaves at most a ``.tmp`` file, which is ignored
(and removed once stale). A shard that is nevertheless unreadable (truncated, wrong dimension) is
set aside as ``.corrupt`` and its rows are recomputed. Shards are memory-mapped: opening a cache of
1M rows reads only the keys (16 MB), vectors are read when they are hit.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger("wavecoder.embeddings")

KEY_BYTES = 16
# Shards smaller than this many rows are merged once there are `_MERGE_AT` of them (distilabel
# calls `encode` per batch of ~50 rows, which would otherwise leave thousands of tiny files).
_SMALL_SHARD_ROWS = 1024
_MERGE_AT = 64
# A `.tmp` file older than this (seconds) belongs to a dead writer.
_STALE_TMP_SECONDS = 3600


def text_key(text: str) -> bytes:
    """The cache key of ``text``: the first 16 bytes of the sha256 of its UTF-8 encoding."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:KEY_BYTES]


def _shard_dtype(dim: int) -> np.dtype:
    return np.dtype([("key", np.uint8, (KEY_BYTES,)), ("vec", "<f4", (dim,))])


class EmbeddingCache:
    """Vectors of one model id, stored under ``folder``.

    Attributes:
        folder: the model id's shard folder.
        dim: vector dimension, known once a shard has been read or written (else None).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.dim: int | None = None
        self._index: dict[bytes, int] | None = None  # key -> global row
        self._shards: list[np.ndarray] = []  # memory-mapped shards, rows numbered in order
        self._starts: list[int] = []  # global row of each shard's first row
        self._paths: list[Path] = []
        self._rows = 0

    def __len__(self) -> int:
        return len(self._load_index())

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Look ``keys`` up; returns (hit mask (n,) bool, vectors of the hits (m, dim) float32)."""
        index = self._load_index()
        rows = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        hit = rows >= 0
        if not hit.any():
            return hit, np.empty((0, self.dim or 0), np.float32)
        rows = rows[hit]
        out = np.empty((len(rows), self.dim), np.float32)
        shard_of = np.searchsorted(np.asarray(self._starts), rows, side="right") - 1
        for s in np.unique(shard_of):
            sel = np.flatnonzero(shard_of == s)
            out[sel] = self._shards[s]["vec"][rows[sel] - self._starts[s]]
        return hit, out

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Append one shard holding ``vectors`` (n, dim) under ``keys``; durable on return."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(keys) != len(vectors) or vectors.ndim != 2:
            raise ValueError(f"{len(keys)} keys for vectors of shape {vectors.shape}")
        if not len(keys):
            return
        self._load_index()
        if self.dim is None:
            self.dim = vectors.shape[1]
        elif vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of dimension {vectors.shape[1]}, cache holds {self.dim}")
        rows = np.empty(len(keys), _shard_dtype(self.dim))
        rows["key"] = np.frombuffer(b"".join(keys), np.uint8).reshape(-1, KEY_BYTES)
        rows["vec"] = vectors
        path = self._write(rows)
        self._add_shard(path, np.load(path, mmap_mode="r"))
        small = [
            p for p, s in zip(self._paths, self._shards, strict=True) if len(s) < _SMALL_SHARD_ROWS
        ]
        if len(small) >= _MERGE_AT:
            self._merge(small)

    def _write(self, rows: np.ndarray) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}.npy"
        tmp = self.folder / (name + ".tmp")
        with open(tmp, "wb") as f:
            np.save(f, rows, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.folder / name)
        return self.folder / name

    def _load_index(self) -> dict[bytes, int]:
        if self._index is not None:
            return self._index
        self._index = {}
        if not self.folder.is_dir():
            return self._index
        now = time.time()
        for tmp in self.folder.glob("*.tmp"):
            with contextlib.suppress(OSError):  # another process finished or removed it
                if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                    tmp.unlink()
        for path in sorted(self.folder.glob("*.npy")):
            shard = self._open(path)
            if shard is not None:
                self._add_shard(path, shard)
        small = [
            p for p, s in zip(self._paths, self._shards, strict=True) if len(s) < _SMALL_SHARD_ROWS
        ]
        if len(small) >= _MERGE_AT:
            self._merge(small)
        return self._index

    def _open(self, path: Path) -> np.ndarray | None:
        try:
            shard = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            return None  # merged away by another process; its rows are in the merged shard
        except (ValueError, OSError, EOFError) as exc:
            self._set_aside(path, f"unreadable ({exc})")
            return None
        names = shard.dtype.names or ()
        if names != ("key", "vec") or shard.dtype["key"].shape != (KEY_BYTES,):
            self._set_aside(path, f"unexpected layout {shard.dtype}")
            return None
        dim = shard.dtype["vec"].shape[0]
        if self.dim is not None and dim != self.dim:
            self._set_aside(path, f"dimension {dim}, expected {self.dim}")
            return None
        self.dim = dim
        return shard

    def _set_aside(self, path: Path, why: str) -> None:
        logger.warning(
            "embedding cache: ignoring shard %s: %s; its rows will be recomputed", path, why
        )
        with contextlib.suppress(OSError):  # another process set it aside first
            os.replace(path, path.with_suffix(".corrupt"))

    def _add_shard(self, path: Path, shard: np.ndarray) -> None:
        assert self._index is not None
        base = self._rows
        keys = np.ascontiguousarray(shard["key"]).tobytes()
        self._index.update(
            (keys[i : i + KEY_BYTES], base + j)
            for j, i in enumerate(range(0, len(keys), KEY_BYTES))
        )
        self._shards.append(shard)
        self._starts.append(base)
        self._paths.append(path)
        self._rows += len(shard)

    def _merge(self, paths: list[Path]) -> None:
        """Rewrite the shards ``paths`` as one; readers holding them keep their memory maps."""
        chosen = set(paths)
        parts = [s for p, s in zip(self._paths, self._shards, strict=True) if p in chosen]
        merged = self._write(np.concatenate(parts))
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        # Re-index from scratch: global row numbers shift when shards go away.
        keep = [(p, s) for p, s in zip(self._paths, self._shards, strict=True) if p not in chosen]
        self._index, self._shards, self._starts, self._paths, self._rows = {}, [], [], [], 0
        for path, shard in [*keep, (merged, np.load(merged, mmap_mode="r"))]:
            self._add_shard(path, shard)
        logger.info("embedding cache: merged %d small shards into %s", len(paths), merged.name)
