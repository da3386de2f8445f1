"""A scripted OpenAI-compatible server on loopback (chat and text completions): tests only.

The real OpenAI client talks HTTP to it; a script (a function of the request) decides each
reply: content, HTTP status and headers (429 with Retry-After, 500), a dropped connection, or a
delay longer than the client's timeout. The server runs in a forked process, so it answers
while the test's own process runs distilabel, and it counts every request it receives
(`calls()`), which is how tests prove what was and was not sent.

An optional fixed `delay` with a `max_concurrency` cap makes it the ideal server of the
generation benchmark: it can never answer more than cap / delay requests per second.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class Reply:
    """What the server does with one request."""

    content: str | None = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # seconds to wait before answering (on top of the server's delay)
    prompt_tokens: int | None = None  # default: characters of the prompt / 4
    completion_tokens: int | None = None  # default: characters of the content / 4
    finish_reason: str = "stop"  # "length": cut at max_tokens
    error_code: str | None = None  # the error body's `code` (e.g. model_not_found)


@dataclass
class Request:
    """A chat-completions request as the script sees it."""

    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    attempt: int  # 1 for the first time this exact (model, messages) arrives, 2 for a retry...
    path: str = "/v1/chat/completions"  # or /v1/completions (a text prompt, no messages)

    @property
    def prompt(self) -> str:
        if "prompt" in self.body:
            return str(self.body["prompt"])
        return "\n".join(str(m.get("content", "")) for m in self.messages)

    @property
    def wants_json(self) -> bool:
        return (self.body.get("response_format") or {}).get("type") in (
            "json_schema",
            "json_object",
        )


Script = Callable[[Request], Reply]


class ScriptedServer:
    """Start with `with ScriptedServer(script) as server:`; `server.base_url` ends in /v1."""

    def __init__(self, script: Script, *, delay: float = 0.0, max_concurrency: int | None = None):
        self.script = script
        self.delay = delay
        self.max_concurrency = max_concurrency
        self.port = _free_port()
        self._process: multiprocessing.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ScriptedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        context = multiprocessing.get_context(
            "fork"
        )  # the script closure is inherited, not pickled
        self._process = context.Process(
            target=_serve,
            args=(self.script, self.port, self.delay, self.max_concurrency),
            daemon=True,
        )
        self._process.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self._get("/_health")
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("scripted server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)
            self._process = None

    def calls(self) -> list[dict[str, Any]]:
        """Every request received so far, in arrival order: model, attempt, time (s, arrival),
        answered (s, once answered), status, messages, response_format, max_tokens, and the
        request's path and whole body."""
        return json.loads(self._get("/_calls"))

    def reset(self) -> None:
        """Forget received calls and attempt counts."""
        self._get("/_reset")

    def _get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
            return response.read()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(script: Script, port: int, delay: float, max_concurrency: int | None) -> None:
    asyncio.run(_Server(script, delay, max_concurrency).run(port))


class _Server:
    def __init__(self, script: Script, delay: float, max_concurrency: int | None):
        self.script = script
        self.delay = delay
        self.slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self.calls: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}

    async def run(self, port: int) -> None:
        server = await asyncio.start_server(self.handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
                }
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                keep = await self.respond(method, path, body, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def respond(
        self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        if path == "/_health":
            return await _send(writer, 200, {"ok": True})
        if path == "/_calls":
            return await _send(writer, 200, self.calls)
        if path == "/_reset":
            self.calls.clear()
            self.attempts.clear()
            return await _send(writer, 200, {"ok": True})
        if path.endswith("/models"):
            return await _send(writer, 200, {"object": "list", "data": []})
        if not path.endswith(("/chat/completions", "/completions")) or method != "POST":
            return await _send(writer, 404, {"error": {"message": f"no route {path}"}})
        data = json.loads(body)
        key = hashlib.sha256(
            json.dumps(
                [data.get("model"), data.get("messages"), data.get("prompt")], sort_keys=True
            ).encode()
        ).hexdigest()
        self.attempts[key] = self.attempts.get(key, 0) + 1
        request = Request(
            data.get("model", ""), data.get("messages", []), data, self.attempts[key], path
        )
        reply = self.script(request)
        call = {
            "model": request.model,
            "attempt": request.attempt,
            "time": time.time(),
            "status": "dropped" if reply.drop else reply.status,
            "messages": request.messages,
            "response_format": data.get("response_format"),
            "max_tokens": data.get("max_tokens"),
            "path": path,
            "body": data,
        }
        self.calls.append(call)
        if self.slots is not None:
            async with self.slots:
                await asyncio.sleep(self.delay + reply.delay)
        elif self.delay + reply.delay:
            await asyncio.sleep(self.delay + reply.delay)
        call["answered"] = time.time()
        if reply.drop:
            writer.transport.abort()
            return False
        if reply.status != 200:
            error = {
                "error": {
                    "message": f"scripted status {reply.status}",
                    "type": "scripted",
                    "code": reply.error_code or reply.status,
                }
            }
            return await _send(writer, reply.status, error, reply.headers)
        content = reply.content
        chat = path.endswith("/chat/completions")
        answer = (
            {"message": {"role": "assistant", "content": content}}
            if chat
            else {"text": content, "logprobs": None}
        )
        completion = {
            "id": f"chatcmpl-{len(self.calls)}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {"index": i, **answer, "finish_reason": reply.finish_reason}
                for i in range(data.get("n") or 1)
            ],
            "usage": {
                "prompt_tokens": reply.prompt_tokens
                if reply.prompt_tokens is not None
                else len(request.prompt) // 4,
                "completion_tokens": reply.completion_tokens
                if reply.completion_tokens is not None
                else len(content or "") // 4,
            },
        }
        completion["usage"]["total_tokens"] = sum(completion["usage"].values())
        return await _send(writer, 200, completion, reply.headers)


async def _send(
    writer: asyncio.StreamWriter, status: int, payload: Any, headers: dict[str, str] | None = None
) -> bool:
    body = json.dumps(payload).encode()
    head = [
        f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
    except ConnectionError:
        return False
    return True
