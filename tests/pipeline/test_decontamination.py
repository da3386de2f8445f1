"""Decontamination: benchmark loading, normalisation, the exact and n-gram methods, the
orchestrator and its report, on planted copies of HumanEval and MBPP solutions and clean rows."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest
from decontamination_fixtures import (
    BENCHMARK_DIR,
    REORDERED_SORT_EVEN,
    clean_rows,
    humaneval,
    planted_rows,
)

from pipeline.decontamination.benchmarks import expand_names, load_benchmark_items
from pipeline.decontamination.config import DecontaminationConfig, validate_decontamination
from pipeline.decontamination.detect import decontaminate
from pipeline.decontamination.items import RowText
from pipeline.decontamination.ngrams import NgramIndex, PackedTexts, Vocabulary
from pipeline.decontamination.normalize import (
    code_tokens,
    code_views,
    prompt_prose,
    prose_words,
)
from wavecoder.errors import UserError

TOKEN_ONLY = DecontaminationConfig(embedding_threshold=None)
# HumanEval/0's docstring is also the docstring of HumanEvalPack's problem 0 in five languages
# (C++ says "vector"), so a verbatim copy of HumanEval/0 carries all of them.
CLOSE_ELEMENTS_ITEMS = {
    "humaneval/HumanEval/0",
    "humanevalpack-python/Python/0",
    "humanevalpack-js/JavaScript/0",
    "humanevalpack-java/Java/0",
    "humanevalpack-go/Go/0",
    "humanevalpack-rust/Rust/0",
}


@pytest.fixture(scope="module")
def items():
    loaded, skipped = load_benchmark_items(["humaneval", "mbpp", "humanevalpack"], BENCHMARK_DIR)
    assert skipped == {}
    return loaded


@pytest.fixture(scope="module")
def stdlib_row_texts(stdlib_rows):
    return [RowText(f"stdlib-{i}", {"code": row["code"]}) for i, row in enumerate(stdlib_rows)]


@pytest.fixture(scope="module")
def result(items, stdlib_row_texts):
    rows = [row for row, _, _ in planted_rows().values()] + clean_rows() + stdlib_row_texts
    return decontaminate(rows, items, TOKEN_ONLY, stage="corpus")


# --- benchmarks ---------------------------------------------------------------------------


def test_benchmark_folder_loads_every_benchmark(items):
    counts = {}
    for item in items:
        counts[item.benchmark] = counts.get(item.benchmark, 0) + 1
    assert counts == {
        "humaneval": 164, "mbpp": 4, "humanevalpack-python": 2, "humanevalpack-js": 2,
        "humanevalpack-java": 2, "humanevalpack-go": 2, "humanevalpack-cpp": 2,
        "humanevalpack-rust": 2,
    }  # fmt: skip
    by_key = {(item.benchmark, item.item): item for item in items}
    first = humaneval("HumanEval/0")
    assert by_key[("humaneval", "HumanEval/0")].solution == (
        first["prompt"] + first["canonical_solution"]
    )
    remove_occ = by_key[("mbpp", "Mbpp/11")]
    assert remove_occ.prompt.startswith("Write a python function to remove first and last")
    assert remove_occ.solution.startswith("def remove_Occ(s, ch):")
    rust = by_key[("humanevalpack-rust", "Rust/0")]
    assert rust.solution.startswith(rust.prompt)
    assert "fn has_close_elements(numbers:Vec<f32>, threshold: f32) -> bool{" in rust.solution
    js = by_key[("humanevalpack-js", "JavaScript/0")]
    assert js.solution.startswith(js.prompt) and js.language == "js"


def test_missing_benchmark_files_are_named_skips(tmp_path):
    (tmp_path / "mbpp").mkdir()
    rows = [{"task_id": 601, "text": "Write a function to add two lists.", "code": "def f(): pass"},
            {"task_id": 2, "text": "Write a function to find shared elements.", "code": "x"}]  # fmt: skip
    (tmp_path / "mbpp" / "train.jsonl").write_text(json.dumps(rows[0]) + "\n")
    (tmp_path / "mbpp" / "test.jsonl").write_text(json.dumps(rows[1]) + "\n")
    loaded, skipped = load_benchmark_items(["mbpp", "humanevalpack-go", "humaneval"], tmp_path)
    assert sorted(item.item for item in loaded if item.benchmark == "mbpp") == [
        "Mbpp/2",
        "Mbpp/601",
    ]
    assert sum(item.benchmark == "humaneval" for item in loaded) == 164
    assert list(skipped) == ["humanevalpack-go"]
    assert "humanevalpack/data/go/data/humanevalpack.jsonl" in skipped["humanevalpack-go"]


def test_unreachable_hub_is_a_skip_naming_the_folder_key():
    loaded, skipped = load_benchmark_items(["mbpp"])  # HF_HUB_OFFLINE=1 (conftest)
    assert loaded == []
    assert "google-research-datasets/mbpp" in skipped["mbpp"]
    assert "benchmark_dir" in skipped["mbpp"]


def test_bad_benchmark_names_and_folders_are_user_errors(tmp_path):
    assert expand_names(["humanevalpack", "HumanEval"])[:2] == [
        "humanevalpack-python",
        "humanevalpack-js",
    ]
    assert expand_names(["humanevalpack", "HumanEval"])[-1] == "humaneval"
    with pytest.raises(UserError, match=r"unknown benchmark 'apps'.*humanevalpack-rust"):
        expand_names(["apps"])
    with pytest.raises(UserError, match="does not exist"):
        load_benchmark_items(["humaneval"], tmp_path / "nowhere")


# --- normalisation ------------------------------------------------------------------------


def test_code_tokens_drop_comments_docstrings_and_imports():
    python = 'import os\n\ndef f(a):\n    """Doc."""\n    x = a // 2  # half\n    return "#"\n'
    assert code_tokens(python) == ["def", "f", "(", "a", ")", ":", "x", "=", "a", "//", "2",
                                   "return", '"#"']  # fmt: skip
    c = "#include<vector>\nint f(int a) {\n  // half\n  return a / 2; /* done */\n}\n"
    assert code_tokens(c) == ["int", "f", "(", "int", "a", ")", "{", "return", "a", "/", "2",
                              ";", "}"]  # fmt: skip


def test_canonical_tokens_rename_identifiers_but_keep_builtins_and_attributes():
    tokens, canonical = code_views("def f(char):\n    return len(char.strip())\n")
    assert canonical == ["def", "ID", "(", "ID", ")", ":", "return", "len", "(", "ID", ".",
                         "strip", "(", ")", ")"]  # fmt: skip
    assert tokens[1] == "f"
    _, go = code_views("func F(a int) int {\n\treturn len(a)\n}\n")
    assert go[:6] == ["func", "ID", "(", "ID", "int", ")"]


def test_prompt_prose_cuts_examples():
    prose = prompt_prose(humaneval("HumanEval/0")["prompt"])
    assert prose_words(prose) == (
        [
            "check",
            "if",
            "in",
            "given",
            "list",
            "of",
            "numbers",
            "are",
            "any",
            "two",
            "numbers",
            "closer",
            "to",
            "each",
            "other",
            "than",
            "given",
            "threshold",
        ]
    )
    assert prompt_prose("Write a function to add two numbers.") == (
        "Write a function to add two numbers."
    )


# --- n-gram index -------------------------------------------------------------------------


def test_ngram_index_shares_equal_pairwise_set_shares():
    rng = random.Random(7)
    alphabet = [f"t{i}" for i in range(12)]
    texts = [[rng.choice(alphabet) for _ in range(rng.randint(3, 30))] for _ in range(40)]
    rows = [[rng.choice([*alphabet, "unknown"]) for _ in range(rng.randint(0, 60))]
            for _ in range(120)]  # fmt: skip
    rows += [texts[5] + ["unknown"] + texts[9], texts[3][::-1]]
    vocabulary = Vocabulary()
    for text in texts:
        vocabulary.add(text)
    n = 4
    index = NgramIndex([vocabulary.encode(t) for t in texts], vocabulary, n)
    packed = PackedTexts([vocabulary.encode(r) for r in rows], vocabulary)
    overlap = index.overlap(packed, 0.3)
    found = {(r, t): s for r, t, s in zip(overlap.rows, overlap.texts, overlap.shares, strict=True)}
    expected = {}
    for r, row in enumerate(rows):
        grams = {tuple(row[i : i + n]) for i in range(len(row) - n + 1)}
        for t, text in enumerate(texts):
            mine = {tuple(text[i : i + n]) for i in range(len(text) - n + 1)}
            if mine and len(mine & grams) / len(mine) >= 0.3:
                expected[(r, t)] = len(mine & grams) / len(mine)
    assert set(found) == set(expected)
    assert all(found[key] == pytest.approx(value) for key, value in expected.items())
    assert found[(len(rows) - 2, 5)] == 1.0 and found[(len(rows) - 2, 9)] == 1.0
    assert 0 < len(found) < len(rows) * len(texts)


# --- planted rows -------------------------------------------------------------------------


def _caught(result, row_id: str) -> dict[str, set[str]]:
    caught: dict[str, set[str]] = {}
    for flag in result.flags.get(row_id, []):
        caught.setdefault(flag.method, set()).add(f"{flag.benchmark}/{flag.item}")
    return caught


@pytest.mark.parametrize("row_id", list(planted_rows()))
def test_planted_copies_are_flagged_by_their_methods_with_their_item(result, row_id):
    _, item, methods = planted_rows()[row_id]
    expected_items = CLOSE_ELEMENTS_ITEMS if row_id == "he-verbatim" else {item}
    assert _caught(result, row_id) == dict.fromkeys(methods, expected_items)


def test_clean_rows_are_kept(result, stdlib_row_texts):
    clean_ids = [row.id for row in clean_rows()] + [row.id for row in stdlib_row_texts]
    assert [row_id for row_id in clean_ids if row_id in result.flags] == []
    assert set(result.flags) == set(planted_rows())


def test_flags_name_the_field_and_score(result):
    by_method = {(f.method, f.field): f.score for f in result.flags["gen-mbpp-prompt"]}
    assert by_method[("exact", "instruction")] == 1.0
    assert by_method[("ngram", "instruction")] == 1.0
    renamed = result.flags["he-renamed"]
    assert [(f.method, f.item, f.field, f.score) for f in renamed] == [
        ("ngram", "HumanEval/9", "code", 1.0)
    ]
    reordered = result.flags["he-reordered"][0]
    assert 0.5 <= reordered.score < 0.7  # statements moved: some n-grams lost, most kept


def test_report_counts_rows_per_method_and_benchmark(result, stdlib_row_texts):
    report = result.report
    assert report["checked"] == len(planted_rows()) + len(clean_rows()) + len(stdlib_row_texts)
    assert report["flagged_rows"] == len(planted_rows())
    assert report["by_method"]["exact"] == {
        "humaneval": 2, "humanevalpack-go": 1, "humanevalpack-java": 1, "humanevalpack-js": 1,
        "humanevalpack-python": 1, "humanevalpack-rust": 1, "mbpp": 2,
    }  # fmt: skip
    assert report["by_method"]["ngram"]["humaneval"] == 4
    assert report["by_method"]["ngram"]["mbpp"] == 3
    assert report["by_method"]["embedding"] == {}
    # n=8 also flags two clean generated rows (gen-rectangle, gen-summary): why 10 is the default.
    assert report["sweep"] == {"8": 9, "10": 7, "13": 7}
    assert report["skipped_methods"] == {
        "embedding": "decontamination.embedding_threshold is null",
        "nearest_k": "decontamination.nearest_k is null",
        "judge": "decontamination.judge is false (off by default)",
    }
    assert report["index"]["exact_needles"] > 300 and report["index"]["exact_skipped"] >= 1


def test_each_method_flags_some_rows_but_not_all(result):
    checked = result.report["checked"]
    for method in ("exact", "ngram"):
        flagged = {f.row_id for flags in result.flags.values() for f in flags if f.method == method}
        assert 0 < len(flagged) < checked / 10, method


def test_eight_grams_flag_clean_rows_ten_grams_keep(items):
    rows = clean_rows()
    eight = decontaminate(rows, items, replace(TOKEN_ONLY, ngram_size=8), stage="generated")
    assert {row_id: sorted(f.item for f in flags) for row_id, flags in eight.flags.items()} == {
        "gen-rectangle": ["Mbpp/17"],  # "write a function to find the perimeter of a ..."
        "gen-summary": ["HumanEval/138"],  # "return n % 2 == 0 ..."
    }
    assert decontaminate(rows, items, TOKEN_ONLY, stage="generated").flags == {}


def test_threshold_and_n_decide_the_reordered_copy(items):
    row = [RowText("reordered", {"code": REORDERED_SORT_EVEN})]
    strict = decontaminate(row, items, replace(TOKEN_ONLY, ngram_threshold=0.7), stage="corpus")
    assert strict.flags == {}
    assert strict.report["sweep"] == {"8": 0, "10": 0, "13": 0}
    default = decontaminate(row, items, TOKEN_ONLY, stage="corpus")
    assert [f.item for f in default.flags["reordered"]] == ["HumanEval/37"]


def _exact_items(result) -> dict[str, set[str]]:
    return {
        row_id: {f.item for f in flags if f.method == "exact"}
        for row_id, flags in result.flags.items()
        if any(f.method == "exact" for f in flags)
    }


def test_allow_list_and_minimum_length_spare_trivial_solutions(items):
    add = humaneval("HumanEval/53")  # "return x + y", on bigcode's allow-list
    triangle = humaneval("HumanEval/45")  # "return a * h / 2.0", 18 characters
    rows = [
        RowText("add", {"code": "def plus(x, y):" + add["canonical_solution"]}),
        RowText("triangle", {"code": "def area(a, h):" + triangle["canonical_solution"]}),
    ]
    assert _exact_items(decontaminate(rows, items, TOKEN_ONLY, stage="corpus")) == {}
    loose = decontaminate(rows, items, replace(TOKEN_ONLY, min_exact_chars=1), stage="corpus")
    assert _exact_items(loose) == {"triangle": {"HumanEval/45"}}
    # Renamed, the whole one-line function is still HumanEval/45's: n-grams flag it.
    assert [(f.method, f.item) for f in loose.flags["triangle"] if f.method == "ngram"] == [
        ("ngram", "HumanEval/45")
    ]


# --- embedding methods through the orchestrator --------------------------------------------


def word_vectors(texts: list[str]) -> np.ndarray:
    """Hashed bag-of-words vectors (L2-normalised): a deterministic embedder for the wiring."""
    vectors = np.zeros((len(texts), 512), np.float32)
    for row, text in enumerate(texts):
        for word in prose_words(text):
            vectors[row, sum(map(ord, word)) * 31 % 512] += 1.0
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def test_embedding_and_nearest_k_compare_the_right_fields(items):
    close = humaneval("HumanEval/0")
    rows = [
        RowText("prompt-copy", {"instruction": prompt_prose(close["prompt"]), "output": "pass"}),
        RowText("clean", {"instruction": "Reverse a string.", "output": "return s[::-1]"}),
    ]
    config = replace(DecontaminationConfig(), embedding_threshold=0.99, nearest_k=1, judge=True)
    found = decontaminate(rows, items, config, embed=word_vectors, stage="generated")
    embedding = [(f.item, f.field) for f in found.flags["prompt-copy"] if f.method == "embedding"]
    assert ("HumanEval/0", "instruction") in embedding
    assert all(field == "instruction" for _, field in embedding)
    nearest = [f for flags in found.flags.values() for f in flags if f.method == "nearest_k"]
    assert len(nearest) == len(items) and {f.field for f in nearest} == {""}
    assert found.report["skipped_methods"]["judge"] == "no LLM endpoint was given for the judge"
    assert "clean" not in found.flags or all(f.method == "nearest_k" for f in found.flags["clean"])


def test_without_embedder_embedding_methods_are_named_skips(items):
    config = replace(DecontaminationConfig(), nearest_k=3)
    found = decontaminate([RowText("r", {"code": "x = 1"})], items, config, stage="corpus")
    assert found.report["skipped_methods"]["embedding"] == "no embedder was given"
    assert found.report["skipped_methods"]["nearest_k"] == "no embedder was given"


def test_disabled_or_no_items_checks_nothing(items):
    row = [RowText("copy", {"code": humaneval("HumanEval/0")["canonical_solution"]})]
    off = decontaminate(row, items, replace(TOKEN_ONLY, enabled=False), stage="corpus")
    assert off.flags == {} and set(off.report["skipped_methods"]) == {
        "exact", "ngram", "embedding", "judge", "nearest_k",
    }  # fmt: skip
    none = decontaminate(row, [], TOKEN_ONLY, stage="corpus")
    assert none.report["skipped_methods"]["ngram"] == "no benchmark item could be loaded"
    blank = [RowText("blank", {"code": "", "input": "  "}), RowText("empty", {})]
    empty = decontaminate(blank, items, TOKEN_ONLY, stage="generated")
    assert empty.flags == {} and empty.report["checked"] == 2
    assert empty.report["sweep"] == {"8": 0, "10": 0, "13": 0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ngram_threshold": 0}, "ngram_threshold must be in"),
        ({"sweep": [8, 1]}, r"sweep\[1\] must be an integer from 2"),
        ({"nearest_k": 0}, "nearest_k must be an integer >= 1"),
        ({"benchmarks": ["humaneval", "apps"]}, "unknown benchmark 'apps'"),
        ({"embedding_threshold": 1.5}, "embedding_threshold must be in"),
        ({"min_exact_chars": 0}, "min_exact_chars must be an integer >= 1"),
    ],
)
def test_bad_settings_are_user_errors(change, message):
    with pytest.raises(UserError, match=message):
        validate_decontamination(replace(DecontaminationConfig(), **change))
