"""Documented functions of Go, Java, JavaScript, PHP and Ruby source, via tree-sitter.

A function counts as documented when comment nodes sit directly above it (no blank line
between); the code yielded is those comments followed by the function, as CodeSearchNet pairs them.
Grammars come from the PyPI packages ``tree-sitter-<language>``; a missing grammar makes the
language unsupported (a counted skip), never an error.

Names follow each language's own way of writing a method, so two methods of the same name in one
file stay apart: Go ``(*Reader).Reset`` (pointer receiver) and ``(Reader).Size`` (value
receiver), as ``go doc`` and pprof write them, with a generic receiver's type parameters left out
(``func (l *List[T]) Push`` is ``(*List).Push``: the parameters' names are not part of the
method's identity and differ between declarations); Java and JavaScript ``Outer.Inner.method``;
PHP ``Class::method``; Ruby ``Module::Class#method`` and ``Class.method`` for singleton methods
(``def self.x`` or inside ``class << self``). Functions outside any class keep their bare name.
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
# language -> node types whose `name` qualifies the methods declared inside them.
SCOPES = {
    "java": {"class_declaration", "interface_declaration", "enum_declaration",
             "record_declaration", "annotation_type_declaration"},
    "javascript": {"class_declaration", "class"},
    "php": {"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"},
    "ruby": {"class", "module"},
}  # fmt: skip

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
                found = _documented(source, children, i, language)
                if found:
                    yield found
            stack.append(child)


def _documented(source: bytes, siblings, i: int, language: str) -> tuple[str, str, str] | None:
    func = siblings[i]
    comments = []
    before = siblings[:i][::-1]
    body = func.parent
    if body is not None and body.type == "body_statement" and body.parent is not None:
        # Ruby: the comment above a class's first method is a child of the class, before its body.
        outer = body.parent.named_children
        before += [n for n in outer if n.end_byte <= body.start_byte][::-1]
    top_row = func.start_point[0]
    for node in before:
        if node.type not in _COMMENT_TYPES or node.end_point[0] < top_row - 1:
            break
        comments.append(node)
        top_row = node.start_point[0]
    if not comments:
        return None
    comments.reverse()
    raw_doc = "\n".join(_text(source, c) for c in comments)
    docstring = _COMMENT_MARKERS.sub("", raw_doc).strip()
    if not docstring:
        return None
    name = qualified_name(source, func, language)
    # Re-indent from the first comment's column so methods inside classes dedent cleanly.
    start, end = comments[0].start_byte, func.end_byte
    line_start = source.rfind(b"\n", 0, start) + 1
    code = source[line_start:end].decode("utf-8", "replace")
    return name, textwrap.dedent(code).rstrip() + "\n", docstring


def qualified_name(source: bytes, func, language: str) -> str:
    """The name of the function node ``func``, qualified by its receiver or enclosing classes."""
    name_node = func.child_by_field_name("name")
    name = _text(source, name_node) if name_node is not None else "<anonymous>"
    if language == "go":
        return _go_method_name(source, func, name)
    scopes, singleton = [], func.type == "singleton_method"
    if singleton:
        owner = func.child_by_field_name("object")
        if owner is not None and owner.type != "self":  # def Foo.bar: a method of Foo itself
            return f"{_text(source, owner)}.{name}"
    node = func.parent
    while node is not None:
        if node.type in SCOPES.get(language, ()):
            scope = _scope_name(source, node)
            if scope:
                scopes.append(scope)
        elif node.type == "singleton_class" and not scopes:  # ruby: class << self
            singleton = True
        node = node.parent
    if not scopes:
        return name
    scopes.reverse()
    if language == "php":
        return "::".join(scopes) + "::" + name
    if language == "ruby":
        return "::".join(scopes) + ("." if singleton else "#") + name
    return ".".join(scopes) + "." + name


def _scope_name(source: bytes, node) -> str | None:
    name = node.child_by_field_name("name")
    if name is None and node.parent is not None and node.parent.type == "variable_declarator":
        name = node.parent.child_by_field_name("name")  # const Foo = class { ... }
    return _text(source, name) if name is not None else None


def _go_method_name(source: bytes, func, name: str) -> str:
    """``(*T).Name`` or ``(T).Name`` for a method, the bare name for a function."""
    receiver = func.child_by_field_name("receiver")
    if func.type != "method_declaration" or receiver is None:
        return name
    params = [c for c in receiver.named_children if c.type == "parameter_declaration"]
    kind = params[0].child_by_field_name("type") if params else None
    pointer = False
    while kind is not None and kind.type in ("pointer_type", "parenthesized_type"):
        pointer = pointer or kind.type == "pointer_type"
        kind = kind.named_children[0] if kind.named_children else None
    if kind is not None and kind.type == "generic_type":
        kind = kind.child_by_field_name("type")
    if kind is None:
        return name
    return f"({'*' if pointer else ''}{_text(source, kind)}).{name}"


def _text(source: bytes, node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")
