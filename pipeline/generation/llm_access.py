"""Whether each LLM of the recipe can be called, checked before anything runs.

There is no fallback model: without a key, an endpoint or a local model, `wavecoder generate`
stops with `NO_ENDPOINT_MESSAGE` before anything runs; a local model given as a folder that
does not exist (or a Hub id that is not cached while HF_HUB_OFFLINE is set) stops it too. No
request is sent to check an endpoint: a wrong key or model shows on the first requests, and the
run stops after a few such refusals (`llm_calls.REFUSALS_TO_STOP`).
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.generation.config import GenerationConfig, LLMConfig, tester_config
from wavecoder.errors import UserError

DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "hf-inference-providers": "HF_TOKEN"}

NO_ENDPOINT_MESSAGE = (
    "no LLM endpoint is configured for the {role} ({provider} model {model}). Provide one: set "
    "OPENAI_API_KEY or pass --api-key for OpenAI; set HF_TOKEN and use provider "
    "hf-inference-providers for Hugging Face Inference Providers; pass --base-url "
    "http://HOST:PORT/v1 for a local OpenAI-compatible server (vLLM, TGI, `transformers serve`); "
    "or set provider: transformers or vllm with a local model in the recipe. Add --dry-run to "
    "see the prompts and the estimated cost without calling any LLM."
)


def resolve_api_key(config: LLMConfig) -> str | None:
    env = config.api_key_env or DEFAULT_KEY_ENV.get(config.provider)
    key = os.environ.get(env) if env else None
    if not key and config.provider == "hf-inference-providers" and not config.api_key_env:
        from huggingface_hub import get_token

        key = get_token()
    return key or None


def endpoint_configured(config: LLMConfig) -> bool:
    """Whether this LLM can be called: a local model, a custom class, a key or a base URL."""
    if config.is_local or ":" in config.provider:
        return True
    return bool(resolve_api_key(config) or (config.provider == "openai" and config.base_url))


def require_llm_access(config: GenerationConfig, *, tester: bool = False) -> None:
    """Every role the run calls (with `tester`, the tester too) can be called; else UserError."""
    for role in ("generator", "discriminator", "tester")[: 3 if tester else 2]:
        llm: LLMConfig = tester_config(config) if role == "tester" else getattr(config, role)
        if not endpoint_configured(llm):
            raise UserError(
                NO_ENDPOINT_MESSAGE.format(role=role, provider=llm.provider, model=llm.model)
            )
        if llm.is_local:
            check_local_model(llm, f"generation.{role}")


def check_local_model(config: LLMConfig, where: str) -> None:
    """A local provider's model must be an existing folder, or a Hub id that can be loaded."""
    model = config.model
    path = Path(model).expanduser()
    looks_like_path = model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model
    if path.is_dir():
        return
    if looks_like_path or path.exists():
        raise UserError(
            f"{where}.model: the model folder {model} does not exist (or is not a folder); give "
            "the folder of a saved model (config.json and weights) or a Hub model id"
        )
    from huggingface_hub import constants, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = try_to_load_from_cache(model, "config.json")
    except HFValidationError:
        raise UserError(
            f"{where}.model: {model!r} is neither a folder nor a Hub model id"
        ) from None
    if not isinstance(cached, str) and constants.HF_HUB_OFFLINE:
        raise UserError(
            f"{where}.model: {model} is not in the local Hugging Face cache and HF_HUB_OFFLINE "
            "is set; download it first (`hf download MODEL`) or unset HF_HUB_OFFLINE"
        )
