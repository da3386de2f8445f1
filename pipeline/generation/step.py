"""`GenerateAndJudge`: the distilabel step that runs the Generator-Discriminator loop.

No `from __future__ import annotations`: distilabel reads `StepInput` from type hints at run time.

One global step rather than two chained tasks, because the example database couples them: the
generator's prompt for a row depends on the judgements of earlier waves. Inside, the two real
distilabel tasks (`GenerateInstruction`, `JudgeInstruction`) format every prompt and parse every
reply, and their LLMs are called concurrently by `GenerationLoop`.
"""

import asyncio
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from distilabel.models.llms.base import LLM
from distilabel.steps import GlobalStep, StepInput
from pydantic import Field

from pipeline.failures import ReportsFailures
from pipeline.generation.records import DATASET_COLUMNS, OUTCOME_COLUMNS
from pipeline.layout import CALL_STATS_FILE, EXAMPLES_FILE, RESPONSES_FILE


class GenerateAndJudge(ReportsFailures, GlobalStep):
    """Turns each selected snippet into a judged instruction case, or a recorded rejection.

    Every row gets a record: `accepted`, `rejected` (post-filter or judge, with reasons) or
    `failed` (the endpoint never answered, with the error). Responses are cached by request in
    `state_dir`, so re-running after a crash re-sends only what was not answered. On Ctrl-C (or
    when the endpoint refuses every request) it sends nothing more, emits no rows, and says why
    in `state_dir/last_run.json`.

    Attributes:
        generator_llm: the LLM that writes cases.
        discriminator_llm: the LLM that judges them.
        generation: the recipe's `generation` section as a dict (`GenerationConfig`).
        seed: seeds the choice of examples per row.
        state_dir: folder of the response cache and the example database (kept between runs).
        dry_run_dir: when set, nothing is called: the prompts and a token and cost estimate are
            written there instead, and no rows are emitted.

    Input columns:
        - id (`str`), code (`str`), language (`str`), task (`str`): the snippet and its task.
        - source (`dict`, optional), selection_rank (`int`, optional).

    Output columns:
        - the dataset schema (`records.DATASET_COLUMNS`) plus status, stage, reasons,
          selection_rank, raw_generation and raw_judgement.

    Categories:
        - text-generation
        - critique

    References:
        - [WaveCoder (arXiv 2312.14187)](https://arxiv.org/abs/2312.14187)

    Citations:
        ```
        @misc{yu2023wavecoder,
            title={WaveCoder: Widespread And Versatile Enhancement For Code Large Language Models By Instruction Tuning},
            author={Zhaojian Yu and Xin Zhang and Ning Shang and Yangyu Huang and Can Xu and Yishujie Zhao and Wenxiang Hu and Qiufeng Yin},
            year={2023},
            eprint={2312.14187},
            archivePrefix={arXiv},
            primaryClass={cs.CL},
            url={https://arxiv.org/abs/2312.14187},
        }
        ```

    Examples:
        See `pipeline.generation.stage.add_generation_steps`, which wires it after selection.
    """

    generator_llm: LLM
    discriminator_llm: LLM
    generation: dict[str, Any] = Field(default_factory=dict)
    seed: int = 42
    state_dir: str
    dry_run_dir: str | None = None

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
            self.generator_llm.load()
            self.discriminator_llm.load()

    def unload(self) -> None:
        if self.dry_run_dir is None:
            self.generator_llm.unload()
            self.discriminator_llm.unload()
        super().unload()

    def process(self, inputs: StepInput) -> Any:  # type: ignore[override]
        from pipeline.generation.config import GenerationConfig

        config = GenerationConfig(**self.generation)
        rows = sorted(inputs, key=lambda r: (r.get("selection_rank", 0), r["id"]))
        generator, judge = build_tasks(config, self.generator_llm, self.discriminator_llm)
        if self.dry_run_dir is not None:
            from pipeline.generation.dry_run import write_dry_run

            write_dry_run(
                rows,
                config,
                Path(self.dry_run_dir),
                seed=self.seed,
                generator=generator,
                judge=judge,
            )
            yield []
            return
        yield self._generate(rows, config, generator, judge)

    def _generate(self, rows: list[dict], config, generator, judge) -> list[dict]:
        from pipeline.generation.run_state import COMPLETED, write_status
        from pipeline.generation.stopping import RunStopped

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


def build_tasks(config, generator_llm: LLM, discriminator_llm: LLM) -> tuple[Any, Any]:
    """The generator and judge tasks; they format the prompts and parse the replies."""
    from pipeline.generation.generate_instruction import GenerateInstruction
    from pipeline.generation.judge_instruction import JudgeInstruction

    with _quiet_standalone_tasks():
        generator = GenerateInstruction(
            name="generate_instruction",
            llm=generator_llm,
            output_format=config.generator.output_format,
            examples_per_prompt=config.examples_per_prompt,
        )
        judge = JudgeInstruction(
            name="judge_instruction",
            llm=discriminator_llm,
            output_format=config.discriminator.output_format,
        )
    return generator, judge


def run_generation(
    rows: list[dict],
    config,
    *,
    generator,
    judge,
    state_dir: Path,
    seed: int,
    on_wave_done=None,
    handle_sigint: bool = False,
) -> tuple[list[dict], dict[str, Any]]:
    """Run the loop over rows with the tasks' (loaded) LLMs; returns records and call stats.

    The call stats of this run are also written to `state_dir / CALL_STATS_FILE`. Raises
    `stopping.RunStopped` when the run stopped early (SIGINT with `handle_sigint`, or an
    endpoint refusing every request).
    """
    from pipeline.generation.example_database import ExampleDatabase
    from pipeline.generation.llm_calls import LLMCaller
    from pipeline.generation.loop import GenerationLoop
    from pipeline.generation.response_cache import ResponseCache
    from pipeline.generation.stopping import StopSignal
    from pipeline.tasks import all_tasks

    cache = ResponseCache(state_dir / RESPONSES_FILE)
    examples = ExampleDatabase(all_tasks(), state_dir / EXAMPLES_FILE)
    stop = StopSignal()
    generator_calls = LLMCaller(generator.llm, config.generator, cache, role="generator", stop=stop)
    judge_calls = LLMCaller(judge.llm, config.discriminator, cache, role="discriminator", stop=stop)
    loop = GenerationLoop(
        generator=generator,
        judge=judge,
        generator_calls=generator_calls,
        judge_calls=judge_calls,
        examples=examples,
        config=config,
        seed=seed,
        on_wave_done=on_wave_done,
        stop=stop,
        handle_sigint=handle_sigint,
    )
    try:
        records = asyncio.run(loop.run(rows))
    finally:
        stats = {"generator": vars(generator_calls.stats), "discriminator": vars(judge_calls.stats)}
        (state_dir / CALL_STATS_FILE).write_text(json.dumps(stats, indent=2))
        examples.close()
        cache.close()
    return records, stats


@contextlib.contextmanager
def _quiet_standalone_tasks():
    """The inner tasks live outside any pipeline on purpose; silence distilabel's warning."""
    step_logger = logging.getLogger("distilabel.step")
    level = step_logger.level
    step_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        step_logger.setLevel(level)


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
