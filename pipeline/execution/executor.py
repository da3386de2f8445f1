"""Run one case at a time from the generation loop's event loop, on a bounded pool, cached.

The loop awaits `CaseExecutor.execute(case, tests)` for each case that passed the post-filter.
The sandbox runs happen on `config.workers` threads (each run is a bwrap process tree), so at most
that many run at once whatever the LLM concurrency, and the event loop keeps sending and
receiving LLM requests meanwhile: execution never starves the calls, and a hostile or hanging
case costs one worker for at most its timeout.

Results are kept in `DIR/.wavecoder/executions.sqlite`, keyed by `run.cache_key` (programs,
expectations, toolchain versions, timeout, layout), one committed row per case, as the response
cache keeps LLM answers: a rerun after a crash or Ctrl-C executes nothing twice. A result that
says the sandbox itself failed is not kept, nor a `skipped` one (a toolchain installed since, or a
canary that timed out under load, decides anew); both are tried again next run. On Ctrl-C
(`halt`) the cases still waiting for a worker are not run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.execution.config import SANDBOX_NICE, ExecutionConfig
from pipeline.execution.run import cache_key, execute_cases, worth_keeping
from pipeline.generation.response_cache import open_store

EXECUTIONS_FILE = "executions.sqlite"


class ExecutionHalted(Exception):
    """The run is stopping: the case was not executed (it is, next run)."""


@dataclass
class ExecutionStats:
    """Cases of this run: executed in the sandbox, served from the cache, and sandbox seconds."""

    executed: int = 0
    cached: int = 0
    sandbox_seconds: float = 0.0


class ExecutionCache:
    """sqlite (WAL) file of execution records by cache key; safe across threads of a process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_store(self.path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS executions (key TEXT PRIMARY KEY, record TEXT NOT NULL)"
        )

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM executions WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        text = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO executions (key, record) VALUES (?, ?)", (key, text)
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM executions").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CaseExecutor:
    """Executes cases in the sandbox on `config.workers` threads, through the cache.

    `sandbox`: an `evaluation.sandbox.Sandbox` (built here when None: bubblewrap must exist).
    """

    def __init__(self, config: ExecutionConfig, state_dir: Path, sandbox: Any = None):
        if sandbox is None:
            from evaluation.sandbox import Sandbox

            sandbox = Sandbox(nice=SANDBOX_NICE)
        self.config = config
        self.sandbox = sandbox
        self.cache = ExecutionCache(Path(state_dir) / EXECUTIONS_FILE)
        self.stats = ExecutionStats()
        # Set on Ctrl-C (or an endpoint refusing every request): cases still waiting for a
        # worker are not run; the loop is stopping and runs them next time.
        self.halted = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=config.workers, thread_name_prefix="wavecoder-execution"
        )
        # One case's checks run one after another on its worker: `workers` bounds the runs.
        self._one = dataclasses.replace(config, workers=1)

    async def execute(self, case: dict[str, Any], tests: dict[str, str] | None) -> dict[str, Any]:
        """The case's `execution` record (pipeline/execution/run.py), from the cache or the
        sandbox. The key (it probes toolchain versions once per language) and the lookup happen
        on the worker too, so the event loop only awaits."""
        record, ran, seconds = await asyncio.get_running_loop().run_in_executor(
            self._pool, self._cached_or_run, case, tests
        )
        from_cache = seconds < 0
        if record is None:
            raise ExecutionHalted
        if ran:
            self.stats.executed += 1
            self.stats.sandbox_seconds += seconds
        elif from_cache:
            self.stats.cached += 1
        return record

    def _cached_or_run(self, case: dict[str, Any], tests: dict[str, str] | None):
        """(record, whether it ran, seconds it ran): the time excludes waiting for a worker."""
        key = cache_key(case, tests, self.config)
        hit = self.cache.get(key)
        if hit is not None:
            return hit, False, -1.0  # seconds < 0: from the cache
        if self.halted.is_set():
            return None, False, 0.0
        started = time.monotonic()
        record = execute_cases([(case, tests)], config=self._one, sandbox=self.sandbox)[0]
        seconds = time.monotonic() - started
        if worth_keeping(record):
            self.cache.put(key, record)
        # Only a result whose checks reached the sandbox counts as a run (a skip or a case
        # without tests is decided without one).
        return record, bool(record.get("checks")), seconds

    def halt(self) -> None:
        """Run no case that has not started (those running finish their checks, each within its
        timeout)."""
        self.halted.set()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.cache.close()
