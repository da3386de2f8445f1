"""The distilabel steps of stage 1, run inside real distilabel Pipelines."""

from __future__ import annotations

import json

import numpy as np
import pytest
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts

from pipeline.selection import kcenter_greedy
from pipeline.steps import KCenterGreedySelect, LoadCodeCorpus


@pytest.mark.slow
def test_kcenter_step_in_a_real_pipeline(stdlib_rows, stdlib_embeddings, tmp_path):
    rows = [
        {"id": r["id"], "code": r["code"], "embedding": e.tolist()}
        for r, e in zip(stdlib_rows[:300], stdlib_embeddings[:300], strict=True)
    ]
    with Pipeline(name="test-kcenter", cache_dir=tmp_path / "cache") as pipeline:
        load = LoadDataFromDicts(data=rows, batch_size=64)
        select = KCenterGreedySelect(num_centers=25, first=3)
        load >> select
    distiset = pipeline.run(use_cache=False)
    out = distiset["default"]["train"]
    expected, radii = kcenter_greedy(stdlib_embeddings[:300], 25, first=3, return_radii=True)
    assert out.num_rows == 25
    assert "embedding" not in out.column_names
    assert out["selection_rank"] == list(range(25))
    assert out["id"] == [rows[i]["id"] for i in expected]
    assert out["coverage_radius"][0] is None
    assert out["coverage_radius"][1:] == pytest.approx(radii[1:].tolist())


@pytest.mark.slow
def test_corpus_loader_in_a_real_pipeline(tmp_path):
    report = tmp_path / "report.json"
    with Pipeline(name="test-load", cache_dir=tmp_path / "cache") as pipeline:
        LoadCodeCorpus(source="stdlib", limit=120, batch_size=50, report_path=str(report))
    out = pipeline.run(use_cache=False)["default"]["train"]
    counts = json.loads(report.read_text())
    assert counts["functions_read"] == 120
    assert out.num_rows == counts["kept"] == 120 - sum(counts["dropped"].values())
    assert set(out.column_names) >= {"id", "code", "docstring", "language", "source"}
    assert all(50 <= len(code) <= 800 for code in out["code"])
    assert out[0]["source"]["dataset"] == "python-stdlib"


def run_step(step: KCenterGreedySelect, rows: list[dict]) -> list[dict]:
    step.load()
    return next(step.process(rows))


def test_step_k_at_least_rows_and_fraction():
    rows = [{"embedding": [float(i), 0.0], "n": i} for i in range(10)]
    out = run_step(KCenterGreedySelect(num_centers=50, first=0), [dict(r) for r in rows])
    assert sorted(r["n"] for r in out) == list(range(10))
    assert [r["n"] for r in out[:3]] == [0, 9, 4]
    out = run_step(KCenterGreedySelect(fraction=0.25, first=0), [dict(r) for r in rows])
    assert [r["n"] for r in out] == [0, 9, 4]  # ceil(2.5) = 3


def test_step_duplicates_zero_vectors_and_kept_embedding():
    rows = [
        {"embedding": v, "n": i} for i, v in enumerate([[1, 0], [1, 0], [0, 0], [0, 0], [0, 1]])
    ]
    out = run_step(KCenterGreedySelect(num_centers=5, first=0, keep_embedding=True), rows)
    assert [r["n"] for r in out] == [0, 4, 2, 1, 3]
    assert [r["coverage_radius"] for r in out] == [None, pytest.approx(np.sqrt(2)), 1.0, 0.0, 0.0]
    assert out[0]["embedding"] == [1, 0]


def test_step_errors():
    with pytest.raises(ValueError, match="NaN or Inf"):
        run_step(
            KCenterGreedySelect(num_centers=1),
            [{"embedding": [1.0, float("nan")]}, {"embedding": [0, 0]}],
        )
    with pytest.raises(ValueError, match="exactly one of `num_centers` or `fraction`"):
        run_step(KCenterGreedySelect(), [{"embedding": [1.0]}])
    with pytest.raises(ValueError, match="one length"):
        run_step(
            KCenterGreedySelect(num_centers=1), [{"embedding": [1.0]}, {"embedding": [1.0, 2.0]}]
        )


def test_step_custom_column_and_seeded_first():
    rows = [{"vec": [float(i), float(i % 3)], "n": i} for i in range(30)]
    a = run_step(
        KCenterGreedySelect(num_centers=4, embedding_column="vec", seed=5), [dict(r) for r in rows]
    )
    b = run_step(
        KCenterGreedySelect(num_centers=4, embedding_column="vec", seed=5), [dict(r) for r in rows]
    )
    first = int(np.random.default_rng(5).integers(30))
    expected = kcenter_greedy(np.array([r["vec"] for r in rows]), 4, first=first).tolist()
    assert [r["n"] for r in a] == expected
    assert [r["selection_rank"] for r in a] == [0, 1, 2, 3]
    assert a == b
    assert "vec" not in a[0]
