"""The paper's rule post-filter of generator output, applied before paying for a judgement.

A reply passes when it holds exactly one well-formed case with the four keys, an instruction of
one or two sentences, information of at most two sentences (for tasks whose information is
context, not code), at most one `<noinput>` value, and passes the task's own check. Values like
"none" or "" become `<noinput>`; an "Analysis:" or "Explanation:" section the generator invents
after the case is cut off (after a fenced solution's closing fence, or at a prose heading after
an unfenced one, never where it opens the value or is a line of code: `reply_layout._ends_case`),
and so is commentary after the solution's closing code fence. Every rejection names its check,
so summaries can count them.

Replies are read in the layouts models write, not only the prompt's (`reply_layout`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.generation.prompts import CASE_KEYS
from pipeline.generation.reply_layout import (
    PostFilterRejected,
    parse_case,
    unclosed_fence,
    unfence,
)
from pipeline.tasks import CodeTask, TaskCheckFailed

NOINPUT = "<noinput>"
_NOINPUT_VALUES = {
    "",
    "<noinput>",
    "none",
    "n/a",
    "na",
    "null",
    "no input",
    "<no input>",
    "not applicable",
    "no additional information",
    "no additional information is required",
    "no additional information needed",
}
_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx)\.", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    """The four keys after normalisation, plus columns a task check adds (target_language)."""

    task_name: str
    instruction: str
    information: str
    solution: str
    extra: dict

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in CASE_KEYS}


def postfilter(text: str | None, task: CodeTask, row: dict, *, truncated: bool = False) -> Case:
    """Parse one generator reply and apply the rules; raises PostFilterRejected."""
    if text is None or not text.strip():
        raise PostFilterRejected("empty_output", "the generator returned no text")
    if truncated:
        raise PostFilterRejected(
            "truncated", "the reply stopped at the max_new_tokens limit, so the case may be cut off"
        )
    raw = parse_case(text)
    for key in CASE_KEYS:
        if unclosed_fence(raw[key]):
            raise PostFilterRejected(
                "unparseable", f"the {key} opens a code fence and never closes it"
            )
    case = {key: _normalise(raw[key], key) for key in CASE_KEYS}
    _check_rules(case, task)
    return Case(**case, extra=check_task(case, task, row))


def _normalise(value: str, key: str = "") -> str:
    value = unfence(value, drop_commentary=key == "solution")
    if value.strip().lower().rstrip(".") in _NOINPUT_VALUES:
        return NOINPUT
    return value


def _check_rules(case: dict, task: CodeTask) -> None:
    noinput = [key for key in CASE_KEYS if case[key] == NOINPUT]
    if len(noinput) > 1:
        raise PostFilterRejected(
            "noinput_keys",
            f"{len(noinput)} keys are <noinput> ({', '.join(noinput)}); at most one may be",
            case,
        )
    for key in ("instruction", "solution"):
        if case[key] == NOINPUT:
            raise PostFilterRejected("missing_value", f"the {key} is empty", case)
    sentences = count_sentences(case["instruction"])
    if not 1 <= sentences <= 2:
        raise PostFilterRejected(
            "instruction_sentences",
            f"the instruction has {sentences} sentences; 1 or 2 are allowed",
            case,
        )
    if task.information_is_code:
        if case["information"] == NOINPUT:
            raise PostFilterRejected(
                "information_code",
                f"the information must hold the code to work on for {task.title}",
                case,
            )
    elif case["information"] != NOINPUT:
        sentences = count_sentences(case["information"])
        if sentences > 2:
            raise PostFilterRejected(
                "information_sentences",
                f"the information has {sentences} sentences; at most 2 are allowed",
                case,
            )


def count_sentences(text: str) -> int:
    """Sentences of prose; code spans and abbreviations like "e.g." do not end one."""
    text = re.sub(r"```.*?```", " code ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "code", text)
    text = _ABBREVIATION.sub(lambda m: m.group(1), text)
    return len([part for part in re.split(r"[.!?]+(?=\s|$)", text) if part.strip()])


def check_task(case: dict, task: CodeTask, row: dict) -> dict:
    """Run a task's own check alone, turning its failure into a PostFilterRejected."""
    try:
        return task.check(case, row) if task.check else {}
    except TaskCheckFailed as exc:
        raise PostFilterRejected(exc.code, exc.message, case) from exc
