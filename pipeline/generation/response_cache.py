"""A persistent cache of LLM responses, keyed by the exact request.

This is what makes a killed run resumable without paying twice: re-running the same command
replays the pipeline, and every request that was answered before is served from here instead of
the endpoint. Only successful responses enter, one committed transaction each, so a SIGKILL
loses at most the requests in flight and a failed request is simply asked again next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CachedResponse:
    text: str | None
    prompt_tokens: int
    completion_tokens: int
    # "stop", "length" (cut at max_new_tokens)...; None when the backend does not say.
    finish_reason: str | None = None


def request_key(*, backend: str, model: str, messages: list[dict], settings: dict[str, Any]) -> str:
    """sha256 of everything that determines a response: LLM class, model, messages, settings.

    `settings` holds the generation kwargs and the structured-output schema, if any.
    """
    payload = json.dumps(
        {"backend": backend, "model": model, "messages": messages, "settings": settings},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def open_store(path: Path) -> sqlite3.Connection:
    """A sqlite file in WAL mode, autocommit, usable from several threads (behind a lock): each
    write is one committed transaction, kept across a process kill."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    # NORMAL keeps every commit across a process kill (WAL); only power loss may drop the last
    # ones, which are then simply asked (or run) again.
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class ResponseCache:
    """sqlite (WAL) file of responses; safe to use from several threads of one process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_store(self.path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
            "text TEXT, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, "
            "finish_reason TEXT)"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(responses)")}
        if "finish_reason" not in columns:  # a cache written before the column existed
            self._db.execute("ALTER TABLE responses ADD COLUMN finish_reason TEXT")

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT text, prompt_tokens, completion_tokens, finish_reason FROM responses "
                "WHERE key = ?",
                (key,),
            ).fetchone()
        return CachedResponse(*row) if row else None

    def put(self, key: str, model: str, response: CachedResponse) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, model, text, prompt_tokens, "
                "completion_tokens, finish_reason) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key,
                    model,
                    response.text,
                    response.prompt_tokens,
                    response.completion_tokens,
                    response.finish_reason,
                ),
            )

    def delete(self, key: str) -> None:
        """Forget one response (one whose reply could not be processed), so it is asked again."""
        with self._lock:
            self._db.execute("DELETE FROM responses WHERE key = ?", (key,))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
