"""Shared by the execution tests that run the generation loop against the scripted endpoint: the
loop's run and a counting sandbox that binds the victim's folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from loop_harness import config_for

from evaluation.sandbox import Sandbox
from pipeline.execution.config import ExecutionConfig
from pipeline.generation.backends import build_llm
from pipeline.generation.loop import build_tasks, run_generation

EXECUTION = ExecutionConfig(enabled=True, timeout_s=3.0, workers=2)


class CountingSandbox:
    """The real sandbox with the victim's folder bound read-only (so that "write outside" aims
    at a real host file, as in tests/evaluation/test_sandbox_hostile.py), counting its runs."""

    def __init__(self, folder: Path):
        self.sandbox, self.folder = Sandbox(), str(folder)
        self.kind = self.sandbox.kind
        self.runs = 0

    def run(self, job):
        self.runs += 1
        return self.sandbox.run(replace(job, ro_binds=(*job.ro_binds, self.folder)))


def run_loop(server, rows, state_dir: Path, execution: ExecutionConfig, sandbox):
    config = config_for(server, wave_size=8)
    config.generator.max_retries = config.discriminator.max_retries = 1
    generator_llm, judge_llm = build_llm(config.generator), build_llm(config.discriminator)
    generator_llm.load()
    judge_llm.load()
    generator, judge = build_tasks(config, generator_llm, judge_llm)
    state_dir.mkdir(exist_ok=True)
    records, stats = run_generation(
        rows, config, generator=generator, judge=judge, state_dir=state_dir, seed=3,
        execution=execution, sandbox=sandbox,
    )  # fmt: skip
    return {r["id"]: r for r in records}, stats
