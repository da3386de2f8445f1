"""The paper's rule filters, applied to corpus rows before embedding.

- length: keep code of ``min_chars`` to ``max_chars`` characters (50 to 800 in the paper);
- blacklist: drop code containing a Code Alpaca blacklist word, whole word, case-insensitive;
- exact dedup: drop code whose whitespace-normalised text was already kept.

Every dropped row is counted in the `CorpusReport` under its reason (the first rule it fails,
in the order above).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from pipeline.corpus.report import CorpusReport

# The Code Alpaca blacklist, as the WaveCoder paper applies it.
CODE_ALPACA_BLACKLIST = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
    "video",
    "audio",
    "music",
    "flowchart",
    "diagram",
)

_WHITESPACE = re.compile(r"\s+")


def blacklist_pattern(words: Iterable[str] | None = None) -> re.Pattern:
    """A case-insensitive whole-word regex; words with spaces match any run of whitespace."""
    words = CODE_ALPACA_BLACKLIST if words is None else tuple(words)
    if not words:
        return re.compile(r"(?!x)x")  # matches nothing
    parts = sorted((r"\s+".join(map(re.escape, w.split())) for w in words), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def normalised_code_hash(code: str) -> bytes:
    """Hash of the code with every whitespace run collapsed to one space (exact-dedup key)."""
    return hashlib.blake2b(_WHITESPACE.sub(" ", code).strip().encode(), digest_size=16).digest()


class CodeFilter:
    """Applies the rule filters to a stream of rows, counting drops in ``report``.

    Attributes:
        min_chars, max_chars: inclusive length bounds, in characters.
        blacklist: words (None = the Code Alpaca list; [] = no blacklist).
        dedup: drop exact duplicates of whitespace-normalised code.
    """

    def __init__(
        self,
        report: CorpusReport,
        *,
        min_chars: int = 50,
        max_chars: int = 800,
        blacklist: Iterable[str] | None = None,
        dedup: bool = True,
    ):
        self.report = report
        self.min_chars, self.max_chars = min_chars, max_chars
        self.pattern = blacklist_pattern(blacklist)
        self.dedup = dedup
        self._seen: set[bytes] = set()

    def reason(self, code: str) -> str | None:
        """The first rule ``code`` fails, or None when it is kept (and remembered for dedup)."""
        if len(code) < self.min_chars:
            return "too_short"
        if len(code) > self.max_chars:
            return "too_long"
        match = self.pattern.search(code)
        if match:
            self.report.blacklist_words[_WHITESPACE.sub(" ", match.group(0).lower())] += 1
            return "blacklist"
        if self.dedup:
            key = normalised_code_hash(code)
            if key in self._seen:
                return "duplicate"
            self._seen.add(key)
        return None

    def __call__(self, rows: Iterable[dict]) -> Iterator[dict]:
        for row in rows:
            why = self.reason(row["code"])
            if why:
                self.report.dropped[why] += 1
            else:
                self.report.kept += 1
                yield row
