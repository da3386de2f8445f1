"""Hugging Face Hub datasets as raw code, streamed (CodeSearchNet mapped built in)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pipeline.corpus.report import CorpusReport
from pipeline.corpus.rows import SOURCE_FIELDS, make_row
from wavecoder.errors import UserError

logger = logging.getLogger(__name__)

CODESEARCHNET_IDS = ("code-search-net/code_search_net", "code_search_net")
CODESEARCHNET_LANGUAGES = ("go", "java", "javascript", "php", "python", "ruby")
# CodeSearchNet's `whole_func_string` holds the function with its docstring, as the paper used.
CODESEARCHNET_MAPPING = {
    "code": "whole_func_string",
    "docstring": "func_documentation_string",
    "language": "language",
    "repo": "repository_name",
    "path": "func_path_in_repository",
    "url": "func_code_url",
    "func_name": "func_name",
}
# Guesses for other datasets when no mapping is given: internal field -> candidate columns.
DEFAULT_CANDIDATES = {
    "code": ("code", "content", "whole_func_string", "func_code_string", "source", "text"),
    "docstring": ("docstring", "func_documentation_string", "doc", "comment"),
    "language": ("language", "lang", "programming_language"),
    "repo": ("repo", "repo_name", "repository_name", "repository"),
    "path": ("path", "file_path", "func_path_in_repository", "filepath"),
    "url": ("url", "func_code_url"),
    "func_name": ("func_name", "function_name", "name"),
    "license": ("license", "licenses", "license_type"),
}


def iter_hub_dataset(
    dataset_id: str,
    report: CorpusReport,
    *,
    languages: list[str] | None = None,
    split: str = "train",
    column_mapping: dict[str, str] | None = None,
) -> Iterator[dict]:
    """Stream rows of a Hub dataset (or a local dataset folder) as corpus rows.

    CodeSearchNet is read per language config (``languages`` selects them; default all six). For
    other datasets ``column_mapping`` maps internal fields (code, docstring, language, repo, path,
    url, func_name, license) to columns; unmapped fields are guessed from common column names, and
    ``languages`` filters on the language column.
    """
    wanted = [lang.lower() for lang in languages or []]
    if dataset_id in CODESEARCHNET_IDS and not column_mapping:
        unknown = sorted(set(wanted) - set(CODESEARCHNET_LANGUAGES))
        if unknown:
            raise UserError(
                f"CodeSearchNet has no language(s) {unknown}; choose from {list(CODESEARCHNET_LANGUAGES)}"
            )
        for lang in wanted or CODESEARCHNET_LANGUAGES:
            stream = _stream(dataset_id, lang, split)
            yield from _map_rows(stream, dataset_id, CODESEARCHNET_MAPPING, report, None, lang)
        return
    stream = _stream(dataset_id, None, split)
    mapping = _resolve_mapping(stream.column_names or [], column_mapping or {}, dataset_id)
    yield from _map_rows(stream, dataset_id, mapping, report, set(wanted) or None, None)


def _stream(dataset_id: str, config: str | None, split: str):
    import datasets

    try:
        return datasets.load_dataset(dataset_id, config, split=split, streaming=True)
    except RuntimeError as exc:
        if "scripts are no longer supported" not in str(exc):
            raise
        # Script-based datasets (CodeSearchNet's main branch) load from the Hub's Parquet export.
        logger.info("%s is script-based; streaming its Parquet export", dataset_id)
        files = f"hf://datasets/{dataset_id}@refs%2Fconvert%2Fparquet/{config or 'default'}/{split}/*.parquet"
        return datasets.load_dataset(
            "parquet", data_files={split: files}, split=split, streaming=True
        )
    except FileNotFoundError as exc:
        raise UserError(f"dataset {dataset_id!r} not found on the Hub or on disk: {exc}") from exc
    except ConnectionError as exc:
        raise UserError(
            f"cannot reach the Hub for {dataset_id!r} ({exc}); check the network or HF_TOKEN, "
            "or use --corpus stdlib / a local folder"
        ) from exc


def _resolve_mapping(columns: list[str], given: dict[str, str], dataset_id: str) -> dict[str, str]:
    known = {"code", "docstring", "language", *SOURCE_FIELDS}
    unknown = sorted(set(given) - known)
    if unknown:
        raise UserError(f"column_mapping has unknown field(s) {unknown}; known: {sorted(known)}")
    if columns:
        missing = sorted(col for col in given.values() if col not in columns)
        if missing:
            raise UserError(f"{dataset_id} has no column(s) {missing}; its columns: {columns}")
    mapping = dict(given)
    for fld, candidates in DEFAULT_CANDIDATES.items():
        if fld not in mapping:
            found = next((c for c in candidates if c in columns), None)
            if found:
                mapping[fld] = found
    if "code" not in mapping:
        raise UserError(
            f"cannot tell which column of {dataset_id} holds code (columns: {columns}); "
            "set corpus.column_mapping: {code: <column>} in the recipe"
        )
    return mapping


def _map_rows(stream, dataset_id, mapping, report, wanted, language) -> Iterator[dict]:
    for record in stream:
        code = record.get(mapping["code"])
        if not isinstance(code, str) or not code.strip():
            report.rows_skipped["missing_code"] += 1
            continue
        lang = language or record.get(mapping.get("language", ""), None) or "unknown"
        lang = str(lang).lower()
        if wanted and lang not in wanted:
            continue
        report.functions_read += 1
        licence = record.get(mapping.get("license", ""), None)
        if isinstance(licence, list):
            licence = ", ".join(map(str, licence)) or None
        yield make_row(
            code,
            str(record.get(mapping.get("docstring", ""), "") or ""),
            lang,
            dataset=dataset_id,
            repo=record.get(mapping.get("repo", "")),
            path=record.get(mapping.get("path", "")),
            url=record.get(mapping.get("url", "")),
            func_name=record.get(mapping.get("func_name", "")),
            license=licence,
        )
