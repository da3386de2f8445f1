"""HumanEvalExplain (OctoPack): the model explains a correct function in words, then writes the
function back from its own explanation alone; the rewritten code is tested. 164 problems per
language, six languages.

Source: ``bigcode/humanevalpack`` (see `humanevalpack`). Stage 1 (describe): the function, then
"Provide a concise natural language description of the code using at most <n> characters.", n
being the length of the original docstring; the description is cut to n characters and lines of
the solution longer than 20 characters are removed from it (no copying the code). Stage 2
(synthesize): the description, then "Write functional code in <language> according to the
description.", primed with the declaration. A completion is the synthesized function, declaration
included, checked like HumanEvalFix; samples files may carry the ``description`` too.
"""

from __future__ import annotations

from evaluation.benchmarks.base import Problem, Request
from evaluation.benchmarks.humanevalpack import HumanEvalPack
from evaluation.postprocess import LANGUAGE_STOPS, truncate_at_stops
from evaluation.prompts import EXPLAIN_DESCRIBE_INSTRUCTION, EXPLAIN_SYNTHESIZE_INSTRUCTION

# Lines of the solution at least this long may not appear in a description (characters).
COPIED_LINE_CHARS = 20


class HumanEvalExplain(HumanEvalPack):
    name = "humanevalexplain"
    display_name = "HumanEvalExplain"
    stages = ("describe", "synthesize")

    def describe_request(self, problem: Problem) -> Request:
        """Stage 1: ask for a description of the canonical solution."""
        code = self.prompt_base(problem) + problem.data["canonical_solution"]
        length = len(problem.data["docstring"])
        prompt = code + "\n" + EXPLAIN_DESCRIBE_INSTRUCTION.format(length=length)
        return Request(instruction=prompt, plain=prompt.strip(), stops=("<|endoftext|>",))

    def description(self, problem: Problem, raw: str) -> str:
        """The usable description in a stage-1 generation."""
        length = len(problem.data["docstring"])
        text = truncate_at_stops(raw.strip()[:length], ("<|endoftext|>",)).rstrip()
        for line in problem.data["canonical_solution"].split("\n"):
            line = line.strip()
            if len(line) > COPIED_LINE_CHARS and line in text:
                text = text.replace(line, "")
        return text

    def request(self, problem: Problem, description: str = "") -> Request:
        """Stage 2: ask for code from `description`."""
        language = self.language_name(problem)
        prompt = description + "\n" + EXPLAIN_SYNTHESIZE_INSTRUCTION.format(language=language)
        base = self.prompt_base(problem)
        return Request(
            instruction=prompt,
            response_prefix=base,
            plain=(prompt + "\n\n" + base).strip(),
            stops=LANGUAGE_STOPS[problem.language],
        )
