"""Shared set-up of the loop tests: a GenerationConfig for one scripted server, a run of the
loop with fresh LLMs, and short views of the records and requests."""

from __future__ import annotations

from generation_fixtures import snippet_of
from scripted_server import Request

from pipeline.generation.backends import build_llm
from pipeline.generation.config import GenerationConfig, LLMConfig
from pipeline.generation.loop import build_tasks, run_generation


def config_for(
    server, fmt="text", *, concurrency=8, wave_size=4, k=1, max_retries=2
) -> GenerationConfig:
    def llm(model: str) -> LLMConfig:
        return LLMConfig(
            model=model,
            base_url=server.base_url,
            output_format=fmt,
            max_retries=max_retries,
            timeout=1,
            concurrency=concurrency,
            generation_kwargs={"max_new_tokens": 300, "temperature": 1.0},
        )

    return GenerationConfig(
        generator=llm("gen-model"),
        discriminator=llm("judge-model"),
        wave_size=wave_size,
        examples_per_prompt=k,
    )


def run(config, rows, state_dir, seed=1):
    # Fresh LLMs per run: each run owns its event loop, as each pipeline process does.
    generator_llm, judge_llm = build_llm(config.generator), build_llm(config.discriminator)
    generator_llm.load()
    judge_llm.load()
    generator, judge = build_tasks(config, generator_llm, judge_llm)
    state_dir.mkdir(exist_ok=True)
    return run_generation(
        rows, config, generator=generator, judge=judge, state_dir=state_dir, seed=seed
    )


def outcome(records) -> dict[str, tuple]:
    return {r["id"]: (r["status"], r["stage"], [x["check"] for x in r["reasons"]]) for r in records}


def role(call) -> str:
    return "judge" if call["model"] == "judge-model" else "generator"


def who(call) -> tuple[str, str]:
    request = Request(call["model"], call["messages"], {}, call["attempt"])
    return role(call), snippet_of(request)["id"]
