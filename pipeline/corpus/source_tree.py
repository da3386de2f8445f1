"""Documented functions of a local source tree, with every unusable file counted by reason."""

from __future__ import annotations

import os
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
# Folders of the stdlib holding tests and vendored data rather than library code.
STDLIB_SKIP_DIRS = {"test", "tests", "idle_test", "__phello__", "ensurepip", "lib2to3"}
MAX_FILE_BYTES = 1_000_000


def stdlib_root() -> Path:
    """The running interpreter's standard library folder."""
    return Path(sysconfig.get_paths()["stdlib"])


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
    max_file_bytes: int = MAX_FILE_BYTES,
) -> Iterator[dict]:
    """Yield corpus rows for every documented function under ``root``, in sorted path order.

    Files are skipped (and counted) when unreadable, over ``max_file_bytes``, empty, binary (a
    NUL byte), not UTF-8, not parseable (Python), or of a language with no extractor.
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
                report.files_skipped["unsupported_language"] += 1
                report.unsupported_extensions[ext] += 1
            continue
        if wanted and language not in wanted:
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
