"""`InProcessTransformersLLM`: distilabel's TransformersLLM with true token counts and stop reasons.

distilabel's `TransformersLLM.generate` runs the text-generation pipeline, which decodes the new
token ids to text, and then counts the reply by re-encoding that text (`compute_tokens`), and the
prompt by encoding each message's content without the chat template. Neither is what the model
saw or produced: a decoded reply does not re-encode to the same ids (a byte-level token that is
half of a UTF-8 character decodes to U+FFFD, which re-encodes to three byte tokens; ids the model
chose one by one may re-encode to fewer merged ones), so a tiny random model with
`max_new_tokens: 64` was reported at 89-113 completion tokens for exactly 64 generated ids, and
prompts 16 tokens short (the template). It also gives no finish reason, so a reply cut at the
limit could only be guessed from that count.

This class calls `model.generate` itself and reports what happened: ``output_tokens`` is the
number of ids generated, up to and including the end-of-sequence id that stopped it (never more
than ``max_new_tokens``); ``input_tokens`` is the length of the prompt as encoded for the model;
``finish_reasons`` is ``"stop"`` when generation ended on an end-of-sequence id of the model's
generation config and ``"length"`` otherwise (cut at ``max_new_tokens``). The text is the same
decode the pipeline does (special tokens skipped). A prompt rendered by the chat template is
encoded without the tokenizer's own special tokens (the template writes them, as transformers
does for chats), so a Llama-style BOS is not doubled.
"""

from __future__ import annotations

from typing import Any

from distilabel.models.llms import TransformersLLM
from distilabel.models.llms.utils import prepare_output
from distilabel.typing import GenerateOutput, StandardInput
from pydantic import validate_call


class InProcessTransformersLLM(TransformersLLM):
    """A local `transformers` model in-process; the output also holds `finish_reasons`, and its
    token counts are the ids the model read and generated.

    Attributes, runtime parameters and examples: those of distilabel's `TransformersLLM`.
    """

    @validate_call
    def generate(  # type: ignore[override]
        self,
        inputs: list[StandardInput],
        num_generations: int = 1,
        max_new_tokens: int = 128,
        temperature: float = 0.1,
        repetition_penalty: float = 1.1,
        top_p: float = 1.0,
        top_k: int = 0,
        do_sample: bool = True,
    ) -> list[GenerateOutput]:
        """Generate `num_generations` replies per input (same parameters as `TransformersLLM`)."""
        settings = {
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "repetition_penalty": repetition_penalty,
            "top_p": top_p,
            "top_k": top_k,
            "do_sample": do_sample,
            "num_return_sequences": num_generations,
        }
        return [self._generate_one(messages, settings) for messages in inputs]

    def _generate_one(self, messages: StandardInput, settings: dict[str, Any]) -> GenerateOutput:
        import torch
        from transformers import LogitsProcessorList

        tokenizer = self._pipeline.tokenizer  # type: ignore[union-attr]
        model = self._pipeline.model  # type: ignore[union-attr]
        templated = tokenizer.chat_template is not None
        prompt = self.prepare_input(input=messages)
        encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=not templated)
        prompt_length = encoded["input_ids"].shape[-1]
        if prompt_length == 0:
            raise ValueError("the prompt encodes to no tokens")
        kwargs = dict(settings)
        kwargs["pad_token_id"] = (
            tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.pad_token_id
        )
        if self._prefix_allowed_tokens_fn is not None:
            kwargs["prefix_allowed_tokens_fn"] = self._prefix_allowed_tokens_fn
        if self._logits_processor:
            kwargs["logits_processor"] = LogitsProcessorList(self._logits_processor)
        with torch.inference_mode():
            sequences = model.generate(**encoded.to(model.device), **kwargs)
        if not isinstance(sequences, torch.Tensor):  # return_dict_in_generate in the config
            sequences = sequences.sequences
        stop_ids = stop_token_ids(model.generation_config)
        texts, counts, reasons = [], [], []
        for ids in sequences[:, prompt_length:].tolist():
            count, reason = generated_length(ids, stop_ids)
            texts.append(tokenizer.decode(ids[:count], skip_special_tokens=True))
            counts.append(count)
            reasons.append(reason)
        output = prepare_output(texts, input_tokens=[prompt_length], output_tokens=counts)
        output["finish_reasons"] = reasons
        return output


def stop_token_ids(generation_config: Any) -> set[int]:
    """The end-of-sequence ids `generate` stops on (an int, a list, or none)."""
    eos = getattr(generation_config, "eos_token_id", None)
    if eos is None:
        return set()
    return {int(eos)} if isinstance(eos, int) else {int(i) for i in eos}


def generated_length(ids: list[int], stop_ids: set[int]) -> tuple[int, str]:
    """How many of one sequence's new ids were generated, and why generation ended.

    Ids after the first stop id are padding (a finished sequence waits for the others of its
    batch); the stop id itself was generated and is counted, as OpenAI-compatible servers do.
    """
    for i, token in enumerate(ids):
        if token in stop_ids:
            return i + 1, "stop"
    return len(ids), "length"
