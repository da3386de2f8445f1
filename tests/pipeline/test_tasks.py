"""The code-task registry: the four tasks, their seed cases, assignment, and adding a fifth."""

from __future__ import annotations

import re
import sys
import textwrap
from collections import Counter

import pytest

from pipeline.generation.postfilter import postfilter
from pipeline.generation.prompts import render, render_case
from pipeline.steps.assign_task import assign_tasks
from pipeline.tasks import all_tasks, default_mix, get_task
from pipeline.tasks.translation import languages_mentioned


def test_registry_holds_the_four_paper_tasks_with_their_shares():
    assert default_mix() == {
        "generation": 57.1,
        "repair": 15.8,
        "summarization": 15.8,
        "translation": 11.2,
    }
    assert [t.information_is_code for t in all_tasks().values()] == [False, True, True, True]


def test_unknown_task_is_a_user_error_naming_the_known_ones():
    from wavecoder.errors import UserError

    with pytest.raises(UserError, match=r"unknown code task 'docs'.*generation"):
        get_task("docs")


@pytest.mark.parametrize("name", ["generation", "summarization", "repair", "translation"])
def test_every_task_has_good_and_bad_seed_cases_in_several_languages(name):
    task = get_task(name)
    good = [c for c in task.seed_cases if c.good]
    bad = [c for c in task.seed_cases if not c.good]
    assert len(good) >= 1 and len(bad) >= 1
    assert len({c.language for c in task.seed_cases}) >= 3
    rule_ids = {r.id for r in task.rules}
    for case in bad:
        # Every analysis blames rules the judge of this task really has.
        blamed = set(re.findall(r"(\w+): no\b", case.analysis))
        assert blamed and blamed <= rule_ids, (case.analysis, rule_ids)


def test_seed_cases_cover_six_languages_overall():
    languages = {c.language for t in all_tasks().values() for c in t.seed_cases}
    assert languages == {"python", "go", "java", "javascript", "php", "ruby"}


@pytest.mark.parametrize("name", ["generation", "summarization", "repair", "translation"])
def test_good_seed_cases_pass_the_post_filter(name):
    task = get_task(name)
    for case in (c for c in task.seed_cases if c.good):
        parsed = postfilter(render_case(case), task, {"language": case.language})
        assert parsed.instruction == case.instruction
        assert parsed.solution == case.solution.strip()


def test_translation_reads_the_target_language_from_the_instruction():
    task = get_task("translation")
    good = [c for c in task.seed_cases if c.good]
    targets = [postfilter(render_case(c), task, {"language": c.language}).extra for c in good]
    assert targets == [{"target_language": "go"}, {"target_language": "javascript"}]
    assert languages_mentioned("Rewrite this Python code so we can go on, in Golang or C++") == [
        "python",
        "go",
        "c++",
    ]
    assert languages_mentioned("Port the Java class to JavaScript") == ["java", "javascript"]


def test_generator_prompt_is_rendered_from_the_template_with_numbered_requirements():
    task = get_task("repair")
    good = [c for c in task.seed_cases if c.good][:1]
    bad = [c for c in task.seed_cases if not c.good][:1]
    prompt = render(
        "generator.jinja2",
        task=task,
        good_examples=good,
        bad_examples=bad,
        code="x = 1",
        language="python",
        output_format="text",
    )
    assert prompt.startswith("You write training data for a code assistant. " + task.definition)
    for number, requirement in enumerate(task.requirements, start=1):
        assert f"\n{number}. {requirement}\n" in prompt
    assert f"Analysis: {bad[0].analysis}" in prompt
    assert good[0].solution in prompt
    assert prompt.endswith("Input (python):\nx = 1\n\nOutput:\n")


def test_assignment_follows_the_mix_at_every_prefix_and_is_seeded():
    mix = default_mix()
    shares = {task: share / sum(mix.values()) for task, share in mix.items()}
    for seed in (7, 8, 9):
        tasks = assign_tasks(2000, mix, seed=seed)
        counts = Counter()
        for i, task in enumerate(tasks, start=1):
            counts[task] += 1
            assert all(abs(counts[t] - i * shares[t]) < 2 for t in mix), (seed, i)
    first = assign_tasks(200, mix, seed=7)
    assert first == assign_tasks(200, mix, seed=7)
    assert sum(a != b for a, b in zip(first, assign_tasks(200, mix, seed=8), strict=True)) > 50
    assert assign_tasks(5, {"repair": 1.0}, seed=1) == ["repair"] * 5


def test_selecting_more_rows_never_changes_the_tasks_of_the_first_ones():
    # A larger k extends KCenterGreedy's selection; the rows already there keep their tasks.
    mix = default_mix()
    for seed in (1, 42):
        assert assign_tasks(120, mix, seed)[:100] == assign_tasks(100, mix, seed)
        assert assign_tasks(1000, mix, seed)[:7] == assign_tasks(7, mix, seed)


def test_adding_a_fifth_task_is_one_new_module(tmp_path, monkeypatch):
    import pipeline.tasks
    from pipeline.tasks import registry

    module = tmp_path / "docstrings.py"
    module.write_text(
        textwrap.dedent(
            """
            from pipeline.tasks import shared
            from pipeline.tasks.registry import CodeTask, SeedCase

            TASK = CodeTask(
                name="docstrings",
                title="docstring writing",
                default_share=5.0,
                definition="Write a docstring for the input function.",
                requirements=(shared.ONE_CASE,),
                rules=(shared.INPUT_IS_CODE,),
                information_is_code=True,
                seed_cases=(
                    SeedCase("python", "def f(): pass", "Doc", "Document this Python function.", "def f(): pass", "Does nothing.", True),
                    SeedCase("go", "func F() {}", "Doc", "Doc it.", "func F() {}", "F.", False, "input_is_code: no, too short."),
                ),
            )
            """
        )
    )
    monkeypatch.setattr(pipeline.tasks, "__path__", [*pipeline.tasks.__path__, str(tmp_path)])
    registry.all_tasks.cache_clear()
    try:
        assert list(all_tasks()) == [
            "generation",
            "repair",
            "summarization",
            "translation",
            "docstrings",
        ]
        assert default_mix()["docstrings"] == 5.0
        prompt = render(
            "generator.jinja2",
            task=get_task("docstrings"),
            good_examples=[],
            bad_examples=[],
            code="c",
            language="go",
            output_format="json",
        )
        assert "Write a docstring for the input function." in prompt
    finally:
        registry.all_tasks.cache_clear()
        sys.modules.pop("pipeline.tasks.docstrings", None)
