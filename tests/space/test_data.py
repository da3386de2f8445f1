"""`space.data.CodeOceanView` on folders written by our own writer: configs, every filter and
their combinations, full-text search in each field, paging, row lookup and the errors a user can
cause. The Hub path: tests/space/test_data_hub.py; the search-text cache: test_text_cache.py."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from data_fixtures import ACCEPTED_IDS, SUMMARY, TASKS, records, write_folder

import space.data
from pipeline.generation.writer import features, write_dataset_folder
from space.data import CodeOceanView
from wavecoder.errors import UserError


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_folder(tmp_path_factory.mktemp("codeocean"))


@pytest.fixture(scope="module")
def view(folder) -> CodeOceanView:
    return CodeOceanView.open(str(folder))


def ids(page) -> list[str]:
    return [row["id"] for row in page.rows]


def test_configs_default_first_then_by_name(view, folder):
    assert view.configs == [
        "default", "failed", "generation", "rejected", "repair", "summarization", "translation",
    ]  # fmt: skip
    assert view.source == str(folder)
    assert view.summary == SUMMARY
    assert view.selection is None
    assert view.num_rows("rejected") == 3


def test_unfiltered_pages_are_in_selection_order_with_table_columns(view):
    page = view.query()
    assert ids(page) == ACCEPTED_IDS
    assert (page.total, page.page, page.pages) == (5, 0, 1)
    assert page.rows[0] == {"id": "a-gen-py", "task": "generation", "language": "python",
                            "instruction": "Write a Zebra counter.", "status": "accepted",
                            "stage": None}  # fmt: skip
    rejected = view.query(config="rejected")
    assert ids(rejected) == ["r-gen-py", "r-rep-js", "r-sum-go"]
    assert [(r["status"], r["stage"]) for r in rejected.rows] == [
        ("rejected", "judgement"), ("rejected", "judgement"), ("rejected", "postfilter"),
    ]  # fmt: skip
    failed = view.query(config="failed")
    assert ids(failed) == ["f-tra-py", "f-gen-go"]
    assert failed.rows[0]["instruction"] == "" and failed.rows[0]["status"] == "failed"
    assert ids(view.query(config="repair")) == ["a-rep-js"]


def test_filters_by_task_language_and_rule_alone_and_combined(view):
    assert ids(view.query(task="generation")) == ["a-gen-py", "a-gen-go"]
    assert ids(view.query(language="go")) == ["a-gen-go", "a-tra-go"]
    assert ids(view.query(task="generation", language="go")) == ["a-gen-go"]
    assert ids(view.query(task="repair", language="go")) == []
    assert ids(view.query(config="rejected", failed_rule="names_language")) == [
        "r-gen-py", "r-rep-js",
    ]  # fmt: skip
    assert ids(view.query(config="rejected", failed_rule="solution_is_code")) == ["r-rep-js"]
    assert ids(
        view.query(config="rejected", failed_rule="names_language", language="javascript")
    ) == ["r-rep-js"]
    assert (
        ids(view.query(config="rejected", failed_rule="names_language", task="summarization")) == []
    )
    assert ids(view.query(config="failed", failed_rule="llm_error")) == ["f-tra-py"]
    assert ids(view.query(failed_rule="names_language")) == []  # accepted rows failed no rule
    assert ids(view.query(config="rejected", failed_rule="no_such_rule")) == []


@pytest.mark.parametrize(
    ("config", "search", "expected"),
    [
        ("default", "zebra", ["a-gen-py"]),  # instruction
        ("default", "QUOKKA_SQ", ["a-sum-py"]),  # input
        ("default", "narwhal", ["a-rep-js"]),  # output
        ("default", "axolotl", ["a-tra-go"]),  # source code
        ("default", "  Return X  ", ["a-sum-py", "a-rep-js", "a-tra-go"]),  # several fields
        ("rejected", "ZEBRA", ["r-gen-py"]),
        ("failed", "def f()", ["f-tra-py"]),  # a row with no instruction, input or output
        ("default", "no such text", []),
    ],
)
def test_search_is_case_insensitive_over_the_four_text_fields(view, config, search, expected):
    page = view.query(config=config, search=search)
    assert ids(page) == expected
    assert page.total == len(expected)


@pytest.mark.parametrize("narrow", [0.0, 1.1])  # match all the text, or the candidates' only
def test_search_combines_with_filters_and_spans_no_two_fields(view, monkeypatch, narrow):
    monkeypatch.setattr(space.data, "NARROW_SHARE", narrow)
    assert ids(view.query(search="x", task="summarization")) == ["a-sum-py"]
    assert ids(view.query(search="AXOLOTL", task="translation", language="go")) == ["a-tra-go"]
    assert ids(view.query(search="axolotl", task="repair")) == []
    assert ids(view.query(search="x", language="go")) == ["a-tra-go"]
    assert ids(view.query(config="rejected", search="zebra", failed_rule="solution_is_code")) == []
    # the end of the instruction and the start of the (empty) input are not one text
    assert ids(view.query(search="counter.def")) == []


def test_paging_totals_and_clamping(view):
    pages = [view.query(page=n, page_size=2) for n in range(3)]
    assert [ids(p) for p in pages] == [ACCEPTED_IDS[:2], ACCEPTED_IDS[2:4], ACCEPTED_IDS[4:]]
    assert {(p.total, p.pages) for p in pages} == {(5, 3)}
    past = view.query(page=99, page_size=2)
    assert (ids(past), past.page, past.pages) == (["a-tra-go"], 2, 3)
    assert view.query(page=-3, page_size=2).page == 0
    empty = view.query(search="no such text", page=4)
    assert (empty.rows, empty.total, empty.page, empty.pages) == ([], 0, 0, 1)
    assert ids(view.query(language="go", page=1, page_size=1)) == ["a-tra-go"]
    with pytest.raises(UserError, match="page_size must be at least 1"):
        view.query(page_size=0)


def test_instruction_preview_is_cut_to_120_characters(tmp_path):
    long = records()[:1]
    long[0]["instruction"] = "Write   a\nfunction " + "x" * 300
    write_dataset_folder(long, tmp_path, tasks=TASKS)
    preview = CodeOceanView.open(str(tmp_path)).query().rows[0]["instruction"]
    assert preview == ("Write a function " + "x" * 300)[:119] + "…"
    assert len(preview) == 120


def test_row_lookup_finds_full_rows_in_any_config_default_first(view):
    by_id = {r["id"]: r for r in records()}
    accepted = view.row("a-rep-js")
    assert accepted["output"] == "return xs[xs.length - 1]; // Narwhal"
    assert accepted["completion"] == [{"role": "assistant", "content": accepted["output"]}]
    assert accepted["source"]["path"] == "3.src"
    assert accepted["usage"] == by_id["a-rep-js"]["usage"]
    assert "status" not in accepted
    assert view.locate("a-rep-js") == "default"
    rejected = view.row("r-rep-js")
    assert rejected["reasons"] == [
        {"check": "names_language", "message": "names_language failed"},
        {"check": "solution_is_code", "message": "solution_is_code failed"},
    ]
    assert (rejected["status"], rejected["selection_rank"]) == ("rejected", 6)
    assert "prompt" not in rejected
    assert view.locate("f-gen-go") == "failed"
    assert view.row("a-rep-js", config="repair")["id"] == "a-rep-js"
    assert view.row("a-rep-js", config="rejected") is None
    assert view.row("no-such-row") is None and view.locate("no-such-row") is None


def test_facets_count_rows_per_value(view):
    assert view.facets() == {
        "task": [("generation", 2), ("repair", 1), ("summarization", 1), ("translation", 1)],
        "language": [("go", 2), ("javascript", 1), ("python", 2)],
        "failed_rule": [],
    }
    assert view.facets("rejected")["failed_rule"] == [
        ("names_language", 2), ("one_or_two_sentences", 1), ("solution_is_code", 1),
    ]  # fmt: skip
    assert view.facets("failed")["failed_rule"] == [("internal_error", 1), ("llm_error", 1)]


def test_a_config_a_later_issue_adds_is_discovered_and_queried(tmp_path):
    write_folder(tmp_path)
    extra = [{**r, "id": f"c-{r['id']}", "status": "contaminated", "stage": "decontamination",
              "reasons": [{"check": "humaneval_overlap", "message": "13-gram overlap"}]}
             for r in records()[:2]]  # fmt: skip
    schema = features(["dataset", "repo", "path", "url", "func_name", "license"], True).arrow_schema
    (tmp_path / "contaminated").mkdir()
    table = pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in extra], schema)
    pq.write_table(table, tmp_path / "contaminated" / "train-00000-of-00001.parquet")
    view = CodeOceanView.open(str(tmp_path))
    assert "contaminated" in view.configs and view.configs[0] == "default"
    page = view.query(config="contaminated", failed_rule="humaneval_overlap", search="zebra")
    assert ids(page) == ["c-a-gen-py"]
    assert page.rows[0]["status"] == "contaminated"
    assert view.locate("c-a-gen-go") == "contaminated"
    assert view.row("c-a-gen-go")["stage"] == "decontamination"


def test_several_shards_and_row_groups_read_as_one_config_and_the_selection(tmp_path):
    write_folder(tmp_path)
    pq.write_table(pa.table({"id": ["a", "b"]}), tmp_path / "selection.parquet")
    shard = tmp_path / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(shard)
    shard.unlink()
    for n, part in enumerate((table.slice(0, 3), table.slice(3))):
        path = tmp_path / "data" / f"train-0000{n}-of-00002.parquet"
        pq.write_table(part, path, row_group_size=2)
    view = CodeOceanView.open(str(tmp_path))
    assert pq.ParquetFile(tmp_path / "data" / "train-00000-of-00002.parquet").num_row_groups == 2
    assert ids(view.query()) == ACCEPTED_IDS
    assert ids(view.query(search="axolotl")) == ["a-tra-go"]
    for row_id in ACCEPTED_IDS:
        assert view.row(row_id)["id"] == row_id
    assert view.selection.column("id").to_pylist() == ["a", "b"]


def test_user_errors_name_the_fix(view, tmp_path):
    with pytest.raises(UserError, match="no config 'accepted'; its configs: default, failed"):
        view.query(config="accepted")
    with pytest.raises(UserError, match="no config"):
        view.facets("nope")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    with pytest.raises(UserError, match=r"not a CodeOcean dataset: it has no data/train-\*"):
        CodeOceanView.open(str(tmp_path))
    with pytest.raises(UserError, match="is a file"):
        CodeOceanView.open(str(tmp_path / "notes" / "a.txt"))
    with pytest.raises(UserError, match="not a Hub dataset id"):
        CodeOceanView.open(str(tmp_path / "missing"))
    with pytest.raises(UserError, match="a revision applies only to a Hub dataset"):
        CodeOceanView.open(str(tmp_path), revision="main")
