"""summary.json's `lineage`: where a dataset folder's rows came from, read by the model card of a
checkpoint trained on it."""

from __future__ import annotations

import json

from generation_fixtures import judged_records

from pipeline.generation.config import GenerationConfig, LLMConfig
from pipeline.generation.main_process import finish_generation
from pipeline.generation.run_state import COMPLETED, write_status
from pipeline.recipe import CorpusConfig, EmbeddingsConfig, Recipe, SelectionConfig


def test_summary_json_names_the_recipe_corpus_embedder_selection_and_models(tmp_path):
    from datasets import Dataset

    out = tmp_path / "out"
    # Snippets 4-8 are go, go, go, java, java; 0-1 are python.
    rows = judged_records("accepted", 9)[4:] + judged_records("rejected", 2)
    (out / ".wavecoder").mkdir(parents=True)
    write_status(out / ".wavecoder", COMPLETED, rows=len(rows))
    recipe = Recipe(
        name="lineage-test",
        corpus=CorpusConfig(source="hub:code-search-net/code_search_net"),
        embeddings=EmbeddingsConfig(model="offline:all-MiniLM-L6-v2"),
        # More than were selected: the lineage reports what was selected.
        selection=SelectionConfig(k=10),
        generation=GenerationConfig(
            generator=LLMConfig(model="gen-x"), discriminator=LLMConfig(model="judge-y")
        ),
    )
    distiset = {"default": {"train": Dataset.from_list(rows)}}
    assert finish_generation(distiset, recipe, out, selected=len(rows)) == 0

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["lineage"] == {
        "recipe": "lineage-test",
        "corpus": "hub:code-search-net/code_search_net",
        "languages": ["go", "java", "python"],
        "embedding_model": "offline:all-MiniLM-L6-v2",
        "k": 7,
        "generator_model": "gen-x",
        "discriminator_model": "judge-y",
    }
    # The lineage sits beside the run's figures, which stay as they were.
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (7, 5, 2)
    assert summary["models"] == {"generator": "gen-x", "discriminator": "judge-y"}
