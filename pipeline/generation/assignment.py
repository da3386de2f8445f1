"""Task assignment: which code task each selected snippet is turned into.

The counts follow the mix exactly (largest remainder), and which snippet gets which task is a
permutation seeded by the recipe's seed: the same selection and seed give the same assignment.

No `from __future__ import annotations`: distilabel reads `StepInput` from type hints at run time.
"""

import random
from typing import Any

from distilabel.steps import GlobalStep, StepInput
from pydantic import Field


def task_counts(n: int, mix: dict[str, float]) -> dict[str, int]:
    """Split n rows by the shares of `mix` (any positive scale), rounding by largest remainder."""
    total = sum(mix.values())
    exact = {task: n * share / total for task, share in mix.items()}
    counts = {task: int(value) for task, value in exact.items()}
    by_remainder = sorted(
        mix, key=lambda task: (-(exact[task] - counts[task]), list(mix).index(task))
    )
    for task in by_remainder[: n - sum(counts.values())]:
        counts[task] += 1
    return counts


def assign_tasks(n: int, mix: dict[str, float], seed: int) -> list[str]:
    """The task of each of n rows (in selection order)."""
    labels = [task for task, count in task_counts(n, mix).items() for _ in range(count)]
    random.Random(f"task-assignment:{seed}").shuffle(labels)
    return labels


class AssignCodeTask(GlobalStep):
    """Gives every selected snippet one code task, following a mix of shares.

    Attributes:
        mix: share of each task (normalised), e.g. the paper's
            {generation: 57.1, summarization: 15.8, repair: 15.8, translation: 11.2}.
        seed: seeds the permutation of tasks over rows.

    Input columns:
        - id (`str`): the snippet's id.
        - selection_rank (`int`, optional): its KCenterGreedy rank; rows are taken in this order.

    Output columns:
        - task (`str`): the code task.

    Categories:
        - labelling

    Examples:
        Assign the paper's mix:

        ```python
        from pipeline.generation.assignment import AssignCodeTask
        from pipeline.tasks import default_mix

        step = AssignCodeTask(mix=default_mix(), seed=42)
        step.load()
        rows = next(step.process([{"id": str(i), "selection_rank": i} for i in range(10)]))
        ```
    """

    mix: dict[str, float] = Field(default_factory=dict)
    seed: int = 42

    @property
    def inputs(self) -> dict[str, bool]:
        return {"id": True, "selection_rank": False}

    @property
    def outputs(self) -> list[str]:
        return ["task"]

    def process(self, inputs: StepInput) -> Any:  # type: ignore[override]
        from pipeline.tasks import default_mix

        rows = sorted(inputs, key=lambda r: (r.get("selection_rank", 0), r["id"]))
        tasks = assign_tasks(len(rows), self.mix or default_mix(), self.seed)
        yield [{**row, "task": task} for row, task in zip(rows, tasks, strict=False)]
