"""Reading one generator reply: the four keys of exactly one case, in the layouts models write.

JSON, or the prompt's `key: value` layout and its variants: CRLF line ends, a preamble before the
case, markdown around the keys, a code fence opened on the key line or the next one, the whole
reply in one fence (YAML block scalars in it de-indented), commentary after the solution's fence
or an invented "Analysis:"/"Explanation:" section after the case (see `parse_case`). A reply that
holds no single readable case is a `PostFilterRejected`. The corpus in
tests/pipeline/fixtures/reply_layouts/ holds each layout with its exact parse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pipeline.generation.prompts import CASE_KEYS

_NEWLINES = re.compile(r"\r\n?")
# The head of a key line, at column 0 (an indented `instruction: str` is a dataclass field or
# YAML inside an unfenced solution, not a key). Markdown may decorate it: a heading (## to
# ######: "# Solution:" is a comment in unfenced Python, Ruby or shell code), list, quote or
# number marker, then emphasis around the key (`**Instruction:**`, `**Instruction**:`,
# `` `solution`: ``), and a qualifier may follow the key (`Solution (Go):`). `_key_line` reads
# the rest. "analysis" and "explanation" may end the case (see `_ends_case`).
_KEY_HEAD = re.compile(
    r"(?P<marker>\#{2,6}[ \t]*|(?:[-*+>]|\d{1,2}[.)])[ \t]+)?"
    r"(?:(?P<open>\*{1,3}|_{1,3}|`)[ \t]*)?"
    r"(?P<key>task[ _-]?name|instruction|information|solution|analysis|explanation)(?![\w-])"
    r"(?:[ \t]*\([^()\n]*\))?",
    re.IGNORECASE,
)
_END_KEYS = ("analysis", "explanation")
# What may follow an end key on its line for it to head a prose section in an unfenced value:
# nothing or a fence opener (`Explanation:`, `### Analysis`, `**Explanation:**`), or a sentence,
# a word followed by a space and another word (`Explanation: The function returns ...`,
# `Analysis: names_language: yes, ...`). Code has a symbol or nothing after its first word
# (`explanation: str = "circle"`, `analysis: Analysis = run()`, `explanation: list[str]`).
_SECTION_REST = re.compile(r"(?:`{3,}[^`]*)?|(?:`[^`\n]+`|[^\W\d_][\w'-]*)[,:]?[ \t]+[^\W\d_].*")
# CommonMark code fences: an opening line of 3+ backticks and an info string without backticks
# (so "```x = 1```" on one line opens nothing), closed by a line of at least as many backticks.
_FENCE_OPEN = re.compile(r"(?P<indent>[ \t]*)(?P<ticks>`{3,})[^`]*")
_FENCE_CLOSE = re.compile(r"[ \t]*(?P<ticks>`{3,})[ \t]*")
# A whole reply wrapped in one fence (```yaml ... ```), after an optional preamble and before
# an optional closing line. Those may hold inline code (`add`), never a fence: no ``` at all.
_WRAPPED = re.compile(
    r"\A(?:(?:(?!```).)*\n)?[ \t]*(`{3,})[\w+#.-]*[ \t]*\n(?P<inner>.*)\n[ \t]*\1[ \t]*"
    r"(?:\n(?:(?!```).)*)?\Z",
    re.DOTALL,
)
# A YAML block scalar's header (`|`, `|-`, `>`, `|2+`, and a comment), then its indented text.
_BLOCK_SCALAR = re.compile(
    r"\A[|>](?:(?P<width>[1-9])[+-]?|[+-](?P<width2>[1-9])?)?(?:[ \t]+#[^\n]*)?[ \t]*\n"
    r"(?P<body>.*)\Z",
    re.DOTALL,
)
_THEMATIC_BREAK = re.compile(r"(?:\n[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*)+\Z")
# Where a JSON reply may start after a preamble: a `{` opening a line, or a ```json fence.
_JSON_START = re.compile(
    r"^[ \t]*(?:```(?:json)?[ \t]*\n[ \t]*)?(\{)", re.IGNORECASE | re.MULTILINE
)
# A JSON object that opens with a case key: a case, even when it does not decode (cut off).
_JSON_CASE_START = re.compile(
    r"^[ \t]*(?:```(?:json)?[ \t]*\n[ \t]*)?(\{)\s*"
    r"\"(?:task[ _]name|instruction|information|solution)\"",
    re.IGNORECASE | re.MULTILINE,
)
_REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry\b|i can(?:'|no)t|i cannot|i won'?t|i'?m unable|"
    r"i am unable|as an ai\b)",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```[\w+#.-]*[ \t]*\n(.*?)\n?```$", re.DOTALL)


class PostFilterRejected(Exception):
    """The reply fails a rule; `check` names the rule (e.g. ``instruction_sentences``)."""

    def __init__(self, check: str, message: str, case: dict | None = None):
        super().__init__(message)
        self.check = check
        self.message = message
        self.case = case or {}


def parse_case(text: str) -> dict:
    """The four keys of exactly one case, from JSON or from the `key: value` layout.

    The reply is read as models write it: CRLF line ends, a preamble before the case, markdown
    around the keys (`**Instruction:**`, `### Solution`, `1. Task name:`), keys in any case, a
    code fence opened on the key line (`information: ```python`) or on the next line, the whole
    reply in one fence (a ```yaml one with `solution: |` block scalars; inline code in the lines
    around it), and commentary after the solution's closing fence. Key-like lines inside
    a fenced code block are code, not keys. A JSON object after a preamble ("Here is the case:")
    is read when the reply has no key lines.
    """
    body = _NEWLINES.sub("\n", text).lstrip("\ufeff").strip()
    unfenced = unfence(body)
    if unfenced.startswith(("{", "[")):
        return _parse_json(unfenced)
    lines = _key_lines(body)
    if not any(line.key in CASE_KEYS for line in lines):
        wrapped = _WRAPPED.match(body)
        if wrapped:
            inner = _key_lines(wrapped["inner"])
            if any(line.key in CASE_KEYS for line in inner):
                values = _parse_layout(wrapped["inner"], inner)
                return {key: _block_scalar(value) for key, value in values.items()}
        start = first_json_object(body)
        if start is None:
            # A case cut off mid-object is malformed JSON; code with braces is not JSON at all.
            cut = _JSON_CASE_START.search(body)
            start = cut.start(1) if cut else None
        if start is not None:
            return _parse_json(body[start:])
    return _parse_layout(body, lines)


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


@dataclass(frozen=True)
class _KeyLine:
    key: str  # one of CASE_KEYS, or one of _END_KEYS
    start: int  # offset of the line in the text
    value_start: int  # offset of the value: after the key (and its colon) on the same line


def _key_lines(text: str) -> list[_KeyLine]:
    """Key lines outside ``` fences (a fenced solution may hold YAML with such keys).

    A fence opened on a key line (`solution: ```python`) is a fence like one on its own line.
    """
    found = []
    fence = 0  # the length of the open fence's backtick run; 0 outside a fence
    offset = 0
    for line in text.split("\n"):
        if fence:
            close = _FENCE_CLOSE.fullmatch(line)
            if close and len(close["ticks"]) >= fence:
                fence = 0
        else:
            key = _key_line(line)
            rest = line
            if key:
                found.append(_KeyLine(key[0], offset, offset + key[1]))
                rest = line[key[1] :]
            opener = _FENCE_OPEN.fullmatch(rest)
            if opener:
                fence = len(opener["ticks"])
        offset += len(line) + 1
    return found


def _key_line(line: str) -> tuple[str, int] | None:
    """(key, offset of its value in the line) when `line` names a key, else None.

    The key takes a colon, inside or after its emphasis; a heading or an emphasised key alone
    (`### Solution`, `**Solution**`) needs none when nothing but a fence opener follows it.
    Prose that starts with a key word ("Instructions: ...", "Information technology: ...") is not
    a key line.
    """
    head = _KEY_HEAD.match(line)
    if not head:
        return None
    emphasis = head["open"] or ""
    closed = not emphasis
    rest = line[head.end() :].lstrip(" \t")
    if emphasis and rest.startswith(emphasis):
        rest, closed = rest[len(emphasis) :].lstrip(" \t"), True
    colon = rest.startswith(":")
    if colon:
        rest = rest[1:]
        if not closed and rest.startswith(emphasis):
            rest, closed = rest[len(emphasis) :], True
    if not closed:
        return None
    if not colon:
        decorated = bool(emphasis) or (head["marker"] or "").startswith("##")
        if not decorated or not (not rest.strip() or _FENCE_OPEN.fullmatch(rest)):
            return None
    key = head["key"].lower()
    return ("task_name" if key.startswith("task") else key), len(line) - len(rest)


def _parse_json(text: str) -> dict:
    decoder = json.JSONDecoder()
    try:
        data, end = decoder.raw_decode(text)
    except json.JSONDecodeError as exc:
        raise PostFilterRejected(
            "malformed_json", f"the reply is not valid JSON ({exc.msg})"
        ) from exc
    # Text after the object is tolerated, like a preamble before the layout; a second case is not.
    rest = unfence(text[end:])
    start = 0 if rest.startswith("{") else first_json_object(rest)
    if start is not None:
        try:
            second, _ = decoder.raw_decode(rest, start)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(second, dict) and set(map(_json_key, second)) & set(CASE_KEYS):
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
    data = {_json_key(k): v for k, v in data.items()}
    missing = [key for key in CASE_KEYS if key not in data]
    if missing:
        raise PostFilterRejected("missing_keys", f"the case has no {', '.join(missing)}")
    unexpected = sorted(set(data) - set(CASE_KEYS))
    if unexpected:
        raise PostFilterRejected("unexpected_keys", f"the case has extra keys {unexpected}")
    if not all(isinstance(data[key], str) for key in CASE_KEYS):
        raise PostFilterRejected("malformed_json", "every value of the case must be a string")
    return {key: data[key] for key in CASE_KEYS}


def _json_key(key: object) -> str:
    return re.sub(r"[ -]", "_", str(key).strip().lower())


def _parse_layout(text: str, lines: list[_KeyLine]) -> dict:
    # The case ends at an "Analysis:" or "Explanation:" the generator invents after it.
    matches, end = [], len(text)
    for line in lines:
        if line.key in _END_KEYS:
            if matches and _ends_case(text, matches[-1], line):
                end = line.start
                break
            continue
        matches.append(line)
    keys = [m.key for m in matches]
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
        # The spaces after the key's colon are no indentation of a fence opened there.
        value = text[match.value_start : following.start if following else end].lstrip(" \t")
        # A markdown rule (---) between sections belongs to no value.
        values[match.key] = _THEMATIC_BREAK.sub("", value.rstrip())
    return values


def _ends_case(text: str, last: _KeyLine, line: _KeyLine) -> bool:
    """Whether the end key `line` ("Analysis:", "### Explanation") ends the case whose last key
    so far is `last`; when it does not, the line is part of that key's value.

    - Never while the value is still empty: "solution:" then "Explanation: The function returns
      ..." is a summary that opens with a label, not a section after the case.
    - Always after a value that opens with a code fence: key lines inside a fence are never found
      (`_key_lines`), so the fence has closed and what follows is commentary.
    - In an unfenced value (code or prose up to the next key), only at a line that heads a prose
      section (`_SECTION_REST`): the key alone, unless the next line is indented (a YAML mapping
      key or a code label), or a sentence after it. A line of code such as
      `explanation: str = "circle"` is part of the value.
    """
    value = text[last.value_start : line.start]
    if not value.strip():
        return False
    if _fenced_block(value.lstrip(" \t")) is not None:
        return True
    line_end = text.find("\n", line.value_start)
    line_end = len(text) if line_end < 0 else line_end
    rest = text[line.value_start : line_end].strip()
    if not _SECTION_REST.fullmatch(rest):
        return False
    if rest:
        return True
    following = text[line_end + 1 :].split("\n", 1)[0]
    return not (following[:1] in (" ", "\t") and following.strip())


def _block_scalar(value: str) -> str:
    """The text of a YAML block scalar (`solution: |` then indented lines), de-indented, as a
    reply wrapped whole in a ```yaml fence writes its values; other values as they are.

    A folded scalar (`>`) is read like a literal one (`|`): its lines are kept, since folding
    them would join the lines of code. The indentation is the header's indicator or that of the
    first line with text.
    """
    match = _BLOCK_SCALAR.match(value)
    if not match:
        return value
    lines = match["body"].split("\n")
    width = match["width"] or match["width2"]
    if width:
        indent = int(width)
    else:
        first = next((line for line in lines if line.strip()), "")
        indent = len(first) - len(first.lstrip(" \t"))
    return "\n".join(re.sub(f"^[ \t]{{0,{indent}}}", "", line) for line in lines).strip("\n")


def unfence(value: str, *, drop_commentary: bool = False) -> str:
    """The code of a value that is one fenced block; other values stripped, as they are.

    With `drop_commentary` (the solution, which is code only), prose after the closing fence
    ("This solution works by ...") is dropped; a second code block keeps the value as it is.
    """
    block = _fenced_block(value)
    if block and block[1] is not None:
        code, after = block
        if not after.strip() or (drop_commentary and "```" not in after):
            return code
        return value.strip()
    # A closing fence glued to the last line of code ("    return x```").
    match = _FENCE.match(value.strip())
    return match.group(1).strip("\n") if match else value.strip()


def _fenced_block(value: str) -> tuple[str, str | None] | None:
    """(code, text after the closing fence) of a value that opens with a code fence, with the
    fence's indentation taken off the code (a fence inside a list item); the text after is None
    when the fence never closes. None when the value does not open with a fence."""
    lines = re.sub(r"\A(?:[ \t]*\n)+", "", value.rstrip()).split("\n")
    opener = _FENCE_OPEN.fullmatch(lines[0])
    if not opener:
        return None
    end = next(
        (
            number
            for number, line in enumerate(lines[1:], start=1)
            if (close := _FENCE_CLOSE.fullmatch(line))
            and len(close["ticks"]) >= len(opener["ticks"])
        ),
        None,
    )
    code = lines[1:end]
    if indent := len(opener["indent"]):
        code = [re.sub(f"^[ \t]{{0,{indent}}}", "", line) for line in code]
    after = None if end is None else "\n".join(lines[end + 1 :])
    return "\n".join(code).strip("\n"), after


def unclosed_fence(value: str) -> bool:
    block = _fenced_block(value)
    return block is not None and block[1] is None and not _FENCE.match(value.strip())
