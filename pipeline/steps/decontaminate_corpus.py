"""`DecontaminateCorpus`: set benchmark copies aside before KCenterGreedy selects anything."""

# No `from __future__ import annotations`: distilabel reads `process`'s type hints at run time.

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from distilabel.steps import GlobalStep, StepInput
from pydantic import Field

from pipeline.failures import ReportsFailures
from pipeline.layout import CORPUS_CONTAMINATION_FILE, CORPUS_MAP_FILE, STATE_DIR

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput

# Corpus vectors kept for the card's 2-D map (a deterministic sample beyond this).
MAP_SAMPLE = 20_000


class DecontaminateCorpus(ReportsFailures, GlobalStep):
    """Drops the snippets that copy a benchmark item (pipeline/decontamination), before selection.

    The dropped snippets are written, with their flags and the stage's report, to
    `corpus_contamination.jsonl` in the output folder (the `contaminated` config is built from
    it), so nothing is silently lost. A sample of the corpus vectors is kept in the run state
    for the dataset card's map of the embeddings.

    Attributes:
        settings: the recipe's `decontamination` section (`DecontaminationConfig` as a dict).
        embeddings: the recipe's `embeddings` section: the run's embedder, for the embedding
            methods (its disk cache already holds every corpus vector).
        output_dir: the run's output folder.

    Input columns:
        - id (`str`), code (`str`), embedding (`List[float]`).

    Output columns:
        - the same rows, without the flagged ones.

    Categories:
        - filtering
    """

    settings: dict[str, Any] = Field(default_factory=dict)
    embeddings: dict[str, Any] = Field(default_factory=dict)
    output_dir: str = "."

    @property
    def inputs(self) -> "StepColumns":
        return ["id", "code", "embedding"]

    @property
    def outputs(self) -> "StepColumns":
        return ["id", "code", "embedding"]

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        from pipeline.decontamination.config import DecontaminationConfig
        from pipeline.decontamination.stages import (
            check_corpus,
            load_benchmarks,
            write_corpus_contamination,
        )

        out = Path(self.output_dir)
        rows = list(inputs)
        save_map_sample(rows, out / STATE_DIR / CORPUS_MAP_FILE)
        config = DecontaminationConfig(**self.settings)
        if not config.enabled or not rows:
            report = {"stage": "corpus", "checked": len(rows), "flagged_rows": 0}
            write_corpus_contamination(out / CORPUS_CONTAMINATION_FILE, [], report)
            yield rows
            return
        benchmarks = load_benchmarks(config)
        kept, flagged, report = check_corpus(
            rows,
            config,
            benchmarks,
            embed=self._embedder(config, rows),
        )
        report = {**report, "benchmarks": benchmarks.sources, "skipped": benchmarks.skipped}
        write_corpus_contamination(out / CORPUS_CONTAMINATION_FILE, flagged, report)
        self._logger.info(
            f"decontamination: {len(flagged)} of {len(rows)} corpus snippets copy a benchmark "
            f"item and are set aside"
        )
        yield kept

    def _embedder(self, config, rows: list[dict]):
        """The run's embedder; the snippets' own vectors (the `embedding` column) are used as
        they are, so only the benchmark items are embedded here."""
        if config.embedding_threshold is None and config.nearest_k is None:
            return None
        from pipeline.decontamination.embedding import make_embedder, normalise
        from pipeline.recipe import EmbeddingsConfig

        run_embed = make_embedder(EmbeddingsConfig(**self.embeddings), show_progress=False)
        known = {row["code"]: row["embedding"] for row in rows}

        def embed(texts: list[str]) -> np.ndarray:
            if texts and all(text in known for text in texts):
                return normalise(np.asarray([known[text] for text in texts], np.float32))
            return run_embed(texts)

        return embed


def save_map_sample(rows: list[dict], path: Path, limit: int = MAP_SAMPLE) -> None:
    """The ids and unit vectors (float16) of at most `limit` rows, for the card's 2-D map."""
    if not rows:
        return
    index = np.arange(len(rows))
    if len(rows) > limit:
        index = np.sort(np.random.default_rng(0).choice(len(rows), limit, replace=False))
    vectors = np.stack([np.asarray(rows[i]["embedding"], np.float32) for i in index])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = np.array([str(rows[i]["id"]) for i in index])
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, ids=ids, vectors=vectors.astype(np.float16))
    tmp.replace(path)
