"""`GenerateAndJudge`: the distilabel step that runs the Generator-Discriminator loop.

No `from __future__ import annotations`: distilabel reads `StepInput` from type hints at run time.

One global step rather than two chained tasks, because the example database couples them: the
generator's prompt for a row depends on the judgements of earlier waves. Inside, the two real
distilabel tasks (`GenerateInstruction`, `JudgeInstruction`) format every prompt and parse every
reply, and their LLMs are called concurrently by `GenerationLoop`.
"""

import logging
import os
import sys
from pathlib import Path
from typing import Any

from distilabel.models.llms.base import LLM
from distilabel.steps import GlobalStep, StepInput
from pydantic import Field

from pipeline.execution.config import ExecutionConfig
from pipeline.failures import ReportsFailures
from pipeline.generation.config import GenerationConfig
from pipeline.generation.dry_run import write_dry_run
from pipeline.generation.loop import build_tasks, run_generation
from pipeline.generation.records import (
    DATASET_COLUMNS,
    OUTCOME_COLUMNS,
    in_selection_order,
)
from pipeline.generation.run_state import COMPLETED, write_status
from pipeline.generation.stopping import RunStopped


class GenerateAndJudge(ReportsFailures, GlobalStep):
    """Turns each selected snippet into a judged instruction case, or a recorded rejection.

    Every row gets a record: `accepted`, `rejected` (post-filter or judge, with reasons) or
    `failed` (no answer, with the error); responses are cached by request in `state_dir`, so a
    re-run sends only what was not answered. On Ctrl-C, or when the endpoint refuses every
    request, it sends nothing more, emits no rows and says why in `state_dir` (`run_state`).

    Attributes:
        generator_llm, discriminator_llm: the LLM that writes cases, the LLM that judges them.
        generation: the recipe's `generation` section as a dict (`GenerationConfig`).
        seed: seeds the choice of examples per row.
        state_dir: folder of the response cache and the example database (kept between runs).
        dry_run_dir: when set, nothing is called: the prompts and the cost estimate are written
            there instead, and no rows are emitted.
        execution: the recipe's `execution` section as a dict (`ExecutionConfig`); when enabled,
            each case that passes the post-filter is tested in the sandbox before it is judged.
        tester_llm: the LLM that writes those tests; None = the generator's LLM.

    Input columns: id, code, language, task; source and selection_rank (optional).
    Output columns: `records.DATASET_COLUMNS` and `records.OUTCOME_COLUMNS`.
    Wired after selection by `pipeline.generation.main_process.add_generation_steps`.
    """

    generator_llm: LLM
    discriminator_llm: LLM
    generation: dict[str, Any] = Field(default_factory=dict)
    seed: int = 42
    state_dir: str
    dry_run_dir: str | None = None
    execution: dict[str, Any] = Field(default_factory=dict)
    tester_llm: LLM | None = None

    @property
    def inputs(self) -> dict[str, bool]:
        return {"id": True, "code": True, "language": True, "task": True, "source": False}

    @property
    def outputs(self) -> list[str]:
        return list(dict.fromkeys([*DATASET_COLUMNS, *OUTCOME_COLUMNS]))

    def load(self) -> None:
        super().load()
        _exit_with_parent()
        # One INFO line per HTTP request would drown the wave progress lines.
        for name in ("httpx", "httpx2", "openai"):
            logging.getLogger(name).setLevel(logging.WARNING)
        if self.dry_run_dir is None:
            for llm in self._llms():
                llm.load()

    def unload(self) -> None:
        if self.dry_run_dir is None:
            for llm in self._llms():
                llm.unload()
        super().unload()

    def _llms(self) -> list[LLM]:
        return [
            self.generator_llm,
            self.discriminator_llm,
            *([self.tester_llm] * bool(self.tester_llm)),
        ]

    def process(self, inputs: StepInput) -> Any:  # type: ignore[override]
        config = GenerationConfig(**self.generation)
        execution = ExecutionConfig(**self.execution)
        rows = in_selection_order(inputs)
        generator, judge = build_tasks(config, self.generator_llm, self.discriminator_llm)
        if self.dry_run_dir is not None:
            write_dry_run(
                rows,
                config,
                Path(self.dry_run_dir),
                seed=self.seed,
                generator=generator,
                judge=judge,
                execution=execution,
            )
            yield []
            return
        yield self._generate(rows, config, generator, judge, execution)

    def _generate(self, rows: list[dict], config, generator, judge, execution) -> list[dict]:
        try:
            records, _ = run_generation(
                rows,
                config,
                generator=generator,
                judge=judge,
                state_dir=Path(self.state_dir),
                seed=self.seed,
                on_wave_done=self._log_wave,
                handle_sigint=True,
                execution=execution,
                tester_llm=self.tester_llm,
            )
        except RunStopped as stopped:
            # No rows: the main process reads why, writes nothing, and says how to go on.
            write_status(Path(self.state_dir), stopped.reason, message=stopped.message)
            return []
        write_status(Path(self.state_dir), COMPLETED, rows=len(records))
        return records

    def _log_wave(self, wave: int, waves: int, records: list[dict | None]) -> None:
        counts = {"accepted": 0, "rejected": 0, "failed": 0}
        for record in records:
            if record is not None:
                counts[record["status"]] += 1
        self._logger.info(
            f"wave {wave + 1}/{waves}: {counts['accepted']} accepted, {counts['rejected']} "
            f"rejected, {counts['failed']} failed"
        )


def _exit_with_parent() -> None:
    """Die with the pipeline's main process, so a killed run stops spending LLM calls."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
