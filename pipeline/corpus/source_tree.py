"""Documented functions of a local source tree, with every unusable file counted by reason."""

from __future__ import annotations

import os
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from pipeline.corpus.python_functions import python_functions
from pipeline.corpus.report import CorpusReport
from pipeline.corpus.rows import make_row
from pipeline.corpus.treesitter_functions import treesitter_functions, treesitter_supported

# Extensions we extract from.
EXTENSIONS = {
    ".py": "python",
    ".go": "go",
    ".java": "java",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".php": "php",
    ".rb": "ruby",
}
# Source files of languages without an extractor: counted as `unsupported_language` skips.
OTHER_CODE_EXTENSIONS = {
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".cs", ".rs", ".ts", ".tsx", ".jsx", ".kt",
    ".kts", ".scala", ".swift", ".m", ".mm", ".lua", ".pl", ".pm", ".r", ".jl", ".hs", ".ex",
    ".exs", ".erl", ".clj", ".dart", ".sh", ".bash", ".ps1", ".sql", ".vb", ".fs", ".groovy",
}  # fmt: skip
# Folders never walked.
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
             "site-packages", "dist-packages", "build", "dist"}  # fmt: skip
# Folders of the stdlib holding vendored code and data rather than library code (its test
# folders are test folders like any other: skipped and counted as `test_file`).
STDLIB_SKIP_DIRS = {"__phello__", "ensurepip", "lib2to3"}
# Folders of tests, fixtures and test data: the code files under them are `test_file` skips.
TEST_DIRS = {"test", "tests", "testdata", "__tests__", "idle_test"}
# ... and, for one language only, where that language's test tools look (`spec/` is RSpec's,
# Jasmine's and phpspec's, but a Go or Java package may well be named spec).
TEST_DIRS_BY_LANGUAGE = {"ruby": {"spec"}, "javascript": {"spec", "specs"}, "php": {"spec"}}
# File names of tests, by language (what the language's test runners collect).
TEST_FILE_NAMES = {
    "python": re.compile(r"test_.+\.py|.+_test\.py|conftest\.py|tests\.py"),
    "go": re.compile(r".+_test\.go"),
    "java": re.compile(r".+(Test|Tests|TestCase|IT)\.java"),
    "javascript": re.compile(r".+\.(test|spec)\.[mc]?js"),
    "php": re.compile(r".+Test\.php"),
    "ruby": re.compile(r".+_spec\.rb|.+_test\.rb|test_.+\.rb"),
}
MAX_FILE_BYTES = 1_000_000


def stdlib_root() -> Path:
    """The running interpreter's standard library folder."""
    return Path(sysconfig.get_paths()["stdlib"])


def is_test_file(relative_path: str | Path, language: str | None) -> bool:
    """Whether a file (path relative to the corpus root) is a test: by its name, for the
    ``language`` it is written in, or by a folder it sits in (`TEST_DIRS`)."""
    parts = Path(relative_path).parts
    folders = TEST_DIRS | TEST_DIRS_BY_LANGUAGE.get(language or "", set())
    if any(part in folders for part in parts[:-1]):
        return True
    pattern = TEST_FILE_NAMES.get(language or "")
    return bool(pattern and parts and pattern.fullmatch(parts[-1]))


def iter_source_tree(
    root: str | Path,
    report: CorpusReport,
    *,
    languages: list[str] | None = None,
    dataset: str | None = None,
    repo: str | None = None,
    url_prefix: str | None = None,
    license: str | None = None,
    skip_dirs: set[str] = frozenset(),
    skip_tests: bool = True,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> Iterator[dict]:
    """Yield corpus rows for every documented function under ``root``, in sorted path order.

    Files are skipped (and counted) when unreadable, over ``max_file_bytes``, empty, binary (a
    NUL byte), not UTF-8, not parseable (Python), or of a language with no extractor; with
    ``skip_tests``, tests (`is_test_file`: ``*_test.go``, ``test_*.py``, ``*Test.java``,
    ``*.spec.js``, files under ``tests/``...) are `test_file` skips, never read.
    ``repo``, ``url_prefix`` (joined with the relative path) and ``license`` fill provenance.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder {root} does not exist")
    wanted = {lang.lower() for lang in languages or []}
    dataset = dataset or root.name
    for path in _walk(root, SKIP_DIRS | set(skip_dirs)):
        ext = path.suffix.lower()
        language = EXTENSIONS.get(ext)
        if language is None:
            if ext in OTHER_CODE_EXTENSIONS and (not wanted):
                if skip_tests and is_test_file(path.relative_to(root), None):
                    report.files_skipped["test_file"] += 1
                else:
                    report.files_skipped["unsupported_language"] += 1
                    report.unsupported_extensions[ext] += 1
            continue
        if wanted and language not in wanted:
            if not (skip_tests and is_test_file(path.relative_to(root), language)):
                report.other_languages[language] += 1
            continue
        if skip_tests and is_test_file(path.relative_to(root), language):
            report.files_skipped["test_file"] += 1
            continue
        if language != "python" and not treesitter_supported(language):
            report.files_skipped["unsupported_language"] += 1
            report.unsupported_extensions[ext] += 1
            continue
        source = _read(path, report, max_file_bytes)
        if source is None:
            continue
        report.files_read += 1
        rel = path.relative_to(root).as_posix()
        try:
            if language == "python":
                functions = list(python_functions(source.decode("utf-8")))
            else:
                functions = list(treesitter_functions(source, language))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            report.files_skipped["syntax_error"] += 1
            continue
        for name, code, docstring in functions:
            report.functions_read += 1
            yield make_row(
                code,
                docstring,
                language,
                dataset=dataset,
                repo=repo,
                path=rel,
                func_name=name,
                url=f"{url_prefix}/{rel}" if url_prefix else None,
                license=license,
            )


def _walk(root: Path, skip: set[str]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.is_file():
                yield path


def _read(path: Path, report: CorpusReport, max_bytes: int) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            report.files_skipped["too_large"] += 1
            return None
        data = path.read_bytes()
    except OSError:
        report.files_skipped["unreadable"] += 1
        return None
    if not data.strip():
        report.files_skipped["empty"] += 1
        return None
    if b"\0" in data[:8192]:
        report.files_skipped["binary"] += 1
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        report.files_skipped["undecodable"] += 1
        return None
    return data
