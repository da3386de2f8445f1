"""`ExampleDatabase`: the good and bad pools of judged cases the generator learns from.

Each task's pools start from its hand-written seed cases; every judged case joins the good or
the bad pool with the wave it was generated in. A row of wave w draws k good and k bad whole
cases from the cases of waves <= w - `LAG_WAVES`, with a random generator seeded by the run's
seed and the row id. So the prompts, and therefore the dataset, depend on the seed and the wave
size, not on which request happened to finish first; and generating wave w can overlap judging
wave w - 1.

With a path, the database is a sqlite file saved with the run: the cases and each row's chosen
examples, keyed by (row id, task, wave), persist, so a resumed run composes exactly the prompts
it composed before (and its response cache answers them). A row whose task or wave differs from
the remembered one draws afresh.
"""

from __future__ import annotations

import bisect
import json
import random
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.tasks import CodeTask

# Waves between a case being generated and it being shown to the generator.
LAG_WAVES = 2


@dataclass(frozen=True)
class ExampleCase:
    """A whole case in a pool: its input code, the four keys, and the judge's analysis."""

    id: str
    task: str
    good: bool
    language: str
    code: str
    task_name: str
    instruction: str
    information: str
    solution: str
    analysis: str
    wave: int
    rank: int

    @property
    def order(self) -> tuple[int, int, str]:
        return (self.wave, self.rank, self.id)


def seed_examples(tasks: dict[str, CodeTask]) -> list[ExampleCase]:
    cases = []
    for task in tasks.values():
        for i, seed in enumerate(task.seed_cases):
            cases.append(
                ExampleCase(
                    id=f"seed:{task.name}:{i}",
                    task=task.name,
                    good=seed.good,
                    language=seed.language,
                    code=seed.code,
                    task_name=seed.task_name,
                    instruction=seed.instruction,
                    information=seed.information,
                    solution=seed.solution,
                    analysis=seed.analysis,
                    wave=-LAG_WAVES - 1,
                    rank=i,
                )
            )
    return cases


class ExampleDatabase:
    """Pools per (task, good/bad), kept sorted by (wave, rank) so visibility is a prefix."""

    def __init__(self, tasks: dict[str, CodeTask], path: str | Path | None = None):
        self._cases: dict[str, ExampleCase] = {}
        self._pools: dict[tuple[str, bool], list[tuple[tuple, str]]] = {}
        self._choices: dict[tuple[str, str, int], list[str]] = {}
        self._db: sqlite3.Connection | None = None
        for case in seed_examples(tasks):
            self._insert(case)
        if path is not None:
            self._open(Path(path))

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cases (id TEXT PRIMARY KEY, body TEXT NOT NULL)"
        )
        # `row_examples` replaced a `choices` table keyed by row id only, which older runs hold.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS row_examples (row_id TEXT NOT NULL, task TEXT NOT NULL, "
            "wave INTEGER NOT NULL, ids TEXT NOT NULL, PRIMARY KEY (row_id, task, wave))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        for (body,) in self._db.execute("SELECT body FROM cases"):
            self._insert(ExampleCase(**json.loads(body)))
        for row_id, task, wave, ids in self._db.execute("SELECT * FROM row_examples"):
            self._choices[(row_id, task, wave)] = json.loads(ids)

    def _insert(self, case: ExampleCase) -> None:
        if case.id in self._cases:
            old = self._cases[case.id]
            pool = self._pools[(old.task, old.good)]
            pool.pop(bisect.bisect_left(pool, (old.order, old.id)))
        self._cases[case.id] = case
        bisect.insort(self._pools.setdefault((case.task, case.good), []), (case.order, case.id))

    def add(self, case: ExampleCase) -> None:
        """Put a judged case into its pool (replacing an earlier version of the same id)."""
        if self._cases.get(case.id) == case:
            return
        self._insert(case)
        if self._db is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO cases VALUES (?, ?)", (case.id, json.dumps(asdict(case)))
            )

    def choose(
        self, row_id: str, task: str, wave: int, k: int, seed: int
    ) -> tuple[list[ExampleCase], list[ExampleCase]]:
        """k good and k bad whole cases for a row of `wave` (fewer if a pool is smaller)."""
        remembered = self._choices.get((row_id, task, wave))
        if remembered is not None and all(i in self._cases for i in remembered):
            cases = [self._cases[i] for i in remembered]
            return [c for c in cases if c.good], [c for c in cases if not c.good]
        rng = random.Random(f"{seed}:{row_id}")
        chosen = []
        for good in (True, False):
            pool = self._pools.get((task, good), [])
            visible = bisect.bisect_left(pool, ((wave - LAG_WAVES + 1,),))
            picks = rng.sample(range(visible), min(k, visible))
            chosen.append([self._cases[pool[i][1]] for i in picks])
        ids = [c.id for c in chosen[0] + chosen[1]]
        self._choices[(row_id, task, wave)] = ids
        if self._db is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO row_examples VALUES (?, ?, ?, ?)",
                (row_id, task, wave, json.dumps(ids)),
            )
        return chosen[0], chosen[1]

    def pool_sizes(self) -> dict[str, dict[str, int]]:
        sizes: dict[str, dict[str, int]] = {}
        for (task, good), pool in sorted(self._pools.items()):
            sizes.setdefault(task, {"good": 0, "bad": 0})["good" if good else "bad"] = len(pool)
        return sizes

    def cases(self) -> list[ExampleCase]:
        """Every case, seeds first, then in (wave, rank) order."""
        return sorted(self._cases.values(), key=lambda c: c.order)

    def get_meta(self, key: str) -> str | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def export_jsonl(self, path: str | Path, row_ids: set[str] | None = None) -> int:
        """Write the seed cases and the cases of `row_ids` (default: all) as JSON lines; returns
        the count. A run resumed with a smaller k leaves cases of rows it no longer holds."""
        cases = [c for c in self.cases() if row_ids is None or c.wave < 0 or c.id in row_ids]
        with open(path, "w", encoding="utf-8") as f:
            for case in cases:
                f.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")
        return len(cases)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
