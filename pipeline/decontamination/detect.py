"""The orchestrator: every enabled method over a set of rows against the benchmark items, the flags
per row and one report.

`decontaminate` runs at two stages: on the corpus after the filters and before selection (rows
with one field, ``code``) and on the generated rows before they are written (``instruction``,
``input``, ``output``). Which row text is compared with which item text:

- exact and ngram (token methods, cheap enough for every pairing): every field of a row both as
  code and as prose. As code, its code tokens are searched for the item's solution body (exact)
  and its canonical tokens share n-grams with the item's whole solution (ngram); as prose, its
  words are searched for the item's prompt prose (exact) and share its word n-grams (ngram).
  Fields do not keep to one kind: a summary's output is prose, a repair's input is code, a
  corpus row's code carries a docstring that may be a benchmark's.
- embedding: ``instruction`` and ``input`` against the item's prompt prose, every other field
  (``code``, ``output``) against its solution; cosines only compare texts of one kind.
- nearest_k and the judge's candidates: the whole row (its fields joined) against the whole item
  (prompt prose and solution), as the paper's Ultra variant compared training rows with problems.

Rows are processed in chunks of `CHUNK_ROWS` with a progress bar; each chunk's n-grams are hashed
and looked up with numpy (`ngrams`), never a loop over (row, item) pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.decontamination.config import DecontaminationConfig, validate_decontamination
from pipeline.decontamination.exact import ExactIndex, make_needles
from pipeline.decontamination.items import METHODS, BenchmarkItem, Flag, RowText
from pipeline.decontamination.ngrams import NgramIndex, PackedTexts, Vocabulary
from pipeline.decontamination.normalize import code_views, prompt_prose, prose_words

# Rows hashed together: about 40 MB of numpy arrays per chunk at 100 tokens a row.
CHUNK_ROWS = 20_000
# Show a progress bar from this many rows on.
PROGRESS_ROWS = 50_000
# Row fields read as prose by the embedding method (all others are compared with solutions).
PROSE_FIELDS = frozenset(("instruction", "input"))


@dataclass
class DecontaminationResult:
    """`flags`: row id -> its flags (only flagged rows); `report`: the counts the card shows."""

    flags: dict[str, list[Flag]] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    @property
    def flagged_ids(self) -> set[str]:
        return set(self.flags)


def decontaminate(
    rows: Sequence[RowText],
    items: Sequence[BenchmarkItem],
    config: DecontaminationConfig,
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    judge_llm=None,
    stage: str,
) -> DecontaminationResult:
    """Flag the `rows` that contain or copy a benchmark item, by every enabled method.

    `embed`: the run's embedder (texts -> L2-normalised float32 vectors), needed by the
    embedding, nearest_k and judge methods (skipped without it); `judge_llm`: the `LLMConfig`
    the judge calls; `stage`: "corpus" or "generated", recorded in the report.

    The report: {"stage", "checked" (rows), "flagged_rows", "items" (benchmark items),
    "by_method": {method: {benchmark: rows}}, "sweep": {"8": rows, ...} (ngram at each size),
    "skipped_methods": {method: reason}, "thresholds", "index" (vocabulary and index sizes), and
    "judge" (its usage) when it ran}.
    """
    validate_decontamination(config)
    report: dict = {
        "stage": stage,
        "checked": len(rows),
        "flagged_rows": 0,
        "items": len(items),
        "by_method": {},
        "sweep": {},
        "skipped_methods": {},
        "thresholds": {
            "min_exact_chars": config.min_exact_chars,
            "ngram_size": config.ngram_size,
            "ngram_threshold": config.ngram_threshold,
            "embedding_threshold": config.embedding_threshold,
            "prose_embedding_threshold": config.prose_embedding_threshold,
            "nearest_k": config.nearest_k,
        },
    }
    skipped = report["skipped_methods"]
    if not config.enabled:
        skipped.update(dict.fromkeys(METHODS, "decontamination.enabled is false"))
        return DecontaminationResult({}, report)
    if not items:
        skipped.update(dict.fromkeys(METHODS, "no benchmark item could be loaded"))
        return DecontaminationResult({}, report)
    flags: list[Flag] = []
    matcher = TokenMatcher(items, config)
    report["index"] = matcher.sizes()
    report["sweep"] = {str(n): 0 for n in config.sweep}
    if not config.exact:
        skipped["exact"] = "decontamination.exact is false"
    flags += _token_flags(rows, matcher, config, report)
    flags += _embedding_methods(rows, items, config, embed, judge_llm, report)
    if config.nearest_k is None:
        skipped.setdefault("nearest_k", "decontamination.nearest_k is null")
    if not config.judge:
        skipped.setdefault("judge", "decontamination.judge is false (off by default)")
    by_row = _group(flags)
    report["flagged_rows"] = len(by_row)
    report["by_method"] = _by_method(flags)
    return DecontaminationResult(by_row, report)


class TokenMatcher:
    """The exact and n-gram indexes over the items, built once; `match` runs both on rows."""

    def __init__(self, items: Sequence[BenchmarkItem], config: DecontaminationConfig):
        self.items = list(items)
        self.config = config
        self.sizes_n = sorted({config.ngram_size, *config.sweep})
        canonical = [code_views(item.solution)[1] for item in self.items]
        prose = [prose_words(prompt_prose(item.prompt)) for item in self.items]
        needles, self.skipped_needles = (
            make_needles(self.items, config.min_exact_chars) if config.exact else ([], 0)
        )
        self.vocabulary = Vocabulary()
        for tokens in (*canonical, *prose, *(needle.tokens for needle in needles)):
            self.vocabulary.add(tokens)
        canonical_ids = [self.vocabulary.encode(tokens) for tokens in canonical]
        prose_ids = [self.vocabulary.encode(tokens) for tokens in prose]
        self.code_index = {n: NgramIndex(canonical_ids, self.vocabulary, n) for n in self.sizes_n}
        self.prose_index = {n: NgramIndex(prose_ids, self.vocabulary, n) for n in self.sizes_n}
        self.exact = ExactIndex(needles, self.vocabulary, config.ngram_size) if needles else None

    def sizes(self) -> dict:
        return {
            "vocabulary": len(self.vocabulary.ids),
            "code_ngrams": {str(n): index.size for n, index in self.code_index.items()},
            "prose_ngrams": {str(n): index.size for n, index in self.prose_index.items()},
            "exact_needles": 0 if self.exact is None else len(self.exact.needles),
            "exact_skipped": self.skipped_needles,
            "exact_anchors": 0 if self.exact is None else self.exact.size,
        }

    def match(self, rows: Sequence[RowText]) -> tuple[list[Flag], dict[int, set[str]]]:
        """(exact and ngram flags, {n: ids of rows ngram flags at size n}) for `rows`."""
        units = [
            (row, name)
            for row in rows
            for name, text in row.fields.items()
            if isinstance(text, str) and text.strip()
        ]
        views = [code_views(row.fields[name]) for row, name in units]
        code = [tokens for tokens, _ in views]
        canonical = [tokens for _, tokens in views]
        prose = [prose_words(row.fields[name]) for row, name in units]
        encode = self.vocabulary.encode
        packed_canonical = PackedTexts([encode(t) for t in canonical], self.vocabulary)
        packed_prose = PackedTexts([encode(t) for t in prose], self.vocabulary)
        flags: list[Flag] = []
        sweep: dict[int, set[str]] = {}
        threshold = self.config.ngram_threshold
        for n in self.sizes_n:
            sweep[n] = set()
            for index, packed in ((self.code_index[n], packed_canonical), (self.prose_index[n], packed_prose)):  # fmt: skip
                overlap = index.overlap(packed, threshold)
                for unit, text, share in zip(
                    overlap.rows.tolist(), overlap.texts.tolist(), overlap.shares.tolist(), strict=True
                ):  # fmt: skip
                    row, name = units[unit]
                    sweep[n].add(row.id)
                    if n == self.config.ngram_size:
                        flags.append(self._flag(row, name, text, "ngram", round(share, 4)))
        if self.exact is not None:
            packed_code = PackedTexts([encode(t) for t in code], self.vocabulary)
            for kind, packed, texts in (("solution", packed_code, code), ("prompt", packed_prose, prose)):  # fmt: skip
                for unit, number in self.exact.find(kind, packed, texts):
                    row, name = units[unit]
                    item = self.exact.needles[number].item
                    flags.append(self._flag(row, name, item, "exact", 1.0))
        return flags, sweep

    def _flag(self, row: RowText, name: str, item: int, method: str, score: float) -> Flag:
        found = self.items[item]
        return Flag(row.id, found.benchmark, found.item, method, score, name)


def _token_flags(rows, matcher: TokenMatcher, config, report) -> list[Flag]:
    from tqdm.auto import tqdm

    flags: list[Flag] = []
    swept: dict[int, set[str]] = {n: set() for n in matcher.sizes_n}
    with tqdm(
        total=len(rows), unit="row", desc="decontamination (exact, n-grams)",
        disable=len(rows) < PROGRESS_ROWS,
    ) as bar:  # fmt: skip
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            chunk_flags, sweep = matcher.match(chunk)
            flags += chunk_flags
            for n, ids in sweep.items():
                swept[n] |= ids
            bar.update(len(chunk))
    report["sweep"] = {str(n): len(swept[n]) for n in config.sweep}
    return flags


def _embedding_methods(rows, items, config, embed, judge_llm, report) -> list[Flag]:
    """Flags of the embedding, nearest_k and judge methods (each skipped with its reason)."""
    skipped = report["skipped_methods"]
    wants_whole = config.nearest_k is not None or config.judge
    if embed is None:
        for method, wanted in (
            ("embedding", config.embedding_threshold is not None),
            ("nearest_k", config.nearest_k is not None),
            ("judge", config.judge),
        ):
            if wanted:
                skipped[method] = "no embedder was given"
        if config.embedding_threshold is None:
            skipped["embedding"] = "decontamination.embedding_threshold is null"
        return []
    from pipeline.decontamination.embedding import embedding_flags, nearest_k_flags

    flags: list[Flag] = []
    if config.embedding_threshold is None:
        skipped["embedding"] = "decontamination.embedding_threshold is null"
    else:
        solutions = embed([item.solution for item in items])
        prompts = embed([prompt_prose(item.prompt) or item.prompt for item in items])
        for name in _field_names(rows):
            subset = [row for row in rows if (row.fields.get(name) or "").strip()]
            vectors = embed([row.fields[name] for row in subset])
            prose = name in PROSE_FIELDS
            threshold = config.prose_embedding_threshold if prose else config.embedding_threshold
            if threshold is None:
                continue
            target = prompts if prose else solutions
            flags += embedding_flags(
                subset, vectors, items, target, threshold=threshold, field=name
            )
    if not wants_whole:
        return flags
    row_vectors = embed([_row_text(row) for row in rows])
    item_vectors = embed([_item_text(item) for item in items])
    if config.nearest_k is not None:
        flags += nearest_k_flags(
            rows, row_vectors, items, item_vectors, k=config.nearest_k, field=""
        )
    if config.judge:
        if judge_llm is None:
            skipped["judge"] = "no LLM endpoint was given for the judge"
            return flags
        from pipeline.decontamination.judge import judge_candidates

        nearest = nearest_k_flags(
            rows, row_vectors, items, item_vectors, k=config.judge_top, field=""
        )
        by_id = {row.id: row for row in rows}
        by_key = {(item.benchmark, item.item): item for item in items}
        candidates = [
            (by_id[flag.row_id], by_key[(flag.benchmark, flag.item)], flag.score)
            for flag in nearest
        ]
        judged, usage = judge_candidates(candidates, judge_llm, top=config.judge_top)
        flags += judged
        report["judge"] = usage
    return flags


def _field_names(rows: Sequence[RowText]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.fields))
    return list(names)


def _row_text(row: RowText) -> str:
    return "\n".join(text for text in row.fields.values() if isinstance(text, str) and text)


def _item_text(item: BenchmarkItem) -> str:
    prose = prompt_prose(item.prompt).strip()
    return f"{prose}\n{item.solution}" if prose and prose not in item.solution else item.solution


def _group(flags: list[Flag]) -> dict[str, list[Flag]]:
    """Flags by row id, one per (benchmark, item, method, field), the highest score kept."""
    best: dict[tuple, Flag] = {}
    for flag in flags:
        key = (flag.row_id, flag.benchmark, flag.item, flag.method, flag.field)
        if key not in best or flag.score > best[key].score:
            best[key] = flag
    grouped: dict[str, list[Flag]] = {}
    for flag in best.values():
        grouped.setdefault(flag.row_id, []).append(flag)
    return grouped


def _by_method(flags: list[Flag]) -> dict[str, dict[str, int]]:
    """{method: {benchmark: distinct rows flagged}}, methods in `METHODS` order."""
    rows: dict[str, dict[str, set[str]]] = {method: {} for method in METHODS}
    for flag in flags:
        rows.setdefault(flag.method, {}).setdefault(flag.benchmark, set()).add(flag.row_id)
    return {
        method: {benchmark: len(ids) for benchmark, ids in sorted(per.items())}
        for method, per in rows.items()
    }
