"""A loopback Hub for `wavecoder space deploy`: tests/training/hub_server.py's model repos reached
as Spaces (created with the Gradio SDK), plus what the Space routes of huggingface_hub send, kept by
the server process in a JSON file per Space (`SpaceRepos.state(repo_id)` reads it back in the test):

- `POST /api/repos/create` of a space: its `visibility`, `hardware`, `variables` and `secrets`
  are kept (409 when it exists, as for any repo);
- `GET|POST|DELETE /api/spaces/{repo}/variables` (`get/add/delete_space_variable`);
- `POST|DELETE /api/spaces/{repo}/secrets` (`add/delete_space_secret`; values kept, never served);
- `PUT /api/spaces/{repo}/settings` (`update_repo_settings`: visibility);
- `POST /api/spaces/{repo}/hardware` (`request_space_hardware`), answered as a runtime.

Every other Space route is the model repo's (`/api/spaces/...` read as `/api/models/...`).
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "training"))  # hub_server imports hub_repos by name
import hub_server  # noqa: E402
from hub_repos import ModelRepos  # noqa: E402


class SpaceRepos(ModelRepos):
    """The model repos of hub_server, reached as Spaces, with each Space's settings, variables
    and secrets in `<root>/_spaces/<org>__<name>.json` (the server runs in another process)."""

    def state(self, repo_id: str) -> dict:
        """{"settings": {"visibility", "hardware"}, "variables": {key: {"value", ...}},
        "secrets": {key: value}} of the Space `repo_id`."""
        path = self._state_path(repo_id)
        if not path.is_file():
            return {"settings": {"visibility": "public", "hardware": None}, "variables": {},
                    "secrets": {}}  # fmt: skip
        return json.loads(path.read_text())

    def _state_path(self, repo_id: str) -> Path:
        return Path(self.root) / "_spaces" / f"{repo_id.replace('/', '__')}.json"

    def _save(self, repo_id: str, state: dict) -> None:
        path = self._state_path(repo_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state))

    def route(self, h, method: str, segments: list[str], body: bytes) -> bool:
        if method == "POST" and segments == ["api", "repos", "create"]:
            payload = json.loads(body)
            if payload.get("type") != "space":
                return self._create(h, payload) or True
            if payload.get("sdk") != "gradio":
                return h._send(400, {"error": "sdk must be set for a space"}) or True
            repo_id = f"{payload.get('organization') or self.user}/{payload['name']}"
            existed = self.folder(repo_id).exists()
            self._create(h, {**payload, "type": "model"})
            if not existed and h.headers.get("authorization"):
                self._save(repo_id, {
                    "settings": {"visibility": payload.get("visibility", "public"),
                                 "hardware": payload.get("hardware")},
                    "variables": {v["key"]: {"value": v["value"], "description": None}
                                  for v in payload.get("variables") or []},
                    "secrets": {x["key"]: x["value"] for x in payload.get("secrets") or []},
                })  # fmt: skip
            return True
        if segments[:2] != ["api", "spaces"] or len(segments) < 5:
            return super().route(h, method, segments, body)
        repo_id, what = "/".join(segments[2:4]), segments[4]
        if what in ("variables", "secrets", "settings", "hardware"):
            if not h.headers.get("authorization"):
                return h._send(401, {"error": "Invalid username or password."}) or True
            if not self.folder(repo_id).is_dir():
                return h._send(404, {"error": "Repository not found"}) or True
            with self.lock:
                state = self.state(repo_id)
                answer = self._space_route(method, what, json.loads(body) if body else {}, state)
                self._save(repo_id, state)
            return h._send(*answer) or True
        return super().route(h, method, ["api", "models", *segments[2:]], body)

    @staticmethod
    def _space_route(method: str, what: str, sent: dict, state: dict) -> tuple[int, dict]:
        if what in ("variables", "secrets"):
            found = state[what]
            if method == "POST":
                value = sent["value"]
                found[sent["key"]] = value if what == "secrets" else {"value": value,
                                                                      "description": None}  # fmt: skip
            elif method == "DELETE":
                found.pop(sent["key"], None)
            return 200, (found if what == "variables" else {})
        if what == "settings" and method == "PUT":
            state["settings"].update(sent)
            return 200, {}
        if what == "hardware" and method == "POST":
            state["settings"]["hardware"] = sent["flavor"]
            return 200, {"stage": "BUILDING", "hardware": {"current": None,
                                                           "requested": sent["flavor"]}}  # fmt: skip
        return 405, {"error": f"{method} {what}"}


class SpaceHub(hub_server.HubServer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.repos = SpaceRepos(self.repos.root, self.user, {})

    def _serve(self) -> None:  # hub_server's, with DELETE (delete_space_variable) routed too
        calls, lock, server = [], threading.Lock(), self

        class Handler(hub_server._Handler):
            hub = server
            log = calls
            log_lock = lock

            def do_DELETE(self) -> None:
                self._handle()

        ThreadingHTTPServer(("127.0.0.1", self.port), Handler).serve_forever()
