"""The main job's first stage through the real CLI, and the recipe it reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.commands import recipe_overrides
from pipeline.recipe import apply_overrides, load_recipe
from wavecoder.cli import build_parser
from wavecoder.errors import UserError


@pytest.mark.slow
def test_select_only_cli_end_to_end(tmp_path):
    """`wavecoder generate --select-only` selects exactly what KCenterGreedy picks on the
    embeddings of the filtered corpus, and writes the selection, the drop counts and pipeline.yaml."""
    out = tmp_path / "out"
    env = {**os.environ, "WAVECODER_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "pipeline", "generate", "--recipe", "demo", "--select-only",
           "--limit", "150", "--num-samples", "8", "--seed", "3", "--output", str(out)]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "KCenterGreedy selected 8 snippets (python 8)" in done.stdout

    selection = pd.read_parquet(out / "selection.parquet")
    report = json.loads((out / "corpus_report.json").read_text())
    assert selection["selection_rank"].tolist() == list(range(8))
    assert report["functions_read"] == 150
    assert report["kept"] == 150 - sum(report["dropped"].values())
    pipeline_yaml = (out / "pipeline.yaml").read_text()
    assert "kcenter_greedy" in pipeline_yaml and "num_centers: 8" in pipeline_yaml

    # Recompute the selection outside the pipeline: same corpus, filters, embeddings, greedy.
    from pipeline.corpus import CorpusReport, iter_corpus
    from pipeline.embeddings import CodeEmbedder
    from pipeline.filters import CodeFilter
    from pipeline.selection import kcenter_greedy

    rows = list(CodeFilter(CorpusReport())(iter_corpus("stdlib", CorpusReport(), limit=150)))
    assert len(rows) == report["kept"]
    recipe = load_recipe("demo")
    embedder = CodeEmbedder(
        recipe.embeddings.model, backend=recipe.embeddings.backend,
        cache_dir=str(tmp_path / "cache" / "embeddings"), show_progress=False,
    )  # fmt: skip
    vectors = embedder.embed([r["code"] for r in rows])
    assert embedder.embedded == 0  # the CLI run cached every vector
    first = int(np.random.default_rng(3).integers(len(rows)))
    expected = kcenter_greedy(vectors, 8, first=first)
    assert selection["id"].tolist() == [rows[i]["id"] for i in expected]


def flags(*argv: str) -> dict:
    """The recipe keys `wavecoder generate ARGV` sets."""
    return recipe_overrides(build_parser().parse_args(["generate", *argv]))


def test_flags_override_recipe_keys():
    recipe = apply_overrides(
        load_recipe("paper"),
        flags(
            "--corpus", "src/tree",
            "--languages", "python, go",
            "--limit", "7",
            "--num-snippets", "5",
            "--seed", "9",
            "--embedding-backend", "onnx-int8",
            "--output", "/tmp/x",
        ),
    )  # fmt: skip
    assert recipe.corpus.source == "src/tree"
    assert recipe.corpus.languages == ["python", "go"]
    assert (recipe.corpus.limit, recipe.selection.k, recipe.selection.fraction) == (7, 5, None)
    assert (recipe.seed, recipe.embeddings.backend, recipe.output) == (9, "onnx-int8", "/tmp/x")
    paper = load_recipe("paper")
    assert paper.embeddings.model == "sentence-transformers/all-roberta-large-v1"
    assert paper.corpus.source == "hub:code-search-net/code_search_net"
    assert (paper.filters.min_chars, paper.filters.max_chars) == (50, 800)


@pytest.mark.parametrize(
    "content,match",
    [
        ("corpus: {sorce: stdlib}\nselection: {k: 3}\n", r"unknown key\(s\) \['sorce'\]"),
        ("selection: {k: 3, fraction: 0.5}\n", "exactly one of `k` or `fraction`"),
        ("selection: {}\n", "exactly one of `k` or `fraction`"),
        ("selection: {k: 3}\nembeddings: {backend: gpu}\n", "embeddings.backend"),
        ("selection: {k: 3}\nfilters: {min_chars: 900}\n", "min_chars <= max_chars"),
        ("selection: [k]\n", "must be a mapping"),
        ("selection: {k: 3\n", "not valid YAML"),
        # Types and ranges are checked before anything runs, naming the key.
        ("selection: {k: 3}\ncorpus: {limit: -1}\n", r"corpus.limit \(--limit\) must be >= 1"),
        (
            "selection: {k: 3}\ncorpus: {limit: many}\n",
            r"`corpus.limit` must be int \| None, got 'many'",
        ),
        ("selection: {k: three}\n", r"`selection.k` must be int \| None, got 'three'"),
        ("selection: {k: 3}\nfilters: {dedup: 'yes'}\n", r"`filters.dedup` must be bool"),
        (
            "selection: {k: 3}\ncorpus: {languages: python}\n",
            r"`corpus.languages` must be list\[str\]",
        ),
        (
            "selection: {k: 3}\ncorpus: {languages: [klingon]}\n",
            r"unknown language\(s\) \['klingon'\] for corpus 'stdlib'.*it can hold: python",
        ),
        (
            "selection: {k: 3}\ncorpus: {source: src, languages: [rust]}\n",
            r"it can hold: go, java, javascript, php, python, ruby",
        ),
        ("selection: {k: 3}\nembeddings: {batch_size: 0}\n", "embeddings.batch_size must be >= 1"),
        ("selection: {k: 3, first: -2}\n", "selection.first must be >= 0"),
        (
            "selection: {k: 3}\ngeneration: {wave_size: '64'}\n",
            r"`generation.wave_size` must be int, got '64'",
        ),
        (
            "selection: {k: 3}\ngeneration: {generator: {timeout: null}}\n",
            r"`generation.generator.timeout` must be float, got None",
        ),
        (
            "selection: {k: 3}\ngeneration: {task_mix: {repair: a}}\n",
            r"`generation.task_mix` must be dict\[str, float\] \| None",
        ),
    ],
)
def test_bad_recipes_are_clear_errors(tmp_path, content, match):
    path = tmp_path / "r.yaml"
    path.write_text(content)
    with pytest.raises(UserError, match=match):
        load_recipe(str(path))


def test_unknown_recipe_name_lists_the_shipped_ones():
    with pytest.raises(UserError, match=r"\['demo', 'paper'\]"):
        load_recipe("nonexistent")


def test_shipped_recipes_round_trip():
    for name in ("demo", "paper"):
        recipe = load_recipe(name)
        data = yaml.safe_load(yaml.safe_dump(recipe.to_dict()))
        assert data["selection"]["k"] == recipe.selection.k
