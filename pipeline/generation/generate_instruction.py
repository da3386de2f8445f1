"""`GenerateInstruction`: the LLM Generator task (WaveCoder step 6) and its post-filter (step 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from distilabel.steps.tasks import Task
from pydantic import Field

from pipeline.generation.postfilter import PostFilterRejected, postfilter
from pipeline.generation.prompts import CASE_KEYS, render
from pipeline.tasks import get_task

if TYPE_CHECKING:
    from distilabel.typing import ChatType

CASE_SCHEMA_NAME = "instruction_case"
# Strict JSON schema of one case (OpenAI structured outputs need every key required).
CASE_SCHEMA = {
    "type": "object",
    "properties": {key: {"type": "string"} for key in CASE_KEYS},
    "required": list(CASE_KEYS),
    "additionalProperties": False,
}


class GenerateInstruction(Task):
    """Writes one instruction case (task_name, instruction, information, solution) from raw code.

    The prompt is the code task's definition and numbered requirements, k good and k bad cases
    (each bad one with its analysis) and the input code. The reply is parsed as JSON or as the
    `key: value` layout and passed through the paper's rule post-filter; a reply that fails it
    keeps the reason in `postfilter` and has None in the four keys.

    Attributes:
        output_format: `text` (the `key: value` layout) or `json` (one JSON object; send the
            schema `CASE_SCHEMA` as the request's response_format where the backend supports it).
            Replies are parsed by their shape either way.
        examples_per_prompt: k, the good and bad seed cases used when a row brings none.

    Input columns:
        - code (`str`): the raw snippet.
        - language (`str`): its programming language.
        - task (`str`): the code task (generation, summarization, repair, translation).
        - good_examples (`list[dict]`, optional): good cases, each with code and the four keys.
        - bad_examples (`list[dict]`, optional): bad cases, each also with an analysis.

    Output columns:
        - task_name, instruction, information, solution (`str` or None): the case.
        - target_language (`str` or None): the target of a translation.
        - postfilter (`dict`): `passed`, and for a rejected reply `check` and `message`.
        - model_name (`str`): the generator.

    Categories:
        - text-generation

    Examples:
        Write repair data with an OpenAI-compatible endpoint:

        ```python
        from distilabel.models.llms import OpenAILLM
        from pipeline.generation.generate_instruction import GenerateInstruction

        task = GenerateInstruction(llm=OpenAILLM(model="gpt-4o-mini"))
        task.load()
        rows = [{"code": "def add(a, b):\\n    return a - b", "language": "python", "task": "repair"}]
        result = next(task.process(rows))
        ```
    """

    output_format: str = Field(default="text", pattern="^(text|json)$")
    examples_per_prompt: int = 1

    @property
    def inputs(self) -> dict[str, bool]:
        return {
            "code": True,
            "language": True,
            "task": True,
            "good_examples": False,
            "bad_examples": False,
        }

    @property
    def outputs(self) -> list[str]:
        return [*CASE_KEYS, "target_language", "postfilter", "model_name"]

    def format_input(self, input: dict[str, Any]) -> ChatType:
        task = get_task(input["task"])
        good = input.get("good_examples")
        bad = input.get("bad_examples")
        if good is None and bad is None:
            k = self.examples_per_prompt
            good = [c for c in task.seed_cases if c.good][:k]
            bad = [c for c in task.seed_cases if not c.good][:k]
        prompt = render(
            "generator.jinja2",
            task=task,
            good_examples=good or [],
            bad_examples=bad or [],
            code=input["code"],
            language=input["language"],
            output_format=self.output_format,
        )
        return [{"role": "user", "content": prompt}]

    def format_output(
        self, output: str | None, input: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return parse_generation(output, input or {})

    def get_structured_output(self) -> dict[str, Any]:
        return {"format": "json", "schema": CASE_SCHEMA}


def parse_generation(output: str | None, row: dict, *, truncated: bool = False) -> dict[str, Any]:
    """The columns of `GenerateInstruction` for one reply to `row` (which names its task)."""
    empty = dict.fromkeys(CASE_KEYS)
    try:
        case = postfilter(output, get_task(row["task"]), row, truncated=truncated)
    except PostFilterRejected as exc:
        # Keep what was parsed, so rejected rows can be inspected.
        parsed = {key: exc.case.get(key) for key in CASE_KEYS}
        return {
            **parsed,
            "target_language": None,
            "postfilter": {"passed": False, "check": exc.check, "message": exc.message},
        }
    return {
        **empty,
        **case.as_dict(),
        "target_language": case.extra.get("target_language"),
        "postfilter": {"passed": True, "check": None, "message": None},
    }
