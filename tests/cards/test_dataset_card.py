"""The dataset card: valid Hub metadata, configs that match the folder, the run's figures."""

from __future__ import annotations

from huggingface_hub import DatasetCard

from cards.dataset_card import render_dataset_card, size_category

SUMMARY = {
    "rows": 10,
    "accepted": 6,
    "rejected": 3,
    "failed": 1,
    "acceptance_rate": 0.6667,
    "per_task": {
        "generation": {"accepted": 4, "rejected": 1},
        "repair": {"accepted": 2, "rejected": 2, "failed": 1},
    },
    "rejections_by_check": {"instruction_sentences": {"total": 2}, "rule_3": {"total": 1}},
    "models": {"generator": "gpt-4o-mini", "discriminator": "gpt-4o"},
}
RECIPE = {
    "corpus": {"source": "hub:code-search-net/code_search_net", "languages": ["python", "go"]},
    "filters": {"min_chars": 50, "max_chars": 800, "blacklist": None, "dedup": True},
    "embeddings": {"model": "sentence-transformers/all-roberta-large-v1", "backend": "auto"},
    "selection": {"k": 10},
    "generation": {"task_mix": None},
}


def render(**kw):
    args = dict(
        title="CodeOcean test",
        configs={"default": 6, "generation": 4, "repair": 2, "summarization": 0, "translation": 0,
                 "rejected": 3, "failed": 1},
        summary=SUMMARY,
        recipe=RECIPE,
        corpus_report={"functions_read": 1234, "dropped": {"blacklist": 7, "too_long": 100}, "kept": 1127},
        languages={"python": 7, "go": 3},
        repo_id="me/codeocean",
    )  # fmt: skip
    args.update(kw)
    return render_dataset_card(**args)


def test_front_matter_is_valid_hub_metadata_with_the_written_configs():
    card = DatasetCard(render())
    data = card.data.to_dict()
    names = [c["config_name"] for c in data["configs"]]
    assert names == ["default", "generation", "repair", "rejected", "failed"]
    assert data["configs"][0]["default"] is True
    assert data["configs"][0]["data_files"] == [{"split": "train", "path": "data/train-*.parquet"}]
    assert data["configs"][1]["data_files"][0]["path"] == "generation/train-*.parquet"
    assert data["size_categories"] == ["n<1K"]
    assert "distilabel" in data["tags"] and data["pretty_name"] == "CodeOcean test"


def test_body_reports_the_run():
    text = render()
    assert 'load_dataset("me/codeocean", "repair", split="train")' in text
    # A config without rows cannot be loaded, so the table does not offer it; a line names it.
    assert "| `summarization`" not in text and "| `repair` | 2 |" in text
    assert (
        "not declared (`datasets` cannot load an empty split):\n`summarization`, `translation`."
        in text
    )
    assert (
        "`hub:code-search-net/code_search_net` (python, go); 1,234 documented functions read"
        in text
    )
    assert "dropped: blacklist 7, too_long 100; kept 1,127" in text
    assert "exact KCenterGreedy (Euclidean), k = 10" in text
    assert "| generator | gpt-4o-mini |" in text and "| discriminator | gpt-4o |" in text
    assert "acceptance rate 66.7% of judged rows" in text
    assert "| repair | 2 | 2 | 1 |" in text
    assert "`instruction_sentences` (2), `rule_3` (1)" in text
    assert "python 7, go 3" in text
    assert "generation 57.1%, summarization 15.8%, repair 15.8%, translation 11.2%" in text


def test_written_controls_loadable_configs_and_custom_mix():
    text = render(
        configs={"default": 0, "rejected": 5},
        written=["default", "rejected"],
        recipe={**RECIPE, "generation": {"task_mix": {"repair": 1, "generation": 3}}},
    )
    data = DatasetCard(text).data.to_dict()
    assert [c["config_name"] for c in data["configs"]] == ["default", "rejected"]
    assert data["configs"][0]["default"] is True
    assert "repair 25.0%, generation 75.0%" in text
    # The examples load only configs that exist: no task config, `rejected` does.
    assert 'load_dataset("me/codeocean", "repair"' not in text
    assert 'rejected = load_dataset("me/codeocean", "rejected", split="train")' in text


def test_size_categories():
    assert [size_category(n) for n in (0, 999, 1000, 20_000, 200_000, 2_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M",
    ]  # fmt: skip


def test_card_shows_training_with_sfttrainer_on_the_prompt_completion_columns():
    text = render()
    assert 'train_dataset=load_dataset("me/codeocean", split="train"),' in text
    assert "from trl import SFTConfig, SFTTrainer" in text
    assert "- `prompt`, `completion` (accepted configs only): `messages` split into" in text
    assert "(`messages == prompt + completion`)" in text


def test_a_summary_without_row_counts_leaves_out_the_outcome_line():
    # A folder written from records (the training tests' fixture) has a partial summary.
    text = render(summary={"k": 8, "models": {"generator": "gen", "discriminator": "judge"}})
    assert "Outcome:" not in text
    assert "| generator | gen |" in text
    assert "Outcome: 10 selected snippets, 6 accepted, 3 rejected,\n1 failed" in render()
