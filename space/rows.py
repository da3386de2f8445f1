"""How one CodeOcean row is shown in the Space: every value as inert, literal text.

A row is a dict with the columns of a dataset folder's configs (`pipeline/README.md`, "The
dataset folder"); `row_view` turns it into the values of the app's components. Text that came
from a model or a repository is never markup: prose goes through `escape_markdown` before it
reaches a `gr.Markdown`, code goes to a `gr.Code` (which shows text as text) with a language
gr.Code accepts, and judgement rows go to a plain `gr.Dataframe` (whose cells escape).

gr.Markdown (gradio 6.31) renders in the browser: marked with GFM, then sanitizes (an allow-list,
`sanitize_html=True`), then runs KaTeX on a block whose raw text contains a latex delimiter
(`$$` by default). Its latex and mermaid extensions put the raw text between `$$` ... `$$` (or
in a ```` ```mermaid ```` fence) into the page unescaped, even inside a code span, so wrapping
text in code spans is not safe there; a numeric character reference is always literal text.
"""

from __future__ import annotations

import json
import math
import string
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from pipeline.generation.records import DATASET_COLUMNS

# Corpus and target-language names -> the language gr.Code highlights. gr.Code raises for a
# language outside `gr.Code.languages` (go, java, php, ruby and rust among them in 6.31), so
# those, and anything unknown, are shown without highlighting (None).
CODE_LANGUAGES = {
    "python": "python",
    "py": "python",
    "javascript": "javascript",
    "js": "javascript",
    "node": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "c++": "cpp",
    "cpp": "cpp",
    "c": "c",
    "shell": "shell",
    "bash": "shell",
    "sh": "shell",
    "json": "json",
    "sql": "sql",
    "yaml": "yaml",
    "html": "html",
    "css": "css",
    "markdown": "markdown",
    "r": "r",
    "dockerfile": "dockerfile",
    "latex": "latex",
}
# Tasks whose solution is prose, not code (the task registry does not record it).
PROSE_OUTPUT_TASKS = frozenset({"summarization"})
# Columns a row may carry that `row_view` shows in its own fields; any other column (an outcome
# column a later issue adds, such as `contamination` or `duplicate_of`, too) is an extra, shown
# as JSON. `coverage_radius` comes from selection.parquet when the app joins it onto a row.
SHOWN_OUTCOME_COLUMNS = ("status", "stage", "reasons", "selection_rank", "raw_generation",
                         "raw_judgement")  # fmt: skip
# `execution` (the sandbox's record: status, tests, checks, output tails) has no field of its own:
# it is shown whole, as JSON.
KNOWN_COLUMNS = frozenset(
    {*DATASET_COLUMNS, *SHOWN_OUTCOME_COLUMNS, "coverage_radius"} - {"execution"}
)
SOURCE_LABELS = {
    "repo": "Repository",
    "path": "Path",
    "func_name": "Function",
    "license": "Licence",
    "dataset": "Dataset",
}
ROLES = ("generator", "discriminator")
JUDGEMENT_HEADERS = ["rule", "verdict", "reason"]  # the columns of `RowView.judgement_rows`

# Every ASCII punctuation character can start or end markdown, HTML, an autolink or a latex
# block; as a numeric character reference it is plain text to marked and to the browser.
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
# Characters left as they are in a link destination (`&` then written as `&amp;`); everything
# else is percent-encoded. `$` is not among them: a raw `$$` starts a latex block anywhere.
_URL_SAFE = "/:?#[]@!&'*+,;=%-._~"


def code_language(language: str | None) -> str | None:
    """The `gr.Code` language for a corpus language name, or None where gr.Code has none."""
    if not language:
        return None
    return CODE_LANGUAGES.get(language.strip().lower())


def escape_markdown(text: Any) -> str:
    """`text` as markdown that gr.Markdown shows literally: no tag, link, emphasis, list,
    heading, code or latex of its own; line breaks kept as hard breaks."""
    if text is None:
        return ""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    escaped = []
    for line in lines:
        body = line.lstrip(" \t")
        # Leading blanks as references: four of them would start an indented code block.
        indent = "".join(f"&#{ord(c)};" for c in line[: len(line) - len(body)])
        escaped.append(indent + body.translate(_ENTITIES))
    # A backslash before the line end is a hard break; the text's own backslashes are escaped.
    return "\\\n".join(escaped)


def markdown_link(url: str | None) -> str:
    """An http(s) URL as a markdown link showing the URL; any other URL as escaped text."""
    if not url:
        return ""
    url = str(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return escape_markdown(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return escape_markdown(url)
    target = quote(url, safe=_URL_SAFE).replace("&", "&amp;")
    return f"[{escape_markdown(url)}]({target})"


def share_url(base_url: str, row_id: str) -> str:
    """`base_url` with only the query parameter `row=<row_id>` (URL-quoted). Every other
    parameter and the fragment are dropped: on huggingface.co the app's own URL carries the
    visitor's sign-in token (`__sign`), which a shared link must never copy."""
    parts = urlsplit(base_url)
    query = urlencode([("row", str(row_id))], quote_via=quote, safe="")
    return urlunsplit(parts._replace(query=query, fragment=""))


@dataclass(frozen=True)
class RowView:
    """The values the app shows for one row.

    Attributes:
        id: the row's id (for `share_url`).
        header_md: task, languages, id and status (gr.Markdown).
        instruction: the instruction, plain text (gr.Textbox).
        input, input_language: the input and its gr.Code language (None: plain text; the
            input of a generation row is prose).
        output, output_language: the output; a translation's is in its target language.
        source_code, source_language: the snippet the case was made from.
        provenance_md: repository, path, function, licence, dataset and URL (gr.Markdown).
        selection_md: KCenterGreedy's rank and coverage radius, "" when unknown.
        judgement_rows: [rule, "yes"/"no", reason] per rule (a plain gr.Dataframe).
        overall_verdict: the discriminator's overall answer, "yes", "no" or "" when unjudged.
        usage_md: prompt and completion tokens per role (gr.Markdown).
        outcome_md: status, stage and reasons of a rejected or failed row; "" when accepted.
        raw_generation, raw_judgement: the models' raw replies kept with rejected and failed
            rows ("" otherwise; plain text).
        extras: the columns beyond `KNOWN_COLUMNS` (e.g. `execution`, `contamination`), as
            JSON-ready values (gr.JSON); empty when there are none.
    """

    id: str
    header_md: str
    instruction: str
    input: str
    input_language: str | None
    output: str
    output_language: str | None
    source_code: str
    source_language: str | None
    provenance_md: str
    selection_md: str
    judgement_rows: list[list[str]]
    overall_verdict: str
    usage_md: str
    outcome_md: str
    raw_generation: str = ""
    raw_judgement: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


def row_view(row: dict[str, Any]) -> RowView:
    """The view of one dataset row (any config; missing columns show as absent)."""
    task = row.get("task") or ""
    language = row.get("language")
    judgement = row.get("judgement") or {}
    return RowView(
        id=str(row.get("id") or ""),
        header_md=_header_md(row),
        instruction=_text(row.get("instruction")),
        input=_text(row.get("input")),
        input_language=code_language(language) if _input_is_code(task) else None,
        output=_text(row.get("output")),
        output_language=None
        if task in PROSE_OUTPUT_TASKS
        else code_language(row.get("target_language") or language),
        source_code=_text(row.get("source_code")),
        source_language=code_language(language),
        provenance_md=_provenance_md(row.get("source") or {}),
        selection_md=_selection_md(row.get("selection_rank"), row.get("coverage_radius")),
        judgement_rows=[
            [_text(rule.get("rule")), _verdict(rule.get("passed")), _text(rule.get("reason"))]
            for rule in judgement.get("rules") or []
        ],
        overall_verdict=_verdict(judgement.get("overall")),
        usage_md=_usage_md(row),
        outcome_md=_outcome_md(row),
        raw_generation=_text(row.get("raw_generation")),
        raw_judgement=_text(row.get("raw_judgement")),
        extras={
            k: _jsonable(v) for k, v in row.items() if k not in KNOWN_COLUMNS and not _empty(v)
        },
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _verdict(passed: bool | None) -> str:
    return "" if passed is None else ("yes" if passed else "no")


def _input_is_code(task: str) -> bool:
    from pipeline.tasks.registry import all_tasks

    known = all_tasks().get(task)
    return bool(known and known.information_is_code)


def _header_md(row: dict[str, Any]) -> str:
    language = escape_markdown(row.get("language") or "unknown language")
    if row.get("target_language"):
        language += f" → {escape_markdown(row['target_language'])}"
    status = row.get("status") or "accepted"
    task = escape_markdown(row.get("task") or "unknown task")
    return (
        f"**{task}** · {language} · {escape_markdown(status)} · id {escape_markdown(row.get('id'))}"
    )


def _provenance_md(source: dict[str, Any]) -> str:
    lines = [
        f"- **{label}:** {escape_markdown(source[key])}"
        for key, label in SOURCE_LABELS.items()
        if source.get(key)
    ]
    if source.get("url"):
        lines.append(f"- **URL:** {markdown_link(source['url'])}")
    lines += [
        f"- **{escape_markdown(key)}:** {escape_markdown(value)}"
        for key, value in source.items()
        if value and key not in SOURCE_LABELS and key != "url"
    ]
    return "\n".join(lines) or "No provenance recorded."


def _selection_md(rank: Any, radius: Any) -> str:
    if rank is None or int(rank) < 0:  # build_record writes -1 for an unknown rank
        return ""
    rank = int(rank)
    lines = [f"- **Selection rank:** {rank} (KCenterGreedy's pick number, from 0)"]
    if radius is not None and not math.isnan(float(radius)):
        lines.append(
            f"- **Coverage radius:** {float(radius):.4f} (distance to the nearest earlier pick)"
        )
    elif rank == 0:
        lines.append("- **Coverage radius:** none (the first center)")
    return "\n".join(lines)


def _usage_md(row: dict[str, Any]) -> str:
    usage = row.get("usage") or {}
    lines = []
    for role in ROLES:
        tokens = usage.get(role) or {}
        model = row.get(f"{role}_model")
        name = f" ({escape_markdown(model)})" if model else ""
        lines.append(
            f"- **{role.capitalize()}**{name}: {int(tokens.get('prompt_tokens') or 0)} prompt "
            f"+ {int(tokens.get('completion_tokens') or 0)} completion tokens"
        )
    return "\n".join(lines)


def _outcome_md(row: dict[str, Any]) -> str:
    status = row.get("status")
    if not status or status == "accepted":
        return ""
    head = f"**{escape_markdown(status.capitalize())}**"
    if row.get("stage"):
        head += f" at the {escape_markdown(row['stage'])} stage"
    reasons = [
        f"- **{escape_markdown(reason.get('check') or 'unknown check')}:** "
        f"{escape_markdown(reason.get('message'))}"
        for reason in row.get("reasons") or []
    ]
    return "\n".join([head + ("." if not reasons else ":"), *reasons])


def _jsonable(value: Any) -> Any:
    """`value` with numpy and pyarrow scalars and arrays as plain Python values."""
    if hasattr(value, "as_py"):
        value = value.as_py()
    elif hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.loads(json.dumps(value, default=str))


def _empty(value: Any) -> bool:
    """None, or an empty list, dict or string (a column a row does not use)."""
    return value is None or (isinstance(value, list | tuple | dict | str) and len(value) == 0)
