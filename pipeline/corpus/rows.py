"""The internal row schema every corpus source maps to."""

from __future__ import annotations

import hashlib

SOURCE_FIELDS = ("dataset", "repo", "path", "url", "func_name", "license")


def make_row(code: str, docstring: str, language: str, **source) -> dict:
    """A corpus row: code (docstring included), docstring, lowercase language, provenance.

    ``source`` takes the keys of `SOURCE_FIELDS`; missing ones are None. The id hashes the
    provenance and the code, so the same function from the same place keeps its id across runs.
    """
    unknown = set(source) - set(SOURCE_FIELDS)
    if unknown:
        raise TypeError(f"unknown source fields {sorted(unknown)}")
    src = {
        key: (None if source.get(key) in (None, "") else str(source[key])) for key in SOURCE_FIELDS
    }
    key = "\0".join([*(src[f] or "" for f in SOURCE_FIELDS[:5]), code])
    return {
        "id": hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16],
        "code": code,
        "docstring": docstring or "",
        "language": language.lower(),
        "source": src,
    }
