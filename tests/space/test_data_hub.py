"""`space.data.CodeOceanView` on a Hub dataset: a loopback Hub serving one dataset repo (written
by our own writer) to a subprocess, which downloads only the files the Space reads, opens them
again offline from the cache, and names the fix for each failure."""

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

import pytest
from data_fixtures import SUMMARY, write_folder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_folder(tmp_path_factory.mktemp("codeocean"))


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
