"""The recipe's `execution` section, the `generation.tester` role and the flags that set them; the
resume guard over them; the bubblewrap check before a run."""

from __future__ import annotations

import pytest

from pipeline.commands import recipe_overrides
from pipeline.execution.config import ExecutionConfig
from pipeline.generation.config import (
    GenerationConfig,
    LLMConfig,
    validate_generation,
)
from pipeline.generation.config import tester_config as resolved_tester  # not a test: no test_
from pipeline.generation.config import tester_needs_own_llm as own_llm
from pipeline.generation.llm_access import require_llm_access
from pipeline.generation.main_process import require_sandbox
from pipeline.generation.run_state import check_resume_state, settings_fingerprint
from pipeline.recipe import Recipe, apply_overrides, load_recipe
from wavecoder.cli import build_parser
from wavecoder.errors import UserError


def test_the_tester_is_the_generator_unless_its_keys_say_otherwise():
    config = GenerationConfig(
        generator=LLMConfig(
            model="gen",
            base_url="http://h/v1",
            generation_kwargs={"max_new_tokens": 512, "temperature": 1.0},
            price_per_million_tokens={"input": 1.0, "output": 2.0},
        )
    )
    assert resolved_tester(config) == config.generator
    assert not own_llm(config)
    # Per-request settings only: the generator's LLM object serves it.
    config.tester = {"generation_kwargs": {"temperature": 0.0}}
    tester = resolved_tester(config)
    assert tester.generation_kwargs == {"max_new_tokens": 512, "temperature": 0.0}
    assert (tester.model, tester.base_url, tester.price_per_million_tokens["input"]) == (
        "gen",
        "http://h/v1",
        1.0,
    )
    assert not own_llm(config)
    # Another model: its own LLM, and the generator's prices (for another model) are dropped.
    config.tester = {"model": "small-tester"}
    assert resolved_tester(config).model == "small-tester"
    assert resolved_tester(config).price_per_million_tokens is None
    assert own_llm(config)


@pytest.mark.parametrize(
    ("tester", "message"),
    [
        ("gpt-4o", r"generation.tester must be a mapping of LLM keys"),
        ({"modle": "x"}, r"unknown key\(s\) \['modle'\] in recipe section `generation.tester`"),
        ({"output_format": "xml"}, r"generation.tester.output_format must be text or json"),
        ({"concurrency": 0}, r"generation.tester: concurrency >= 1"),
        ({"generation_kwargs": None}, r"generation.tester.generation_kwargs must be a mapping"),
    ],
)
def test_a_bad_tester_section_names_the_key(tester, message):
    with pytest.raises(UserError, match=message):
        validate_generation(GenerationConfig(tester=tester))


def test_the_recipe_section_and_the_flags(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "execution: {enabled: true, mode: annotate, timeout_s: 4, workers: 2, max_tests: 3}\n"
        "generation: {tester: {model: t1}}\nselection: {k: 5}\n"
    )
    recipe = load_recipe(str(path))
    assert recipe.execution == ExecutionConfig(
        enabled=True, mode="annotate", timeout_s=4, workers=2, max_tests=3
    )
    assert resolved_tester(recipe.generation).model == "t1"
    args = build_parser().parse_args(["generate", "--execution", "filter", "--tester-model", "t2"])
    apply_overrides(recipe, recipe_overrides(args))
    assert (recipe.execution.enabled, recipe.execution.mode) == (True, "filter")
    assert recipe.generation.tester == {"model": "t2"}
    recipe.generation.tester = "gpt-4o"  # not a mapping: the flag's model replaces it
    apply_overrides(recipe, recipe_overrides(args))
    assert recipe.generation.tester == {"model": "t2"}
    apply_overrides(recipe, recipe_overrides(build_parser().parse_args(["generate", "--execution", "off"])))  # fmt: skip
    assert recipe.execution.enabled is False
    path.write_text("execution: {mode: check}\nselection: {k: 5}\n")
    with pytest.raises(UserError, match=r"execution.mode must be one of \['filter', 'annotate'\]"):
        load_recipe(str(path))
    path.write_text("execution: {timeout: 3}\nselection: {k: 5}\n")
    with pytest.raises(UserError, match=r"unknown key\(s\) \['timeout'\] in recipe section `execution`"):  # fmt: skip
        load_recipe(str(path))


def test_the_resume_guard_covers_execution_only_when_it_is_on(tmp_path):
    recipe = Recipe(seed=1)
    before = settings_fingerprint(recipe, recipe.generation)
    assert "execution" not in before and "tester" not in before  # folders made before it resume
    recipe.generation.tester = {"model": "other"}  # unused while execution is off
    assert settings_fingerprint(recipe, recipe.generation) == before
    recipe.execution.enabled = True
    check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))
    recipe.execution.workers = 7  # how many run at once decides nothing
    check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))
    for change in (
        lambda: setattr(recipe.execution, "mode", "annotate"),
        lambda: setattr(recipe.execution, "timeout_s", 3.0),
        lambda: setattr(recipe.execution, "max_tests", 2),
        lambda: setattr(recipe.generation, "tester", {"model": "another"}),
    ):
        saved = (recipe.execution.mode, recipe.execution.timeout_s, recipe.execution.max_tests,
                 recipe.generation.tester)  # fmt: skip
        change()
        with pytest.raises(UserError, match="holds a run made with other settings"):
            check_resume_state(tmp_path, settings_fingerprint(recipe, recipe.generation))
        (recipe.execution.mode, recipe.execution.timeout_s, recipe.execution.max_tests,
         recipe.generation.tester) = saved  # fmt: skip


def test_a_tester_without_an_endpoint_stops_the_run(monkeypatch):
    for name in ("OPENAI_API_KEY", "HF_TOKEN", "WAVECODER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    config = GenerationConfig(
        generator=LLMConfig(base_url="http://127.0.0.1:9/v1"),
        discriminator=LLMConfig(base_url="http://127.0.0.1:9/v1"),
        tester={"provider": "hf-inference-providers", "base_url": None, "model": "m"},
    )
    require_llm_access(config)  # the tester is not called without execution
    with pytest.raises(UserError, match="no LLM endpoint is configured for the tester"):
        require_llm_access(config, tester=True)


def test_execution_without_bubblewrap_stops_before_anything_runs(monkeypatch):
    monkeypatch.setattr("evaluation.sandbox.find_bwrap", lambda: None)
    with pytest.raises(UserError, match=r"execution.enabled needs the sandbox: bubblewrap is not"):
        require_sandbox()


def test_a_bubblewrap_that_cannot_run_a_program_stops_before_anything_runs(monkeypatch):
    from evaluation.execution import CheckResult

    monkeypatch.setattr("evaluation.sandbox.find_bwrap", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr("evaluation.sandbox.Sandbox", lambda: object())
    refused = CheckResult(
        False, "failed: sandbox error: bwrap: setting up uid map: Permission denied"
    )
    monkeypatch.setattr("evaluation.execution.run_program", lambda *a, **k: refused)
    with pytest.raises(UserError, match=r"cannot run a known-good Python program here: failed: "
                                        r"sandbox error: bwrap: setting up uid map"):  # fmt: skip
        require_sandbox()
