"""The dataset card's figures: real PNGs with drawn content, deterministic, only those with data."""

from __future__ import annotations

import numpy as np
import pytest

from cards.plots import (
    FIGURES,
    count_code_tokens,
    embedding_map_points,
    plot_acceptance_per_rule,
    plot_embedding_map,
    plot_leakage_histograms,
    plot_length_histograms,
    plot_task_language_mix,
    write_card_plots,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RULES = {"generation": ["self_contained", "code_only"], "repair": ["fix_is_correct"]}


def make_records(n: int = 60) -> list[dict]:
    rng = np.random.default_rng(3)
    records = []
    for i in range(n):
        task = "generation" if i % 3 else "repair"
        verdicts = [
            {"rule": rule, "passed": bool(rng.random() < 0.8), "reason": "because"}
            for rule in RULES[task]
        ]
        accepted = all(v["passed"] for v in verdicts)
        status = "accepted" if accepted else "rejected"
        if i % 17 == 0:
            status, verdicts = "failed", []
        body = "    total = total + values[i] * 2\n" * (1 + i % 9)
        records.append(
            {
                "task": task,
                "language": ("python", "go", "java")[i % 3],
                "target_language": "",
                "instruction": "Write a function that sums the doubled values. " * (1 + i % 4),
                "input": "",
                "output": "" if status == "failed" else f"def f(values):\n{body}",
                "judgement": {"rules": verdicts, "overall": accepted} if verdicts else None,
                "status": status,
                "stage": "judge",
                "reasons": [],
            }
        )
    return records


LEAKAGE = {
    "humaneval": {
        "items": 5,
        "before": 0.9,
        "after": 0.84,
        "before_max_cosines": [0.95, 0.91, 0.88, 0.86, 0.9],
        "after_max_cosines": [0.85, 0.84, 0.83, 0.86, 0.82],
    },
    "mbpp": {"items": 3, "before": 0.8, "before_max_cosines": [0.8, 0.79, 0.81]},
}


def read_png(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[1] == 800  # 8 in at 100 dpi: a Hub README's width
    return pixels


def assert_drawn(pixels, min_colours: int = 20):
    """Not blank: many distinct colours, and over 1% of the pixels are not near white."""
    flat = pixels[..., :3].reshape(-1, 3)
    assert len(np.unique(flat, axis=0)) >= min_colours
    assert (flat.min(axis=1) < 0.9).mean() > 0.01


@pytest.mark.parametrize(
    "draw",
    [
        lambda recs, path: plot_task_language_mix(recs, path),
        lambda recs, path: plot_length_histograms(recs, path),
        lambda recs, path: plot_acceptance_per_rule(recs, path),
        lambda recs, path: plot_leakage_histograms(LEAKAGE, path),
    ],
    ids=["task_mix", "lengths", "acceptance", "leakage"],
)
def test_each_plot_writes_a_drawn_png_and_the_same_bytes_again(tmp_path, draw):
    records = make_records()
    link = draw(records, tmp_path / "plots" / "figure.png")
    assert link == "plots/figure.png"
    pixels = read_png(tmp_path / "plots" / "figure.png")
    assert_drawn(pixels)
    draw(records, tmp_path / "again" / "figure.png")
    assert (tmp_path / "again" / "figure.png").read_bytes() == (
        tmp_path / "plots" / "figure.png"
    ).read_bytes()


def test_plots_differ_with_the_data(tmp_path):
    records = make_records()
    plot_task_language_mix(records, tmp_path / "a.png")
    plot_task_language_mix(records[:20], tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()


def test_leakage_needs_max_cosines(tmp_path):
    with pytest.raises(ValueError, match="before_max_cosines"):
        plot_leakage_histograms({"mbpp": {"items": 3, "before": 0.8}}, tmp_path / "x.png")


def test_leakage_when_every_row_was_flagged_draws_before_only(tmp_path):
    # No row kept: "after" is None for every item (leakage.leakage_before_after).
    entry = {"items": 3, "before": 0.9, "after": None, "before_max_cosines": [0.9, 0.8, 1.0],
             "after_max_cosines": [None, None, None]}  # fmt: skip
    one = plot_leakage_histograms({"humaneval": entry}, tmp_path / "one.png")
    both = dict(entry, after=0.85, after_max_cosines=[0.85, 0.8, 0.9])
    plot_leakage_histograms({"humaneval": both}, tmp_path / "both.png")
    assert (tmp_path / "one.png").read_bytes()[:8] == PNG_SIGNATURE
    assert (tmp_path / "one.png").read_bytes() != (tmp_path / "both.png").read_bytes()
    assert one.endswith("one.png")


def test_code_tokens_and_a_custom_counter(tmp_path):
    assert count_code_tokens("def f(x): return x+10.5") == 10
    assert count_code_tokens("") == 0
    seen = []

    def words(text: str) -> int:
        seen.append(text)
        return len(text.split())

    plot_length_histograms(make_records(), tmp_path / "l.png", words)
    # Instruction and output of every row with an output (the failed rows have none).
    with_output = [r for r in make_records() if r["output"]]
    texts = [r["instruction"] for r in with_output] + [r["output"] for r in with_output]
    assert sorted(seen) == sorted(texts)


def test_embedding_map_keeps_every_selected_point_and_projects_by_pca():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3000, 16)) * np.linspace(4, 0.5, 16)
    mask = np.zeros(3000, bool)
    mask[rng.choice(3000, 37, replace=False)] = True
    xy, selected, explained = embedding_map_points(vectors, mask, max_points=1000)
    assert xy.shape == (1000, 2)
    assert selected.sum() == 37  # the sample keeps every selected point
    # Components and variance shares equal a direct SVD of the centred sample.
    rows = np.flatnonzero(mask)
    assert explained[0] > explained[1] > 0.1
    full_xy, full_sel, full_exp = embedding_map_points(vectors, mask, max_points=5000)
    centred = vectors - vectors.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(full_exp, (s[:2] ** 2) / (s**2).sum(), rtol=1e-9)
    np.testing.assert_allclose(np.abs(full_xy), np.abs(centred @ vt[:2].T), atol=1e-9)
    assert full_sel.sum() == len(rows) and np.array_equal(np.flatnonzero(full_sel), rows)
    with pytest.raises(ValueError, match="shape"):
        embedding_map_points(vectors, mask[:10])


def test_embedding_map_png_marks_the_selected_points_in_red(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(500, 8)).astype(np.float32)
    none, some = np.zeros(500, bool), np.zeros(500, bool)
    some[:40] = True
    plot_embedding_map(vectors, none, tmp_path / "none.png")
    plot_embedding_map(vectors, some, tmp_path / "some.png")
    plain, marked = read_png(tmp_path / "none.png"), read_png(tmp_path / "some.png")
    assert_drawn(marked)

    def red(pixels):
        r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        return int(((r > 0.7) & (g < 0.35) & (b < 0.35)).sum())

    assert red(plain) == 0 and red(marked) > 100
    plot_embedding_map(vectors, some, tmp_path / "again.png")
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "some.png").read_bytes()


def test_write_card_plots_writes_those_with_data_and_removes_stale_ones(tmp_path):
    records = make_records()
    vectors = np.random.default_rng(2).normal(size=(200, 6))
    mask = np.arange(200) < 15
    summary = {"decontamination": {"leakage": LEAKAGE}}
    links = write_card_plots(records, summary, tmp_path, corpus_vectors=vectors, selected_mask=mask)
    assert links == {name: f"plots/{file}" for name, (file, _) in FIGURES.items()}
    for link in links.values():
        assert_drawn(read_png(tmp_path / link))

    # A run without decontamination or vectors: those two figures go, stale files included.
    links = write_card_plots(records, {}, tmp_path)
    assert list(links) == ["task_mix", "lengths", "acceptance"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "acceptance.png", "lengths.png", "task_mix.png",
    ]  # fmt: skip

    # Only failed rows: no text and no verdicts, so only the mix.
    failed = [r for r in records if r["status"] == "failed"]
    assert list(write_card_plots(failed, None, tmp_path)) == ["task_mix"]
    assert write_card_plots([], None, tmp_path / "empty") == {}
    assert not (tmp_path / "empty" / "plots").exists()


def test_rows_missing_fields_are_drawn_as_unknown_without_warnings(tmp_path):
    import warnings

    records = [{**r, "language": None, "status": None} for r in make_records(12)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        links = write_card_plots(records, None, tmp_path)
    assert list(links) == ["task_mix", "lengths", "acceptance"]
    assert_drawn(read_png(tmp_path / links["lengths"]))
