"""The search-text cache of `space.shards`: the lower-cased text is built once per folder and
mapped from an Arrow file by every later view; a rewritten folder, a broken file or an unwritable
cache never gives a wrong answer."""

from __future__ import annotations

import os
import shutil

import pyarrow as pa
import pytest
from data_fixtures import records, write_folder

from pipeline.generation.writer import write_dataset_folder
from space.data import CodeOceanView
from space.shards import CACHE_ENV, Shards, text_cache_path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "space-search"


def search_ids(folder, word: str, config: str = "default") -> list[str]:
    view = CodeOceanView.open(str(folder), warm=False)
    return [row["id"] for row in view.query(config=config, search=word).rows]


def never_built(monkeypatch) -> None:
    def fail(self):
        raise AssertionError(f"the text of {self.name} was built again")

    monkeypatch.setattr(Shards, "_build_text", fail)


def test_text_is_built_once_then_mapped_from_the_cache(tmp_path, cache, monkeypatch):
    folder = write_folder(tmp_path / "codeocean")
    assert search_ids(folder, "zebra") == ["a-gen-py"]
    files = sorted((folder / "data").glob("train-*.parquet"))
    path = text_cache_path(files)
    assert path.parent == cache and path.is_file()
    assert [p.name for p in cache.iterdir()] == [path.name]  # no partial file left
    mapped = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    assert mapped.num_rows == 5 and "zebra counter" in mapped.column("text")[0].as_py()
    never_built(monkeypatch)
    assert search_ids(folder, "ZEBRA") == ["a-gen-py"]  # a new view: from the file
    assert search_ids(folder, "narwhal") == ["a-rep-js"]
    monkeypatch.undo()
    monkeypatch.setenv(CACHE_ENV, str(cache.parent))
    assert search_ids(folder, "zebra", "rejected") == ["r-gen-py"]  # its own text, built once
    assert len(list(cache.iterdir())) == 2


def test_a_rewritten_folder_never_reads_the_old_text(tmp_path, cache):
    folder = write_folder(tmp_path / "codeocean")
    assert search_ids(folder, "zebra") == ["a-gen-py"]
    rows = records()
    rows[0]["instruction"] = "Write a walrus counter."  # the Zebra row no longer says zebra
    shutil.rmtree(folder)
    write_dataset_folder(rows, folder, tasks=["generation", "summarization", "repair",
                                              "translation"])  # fmt: skip
    assert search_ids(folder, "zebra") == []
    assert search_ids(folder, "walrus") == ["a-gen-py"]


def test_a_broken_cache_file_is_rebuilt(tmp_path, cache):
    folder = write_folder(tmp_path / "codeocean")
    search_ids(folder, "zebra")
    path = next(cache.iterdir())
    path.write_bytes(b"not an arrow file")
    assert search_ids(folder, "zebra") == ["a-gen-py"]
    assert pa.ipc.open_file(pa.memory_map(str(path))).read_all().num_rows == 5


def test_an_unwritable_cache_only_costs_a_rebuild(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be made under a file")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    folder = write_folder(tmp_path / "codeocean")
    assert search_ids(folder, "quokka") == ["a-sum-py"]
    assert search_ids(folder, "axolotl") == ["a-tra-go"]
    assert not os.path.isdir(blocker)
