"""Failure handling of the Generator-Discriminator loop over HTTP (real OpenAI client, scripted
server): truncation, unreadable judgements, crashes while reading a reply, refusing endpoints."""

from __future__ import annotations

import pytest
from generation_fixtures import rows_with_tasks, teacher
from loop_harness import config_for, outcome, run, who
from scripted_server import ScriptedServer


def test_truncation_is_the_backends_finish_reason_when_it_gives_one(tmp_path):
    generator = {"py_slugify": "cut_early", "py_flatten": "ends_at_limit", "go_sum": "truncated"}
    with ScriptedServer(teacher(generator)) as server:
        config = config_for(server)
        rows = [r for r in rows_with_tasks("generation") if r["id"] in generator]
        records, _ = run(config, rows, tmp_path / "state")
        # The finish reason is cached with the answer: a resumed run decides the same way.
        again, stats = run(config, rows, tmp_path / "state")
    assert outcome(records) == {
        "py_slugify": ("rejected", "postfilter", ["truncated"]),
        "py_flatten": ("accepted", "judgement", []),
        "go_sum": ("rejected", "postfilter", ["truncated"]),
    }
    assert outcome(again) == outcome(records)
    assert stats["generator"]["sent"] == 0


def test_a_judgement_json_without_rule_numbers_is_a_rejection_with_its_reason(tmp_path):
    with ScriptedServer(teacher(judge={"go_sum": "json_without_rule_numbers"})) as server:
        config = config_for(server, "json")
        rows = [r for r in rows_with_tasks("repair") if r["id"] in ("go_sum", "go_max")]
        records, _ = run(config, rows, tmp_path / "state")
    by_id = {r["id"]: r for r in records}
    assert outcome(records)["go_sum"] == ("rejected", "judgement", ["judgement_unreadable"])
    assert by_id["go_sum"]["reasons"][0]["message"].startswith(
        "the judgement has no answer for rule 1 (input_is_code)"
    )
    assert outcome(records)["go_max"] == ("accepted", "judgement", [])


def test_a_crash_while_reading_a_reply_fails_that_row_keeps_its_trace_and_asks_again(
    tmp_path, monkeypatch
):
    from pipeline.generation.judge_instruction import JudgeInstruction

    original = JudgeInstruction.format_output

    def crash_on_go_sum(self, output, input=None):
        if input["id"] == "go_sum":
            raise KeyError("rule")
        return original(self, output, input)

    rows = [r for r in rows_with_tasks("repair") if r["id"] in ("go_sum", "go_max")]
    with ScriptedServer(teacher()) as server:
        config = config_for(server)
        monkeypatch.setattr(JudgeInstruction, "format_output", crash_on_go_sum)
        records, _ = run(config, rows, tmp_path / "state")
        monkeypatch.setattr(JudgeInstruction, "format_output", original)
        server.reset()
        again, _ = run(config, rows, tmp_path / "state")
        resent = [who(c) for c in server.calls()]

    crashed = {r["id"]: r for r in records}["go_sum"]
    assert (crashed["status"], crashed["stage"]) == ("failed", "judgement")
    assert crashed["reasons"] == [{"check": "internal_error", "message": "KeyError: 'rule'"}]
    assert crashed["raw_generation"] and crashed["raw_judgement"].startswith("Rule 1:")
    assert crashed["instruction"] and crashed["usage"]["discriminator"]["completion_tokens"] > 0
    # The reply that crashed was dropped from the cache: the next run asks for it again.
    assert resent == [("judge", "go_sum")]
    assert outcome(again) == {
        "go_sum": ("accepted", "judgement", []),
        "go_max": ("accepted", "judgement", []),
    }


@pytest.mark.parametrize(
    ("generator", "judge", "role", "error"),
    [
        (lambda s: "http401_always", {}, "generator", "HTTP 401: scripted status 401"),
        ({}, lambda s: "model_not_found", "discriminator", "HTTP 404: scripted status 404"),
    ],
    ids=["bad-key", "unknown-judge-model"],
)
def test_an_endpoint_that_refuses_every_request_stops_the_run_early(
    tmp_path, generator, judge, role, error
):
    from pipeline.generation.stopping import RunStopped

    with ScriptedServer(teacher(generator, judge)) as server:
        config = config_for(server, concurrency=2, max_retries=3)
        with pytest.raises(RunStopped) as stopped:
            run(config, rows_with_tasks("generation"), tmp_path / "state")
        calls = server.calls()
    assert stopped.value.reason == "endpoint_refused"
    assert stopped.value.message.startswith(f"the {role} endpoint (openai model ")
    assert f"refused 3 requests in a row, so the run stopped: {error} (not retried" in (
        stopped.value.message
    )
    refused = [c for c in calls if c["status"] != 200]
    assert all(c["attempt"] == 1 for c in refused)  # never retried
    assert 3 <= len(refused) <= 4  # the streak, and at most one more already in flight
