"""Every bad input of `wavecoder generate` ends at once: a non-zero exit and one clear message.

The real command runs in a subprocess. Inputs that can be checked before the pipeline starts
(paths, recipe values, Hub reachability, models) fail in about a second; a corpus or filters that
leave no row fail when the corpus has been read. A generous timeout stands for "no hang": the
hangs these tests guard against lasted minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 180
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port: unreachable Hub


def generate(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf-home"),  # an empty Hub cache
        "WAVECODER_CACHE": str(tmp_path / "cache"),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "generate", "--recipe", "demo", "--select-only",
         "--output", str(tmp_path / "out"), *args],
        capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT, env=environ,
    )  # fmt: skip


def the_error(done: subprocess.CompletedProcess) -> str:
    """The one error line; asserts there is exactly one and no traceback."""
    lines = [x for x in done.stderr.splitlines() if x.startswith("wavecoder generate: error: ")]
    assert len(lines) == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return lines[0].removeprefix("wavecoder generate: error: ")


CHECKED_BEFORE_THE_PIPELINE = [
    (["--corpus", "/no/such/folder"], {},
     "corpus '/no/such/folder' is neither `stdlib`, `hub:<dataset id>`, nor an existing folder"),
    (["--limit", "-1"], {}, "corpus.limit (--limit) must be >= 1 or null (no bound), got -1"),
    (["--languages", "klingon"], {},
     "unknown language(s) ['klingon'] for corpus 'stdlib' (--languages / corpus.languages); it "
     "can hold: python"),
    (["--num-snippets", "0"], {}, "selection.k must be >= 1, got 0"),
    (["--corpus", "hub:code-search-net/code_search_net"],
     {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": CLOSED_PORT_URL},
     "cannot reach the Hub for corpus 'code-search-net/code_search_net' ("),
    (["--embedding-model", "nosuch/model"], {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": CLOSED_PORT_URL},
     "cannot reach the Hub for embedding model 'nosuch/model' ("),
    (["--corpus", "hub:a/b/c"], {},
     "corpus 'a/b/c' is not a valid Hub id (Repo id must be in the form"),
    # A bare name is the sentence-transformers organisation's model, as SentenceTransformer loads it.
    (["--embedding-model", "all-MiniLM-L6-v2"], {"HF_HUB_OFFLINE": "1"},
     "embedding model 'sentence-transformers/all-MiniLM-L6-v2' is not in the local Hugging Face "
     "cache"),
    (["--embedding-model", "nosuch/model"], {"HF_HUB_OFFLINE": "1"},
     "embedding model 'nosuch/model' is not in the local Hugging Face cache and HF_HUB_OFFLINE is "
     "set; download it once with network access (`hf download nosuch/model`), or give a local "
     "sentence-transformers folder, or use offline:all-MiniLM-L6-v2"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "env", "message"), CHECKED_BEFORE_THE_PIPELINE, ids=lambda x: str(x)[:40]
)
def test_bad_input_is_refused_before_the_pipeline_starts(tmp_path, args, env, message):
    done = generate(tmp_path, *args, env=env)
    assert done.returncode == 2
    assert the_error(done).startswith(message)
    assert "corpus (kept)" not in done.stderr  # the pipeline never started


def test_paper_dry_run_offline_says_the_hub_is_unreachable(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "generate", "--recipe", "paper", "--dry-run",
         "--output", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT,
        env={**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "0",
             "HF_ENDPOINT": CLOSED_PORT_URL},
    )  # fmt: skip
    assert done.returncode == 2
    assert the_error(done).startswith(
        "cannot reach the Hub for corpus 'code-search-net/code_search_net'"
    )


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


GO_METHOD = """package pkg

// Reset clears the count of bytes seen so far by the reader, so that it can be used again.
func (r *Reader) Reset() {
\tr.n = 0
}
"""


@pytest.mark.slow
def test_an_empty_corpus_or_selection_names_its_cause(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = generate(tmp_path, "--corpus", str(empty))
    assert done.returncode == 2
    assert the_error(done) == f"corpus {str(empty)!r} is empty: it holds no python source file"

    go_tree = tmp_path / "go-tree"
    write(go_tree / "io" / "reader.go", GO_METHOD)
    write(go_tree / "io" / "writer.go", GO_METHOD.replace("Reset", "Clear"))
    write(go_tree / "io" / "reader_test.go", GO_METHOD)  # a test file: skipped, not counted
    done = generate(tmp_path, "--corpus", str(go_tree))
    assert done.returncode == 2
    assert the_error(done) == (
        f"corpus {str(go_tree)!r} holds no python source file, but it holds go (2 files): select "
        "them with --languages go (or corpus.languages)"
    )
    assert not (tmp_path / "out" / "selection.parquet").exists()

    short = tmp_path / "short"
    write(short / "a.py", 'def f(x):\n    """Add."""\n    return x\n')
    done = generate(tmp_path, "--corpus", str(short))
    assert done.returncode == 2
    assert the_error(done) == (
        f"the rule filters dropped all 1 functions of corpus {str(short)!r} (too_short: 1); most "
        "were `too_short` (1): lower filters.min_chars (now 50)"
    )


@pytest.mark.slow
def test_an_embedding_failure_inside_the_step_fails_the_run(tmp_path):
    # A folder that looks like a model (so the checks before the run pass) but cannot load.
    model = tmp_path / "broken-model"
    write(model / "modules.json", '[{"idx": 0, "name": "0", "path": "", "type": '
          '"sentence_transformers.models.Transformer"}]')  # fmt: skip
    write(model / "config.json", "{not json")
    done = generate(tmp_path, "--embedding-model", str(model), "--limit", "100")
    assert done.returncode == 2, done.stderr[-3000:]
    assert the_error(done).startswith(f"could not load embedding model {str(model)!r}")
    assert "KCenterGreedy selected" not in done.stdout
    assert not (tmp_path / "out" / "selection.parquet").exists()


def test_why_empty_names_the_files_read_and_the_other_languages_together():
    from collections import Counter

    from pipeline.corpus import CorpusReport

    report = CorpusReport(files_read=1, other_languages=Counter({"go": 1}))
    assert report.why_empty("tree", ["python"], {}) == (
        "the 1 python files read in corpus 'tree' hold no documented function (one needs a "
        "docstring, or a comment right above it); the corpus also holds go (1 file): select them "
        "with --languages go (or corpus.languages)"
    )


@pytest.mark.slow
def test_a_model_that_cannot_be_had_is_tried_when_its_vectors_are_cached(tmp_path, monkeypatch):
    """A re-run whose vectors are all cached never loads the model, so the check only warns;
    a function whose vector is missing then stops the run with the model's error."""
    import numpy as np

    from pipeline.embeddings.cache import text_key
    from pipeline.embeddings.embedder import CodeEmbedder

    monkeypatch.setenv("WAVECODER_CACHE", str(tmp_path / "cache"))
    embedder = CodeEmbedder("nosuch/model", backend="torch", show_progress=False)
    embedder.cache.put([text_key("a"), text_key("b")], np.ones((2, 4), np.float32))
    done = generate(
        tmp_path, "--embedding-model", "nosuch/model", "--embedding-backend", "torch",
        "--limit", "100", env={"HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert "warning: embedding model 'nosuch/model' is not in the local Hugging Face cache" in (
        done.stderr
    )
    assert "The embedding cache holds 2 vectors of this model, so the run goes on" in done.stderr
    assert done.returncode == 2
    assert the_error(done).startswith("could not load embedding model 'nosuch/model'")
