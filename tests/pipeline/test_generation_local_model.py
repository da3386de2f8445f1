"""The local-inference path end to end with a tiny randomly initialised model built here.

Its output is garbage, so every row must be rejected with a recorded reason, never crash the
run, and the dataset folder must still be written. Two ways in: distilabel's TransformersLLM
in-process (the `transformers` provider, as `InProcessTransformersLLM`, which counts the token
ids the model read and generated) as the discriminator, judging valid cases that a
scripted OpenAI-compatible generator writes, so the judge's prompt and parser run on every row;
and `transformers serve` on loopback reached through the OpenAI client (the `--base-url` path)
as both models.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from generation_fixtures import SNIPPETS, teacher
from scripted_server import ScriptedServer
from tiny_models import bpe_tokenizer, tiny_llama

from pipeline.generation.main_process import (
    add_generation_steps,
    finish_generation,
    prepare_generation,
)
from pipeline.recipe import load_recipe

pytestmark = pytest.mark.slow
POSTFILTER_CHECKS = {
    "truncated",
    "unparseable",
    "empty_output",
    "refusal",
    "missing_keys",
    "multiple_cases",
}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer Llama with a byte-level BPE tokenizer trained on a few lines, and a chat template."""
    tokenizer = bpe_tokenizer(
        [s["code"] for s in SNIPPETS] * 4,
        vocab_size=400,
        unk_token="<unk>",
        pad_token="<pad>",
        chat_template=(
            "{% for m in messages %}<s>{{ m['role'] }}\n{{ m['content'] }}</s>\n{% endfor %}"
            "{% if add_generation_prompt %}<s>assistant\n{% endif %}"
        ),
    )
    return tiny_llama(tmp_path_factory.mktemp("tiny-llama"), tokenizer, heads=2, max_positions=4096)


def run_local(tmp_path: Path, llm: dict, generator: dict | None = None) -> Path:
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts

    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(
        yaml.safe_dump(
            {
                "selection": {"k": len(SNIPPETS)},
                "generation": {
                    "generator": generator or llm,
                    "discriminator": llm,
                    "wave_size": 8,
                },
            }
        )
    )
    recipe = load_recipe(str(recipe_path))
    out = tmp_path / "out"
    dry = prepare_generation(recipe, out)
    assert dry is False
    with Pipeline(name="local-model-test", cache_dir=tmp_path / "cache") as pipeline:
        load = LoadDataFromDicts(data=SNIPPETS, batch_size=16)
        add_generation_steps(pipeline, load, recipe, out, dry_run=False)
    distiset = pipeline.run(use_cache=False)
    assert finish_generation(distiset, recipe, out, selected=len(SNIPPETS)) == 0
    return out


def load_rejected(out: Path):
    from datasets import load_dataset

    card = (out / "README.md").read_text()
    assert "- config_name: rejected\n" in card and "- config_name: failed" not in card
    assert "| `default` | 0 |" in card and "- config_name: default\n  default: true" in card
    rejected = load_dataset(
        str(out), "rejected", split="train", cache_dir=str(out.parent / "hf-cache")
    )
    assert sorted(rejected["id"]) == sorted(s["id"] for s in SNIPPETS)
    return rejected


def assert_all_rejected_with_reasons(out: Path) -> None:
    rejected = load_rejected(out)
    assert set(rejected["stage"]) == {"postfilter"}
    for reasons, raw, usage in zip(
        rejected["reasons"], rejected["raw_generation"], rejected["usage"], strict=True
    ):
        assert (
            len(reasons) == 1 and reasons[0]["check"] in POSTFILTER_CHECKS and reasons[0]["message"]
        )
        assert raw is not None
        assert usage["generator"]["completion_tokens"] > 0


def test_transformers_judge_rejects_every_case_as_unreadable_with_reasons(tmp_path, tiny_model):
    """A scripted generator writes a valid case for every row; the tiny local judge answers
    garbage, which must be read as an unreadable judgement, never as a verdict or a crash."""
    llm = {
        "provider": "transformers",
        "model": str(tiny_model),
        "concurrency": 8,
        "llm_kwargs": {"device": "cpu"},
        "generation_kwargs": {"max_new_tokens": 24, "temperature": 1.0, "do_sample": True},
    }
    with ScriptedServer(teacher()) as server:
        generator = {"model": "gen-model", "base_url": server.base_url, "max_retries": 0}
        out = run_local(tmp_path, llm, generator)
        judged = [c for c in server.calls() if c["model"] != "gen-model"]
    assert judged == []  # the judge ran in-process, not on the server
    rejected = load_rejected(out)
    assert set(rejected["stage"]) == {"judgement"}
    cut = 0
    for row in rejected:
        assert [r["check"] for r in row["reasons"]] == ["judgement_unreadable"]
        message = row["reasons"][0]["message"]
        assert message.startswith("the judgement has no answer for rule 1")
        assert row["raw_judgement"] is not None and row["instruction"]
        # Generated ids, never a re-encoding of the decoded text: at most max_new_tokens, and a
        # reply that stopped short of the limit (on the end-of-sequence id) is not called cut.
        tokens = row["usage"]["discriminator"]["completion_tokens"]
        assert 0 < tokens <= 24
        truncated = message.endswith("(the reply stopped at the max_new_tokens limit)")
        assert truncated <= (tokens == 24)
        cut += truncated
    assert cut > 0  # a random model rarely picks the end-of-sequence id within 24 tokens


class ForceEndAfter:
    """A logits processor that makes the end-of-sequence id the only choice after n new tokens."""

    def __init__(self, n: int, eos_id: int):
        self.n, self.eos_id, self.prompt_length = n, eos_id, None

    def __call__(self, input_ids, scores):
        if self.prompt_length is None:
            self.prompt_length = input_ids.shape[-1]
        if input_ids.shape[-1] - self.prompt_length >= self.n:
            scores[:, :] = float("-inf")
            scores[:, self.eos_id] = 0.0
        return scores


def test_in_process_transformers_counts_generated_ids_and_reports_why_it_stopped(tiny_model):
    """distilabel's TransformersLLM counted a reply by re-encoding its decoded text: 89-113
    "completion tokens" for 64 generated ids of a random model. The in-process LLM reports the
    ids `generate` returned, the prompt as the model read it, and `finish_reasons`."""
    import torch

    from pipeline.generation.backends import build_llm
    from pipeline.generation.config import LLMConfig
    from pipeline.generation.transformers_llm import InProcessTransformersLLM

    config = LLMConfig(
        provider="transformers",
        model=str(tiny_model),
        llm_kwargs={"device": "cpu"},
        generation_kwargs={"max_new_tokens": 16, "temperature": 1.0, "do_sample": True},
    )
    llm = build_llm(config)
    assert isinstance(llm, InProcessTransformersLLM)
    llm.load()
    tokenizer, model = llm._pipeline.tokenizer, llm._pipeline.model
    calls = []
    real_generate = model.generate

    def recording_generate(**kwargs):
        sequences = real_generate(**kwargs)
        calls.append((kwargs["input_ids"].shape[-1], kwargs["max_new_tokens"], sequences))
        return sequences

    model.generate = recording_generate
    inputs = [[{"role": "user", "content": s["code"]}] for s in SNIPPETS[:6]]
    torch.manual_seed(0)
    outputs = llm.generate(inputs=inputs, num_generations=1, **config.generation_kwargs)
    reasons = []
    for messages, output, (prompt_length, limit, sequences) in zip(
        inputs, outputs, calls, strict=True
    ):
        assert limit == 16
        new_ids = sequences[0, prompt_length:].tolist()
        eos = new_ids.index(2) + 1 if 2 in new_ids else None
        assert output["statistics"]["output_tokens"] == [eos or len(new_ids)]
        assert output["statistics"]["output_tokens"][0] <= 16
        assert output["finish_reasons"] == ["stop" if eos else "length"]
        assert output["generations"] == [
            tokenizer.decode(new_ids[: eos or 16], skip_special_tokens=True)
        ]
        template = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        prompt_ids = tokenizer(template, add_special_tokens=False)["input_ids"]
        assert output["statistics"]["input_tokens"] == [len(prompt_ids)] == [prompt_length]
        reasons.append(output["finish_reasons"][0])
    assert "length" in reasons  # a random model rarely ends on its own within 16 tokens

    # A reply that ends on the end-of-sequence id counts it and is not cut.
    llm._logits_processor = [ForceEndAfter(3, tokenizer.eos_token_id)]
    calls.clear()
    (output,) = llm.generate(inputs=inputs[:1], num_generations=1, **config.generation_kwargs)
    prompt_length, _, sequences = calls[0]
    assert sequences[0, prompt_length:].tolist()[-1] == tokenizer.eos_token_id
    assert sequences.shape[-1] - prompt_length == 4
    assert output["statistics"]["output_tokens"] == [4]
    assert output["finish_reasons"] == ["stop"]


def test_transformers_serve_through_the_openai_client(tmp_path, tiny_model):
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "transformers.cli.transformers",
        "serve",
        str(tiny_model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        _wait_healthy(port, server)
        llm = {
            "provider": "openai",
            "model": str(tiny_model),
            "base_url": f"http://127.0.0.1:{port}/v1",
            "concurrency": 4,
            "generation_kwargs": {"max_new_tokens": 24, "temperature": 1.0},
        }
        assert_all_rejected_with_reasons(run_local(tmp_path, llm))
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"transformers serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("transformers serve did not become healthy")
