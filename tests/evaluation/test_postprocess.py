from evaluation.postprocess import (
    PYTHON_STOPS,
    end_of_block,
    extract_code_block,
    truncate_at_stops,
)


def test_extracts_the_block_tagged_with_the_language():
    text = "Here:\n```text\nnot code\n```\nand\n```python\ndef f():\n    return 1\n```\nDone."
    assert extract_code_block(text, "python") == "def f():\n    return 1\n"


def test_falls_back_to_the_first_block_and_an_unclosed_fence():
    assert extract_code_block("```\nx = 1\n```\n```js\ny\n```", "rust") == "x = 1\n"
    assert extract_code_block("Sure!\n```py\nx = 2\n", "python") == "x = 2\n"
    assert extract_code_block("no fences here", "python") is None


def test_truncates_at_the_earliest_stop():
    raw = "    return x\n\ndef other():\n    pass\nif __name__ == '__main__':\n"
    assert truncate_at_stops(raw, PYTHON_STOPS) == "    return x\n"
    assert truncate_at_stops("abc", ()) == "abc"


def test_python_block_ends_at_the_first_unindented_line():
    code = "\n    x = 1\n\n    return x\nprint(f())\n"
    assert end_of_block(code, "python") == "\n    x = 1\n\n    return x"


def test_brace_block_ends_where_the_open_braces_close():
    # Java primes inside `class Solution {` and the method's `{`: two braces are open.
    java = "\n        return x + 1;\n    }\n}\npublic class Other {}\n"
    assert end_of_block(java, "java", open_braces=2) == "\n        return x + 1;\n    }\n}"
    js = "\n  if (x) { return 1 }\n  return 2\n}\nconsole.log(1)"
    assert end_of_block(js, "js", open_braces=1) == "\n  if (x) { return 1 }\n  return 2\n}"
    assert end_of_block("  return 1; } } }", "cpp", open_braces=1) == "  return 1; }"
