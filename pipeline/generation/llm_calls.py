"""One LLM role's calls: the response cache first, then the endpoint under a concurrency cap.

Async LLMs (OpenAI-compatible endpoints) get one request per call, `concurrency` in flight; their
client retries timeouts, 429 (honouring Retry-After), 5xx and dropped connections with backoff.
Local LLMs (transformers, vLLM) are synchronous, so requests are gathered into batches of
`concurrency` rows and generated in a worker thread while the event loop keeps going.

Errors that no retry can fix (401, 403, 404, 400 model_not_found, an endpoint that cannot be
reached) are never retried; after `REFUSALS_TO_STOP` of them in a row the run stops with one
message instead of failing every row. Once the run's `StopSignal` is set (Ctrl-C, or such a
stop), no new request is sent; requests already sent are awaited so their answers are cached.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.generation.backends import cache_backend_name, is_openai_family
from pipeline.generation.config import LLMConfig
from pipeline.generation.response_cache import CachedResponse, ResponseCache, request_key
from pipeline.generation.stopping import ENDPOINT_REFUSED, StopSignal

if TYPE_CHECKING:
    from distilabel.models.llms.base import LLM


# Errors no retry can fix, in a row, before the run stops (one per request otherwise).
REFUSALS_TO_STOP = 3


class LLMCallFailed(Exception):
    """The endpoint gave no answer after its retries; the row is recorded as failed."""


class CallsStopped(Exception):
    """The run is stopping (Ctrl-C, or the endpoint refuses every request): nothing was sent."""


@dataclass(frozen=True)
class Completion:
    text: str | None
    prompt_tokens: int
    completion_tokens: int
    from_cache: bool
    finish_reason: str | None = None
    key: str = ""  # the request's key in the response cache

    def truncated(self, max_new_tokens: int) -> bool:
        """Cut at max_new_tokens: the backend's finish_reason when it gives one, else the count."""
        if self.finish_reason is not None:
            return self.finish_reason == "length"
        return self.completion_tokens >= max_new_tokens > 0


@dataclass
class CallStats:
    """Requests of one role in this run: sent to the endpoint, served from cache, failed."""

    sent: int = 0
    cached: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class LLMCaller:
    """Calls one distilabel LLM for one role (generator or discriminator)."""

    def __init__(
        self,
        llm: LLM,
        config: LLMConfig,
        cache: ResponseCache,
        *,
        role: str = "LLM",
        stop: StopSignal | None = None,
    ):
        from distilabel.models.llms.base import AsyncLLM

        self.llm = llm
        self.config = config
        self.cache = cache
        self.role = role
        self.stop = stop if stop is not None else StopSignal()
        self.stats = CallStats()
        self._is_async = isinstance(llm, AsyncLLM)
        self._raises_on_error = is_openai_family(llm)
        self._semaphore: asyncio.Semaphore | None = None
        self._pending: list[tuple[list[dict], asyncio.Future]] = []
        self._batcher: asyncio.Task | None = None
        self._refusals = 0

    def request_settings(self, json_schema: dict | None, schema_name: str) -> dict[str, Any]:
        return request_settings(self.config, json_schema, schema_name)

    async def complete(
        self, messages: list[dict], json_schema: dict | None = None, schema_name: str = "answer"
    ) -> Completion:
        kwargs = self.request_settings(json_schema, schema_name)
        key = request_key(
            backend=cache_backend_name(self.llm),
            model=self.llm.model_name,
            messages=messages,
            settings=kwargs,
        )
        hit = self.cache.get(key)
        if hit is not None:
            self.stats.cached += 1
            return Completion(
                hit.text, hit.prompt_tokens, hit.completion_tokens, True, hit.finish_reason, key
            )
        if self.stop:
            raise CallsStopped(self.stop.reason)
        try:
            output = await (
                self._call_async(messages, kwargs)
                if self._is_async
                else self._call_batched(messages, kwargs)
            )
            text = output["generations"][0] if output.get("generations") else None
            if text is None and not self._raises_on_error:
                # Such backends log their error and return None instead of raising.
                raise LLMCallFailed("the backend returned no text (see its warning in the log)")
        except (LLMCallFailed, CallsStopped) as exc:
            if isinstance(exc, LLMCallFailed):
                self._record_failure(str(exc))
            raise
        except Exception as exc:
            message = describe_error(exc, self.config)
            self._record_failure(message)
            self._count_refusal(exc, message)
            raise LLMCallFailed(message) from exc
        self._refusals = 0
        stats = output.get("statistics") or {}
        reasons = output.get("finish_reasons") or [None]
        response = CachedResponse(
            text=text,
            prompt_tokens=_first_int(stats.get("input_tokens")),
            completion_tokens=_first_int(stats.get("output_tokens")),
            finish_reason=reasons[0],
        )
        self.cache.put(key, self.llm.model_name, response)
        self.stats.sent += 1
        return Completion(
            response.text,
            response.prompt_tokens,
            response.completion_tokens,
            False,
            response.finish_reason,
            key,
        )

    def _count_refusal(self, exc: Exception, message: str) -> None:
        if not is_refusal(exc):
            self._refusals = 0
            return
        self._refusals += 1
        if self._refusals >= REFUSALS_TO_STOP and not self.stop:
            where = f" at {self.config.base_url}" if self.config.base_url else ""
            self.stop.set(
                ENDPOINT_REFUSED,
                f"the {self.role} endpoint ({self.config.provider} model {self.config.model}"
                f"{where}) refused {self._refusals} requests in a row, so the run stopped: "
                f"{message}. Check the API key (--api-key, OPENAI_API_KEY or HF_TOKEN), the "
                "model name (--generator-model / --discriminator-model) and --base-url.",
            )

    def _record_failure(self, message: str) -> None:
        self.stats.failed += 1
        kind = message.split(":", 1)[0]
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1

    async def _call_async(self, messages: list[dict], kwargs: dict) -> dict:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.config.concurrency)
        async with self._semaphore:
            if self.stop:  # stopped while this request waited for a slot
                raise CallsStopped(self.stop.reason)
            return await self.llm.agenerate(input=messages, num_generations=1, **kwargs)

    async def _call_batched(self, messages: list[dict], kwargs: dict) -> dict:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((messages, future))
        if self._batcher is None or self._batcher.done():
            self._batcher = asyncio.create_task(self._run_batches(kwargs))
        return await future

    async def _run_batches(self, kwargs: dict) -> None:
        while self._pending:
            # Let the rows launched in the same tick join this batch.
            for _ in range(3):
                await asyncio.sleep(0)
            batch = self._pending[: self.config.concurrency]
            del self._pending[: len(batch)]
            if self.stop:
                for _, future in batch:
                    future.set_exception(CallsStopped(self.stop.reason))
                continue
            try:
                outputs = await asyncio.to_thread(
                    self.llm.generate, inputs=[m for m, _ in batch], num_generations=1, **kwargs
                )
            except Exception as exc:
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), output in zip(batch, outputs, strict=False):
                future.set_result(output)


def request_settings(
    config: LLMConfig, json_schema: dict | None, schema_name: str
) -> dict[str, Any]:
    """Generation kwargs of one call; a JSON schema becomes an OpenAI `response_format`."""
    kwargs = dict(config.generation_kwargs)
    if json_schema is not None and config.output_format == "json":
        # distilabel types `response_format` as dict[str, str]; extra_body carries the schema.
        extra = dict(kwargs.get("extra_body") or {})
        extra["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": json_schema, "strict": True},
        }
        kwargs["extra_body"] = extra
    return kwargs


def is_refusal(exc: BaseException) -> bool:
    """An error no retry of any request can fix: authentication, permission, an unknown model or
    route, or an endpoint that cannot be reached (the client already retried the connection)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return False
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (401, 403, 404):
            return True
        if exc.status_code == 400:
            text = f"{getattr(exc, 'code', '')} {exc.message}".lower()
            return "model_not_found" in text or (
                "model" in text and ("does not exist" in text or "not found" in text)
            )
    return False


def describe_error(exc: BaseException, config: LLMConfig) -> str:
    """One line naming the failure, with the retries already spent on it."""
    import openai

    retries = f"after {config.max_retries} retries"
    if isinstance(exc, openai.APITimeoutError):
        return f"timeout: no answer within {config.timeout:g} s, {retries}"
    if isinstance(exc, openai.APIConnectionError):
        return f"connection error: {exc.__cause__ or exc}, {retries}"
    if isinstance(exc, openai.APIStatusError):
        message = _short(re.sub(r"^Error code: \d+ - ", "", exc.message))
        retried = exc.status_code in (408, 409, 429) or exc.status_code >= 500
        return f"HTTP {exc.status_code}: {message}" + (
            f", {retries}" if retried else " (not retried: no retry can fix it)"
        )
    return f"{type(exc).__name__}: {_short(str(exc))}"


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_int(values: Any) -> int:
    if isinstance(values, list) and values and isinstance(values[0], int) and values[0] >= 0:
        return values[0]
    return 0
