"""Model repos of the loopback Hub (tests/training/hub_server.py): the routes huggingface_hub 2.4
takes to create a repo, upload a folder to it and download from it.

- `POST /api/validate-yaml` (upload_folder sends a README.md's text first): 400 unless its
  front matter is a YAML mapping;
- `POST /api/repos/create`: a model repo whose first commit is the Hub's `.gitattributes` (the
  default LFS patterns); 409 when it exists, which `create_repo(exist_ok=True)` accepts;
- `POST /api/models/{repo}/preupload/{rev}`: per file `lfs` (a path `.gitattributes` tracks, a
  sample with a NUL byte, or 10 MB and more) or `regular`, and the oid of the file already there
  (the client leaves an unchanged file out of its commit);
- `GET /api/models/{repo}/xet-write-token/{rev}`: the Xet token and CAS URL (body and headers);
  the client then uploads every `lfs` file through Xet (hf_server's CAS routes): xorbs, then a
  shard that lists each file's chunk ranges, from which `XetStore` rebuilds the file;
- `POST /api/models/{repo}/commit/{rev}` (ndjson): `file` lines carry base64 content, `lfsFile`
  lines the SHA-256 of a file uploaded through Xet (422 when no shard described it);
- `GET /api/models/{repo}[/revision/{rev}]`, `GET .../tree/{rev}[/{path}]` and
  `HEAD|GET /{repo}/resolve/{rev}/{path}`: what `snapshot_download` reads (plain HTTP downloads:
  no Xet headers, so the client takes the HTTP path).

The files of a repo are kept on disk under `root/models/{repo}`, its commits (oid, summary,
paths added and deleted) in `root/commits/{repo}.jsonl`: tests read both there, during or after
a run. Writes need an Authorization header (401 without); reads do not.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub_server import _Handler

LFS_PATTERNS = ["*.bin", "*.ckpt", "*.gz", "*.h5", "*.model", "*.msgpack", "*.npy", "*.npz",
                "*.onnx", "*.parquet", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.safetensors",
                "*.tar", "*.zip", "*.zst", "*tfevents*"]  # fmt: skip
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS)
LFS_MIN_SIZE = 10 * 1024 * 1024
NOT_REPO = {"api", "cas", "datasets", "spaces", "buckets", "v1", "_health", "_calls"}


def is_lfs(path: str, sample: bytes, size: int) -> bool:
    """The Hub's choice: tracked by `.gitattributes`, binary (judged on the first 512 bytes) or
    large."""
    name = path.rsplit("/", 1)[-1]
    tracked = any(fnmatch.fnmatch(name, p) for p in LFS_PATTERNS)
    return tracked or b"\0" in sample[:512] or size >= LFS_MIN_SIZE


def git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def merkle_hex(raw: bytes) -> str:
    """A Xet hash as the CAS URLs spell it: each of its four little-endian u64 in hex."""
    return "".join(raw[i : i + 8][::-1].hex() for i in range(0, 32, 8))


class XetStore:
    """The xorbs uploaded so far, and every file a shard described, by SHA-256."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.xorbs: dict[str, list[bytes]] = {}
        self.files: dict[str, bytes] = {}

    def add_xorb(self, xorb_hash: str, body: bytes) -> None:
        from hub_server import xorb_chunks

        with self.lock:
            self.xorbs[xorb_hash] = xorb_chunks(body)

    def add_shard(self, shard: bytes) -> None:
        """Rebuild the files of a shard's file-info section (see xet-core's spec/shard.md: 48-byte
        header, then per file a header, its chunk ranges, optional verification entries and
        SHA-256 extension, up to an all-0xFF bookend)."""
        i = 48
        while shard[i : i + 32] != b"\xff" * 32:
            flags = int.from_bytes(shard[i + 32 : i + 36], "little")
            count = int.from_bytes(shard[i + 36 : i + 40], "little")
            i += 48
            data, complete = b"", True
            for _ in range(count):
                xorb = merkle_hex(shard[i : i + 32])
                start = int.from_bytes(shard[i + 40 : i + 44], "little")
                end = int.from_bytes(shard[i + 44 : i + 48], "little")
                i += 48
                with self.lock:
                    chunks = self.xorbs.get(xorb)
                complete = complete and chunks is not None
                data += b"".join((chunks or [])[start:end])
            i += 48 * count * bool(flags & 1 << 31) + 48 * bool(flags & 1 << 30)
            if complete:
                with self.lock:
                    self.files[hashlib.sha256(data).hexdigest()] = data


class ModelRepos:
    def __init__(self, root: Path, user: str, seeds: dict[str, Path]):
        self.root, self.user = root, user
        self.xet = XetStore()
        self.lock = threading.Lock()
        for repo_id, folder in seeds.items():
            shutil.copytree(folder, self.folder(repo_id), dirs_exist_ok=True)
            attributes = self.folder(repo_id) / ".gitattributes"
            if not attributes.exists():
                attributes.write_text(GITATTRIBUTES)
            self._log(repo_id, "seeded by the test", repo_paths(self.folder(repo_id)), [])

    def folder(self, repo_id: str) -> Path:
        return self.root / "models" / repo_id

    def commits(self, repo_id: str) -> list[dict]:
        log = self.root / "commits" / f"{repo_id}.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def head(self, repo_id: str) -> str:
        return self.commits(repo_id)[-1]["oid"]

    def _log(self, repo_id: str, summary: str, added: list[str], deleted: list[str]) -> dict:
        log = self.root / "commits" / f"{repo_id}.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        count = len(self.commits(repo_id))
        oid = hashlib.sha1(f"{repo_id}@{count}".encode() + os.urandom(8)).hexdigest()
        entry = {"oid": oid, "summary": summary, "added": added, "deleted": deleted}
        with log.open("a") as f:
            f.write(json.dumps(entry) + "\n")
        return entry

    def route(self, h: _Handler, method: str, segments: list[str], body: bytes) -> bool:
        """Answer a model-repo request; False when it is none."""
        if method == "POST" and segments == ["api", "repos", "create"]:
            return self._create(h, json.loads(body)) or True
        if method == "POST" and segments == ["api", "validate-yaml"]:
            return self._validate_yaml(h, json.loads(body)["content"]) or True
        if segments[:2] == ["api", "models"] and len(segments) >= 4:
            repo_id, rest = "/".join(segments[2:4]), segments[4:]
        elif len(segments) >= 5 and segments[0] not in NOT_REPO and segments[2] == "resolve":
            repo_id, rest = "/".join(segments[:2]), segments[2:]
        else:
            return False
        folder = self.folder(repo_id)
        if not folder.is_dir():
            h._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            return True
        writes = rest[:1] in (["preupload"], ["commit"], ["xet-write-token"])
        if writes and not h.headers.get("authorization"):
            h._send(401, {"error": "Invalid username or password."})
            return True
        revision = rest[1] if len(rest) > 1 and rest[0] in ("revision", "tree", "resolve") else None
        if revision not in (None, "main", self.head(repo_id)):
            h._send(404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"})
            return True
        below = "/".join(rest[2:])
        if method == "GET" and (rest == [] or rest[:1] == ["revision"]):
            self._info(h, repo_id)
        elif method == "GET" and rest[:1] == ["tree"]:
            self._tree(h, folder, below, recursive=h.query.get("recursive") == ["true"])
        elif method in ("GET", "HEAD") and rest[:1] == ["resolve"]:
            self._resolve(h, repo_id, below, head=method == "HEAD")
        elif method == "POST" and rest[:1] == ["preupload"]:
            self._preupload(h, repo_id, json.loads(body))
        elif method == "GET" and rest[:1] == ["xet-write-token"]:
            token = h._xet_token()
            headers = {"X-Xet-Access-Token": token["accessToken"], "X-Xet-Cas-Url": token["casUrl"],
                       "X-Xet-Token-Expiration": str(token["exp"])}  # fmt: skip
            h._send(200, token, headers)
        elif method == "POST" and rest[:1] == ["commit"]:
            self._commit(h, repo_id, [json.loads(line) for line in body.splitlines() if line])
        else:
            return False
        return True

    def _create(self, h: _Handler, payload: dict) -> None:
        if payload.get("type", "model") != "model":
            return h._send(400, {"error": "this test Hub creates model repos only"})
        if not h.headers.get("authorization"):
            return h._send(401, {"error": "Invalid username or password."})
        repo_id = f"{payload.get('organization') or self.user}/{payload['name']}"
        url = f"{h.hub.url}/{repo_id}"
        with self.lock:
            if self.folder(repo_id).exists():
                return h._send(409, {"error": "You already created this model repo", "url": url})
            self.folder(repo_id).mkdir(parents=True)
            (self.folder(repo_id) / ".gitattributes").write_text(GITATTRIBUTES)
            self._log(repo_id, "initial commit", [".gitattributes"], [])
        h._send(200, {"url": url, "name": repo_id, "id": hashlib.sha1(url.encode()).hexdigest()})

    def _validate_yaml(self, h: _Handler, readme: str) -> None:
        """A README's front matter must be a YAML mapping (the Hub checks more)."""
        import yaml

        front = readme.split("---\n", 2)[1] if readme.startswith("---\n") else ""
        try:
            metadata = yaml.safe_load(front) if front else {}
        except yaml.YAMLError as exc:
            metadata = str(exc)
        if not isinstance(metadata, dict):
            return h._send(400, {"errors": [{"message": f"invalid metadata: {metadata!r}"}]})
        h._send(200, {"errors": [], "warnings": []})

    def _info(self, h: _Handler, repo_id: str) -> None:
        files = repo_paths(self.folder(repo_id))
        h._send(200, {"_id": "0" * 24, "id": repo_id, "modelId": repo_id, "private": False,
                      "author": repo_id.split("/")[0], "sha": self.head(repo_id), "tags": [],
                      "siblings": [{"rfilename": f} for f in files]})  # fmt: skip

    def _tree(self, h: _Handler, folder: Path, below: str, recursive: bool) -> None:
        root = folder / below
        if not root.is_dir():
            return h._send(404, {"error": "not found"}, {"X-Error-Code": "EntryNotFound"})
        entries = []
        for item in sorted(root.rglob("*") if recursive else root.iterdir()):
            path = item.relative_to(folder).as_posix()
            if item.is_dir():
                entries.append({"type": "directory", "path": path, "oid": "0" * 40})
                continue
            data = item.read_bytes()
            entry = {"type": "file", "path": path, "size": len(data), "oid": git_oid(data)}
            if is_lfs(path, data, len(data)):
                lfs = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data)}
                entry["lfs"] = {**lfs, "pointerSize": 134}
            entries.append(entry)
        h._send(200, entries)

    def _resolve(self, h: _Handler, repo_id: str, path: str, head: bool) -> None:
        file = self.folder(repo_id) / path
        if not file.is_file():
            return h._send(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        data = file.read_bytes()
        headers = {"X-Repo-Commit": self.head(repo_id), "ETag": f'"{git_oid(data)}"'}
        if is_lfs(path, data, len(data)):
            headers.update({"X-Linked-Etag": f'"{hashlib.sha256(data).hexdigest()}"',
                            "X-Linked-Size": str(len(data))})  # fmt: skip
        h._send_bytes(200, data, "application/octet-stream", headers, head=head)

    def _preupload(self, h: _Handler, repo_id: str, payload: dict) -> None:
        answers = []
        for f in payload["files"]:
            lfs = is_lfs(f["path"], base64.b64decode(f["sample"]), f["size"])
            there = self.folder(repo_id) / f["path"]
            oid = None
            if there.is_file():
                data = there.read_bytes()
                oid = hashlib.sha256(data).hexdigest() if lfs else git_oid(data)
            answers.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular",
                            "shouldIgnore": False, "oid": oid})  # fmt: skip
        h._send(200, {"files": answers, "commitOid": self.head(repo_id)})

    def _commit(self, h: _Handler, repo_id: str, lines: list[dict]) -> None:
        header = next(line["value"] for line in lines if line["key"] == "header")
        writes: dict[str, bytes] = {}
        deleted = []
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "file":
                writes[value["path"]] = base64.b64decode(value["content"])
            elif key == "lfsFile":
                with self.xet.lock:
                    data = self.xet.files.get(value["oid"])
                if data is None:
                    return h._send(422, {"error": f"{value['path']}: no uploaded file has "
                                                  f"sha256 {value['oid']}"})  # fmt: skip
                writes[value["path"]] = data
            elif key in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
        with self.lock:
            folder = self.folder(repo_id)
            for path in deleted:
                target = folder / path
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
            for path, data in writes.items():
                (folder / path).parent.mkdir(parents=True, exist_ok=True)
                (folder / path).write_bytes(data)
            entry = self._log(repo_id, header["summary"], sorted(writes), deleted)
        h._send(200, {"success": True, "commitOid": entry["oid"], "hookOutput": "",
                      "commitUrl": f"{h.hub.url}/{repo_id}/commit/{entry['oid']}"})  # fmt: skip


def repo_paths(folder: Path) -> list[str]:
    """The files of a repo folder, as repo paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
