"""The paper's rule filters: length bounds, the Code Alpaca blacklist, exact dedup; every drop
counted by reason."""

from __future__ import annotations

from pipeline.corpus import CorpusReport, make_row
from pipeline.filters import CODE_ALPACA_BLACKLIST, CodeFilter, blacklist_pattern


def rows_of(*codes: str) -> list[dict]:
    return [
        make_row(code, "doc", "python", dataset="t", func_name=f"f{i}")
        for i, code in enumerate(codes)
    ]


def test_every_filter_reason_is_counted():
    ok = "def add(a, b):\n    '''Add.'''\n    return a + b  # plenty of characters here\n"
    report = CorpusReport()
    kept = list(
        CodeFilter(report, min_chars=50, max_chars=800)(
            rows_of(
                ok,
                "def f(): pass",  # too short
                "x = 1\n" * 200,  # too long
                ok.replace("Add.", "Read the FILE."),  # blacklist, case-insensitive
                ok.replace("Add.", "Go  to the next one."),  # multi-word entry, any whitespace
                "def  add(a, b):\n\t'''Add.'''\n    return a + b  # plenty of characters here",
            )
        )
    )
    assert [r["code"] for r in kept] == [ok]
    assert dict(report.dropped) == {"too_short": 1, "too_long": 1, "blacklist": 2, "duplicate": 1}
    assert dict(report.blacklist_words) == {"file": 1, "go to": 1}
    assert report.kept == 1


def test_blacklist_is_whole_word_only():
    pattern = blacklist_pattern()
    assert pattern.search("open the Images folder")
    assert pattern.search("plot(x)")
    for text in ("profile = 1", "mapping = {}", "bitmap", "drawer", "gotoLabel", "filename"):
        assert not pattern.search(text), text
    assert len(CODE_ALPACA_BLACKLIST) == 18


def test_length_bounds_are_inclusive():
    report = CorpusReport()
    kept = list(
        CodeFilter(report, min_chars=5, max_chars=6, dedup=False)(
            rows_of("a" * 5, "b" * 6, "c" * 7, "d" * 4)
        )
    )
    assert [r["code"] for r in kept] == ["aaaaa", "bbbbbb"]


def test_custom_and_empty_blacklist():
    report = CorpusReport()
    kept = list(
        CodeFilter(report, min_chars=1, blacklist=["secret"])(rows_of("draw the SECRET", "draw it"))
    )
    assert [r["code"] for r in kept] == ["draw it"]
    report = CorpusReport()
    kept = list(CodeFilter(report, min_chars=1, blacklist=[])(rows_of("draw the file")))
    assert len(kept) == 1
