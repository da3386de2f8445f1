"""Near-dedup by MinHash LSH (`pipeline.dedup`): planted near-duplicates are dropped pointing at
the earliest copy, distinct rows with shared boilerplate are kept, Jaccard is exact."""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import numpy as np
import pytest

from pipeline.dedup import (
    DEDUP_STAGE,
    NearDedupConfig,
    dedup_reason,
    find_near_duplicates,
    lsh_params,
    minhash,
    normalise,
    row_text,
    validate_near_dedup,
)
from wavecoder.errors import UserError

ADD = (
    "Write a Python function that adds two numbers. It returns their sum. "
    "Both arguments may be integers or floats.\n"
    "def add(x, y):\n    total = x + y\n    return total"
)
SLUG = (
    "Write a function `slugify(text)` that turns a title into a URL slug. Words are lower-cased "
    "and joined with hyphens. Characters other than letters and digits are dropped.\n"
    "def slugify(text):\n"
    '    words = re.findall(r"[a-z0-9]+", text.lower())\n'
    '    return "-".join(words)'
)
CHUNKS = (
    "Write a generator `chunks(items, size)` that yields consecutive lists of at most size "
    "items from a sequence. The last chunk may be shorter. A size below one raises ValueError.\n"
    "def chunks(items, size):\n"
    "    if size < 1:\n"
    '        raise ValueError("size must be >= 1")\n'
    "    for start in range(0, len(items), size):\n"
    "        yield items[start:start + size]"
)

# Helpers around different stdlib functions: same shape, same boilerplate, different meaning.
_HELPER = (
    "Write a Python function `{name}(path)` that reads the file at path with the {module} "
    "module and returns {what}. The file is opened in {mode} mode and closed afterwards.\n"
    "def {name}(path):\n"
    "    with open(path{extra}) as handle:\n"
    "        return {call}"
)
HELPERS = [
    ("read_json", "json", "the decoded object", "text", "", "json.load(handle)"),
    ("read_csv", "csv", "a list of rows", "text", ', newline=""', "list(csv.reader(handle))"),
    ("read_pickle", "pickle", "the unpickled object", "binary", ', "rb"', "pickle.load(handle)"),
    ("read_toml", "tomllib", "a dict of its tables", "binary", ', "rb"', "tomllib.load(handle)"),
    ("read_lines", "io", "its lines without newlines", "text", "", "handle.read().splitlines()"),
    ("file_digest", "hashlib", "its SHA-256 hex digest", "binary", ', "rb"',
     "hashlib.file_digest(handle, 'sha256').hexdigest()"),
    ("read_plist", "plistlib", "the property list", "binary", ', "rb"', "plistlib.load(handle)"),
    ("read_config", "configparser", "a ConfigParser", "text", "",
     "configparser.ConfigParser().read_file(handle)"),
]  # fmt: skip


def helper_rows() -> list[tuple[str, str]]:
    return [
        (
            name,
            _HELPER.format(name=name, module=module, what=what, mode=mode, extra=extra, call=call),
        )
        for name, module, what, mode, extra, call in HELPERS
    ]


def reference_jaccard(a: str, b: str, n: int = 3) -> float:
    """Jaccard of word n-gram sets, in plain Python (the tokens `minhash` documents)."""

    def shingles(text: str) -> set[tuple[str, ...]]:
        units = re.findall(r"[a-z0-9_\x80-\U0010ffff]+|[^a-z0-9_\x80-\U0010ffff ]", normalise(text))
        if len(units) < n:
            return {tuple(units)} if units else set()
        return {tuple(units[i : i + n]) for i in range(len(units) - n + 1)}

    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def reworded(text: str) -> str:
    return text.replace("Write a Python function that adds", "Implement a function which adds")


def renamed_with_whitespace(text: str) -> str:
    out = re.sub(r"\btotal\b", "result", text)
    return out.replace("    ", "\t").replace(" + ", "   +   ").replace("\n", "\n\n")


def reordered(text: str) -> str:
    instruction, _, code = text.partition("\n")
    first, second, third = re.split(r"(?<=\.)\s+", instruction)
    return f"{first} {third} {second}\n{code}"


def test_planted_near_duplicates_are_dropped_pointing_at_the_earliest_copy():
    rows = [
        ("add", ADD),
        ("slug", SLUG),
        ("add-reworded", reworded(ADD)),
        ("chunks", CHUNKS),
        ("add-renamed", renamed_with_whitespace(ADD)),
        ("slug-reordered", reordered(SLUG)),
        ("chunks-case", CHUNKS.upper().replace("\n", "  \n ")),
    ]
    dropped = find_near_duplicates(rows, NearDedupConfig())
    assert {k: v[0] for k, v in dropped.items()} == {
        "add-reworded": "add",
        "add-renamed": "add",
        "slug-reordered": "slug",
        "chunks-case": "chunks",
    }
    texts = dict(rows)
    for dup, (kept, jaccard) in dropped.items():
        assert jaccard == pytest.approx(reference_jaccard(texts[dup], texts[kept]), abs=1e-12)
        assert 0.7 <= jaccard <= 1.0
    assert dropped["chunks-case"][1] == 1.0  # case and whitespace are normalised away
    # The earliest in the given order is kept, whichever was written first.
    swapped = find_near_duplicates([rows[2], *rows[:2], *rows[3:]], NearDedupConfig())
    assert swapped["add"][0] == "add-reworded"
    # add-renamed meets only the kept copy now (two edits away: below the threshold), never the
    # dropped one it is closest to.
    assert reference_jaccard(reworded(ADD), renamed_with_whitespace(ADD)) < 0.7
    assert "add-renamed" not in swapped
    assert set(swapped) == {"add", "slug-reordered", "chunks-case"}


def test_distinct_helpers_with_shared_boilerplate_are_kept():
    rows = helper_rows()
    pairs = [reference_jaccard(a, b) for i, (_, a) in enumerate(rows) for _, b in rows[i + 1 :]]
    assert 0.4 < max(pairs) < 0.7  # similar boilerplate, yet below the threshold
    assert find_near_duplicates(rows, NearDedupConfig()) == {}
    # ...and a helper planted twice is still caught among them.
    copy = ("read_json-again", reworded(rows[0][1]).replace("decoded object", "parsed object"))
    assert find_near_duplicates([*rows, copy], NearDedupConfig()) == {
        "read_json-again": ("read_json", pytest.approx(reference_jaccard(copy[1], rows[0][1])))
    }


def stdlib_records(modules=("textwrap", "shlex", "difflib", "fractions", "statistics", "csv")):
    """Generated-row-shaped records from documented stdlib functions."""
    records = []
    for name in modules:
        source = inspect.getsource(importlib.import_module(name))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and ast.get_docstring(node):
                code = ast.get_source_segment(source, node) or ""
                if 150 <= len(code) <= 1500:
                    doc = " ".join(ast.get_docstring(node).split())
                    records.append(
                        {
                            "id": f"{name}.{node.name}.{len(records)}",
                            "instruction": f"Write a Python function `{node.name}`. {doc}",
                            "output": code,
                        }
                    )
    return records


def test_realistic_mix_drops_the_planted_copies_and_keeps_the_rest():
    """Fails if dedup lets every row through or drops every row."""
    config = NearDedupConfig()
    records = stdlib_records()
    assert len(records) > 60
    base = find_near_duplicates([(r["id"], row_text(r, config.fields)) for r in records], config)
    # The stdlib has a few real near-copies (fractions._add/_sub); only those may go.
    assert len(base) <= 0.03 * len(records), sorted(base)
    planted = {}
    for i, record in enumerate(r for r in records[::7] if r["id"] not in base):
        copy = dict(record, id=f"copy{i}")
        copy["instruction"] = copy["instruction"].replace("Write a Python", "Implement the")
        copy["output"] = "\n\n".join(copy["output"].splitlines())
        records.append(copy)
        planted[copy["id"]] = record["id"]
    rows = [(r["id"], row_text(r, config.fields)) for r in records]
    dropped = find_near_duplicates(rows, config)
    assert len(planted) >= 8
    assert {k: v[0] for k, v in dropped.items()} == {
        **{k: v[0] for k, v in base.items()},
        **planted,
    }
    assert 0 < len(dropped) < len(rows)
    order = [row_id for row_id, _ in rows]
    texts = dict(rows)
    for dup, (kept, jaccard) in dropped.items():
        assert kept not in dropped and order.index(kept) < order.index(dup)
        assert jaccard == pytest.approx(reference_jaccard(texts[dup], texts[kept]), abs=1e-12)


def test_no_transitive_chains():
    words = [f"w{i}" for i in range(96)]
    a, b, c = (" ".join(words[s : s + 80]) for s in (0, 8, 16))
    assert reference_jaccard(a, b) > 0.8 and reference_jaccard(a, c) < 0.7
    dropped = find_near_duplicates([("a", a), ("b", b), ("c", c)], NearDedupConfig())
    assert dropped == {"b": ("a", pytest.approx(reference_jaccard(a, b)))}  # c is kept


def test_same_seed_same_result_and_chunking_does_not_change_it(monkeypatch):
    rows = [(r["id"], row_text(r, ["instruction", "output"])) for r in stdlib_records()]
    rows += [(f"dup-{i}", text.replace("Write", "Please write")) for i, text in rows[:10]]
    config = NearDedupConfig(seed=7)
    first = find_near_duplicates(rows, config)
    assert len(first) >= 10
    assert find_near_duplicates(rows, config) == first
    a7, _ = minhash._permutations(128, 7)
    a8, _ = minhash._permutations(128, 8)
    assert not np.array_equal(a7, a8)
    monkeypatch.setattr(minhash, "_CHUNK_BYTES", 2_000)  # many shingling passes
    assert find_near_duplicates(rows, config) == first


def test_empty_one_row_empty_texts_and_disabled():
    config = NearDedupConfig()
    assert find_near_duplicates([], config) == {}
    assert find_near_duplicates([("only", ADD)], config) == {}
    assert find_near_duplicates([("e1", ""), ("e2", "  \n"), ("add", ADD)], config) == {}
    assert find_near_duplicates([("a", "x"), ("b", "X ")], config) == {"b": ("a", 1.0)}
    short = NearDedupConfig(shingle="char", ngram=9)  # fewer units in the batch than ngram
    assert find_near_duplicates([("a", "ab"), ("b", "AB"), ("c", "")], short) == {"b": ("a", 1.0)}
    assert find_near_duplicates([("a", ADD), ("b", ADD)], NearDedupConfig(enabled=False)) == {}
    with pytest.raises(ValueError, match="unique row ids"):
        find_near_duplicates([("a", ADD), ("a", SLUG)], config)


def test_threshold_edges():
    rows = [("add", ADD), ("reworded", reworded(ADD)), ("exact", ADD.replace("\n", " \n  "))]
    at_one = find_near_duplicates(rows, NearDedupConfig(threshold=1.0))
    assert at_one == {"exact": ("add", 1.0)}
    j = reference_jaccard(ADD, reworded(ADD))
    assert 0.7 < j < 1.0
    assert find_near_duplicates(rows[:2], NearDedupConfig(threshold=j)) == {"reworded": ("add", j)}
    assert find_near_duplicates(rows[:2], NearDedupConfig(threshold=np.nextafter(j, 1))) == {}


def test_char_shingles_match_the_reference():
    config = NearDedupConfig(shingle="char", ngram=5, threshold=0.5)
    rows = [("add", ADD), ("renamed", renamed_with_whitespace(ADD)), ("slug", SLUG)]
    dropped = find_near_duplicates(rows, config)
    assert list(dropped) == ["renamed"]
    x = {normalise(ADD)[i : i + 5] for i in range(len(normalise(ADD)) - 4)}
    other = normalise(renamed_with_whitespace(ADD))
    y = {other[i : i + 5] for i in range(len(other) - 4)}
    assert dropped["renamed"] == ("add", pytest.approx(len(x & y) / len(x | y), abs=1e-12))


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.7, 0.8, 0.9])
def test_lsh_bands_favour_recall_at_the_threshold(threshold):
    bands, rows = lsh_params(threshold, 128)
    assert bands * rows <= 128
    assert 1 - (1 - threshold**rows) ** bands >= 0.8  # a pair at the threshold is a candidate
    assert 1 - (1 - (threshold - 0.3) ** rows) ** bands <= 0.35
    assert lsh_params(0.7, 128) == (20, 6)


def test_dedup_reason():
    assert DEDUP_STAGE == "dedup"
    assert dedup_reason("r7", 0.83214) == {
        "check": "near_duplicate",
        "message": "near-duplicate of r7 (Jaccard 0.832)",
    }


def test_row_text_and_validation():
    record = {"id": "r1", "instruction": "Do it.", "input": None, "output": "x = 1"}
    assert row_text(record, ["instruction", "output"]) == "Do it.\nx = 1"
    assert row_text(record, ["input", "output"]) == "\nx = 1"
    with pytest.raises(KeyError, match="solution"):
        row_text(record, ["instruction", "solution"])
    validate_near_dedup(NearDedupConfig())
    for bad, key in [
        (NearDedupConfig(threshold=0.0), "dedup.threshold"),
        (NearDedupConfig(threshold=1.5), "dedup.threshold"),
        (NearDedupConfig(num_perm=1), "dedup.num_perm"),
        (NearDedupConfig(shingle="token"), "dedup.shingle"),
        (NearDedupConfig(ngram=0), "dedup.ngram"),
        (NearDedupConfig(fields=[]), "dedup.fields"),
        (NearDedupConfig(fields=["output", "output"]), "dedup.fields"),
    ]:
        with pytest.raises(UserError, match=re.escape(key)):
            validate_near_dedup(bad)
