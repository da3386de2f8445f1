"""The benchmarks, by the name `wavecoder evaluate --benchmark` takes."""

from __future__ import annotations

from evaluation.benchmarks.base import Benchmark, Problem, Request
from evaluation.benchmarks.humaneval import HumanEval
from evaluation.benchmarks.humanevalexplain import HumanEvalExplain
from evaluation.benchmarks.humanevalfix import HumanEvalFix
from evaluation.benchmarks.mbpp import MBPP

BENCHMARKS: dict[str, type[Benchmark]] = {
    cls.name: cls for cls in (HumanEval, MBPP, HumanEvalFix, HumanEvalExplain)
}

__all__ = ["BENCHMARKS", "Benchmark", "Problem", "Request", "get_benchmark"]


def get_benchmark(name: str) -> Benchmark:
    return BENCHMARKS[name]()
