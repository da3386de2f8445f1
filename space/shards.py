"""One config of a CodeOcean folder: its `train-*.parquet` shards and the columns the Space's
queries need, each read on first use and kept (`space.data.CodeOceanView` holds one per config).

- `ids`, and `table`: the table columns (id, task, language, instruction, status, stage);
- `rules`: (row, failed check) for every reason of every row;
- `text`: instruction, input, output and source code, lower-cased and joined by NUL, per row. It
  is the one slow build (the four text columns decoded, ~200 MB for 100K rows: 1-2 s on two
  cores), so it is kept on disk as an uncompressed Arrow file in the search-text cache
  (`$WAVECODER_CACHE/space-search`, default `~/.cache/wavecoder/space-search`), named by the
  shards' paths, sizes and modification times. A view opened later maps it into memory instead of
  building it: its first search costs the match alone;
- `full_row`: a whole row (every column, nested as Python objects) from its row group only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TABLE_COLUMNS = ("id", "task", "language", "instruction", "status", "stage")
SEARCH_COLUMNS = ("instruction", "input", "output", "source_code")
ROW_BATCH = 256  # rows decoded at a time while seeking one row in its row group
TEXT_BATCH = 4096  # rows read at a time while building the search text
# Each column decodes on one thread anyway; on the Space's 2 vCPUs (and the 2-core dev machine)
# threads only contend, and reads ran 2-4x slower with them.
USE_THREADS = False
# Rows of a config without a `status` column (default, the task configs) are accepted rows.
ACCEPTED = "accepted"
SEPARATOR = "\x00"  # between the searched fields, so that no match spans two of them
CACHE_ENV = "WAVECODER_CACHE"
TEXT_CACHE_VERSION = "1"  # bump when the text's recipe changes: older files are then unused


def text_cache_path(files: list[Path]) -> Path:
    """Where the search text of `files` is kept: a name that changes with any shard's path,
    size or modification time (a rewritten folder never reads a stale text)."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "wavecoder")
    key = hashlib.sha256(TEXT_CACHE_VERSION.encode())
    for file in files:
        stat = file.stat()
        key.update(f"{file.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return root / "space-search" / f"{key.hexdigest()[:32]}.arrow"


def _write_text(path: Path, text: pa.ChunkedArray) -> None:
    """`text` as an uncompressed Arrow IPC file (memory-mappable), written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    schema = pa.schema([("text", pa.string())])
    try:
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            for chunk in text.chunks:
                writer.write_batch(pa.record_batch([chunk], schema=schema))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class Shards:
    """One config's shards; each derived column is built on first use and kept (thread-safe: a
    second caller waits for the first one's build)."""

    def __init__(self, name: str, files: list[Path]):
        self.name = name
        self.files = files
        self.metadata = [pq.read_metadata(f) for f in files]
        self.schema = pq.read_schema(files[0])
        self.num_rows = sum(m.num_rows for m in self.metadata)
        self._built: dict[str, Any] = {}
        self._locks = {name: threading.Lock() for name in ("ids", "table", "rules", "text")}

    def _once(self, name: str, build) -> Any:
        with self._locks[name]:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]

    def _read(self, columns: list[str]) -> pa.Table:
        # pre_buffer (one large read per row group) gains nothing on a local disk: 20-30% slower
        tables = [
            pq.ParquetFile(f, pre_buffer=False).read(columns=columns, use_threads=USE_THREADS)
            for f in self.files
        ]
        return pa.concat_tables(tables)

    @property
    def ids(self) -> pa.ChunkedArray:  # apart from `table`: a row lookup needs only this
        return self._once("ids", lambda: self._read(["id"]).column("id"))

    @property
    def table(self) -> pa.Table:
        """The table columns, with `status` "accepted" and `stage` null where the config has none."""
        return self._once("table", self._build_table)

    @property
    def rules(self) -> tuple[pa.Array, pa.Array]:
        """(row index, failed check) for every reason of every row; empty without `reasons`."""
        return self._once("rules", self._build_rules)

    @property
    def text(self) -> pa.ChunkedArray:
        """Per row: instruction, input, output and source code, lower-cased, joined by NUL; read
        memory-mapped from the search-text cache when it holds these shards' text."""
        return self._once("text", self._cached_text)

    def _build_table(self) -> pa.Table:
        present = [c for c in TABLE_COLUMNS if c in self.schema.names]
        table = self._read(present)
        for column in TABLE_COLUMNS:
            if column not in present:
                fill = ACCEPTED if column == "status" else None
                table = table.append_column(column, pa.array([fill] * table.num_rows, pa.string()))
        return table.select(list(TABLE_COLUMNS))

    def _build_rules(self) -> tuple[pa.Array, pa.Array]:
        if "reasons" not in self.schema.names:
            return pa.array([], pa.int64()), pa.array([], pa.string())
        reasons = self._read(["reasons"]).column("reasons").combine_chunks()
        checks = pc.struct_field(pc.list_flatten(reasons), "check")
        return pc.list_parent_indices(reasons).cast(pa.int64()), checks

    def _cached_text(self) -> pa.ChunkedArray:
        path = text_cache_path(self.files)
        if path.is_file():
            with contextlib.suppress(OSError, pa.ArrowInvalid):  # a broken file is rebuilt
                table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
                if table.num_rows == self.num_rows and table.column_names == ["text"]:
                    return table.column("text")
        text = self._build_text()
        with contextlib.suppress(OSError):  # a read-only cache only costs the next start
            _write_text(path, text)
        return text

    def _build_text(self) -> pa.ChunkedArray:
        present = [c for c in SEARCH_COLUMNS if c in self.schema.names]
        chunks = []
        for file in self.files:
            # streamed in batches: the raw columns never sit in memory whole (2x faster here)
            reader = pq.ParquetFile(file, pre_buffer=False)
            for batch in reader.iter_batches(TEXT_BATCH, columns=present, use_threads=USE_THREADS):
                joined = pc.binary_join_element_wise(
                    *batch.columns, SEPARATOR, null_handling="replace", null_replacement=""
                )
                # ascii_lower is ~5x faster, and the same on ASCII text (most code is)
                ascii_only = pc.all(pc.string_is_ascii(joined)).as_py() is not False
                chunks.append(pc.ascii_lower(joined) if ascii_only else pc.utf8_lower(joined))
        return pa.chunked_array(chunks, pa.string())

    def warm(self) -> None:
        """Build what the first queries need, table first (for the Space's start-up thread)."""
        for name in ("table", "ids", "rules", "text"):
            getattr(self, name)

    def rows_failing(self, rule: str) -> pa.Array:
        """Sorted unique indices of the rows with a reason whose check is `rule`."""
        parents, checks = self.rules
        return pc.unique(parents.filter(pc.equal(checks, rule)))

    def full_row(self, index: int) -> dict[str, Any]:
        """Every column of row `index`: its row group is decoded only up to the row."""
        for file, metadata in zip(self.files, self.metadata, strict=True):
            if index >= metadata.num_rows:
                index -= metadata.num_rows
                continue
            for group in range(metadata.num_row_groups):
                size = metadata.row_group(group).num_rows
                if index >= size:
                    index -= size
                    continue
                batches = pq.ParquetFile(file, pre_buffer=False).iter_batches(
                    batch_size=ROW_BATCH, row_groups=[group], use_threads=USE_THREADS
                )
                for batch in batches:
                    if index < batch.num_rows:
                        return batch.slice(index, 1).to_pylist()[0]
                    index -= batch.num_rows
        raise IndexError(index)
