"""The execution stage's parts that the generation loop uses but that stand alone: the case as
pipeline/execution reads it, the failure as a bad example's analysis, and the stage's start and
end around a run (the tester's caller, the sandbox pool, their call stats)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.execution.config import ExecutionConfig
from pipeline.execution.executor import CaseExecutor
from pipeline.execution.run import FAILED, TIMEOUT
from pipeline.generation.config import GenerationConfig, tester_config, tester_needs_own_llm
from pipeline.generation.llm_calls import LLMCaller
from pipeline.generation.postfilter import NOINPUT
from pipeline.generation.response_cache import ResponseCache
from pipeline.generation.stopping import StopSignal

if TYPE_CHECKING:
    from distilabel.models.llms.base import LLM


def execution_case(row: dict, case: dict, target_language: str | None) -> dict[str, Any]:
    """The case (the generator's keys) in the dataset's columns, as pipeline/execution reads it."""
    information = case.get("information") or ""
    return {
        "task": row["task"],
        "language": row.get("language"),
        "target_language": target_language,
        "instruction": case.get("instruction") or "",
        "input": "" if information == NOINPUT else information,
        "output": case.get("solution") or "",
        "source_code": row["code"],
    }


def failed_its_run(result: dict[str, Any] | None) -> bool:
    """The case itself failed its checks (not the tester, not the sandbox)."""
    return bool(result) and result["status"] in (FAILED, TIMEOUT)


def execution_analysis(result: dict[str, Any]) -> str:
    """The failure as the bad example's analysis: the failing check, and what the run said."""
    tail = " ".join((result.get("stderr_tail") or result.get("stdout_tail") or "").split())
    said = f" The run said: {tail[-300:]}" if tail else ""
    return f"execution: no, the code was run against tests and {result['reason']}.{said}"


@dataclass
class ExecutionStage:
    """The tester's caller and the sandbox pool of one run; `start` returns None when the
    recipe's execution is off."""

    tester_calls: LLMCaller
    executor: CaseExecutor
    own_tester: Any = None  # a tester LLM built here (unloaded at the end), else None

    @classmethod
    def start(
        cls,
        config: GenerationConfig,
        execution: ExecutionConfig | None,
        *,
        generator_llm: LLM,
        tester_llm: LLM | None,
        cache: ResponseCache,
        stop: StopSignal,
        state_dir: Path,
        sandbox: Any = None,
    ) -> ExecutionStage | None:
        if execution is None or not execution.enabled:
            return None
        tester, own = tester_config(config), None
        if tester_llm is None and tester_needs_own_llm(config):  # another model or endpoint
            from pipeline.generation.backends import build_llm

            tester_llm = own = build_llm(tester)
            tester_llm.load()
        calls = LLMCaller(tester_llm or generator_llm, tester, cache, role="tester", stop=stop)
        executor = CaseExecutor(execution, state_dir, sandbox)
        stop.on_set(executor.halt)
        return cls(calls, executor, own)

    def close(self, stats: dict[str, Any]) -> None:
        """Wait for the pool, unload a tester built here, add the tester's and the sandbox's
        figures to the run's call `stats`."""
        self.executor.close()
        if self.own_tester is not None:
            self.own_tester.unload()
        stats["tester"] = vars(self.tester_calls.stats)
        stats["execution"] = vars(self.executor.stats)
