"""The Generator-Discriminator loop over selected rows, asynchronous and in waves.

Each row goes generate -> post-filter -> judge -> example database on its own coroutine, so a
row's judgement starts the moment its case passes the post-filter, while other rows are still
generating: both LLMs stay busy. Rows are grouped in waves of `wave_size` in selection order; a
row of wave w composes its prompt once waves <= w - 2 are finished (see `ExampleDatabase`), which
keeps the output independent of concurrency while letting wave w generate during wave w - 1's
judging. `run_generation` runs it with the folder's response cache and example database.

When the run's `StopSignal` is set (Ctrl-C, or an endpoint refusing every request), no row
starts and no request is sent any more; requests in flight are awaited (their answers are
cached) and `run` raises `RunStopped`. A bug while processing a reply fails that row only: it
keeps the stage, tokens and raw text reached, and the reply is dropped from the response cache
so the next run asks again instead of replaying the same crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.execution.config import ExecutionConfig
from pipeline.execution.executor import CaseExecutor, ExecutionHalted
from pipeline.execution.run import ERROR as EXEC_ERROR
from pipeline.execution.run import FAILING, sandbox_failed
from pipeline.execution.tester import missing_tests_reason, parse_tests, tester_prompt
from pipeline.generation.config import GenerationConfig
from pipeline.generation.example_database import LAG_WAVES, ExampleCase, ExampleDatabase
from pipeline.generation.execution_stage import (
    ExecutionStage,
    execution_analysis,
    execution_case,
    failed_its_run,
)
from pipeline.generation.generate_instruction import (
    CASE_SCHEMA,
    CASE_SCHEMA_NAME,
    GenerateInstruction,
    parse_generation,
)
from pipeline.generation.judge_instruction import (
    JUDGEMENT_SCHEMA,
    JUDGEMENT_SCHEMA_NAME,
    JudgeInstruction,
    rejection_reasons,
)
from pipeline.generation.llm_calls import CallsStopped, LLMCaller, LLMCallFailed
from pipeline.generation.prompts import CASE_KEYS
from pipeline.generation.records import ACCEPTED, FAILED, REJECTED, build_record, empty_usage
from pipeline.generation.response_cache import ResponseCache
from pipeline.generation.stopping import RunStopped, StopSignal, sigint_stops
from pipeline.layout import CALL_STATS_FILE, EXAMPLES_FILE, RESPONSES_FILE
from pipeline.tasks import all_tasks

if TYPE_CHECKING:
    from distilabel.models.llms.base import LLM

logger = logging.getLogger("wavecoder.generation")


class GenerationLoop:
    """Runs rows (with `id`, `code`, `language`, `task`) through both LLMs; returns records.

    `stop` is shared with both callers; with `handle_sigint`, SIGINT sets it while `run` runs.
    """

    def __init__(
        self,
        *,
        generator: GenerateInstruction,
        judge: JudgeInstruction,
        generator_calls: LLMCaller,
        judge_calls: LLMCaller,
        examples: ExampleDatabase,
        config: GenerationConfig,
        seed: int,
        on_wave_done: Callable[[int, int, list[dict]], None] | None = None,
        stop: StopSignal | None = None,
        handle_sigint: bool = False,
        tester_calls: LLMCaller | None = None,
        executor: CaseExecutor | None = None,
    ):
        self.generator = generator
        self.judge = judge
        self.generator_calls = generator_calls
        self.judge_calls = judge_calls
        self.examples = examples
        self.config = config
        self.seed = seed
        self.on_wave_done = on_wave_done
        self.stop = stop if stop is not None else generator_calls.stop
        self.handle_sigint = handle_sigint
        self.models = (generator_calls.llm.model_name, judge_calls.llm.model_name)
        # Execution (pipeline/execution): both or neither.
        self.tester_calls = tester_calls
        self.executor = executor

    async def run(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.handle_sigint:
            with sigint_stops(self.stop):
                return await self._run(rows)
        return await self._run(rows)

    async def _run(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        size = self.config.wave_size
        n_waves = (len(rows) + size - 1) // size
        done = [asyncio.Event() for _ in range(n_waves)]
        left = [min(size, len(rows) - w * size) for w in range(n_waves)]
        results: list[dict[str, Any] | None] = [None] * len(rows)
        # A stop wakes every row waiting for an earlier wave, so it can give up at once.
        self.stop.on_set(lambda: [event.set() for event in done])
        # Bound the coroutines alive at once; rows start in selection order, so every row a
        # waiting row depends on has already started and no wait can deadlock.
        window = asyncio.Semaphore(
            max(
                2 * size,
                4 * (self.config.generator.concurrency + self.config.discriminator.concurrency),
            )
        )

        async def one(index: int, row: dict[str, Any]) -> None:
            wave = index // size
            progress: dict[str, Any] = {"stage": "generation", "usage": empty_usage()}
            try:
                for earlier in range(0, wave - LAG_WAVES + 1):
                    await done[earlier].wait()
                if not self.stop:
                    results[index] = await self.process_row(row, wave, progress)
            except CallsStopped:
                pass  # the run is stopping; this row is done next run
            except Exception as exc:
                # A bug must not lose the other rows' work: record it on the row, log the trace.
                logger.exception(f"row {row['id']} failed unexpectedly")
                results[index] = self._internal_error(row, progress, exc)
            finally:
                window.release()
                left[wave] -= 1
                if left[wave] == 0 and not self.stop:
                    done[wave].set()
                    if self.on_wave_done:
                        start = wave * size
                        self.on_wave_done(wave, n_waves, results[start : start + size])

        tasks = []
        for index, row in enumerate(rows):
            await window.acquire()
            if self.stop:
                break
            tasks.append(asyncio.create_task(one(index, row)))
        await asyncio.gather(*tasks)
        if self.stop:
            raise RunStopped(self.stop.reason, self.stop.message)
        return results  # type: ignore[return-value]

    def _internal_error(self, row: dict, progress: dict, exc: Exception) -> dict[str, Any]:
        # The reply being processed may be what crashes: ask for it again next run.
        if progress.get("caller") is not None:
            progress["caller"].cache.delete(progress["key"])
        return build_record(
            row, status=FAILED, stage=progress["stage"], models=self.models,
            case=progress.get("case"), usage=progress["usage"],
            raw_generation=progress.get("raw_generation"),
            raw_judgement=progress.get("raw_judgement"), execution=progress.get("execution"),
            reasons=[{"check": "internal_error", "message": f"{type(exc).__name__}: {exc}"}],
        )  # fmt: skip

    async def process_row(
        self, row: dict[str, Any], wave: int, progress: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One row's record; `progress` follows the stage, tokens and raw replies reached."""
        progress = progress if progress is not None else {"usage": empty_usage()}
        k = self.config.examples_per_prompt
        good, bad = self.examples.choose(row["id"], row["task"], wave, k, self.seed)
        messages = self.generator.format_input({**row, "good_examples": good, "bad_examples": bad})
        usage = progress["usage"]
        record = {"models": self.models, "usage": usage}
        progress["stage"] = "generation"
        try:
            generated = await self.generator_calls.complete(messages, CASE_SCHEMA, CASE_SCHEMA_NAME)
        except LLMCallFailed as exc:
            return build_record(
                row, status=FAILED, stage="generation", **record,
                reasons=[{"check": "llm_error", "message": str(exc)}],
            )  # fmt: skip
        usage["generator"] = _usage(generated)
        record["raw_generation"] = progress["raw_generation"] = generated.text
        progress.update(stage="postfilter", caller=self.generator_calls, key=generated.key)
        parsed = parse_generation(
            generated.text, row, truncated=generated.truncated(self.config.generator.max_new_tokens)
        )
        case = progress["case"] = {key: parsed[key] for key in CASE_KEYS}
        if not parsed["postfilter"]["passed"]:
            check = parsed["postfilter"]
            return build_record(
                row, status=REJECTED, stage="postfilter", case=case, **record,
                reasons=[{"check": check["check"], "message": check["message"]}],
            )  # fmt: skip
        record["target_language"] = parsed["target_language"]
        if self.executor is not None:
            rejected = await self._execute(row, case, wave, record, progress)
            if rejected is not None:
                return rejected
        judge_messages = self.judge.format_input({**row, **case})
        progress.update(stage="judgement", caller=None)
        try:
            judged = await self.judge_calls.complete(
                judge_messages, JUDGEMENT_SCHEMA, JUDGEMENT_SCHEMA_NAME
            )
        except LLMCallFailed as exc:
            return build_record(
                row, status=FAILED, stage="judgement", case=case, **record,
                reasons=[{"check": "llm_error", "message": str(exc)}],
            )  # fmt: skip
        usage["discriminator"] = _usage(judged)
        progress.update(raw_judgement=judged.text, caller=self.judge_calls, key=judged.key)
        record["raw_judgement"] = judged.text
        verdict = self.judge.format_output(judged.text, row)
        if verdict["judgement_problem"] and judged.truncated(
            self.config.discriminator.max_new_tokens
        ):
            verdict["judgement_problem"] += " (the reply stopped at the max_new_tokens limit)"
        reasons = rejection_reasons(verdict["judgement"], verdict["judgement_problem"])
        if failed_its_run(record.get("execution")):
            # annotate mode: the judge decides the row, but a case that failed its run is a
            # bad example whatever the judge said, with the failure as its analysis.
            analysis = " ".join([execution_analysis(record["execution"]), _analysis(reasons)])
            self.examples.add(_example(row, case, False, analysis.strip(), wave))
        elif verdict["judgement_problem"] is None:
            self.examples.add(_example(row, case, verdict["accepted"], _analysis(reasons), wave))
        return build_record(
            row, status=ACCEPTED if verdict["accepted"] else REJECTED, stage="judgement",
            case=case, judgement=verdict["judgement"], reasons=reasons, **record,
        )  # fmt: skip

    async def _execute(
        self, row: dict, case: dict, wave: int, record: dict, progress: dict
    ) -> dict[str, Any] | None:
        """Write the case's tests (the tester's call) and run them in the sandbox; puts the
        `execution` record in `record`. Returns the row's record when it stops here (a failing
        case in `filter` mode, or no answer from the tester), else None: on to the judge."""
        progress.update(stage="execution", caller=None)
        subject = execution_case(row, case, record["target_language"])
        prompt = tester_prompt(subject, max_tests=self.executor.config.max_tests)
        tests: dict[str, str] | None = None
        reply = None
        if prompt is not None:
            try:
                answered = await self.tester_calls.complete([{"role": "user", "content": prompt}])
            except LLMCallFailed as exc:
                return build_record(
                    row, status=FAILED, stage="execution", case=case, **record,
                    reasons=[{"check": "llm_error", "message": f"tester: {exc}"}],
                )  # fmt: skip
            record["usage"]["tester"] = _usage(answered)
            progress.update(caller=self.tester_calls, key=answered.key)
            reply = answered.text
            tests = parse_tests(subject, reply)
        if self.stop:  # Ctrl-C: run nothing more; this row is done next run
            raise CallsStopped(self.stop.reason)
        try:
            result = await self.executor.execute(subject, tests)
        except ExecutionHalted:
            raise CallsStopped(self.stop.reason) from None
        if prompt is not None and not tests and result["status"] == EXEC_ERROR:
            result = {**result, "reason": missing_tests_reason(subject, reply)}
        record["execution"] = progress["execution"] = result
        if sandbox_failed(result):  # nothing was checked: retried next run, as a failed call is
            return build_record(
                row, status=FAILED, stage="execution", case=case, **record,
                reasons=[{"check": "sandbox_error", "message": result["reason"]}],
            )  # fmt: skip
        if result["status"] not in FAILING or self.executor.config.mode != "filter":
            return None
        reasons = [{"check": f"execution_{result['status']}", "message": result["reason"]}]
        if failed_its_run(result):  # the case's fault, not the tester's
            self.examples.add(_example(row, case, False, execution_analysis(result), wave))
        return build_record(
            row, status=REJECTED, stage="execution", case=case, reasons=reasons, **record
        )


def _usage(completion) -> dict[str, int]:
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
    }


def _analysis(reasons: list[dict]) -> str:
    return " ".join(f"{r['check']}: no, {r['message']}" for r in reasons)


def _example(row: dict, case: dict, good: bool, analysis: str, wave: int) -> ExampleCase:
    return ExampleCase(
        id=row["id"],
        task=row["task"],
        good=good,
        language=row.get("language") or "",
        code=row["code"],
        analysis=analysis,
        wave=wave,
        rank=int(row.get("selection_rank", 0)),
        **{key: case[key] for key in CASE_KEYS},
    )


def build_tasks(
    config: GenerationConfig, generator_llm: LLM, discriminator_llm: LLM
) -> tuple[GenerateInstruction, JudgeInstruction]:
    """The generator and judge tasks; they format the prompts and parse the replies."""
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
    config: GenerationConfig,
    *,
    generator: GenerateInstruction,
    judge: JudgeInstruction,
    state_dir: Path,
    seed: int,
    on_wave_done: Callable[[int, int, list[dict]], None] | None = None,
    handle_sigint: bool = False,
    execution: ExecutionConfig | None = None,
    tester_llm: LLM | None = None,
    sandbox: Any = None,
) -> tuple[list[dict], dict[str, Any]]:
    """Run the loop over rows with the tasks' (loaded) LLMs; returns records and call stats.

    With `execution` enabled, each case that passes the post-filter gets tests from `tester_llm`
    (None: the generator's LLM) and is run in `sandbox` (None: a new bwrap `Sandbox`). The call
    stats of this run are also written to `state_dir / CALL_STATS_FILE`. Raises
    `stopping.RunStopped` when the run stopped early (SIGINT with `handle_sigint`, or an
    endpoint refusing every request).
    """
    cache = ResponseCache(state_dir / RESPONSES_FILE)
    examples = ExampleDatabase(all_tasks(), state_dir / EXAMPLES_FILE)
    stop = StopSignal()
    generator_calls = LLMCaller(generator.llm, config.generator, cache, role="generator", stop=stop)
    judge_calls = LLMCaller(judge.llm, config.discriminator, cache, role="discriminator", stop=stop)
    stage = ExecutionStage.start(
        config, execution, generator_llm=generator.llm, tester_llm=tester_llm, cache=cache,
        stop=stop, state_dir=state_dir, sandbox=sandbox,
    )  # fmt: skip
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
        tester_calls=stage.tester_calls if stage else None,
        executor=stage.executor if stage else None,
    )
    try:
        records = asyncio.run(loop.run(rows))
    finally:
        stats = {"generator": vars(generator_calls.stats), "discriminator": vars(judge_calls.stats)}
        if stage is not None:
            stage.close(stats)
        (state_dir / CALL_STATS_FILE).write_text(json.dumps(stats, indent=2))
        examples.close()
        cache.close()
    return records, stats


@contextlib.contextmanager
def _quiet_standalone_tasks() -> Iterator[None]:
    """The inner tasks live outside any pipeline on purpose; silence distilabel's warning."""
    step_logger = logging.getLogger("distilabel.step")
    level = step_logger.level
    step_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        step_logger.setLevel(level)
