"""The code tasks of WaveCoder (generation, summarization, repair, translation) as one registry.

Each task lives in its own module with its definition, requirements, judge rules and seed cases;
`all_tasks()` finds them.
"""

from pipeline.tasks.registry import (
    CodeTask,
    JudgeRule,
    SeedCase,
    TaskCheckFailed,
    all_tasks,
    default_mix,
    get_task,
)

__all__ = [
    "CodeTask",
    "JudgeRule",
    "SeedCase",
    "TaskCheckFailed",
    "all_tasks",
    "default_mix",
    "get_task",
]
