"""The Space's one-click prompts: an (instruction, input) pair for each of the four CodeOcean
tasks, worded like the dataset's own instructions and starting from the open row's code.

The keys are the dataset's task names (`generation`, `summarization`, `repair`, `translation`);
`label` is the button text. Translation targets the corpus languages (CodeSearchNet's six) plus
C++ and Rust, named in prose as `pipeline.tasks.translation` reads them back.

    instruction, input = task_prompt("translation", code=row["code"], language="python",
                                     target_language="go")
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wavecoder.errors import UserError

# Language id (as in the dataset's `language` column) -> how the instructions name it.
LANGUAGE_NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "java": "Java",
    "go": "Go",
    "php": "PHP",
    "ruby": "Ruby",
    "cpp": "C++",
    "rust": "Rust",
}
TARGET_LANGUAGES = tuple(LANGUAGE_NAMES)
# What a language name may look like (it is written into the instruction): "C++", "C#",
# "Objective-C", "Visual Basic .NET".
_LANGUAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9+#. -]{0,39}$")


@dataclass(frozen=True)
class TaskPrompt:
    """The wording of one task's one-click prompt.

    Attributes:
        label: the button text.
        instruction: a template over `language` and `target_language` (display names).
        input: a template over `code` and `description`.
        needs: the keyword argument of `task_prompt` that must not be empty.
    """

    label: str
    instruction: str
    input: str
    needs: str


TASK_PROMPTS = {
    "generation": TaskPrompt(
        label="Generate",
        instruction="Write a {language} function that does what the description below asks.",
        input="{description}",
        needs="description",
    ),
    "summarization": TaskPrompt(
        label="Summarize",
        instruction="Summarize what the following {language} code does.",
        input="{code}",
        needs="code",
    ),
    "repair": TaskPrompt(
        label="Repair",
        instruction="Find the bug in the following {language} code and return the fixed code.",
        input="{code}",
        needs="code",
    ),
    "translation": TaskPrompt(
        label="Translate",
        instruction=(
            "Translate the following {language} code into {target_language}, keeping its behaviour."
        ),
        input="{code}",
        needs="code",
    ),
}

_MISSING = {
    "code": "open a row or paste the code to work on",
    "description": "describe the function to write",
}


def language_name(language: str) -> str:
    """How an instruction names `language` (a dataset language id; unknown ids as given)."""
    return LANGUAGE_NAMES.get(language.lower(), language)


def task_prompt(
    task: str,
    *,
    code: str = "",
    language: str,
    target_language: str | None = None,
    description: str = "",
) -> tuple[str, str]:
    """The (instruction, input) of `task` on `code` written in `language`.

    `generation` writes a new `language` function from `description` (`code` is unused);
    `translation` needs `target_language`, one of `TARGET_LANGUAGES` other than `language`.
    """
    if task not in TASK_PROMPTS:
        raise UserError(f"unknown task {task!r}: use one of {', '.join(TASK_PROMPTS)}")
    prompt = TASK_PROMPTS[task]
    values = {"code": code.strip("\n"), "description": description.strip()}
    if not values[prompt.needs].strip():
        raise UserError(
            f"{prompt.label.lower()} needs text to start from: {_MISSING[prompt.needs]}"
        )
    if not language:
        raise UserError(f"{prompt.label.lower()} needs the code's language: pick one")
    if not _LANGUAGE_NAME.match(language):
        raise UserError(
            f"{language!r} is not a language name (letters, digits, + # . - and spaces; at most "
            "40 characters): pick the code's language"
        )
    target = ""
    if task == "translation":
        if target_language not in TARGET_LANGUAGES:
            raise UserError(
                f"translate to which language? got {target_language!r}: pick one of "
                f"{', '.join(TARGET_LANGUAGES)}"
            )
        if target_language == language.lower():
            raise UserError(
                f"the code is already {language_name(language)}: pick another target language"
            )
        target = language_name(target_language)
    instruction = prompt.instruction.format(
        language=language_name(language), target_language=target
    )
    return instruction, prompt.input.format(**values)
