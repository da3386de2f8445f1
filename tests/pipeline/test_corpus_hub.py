"""Hugging Face datasets as corpora: CodeSearchNet's columns, a column mapping, clear errors
(local dataset folders stand in for the Hub)."""

from __future__ import annotations

import json

import pytest

from pipeline.corpus import CorpusReport, iter_corpus
from wavecoder.errors import UserError


def csn_record(code: str, lang: str, name: str) -> dict:
    return {
        "repository_name": "octo/repo",
        "func_path_in_repository": f"src/{name}.{lang}",
        "func_name": name,
        "whole_func_string": code,
        "language": lang,
        "func_code_string": code,
        "func_code_tokens": [],
        "func_documentation_string": f"Doc of {name}.",
        "func_documentation_tokens": [],
        "split_name": "train",
        "func_code_url": f"https://github.com/octo/repo/blob/main/src/{name}",
    }


def test_hub_dataset_with_codesearchnet_columns(tmp_path):
    """A dataset folder in CodeSearchNet's schema, read through the same `datasets` path as the Hub."""
    folder = tmp_path / "csn"
    folder.mkdir()
    records = [csn_record("def f():\n    '''Doc of f.'''\n    return 1\n", "python", "f")]
    records.append(csn_record("func G() int {\n\treturn 2\n}\n", "go", "G"))
    records.append(csn_record("", "go", "empty"))
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = CorpusReport()
    rows = list(iter_corpus(f"hub:{folder}", report))
    assert [r["source"]["func_name"] for r in rows] == ["f", "G"]
    assert rows[0]["code"].startswith("def f():")
    assert rows[0]["docstring"] == "Doc of f."
    assert rows[1]["language"] == "go"
    assert rows[1]["source"]["repo"] == "octo/repo"
    assert rows[1]["source"]["url"].endswith("/src/G")
    assert report.rows_skipped["missing_code"] == 1
    go_only = list(iter_corpus(f"hub:{folder}", CorpusReport(), languages=["go"]))
    assert [r["source"]["func_name"] for r in go_only] == ["G"]


def test_hub_dataset_with_column_mapping(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    records = [{"content": "fn main() { println!(\"hi\"); }", "lang": "Rust", "repo_name": "a/b",
                "licenses": ["MIT", "Apache-2.0"]}]  # fmt: skip
    (folder / "train.jsonl").write_text(json.dumps(records[0]) + "\n")
    rows = list(
        iter_corpus(
            f"hub:{folder}", CorpusReport(), column_mapping={"code": "content", "language": "lang"}
        )
    )
    assert rows[0]["code"].startswith("fn main()")
    assert rows[0]["language"] == "rust"
    assert rows[0]["source"]["repo"] == "a/b"
    assert rows[0]["source"]["license"] == "MIT, Apache-2.0"
    with pytest.raises(UserError, match="no column"):
        list(iter_corpus(f"hub:{folder}", CorpusReport(), column_mapping={"code": "text"}))
    with pytest.raises(UserError, match="unknown field"):
        list(iter_corpus(f"hub:{folder}", CorpusReport(), column_mapping={"body": "content"}))


def test_codesearchnet_language_names_are_checked():
    with pytest.raises(UserError, match="no language"):
        list(
            iter_corpus("hub:code-search-net/code_search_net", CorpusReport(), languages=["cobol"])
        )


# ---------------------------------------------------------------------------------------------
# Filters
