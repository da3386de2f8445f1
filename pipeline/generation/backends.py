"""Distilabel LLMs from the recipe: one per role, nothing loaded or contacted when built.

`openai` and `hf-inference-providers` are `OpenAICompatibleLLM` (distilabel's OpenAILLM that
keeps each reply's finish reason); `transformers` is `InProcessTransformersLLM`; `vllm` is
distilabel's; "module:Class" is any distilabel LLM. Whether an LLM can be called at all is
checked before the pipeline is built (`llm_access`).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from distilabel.models.llms import LLM, OpenAILLM, vLLM

from pipeline.generation.config import OPENAI_COMPATIBLE, LLMConfig
from pipeline.generation.llm_access import NO_ENDPOINT_MESSAGE, resolve_api_key
from pipeline.generation.transformers_llm import InProcessTransformersLLM
from wavecoder.errors import UserError

# Hugging Face Inference Providers speak the OpenAI chat-completions protocol at this router.
HF_ROUTER_URL = "https://router.huggingface.co/v1"
# Local OpenAI-compatible servers (vLLM, TGI, transformers serve) accept any key; the client
# library insists on one.
LOCAL_SERVER_KEY = "not-needed"


class OpenAICompatibleLLM(OpenAILLM):
    """Any OpenAI-compatible chat endpoint (OpenAI, HF Inference Providers, vLLM, TGI, `transformers
    serve`); the output also holds `finish_reasons`, one per generation.

    distilabel's output has the text and token counts but drops why the generation stopped; the
    loop needs it to tell a reply cut at max_new_tokens ("length") from one that ended on its own
    (a token count equal to the limit is only a guess).

    Attributes, runtime parameters and examples: those of distilabel's `OpenAILLM`.
    """

    def _generations_from_openai_completion(self, completion: Any) -> Any:
        output = super()._generations_from_openai_completion(completion)
        output["finish_reasons"] = [choice.finish_reason for choice in completion.choices]
        return output


def build_llm(config: LLMConfig, *, for_dry_run: bool = False) -> LLM:
    """The distilabel LLM for one role; nothing is loaded or contacted here."""
    if config.provider in OPENAI_COMPATIBLE:
        kwargs = dict(config.llm_kwargs)
        base_url = config.base_url or (HF_ROUTER_URL if config.provider != "openai" else None)
        if base_url:
            kwargs["base_url"] = base_url
        key = resolve_api_key(config) or (LOCAL_SERVER_KEY if config.base_url else None)
        if key:
            kwargs["api_key"] = key
        elif not for_dry_run:
            raise UserError(
                NO_ENDPOINT_MESSAGE.format(role="LLM", provider=config.provider, model=config.model)
            )
        llm = OpenAICompatibleLLM(
            model=config.model,
            max_retries=config.max_retries,
            timeout=int(max(1, round(config.timeout))),
            **kwargs,
        )
    elif config.provider == "transformers":
        llm = InProcessTransformersLLM(model=config.model, **config.llm_kwargs)
    elif config.provider == "vllm":
        llm = vLLM(model=config.model, **config.llm_kwargs)
    else:
        llm = _build_custom(config)
    _check_generation_kwargs(llm, config)
    return llm


def _build_custom(config: LLMConfig) -> LLM:
    module_name, _, class_name = config.provider.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"cannot import LLM class {config.provider!r}: {exc}") from exc
    if not (inspect.isclass(cls) and issubclass(cls, LLM)):
        raise UserError(f"{config.provider!r} is not a distilabel LLM class")
    kwargs = dict(config.llm_kwargs)
    if "model" in cls.model_fields and "model" not in kwargs:
        kwargs["model"] = config.model
    return cls(**kwargs)


def _check_generation_kwargs(llm: LLM, config: LLMConfig) -> None:
    accepted = {p.name for p in llm.generate_parameters} - {"input", "inputs", "num_generations"}
    unknown = sorted(set(config.generation_kwargs) - accepted)
    if unknown:
        raise UserError(
            f"generation_kwargs {unknown} are not accepted by {cache_backend_name(llm)}; "
            f"it takes {sorted(accepted)}"
        )


def cache_backend_name(llm: LLM) -> str:
    """The distilabel class an LLM is or extends, as the response cache's keys name it."""
    for cls in type(llm).__mro__:
        if cls.__module__.startswith("distilabel."):
            return cls.__name__
    return type(llm).__name__


def is_openai_family(llm: LLM) -> bool:
    """OpenAI-compatible LLMs raise on transport errors and accept `extra_body`."""
    return isinstance(llm, OpenAILLM)
