"""Documented functions of Go, Java, JavaScript, PHP and Ruby source, via tree-sitter.

A function counts as documented when comment nodes sit directly above it (no blank line
between); the code yielded is those comments followed by the function, as CodeSearchNet pairs them.
Grammars come from the PyPI packages ``tree-sitter-<language>``; a missing grammar makes the
language unsupported (a counted skip), never an error.
"""

from __future__ import annotations

import importlib
import re
import textwrap
from collections.abc import Iterator
from functools import cache

# language -> (grammar module, attribute returning the language pointer, function node types)
GRAMMARS = {
    "go": ("tree_sitter_go", "language", ("function_declaration", "method_declaration")),
    "java": ("tree_sitter_java", "language", ("method_declaration", "constructor_declaration")),
    "javascript": (
        "tree_sitter_javascript",
        "language",
        ("function_declaration", "method_definition", "generator_function_declaration"),
    ),
    "php": ("tree_sitter_php", "language_php", ("function_definition", "method_declaration")),
    "ruby": ("tree_sitter_ruby", "language", ("method", "singleton_method")),
}

_COMMENT_TYPES = {"comment", "line_comment", "block_comment"}
_COMMENT_MARKERS = re.compile(r"^\s*(/\*\*?|\*/|\*|//+|#+)\s?|\s*\*/\s*$", re.M)


@cache
def _parser(language: str):
    """A tree-sitter parser for ``language``, or None when its grammar is not installed."""
    module_name, attr, _ = GRAMMARS[language]
    try:
        import tree_sitter

        module = importlib.import_module(module_name)
        return tree_sitter.Parser(tree_sitter.Language(getattr(module, attr)()))
    except (ImportError, AttributeError, ValueError):
        return None


def treesitter_supported(language: str) -> bool:
    return language in GRAMMARS and _parser(language) is not None


def treesitter_functions(source: bytes, language: str) -> Iterator[tuple[str, str, str]]:
    """Yield ``(name, code, docstring)`` for each documented function in ``source``."""
    parser = _parser(language)
    if parser is None:
        raise LookupError(f"no tree-sitter grammar for {language}")
    function_types = GRAMMARS[language][2]
    tree = parser.parse(source)
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        children = node.named_children
        for i, child in enumerate(children):
            if child.type in function_types:
                found = _documented(source, children, i)
                if found:
                    yield found
            stack.append(child)


def _documented(source: bytes, siblings, i: int) -> tuple[str, str, str] | None:
    func = siblings[i]
    comments = []
    j, top_row = i - 1, func.start_point[0]
    while j >= 0 and siblings[j].type in _COMMENT_TYPES and siblings[j].end_point[0] >= top_row - 1:
        comments.append(siblings[j])
        top_row = siblings[j].start_point[0]
        j -= 1
    if not comments:
        return None
    comments.reverse()
    raw_doc = "\n".join(_text(source, c) for c in comments)
    docstring = _COMMENT_MARKERS.sub("", raw_doc).strip()
    if not docstring:
        return None
    name_node = func.child_by_field_name("name")
    name = _text(source, name_node) if name_node is not None else "<anonymous>"
    # Re-indent from the first comment's column so methods inside classes dedent cleanly.
    start, end = comments[0].start_byte, func.end_byte
    line_start = source.rfind(b"\n", 0, start) + 1
    code = source[line_start:end].decode("utf-8", "replace")
    return name, textwrap.dedent(code).rstrip() + "\n", docstring


def _text(source: bytes, node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")
