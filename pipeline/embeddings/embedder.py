"""`CodeEmbedder`: batched, cached sentence embeddings of code strings."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from pipeline.embeddings.cache import EmbeddingCache, text_key
from pipeline.embeddings.model_spec import (
    embedding_dimension,
    load_sentence_transformer,
    model_key,
    resolve_model,
)
from pipeline.embeddings.onnx_backend import (
    EXPORT_VERSION,
    OnnxEncoder,
    cpu_threads,
    ensure_export,
    export_folder,
)
from wavecoder.errors import UserError

BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
# Texts embedded between two cache writes: a killed run loses at most this many.
CHUNK_TEXTS = 4096


def default_cache_dir() -> Path:
    """``$WAVECODER_CACHE/embeddings``, else ``~/.cache/wavecoder/embeddings``."""
    root = os.environ.get("WAVECODER_CACHE") or Path.home() / ".cache" / "wavecoder"
    return Path(root).expanduser() / "embeddings"


class CodeEmbedder:
    """Embeds code strings with a sentence-transformers model, caching vectors on disk.

    Vectors are float32 and come out of the model's own module pipeline (for the models used
    here: mean pooling, then L2 normalisation). The cache is keyed by (`model_id`, sha256 of the
    text), so a re-run, or a new instance on the same ``cache_dir``, computes nothing twice.

    Args:
        model: ``offline:all-MiniLM-L6-v2``, a Hub id, or a local sentence-transformers folder.
        backend: ``auto`` (torch fp16 on CUDA, ``onnx`` fp32 on CPU), ``torch`` (plain
            sentence-transformers), ``onnx`` (ONNX Runtime fp32) or ``onnx-int8``.
        batch_size: texts per forward pass (torch); ONNX batches by tokens instead, up to
            ``32 * batch_size`` tokens and ``4 * batch_size`` texts (see `OnnxEncoder`).
        cache_dir: cache folder; None = `default_cache_dir()`. Exported ONNX models are kept in
            its ``models/`` subfolder, vectors in ``vectors/``.
        device: ``cpu``, ``cuda``, ``cuda:1``...; None = CUDA when torch sees one.
        show_progress: show a progress bar over the texts being computed.

    Attributes:
        cache_hits, embedded: texts served from the cache / computed in the last `embed` call
            (a text repeated within one call is computed once and counted once).
        total_cache_hits, total_embedded: the same, summed over this instance's calls.
    """

    def __init__(
        self,
        model: str,
        *,
        backend: str = "auto",
        batch_size: int = 32,
        cache_dir: str | None = None,
        device: str | None = None,
        show_progress: bool = True,
    ):
        if backend not in BACKENDS:
            raise UserError(
                f"embedding backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
            )
        if batch_size < 1:
            raise UserError(f"embedding batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.model_path = resolve_model(model)
        self.backend = backend
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.device = device
        self.show_progress = show_progress
        self.cache_hits = self.embedded = self.total_cache_hits = self.total_embedded = 0
        self._key: str | None = None
        self._resolved: tuple[str, str] | None = None  # (backend, device)
        self._encoder = None
        self._cache: EmbeddingCache | None = None
        self._model_id: str | None = None

    @classmethod
    def from_config(cls, config, *, show_progress: bool = True) -> CodeEmbedder:
        """From a recipe's `EmbeddingsConfig` (model, backend, batch_size, cache_dir, device)."""
        return cls(
            config.model, backend=config.backend, batch_size=config.batch_size,
            cache_dir=config.cache_dir, device=config.device, show_progress=show_progress,
        )  # fmt: skip

    @property
    def resolved_backend(self) -> str:
        """The backend in use: ``torch``, ``torch-fp16``, ``onnx`` or ``onnx-int8``."""
        return self._resolve()[0]

    @property
    def model_id(self) -> str:
        """Stable name of the vectors this embedder produces: model, backend, precision."""
        if self._model_id is None:
            backend, _ = self._resolve()
            if self._key is None:
                self._key = model_key(self.model)
            if backend.startswith("onnx"):
                folder = ensure_export(
                    self.model_path, self._key, backend, self.cache_dir / "models"
                )
                variant = _read_meta(folder).get("variant", "fp32")
                backend = f"{backend}:{variant}:v{EXPORT_VERSION}"
            self._model_id = f"{self._key}|{backend}"
        return self._model_id

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self._load().dimension

    @property
    def cache(self) -> EmbeddingCache:
        if self._cache is None:
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model_id)[-80:]
            digest = hashlib.sha256(self.model_id.encode()).hexdigest()[:12]
            self._cache = EmbeddingCache(self.cache_dir / "vectors" / f"{slug}-{digest}")
        return self._cache

    def existing_cache(self) -> EmbeddingCache | None:
        """`cache` when naming it needs no model: None for an ONNX backend whose export was never
        made (its name holds the export's variant), where `cache` would load and export the model."""
        if self._model_id is None:
            backend, _ = self._resolve()
            if backend.startswith("onnx"):
                if self._key is None:
                    self._key = model_key(self.model)
                folder = export_folder(self.cache_dir / "models", self._key, backend)
                if not (folder / "meta.json").is_file():
                    return None
        return self.cache

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), `dimension`) float32 embeddings; cached texts are not recomputed."""
        texts = list(texts)
        keys = [text_key(t) for t in texts]
        hit, cached = self.cache.get(keys)
        misses: dict[bytes, list[int]] = {}
        for i in np.flatnonzero(~hit):
            misses.setdefault(keys[i], []).append(int(i))
        if hit.any():
            out = np.empty((len(texts), cached.shape[1]), np.float32)
            out[hit] = cached
        else:
            out = np.empty((len(texts), self.dimension), np.float32)
        self.cache_hits, self.embedded = int(hit.sum()), len(misses)
        if misses:
            self._compute(texts, misses, out)
        self.total_cache_hits += self.cache_hits
        self.total_embedded += self.embedded
        return out

    def _compute(self, texts: list[str], misses: dict[bytes, list[int]], out: np.ndarray) -> None:
        from tqdm.auto import tqdm

        encoder = self._load()
        todo = list(misses.items())
        with tqdm(
            total=len(todo), unit="text", desc=f"embedding ({self.resolved_backend})",
            disable=not self.show_progress,
        ) as bar:  # fmt: skip
            for start in range(0, len(todo), CHUNK_TEXTS):
                chunk = todo[start : start + CHUNK_TEXTS]
                vectors = encoder.encode([texts[rows[0]] for _, rows in chunk], progress=bar.update)
                self.cache.put([key for key, _ in chunk], vectors)
                for (_, rows), vector in zip(chunk, vectors, strict=True):
                    out[rows] = vector

    def _resolve(self) -> tuple[str, str]:
        if self._resolved is None:
            device = self.device
            if device is None:
                device = "cuda" if _cuda_available() else "cpu"
            backend = self.backend
            if backend == "auto":
                # fp32 ONNX on the CPU: 2.7x plain encode with the same KCenterGreedy picks; int8 is
                # faster (5.5x) but moved the k=1000 coverage radius by 2.5% (bench/embed.py).
                backend = "torch" if device.startswith("cuda") else "onnx"
            if backend.startswith("onnx") and device != "cpu":
                raise UserError(
                    f"embedding backend {backend!r} runs on the CPU; on {device} use backend "
                    "`torch` or `auto`"
                )
            if backend == "torch" and device.startswith("cuda"):
                backend = "torch-fp16"
            self._resolved = (backend, device)
        return self._resolved

    def _load(self):
        if self._encoder is None:
            backend, device = self._resolve()
            if backend.startswith("onnx"):
                self.model_id  # noqa: B018  (exports the model if needed)
                folder = export_folder(self.cache_dir / "models", self._key, backend)
                self._encoder = OnnxEncoder(
                    folder, threads=cpu_threads(), batch_size=self.batch_size
                )
            else:
                self._encoder = TorchEncoder(
                    self.model_path,
                    device,
                    fp16=backend == "torch-fp16",
                    batch_size=self.batch_size,
                )
        return self._encoder


class TorchEncoder:
    """Plain sentence-transformers ``encode`` (fp16 weights on CUDA when ``fp16``)."""

    def __init__(self, model_path: str, device: str, *, fp16: bool, batch_size: int):
        self.model = load_sentence_transformer(model_path, device=device)
        if fp16:
            self.model.half()
        self.fp16 = fp16
        self.batch_size = batch_size
        self.dimension = embedding_dimension(self.model)

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), 1024):  # slices only to move the progress bar
            part = texts[start : start + 1024]
            parts.append(self.model.encode(part, batch_size=self.batch_size, convert_to_numpy=True,
                                           show_progress_bar=False))  # fmt: skip
            if progress is not None:
                progress(len(part))
        vectors = np.concatenate(parts).astype(np.float32, copy=False)
        if self.fp16:  # fp16 normalisation leaves norms off by ~1e-3; redo it in fp32
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            if np.allclose(norms, 1.0, atol=1e-2):
                vectors /= np.maximum(norms, 1e-12)
        return vectors


def _read_meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text())


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()
