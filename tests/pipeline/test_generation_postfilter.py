"""The rule post-filter of generator replies, on the text layout and on JSON."""

from __future__ import annotations

import json

import pytest

from pipeline.generation.generate_instruction import parse_generation
from pipeline.generation.postfilter import NOINPUT, PostFilterRejected, count_sentences, postfilter
from pipeline.tasks import get_task

GENERATION = get_task("generation")
REPAIR = get_task("repair")
TRANSLATION = get_task("translation")
ROW = {"language": "python"}

LAYOUT = """task_name: Add numbers
instruction: Write a Python function that adds two numbers.
information: None.
solution:
```python
def add(a, b):
    return a + b
```"""


def test_text_layout_is_parsed_normalised_and_unfenced():
    case = postfilter("Here is the case:\n\n" + LAYOUT, GENERATION, ROW)
    assert case.as_dict() == {
        "task_name": "Add numbers",
        "instruction": "Write a Python function that adds two numbers.",
        "information": NOINPUT,
        "solution": "def add(a, b):\n    return a + b",
    }


def test_json_reply_is_parsed_with_or_without_a_fence():
    data = {
        "task_name": "Add",
        "instruction": "Write a Python adder.",
        "information": "",
        "solution": "def add(a, b): return a + b",
    }
    for text in (json.dumps(data), f"```json\n{json.dumps(data)}\n```", json.dumps([data])):
        assert postfilter(text, GENERATION, ROW).as_dict() == {**data, "information": NOINPUT}


def test_invented_analysis_is_cut_but_a_comment_in_code_is_kept():
    text = LAYOUT.replace("    return a + b", "    # analysis: a plain sum\n    return a + b")
    case = postfilter(
        text + "\n\nAnalysis:\n- step 1: the instruction <answer: yes>", GENERATION, ROW
    )
    assert case.solution == "def add(a, b):\n    # analysis: a plain sum\n    return a + b"


UNFENCED = LAYOUT.replace("```python\n", "").replace("\n```", "")
SUM = "def add(a, b):\n    return a + b"


# An end key after an unfenced solution ends the case only where it heads a prose section.
END_KEY_LINES = [
    ("Analysis:\n- step 1: the instruction <answer: yes>", SUM),
    ("### Explanation\nThe function adds.", SUM),
    ("**Explanation:** `add` returns the sum.", SUM),
    ("Explanation: the function returns the sum.", SUM),
    ("Analysis: names_language: yes, the instruction names Python.", SUM),
    ('explanation: str = "a sum"', SUM + '\nexplanation: str = "a sum"'),
    ("analysis: Analysis = run(add)", SUM + "\nanalysis: Analysis = run(add)"),
    ("explanation: Optional[str]", SUM + "\nexplanation: Optional[str]"),
    ("analysis:\n    total = add(1, 2)", SUM + "\nanalysis:\n    total = add(1, 2)"),
]


@pytest.mark.parametrize(("line", "solution"), END_KEY_LINES, ids=[s[0] for s in END_KEY_LINES])
def test_an_end_key_ends_an_unfenced_solution_only_at_a_prose_section(line, solution):
    assert postfilter(UNFENCED + "\n" + line, GENERATION, ROW).solution == solution


def test_an_end_key_never_ends_a_value_that_is_still_empty():
    text = UNFENCED.replace("solution:\n", "solution:\nExplanation: ")
    assert postfilter(text, GENERATION, ROW).solution == "Explanation: " + SUM


def test_a_yaml_fenced_reply_reads_block_scalars_with_indicators_and_comments():
    text = (
        "```yaml\ntask_name: Add numbers\ninstruction: >  # folded, read as literal\n"
        "  Write a Python function\n  that adds two numbers.\ninformation: <noinput>\n"
        "solution: |2-\n      # the sum\n  def add(a, b):\n      return a + b\n```"
    )
    case = postfilter(text, GENERATION, ROW)
    assert case.instruction == "Write a Python function\nthat adds two numbers."
    assert case.solution == "# the sum\ndef add(a, b):\n    return a + b"


REJECTIONS = [
    ("", "empty_output", "the generator returned no text"),
    ("I'm sorry, but I can't help with that.", "refusal", "the generator refused to write the case"),
    ("Sure! def add(a, b): return a + b", "unparseable", "the reply holds none of the four keys"),
    (LAYOUT + "\n\n" + LAYOUT, "multiple_cases", "the reply holds 2 cases (information, instruction, solution, task_name repeated), not one"),
    (LAYOUT.replace("information: None.\n", ""), "missing_keys", "the case has no information"),
    ('{"task_name": "x", "instruction": ', "malformed_json", "the reply is not valid JSON (Expecting value)"),
    ('[{"a": 1}, {"b": 2}]', "multiple_cases", "the reply holds 2 cases, not one"),
    ('{"task_name": "a", "instruction": "Do it in Python.", "information": "", "solution": "x", "notes": "n"}', "unexpected_keys", "the case has extra keys ['notes']"),
    (LAYOUT.replace("task_name: Add numbers", "task_name: none"), "noinput_keys", "2 keys are <noinput> (task_name, information); at most one may be"),
    (LAYOUT.replace("Write a Python function that adds two numbers.", "Write Python. Add two numbers. Return the sum."), "instruction_sentences", "the instruction has 3 sentences; 1 or 2 are allowed"),
    (LAYOUT.replace("None.", "It adds. It returns. It is fast."), "information_sentences", "the information has 3 sentences; at most 2 are allowed"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "check", "message"), REJECTIONS, ids=[r[1] for r in REJECTIONS])
def test_each_rule_rejects_with_its_check_and_message(text, check, message):
    with pytest.raises(PostFilterRejected) as info:
        postfilter(text, GENERATION, ROW)
    assert (info.value.check, info.value.message) == (check, message)


def test_truncated_reply_is_rejected_even_when_it_parses():
    with pytest.raises(PostFilterRejected, match="max_new_tokens") as info:
        postfilter(LAYOUT, GENERATION, ROW, truncated=True)
    assert info.value.check == "truncated"


def test_code_tasks_need_code_in_the_information_and_allow_long_code():
    with pytest.raises(PostFilterRejected) as info:
        postfilter(LAYOUT.replace("Write a", "Fix this"), REPAIR, ROW)
    assert info.value.check == "information_code"
    code = "def add(a, b):\n    total = a - b. Then more.\n    return total. Done. Really."
    text = LAYOUT.replace("information: None.", "information:\n" + code)
    assert postfilter(text, REPAIR, ROW).information == code


def test_translation_without_a_target_language_is_rejected():
    text = LAYOUT.replace(
        "Write a Python function that adds two numbers.", "Translate this Python function."
    )
    text = text.replace("information: None.", "information:\ndef add(a, b):\n    return a + b")
    with pytest.raises(PostFilterRejected) as info:
        postfilter(text, TRANSLATION, ROW)
    assert (info.value.check, info.value.message) == (
        "target_language",
        "the instruction names no target language other than the input's (python)",
    )
    assert postfilter(text.replace("function.", "function into Ruby."), TRANSLATION, ROW).extra == {
        "target_language": "ruby"
    }


def test_parse_generation_keeps_parsed_values_of_a_rejected_case():
    text = LAYOUT.replace("Write a Python function that adds two numbers.", "One. Two. Three.")
    out = parse_generation(text, {"task": "generation", "language": "python"})
    assert out["instruction"] == "One. Two. Three."
    assert out["postfilter"] == {
        "passed": False,
        "check": "instruction_sentences",
        "message": "the instruction has 3 sentences; 1 or 2 are allowed",
    }
    ok = parse_generation(LAYOUT, {"task": "generation", "language": "python"})
    assert ok["postfilter"] == {"passed": True, "check": None, "message": None}
    assert ok["target_language"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write a Python function.", 1),
        ("Write a Python function, e.g. `os.path.join(a, b)`. It returns 1.5 for [1, 2].", 2),
        ("Does it work? Fix it! Now.", 3),
        ("Use ```x = 1. y = 2.``` here", 1),
        ("", 0),
    ],
)
def test_count_sentences(text, expected):
    assert count_sentences(text) == expected


def test_key_words_inside_the_solution_code_are_not_keys():
    # An indented dataclass field, and YAML at column 0 inside the fenced solution.
    code = (
        'CONFIG = """\ninstruction: add\nsolution: sum\n"""\n\n\n@dataclass\nclass Example:\n'
        "    instruction: str\n    information: str = ''\n    solution: str = ''"
    )
    text = LAYOUT.replace("def add(a, b):\n    return a + b", code)
    case = postfilter(text, GENERATION, ROW)
    assert case.solution == code
    assert case.instruction == "Write a Python function that adds two numbers."


def test_a_json_case_after_a_preamble_is_read():
    data = {
        "task_name": "Add",
        "instruction": "Write a Python adder.",
        "information": "none",
        "solution": "def add(a, b):\n    return a + b",
    }
    for text in (
        f"Here is the case:\n{json.dumps(data, indent=2)}",
        f"Sure, here it is.\n\n```json\n{json.dumps(data)}\n```\nHope this helps.",
    ):
        assert postfilter(text, GENERATION, ROW).as_dict() == {**data, "information": NOINPUT}
    # Code with braces but no case is still unparseable, not malformed JSON.
    with pytest.raises(PostFilterRejected) as info:
        postfilter("Sure:\nfunc F() {\n}\n{\n  broken", GENERATION, ROW)
    assert info.value.check == "unparseable"


def test_a_fence_opened_on_the_key_line_parses_like_one_on_the_next_line():
    # Issue 8: this reply was rejected as missing_keys ("the case has no solution").
    on_key_line = LAYOUT.replace("solution:\n```python", "solution: ```python")
    next_line = postfilter(LAYOUT, GENERATION, ROW).as_dict()
    assert postfilter(on_key_line, GENERATION, ROW).as_dict() == next_line
    assert postfilter(on_key_line.replace("\n", "\r\n"), GENERATION, ROW).as_dict() == next_line
    code = "def add(a, b):\n    return a - b"
    text = LAYOUT.replace("information: None.", f"information: ```python\n{code}\n```")
    case = postfilter(text.replace("Write a", "Fix this"), REPAIR, ROW)
    assert (case.information, case.solution) == (code, "def add(a, b):\n    return a + b")


def test_commentary_after_the_solution_fence_is_dropped_but_a_second_block_is_kept():
    case = postfilter(LAYOUT + "\n\nThis solution works by adding a and b.", GENERATION, ROW)
    assert case.solution == "def add(a, b):\n    return a + b"
    usage = "\n\nUsage:\n```python\nadd(1, 2)\n```"
    case = postfilter(LAYOUT + usage, GENERATION, ROW)
    assert case.solution == "```python\ndef add(a, b):\n    return a + b\n```" + usage


def test_markdown_key_lines_and_what_is_not_a_key_line():
    bold = (
        LAYOUT.replace("task_name:", "**Task Name:**")
        .replace("instruction:", "**Instruction**:")
        .replace("information:", "### Information:")
        .replace("solution:", "### Solution")
    )
    assert (
        postfilter(bold, GENERATION, ROW).as_dict() == postfilter(LAYOUT, GENERATION, ROW).as_dict()
    )
    for not_a_key in (
        "Solutions:",
        "Solution approach:",
        "**Solution** is below:",
        "## Solution overview",
        "# Solution",
        "The solution:",
        "    solution:",
    ):
        with pytest.raises(PostFilterRejected) as info:
            postfilter(LAYOUT.replace("solution:", not_a_key), GENERATION, ROW)
        assert (info.value.check, info.value.message) == (
            "missing_keys",
            "the case has no solution",
        ), not_a_key
