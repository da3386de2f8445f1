"""The recipe's ``generation`` section: the generator and discriminator LLMs and the loop.

Every key is a dataclass field documented once here; `pipeline.recipe` builds the section from
YAML, and command-line flags override its keys (`pipeline.recipe.apply_overrides`, which sets an
LLM's keys through `override_llm`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from pipeline.tasks import all_tasks
from wavecoder.errors import UserError

# Provider -> how the LLM is built (see `pipeline.generation.backends`).
PROVIDERS = ("openai", "hf-inference-providers", "transformers", "vllm")
OPENAI_COMPATIBLE = ("openai", "hf-inference-providers")
OUTPUT_FORMATS = ("text", "json")


@dataclass
class LLMConfig:
    """One LLM: who serves it, how it is called, and what it costs."""

    # openai: any OpenAI-compatible endpoint (OpenAI, vLLM or TGI servers, `transformers serve`);
    # hf-inference-providers: Hugging Face Inference Providers (OpenAI-compatible router, HF_TOKEN);
    # transformers / vllm: a local model loaded in-process; or "module:Class" of any distilabel LLM.
    provider: str = "openai"
    # Model id as the endpoint knows it, or a Hub id / folder for local providers.
    model: str = "gpt-4o-mini"
    # Endpoint URL (e.g. http://localhost:8000/v1); null = the provider's default.
    base_url: str | None = None
    # Environment variable holding the API key; null = OPENAI_API_KEY or HF_TOKEN by provider.
    api_key_env: str | None = None
    # `json`: ask for a JSON-schema response (OpenAI-compatible providers); `text`: parse a layout.
    output_format: str = "text"
    # Passed to each generation call (distilabel names: max_new_tokens, temperature, top_p...).
    generation_kwargs: dict[str, Any] = field(
        default_factory=lambda: {"max_new_tokens": 512, "temperature": 1.0}
    )
    # Requests in flight at once (async providers) or rows per batch (local providers).
    concurrency: int = 16
    # Retries of a failed request (timeouts, 429 honouring Retry-After, 5xx, dropped connections).
    max_retries: int = 6
    # Seconds before a request times out.
    timeout: float = 120.0
    # USD per million tokens ({input: ..., output: ...}), for dry-run estimates and run
    # summaries; null (the default) = unknown, shown as "price unknown". A model named by a flag
    # drops the recipe's prices, which were for the recipe's model.
    price_per_million_tokens: dict[str, float] | None = None
    # Extra constructor arguments of the distilabel LLM class (e.g. device, dtype for transformers).
    llm_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def max_new_tokens(self) -> int:
        return int(self.generation_kwargs.get("max_new_tokens", 512))

    @property
    def is_local(self) -> bool:
        return self.provider in ("transformers", "vllm")


@dataclass
class GenerationConfig:
    """The LLM Generator-Discriminator loop."""

    # Writes instruction data (the paper: gpt-3.5-turbo, temperature 1, 512 new tokens).
    generator: LLMConfig = field(default_factory=LLMConfig)
    # Judges it rule by rule (the paper: GPT-4, a stronger model than the generator).
    discriminator: LLMConfig = field(default_factory=lambda: default_llm("discriminator"))
    # Share of each code task in percent (normalised); null = the paper's 57.1/15.8/15.8/11.2.
    task_mix: dict[str, float] | None = None
    # Good and bad cases drawn from the example database into each generator prompt (k of each).
    examples_per_prompt: int = 1
    # Rows per wave: a row's examples come from the pools as they stood two waves earlier, so the
    # dataset depends on the wave size and seed, never on concurrency or timing.
    wave_size: int = 64
    # Writes the tests a case is run against when the recipe's `execution` is enabled
    # (pipeline/execution): the LLMConfig keys given here override the generator's, so null (the
    # default) calls the generator's model and endpoint. The paper's generator prompt is unchanged.
    tester: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for role in ("generator", "discriminator"):
            value = getattr(self, role)
            if isinstance(value, dict):
                setattr(self, role, _build_llm(value, role))
            elif value is None:
                setattr(self, role, default_llm(role))


def tester_config(config: GenerationConfig) -> LLMConfig:
    """The tester's LLM: the generator's settings with `generation.tester`'s keys over them. Its
    `generation_kwargs` extend the generator's; its prices, when given, replace them (both input
    and output), and another model without prices has unknown prices, since the generator's were
    for its model."""
    overrides = dict(config.tester or {})
    base = dataclasses.asdict(config.generator)
    merged = {**base, **overrides}
    if isinstance(overrides.get("generation_kwargs"), dict):
        merged["generation_kwargs"] = {
            **base["generation_kwargs"],
            **overrides["generation_kwargs"],
        }
    if (
        overrides.get("model", base["model"]) != base["model"]
        and "price_per_million_tokens" not in overrides
    ):
        merged["price_per_million_tokens"] = None
    return LLMConfig(**merged)


def default_llm(role: str) -> LLMConfig:
    if role == "discriminator":
        return LLMConfig(
            model="gpt-4o", generation_kwargs={"max_new_tokens": 768, "temperature": 0.0}
        )
    return LLMConfig()


# The keys that make an LLM object (the others are per-request settings, prices, concurrency).
LLM_OBJECT_KEYS = (
    "provider",
    "model",
    "base_url",
    "api_key_env",
    "max_retries",
    "timeout",
    "llm_kwargs",
)


def tester_needs_own_llm(config: GenerationConfig) -> bool:
    """Whether the tester's LLM differs from the generator's object (another model, endpoint,
    retries...); if not, the generator's serves it and a local model is loaded once."""
    tester = tester_config(config)
    return any(getattr(tester, key) != getattr(config.generator, key) for key in LLM_OBJECT_KEYS)


def _build_llm(data: dict, role: str) -> LLMConfig:
    known = {f.name for f in dataclasses.fields(LLMConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(
            f"unknown key(s) {unknown} in recipe section `generation.{role}`; "
            f"known keys: {sorted(known)}"
        )
    defaults = dataclasses.asdict(default_llm(role))
    merged = {**defaults, **data}
    # Partial dicts in YAML extend the role's defaults instead of replacing them.
    for key in ("generation_kwargs", "price_per_million_tokens"):
        if isinstance(data.get(key), dict) and isinstance(defaults[key], dict):
            merged[key] = {**defaults[key], **data[key]}
    return LLMConfig(**merged)


def validate_generation(config: GenerationConfig) -> None:
    """Raise UserError naming the key and the fix for any invalid setting."""
    if config.tester is not None:
        if not isinstance(config.tester, dict):
            raise UserError(
                "generation.tester must be a mapping of LLM keys (model, base_url, ...) or null "
                f"(= the generator's), got {config.tester!r}"
            )
        known = {f.name for f in dataclasses.fields(LLMConfig)}
        unknown = sorted(set(config.tester) - known)
        if unknown:
            raise UserError(
                f"unknown key(s) {unknown} in recipe section `generation.tester`; "
                f"known keys: {sorted(known)}"
            )
        for key in ("generation_kwargs", "llm_kwargs"):
            if key in config.tester and not isinstance(config.tester[key], dict):
                raise UserError(
                    f"generation.tester.{key} must be a mapping (leave it out to use the "
                    f"generator's), got {config.tester[key]!r}"
                )
    for role in ("generator", "discriminator", "tester"):
        llm: LLMConfig = tester_config(config) if role == "tester" else getattr(config, role)
        where = f"generation.{role}"
        if llm.provider not in PROVIDERS and ":" not in llm.provider:
            raise UserError(
                f"{where}.provider must be one of {list(PROVIDERS)} or 'module:Class' of a "
                f"distilabel LLM, got {llm.provider!r}"
            )
        if not llm.model:
            raise UserError(f"{where}.model is empty; name the model to call")
        if llm.output_format not in OUTPUT_FORMATS:
            raise UserError(
                f"{where}.output_format must be text or json, got {llm.output_format!r}"
            )
        if llm.output_format == "json" and llm.provider not in OPENAI_COMPATIBLE:
            raise UserError(
                f"{where}.output_format json needs an OpenAI-compatible provider; use text for "
                f"{llm.provider}"
            )
        if llm.concurrency < 1 or llm.max_retries < 0 or llm.timeout <= 0:
            raise UserError(
                f"{where}: concurrency >= 1, max_retries >= 0 and timeout > 0 are needed"
            )
        prices = llm.price_per_million_tokens
        if prices is not None and (
            not isinstance(prices, dict)
            or set(prices) != {"input", "output"}
            or any(not isinstance(v, int | float) or v < 0 for v in prices.values())
        ):
            raise UserError(
                f"{where}.price_per_million_tokens takes both input and output prices >= 0 "
                "(USD per million tokens), or null when unknown"
            )
    if config.task_mix is not None:
        tasks = all_tasks()
        unknown = sorted(set(config.task_mix) - set(tasks))
        if unknown:
            raise UserError(
                f"generation.task_mix names unknown task(s) {unknown}; known: {sorted(tasks)}"
            )
        if any(v < 0 for v in config.task_mix.values()) or sum(config.task_mix.values()) <= 0:
            raise UserError("generation.task_mix needs shares >= 0 with a positive sum")
    if config.examples_per_prompt < 0:
        raise UserError("generation.examples_per_prompt must be >= 0")
    if config.wave_size < 1:
        raise UserError("generation.wave_size must be >= 1")


def override_llm(llm: LLMConfig, key: str, value: Any) -> None:
    """Set one key of an LLM from the command line. A base URL makes the LLM OpenAI-compatible;
    a model other than the recipe's drops the recipe's prices, which were for its model."""
    if key == "model":
        if value == llm.model:
            return
        llm.price_per_million_tokens = None
    setattr(llm, key, value)
    if key == "base_url" and llm.provider not in OPENAI_COMPATIBLE:
        llm.provider = "openai"


# `--api-key` is handed to the step processes through this variable, so it never appears in
# the serialised pipeline or the recipe dump.
CLI_API_KEY_ENV = "WAVECODER_API_KEY"


def hand_over_api_key(key: str) -> str:
    """Put a key given on the command line where the step processes (forked) read it; returns
    the variable's name, the value of the LLMs' `api_key_env`."""
    os.environ[CLI_API_KEY_ENV] = key
    return CLI_API_KEY_ENV


def cost_usd(
    prices: dict[str, float] | None, input_tokens: int, output_tokens: int
) -> float | None:
    """USD for the tokens at `prices` per million tokens; None when the price is unknown."""
    if prices is None or prices.get("input") is None or prices.get("output") is None:
        return None
    usd = input_tokens * prices["input"] + output_tokens * prices["output"]
    return round(usd / 1e6, 4)


def format_usd(value: float | None) -> str:
    return "price unknown" if value is None else f"${value:.4f}"
