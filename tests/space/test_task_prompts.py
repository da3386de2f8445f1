"""space/task_prompts.py: the one-click (instruction, input) of each task, read back by the
pipeline's own translation post-filter."""

from __future__ import annotations

import pytest

from pipeline.tasks.registry import all_tasks
from pipeline.tasks.translation import check_target_language
from space.task_prompts import TARGET_LANGUAGES, TASK_PROMPTS, task_prompt
from wavecoder.errors import UserError

CODE = "def add(a, b):\n    return a + b"


def test_every_dataset_task_has_a_prompt():
    assert set(TASK_PROMPTS) == set(all_tasks())
    assert [p.label for p in TASK_PROMPTS.values()] == [
        "Generate",
        "Summarize",
        "Repair",
        "Translate",
    ]


def test_target_languages_are_the_corpus_languages_plus_cpp_and_rust():
    assert TARGET_LANGUAGES == ("python", "javascript", "java", "go", "php", "ruby", "cpp", "rust")


def test_generation_writes_from_a_description():
    assert task_prompt(
        "generation", language="go", description="  Reverse a string rune by rune. \n"
    ) == (
        "Write a Go function that does what the description below asks.",
        "Reverse a string rune by rune.",
    )


def test_summarization_and_repair_start_from_the_code():
    assert task_prompt("summarization", code=CODE + "\n", language="python") == (
        "Summarize what the following Python code does.",
        CODE,
    )
    assert task_prompt("repair", code=CODE, language="javascript") == (
        "Find the bug in the following JavaScript code and return the fixed code.",
        CODE,
    )


def test_an_unknown_language_is_named_as_given():
    instruction, _ = task_prompt("summarization", code=CODE, language="kotlin")
    assert instruction == "Summarize what the following kotlin code does."


@pytest.mark.parametrize(
    ("target", "read_back"),
    [(t, "c++" if t == "cpp" else t) for t in TARGET_LANGUAGES if t != "ruby"],
)
def test_translation_names_a_target_the_pipeline_reads_back(target, read_back):
    instruction, input = task_prompt(
        "translation", code=CODE, language="ruby", target_language=target
    )
    assert input == CODE
    assert instruction.startswith("Translate the following Ruby code into ")
    assert check_target_language({"instruction": instruction}, {"language": "ruby"}) == {
        "target_language": read_back
    }


def test_translation_to_cpp_says_cpp_in_prose():
    instruction, _ = task_prompt("translation", code=CODE, language="python", target_language="cpp")
    assert instruction == "Translate the following Python code into C++, keeping its behaviour."


@pytest.mark.parametrize(
    ("task", "kwargs", "message"),
    [
        ("explain", {"code": CODE}, "unknown task 'explain': use one of generation, "),
        ("summarization", {"code": " \n"}, "summarize needs text to start from: open a row"),
        ("generation", {"code": CODE}, "generate needs text to start from: describe the function"),
        ("translation", {"code": CODE}, r"translate to which language\? got None: pick one of "),
        ("translation", {"code": CODE, "target_language": "cobol"}, "got 'cobol'"),
        (
            "translation",
            {"code": CODE, "target_language": "python"},
            "the code is already Python: pick another target language",
        ),
    ],
)
def test_incomplete_requests_are_refused(task, kwargs, message):
    with pytest.raises(UserError, match=message):
        task_prompt(task, language="python", **kwargs)


def test_a_missing_language_is_refused():
    with pytest.raises(UserError, match="repair needs the code's language"):
        task_prompt("repair", code=CODE, language="")


@pytest.mark.parametrize("language", ["<img src=x onerror=alert(1)>", "javascript:alert(1)",
                                      "x" * 41, "1c"])  # fmt: skip
def test_a_language_that_is_no_name_is_refused_by_name(language):
    with pytest.raises(UserError, match="is not a language name") as error:
        task_prompt("summarization", code="x = 1", language=language)
    assert repr(language) in str(error.value)
    assert task_prompt("summarization", code="x", language="Objective-C")[0].startswith(
        "Summarize what the following Objective-C code")  # fmt: skip
