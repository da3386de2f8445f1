"""MBPP (Austin et al. 2021), the 500-problem test split the WaveCoder paper reports: short
crowd-sourced Python tasks, each a sentence of text and three test asserts.

Source: ``google-research-datasets/mbpp`` (config ``full``, split ``test``, 500 rows; task ids 11
to 510) on the Hub, loaded at run time; ``--dataset FILE.jsonl`` reads a local copy with the same
columns (``task_id``, ``text``, ``code``, ``test_list``, ``test_setup_code``). Task ids are
written ``Mbpp/<n>``; bare numbers are accepted. The prompt is WaveCoder's: the text, then the test
asserts. A completion is the whole solution code; the checked program is
``completion + "\\n" + test_setup_code + "\\n" + asserts``.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.benchmarks.base import Benchmark, Problem, Request, load_hub_rows, read_jsonl
from evaluation.languages import Program
from evaluation.prompts import MBPP_INSTRUCTION, MBPP_PLAIN

# Continuation stops for base models, after bigcode-evaluation-harness's MBPP task.
MBPP_STOPS = ("\nclass", "\nassert", '\n"""', "\nprint", "\nif", "\n<|/", "\n```", "<|endoftext|>")


class MBPP(Benchmark):
    name = "mbpp"
    display_name = "MBPP"
    dataset_id = "mbpp"
    hub_id = "google-research-datasets/mbpp"
    dataset_config = "full"
    default_timeout_s = 3.0
    example_task_id = "Mbpp/11"

    def load(self, language: str = "python", source: str | None = None) -> dict[str, Problem]:
        if source:
            rows = read_jsonl(Path(source))
        else:
            rows = load_hub_rows(self.hub_id, self.dataset_config, "test")
        problems = {}
        for row in rows:
            task_id = self.normalize_task_id(row["task_id"])
            tests = "\n".join(row["test_list"])
            problems[task_id] = Problem(
                task_id=task_id,
                language="python",
                prompt=row["text"],
                entry_point="",
                test=(row.get("test_setup_code") or "") + "\n" + tests + "\n",
                data=row,
            )
        return problems

    def normalize_task_id(self, task_id) -> str:
        text = str(task_id)
        return f"Mbpp/{text}" if text.isdigit() else text

    def request(self, problem: Problem) -> Request:
        tests = "\n".join(problem.data["test_list"])
        return Request(
            instruction=MBPP_INSTRUCTION.format(text=problem.prompt, tests=tests),
            plain=MBPP_PLAIN.format(text=problem.prompt, tests=problem.data["test_list"][0]),
            stops=MBPP_STOPS,
        )

    def canonical_completion(self, problem: Problem) -> str | None:
        return problem.data.get("code")

    def program(self, problem: Problem, completion: str) -> Program:
        return Program("python", completion, "\n" + problem.test)
