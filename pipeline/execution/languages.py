"""Our language names (CodeSearchNet's, the translation task's) mapped to the sandbox's
(`evaluation.languages.LANGUAGES`), the code-fence labels of each, and how to find the name of
the function a snippet defines."""

from __future__ import annotations

import re

from evaluation.languages import LANGUAGES

# Dataset or fence name (lower-cased) -> the evaluation's language name.
SANDBOX_NAMES = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "javascript": "js",
    "js": "js",
    "node": "js",
    "nodejs": "js",
    "java": "java",
    "go": "go",
    "golang": "go",
    "c++": "cpp",
    "cpp": "cpp",
    "cxx": "cpp",
    "cc": "cpp",
    "rust": "rust",
    "rs": "rust",
    "php": "php",
    "ruby": "ruby",
    "rb": "ruby",
}
DISPLAY = {
    "python": "Python",
    "js": "JavaScript",
    "java": "Java",
    "go": "Go",
    "cpp": "C++",
    "rust": "Rust",
    "php": "PHP",
    "ruby": "Ruby",
}
# The label a tester must put on its code fence, per sandbox language.
FENCES = {
    "python": "python",
    "js": "javascript",
    "java": "java",
    "go": "go",
    "cpp": "cpp",
    "rust": "rust",
    "php": "php",
    "ruby": "ruby",
}
# A C++ or Java definition: return type and modifiers, the name, simple parameters, then `{`.
_C_FAMILY = (
    r"^[ \t]*(?:[\w<>\[\],.?:*&]+[ \t]+)+[*&]?(\w+)[ \t]*\([^()]*\)\s*"
    r"(?:const[ \t]*)?(?:throws[ \t]+[\w., \t]+)?\s*\{"
)
# The first function (or method) a snippet defines, per sandbox language.
_FUNCTION = {
    "python": r"^\s*(?:async\s+)?def\s+(\w+)",
    "js": r"(?:^|\s)function\s*\*?\s*(\w+)|(?:const|let|var)\s+(\w+)\s*=\s*(?:async\s*)?(?:function|\()",
    "java": _C_FAMILY,
    "go": r"^\s*func\s+(?:\([^)]*\)\s*)?(\w+)",
    "cpp": _C_FAMILY,
    "rust": r"^\s*(?:pub\s+)?(?:async\s+)?fn\s+(\w+)",
    "php": r"function\s+&?\s*(\w+)",
    "ruby": r"^\s*def\s+(?:self\.)?(\w+[?!]?)",
}
_KEYWORDS = {"if", "for", "while", "switch", "return", "catch", "main", "new", "else", "do"}


def sandbox_name(language: str | None) -> str | None:
    """The evaluation's name for a dataset language (`javascript` -> `js`, `c++` -> `cpp`), or
    None for a language no sandbox language stands for (e.g. `typescript`)."""
    return SANDBOX_NAMES.get((language or "").strip().lower())


def display_name(language: str | None) -> str:
    name = sandbox_name(language)
    return DISPLAY.get(name or "", (language or "unknown").capitalize())


def unsupported_reason(language: str | None) -> str | None:
    """None when `language` can be run; else why it is skipped (no toolchain probe here)."""
    name = sandbox_name(language)
    if not language:
        return "the case names no language"
    if name is None:
        return f"no sandbox language for {language!r} (known: {sorted(set(SANDBOX_NAMES))})"
    if name not in LANGUAGES:
        return (
            f"the sandbox has no {DISPLAY.get(name, name)} language yet "
            f"(evaluation.languages has {sorted(LANGUAGES)})"
        )
    return None


def function_name(code: str, language: str | None) -> str | None:
    """The name of the first function `code` defines, or None when none is recognised."""
    names = function_names(code, language)
    return names[0] if names else None


def function_names(code: str, language: str | None) -> list[str]:
    """The names of the functions `code` defines, in order ([] when none is recognised)."""
    pattern = _FUNCTION.get(sandbox_name(language) or "")
    if not pattern:
        return []
    names = []
    for match in re.finditer(pattern, code or "", re.MULTILINE):
        name = next((g for g in match.groups() if g), None)
        if name and name not in _KEYWORDS and name not in names:
            names.append(name)
    return names
