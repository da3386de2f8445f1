"""`CachedSentenceTransformerEmbeddings`: `CodeEmbedder` as a distilabel `Embeddings` model."""

# No `from __future__ import annotations`: pydantic and distilabel read the field types at run time.

from typing import Any

import numpy as np
from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.embeddings.base import Embeddings
from pydantic import Field, PrivateAttr

from pipeline.embeddings.embedder import CodeEmbedder


class CachedSentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model behind `CodeEmbedder`: fast CPU backends and a disk cache.

    Use it with distilabel's own `EmbeddingGeneration` step. ``encode`` returns one 1-D float32
    numpy array per text, not lists of floats: distilabel hashes ``str(batch.data)`` of every
    batch, and the ``str`` of a million float lists is slow and large.

    Attributes:
        model: ``offline:all-MiniLM-L6-v2``, a Hub id, or a local sentence-transformers folder.
        backend: ``auto``, ``torch``, ``onnx`` or ``onnx-int8`` (see `CodeEmbedder`).
        batch_size: texts per forward pass.
        cache_dir: cache folder; None = ``$WAVECODER_CACHE/embeddings`` or
            ``~/.cache/wavecoder/embeddings``.
        device: ``cpu``, ``cuda``...; None = CUDA when available.
        show_progress: progress bar per ``encode`` call (off: distilabel calls it per batch).

    Runtime parameters:
        - `batch_size`, `device`.

    Examples:
        ```python
        from distilabel.pipeline import Pipeline
        from distilabel.steps import EmbeddingGeneration, LoadDataFromDicts
        from pipeline.embeddings import CachedSentenceTransformerEmbeddings

        with Pipeline(name="embed-code") as pipeline:
            load = LoadDataFromDicts(data=[{"code": "def f():\\n    return 1"}])
            embed = EmbeddingGeneration(
                embeddings=CachedSentenceTransformerEmbeddings(model="offline:all-MiniLM-L6-v2"),
                input_mappings={"text": "code"},
            )
            load >> embed
        ```
    """

    model: str
    backend: str = "auto"
    batch_size: RuntimeParameter[int] = Field(default=32, description="Texts per forward pass.")
    cache_dir: str | None = None
    device: RuntimeParameter[str] | None = Field(
        default=None, description="cpu, cuda, cuda:1...; None = CUDA when available."
    )
    show_progress: bool = False

    _embedder: Any = PrivateAttr(None)

    def load(self) -> None:
        super().load()
        self._embedder = CodeEmbedder(
            self.model, backend=self.backend, batch_size=self.batch_size,
            cache_dir=self.cache_dir, device=self.device, show_progress=self.show_progress,
        )  # fmt: skip

    @property
    def model_name(self) -> str:
        return self.model

    @property
    def embedder(self) -> CodeEmbedder:
        """The underlying `CodeEmbedder` (after `load`)."""
        return self._embedder

    def encode(self, inputs: list[str]) -> list[np.ndarray]:
        """One 1-D float32 array per input text."""
        return list(self._embedder.embed(inputs))

    def unload(self) -> None:
        self._embedder = None
        super().unload()
