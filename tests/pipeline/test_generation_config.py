"""The recipe's generation section, flag overrides, LLM construction and the resume guard."""

from __future__ import annotations

import pytest

from pipeline.commands import recipe_overrides
from pipeline.generation.backends import HF_ROUTER_URL, build_llm
from pipeline.generation.config import (
    CLI_API_KEY_ENV,
    GenerationConfig,
    LLMConfig,
    cost_usd,
    format_usd,
    validate_generation,
)
from pipeline.generation.llm_access import endpoint_configured, require_llm_access
from pipeline.generation.run_state import check_resume_state, settings_fingerprint
from pipeline.recipe import Recipe, SelectionConfig, apply_overrides, load_recipe
from wavecoder.cli import build_parser
from wavecoder.errors import UserError


def test_shipped_recipes_configure_a_cheaper_generator_and_a_stronger_judge():
    paper = load_recipe("paper").generation
    assert (paper.generator.model, paper.discriminator.model) == ("gpt-3.5-turbo", "gpt-4")
    assert paper.generator.generation_kwargs == {"max_new_tokens": 512, "temperature": 1.0}
    assert paper.task_mix == {
        "generation": 57.1,
        "summarization": 15.8,
        "repair": 15.8,
        "translation": 11.2,
    }
    demo = load_recipe("demo").generation
    assert (
        demo.generator.price_per_million_tokens["input"]
        < demo.discriminator.price_per_million_tokens["input"]
    )


def test_partial_llm_sections_extend_the_role_defaults():
    config = GenerationConfig(
        discriminator={"model": "judge", "generation_kwargs": {"temperature": 0.2}}
    )
    assert config.discriminator.generation_kwargs == {"max_new_tokens": 768, "temperature": 0.2}
    assert config.generator == LLMConfig()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"generator": {"modle": "x"}},
            r"unknown key\(s\) \['modle'\] in recipe section `generation.generator`",
        ),
        ({"generator": {"provider": "openia"}}, r"generation.generator.provider must be one of"),
        (
            {"discriminator": {"provider": "transformers", "model": "m", "output_format": "json"}},
            r"json needs an OpenAI-compatible provider",
        ),
        ({"task_mix": {"docs": 1.0}}, r"unknown task\(s\) \['docs'\]"),
        ({"wave_size": 0}, r"wave_size must be >= 1"),
    ],
)
def test_invalid_generation_settings_are_user_errors(section, message):
    with pytest.raises(UserError, match=message):
        validate_generation(GenerationConfig(**section))


def test_flags_override_both_llms_and_keep_the_key_out_of_the_recipe(monkeypatch):
    monkeypatch.delenv(CLI_API_KEY_ENV, raising=False)
    recipe = Recipe(selection=SelectionConfig(k=1))  # its generation section: GenerationConfig()
    argv = ["generate", "--base-url", "http://localhost:8000/v1", "--api-key", "sk-secret",
            "--generator-model", "small", "--discriminator-model", "big", "--concurrency", "3"]  # fmt: skip
    apply_overrides(recipe, recipe_overrides(build_parser().parse_args(argv)))
    config = recipe.generation
    assert [
        (c.base_url, c.model, c.concurrency) for c in (config.generator, config.discriminator)
    ] == [
        ("http://localhost:8000/v1", "small", 3),
        ("http://localhost:8000/v1", "big", 3),
    ]
    assert "sk-secret" not in repr(config)
    # The recipe's prices were for its own models; a model named by a flag has no known price.
    assert config.generator.price_per_million_tokens is None
    llm = build_llm(config.generator)
    assert llm.api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in str(llm.dump())


def test_endpoint_is_required_unless_a_key_url_or_local_model_is_given(monkeypatch):
    for name in ("OPENAI_API_KEY", "HF_TOKEN", CLI_API_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    assert not endpoint_configured(LLMConfig())
    with pytest.raises(UserError, match="no LLM endpoint is configured for the generator"):
        require_llm_access(GenerationConfig())
    assert endpoint_configured(LLMConfig(base_url="http://localhost:8000/v1"))
    assert endpoint_configured(LLMConfig(provider="transformers", model="some/folder"))
    assert not endpoint_configured(LLMConfig(provider="hf-inference-providers"))
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    llm = build_llm(
        LLMConfig(provider="hf-inference-providers", model="Qwen/Qwen2.5-Coder-32B-Instruct")
    )
    assert (llm.base_url, llm.api_key.get_secret_value()) == (HF_ROUTER_URL, "hf_x")


def test_local_servers_get_a_placeholder_key_and_unknown_kwargs_are_refused(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = build_llm(LLMConfig(base_url="http://127.0.0.1:9/v1", max_retries=4, timeout=7))
    assert (llm.api_key.get_secret_value(), llm.max_retries, llm.timeout) == ("not-needed", 4, 7)
    with pytest.raises(
        UserError, match=r"generation_kwargs \['top_k'\] are not accepted by OpenAILLM"
    ):
        build_llm(LLMConfig(base_url="http://127.0.0.1:9/v1", generation_kwargs={"top_k": 5}))
    custom = build_llm(
        LLMConfig(
            provider="distilabel.models.llms:OpenAILLM",
            model="m",
            llm_kwargs={"api_key": "k", "base_url": "http://h/v1"},
        )
    )
    assert (type(custom).__name__, custom.model) == ("OpenAILLM", "m")
    with pytest.raises(UserError, match="cannot import LLM class"):
        build_llm(LLMConfig(provider="nowhere:LLM"))


def test_a_folder_made_with_other_settings_is_not_resumed(tmp_path):
    recipe = Recipe(seed=1)
    check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))
    check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))  # same: fine
    recipe.seed = 2
    with pytest.raises(UserError, match=r"holds a run made with other settings \(seed: 1 -> 2\)"):
        check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))


@pytest.mark.parametrize(
    "change",
    [
        lambda r: setattr(r.corpus, "source", "/some/other/tree"),
        lambda r: setattr(r.corpus, "limit", 5000),
        lambda r: setattr(r.filters, "max_chars", 900),
        lambda r: setattr(r.embeddings, "backend", "onnx-int8"),
        lambda r: setattr(r.selection, "first", 3),
        lambda r: setattr(r.generation, "examples_per_prompt", 2),
        lambda r: r.generation.generator.generation_kwargs.update(temperature=0.2),
        lambda r: setattr(r.generation.discriminator, "output_format", "json"),
    ],
    ids=["corpus", "limit", "filters", "embeddings", "first", "examples", "kwargs", "format"],
)
def test_the_resume_guard_covers_what_decides_rows_and_prompts(tmp_path, change):
    recipe = Recipe(seed=1)
    check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))
    change(recipe)
    with pytest.raises(UserError, match="holds a run made with other settings"):
        check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))


def test_the_number_of_snippets_and_the_endpoint_may_change_on_resume(tmp_path):
    recipe = Recipe(seed=1)
    recipe.selection.k = 100
    check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))
    recipe.selection.k = 120
    recipe.generation.generator.base_url = "http://other-host:8000/v1"
    recipe.generation.discriminator.concurrency = 64
    check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))


def test_cost_is_unknown_without_a_price():
    assert cost_usd({"input": 2.0, "output": 8.0}, 1_000_000, 500_000) == 6.0
    assert cost_usd(None, 10, 10) is None
    assert (format_usd(6.0), format_usd(None)) == ("$6.0000", "price unknown")


def test_prices_default_to_unknown_and_show_so():
    from pipeline.generation.summary import format_summary, summarize

    config = GenerationConfig(generator={"model": "g"}, discriminator={"model": "d"})
    assert config.generator.price_per_million_tokens is None
    assert config.discriminator.price_per_million_tokens is None
    summary = summarize([], config)
    assert summary["cost_usd"] == {"generator": None, "discriminator": None, "total": None}
    assert "0 prompt, 0 completion, price unknown" in format_summary(summary)
    with pytest.raises(UserError, match="takes both input and output prices"):
        validate_generation(GenerationConfig(generator={"price_per_million_tokens": {"input": 1}}))


def test_a_local_model_that_is_not_there_stops_before_anything_runs(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-model"
    config = GenerationConfig(
        generator={"provider": "transformers", "model": str(missing)},
        discriminator={"provider": "transformers", "model": str(tmp_path)},
    )
    with pytest.raises(
        UserError, match=rf"generation.generator.model: the model folder {missing} does not exist"
    ):
        require_llm_access(config)
    config.generator.model = "some-org/not-downloaded-model"
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(
        UserError, match="is not in the local Hugging Face cache and HF_HUB_OFFLINE"
    ):
        require_llm_access(config)
    config.generator.model = str(tmp_path)  # an existing folder: fine
    require_llm_access(config)
