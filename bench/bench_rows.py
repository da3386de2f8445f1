"""The rows and the scripted replies of `bench/generate.py`: small functions in six languages, a
generator that writes executable cases for them (a repair with a real bug, a real translation),
passing tests for the tester, and a judge that says no to 1 row in 5."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

# The scripted server and the replies of the tests are test fixtures.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "pipeline"))

from generation_fixtures import (
    LANGUAGE_NAMES,
    as_reply_text,
    good_case,
    judgement_text,
    prompt_input,
    task_of,
)
from scripted_server import Reply

LANGUAGES = ("python", "go", "java", "javascript", "php", "ruby")
TEMPLATES = {
    "python": "def step_{i}(x):\n    return x * {i} + 1",
    "go": "func Step{i}(x int) int {{\n\treturn x*{i} + 1\n}}",
    "java": "static int step{i}(int x) {{\n    return x * {i} + 1;\n}}",
    "javascript": "function step{i}(x) {{\n  return x * {i} + 1;\n}}",
    "php": "function step_{i}(int $x): int {{\n    return $x * {i} + 1;\n}}",
    "ruby": "def step_{i}(x)\n  x * {i} + 1\nend",
}
# The binary whose presence makes a language runnable here (the sandbox's own probe decides).
TOOLCHAIN_BINARIES = {
    "python": None,
    "go": "go",
    "java": "javac",
    "javascript": "node",
    "php": "php",
    "ruby": "ruby",
}
# The examples every test checks: step_i(x) = x * i + 1.
EXAMPLES = (2, -3)


def make_rows(n: int, languages: tuple[str, ...] = LANGUAGES) -> list[dict]:
    """n distinct small functions, cycling over `languages`, shaped like selected rows."""
    rows = []
    for i in range(n):
        language = languages[i % len(languages)]
        rows.append(
            {
                "id": f"bench-{i:05d}",
                "code": TEMPLATES[language].format(i=i),
                "docstring": "",
                "language": language,
                "source": {"dataset": "bench", "func_name": f"step{i}"},
                "selection_rank": i,
                "coverage_radius": 1.0,
            }
        )
    return rows


def installed_languages() -> tuple[str, ...]:
    """The bench languages whose toolchain binary is on PATH."""
    import shutil

    return tuple(
        lang
        for lang in LANGUAGES
        if TOOLCHAIN_BINARIES[lang] is None or shutil.which(TOOLCHAIN_BINARIES[lang])
    )


def bench_case(row: dict, task: str, languages: tuple[str, ...]) -> dict:
    """The generator's case (tests/pipeline/generation_fixtures.good_case), made executable: a
    repair's information carries a real bug (+ 2 for + 1) and its solution is the row's code; a
    translation's solution is the same function in the target language."""
    snippet = {**row, "source": {"func_name": row["source"]["func_name"]}}
    case = good_case(snippet, task)
    language, i = row["language"], int(row["id"][-5:])
    if task == "repair":
        name = row["source"]["func_name"]
        return {
            **case,
            "instruction": f"The {LANGUAGE_NAMES[language]} function {name} adds 2 instead of 1; fix it.",
            "information": row["code"].replace(" + 1", " + 2"),
            "solution": row["code"],
        }
    if task == "translation":
        target = translation_target(language, languages)
        return {
            **case,
            "instruction": f"Translate this {LANGUAGE_NAMES[language]} function into {LANGUAGE_NAMES[target]}.",
            "solution": TEMPLATES[target].format(i=i),
        }
    return case


def translation_target(language: str, languages: tuple[str, ...]) -> str:
    """The first bench language other than `language` (Python, then JavaScript, as fallbacks)."""
    return next(lang for lang in (*languages, "python", "javascript") if lang != language)


def tests_for(language: str, i: int) -> str:
    """Passing tests of step i in `language`, in the form `pipeline.execution.tester` asks."""
    checks = [(x, x * i + 1) for x in EXAMPLES]
    if language == "python":
        return "".join(f"assert step_{i}({x}) == {y}\n" for x, y in checks)
    if language == "javascript":
        return "".join(
            f"if (step{i}({x}) !== {y}) {{ throw new Error('step{i}({x})'); }}\n" for x, y in checks
        )
    if language == "java":
        body = "".join(
            f'        if (Solution.step{i}({x}) != {y}) {{ throw new AssertionError("{x}"); }}\n'
            for x, y in checks
        )
        return (
            "public class Main {\n    public static void main(String[] args) {\n"
            f"{body}    }}\n}}\n"
        )
    if language == "go":
        body = "".join(
            f'\tif got := Step{i}({x}); got != {y} {{\n\t\tt.Fatalf("Step{i}({x}) = %d", got)\n\t}}\n'
            for x, y in checks
        )
        return f"func TestStep{i}(t *testing.T) {{\n{body}}}\n"
    if language == "php":
        return "".join(
            f"if (step_{i}({x}) !== {y}) {{ throw new Exception('step_{i}({x})'); }}\n"
            for x, y in checks
        )
    if language == "ruby":
        return "".join(f"raise 'step_{i}({x})' unless step_{i}({x}) == {y}\n" for x, y in checks)
    raise ValueError(language)


TESTER_PROMPTS = ("Write tests for this ", "This ")
_STEP = re.compile(r"\b[sS]tep_?(\d+)\b")
_TRANSLATED = re.compile(r"^This (\S+) code was translated to (\S+?)\.$", re.M)
_BY_NAME = {name: lang for lang, name in LANGUAGE_NAMES.items()}


def tester_reply(rows: list[dict], prompt: str) -> str:
    """The tester's answer: one fenced block of passing tests per tested language."""
    row = rows[int(_STEP.search(prompt).group(1))]
    i, languages = int(row["id"][-5:]), [row["language"]]
    translated = _TRANSLATED.search(prompt)
    if translated:
        languages.append(_BY_NAME[translated.group(2)])
    return "\n".join(f"```{lang}\n{tests_for(lang, i)}```\n" for lang in languages)


def responder(rows: list[dict], delay: float, jitter: float, languages: tuple[str, ...]):
    """All three LLMs: a valid (executable) case for the prompt's task, passing tests for the
    tester's prompts, then yes on every rule but for 1 row in 5; each answer after
    delay * U(1 - jitter, 1 + jitter), drawn from the prompt's hash."""
    by_code = {row["code"]: row for row in rows}

    def script(request) -> Reply:
        prompt = request.prompt
        unit = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") / 2**32
        seconds = delay * (1 - jitter + 2 * jitter * unit)
        if prompt.startswith(TESTER_PROMPTS) and "\nInput (" not in prompt:
            return Reply(tester_reply(rows, prompt), delay=seconds)
        row = by_code[prompt_input(request)[1]]
        if prompt.startswith("You check"):
            failing = {2: "The language is not named."} if int(row["id"][-5:]) % 5 == 0 else None
            return Reply(judgement_text(request, failing), delay=seconds)
        case = bench_case(row, task_of(request), languages)
        return Reply(as_reply_text(case, request), delay=seconds)

    return script
