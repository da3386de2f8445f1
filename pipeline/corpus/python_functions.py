"""Documented functions of Python source, extracted with `ast`."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator


def python_functions(source: str) -> Iterator[tuple[str, str, str]]:
    """Yield ``(qualified name, code, docstring)`` for every function or method with a docstring.

    The code is the ``def`` through its last line (decorators excluded), dedented, docstring
    included. Nested functions are yielded too, under ``outer.<locals>.inner`` names.

    Raises:
        SyntaxError: the source does not parse (also ValueError for NUL bytes).
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    yield from _walk(tree, lines, prefix="")


def _walk(node: ast.AST, lines: list[str], prefix: str) -> Iterator[tuple[str, str, str]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = prefix + child.name
            docstring = ast.get_docstring(child)
            if docstring and docstring.strip():
                code = textwrap.dedent("".join(lines[child.lineno - 1 : child.end_lineno]))
                yield name, code.rstrip() + "\n", docstring
            yield from _walk(child, lines, prefix=f"{name}.<locals>.")
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, lines, prefix=f"{prefix}{child.name}.")
        else:
            yield from _walk(child, lines, prefix=prefix)
