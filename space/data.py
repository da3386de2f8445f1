"""The Space's data access: one CodeOcean dataset folder (local or a Hub dataset repo), queried on
the server with pyarrow so that a page of 100K rows costs milliseconds, not a pandas copy.

A config is a folder holding `train-*.parquet` shards (`data/` is `default`; `pipeline.layout`),
so a config a later issue adds is browsed like the others. Opening reads only the shards' footers;
each config's columns are read the first time a query needs them and kept:

- the table columns (id, task, language, instruction, status, stage) and the failed rules
  (`reasons[].check`) on the first query;
- one lower-cased text column (instruction, input, output and source code joined by NUL) on the
  first search, matched as a literal with `pyarrow.compute.match_substring_regex`; built once per
  folder and kept in a memory-mapped cache file (`space.shards`), so a later view's first search
  costs the match alone;
- a whole row (every column, nested as Python objects) from its row group only.

`space.shards.Shards` holds one config's columns.

Shards are read with pyarrow, never `datasets.load_dataset(DIR)`: datasets 5.2 caches a local
folder by name and card and can hand back another folder's rows.

    view = CodeOceanView.open("out/codeocean")            # or "ORG/codeocean" on the Hub
    page = view.query(config="rejected", failed_rule="names_language", search="fibonacci")
    row = view.row(page.rows[0]["id"])
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import string
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.layout import (
    DEFAULT_CONFIG,
    README,
    SELECTION_FILE,
    SHARD_PATTERN,
    SUMMARY_FILE,
    config_folder,
)
from space.shards import SEARCH_COLUMNS, SEPARATOR, TABLE_COLUMNS, Shards  # noqa: F401
from wavecoder.errors import UserError

PREVIEW_CHARS = 120  # of the instruction, in a table row
# A search after filters that leave fewer rows than this share copies their text out and matches
# only that; above it, matching all the text is cheaper than the copy.
NARROW_SHARE = 0.25
# What a Hub snapshot needs: the card, the run summary, the selection and every config's shards.
HUB_FILES = [README, SUMMARY_FILE, SELECTION_FILE, f"*/{SHARD_PATTERN}"]
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class Page:
    """One page of a query: `rows` for a table (id, task, language, instruction preview, status,
    stage), `total` matching rows, `page` (0-based, clamped to the last) of `pages` (at least 1)."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


class CodeOceanView:
    """A CodeOcean dataset folder, browsed server-side. Build with `CodeOceanView.open`."""

    def __init__(self, folder: Path, source: str):
        self.folder = folder
        self.source = source
        self._configs = _discover(folder)
        if DEFAULT_CONFIG not in self._configs:
            raise UserError(
                f"{source} is not a CodeOcean dataset: it has no "
                f"{config_folder(DEFAULT_CONFIG)}/{SHARD_PATTERN}. Pass a folder written by "
                "`wavecoder generate --output DIR` or a Hub dataset pushed by `wavecoder push`."
            )

    @classmethod
    def open(cls, source: str, revision: str | None = None, *, warm: bool = True) -> CodeOceanView:
        """`source`: a folder written by `wavecoder generate`, or a Hub dataset repo id (only the
        card, summary, selection and shards of `revision` are downloaded). `warm`: build the
        `default` config's table and search text on a background thread now (queries that need
        them meanwhile wait for them), so that the Space's first search does not pay for it."""
        folder = Path(source).expanduser()
        if folder.exists():
            if not folder.is_dir():
                raise UserError(
                    f"{source} is a file; pass the dataset folder `wavecoder generate` wrote."
                )
            if revision is not None:
                raise UserError(
                    f"{source} is a local folder: a revision applies only to a Hub dataset id."
                )
            view = cls(folder, source)
        elif not _REPO_ID.match(source):
            raise UserError(
                f"No folder {source} here, and it is not a Hub dataset id (ORG/NAME): pass the "
                "folder `wavecoder generate` wrote or the repo `wavecoder push` pushed to."
            )
        else:
            view = cls(_download(source, revision), source)
        if warm:
            threading.Thread(target=view._warm_quietly, name="codeocean-warm", daemon=True).start()
        return view

    def warm(self, config: str = DEFAULT_CONFIG) -> None:
        """Build now what queries of `config` need: table columns, ids, failed rules, search text."""
        self._config(config).warm()

    def _warm_quietly(self) -> None:
        with contextlib.suppress(Exception):  # a query needing the same column raises it instead
            self.warm()

    @property
    def configs(self) -> list[str]:
        """Every config with a shard: `default` first, then by name."""
        return list(self._configs)

    def num_rows(self, config: str = DEFAULT_CONFIG) -> int:
        """Rows of `config`, from the shards' footers (nothing read)."""
        return self._config(config).num_rows

    @cached_property
    def summary(self) -> dict[str, Any]:
        """summary.json of the run, or {} when the folder has none."""
        path = self.folder / SUMMARY_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    @cached_property
    def selection(self) -> pa.Table | None:
        """selection.parquet (the KCenterGreedy picks), or None when the folder has none."""
        path = self.folder / SELECTION_FILE
        return pq.read_table(path) if path.is_file() else None

    def query(
        self,
        *,
        config: str = DEFAULT_CONFIG,
        task: str | None = None,
        language: str | None = None,
        failed_rule: str | None = None,
        search: str = "",
        page: int = 0,
        page_size: int = 20,
    ) -> Page:
        """The rows of `config` matching every filter given, in the shards' order (selection
        order). `search`: case-insensitive substring of instruction, input, output or source code;
        a page past the end gives the last page."""
        if page_size < 1:
            raise UserError(f"page_size must be at least 1, not {page_size}.")
        data = self._config(config)
        table = data.table
        mask = None
        for column, value in (("task", task), ("language", language)):
            if value:
                mask = _and(mask, pc.equal(table.column(column), value))
        if failed_rule:
            failing = np.zeros(table.num_rows, dtype=bool)
            failing[data.rows_failing(failed_rule).to_numpy()] = True
            mask = _and(mask, pa.array(failing))
        mask = None if mask is None else pc.fill_null(mask, False)
        indices = pa.array(np.arange(table.num_rows)) if mask is None else pc.indices_nonzero(mask)
        needle = search.replace(SEPARATOR, "").strip()
        if needle:
            pattern = _literal(pc.utf8_lower(pa.scalar(needle, pa.string())).as_py())
            if mask is not None and len(indices) < NARROW_SHARE * table.num_rows:
                indices = indices.filter(pc.match_substring_regex(data.text.filter(mask), pattern))
            else:
                hits = pc.match_substring_regex(data.text, pattern)
                indices = pc.indices_nonzero(hits if mask is None else pc.and_(mask, hits))
        total = len(indices)
        pages = max(1, math.ceil(total / page_size))
        page = min(max(page, 0), pages - 1)
        chosen = indices.slice(page * page_size, page_size)
        rows = table.take(chosen).to_pylist()
        for row in rows:
            row["instruction"] = _preview(row["instruction"])
        return Page(rows=rows, total=total, page=page, pages=pages)

    def locate(self, row_id: str) -> str | None:
        """The first config (in `configs` order, so `default` first) holding `row_id`."""
        for name in self._configs:
            if pc.index(self._configs[name].ids, row_id).as_py() >= 0:
                return name
        return None

    def row(self, row_id: str, config: str | None = None) -> dict[str, Any] | None:
        """Every column of row `row_id` (nested as Python objects) from `config`, or from the first
        config holding it; None when no config does."""
        name = self.locate(row_id) if config is None else config
        if name is None:
            return None
        data = self._config(name)
        index = pc.index(data.ids, row_id).as_py()
        return None if index < 0 else data.full_row(index)

    def facets(self, config: str = DEFAULT_CONFIG) -> dict[str, list[tuple[str, int]]]:
        """Per filter (task, language, failed_rule): (value, rows) pairs sorted by value; a rule
        counts each row once, and null values are left out."""
        data = self._config(config)
        parents, checks = data.rules
        pairs = pa.table({"row": parents, "check": checks}).group_by(["row", "check"]).aggregate([])
        return {
            "task": _counts(data.table.column("task")),
            "language": _counts(data.table.column("language")),
            "failed_rule": _counts(pairs.column("check")),
        }

    def _config(self, config: str) -> Shards:
        if config not in self._configs:
            raise UserError(
                f"{self.source} has no config {config!r}; its configs: {', '.join(self._configs)}."
            )
        return self._configs[config]


def _discover(folder: Path) -> dict[str, Shards]:
    """Every sub-folder holding shards is a config (`data` is `default`), `default` first."""
    found = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        shards = sorted(sub.glob(SHARD_PATTERN))
        if shards:
            name = DEFAULT_CONFIG if sub.name == config_folder(DEFAULT_CONFIG) else sub.name
            found[name] = Shards(name, shards)
    return dict(sorted(found.items(), key=lambda item: (item[0] != DEFAULT_CONFIG, item[0])))


def _download(repo_id: str, revision: str | None) -> Path:
    """The snapshot of the files the Space reads, from the Hub or the local Hub cache."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    fixes = {
        RevisionNotFoundError: f"it has no revision {revision!r}: pass a branch, tag or commit "
        "it has, or none for main",
        GatedRepoError: "it is gated: accept its conditions on the Hub and set HF_TOKEN",
        RepositoryNotFoundError: f"there is no such dataset, and no folder {repo_id} here (if it "
        "is private, set HF_TOKEN to a token that can read it)",
        LocalEntryNotFoundError: "the Hub is unreachable or HF_HUB_OFFLINE is set, and it is not "
        "in the local Hub cache: connect (unset HF_HUB_OFFLINE) or pass a local folder written "
        "by `wavecoder generate`",
    }
    try:
        path = snapshot_download(
            repo_id, repo_type="dataset", revision=revision, allow_patterns=HUB_FILES
        )
    except (HFValidationError, HfHubHTTPError, LocalEntryNotFoundError) as exc:
        fix = next((text for kind, text in fixes.items() if isinstance(exc, kind)), str(exc))
        raise UserError(f"Cannot download the Hub dataset {repo_id}: {fix}.") from exc
    return Path(path)


def _and(mask: pa.ChunkedArray | pa.Array | None, other) -> pa.ChunkedArray | pa.Array:
    return other if mask is None else pc.and_kleene(mask, other)


def _counts(values: pa.ChunkedArray | pa.Array) -> list[tuple[str, int]]:
    counted = pc.value_counts(values).to_pylist()
    return sorted((c["values"], c["counts"]) for c in counted if c["values"] is not None)


def _literal(text: str) -> str:
    """`text` as an RE2 pattern matching itself: RE2 finds a literal with memchr, about 10x
    faster than `match_substring`'s byte-by-byte search."""
    return "".join("\\" + c if c in string.punctuation else c for c in text)


def _preview(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
