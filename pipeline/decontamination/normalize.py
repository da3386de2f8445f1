"""Normalised views of code and prose, the texts the exact and n-gram methods compare.

Three views of one text, each a list of tokens:

- `code_tokens`: code without comments, docstrings and import lines (``import``, ``from ... import``,
  ``use``, ``#include``, ``package``, ``using namespace``), cut into identifiers, numbers, string
  literals and operators, so layout and comments never hide a copy;
- `canonical_tokens`: the same with every identifier that is not a keyword, a builtin or an
  attribute name (after ``.``) replaced by ``ID``, so renaming variables and functions does not
  hide a copy either;
- `prose_words`: lowercased words (letters and digits), for instructions, inputs and docstrings.

Whether ``#`` or ``//`` starts a comment depends on the language, and rows do not say theirs: a
text is read as C-like (``//``, ``/* */``) when more of its lines end in ``{``, ``}`` or ``;`` than
in ``:``, else as Python (``#``, triple-quoted docstrings; ``//`` is floor division). Benchmark items
and rows go through the same functions, so the rare misreading is the same on both sides.
"""

from __future__ import annotations

import re

_IMPORT_LINES = re.compile(
    r"^[ \t]*(?:import[ \t]*\([^)]*\)|(?:from[ \t]+\S+[ \t]+)?import[ \t][^\n]*"
    r"|use[ \t][^\n]*|#[ \t]*include[^\n]*|package[ \t][^\n]*|using[ \t]+namespace[^\n]*)$",
    re.MULTILINE,
)
_IMPORT_WORDS = ("import", "use ", "include", "package ", "using ")
_TOKENS = (
    r"[A-Za-z_]\w*|\d\w*(?:\.\d\w*)?"
    r"|\*\*=?|//=?|\+\+|--|->|=>|==|!=|<=|>=|&&|\|\||<<|>>|[-+*/%&|^]=|:=|::|\.\.|\S"
)
# One pass per language: comments and docstrings come out as tokens and are dropped after.
_PY_TOKEN = re.compile(
    r'\s*("{3}[\s\S]*?"{3}|\'{3}[\s\S]*?\'{3}|#[^\n]*'
    r'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|' + _TOKENS + ")"
)
_C_TOKEN = re.compile(
    r'\s*(/\*[\s\S]*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|`[^`]*`|\'(?:\\.|[^\'\\\n])*\'|'
    + _TOKENS
    + ")"
)
_C_COMMENTS = frozenset(("//", "/*"))
_DOCSTRINGS = frozenset(('"""', "'''"))
_WORD = re.compile(r"[a-z0-9]+")
# Where a benchmark prompt's examples begin: doctest lines and "For example" headings.
_EXAMPLES = re.compile(r"^\s*(?:>>>|for example|examples?\b|e\.g\.)", re.IGNORECASE | re.MULTILINE)
_PY_DOC = re.compile(r'"""([\s\S]*?)"""|\'\'\'([\s\S]*?)\'\'\'')
_C_COMMENT = re.compile(r"/\*+([\s\S]*?)\*/|//+([^\n]*)")

# Identifiers that stay as they are in `canonical_tokens`: keywords and builtins, per family
# (a Python copy that names a variable `char` or `match` is still renamed to ID). They carry the
# structure a copy keeps when its names are changed.
_PYTHON_KEPT = """
    False None True and as assert async await break class continue def del elif else except
    finally for from global if import in is lambda nonlocal not or pass raise return try while
    with yield self cls
    abs all any bin bool chr dict divmod enumerate filter float format frozenset hex int isinstance
    iter len list map max min next oct ord pow print range repr reversed round set sorted str sum
    tuple type zip object super List Dict Tuple Optional
"""
_C_KEPT = """
    if else for while do return break continue switch case default goto true false null
    boolean byte char const double extends final function implements instanceof interface let long
    new private protected public short static this throw throws try catch finally undefined var void
    int float class import package String Integer Double Boolean Math Arrays List ArrayList HashMap
    Map Set HashSet Optional Collections System auto include namespace std size_t string unsigned
    vector using struct template typename bool func go chan defer fallthrough range select nil make
    append cap copy len fn impl mut pub match loop move ref Self trait where unsafe crate mod Vec
    Option Some Ok Err Result usize isize i32 i64 u32 u64 f32 f64 in as abs max min
"""
PYTHON_KEPT = frozenset(_PYTHON_KEPT.split())
C_KEPT = frozenset(_C_KEPT.split())


def is_c_like(text: str) -> bool:
    """True when more lines end in ``{``, ``}`` or ``;`` than in ``:``."""
    text += "\n"
    c_like = text.count("{\n") + text.count("}\n") + text.count(";\n")
    return c_like > text.count(":\n")


def code_tokens(text: str, c_like: bool | None = None) -> list[str]:
    """The tokens of `text` read as code, comments, docstrings and imports left out;
    `c_like`: read it as C-like (None: `is_c_like`)."""
    if c_like is None:
        c_like = is_c_like(text)
    if any(word in text for word in _IMPORT_WORDS):
        text = _IMPORT_LINES.sub(" ", text)
    if c_like:
        return [t for t in _C_TOKEN.findall(text) if t[:2] not in _C_COMMENTS]
    return [t for t in _PY_TOKEN.findall(text) if t[0] != "#" and t[:3] not in _DOCSTRINGS]


def canonical_tokens(tokens: list[str], c_like: bool) -> list[str]:
    """`tokens` with identifiers that are not keywords, builtins (of Python, or of the C-like
    languages when `c_like`) or attribute names as ``ID``."""
    kept = C_KEPT if c_like else PYTHON_KEPT
    out = []
    previous = ""
    for token in tokens:
        if previous != "." and token not in kept and token.isidentifier():
            out.append("ID")
        else:
            out.append(token)
        previous = token
    return out


def code_views(text: str) -> tuple[list[str], list[str]]:
    """(`code_tokens`, `canonical_tokens`) of `text`, read in one language family."""
    c_like = is_c_like(text)
    tokens = code_tokens(text, c_like)
    return tokens, canonical_tokens(tokens, c_like)


def prose_words(text: str) -> list[str]:
    """Lowercased words (runs of letters and digits) of `text`."""
    return _WORD.findall(text.lower())


def prompt_prose(prompt: str) -> str:
    """The prose of a benchmark prompt: its docstrings or comments when it has any (HumanEval,
    HumanEvalPack), else the whole text (MBPP), each cut where its examples begin."""
    parts = [a or b for a, b in _PY_DOC.findall(prompt)]
    if not parts:
        parts = [a or b for a, b in _C_COMMENT.findall(prompt)]
        parts = ["\n".join(parts)] if parts else [prompt]
    kept = []
    for part in parts:
        found = _EXAMPLES.search(part)
        kept.append(part[: found.start()] if found else part)
    return "\n".join(kept)


def joined(tokens: list[str]) -> str:
    """Tokens joined by single spaces, the form exact substrings are matched in."""
    return " ".join(tokens)
