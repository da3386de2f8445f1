"""Dataset repos of the loopback Hub (tests/training/hub_server.py): the model-repo routes of
hub_repos.py under the Hub's dataset paths, so that the real clients can push a dataset folder
(`HfApi.create_repo(repo_type="dataset")`, `upload_folder`, Xet for the parquet files) and read it
back by repo id (`datasets.load_dataset("org/name"[, config][, revision=...])`, `HfFileSystem`):

- `POST /api/repos/create` with `type: dataset`: a dataset repo whose first commit is the Hub's
  `.gitattributes`; 409 when it exists; its URL is `{endpoint}/datasets/{repo}`;
- `/api/datasets/{repo}/...` (info, revision, tree, preupload, xet-write-token, commit) and
  `HEAD|GET /datasets/{repo}/resolve/{rev}/{path}`: as `/api/models/...` and `/{repo}/resolve/...`
  are for model repos. A revision is `main` or the head commit's oid; any other is 404
  `RevisionNotFound`, as on the Hub.

Files are kept under `root/{repo}`, commits in `root/commits/{repo}.jsonl` (`commits()`, `head()`).
Uploads share the model repos' `XetStore`, since the CAS routes are one per server.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hub_repos import GITATTRIBUTES, ModelRepos, XetStore


class DatasetRepos(ModelRepos):
    def __init__(self, root: Path, user: str, seeds: dict[str, Path], xet: XetStore):
        super().__init__(root, user, seeds)
        self.xet = xet

    def folder(self, repo_id: str) -> Path:
        return self.root / repo_id

    def route(self, h, method: str, segments: list[str], body: bytes) -> bool:
        """Answer a dataset-repo request; False when it is none."""
        if method == "POST" and segments == ["api", "repos", "create"]:
            payload = json.loads(body)
            if payload.get("type") != "dataset":
                return False
            return self._create(h, payload) or True
        if segments[:2] == ["api", "datasets"] and len(segments) >= 4:
            as_model = ["api", "models", *segments[2:]]
        elif segments[:1] == ["datasets"] and len(segments) >= 6 and segments[3] == "resolve":
            as_model = segments[1:]
        else:
            return False
        return super().route(h, method, as_model, body)

    def _create(self, h, payload: dict) -> None:
        if not h.headers.get("authorization"):
            return h._send(401, {"error": "Invalid username or password."})
        repo_id = f"{payload.get('organization') or self.user}/{payload['name']}"
        url = f"{h.hub.url}/datasets/{repo_id}"
        with self.lock:
            if self.folder(repo_id).exists():
                return h._send(409, {"error": "You already created this dataset repo", "url": url})
            self.folder(repo_id).mkdir(parents=True)
            (self.folder(repo_id) / ".gitattributes").write_text(GITATTRIBUTES)
            self._log(repo_id, "initial commit", [".gitattributes"], [])
        h._send(200, {"url": url, "name": repo_id, "id": hashlib.sha1(url.encode()).hexdigest()})
