"""`JudgeInstruction`: the LLM Discriminator task (WaveCoder step 8).

The judge answers every rule of the code task one at a time, reason first, then gives an overall
verdict. A case is accepted only if every rule is answered yes and the overall answer is yes; a
judgement that leaves a rule unanswered is unreadable, and the case is rejected for that.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from distilabel.steps.tasks import Task
from pydantic import Field

from pipeline.generation.prompts import CASE_KEYS, render
from pipeline.generation.reply_layout import first_json_object
from pipeline.tasks import CodeTask, get_task

if TYPE_CHECKING:
    from distilabel.typing import ChatType

JUDGEMENT_SCHEMA_NAME = "judgement"
JUDGEMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "rule": {"type": "integer"},
                    "reason": {"type": "string"},
                    "answer": {"type": "string", "enum": ["yes", "no"]},
                },
                "required": ["rule", "reason", "answer"],
                "additionalProperties": False,
            },
        },
        "overall": {"type": "string", "enum": ["yes", "no"]},
    },
    "required": ["rules", "overall"],
    "additionalProperties": False,
}

# "Rule 3: <reason> => yes" (the prompt's layout), "3. <reason> => yes", "### Rule 3" with the
# reason and "Answer: yes" on the lines below; and the paper's answer-first "3. yes, <reason>".
# Replies are read after `_plain`: LF line ends and no bold markers.
_REASON_FIRST = re.compile(
    r"^\W*(?:rule\s*#?\s*)?(\d+)\s*(?:\([^)]*\))?\s*(?:[:.)\-]|(?=\n))\s*(.*?)\s*"
    r"(?:=>|->|→|answer\s*:)\s*\**(yes|no)\b",
    re.IGNORECASE | re.MULTILINE,
)
_ANSWER_FIRST = re.compile(
    r"^\W*(?:rule\s*#?\s*)?(\d+)\s*[:.)\-]\s*\**(yes|no)\b\**[\s,:;.\-–—]*(.*)$", re.I | re.M
)
_OVERALL = re.compile(
    r"^\W*(?:overall|final)(?:\s+(?:answer|verdict|judge?ment|assessment|decision|result))?"
    r"\W*?\s*[:=>\-]*\s*\**(yes|no)\b",
    re.I | re.M,
)
# A bold span, or a code span whose `**kwargs` must stay as it is.
_BOLD = re.compile(r"(`[^`\n]*`)|\*\*([^*\n]+?)\*\*")


def parse_judgement(text: str | None, task: CodeTask) -> dict[str, Any]:
    """Judgement columns from one reply: `judgement`, `accepted` and `judgement_problem`.

    `judgement` is ``{"rules": [{"rule", "passed", "reason"}], "overall": bool | None}`` with
    one entry per rule that was answered, in the task's rule order.
    """
    answers, overall = _read_answers(text or "")
    rules = []
    for number, rule in enumerate(task.rules, start=1):
        if number in answers:
            passed, reason = answers[number]
            rules.append({"rule": rule.id, "passed": passed, "reason": reason})
    judgement = {"rules": rules, "overall": overall}
    missing = [f"{n} ({r.id})" for n, r in enumerate(task.rules, start=1) if n not in answers]
    problem = None
    if not (text or "").strip():
        problem = "the judge returned no text"
    elif missing:
        problem = f"the judgement has no answer for rule {', '.join(missing)}"
    elif overall is None:
        problem = "the judgement has no overall answer"
    accepted = problem is None and overall is True and all(r["passed"] for r in rules)
    return {"judgement": judgement, "accepted": accepted, "judgement_problem": problem}


def _read_answers(text: str) -> tuple[dict[int, tuple[bool, str]], bool | None]:
    stripped = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    start = 0 if stripped.startswith("{") else first_json_object(stripped)
    if start is not None:
        try:
            data, _ = json.JSONDecoder().raw_decode(stripped, start)
        except json.JSONDecodeError:
            return {}, None
        return _read_json(data)
    text = _plain(text)
    answers: dict[int, tuple[bool, str]] = {}
    for match in _REASON_FIRST.finditer(text):
        answers.setdefault(
            int(match.group(1)), (match.group(3).lower() == "yes", _reason(match.group(2)))
        )
    if not answers:
        for match in _ANSWER_FIRST.finditer(text):
            answers.setdefault(
                int(match.group(1)), (match.group(2).lower() == "yes", _reason(match.group(3)))
            )
    overall = _OVERALL.search(text)
    return answers, (overall.group(1).lower() == "yes") if overall else None


def _plain(text: str) -> str:
    """The reply with LF line ends and bold spans unwrapped (`**Rule 1**:`, `**Answer:** yes`);
    code spans (`**kwargs`) stay as they are."""
    text = re.sub(r"\r\n?", "\n", text)
    return _BOLD.sub(lambda m: m.group(1) or m.group(2), text)


def _reason(text: str) -> str:
    return text.strip(" \t*")


def _read_json(data: Any) -> tuple[dict[int, tuple[bool, str]], bool | None]:
    """Answers of a JSON judgement; an item without a rule number or a yes/no is left out, so
    the rule it meant counts as unanswered (the judgement is then unreadable, not a crash)."""
    if not isinstance(data, dict):
        return {}, None
    answers = {}
    items = data.get("rules")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        answer = str(item.get("answer", "")).strip().lower()
        number = re.fullmatch(r"\D*(\d+)\D*", str(item.get("rule", "")).strip())
        if answer in ("yes", "no") and number:
            answers.setdefault(
                int(number.group(1)), (answer == "yes", str(item.get("reason", "")).strip())
            )
    overall = str(data.get("overall", "")).strip().lower()
    return answers, {"yes": True, "no": False}.get(overall)


def rejection_reasons(judgement: dict[str, Any], problem: str | None) -> list[dict[str, str]]:
    """Why a judged case was rejected: each failed rule with the judge's reason."""
    if problem:
        return [{"check": "judgement_unreadable", "message": problem}]
    failed = [
        {"check": r["rule"], "message": r["reason"] or "answered no"}
        for r in judgement["rules"]
        if not r["passed"]
    ]
    if failed:
        return failed
    if judgement["overall"] is False:
        return [
            {"check": "overall", "message": "the judge answered no overall without failing a rule"}
        ]
    return []


class JudgeInstruction(Task):
    """Judges a generated case rule by rule (yes/no with a reason), then overall.

    Attributes:
        output_format: `text` (one `Rule n: reason => yes|no` line per rule and `Overall:`) or
            `json` (send `JUDGEMENT_SCHEMA` as the response_format). Replies are parsed by shape.

    Input columns:
        - code (`str`), language (`str`), task (`str`): the raw snippet and its code task.
        - task_name, instruction, information, solution (`str`): the case to judge.

    Output columns:
        - judgement (`dict`): `rules` (rule id, passed, reason, in rule order) and `overall`.
        - accepted (`bool`): every rule passed and the overall answer is yes.
        - judgement_problem (`str` or None): why the reply could not be read, if it could not.
        - model_name (`str`): the discriminator.

    Categories:
        - critique

    Examples:
        Judge one case:

        ```python
        from distilabel.models.llms import OpenAILLM
        from pipeline.generation.judge_instruction import JudgeInstruction

        judge = JudgeInstruction(llm=OpenAILLM(model="gpt-4o"))
        judge.load()
        row = {"code": "...", "language": "go", "task": "generation", "task_name": "...",
               "instruction": "...", "information": "<noinput>", "solution": "..."}
        result = next(judge.process([row]))
        ```
    """

    output_format: str = Field(default="text", pattern="^(text|json)$")

    @property
    def inputs(self) -> list[str]:
        return ["code", "language", "task", *CASE_KEYS]

    @property
    def outputs(self) -> list[str]:
        return ["judgement", "accepted", "judgement_problem", "model_name"]

    def format_input(self, input: dict[str, Any]) -> ChatType:
        prompt = render(
            "judge.jinja2",
            task=get_task(input["task"]),
            language=input["language"],
            code=input["code"],
            case={key: input[key] for key in CASE_KEYS},
            output_format=self.output_format,
        )
        return [{"role": "user", "content": prompt}]

    def format_output(
        self, output: str | None, input: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return parse_judgement(output, get_task((input or {})["task"]))

    def get_structured_output(self) -> dict[str, Any]:
        return {"format": "json", "schema": JUDGEMENT_SCHEMA}
