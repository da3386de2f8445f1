"""`space.data.CodeOceanView` on folders written by our own writer: configs, every filter and
their combinations, full-text search in each field, paging, row lookup, the Hub path (a loopback
Hub in a subprocess) and the errors a user can cause."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import space.data
from pipeline.generation.records import ACCEPTED, FAILED, REJECTED, build_record
from pipeline.generation.writer import features, write_dataset_folder
from space.data import CodeOceanView
from wavecoder.errors import UserError

REPO = Path(__file__).resolve().parents[2]
TASKS = ["generation", "summarization", "repair", "translation"]
MODELS = ("gen-model", "judge-model")

# id, status, stage, task, language, instruction, information, solution, code, failed checks.
# Search words, each in one field only: Zebra (instruction), QUOKKA (input), narwhal (output),
# AxoLotl (source code).
ROWS = [
    ("a-gen-py", ACCEPTED, "judgement", "generation", "python", "Write a Zebra counter.",
     "<noinput>", "def count(): pass", "def count(): pass", []),
    ("a-gen-go", ACCEPTED, "judgement", "generation", "go", "Write a Go adder.",
     "<noinput>", "func Add() {}", "func Add() {}", []),
    ("a-sum-py", ACCEPTED, "judgement", "summarization", "python", "Summarize this function.",
     "def quokka_sq(x): return x * x", "It squares x.", "def quokka_sq(x): return x * x", []),
    ("a-rep-js", ACCEPTED, "judgement", "repair", "javascript", "Fix the off-by-one error.",
     "function last(xs) { return xs[xs.length]; }", "return xs[xs.length - 1]; // Narwhal",
     "function last(xs) { return xs[xs.length - 1]; }", []),
    ("a-tra-go", ACCEPTED, "judgement", "translation", "go", "Translate this Go to Python.",
     "func Half(x int) int { return x / 2 }", "def half(x): return x // 2",
     "// AxoLotl\nfunc Half(x int) int { return x / 2 }", []),
    ("r-gen-py", REJECTED, "judgement", "generation", "python", "Write a zebra fence.",
     "<noinput>", "x = 1", "x = 1", ["names_language"]),
    ("r-rep-js", REJECTED, "judgement", "repair", "javascript", "Fix it.",
     "let a = 1", "let a = 2", "let a = 2", ["names_language", "solution_is_code"]),
    ("r-sum-go", REJECTED, "postfilter", "summarization", "go", "Explain. Now. Please. Go.",
     "func F() {}", "It does F.", "func F() {}", ["one_or_two_sentences"]),
    ("f-tra-py", FAILED, "generation", "translation", "python", None, None, None,
     "def f(): return 1", ["llm_error"]),
    ("f-gen-go", FAILED, "judgement", "generation", "go", "Write a Go server.", "<noinput>",
     "package main", "package main", ["internal_error"]),
]  # fmt: skip
ACCEPTED_IDS = [r[0] for r in ROWS if r[1] == ACCEPTED]
SUMMARY = {"rows": len(ROWS), "accepted": 5, "rejected": 3, "failed": 2}


def records() -> list[dict]:
    """The records of `ROWS`, built as the pipeline builds them (selection order = ROWS order)."""
    out = []
    for rank, fields in enumerate(ROWS):
        id_, status, stage, task, language, instr, info, solution, code, checks = fields
        row = {"id": id_, "task": task, "language": language, "code": code, "selection_rank": rank,
               "source": {"dataset": "fixture", "repo": "wavecoder/tests", "path": f"{rank}.src"}}  # fmt: skip
        case = None if instr is None else {"instruction": instr, "information": info,
                                           "solution": solution}  # fmt: skip
        reasons = [{"check": check, "message": f"{check} failed"} for check in checks]
        out.append(build_record(row, status=status, stage=stage, case=case, reasons=reasons,
                                target_language="python" if task == "translation" else None,
                                models=MODELS))  # fmt: skip
    return out


def write_folder(folder: Path) -> Path:
    write_dataset_folder(records(), folder, tasks=TASKS, summary=SUMMARY)
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_folder(tmp_path_factory.mktemp("codeocean"))


@pytest.fixture(scope="module")
def view(folder) -> CodeOceanView:
    return CodeOceanView.open(str(folder))


def ids(page) -> list[str]:
    return [row["id"] for row in page.rows]


def test_configs_default_first_then_by_name(view, folder):
    assert view.configs == [
        "default", "failed", "generation", "rejected", "repair", "summarization", "translation",
    ]  # fmt: skip
    assert view.source == str(folder)
    assert view.summary == SUMMARY
    assert view.selection is None
    assert view.num_rows("rejected") == 3


def test_unfiltered_pages_are_in_selection_order_with_table_columns(view):
    page = view.query()
    assert ids(page) == ACCEPTED_IDS
    assert (page.total, page.page, page.pages) == (5, 0, 1)
    assert page.rows[0] == {"id": "a-gen-py", "task": "generation", "language": "python",
                            "instruction": "Write a Zebra counter.", "status": "accepted",
                            "stage": None}  # fmt: skip
    rejected = view.query(config="rejected")
    assert ids(rejected) == ["r-gen-py", "r-rep-js", "r-sum-go"]
    assert [(r["status"], r["stage"]) for r in rejected.rows] == [
        ("rejected", "judgement"), ("rejected", "judgement"), ("rejected", "postfilter"),
    ]  # fmt: skip
    failed = view.query(config="failed")
    assert ids(failed) == ["f-tra-py", "f-gen-go"]
    assert failed.rows[0]["instruction"] == "" and failed.rows[0]["status"] == "failed"
    assert ids(view.query(config="repair")) == ["a-rep-js"]


def test_filters_by_task_language_and_rule_alone_and_combined(view):
    assert ids(view.query(task="generation")) == ["a-gen-py", "a-gen-go"]
    assert ids(view.query(language="go")) == ["a-gen-go", "a-tra-go"]
    assert ids(view.query(task="generation", language="go")) == ["a-gen-go"]
    assert ids(view.query(task="repair", language="go")) == []
    assert ids(view.query(config="rejected", failed_rule="names_language")) == [
        "r-gen-py", "r-rep-js",
    ]  # fmt: skip
    assert ids(view.query(config="rejected", failed_rule="solution_is_code")) == ["r-rep-js"]
    assert ids(
        view.query(config="rejected", failed_rule="names_language", language="javascript")
    ) == ["r-rep-js"]
    assert (
        ids(view.query(config="rejected", failed_rule="names_language", task="summarization")) == []
    )
    assert ids(view.query(config="failed", failed_rule="llm_error")) == ["f-tra-py"]
    assert ids(view.query(failed_rule="names_language")) == []  # accepted rows failed no rule
    assert ids(view.query(config="rejected", failed_rule="no_such_rule")) == []


@pytest.mark.parametrize(
    ("config", "search", "expected"),
    [
        ("default", "zebra", ["a-gen-py"]),  # instruction
        ("default", "QUOKKA_SQ", ["a-sum-py"]),  # input
        ("default", "narwhal", ["a-rep-js"]),  # output
        ("default", "axolotl", ["a-tra-go"]),  # source code
        ("default", "  Return X  ", ["a-sum-py", "a-rep-js", "a-tra-go"]),  # several fields
        ("rejected", "ZEBRA", ["r-gen-py"]),
        ("failed", "def f()", ["f-tra-py"]),  # a row with no instruction, input or output
        ("default", "no such text", []),
    ],
)
def test_search_is_case_insensitive_over_the_four_text_fields(view, config, search, expected):
    page = view.query(config=config, search=search)
    assert ids(page) == expected
    assert page.total == len(expected)


@pytest.mark.parametrize("narrow", [0.0, 1.1])  # match all the text, or the candidates' only
def test_search_combines_with_filters_and_spans_no_two_fields(view, monkeypatch, narrow):
    monkeypatch.setattr(space.data, "NARROW_SHARE", narrow)
    assert ids(view.query(search="x", task="summarization")) == ["a-sum-py"]
    assert ids(view.query(search="AXOLOTL", task="translation", language="go")) == ["a-tra-go"]
    assert ids(view.query(search="axolotl", task="repair")) == []
    assert ids(view.query(search="x", language="go")) == ["a-tra-go"]
    assert ids(view.query(config="rejected", search="zebra", failed_rule="solution_is_code")) == []
    # the end of the instruction and the start of the (empty) input are not one text
    assert ids(view.query(search="counter.def")) == []


def test_paging_totals_and_clamping(view):
    pages = [view.query(page=n, page_size=2) for n in range(3)]
    assert [ids(p) for p in pages] == [ACCEPTED_IDS[:2], ACCEPTED_IDS[2:4], ACCEPTED_IDS[4:]]
    assert {(p.total, p.pages) for p in pages} == {(5, 3)}
    past = view.query(page=99, page_size=2)
    assert (ids(past), past.page, past.pages) == (["a-tra-go"], 2, 3)
    assert view.query(page=-3, page_size=2).page == 0
    empty = view.query(search="no such text", page=4)
    assert (empty.rows, empty.total, empty.page, empty.pages) == ([], 0, 0, 1)
    assert ids(view.query(language="go", page=1, page_size=1)) == ["a-tra-go"]
    with pytest.raises(UserError, match="page_size must be at least 1"):
        view.query(page_size=0)


def test_instruction_preview_is_cut_to_120_characters(tmp_path):
    long = records()[:1]
    long[0]["instruction"] = "Write   a\nfunction " + "x" * 300
    write_dataset_folder(long, tmp_path, tasks=TASKS)
    preview = CodeOceanView.open(str(tmp_path)).query().rows[0]["instruction"]
    assert preview == ("Write a function " + "x" * 300)[:119] + "…"
    assert len(preview) == 120


def test_row_lookup_finds_full_rows_in_any_config_default_first(view):
    by_id = {r["id"]: r for r in records()}
    accepted = view.row("a-rep-js")
    assert accepted["output"] == "return xs[xs.length - 1]; // Narwhal"
    assert accepted["completion"] == [{"role": "assistant", "content": accepted["output"]}]
    assert accepted["source"]["path"] == "3.src"
    assert accepted["usage"] == by_id["a-rep-js"]["usage"]
    assert "status" not in accepted
    assert view.locate("a-rep-js") == "default"
    rejected = view.row("r-rep-js")
    assert rejected["reasons"] == [
        {"check": "names_language", "message": "names_language failed"},
        {"check": "solution_is_code", "message": "solution_is_code failed"},
    ]
    assert (rejected["status"], rejected["selection_rank"]) == ("rejected", 6)
    assert "prompt" not in rejected
    assert view.locate("f-gen-go") == "failed"
    assert view.row("a-rep-js", config="repair")["id"] == "a-rep-js"
    assert view.row("a-rep-js", config="rejected") is None
    assert view.row("no-such-row") is None and view.locate("no-such-row") is None


def test_facets_count_rows_per_value(view):
    assert view.facets() == {
        "task": [("generation", 2), ("repair", 1), ("summarization", 1), ("translation", 1)],
        "language": [("go", 2), ("javascript", 1), ("python", 2)],
        "failed_rule": [],
    }
    assert view.facets("rejected")["failed_rule"] == [
        ("names_language", 2), ("one_or_two_sentences", 1), ("solution_is_code", 1),
    ]  # fmt: skip
    assert view.facets("failed")["failed_rule"] == [("internal_error", 1), ("llm_error", 1)]


def test_a_config_a_later_issue_adds_is_discovered_and_queried(tmp_path):
    write_folder(tmp_path)
    extra = [{**r, "id": f"c-{r['id']}", "status": "contaminated", "stage": "decontamination",
              "reasons": [{"check": "humaneval_overlap", "message": "13-gram overlap"}]}
             for r in records()[:2]]  # fmt: skip
    schema = features(["dataset", "repo", "path", "url", "func_name", "license"], True).arrow_schema
    (tmp_path / "contaminated").mkdir()
    table = pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in extra], schema)
    pq.write_table(table, tmp_path / "contaminated" / "train-00000-of-00001.parquet")
    view = CodeOceanView.open(str(tmp_path))
    assert "contaminated" in view.configs and view.configs[0] == "default"
    page = view.query(config="contaminated", failed_rule="humaneval_overlap", search="zebra")
    assert ids(page) == ["c-a-gen-py"]
    assert page.rows[0]["status"] == "contaminated"
    assert view.locate("c-a-gen-go") == "contaminated"
    assert view.row("c-a-gen-go")["stage"] == "decontamination"


def test_several_shards_and_row_groups_read_as_one_config_and_the_selection(tmp_path):
    write_folder(tmp_path)
    pq.write_table(pa.table({"id": ["a", "b"]}), tmp_path / "selection.parquet")
    shard = tmp_path / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(shard)
    shard.unlink()
    for n, part in enumerate((table.slice(0, 3), table.slice(3))):
        path = tmp_path / "data" / f"train-0000{n}-of-00002.parquet"
        pq.write_table(part, path, row_group_size=2)
    view = CodeOceanView.open(str(tmp_path))
    assert pq.ParquetFile(tmp_path / "data" / "train-00000-of-00002.parquet").num_row_groups == 2
    assert ids(view.query()) == ACCEPTED_IDS
    assert ids(view.query(search="axolotl")) == ["a-tra-go"]
    for row_id in ACCEPTED_IDS:
        assert view.row(row_id)["id"] == row_id
    assert view.selection.column("id").to_pylist() == ["a", "b"]


def test_user_errors_name_the_fix(view, tmp_path):
    with pytest.raises(UserError, match="no config 'accepted'; its configs: default, failed"):
        view.query(config="accepted")
    with pytest.raises(UserError, match="no config"):
        view.facets("nope")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    with pytest.raises(UserError, match=r"not a CodeOcean dataset: it has no data/train-\*"):
        CodeOceanView.open(str(tmp_path))
    with pytest.raises(UserError, match="is a file"):
        CodeOceanView.open(str(tmp_path / "notes" / "a.txt"))
    with pytest.raises(UserError, match="not a Hub dataset id"):
        CodeOceanView.open(str(tmp_path / "missing"))
    with pytest.raises(UserError, match="a revision applies only to a Hub dataset"):
        CodeOceanView.open(str(tmp_path), revision="main")


# --- the Hub path: a loopback Hub serving one dataset repo to a subprocess ---

COMMIT = "5eed" * 10


class _DatasetRepo(BaseHTTPRequestHandler):
    """The three routes `snapshot_download` of a dataset takes: repo info, tree, resolve."""

    protocol_version = "HTTP/1.1"
    repo_id: str
    folder: Path
    served: list[str]

    def log_message(self, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        path = unquote(urlsplit(self.path).path)
        prefix_api, prefix_file = f"/api/datasets/{self.repo_id}/", f"/datasets/{self.repo_id}/"
        if path.startswith(prefix_api + "revision/"):
            return self._json({"id": self.repo_id, "sha": COMMIT, "private": False})
        if path.startswith(prefix_api + "tree/"):
            files = sorted(p for p in self.folder.rglob("*") if p.is_file())
            return self._json([{"type": "file", "path": p.relative_to(self.folder).as_posix(),
                                "size": p.stat().st_size, "oid": "0" * 40} for p in files])  # fmt: skip
        if path.startswith(prefix_file + "resolve/"):
            name = path.split("/", 6)[6]
            file = self.folder / name
            if file.is_file():
                self.served.append(name)
                data = file.read_bytes()
                etag = hashlib.sha256(data).hexdigest()
                return self._send(200, data, {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"'}, head)
        self._send(404, b"{}", {"X-Error-Code": "RepoNotFound"}, head)

    def _json(self, payload) -> None:
        self._send(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)


def open_in_subprocess(tmp_path: Path, source: str, endpoint: str, offline: bool = False):
    """Open `source` in a process whose huggingface_hub talks to `endpoint`; prints configs, the
    summary and the default ids as JSON, or exits 2 with a UserError's message."""
    driver = (
        "import json, sys\n"
        "from space.data import CodeOceanView\n"
        "from wavecoder.errors import UserError\n"
        "try:\n"
        "    view = CodeOceanView.open(sys.argv[1])\n"
        "except UserError as exc:\n"
        "    sys.exit(f'error: {exc}')\n"
        "print(json.dumps({'configs': view.configs, 'summary': view.summary,\n"
        "                  'ids': [r['id'] for r in view.query(config='rejected').rows],\n"
        "                  'row': view.row('a-gen-py')['instruction']}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path / "hf-home"), PYTHONPATH=str(REPO),
               HF_HUB_DISABLE_PROGRESS_BARS="1")  # fmt: skip
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run([sys.executable, "-c", driver, source], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.fixture
def hub(folder, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(folder, repo, ignore=shutil.ignore_patterns(".wavecoder"))
    (repo / "example_database.jsonl").write_text("{}\n")  # on the Hub, not needed by the Space
    handler = type("Handler", (_DatasetRepo,), {"repo_id": "acme/codeocean", "folder": repo,
                                                 "served": []})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", handler.served
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_hub_dataset_is_downloaded_with_only_the_files_the_space_reads(hub, tmp_path):
    endpoint, served = hub
    done = open_in_subprocess(tmp_path, "acme/codeocean", endpoint)
    assert done.returncode == 0, done.stderr
    opened = json.loads(done.stdout)
    assert opened["configs"][:2] == ["default", "failed"] and "rejected" in opened["configs"]
    assert opened["summary"] == SUMMARY
    assert opened["ids"] == ["r-gen-py", "r-rep-js", "r-sum-go"]
    assert opened["row"] == "Write a Zebra counter."
    assert "example_database.jsonl" not in served
    assert {"README.md", "summary.json", "data/train-00000-of-00001.parquet"} <= set(served)
    # now cached: opens offline too
    again = open_in_subprocess(tmp_path, "acme/codeocean", endpoint, offline=True)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == opened


@pytest.mark.slow
def test_hub_errors_name_the_fix(hub, tmp_path):
    endpoint, _ = hub
    missing = open_in_subprocess(tmp_path, "acme/other", endpoint)
    assert missing.returncode == 1
    assert "Cannot download the Hub dataset acme/other: there is no such dataset" in missing.stderr
    assert "set HF_TOKEN" in missing.stderr
    offline = open_in_subprocess(tmp_path, "acme/codeocean", endpoint, offline=True)
    assert offline.returncode == 1
    assert "the Hub is unreachable or HF_HUB_OFFLINE is set" in offline.stderr
    down = open_in_subprocess(tmp_path, "acme/codeocean", "http://127.0.0.1:9")
    assert down.returncode == 1
    assert "Cannot download the Hub dataset acme/codeocean" in down.stderr
