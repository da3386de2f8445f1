"""A loopback stand-in for the Hugging Face Hub API and its Xet storage: tests only.

The real `huggingface_hub` client (and its Rust upload client, `hf_xet`) talks HTTP to it once
`HF_ENDPOINT` points here. It answers what an HF Jobs launch and a dataset read need:

- `GET /api/whoami-v2`: the user `user` (the default job namespace);
- `POST /api/buckets/{ns}/{name}` (create the `jobs-artifacts` bucket), its Xet write token
  (whose `casUrl` is this server's `/cas`), and `POST .../batch` (the files added to it);
- the Xet CAS routes an upload takes: no global dedup match, no upload grant (so the client
  posts each xorb to `/v1/xorbs`), `/v2/shards` absent (so it posts the shard to `/v1/shards`),
  and telemetry;
- `POST /api/jobs/{ns}`: the job spec, answered as the API does (id, owner, status), or refused
  with `job_status`;
- dataset repos (tests/training/hub_datasets.py): the model-repo routes under the dataset
  paths, so a dataset folder is pushed and read back by repo id; `datasets` seeds repos from
  local folders (repo id -> folder);
- model repos (tests/training/hub_repos.py): create, upload (preupload, Xet, ndjson commit) and
  download, kept on disk under `root` (a temporary folder unless given); `models` seeds repos
  from local folders. The Xet routes keep what they receive, so a committed file is rebuilt from
  its xorbs and shard.

The server runs in a forked process and records every request: method, path, query, headers
(lower-case names) and body bytes (`calls()`), which is how tests prove what was sent and what
was not. Any other route answers 404.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import socket
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hub_datasets import DatasetRepos
from hub_repos import ModelRepos

XET_ACCESS_TOKEN = "xet-write-token-from-hub-server"
JOB_ID = "6650f0c0ffee0000000000a1"


@dataclass
class HubRequest:
    """One request the server received."""

    method: str
    path: str  # without the query string, percent-decoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.splitlines() if line.strip()]


class HubServer:
    """Start with `with HubServer(datasets={...}) as hub:`; `hub.url` is the `HF_ENDPOINT`."""

    def __init__(
        self,
        *,
        user: str = "alice",
        datasets: dict[str, Path] | None = None,
        job_status: int = 200,
        models: dict[str, Path] | None = None,
        root: Path | None = None,
    ):
        self.user = user
        self.job_status = job_status  # another status refuses every job, as the API does
        root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="hub-server-"))
        self.repos = ModelRepos(root, user, {k: Path(v) for k, v in (models or {}).items()})
        seeds = {k: Path(v) for k, v in (datasets or {}).items()}
        self.dataset_repos = DatasetRepos(root / "datasets", user, seeds, self.repos.xet)
        self.port = _free_port()
        self._process: multiprocessing.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HubServer:
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=self._serve, daemon=True)
        self._process.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self._get("/_health")
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("hub server did not start")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)
            self._process = None

    def calls(self) -> list[HubRequest]:
        """Every request received so far, in arrival order (the server's own routes excluded)."""
        return [
            HubRequest(
                c["method"], c["path"], c["query"], c["headers"], base64.b64decode(c["body"])
            )
            for c in json.loads(self._get("/_calls"))
        ]

    def _get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
            return response.read()

    def _serve(self) -> None:
        calls: list[dict] = []
        lock = threading.Lock()
        server = self

        class Handler(_Handler):
            hub = server
            log = calls
            log_lock = lock

        ThreadingHTTPServer(("127.0.0.1", self.port), Handler).serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: HubServer
    log: list[dict]
    log_lock: threading.Lock

    def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        # hf_xet streams uploads; accept a chunked body as well as a Content-Length one.
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        self.query = parse_qs(parts.query)
        body = self._read_body()
        if path == "/_health":
            return self._send(200, {"ok": True})
        if path == "/_calls":
            with self.log_lock:
                return self._send(200, list(self.log))
        with self.log_lock:
            self.log.append(
                {
                    "method": self.command,
                    "path": path,
                    "query": self.query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": base64.b64encode(body).decode(),
                }
            )
        try:
            self._route(self.command, path, body)
        except Exception as exc:  # a bug of this server: answer at once (the client would retry)
            self._send(500, {"error": f"hub server: {exc!r}"})
            raise

    def _route(self, method: str, path: str, body: bytes) -> None:
        hub = self.hub
        segments = path.strip("/").split("/")
        if path == "/api/whoami-v2":
            return self._send(200, {"type": "user", "name": hub.user, "orgs": []})
        if segments[:2] == ["api", "buckets"] and len(segments) >= 4:
            bucket = "/".join(segments[2:4])
            rest = segments[4:]
            if method == "POST" and not rest:
                return self._send(200, {"url": f"{hub.url}/buckets/{bucket}", "id": bucket})
            if rest == ["xet-write-token"]:
                return self._send(200, self._xet_token())
            if method == "POST" and rest == ["batch"]:
                return self._send(200, {"failed": []})
        if segments[0] == "cas":
            return self._cas(method, segments[1:], body)
        if path == "/v1/telemetry":
            return self._send(200, {})
        if method == "POST" and segments[:2] == ["api", "jobs"] and len(segments) == 3:
            if hub.job_status != 200:
                return self._send(
                    hub.job_status, {"error": "Invalid credentials in Authorization header"}
                )
            return self._send(200, _job_info(json.loads(body), namespace=segments[2]))
        if hub.dataset_repos.route(self, method, segments, body):
            return
        if hub.repos.route(self, method, segments, body):
            return
        self._send(404, {"error": f"no route {method} {path}"})

    def _xet_token(self) -> dict:
        return {"accessToken": XET_ACCESS_TOKEN, "exp": int(time.time()) + 3600,
                "casUrl": f"{self.hub.url}/cas"}  # fmt: skip

    def _cas(self, method: str, route: list[str], body: bytes) -> None:
        if route[:2] == ["v1", "chunks"]:  # global dedup: nothing known
            return self._send(404, {})
        if route[:2] == ["v1", "xorb-grants"]:  # no grant API: upload through /v1/xorbs
            return self._send(404, {})
        if method == "POST" and route[:2] == ["v1", "xorbs"]:
            self.hub.repos.xet.add_xorb(route[-1], body)
            return self._send(200, {"was_inserted": True})
        if route == ["v2", "shards"]:  # absent: the client falls back to /v1/shards
            return self._send(404, {})
        if method == "POST" and route == ["v1", "shards"]:
            self.hub.repos.xet.add_shard(body)
            return self._send(200, {"result": 1})
        self._send(404, {})

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head and self.command != "HEAD":  # a body after a HEAD answer breaks keep-alive
            self.wfile.write(body)


def _job_info(spec: dict, namespace: str) -> dict:
    """The API's answer to a job spec: the spec back (secret names only) with id, owner, status."""
    return {
        "id": JOB_ID,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "dockerImage": spec.get("dockerImage"),
        "spaceId": spec.get("spaceId"),
        "command": spec.get("command"),
        "arguments": spec.get("arguments"),
        "environment": spec.get("environment"),
        "secrets": sorted(spec.get("secrets") or {}),
        "flavor": spec.get("flavor"),
        "labels": spec.get("labels"),
        "volumes": spec.get("volumes"),
        "status": {"stage": "SCHEDULING", "message": None},
        "owner": {"id": "0" * 24, "name": namespace, "type": "user"},
    }


def xorb_chunks(xorb: bytes) -> list[bytes]:
    """The uncompressed chunks of a xorb as the Xet client uploads it (no footer): per chunk an
    8-byte header (version, compressed length: 3 bytes LE, scheme, uncompressed length: 3 bytes
    LE) and the payload, stored (0), LZ4-framed (1) or byte-grouped by 4 then LZ4-framed (2)."""
    chunks, i = [], 0
    while i < len(xorb):
        size = int.from_bytes(xorb[i + 1 : i + 4], "little")
        scheme, payload = xorb[i + 4], xorb[i + 8 : i + 8 + size]
        data = payload if scheme == 0 else _lz4_frame(payload)
        if (
            scheme == 2
        ):  # byte i of the chunk is in group i % 4; groups are stored one after another
            ends, start = [], 0
            for group in range(4):
                start += (len(data) - group + 3) // 4
                ends.append(start)
            groups = [data[a:b] for a, b in zip([0, *ends[:3]], ends, strict=True)]
            data = bytes(groups[k % 4][k // 4] for k in range(len(data)))
        chunks.append(bytes(data))
        i += 8 + size
    return chunks


def _lz4_frame(frame: bytes) -> bytes:
    """Decode an LZ4 frame (the format of the LZ4 frame spec, blocks linked or independent)."""
    if frame[:4] != b"\x04\x22\x4d\x18":
        raise ValueError("not an LZ4 frame")
    flags = frame[4]
    i = 7 + (8 if flags & 0x08 else 0) + (4 if flags & 0x01 else 0)  # FLG, BD, [size], [dict], HC
    out = bytearray()
    while True:
        size = int.from_bytes(frame[i : i + 4], "little")
        i += 4
        if size == 0:
            return bytes(out)
        block = frame[i : i + (size & 0x7FFFFFFF)]
        i += len(block) + (4 if flags & 0x10 else 0)
        if size & 0x80000000:  # stored uncompressed
            out += block
        else:
            _lz4_block(block, out)


def _lz4_block(block: bytes, out: bytearray) -> None:
    i = 0
    while i < len(block):
        token = block[i]
        i += 1
        length = token >> 4
        if length == 15:
            while True:
                length += block[i]
                i += 1
                if block[i - 1] != 255:
                    break
        out += block[i : i + length]
        i += length
        if i >= len(block):  # the last sequence has literals only
            return
        offset = block[i] | block[i + 1] << 8
        i += 2
        length = token & 15
        if length == 15:
            while True:
                length += block[i]
                i += 1
                if block[i - 1] != 255:
                    break
        start = len(out) - offset
        for k in range(length + 4):  # a match may overlap what it is copying
            out.append(out[start + k])
