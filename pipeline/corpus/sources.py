"""One entry point over every corpus source."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pipeline.corpus.hub import iter_hub_dataset
from pipeline.corpus.report import CorpusReport
from pipeline.corpus.source_tree import STDLIB_SKIP_DIRS, iter_source_tree, stdlib_root
from wavecoder.errors import UserError

__all__ = ["iter_corpus", "stdlib_root"]


def iter_corpus(
    source: str,
    report: CorpusReport,
    *,
    languages: list[str] | None = None,
    split: str = "train",
    limit: int | None = None,
    column_mapping: dict[str, str] | None = None,
) -> Iterator[dict]:
    """Yield corpus rows from ``source``: ``stdlib``, a folder path, or ``hub:<dataset id>``.

    ``limit`` bounds the rows produced (before filtering).
    """
    if source == "stdlib":
        version = ".".join(map(str, sys.version_info[:3]))
        rows = iter_source_tree(
            stdlib_root(),
            report,
            languages=languages or ["python"],
            dataset="python-stdlib",
            repo="python/cpython",
            license="PSF-2.0",
            skip_dirs=STDLIB_SKIP_DIRS,
            url_prefix=f"https://github.com/python/cpython/blob/v{version}/Lib",
        )
    elif source.startswith("hub:"):
        dataset_id = hub_dataset_id(source)
        rows = iter_hub_dataset(
            dataset_id, report, languages=languages, split=split, column_mapping=column_mapping
        )
    else:
        rows = iter_source_tree(corpus_folder(source), report, languages=languages)
    return itertools.islice(rows, limit) if limit is not None else rows


def hub_dataset_id(source: str) -> str:
    """The dataset id of a ``hub:<dataset id>`` source; UserError when it is empty."""
    dataset_id = source.removeprefix("hub:").strip()
    if not dataset_id:
        raise UserError(
            "corpus `hub:` needs a dataset id, e.g. hub:code-search-net/code_search_net"
        )
    return dataset_id


def corpus_folder(source: str) -> Path:
    """The folder of a local source; UserError naming the fix when it is not a readable one."""
    folder = Path(source).expanduser()
    if not folder.exists():
        raise UserError(
            f"corpus {source!r} is neither `stdlib`, `hub:<dataset id>`, nor an existing folder"
        )
    if not folder.is_dir():
        raise UserError(f"corpus {source!r} is a file; give the folder that holds the source tree")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise UserError(f"corpus folder {source!r} cannot be read (permission denied)")
    return folder
