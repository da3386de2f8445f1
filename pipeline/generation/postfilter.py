"""The paper's rule post-filter of generator output, applied before paying for a judgement.

A reply passes when it holds exactly one well-formed case with the four keys, an instruction of
one or two sentences, information of at most two sentences (for tasks whose information is
context, not code), at most one `<noinput>` value, and passes the task's own check. Values like
"none" or "" become `<noinput>`; an "Analysis:" the generator invents is cut off. Every
rejection names its check, so summaries can count them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pipeline.generation.prompts import CASE_KEYS
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
# A key line starts at column 0 (a markdown list, heading or bold marker may precede the key):
# an indented `instruction: str` is a dataclass field or YAML inside the solution, not a key.
_KEY_LINE = re.compile(
    r"^(?:[-*#>]+[ \t]*)?\**[ \t]*(task[_ ]name|instruction|information|solution)"
    r"[ \t]*\**[ \t]*:\**",
    re.IGNORECASE | re.MULTILINE,
)
_FENCE_LINE = re.compile(r"^[ \t]*```", re.MULTILINE)
# Where a JSON reply may start after a preamble: a `{` opening a line, or a ```json fence.
_JSON_START = re.compile(
    r"^[ \t]*(?:```(?:json)?[ \t]*\n[ \t]*)?(\{)", re.IGNORECASE | re.MULTILINE
)
# At the start of a line only: an indented "# analysis:" is a comment inside the code.
_ANALYSIS = re.compile(r"^\**analysis\**[ \t]*:", re.IGNORECASE | re.MULTILINE)
_REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry\b|i can(?:'|no)t|i cannot|i won'?t|i'?m unable|"
    r"i am unable|as an ai\b)",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```[\w+#.-]*[ \t]*\n(.*?)\n?```$", re.DOTALL)
_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx)\.", re.IGNORECASE)


class PostFilterRejected(Exception):
    """The reply fails a rule; `check` names the rule (e.g. ``instruction_sentences``)."""

    def __init__(self, check: str, message: str, case: dict | None = None):
        super().__init__(message)
        self.check = check
        self.message = message
        self.case = case or {}


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
    case = {key: _normalise(raw[key]) for key in CASE_KEYS}
    _check_rules(case, task)
    return Case(**case, extra=check_task(case, task, row))


def parse_case(text: str) -> dict:
    """The four keys of exactly one case, from JSON or from the `key: value` layout.

    A JSON object after a preamble ("Here is the case:") is read when the reply has no key lines.
    """
    body = _ANALYSIS.split(text, maxsplit=1)[0].strip()
    unfenced = _unfence(body)
    if unfenced.startswith(("{", "[")):
        return _parse_json(unfenced)
    if not _key_lines(body):
        start = first_json_object(body)
        if start is not None:
            return _parse_json(body[start:])
    return _parse_layout(body)


def first_json_object(text: str) -> int | None:
    """Offset of the first JSON object that opens a line (or a ```json fence) and decodes."""
    decoder = json.JSONDecoder()
    for match in _JSON_START.finditer(text):
        try:
            data, _ = decoder.raw_decode(text, match.start(1))
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            return match.start(1)
    return None


def _key_lines(text: str) -> list[re.Match]:
    """Key lines outside ``` fences (a fenced solution may hold YAML with such keys)."""
    fences = [m.start() for m in _FENCE_LINE.finditer(text)]
    return [m for m in _KEY_LINE.finditer(text) if sum(f < m.start() for f in fences) % 2 == 0]


def _parse_json(text: str) -> dict:
    decoder = json.JSONDecoder()
    try:
        data, end = decoder.raw_decode(text)
    except json.JSONDecodeError as exc:
        raise PostFilterRejected(
            "malformed_json", f"the reply is not valid JSON ({exc.msg})"
        ) from exc
    # Text after the object is tolerated, like a preamble before the layout; a second object is not.
    rest = _unfence(text[end:])
    if rest.startswith("{"):
        try:
            decoder.raw_decode(rest)
        except json.JSONDecodeError:
            pass
        else:
            raise PostFilterRejected(
                "multiple_cases", "the reply holds more than one case, not one"
            )
    if isinstance(data, list):
        if len(data) != 1:
            raise PostFilterRejected(
                "multiple_cases", f"the reply holds {len(data)} cases, not one"
            )
        data = data[0]
    if not isinstance(data, dict):
        raise PostFilterRejected("malformed_json", "the reply is JSON but not an object")
    data = {str(k).strip().lower().replace(" ", "_"): v for k, v in data.items()}
    missing = [key for key in CASE_KEYS if key not in data]
    if missing:
        raise PostFilterRejected("missing_keys", f"the case has no {', '.join(missing)}")
    unexpected = sorted(set(data) - set(CASE_KEYS))
    if unexpected:
        raise PostFilterRejected("unexpected_keys", f"the case has extra keys {unexpected}")
    if not all(isinstance(data[key], str) for key in CASE_KEYS):
        raise PostFilterRejected("malformed_json", "every value of the case must be a string")
    return {key: data[key] for key in CASE_KEYS}


def _parse_layout(text: str) -> dict:
    matches = _key_lines(text)
    keys = [m.group(1).lower().replace(" ", "_") for m in matches]
    if not matches:
        if _REFUSAL.match(text):
            raise PostFilterRejected("refusal", "the generator refused to write the case")
        raise PostFilterRejected("unparseable", "the reply holds none of the four keys")
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        count = max(keys.count(key) for key in repeated)
        raise PostFilterRejected(
            "multiple_cases",
            f"the reply holds {count} cases ({', '.join(repeated)} repeated), not one",
        )
    missing = [key for key in CASE_KEYS if key not in keys]
    if missing:
        raise PostFilterRejected("missing_keys", f"the case has no {', '.join(missing)}")
    if keys != list(CASE_KEYS):
        raise PostFilterRejected("unparseable", f"the keys are out of order: {', '.join(keys)}")
    values = {}
    for match, following in zip(matches, [*matches[1:], None], strict=False):
        end = following.start() if following else len(text)
        values[match.group(1).lower().replace(" ", "_")] = text[match.end() : end]
    return values


def _normalise(value: str) -> str:
    value = _unfence(value.strip())
    if value.strip().lower().rstrip(".") in _NOINPUT_VALUES:
        return NOINPUT
    return value


def _unfence(value: str) -> str:
    match = _FENCE.match(value.strip())
    return match.group(1).strip("\n") if match else value.strip()


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
