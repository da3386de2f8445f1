"""Corpus sources (stdlib, local trees) and the corpus report; Hub-style datasets are in
test_corpus_hub.py, the rule filters in test_filters.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.corpus import CorpusReport, iter_corpus, stdlib_root
from pipeline.corpus.source_tree import is_test_file, iter_source_tree
from wavecoder.errors import UserError


def test_stdlib_extraction_is_real_and_complete():
    report = CorpusReport()
    rows = list(iter_corpus("stdlib", report, limit=None))
    assert report.files_read > 300
    assert report.functions_read == len(rows) > 3000
    by_name = {(r["source"]["path"], r["source"]["func_name"]): r for r in rows}
    # A method and a module-level function with known docstrings.
    textwrap_fill = by_name[("textwrap.py", "fill")]
    assert textwrap_fill["code"].startswith("def fill(text, width=70, **kwargs):")
    assert textwrap_fill["docstring"].startswith("Fill a single paragraph of text")
    assert textwrap_fill["language"] == "python"
    src = textwrap_fill["source"]
    assert src["dataset"] == "python-stdlib" and src["license"] == "PSF-2.0"
    assert src["url"].endswith("/Lib/textwrap.py")
    assert ("textwrap.py", "TextWrapper.wrap") in by_name
    # Methods are dedented so each snippet parses on its own.
    compile(by_name[("textwrap.py", "TextWrapper.wrap")]["code"], "<m>", "exec")
    # Tests of the stdlib itself are not library code: counted skips, like any folder's tests.
    assert not any(r["source"]["path"].startswith("test/") for r in rows)
    assert not any(is_test_file(r["source"]["path"], "python") for r in rows)
    assert report.files_skipped["test_file"] > 500
    # Every row has a docstring and a stable id.
    assert all(r["docstring"].strip() for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    again = list(iter_corpus("stdlib", CorpusReport(), limit=50))
    assert [r["id"] for r in again] == [r["id"] for r in rows[:50]]
    assert stdlib_root().is_dir()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


GO_SOURCE = """package geo

// Distance returns the Euclidean distance between two points.
func Distance(x1, y1, x2, y2 float64) float64 {
	return math.Hypot(x2-x1, y2-y1)
}

func undocumented() {}
"""
JAVA_SOURCE = """public class Stack {
    /**
     * Pushes a value on top of the stack.
     */
    public void push(int value) {
        items.add(value);
    }
}
"""
JS_SOURCE = """/** Clamp a number between lo and hi. */
function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}
"""
RUBY_SOURCE = """# Greets someone by name.
def greet(name)
  "Hello, #{name}"
end
"""
PHP_SOURCE = """<?php
/** Adds two numbers. */
function add($a, $b) {
    return $a + $b;
}
"""
PY_SOURCE = '''
import functools

def documented(a, b):
    """Add two numbers."""
    return a + b


def bare(a):
    return a


class Box:
    @functools.cache
    def size(self):
        """Size of the box."""
        return 3
'''


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / "pkg/mod.py", PY_SOURCE)
    write(root / "pkg/broken.py", "def oops(:\n    pass\n")
    write(root / "pkg/empty.py", "   \n")
    write(root / "pkg/latin1.py", "# caf\xe9\n".encode("latin-1"))
    write(root / "pkg/blob.py", b"\x00\x01\x02binary")
    write(root / "pkg/huge.py", "x = 1\n" * 200_000)
    write(root / "geo/geo.go", GO_SOURCE)
    write(root / "java/Stack.java", JAVA_SOURCE)
    write(root / "js/clamp.js", JS_SOURCE)
    write(root / "rb/greet.rb", RUBY_SOURCE)
    write(root / "php/add.php", PHP_SOURCE)
    write(root / "native/fast.c", "/* adds */\nint add(int a, int b) { return a + b; }\n")
    write(root / "native/lib.rs", "/// adds\nfn add(a: i32) -> i32 { a }\n")
    write(root / "README.md", "# not code\n")
    write(root / "node_modules/dep/index.js", JS_SOURCE)
    return root


def test_local_tree_extracts_each_language_and_counts_bad_files(source_tree):
    report = CorpusReport()
    rows = list(iter_corpus(str(source_tree), report))
    got = {(r["language"], r["source"]["func_name"]) for r in rows}
    assert got == {
        ("python", "documented"),
        ("python", "Box.size"),
        ("go", "Distance"),
        ("java", "Stack.push"),
        ("javascript", "clamp"),
        ("ruby", "greet"),
        ("php", "add"),
    }
    assert dict(report.files_skipped) == {
        "syntax_error": 1,
        "empty": 1,
        "undecodable": 1,
        "binary": 1,
        "too_large": 1,
        "unsupported_language": 2,
    }
    assert dict(report.unsupported_extensions) == {".c": 1, ".rs": 1}
    assert report.functions_read == 7
    go = next(r for r in rows if r["language"] == "go")
    assert go["code"].startswith("// Distance returns")
    assert go["docstring"] == "Distance returns the Euclidean distance between two points."
    assert go["source"]["path"] == "geo/geo.go"
    java = next(r for r in rows if r["language"] == "java")
    assert java["docstring"] == "Pushes a value on top of the stack."
    assert java["code"].startswith("/**\n * Pushes")
    size = next(r for r in rows if r["source"]["func_name"] == "Box.size")
    assert size["code"].startswith("def size(self):")


GO_READER = """package bufio

// Reset discards any buffered data and reads from r.
func (b *Reader) Reset(r io.Reader) {
	b.reset(b.buf, r)
}

// Size returns the size of the underlying buffer.
func (b Reader) Size() int { return len(b.buf) }

// Reset discards any unflushed data and writes to w.
func (b *Writer) Reset(w io.Writer) {
	b.wr = w
}

// Push appends v to the list.
func (l *List[T]) Push(v T) {
	l.items = append(l.items, v)
}

// Len counts the pairs.
func (m Map[K, V]) Len() int { return len(m.pairs) }

// NewReader returns a new Reader.
func NewReader(rd io.Reader) *Reader { return &Reader{rd: rd} }
"""
JAVA_NESTED = """public class Outer {
    /** Makes one. */
    public Outer() {}

    static class Inner {
        /** Runs it. */
        void run() {}
    }

    enum Mode {
        ON;
        /** Flips it. */
        Mode flip() { return ON; }
    }
}
"""
JS_CLASSES = """class Queue {
  /** Adds an item. */
  push(item) { this.items.push(item); }

  /** An empty queue. */
  static empty() { return new Queue(); }
}

const Stack = class {
  /** Adds an item. */
  push(item) { this.items.push(item); }
};

/** A plain function. */
function helper() {}
"""
PHP_CLASSES = """<?php
class Cart {
    /** Adds an item. */
    public function add($item) { $this->items[] = $item; }
}

trait Greets {
    /** Says hello. */
    public function hello() { return "hi"; }
}
"""
RUBY_CLASSES = """module Shop
  class Cart
    # Adds an item (the class's first method: its comment is a child of the class node).
    def add(item)
      @items << item
    end

    # An empty cart.
    def self.empty
      new
    end

    class << self
      # Builds a cart.
      def build
        new
      end
    end
  end
end
"""


def test_methods_are_named_with_their_receiver_or_class(tmp_path):
    write(tmp_path / "t/bufio.go", GO_READER)
    write(tmp_path / "t/Outer.java", JAVA_NESTED)
    write(tmp_path / "t/queue.js", JS_CLASSES)
    write(tmp_path / "t/cart.php", PHP_CLASSES)
    write(tmp_path / "t/cart.rb", RUBY_CLASSES)
    report = CorpusReport()
    rows = list(iter_corpus(str(tmp_path / "t"), report))
    names = {}
    for row in rows:
        names.setdefault(row["language"], []).append(row["source"]["func_name"])
    assert {lang: sorted(found) for lang, found in names.items()} == {
        # Go's own notation, as go doc and pprof write it; a generic receiver without its
        # type parameters.
        "go": ["(*List).Push", "(*Reader).Reset", "(*Writer).Reset", "(Map).Len", "(Reader).Size",
               "NewReader"],
        "java": ["Outer.Inner.run", "Outer.Mode.flip", "Outer.Outer"],
        "javascript": ["Queue.empty", "Queue.push", "Stack.push", "helper"],
        "php": ["Cart::add", "Greets::hello"],
        "ruby": ["Shop::Cart#add", "Shop::Cart.build", "Shop::Cart.empty"],
    }  # fmt: skip
    assert report.functions_read == 18 and len({r["id"] for r in rows}) == 18
    by_name = {r["source"]["func_name"]: r for r in rows}
    assert by_name["(*Writer).Reset"]["code"] == (
        "// Reset discards any unflushed data and writes to w.\n"
        "func (b *Writer) Reset(w io.Writer) {\n\tb.wr = w\n}\n"
    )
    assert by_name["Shop::Cart#add"]["docstring"].startswith("Adds an item (the class's first")
    assert by_name["Shop::Cart#add"]["code"].startswith("# Adds an item")


DOC_PY = 'def helper(a, b):\n    """Add two numbers."""\n    return a + b\n'
DOC_GO = "package p\n\n// Helper adds.\nfunc Helper(a, b int) int { return a + b }\n"
DOC_JAVA = "class C {\n    /** Adds. */\n    int add(int a, int b) { return a + b; }\n}\n"
DOC_JS = "/** Adds. */\nfunction add(a, b) { return a + b; }\n"
DOC_PHP = "<?php\n/** Adds. */\nfunction add($a, $b) { return $a + $b; }\n"
DOC_RB = "# Adds.\ndef add(a, b)\n  a + b\nend\n"
# Test files by name and by folder, each a documented function that would otherwise be read.
TEST_FILES = {
    "http/serve_test.go": DOC_GO,  # 20 of 100 picks in Go's net/http were such helpers
    "http/testdata/fixture.go": DOC_GO,
    "pkg/test_util.py": DOC_PY,
    "pkg/util_test.py": DOC_PY,
    "pkg/conftest.py": DOC_PY,
    "pkg/tests/helpers.py": DOC_PY,
    "src/test/java/CartTest.java": DOC_JAVA,
    "src/main/java/CartTests.java": DOC_JAVA,
    "src/main/java/CartIT.java": DOC_JAVA,
    "web/cart.test.js": DOC_JS,
    "web/cart.spec.mjs": DOC_JS,
    "web/cart.test.cjs": DOC_JS,
    "web/__tests__/cart.js": DOC_JS,
    "web/spec/cart.js": DOC_JS,
    "php/CartTest.php": DOC_PHP,
    "rb/cart_spec.rb": DOC_RB,
    "rb/cart_test.rb": DOC_RB,
    "rb/spec/support/helpers.rb": DOC_RB,
    "native/tests/check.c": "int main(void) { return 0; }\n",
}
# Library code whose names or folders only look like tests.
LIBRARY_FILES = {
    "http/httptest/server.go": DOC_GO,  # a package for tests to use, not a test
    "testing/testing.go": DOC_GO,
    "spec/spec.go": DOC_GO,  # `spec/` is a test folder for Ruby, JavaScript and PHP only
    "pkg/contest.py": DOC_PY,
    "pkg/latest.py": DOC_PY,
    "pkg/testing.py": DOC_PY,
    "src/main/java/Latest.java": DOC_JAVA,
    "web/contest.js": DOC_JS,
    "rb/testament.rb": DOC_RB,
}


def test_test_files_and_folders_are_counted_skips(tmp_path):
    root = tmp_path / "repo"
    for rel, text in {**TEST_FILES, **LIBRARY_FILES}.items():
        write(root / rel, text)
    report = CorpusReport()
    rows = list(iter_corpus(str(root), report))
    assert sorted(r["source"]["path"] for r in rows) == sorted(LIBRARY_FILES)
    assert dict(report.files_skipped) == {"test_file": 19}
    assert report.files_read == 9 and report.functions_read == 9
    assert "files: 9 read, 19 skipped (test_file: 19)" in report.format()
    report.save(tmp_path / "corpus_report.json")
    saved = json.loads((tmp_path / "corpus_report.json").read_text())
    assert saved["files_skipped"] == {"test_file": 19}
    # With a language selection, only that language's tests are counted.
    go = CorpusReport()
    assert len(list(iter_corpus(str(root), go, languages=["go"]))) == 3
    assert dict(go.files_skipped) == {"test_file": 2}
    # Tests can be kept.
    kept = CorpusReport()
    rows = list(iter_source_tree(root, kept, skip_tests=False))
    assert len(rows) == 27 and "test_file" not in kept.files_skipped
    assert dict(kept.files_skipped) == {"unsupported_language": 1}


def test_is_test_file_by_language():
    assert is_test_file("a/b_test.go", "go") and not is_test_file("a/b_test.go", "python")
    assert is_test_file("spec/x.rb", "ruby") and not is_test_file("spec/x.go", "go")
    assert is_test_file("x/testdata/y.c", None) and not is_test_file("x/y.c", None)
    assert not is_test_file("Test.java", "java")  # a class named Test, no suffix rule applies


def test_local_tree_language_selection(source_tree):
    report = CorpusReport()
    rows = list(iter_corpus(str(source_tree), report, languages=["go", "ruby"]))
    assert sorted(r["language"] for r in rows) == ["go", "ruby"]


def test_unknown_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="neither `stdlib`"):
        list(iter_corpus(str(tmp_path / "missing"), CorpusReport()))
    with pytest.raises(UserError, match="needs a dataset id"):
        list(iter_corpus("hub:", CorpusReport()))


def test_limit_bounds_rows_read():
    report = CorpusReport()
    assert len(list(iter_corpus("stdlib", report, limit=25))) == 25


def test_report_round_trips_and_formats(tmp_path):
    report = CorpusReport(files_read=3, functions_read=10, kept=4)
    report.dropped.update({"too_long": 5, "blacklist": 1})
    report.files_skipped["binary"] = 2
    report.save(tmp_path / "r.json")
    again = CorpusReport.from_dict(json.loads((tmp_path / "r.json").read_text()))
    assert again.to_dict() == report.to_dict()
    text = report.format()
    assert "3 read, 2 skipped (binary: 2)" in text
    assert "6 dropped (blacklist: 1, too_long: 5), 4 kept" in text


def test_io_error_is_a_counted_skip(tmp_path, monkeypatch):
    write(tmp_path / "t/ok.py", "def f(a, b):\n    '''Add.'''\n    return a + b\n")
    write(tmp_path / "t/bad.py", "def g():\n    '''x'''\n")
    real = Path.read_bytes

    def flaky(self):
        if self.name == "bad.py":
            raise OSError(5, "Input/output error")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", flaky)
    report = CorpusReport()
    rows = list(iter_corpus(str(tmp_path / "t"), report))
    assert [r["source"]["func_name"] for r in rows] == ["f"]
    assert dict(report.files_skipped) == {"unreadable": 1}
