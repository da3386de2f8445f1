"""`OpenAICompatibleLLM`: distilabel's OpenAILLM that keeps each choice's `finish_reason`.

distilabel's output has the text and token counts but drops why the generation stopped; the
loop needs it to tell a reply cut at max_new_tokens ("length") from one that ended on its own
(a token count equal to the limit is only a guess). It adds `finish_reasons` to the output.
"""

from __future__ import annotations

from typing import Any

from distilabel.models.llms import OpenAILLM


class OpenAICompatibleLLM(OpenAILLM):
    """Any OpenAI-compatible chat endpoint (OpenAI, HF Inference Providers, vLLM, TGI, `transformers
    serve`); the output also holds `finish_reasons`, one per generation.

    Attributes, runtime parameters and examples: those of distilabel's `OpenAILLM`.
    """

    def _generations_from_openai_completion(self, completion: Any) -> Any:
        output = super()._generations_from_openai_completion(completion)
        output["finish_reasons"] = [choice.finish_reason for choice in completion.choices]
        return output
