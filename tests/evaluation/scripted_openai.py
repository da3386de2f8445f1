"""A scripted OpenAI-compatible server on loopback, for tests only (never a product backend).

`ScriptedOpenAI(reply)` serves ``POST /v1/completions`` and ``POST /v1/chat/completions``;
``reply(prompt_or_messages) -> str`` decides each answer; every request body is recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedOpenAI:
    def __init__(self, reply):
        self.reply = reply
        self.requests: list[tuple[str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body))
                n = body.get("n") or 1
                if self.path.endswith("/chat/completions"):
                    text = server.reply(body["messages"])
                    choices = [
                        {
                            "index": i,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text},
                        }
                        for i in range(n)
                    ]
                    payload = {
                        "id": "c",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": choices,
                    }
                else:
                    text = server.reply(body["prompt"])
                    choices = [
                        {"index": i, "text": text, "finish_reason": "stop", "logprobs": None}
                        for i in range(n)
                    ]
                    payload = {
                        "id": "c",
                        "object": "text_completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": choices,
                    }
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
