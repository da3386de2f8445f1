"""Counts of what the corpus stages read, skipped and dropped, by reason."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CorpusReport:
    """Counters filled while reading and filtering a corpus.

    Attributes:
        files_read: source files opened (local trees only).
        files_skipped: skipped files by reason (``undecodable``, ``binary``, ``empty``,
            ``too_large``, ``syntax_error``, ``unsupported_language``, ``unreadable``,
            ``test_file``: a test by its name or folder, not library code).
        unsupported_extensions: files of languages with no extractor, by extension.
        other_languages: files of a supported language that ``languages`` left out (not read).
        functions_read: documented functions (or dataset rows) produced by the source.
        rows_skipped: source rows that could not be used, by reason (e.g. ``missing_code``).
        dropped: rows removed by the rule filters, by reason (``too_short``, ``too_long``,
            ``blacklist``, ``duplicate``).
        blacklist_words: the blacklisted word that dropped each ``blacklist`` row (first match).
        kept: rows that passed every filter.
    """

    files_read: int = 0
    files_skipped: Counter = field(default_factory=Counter)
    unsupported_extensions: Counter = field(default_factory=Counter)
    other_languages: Counter = field(default_factory=Counter)
    functions_read: int = 0
    rows_skipped: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    blacklist_words: Counter = field(default_factory=Counter)
    kept: int = 0

    def to_dict(self) -> dict:
        return {
            "files_read": self.files_read,
            "files_skipped": dict(sorted(self.files_skipped.items())),
            "unsupported_extensions": dict(self.unsupported_extensions.most_common()),
            "other_languages": dict(self.other_languages.most_common()),
            "functions_read": self.functions_read,
            "rows_skipped": dict(sorted(self.rows_skipped.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "blacklist_words": dict(self.blacklist_words.most_common()),
            "kept": self.kept,
        }

    @classmethod
    def from_dict(cls, data: dict) -> CorpusReport:
        report = cls()
        for key, value in data.items():
            current = getattr(report, key)
            setattr(report, key, Counter(value) if isinstance(current, Counter) else value)
        return report

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    def format(self) -> str:
        """A few human-readable lines for the run log."""
        lines = []
        if self.files_read or self.files_skipped:
            skipped = sum(self.files_skipped.values())
            lines.append(
                f"files: {self.files_read} read, {skipped} skipped {_fmt(self.files_skipped)}".rstrip()
            )
        if self.other_languages:
            lines.append(f"files of languages not selected: {_fmt(self.other_languages)[1:-1]}")
        skipped_rows = sum(self.rows_skipped.values())
        lines.append(
            f"functions: {self.functions_read} read"
            + (f", {skipped_rows} unusable {_fmt(self.rows_skipped)}" if skipped_rows else "")
        )
        dropped = sum(self.dropped.values())
        reasons = f" {_fmt(self.dropped)}" if self.dropped else ""
        lines.append(f"filters: {dropped} dropped{reasons}, {self.kept} kept")
        return "\n".join(lines)

    def why_empty(self, source: str, languages: list[str] | None, filters: dict) -> str:
        """Why no row was kept, naming the fix (`filters`: the rule filters' settings)."""
        if self.functions_read and not self.kept:
            reason, count = max(self.dropped.items(), key=lambda kv: kv[1])
            hint = {
                "too_long": f"raise filters.max_chars (now {filters.get('max_chars')})",
                "too_short": f"lower filters.min_chars (now {filters.get('min_chars')})",
                "blacklist": "shorten filters.blacklist (null is Code Alpaca's list)",
            }.get(reason, "read a larger corpus")
            return (
                f"the rule filters dropped all {self.functions_read} functions of corpus "
                f"{source!r} {_fmt(self.dropped)}; most were `{reason}` ({count}): {hint}"
            )
        wanted = ", ".join(languages) if languages else "any supported language"
        others = ""
        if self.other_languages:
            found = ", ".join(
                f"{lang} ({n} file{'s' if n != 1 else ''})"
                for lang, n in self.other_languages.most_common()
            )
            flag = ",".join(lang for lang, _ in self.other_languages.most_common())
            others = f"{found}: select them with --languages {flag} (or corpus.languages)"
        if self.files_read:
            return (
                f"the {self.files_read} {wanted} files read in corpus {source!r} hold no "
                "documented function (one needs a docstring, or a comment right above it)"
                + (f"; the corpus also holds {others}" if others else "")
            )
        if others:
            return f"corpus {source!r} holds no {wanted} source file, but it holds {others}"
        skipped = sum(self.files_skipped.values())
        if skipped:
            return (
                f"corpus {source!r} holds no usable {wanted} source file: all {skipped} were "
                f"skipped {_fmt(self.files_skipped)}"
            )
        if self.rows_skipped:
            return f"corpus {source!r} gave no usable row {_fmt(self.rows_skipped)}"
        return f"corpus {source!r} is empty: it holds no {wanted} source file"


def _fmt(counter: Counter) -> str:
    if not counter:
        return ""
    return "(" + ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())) + ")"
