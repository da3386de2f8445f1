"""The registry of code tasks: what a task is made of, and how tasks are found.

Every module of this package that defines a module-level ``TASK = CodeTask(...)`` is a task;
adding a fifth task is one new module, with no edit elsewhere. A task carries everything the
generator and the discriminator need: a definition, numbered requirements, judge rules and
hand-written seed cases for the example database.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from wavecoder.errors import UserError


@dataclass(frozen=True)
class JudgeRule:
    """One yes/no question the discriminator answers about a generated case.

    Attributes:
        id: a stable snake_case name, used in judgements, rejection reasons and run summaries.
        text: the question, phrased so that "yes" means the case is good.
    """

    id: str
    text: str


@dataclass(frozen=True)
class SeedCase:
    """A hand-written case that starts a task's good or bad pool in the example database.

    Attributes:
        language: language of the input code (lowercase).
        code: the raw input snippet the case was written from.
        task_name, instruction, information, solution: the four generator keys.
        good: whether the case is an example to follow.
        analysis: for a bad case, what is wrong with it (shown to the generator).
    """

    language: str
    code: str
    task_name: str
    instruction: str
    information: str
    solution: str
    good: bool
    analysis: str = ""


class TaskCheckFailed(Exception):
    """Raised by a task's own post-filter check; ``code`` names the check in summaries."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# A task's own rule check after parsing: (parsed four keys, input row) -> extra output columns
# (e.g. translation's target_language). Raises TaskCheckFailed to reject the case.
TaskCheck = Callable[[dict, dict], dict]


@dataclass(frozen=True)
class CodeTask:
    """One of the code tasks the generator is asked to write data for.

    Attributes:
        name: the task's id in recipes, datasets and configs (e.g. ``repair``).
        title: a human name (e.g. "code repair").
        default_share: its share of the data in percent, when a recipe gives no mix.
        definition: what the generator is asked to do, in two or three sentences.
        requirements: numbered requirements shown to the generator.
        rules: the judge's rules, shared ones first.
        information_is_code: whether `information` carries the code the instruction acts on
            (summarization, repair, translation) rather than at most two sentences of context.
        seed_cases: hand-written good and bad cases.
        check: an optional extra post-filter check (see `TaskCheck`).
    """

    name: str
    title: str
    default_share: float
    definition: str
    requirements: tuple[str, ...]
    rules: tuple[JudgeRule, ...]
    information_is_code: bool
    seed_cases: tuple[SeedCase, ...]
    check: TaskCheck | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        ids = [rule.id for rule in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"task {self.name}: duplicate rule ids {ids}")
        if not any(c.good for c in self.seed_cases) or all(c.good for c in self.seed_cases):
            raise ValueError(f"task {self.name}: needs at least one good and one bad seed case")
        if any(not c.good and not c.analysis for c in self.seed_cases):
            raise ValueError(f"task {self.name}: every bad seed case needs an analysis")


@cache
def all_tasks() -> dict[str, CodeTask]:
    """Every task of this package by name, largest default share first."""
    package = sys.modules[__package__]  # its live `__path__`: a plugin folder may extend it
    found: dict[str, CodeTask] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        task = getattr(module, "TASK", None)
        if isinstance(task, CodeTask):
            if task.name in found:
                raise ValueError(f"two task modules define the task {task.name!r}")
            found[task.name] = task
    return dict(sorted(found.items(), key=lambda item: (-item[1].default_share, item[0])))


def get_task(name: str) -> CodeTask:
    tasks = all_tasks()
    if name not in tasks:
        raise UserError(f"unknown code task {name!r}; known tasks: {sorted(tasks)}")
    return tasks[name]


def default_mix() -> dict[str, float]:
    """The paper's final shares of the four tasks, in percent."""
    return {name: task.default_share for name, task in all_tasks().items()}
