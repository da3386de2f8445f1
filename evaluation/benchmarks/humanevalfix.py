"""HumanEvalFix (OctoPack; the "tests" variant the WaveCoder paper reports): 164 buggy functions
per language, to be fixed given the function and its failing unit tests; six languages.

Source: ``bigcode/humanevalpack`` (see `humanevalpack`). The instruction is the buggy function
followed by its tests, then "Fix bugs in <entry point>."; the answer is primed with the
declaration. A completion is the fixed function, declaration included; the checked program is the
language's preamble, the completion, then the tests.
"""

from __future__ import annotations

from evaluation.benchmarks.base import Problem, Request
from evaluation.benchmarks.humanevalpack import HumanEvalPack
from evaluation.postprocess import LANGUAGE_STOPS
from evaluation.prompts import FIX_INSTRUCTION


class HumanEvalFix(HumanEvalPack):
    name = "humanevalfix"
    display_name = "HumanEvalFix"

    def request(self, problem: Problem) -> Request:
        base = self.prompt_base(problem)
        context = base + problem.data["buggy_solution"] + "\n" + problem.test
        instruction = FIX_INSTRUCTION.format(entry_point=problem.entry_point)
        prompt = context + "\n" + instruction
        return Request(
            instruction=prompt,
            response_prefix=base,
            plain=(prompt + "\n\n" + base).strip(),
            stops=LANGUAGE_STOPS[problem.language],
        )
