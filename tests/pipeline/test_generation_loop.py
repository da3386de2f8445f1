"""The Generator-Discriminator loop over HTTP: the real OpenAI client against a scripted server.

Exact outcomes per row, the requests the server received, retries of transient errors, failed
rows recorded and retried next run, and a dataset that does not depend on concurrency.
"""

from __future__ import annotations

import hashlib

import pytest
from generation_fixtures import SNIPPETS, rows_with_tasks, teacher
from loop_harness import config_for, outcome, role, run, who
from scripted_server import Reply, Request, ScriptedServer

TASKS = {
    "py_slugify": "summarization",
    "go_contains": "repair",
    "java_isblank": "translation",
    "py_retry": "translation",
}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_row_gets_an_exact_outcome_and_reason(tmp_path, fmt):
    generator = {
        "py_flatten": "three_sentences",
        "js_unique": "refusal",
        "rb_even": "empty",
        "php_clamp": "invented_analysis",
        "java_factorial": "two_cases",
        "go_max": "truncated",
        "rb_titleize": "noinput_twice",
        "php_initials": "malformed_json",
    }
    judge = {"go_sum": "reject_rule2", "py_merge": "unreadable", "js_capitalize": "overall_no", "java_repeat": "truncated"}  # fmt: skip
    with ScriptedServer(teacher(generator, judge)) as server:
        config = config_for(server, fmt)
        records, stats = run(config, rows_with_tasks(TASKS), tmp_path / "state")
        calls = server.calls()

    assert outcome(records) == {
        "py_slugify": ("accepted", "judgement", []),
        "py_flatten": ("rejected", "postfilter", ["instruction_sentences"]),
        "py_retry": ("accepted", "judgement", []),
        "py_merge": ("rejected", "judgement", ["judgement_unreadable"]),
        "go_sum": ("rejected", "judgement", ["names_language"]),
        "go_contains": ("accepted", "judgement", []),
        "go_max": ("rejected", "postfilter", ["truncated"]),
        "java_repeat": ("rejected", "judgement", ["judgement_unreadable"]),
        "java_isblank": ("accepted", "judgement", []),
        "java_factorial": ("rejected", "postfilter", ["multiple_cases"]),
        "js_capitalize": ("rejected", "judgement", ["overall"]),
        "js_unique": ("rejected", "postfilter", ["refusal"]),
        "php_initials": ("rejected", "postfilter", ["malformed_json"]),
        "php_clamp": ("accepted", "judgement", []),
        "rb_even": ("rejected", "postfilter", ["empty_output"]),
        "rb_titleize": ("rejected", "postfilter", ["noinput_keys"]),
    }
    by_id = {r["id"]: r for r in records}
    assert by_id["go_sum"]["reasons"] == [
        {"check": "names_language", "message": "The instruction does not name the language."}
    ]
    assert by_id["go_sum"]["judgement"]["rules"][1] == {
        "rule": "names_language",
        "passed": False,
        "reason": "The instruction does not name the language.",
    }
    assert by_id["py_merge"]["raw_judgement"] == "Looks fine to me overall."

    # Accepted rows carry the Alpaca mapping and chat messages.
    slug = by_id["py_slugify"]
    code = SNIPPETS[0]["code"]
    assert (slug["instruction"], slug["input"], slug["output"]) == (
        "Summarize what the Python function slugify does.",
        code,
        "slugify does what its comment says. It returns the result.",
    )
    assert slug["messages"] == [
        {"role": "user", "content": f"Summarize what the Python function slugify does.\n\n{code}"},
        {"role": "assistant", "content": slug["output"]},
    ]
    assert by_id["php_clamp"]["input"] == ""  # <noinput> -> ""
    assert by_id["java_repeat"]["reasons"][0]["message"].endswith(
        "(the reply stopped at the max_new_tokens limit)"
    )
    assert by_id["php_clamp"]["output"] == next(
        s["code"] for s in SNIPPETS if s["id"] == "php_clamp"
    )
    assert (by_id["java_isblank"]["target_language"], by_id["py_retry"]["target_language"]) == (
        "python",
        "go",
    )
    assert {r["generator_model"] for r in records} == {"gen-model"}

    # The server got one generator call per row and one judge call per case past the post-filter.
    assert sorted(who(c) for c in calls if role(c) == "generator") == sorted(
        ("generator", s["id"]) for s in SNIPPETS
    )
    judged = sorted(i for i, (_, stage, _) in outcome(records).items() if stage == "judgement")
    assert sorted(i for r, i in map(who, calls) if r == "judge") == judged
    assert {c["max_tokens"] for c in calls} == {300}
    formats = {
        (
            role(c),
            (c["response_format"] or {}).get("type"),
            (c["response_format"] or {}).get("json_schema", {}).get("name"),
        )
        for c in calls
    }
    assert formats == (
        {("generator", "json_schema", "instruction_case"), ("judge", "json_schema", "judgement")}
        if fmt == "json"
        else {("generator", None, None), ("judge", None, None)}
    )
    judge_prompt = next(
        c["messages"][0]["content"] for c in calls if who(c) == ("judge", "php_clamp")
    )
    assert "Analysis" not in judge_prompt

    # Token usage of both calls is recorded per row, as the server reported it.
    reported = {
        (c["model"], c["messages"][0]["content"]): len(c["messages"][0]["content"]) // 4
        for c in calls
    }
    generator_prompt = next(
        c["messages"][0]["content"] for c in calls if who(c) == ("generator", "py_slugify")
    )
    assert (
        slug["usage"]["generator"]["prompt_tokens"] == reported[("gen-model", generator_prompt)] > 0
    )
    assert slug["usage"]["discriminator"]["prompt_tokens"] > 0
    assert by_id["py_flatten"]["usage"]["discriminator"] == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    assert stats["generator"]["sent"] == 16 and stats["discriminator"]["sent"] == len(judged)


def test_transient_errors_are_retried_and_failures_recorded_then_retried_next_run(tmp_path):
    generator = {
        "go_sum": "http429_once",
        "js_unique": "timeout_once",
        "rb_even": "drop_once",
        "py_slugify": "http500_once",
        "java_repeat": "http500_always",
    }
    judge = {"go_max": "http500_always"}  # fmt: skip
    with ScriptedServer(teacher(generator, judge)) as server:
        config = config_for(server)
        records, stats = run(config, rows_with_tasks(TASKS), tmp_path / "state")
        calls = server.calls()

    failed = {r["id"]: (r["stage"], r["reasons"]) for r in records if r["status"] == "failed"}
    assert failed == {
        "java_repeat": (
            "generation",
            [{"check": "llm_error", "message": "HTTP 500: scripted status 500, after 2 retries"}],
        ),
        "go_max": (
            "judgement",
            [{"check": "llm_error", "message": "HTTP 500: scripted status 500, after 2 retries"}],
        ),
    }
    assert all(r["status"] == "accepted" for r in records if r["id"] not in failed)
    attempts = {}
    for call in calls:
        attempts.setdefault(who(call), []).append(call)
    statuses = {
        key: [c["status"] for c in value] for key, value in attempts.items() if len(value) > 1
    }
    assert statuses == {
        ("generator", "go_sum"): [429, 200],
        ("generator", "js_unique"): [200, 200],  # the first answer came after the 1 s timeout
        ("generator", "rb_even"): ["dropped", 200],
        ("generator", "py_slugify"): [500, 200],
        ("generator", "java_repeat"): [500, 500, 500],
        ("judge", "go_max"): [500, 500, 500],
    }
    waited = (
        attempts[("generator", "go_sum")][1]["time"] - attempts[("generator", "go_sum")][0]["time"]
    )
    assert waited >= 0.95  # Retry-After: 1 was honoured
    assert (stats["generator"]["failed"], stats["discriminator"]["failed"]) == (1, 1)

    # Next run, a healthy endpoint: only the failed rows' requests are sent, everything else is cached.
    with ScriptedServer(teacher()) as healthy:
        config = config_for(healthy)
        again, stats = run(config, rows_with_tasks(TASKS), tmp_path / "state")
        calls = healthy.calls()
    assert sorted(map(who, calls)) == [
        ("generator", "java_repeat"),
        ("judge", "go_max"),
        ("judge", "java_repeat"),
    ]
    assert all(r["status"] == "accepted" for r in again)
    assert stats["generator"] == {"sent": 1, "cached": 15, "failed": 0, "errors": {}}
    assert stats["discriminator"] == {"sent": 2, "cached": 14, "failed": 0, "errors": {}}
    assert [r for r in again if r["id"] not in failed] == [
        r for r in records if r["id"] not in failed
    ]


def jittered(script):
    """The same answers, finishing in a scrambled order (0-40 ms, fixed per request)."""

    def wrapped(request: Request) -> Reply:
        reply = script(request)
        digest = hashlib.sha256(request.prompt.encode()).digest()
        reply.delay += digest[0] / 255 * 0.04
        return reply

    return wrapped


def test_dataset_does_not_depend_on_concurrency(tmp_path):
    judge = {
        "go_sum": "reject_rule2",
        "py_flatten": "reject_rule2",
        "java_isblank": "reject_rule2",
        "rb_even": "reject_rule2",
    }
    script = jittered(teacher({"js_unique": "three_sentences"}, judge))
    results = {}
    for concurrency in (1, 12):
        with ScriptedServer(script) as server:
            config = config_for(server, concurrency=concurrency, wave_size=3, k=2)
            records, _ = run(
                config, rows_with_tasks(TASKS), tmp_path / f"state{concurrency}", seed=5
            )
            requests = sorted((c["model"], c["messages"][0]["content"]) for c in server.calls())
        results[concurrency] = (records, requests)
    assert results[1][0] == results[12][0]
    assert results[1][1] == results[12][1]
    assert len(results[1][1]) == 16 + 15


def test_judged_cases_feed_later_prompts_two_waves_on(tmp_path):
    script = teacher(judge={"go_sum": "reject_rule2"})
    with ScriptedServer(script) as server:
        config = config_for(server, wave_size=4, k=10)
        records, _ = run(config, rows_with_tasks("generation"), tmp_path / "state")
        prompts = {
            who(c)[1]: c["messages"][0]["content"] for c in server.calls() if role(c) == "generator"
        }
    codes = {s["id"]: s["code"] for s in SNIPPETS}
    order = [s["id"] for s in SNIPPETS]  # selection order; waves of 4

    def examples_in(row_id):
        head = prompts[row_id].rsplit("\nInput (", 1)[0]
        return {other for other in order if other != row_id and codes[other] in head}

    wave0, wave1 = set(order[:4]), set(order[4:8])
    for row_id in order[:8]:
        assert examples_in(row_id) == set()  # only seed cases before wave 2
    for row_id in order[8:12]:
        assert examples_in(row_id) == wave0
    for row_id in order[12:]:
        assert examples_in(row_id) == wave0 | wave1
    assert (
        "Analysis: names_language: no, The instruction does not name the language."
        in prompts[order[12]]
    )
    assert sum(r["status"] == "accepted" for r in records) == 15
