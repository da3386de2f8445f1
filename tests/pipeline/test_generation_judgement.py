"""Reading the discriminator's rule-by-rule judgement, on text and JSON replies."""

from __future__ import annotations

import json

from pipeline.generation.judge_instruction import parse_judgement, rejection_reasons
from pipeline.generation.prompts import render
from pipeline.tasks import get_task

TASK = get_task("summarization")  # 7 rules
IDS = [rule.id for rule in TASK.rules]


def lines(answers: dict[int, str], overall: str | None = "yes") -> str:
    out = [
        f"Rule {n}: reason {n}. => {answers.get(n, 'yes')}"
        for n in range(1, 8)
        if answers.get(n) != "skip"
    ]
    if overall:
        out.append(f"Overall: {overall}")
    return "\n".join(out)


def test_all_rules_yes_is_accepted_with_every_reason_kept():
    out = parse_judgement(lines({}), TASK)
    assert out["accepted"] is True and out["judgement_problem"] is None
    assert out["judgement"] == {
        "rules": [
            {"rule": rid, "passed": True, "reason": f"reason {n}."} for n, rid in enumerate(IDS, 1)
        ],
        "overall": True,
    }


def test_a_failed_rule_rejects_and_names_the_rule_with_its_reason():
    out = parse_judgement(lines({3: "no"}, overall="no"), TASK)
    assert out["accepted"] is False
    assert rejection_reasons(out["judgement"], out["judgement_problem"]) == [
        {"check": "information_is_input", "message": "reason 3."}
    ]


def test_a_failed_rule_wins_over_an_overall_yes():
    out = parse_judgement(lines({5: "no"}, overall="yes"), TASK)
    assert out["accepted"] is False
    assert [r["check"] for r in rejection_reasons(out["judgement"], None)] == [
        "instruction_fits_input"
    ]


def test_overall_no_without_a_failed_rule_is_a_rejection_of_its_own():
    out = parse_judgement(lines({}, overall="no"), TASK)
    assert out["accepted"] is False
    assert rejection_reasons(out["judgement"], None) == [
        {"check": "overall", "message": "the judge answered no overall without failing a rule"}
    ]


def test_unanswered_rules_or_missing_overall_make_the_judgement_unreadable():
    out = parse_judgement(lines({2: "skip", 6: "skip"}), TASK)
    assert out["accepted"] is False
    assert (
        out["judgement_problem"]
        == "the judgement has no answer for rule 2 (names_language), 6 (summary_faithful)"
    )
    assert rejection_reasons(out["judgement"], out["judgement_problem"]) == [
        {"check": "judgement_unreadable", "message": out["judgement_problem"]}
    ]
    assert (
        parse_judgement(lines({}, overall=None), TASK)["judgement_problem"]
        == "the judgement has no overall answer"
    )
    assert parse_judgement("", TASK)["judgement_problem"] == "the judge returned no text"
    assert parse_judgement(None, TASK)["accepted"] is False


def test_the_papers_answer_first_style_is_read_too():
    text = "\n".join(f"{n}. yes, fine {n}" for n in range(1, 8)) + "\n- Overall answer: yes"
    out = parse_judgement(text, TASK)
    assert out["accepted"] is True
    assert out["judgement"]["rules"][0] == {
        "rule": "input_is_code",
        "passed": True,
        "reason": "fine 1",
    }


def test_json_judgement():
    data = {
        "rules": [
            {"rule": n, "reason": f"r{n}", "answer": "no" if n == 7 else "yes"} for n in range(1, 8)
        ],
        "overall": "no",
    }
    out = parse_judgement("```json\n" + json.dumps(data) + "\n```", TASK)
    assert out["judgement"]["rules"][6] == {
        "rule": "summary_is_prose",
        "passed": False,
        "reason": "r7",
    }
    assert out["accepted"] is False and out["judgement_problem"] is None
    assert parse_judgement('{"rules": [', TASK)["judgement_problem"].startswith(
        "the judgement has no answer for rule 1"
    )


def test_judge_prompt_numbers_every_rule_and_shows_the_case():
    case = {
        "task_name": "t",
        "instruction": "Summarize this Go code.",
        "information": "func F() {}",
        "solution": "F does nothing.",
    }
    prompt = render(
        "judge.jinja2",
        task=TASK,
        language="go",
        code="func F() {}",
        case=case,
        output_format="text",
    )
    for number, rule in enumerate(TASK.rules, start=1):
        assert f"\n{number}. {rule.text}\n" in prompt
    assert (
        "Input (go):\nfunc F() {}\n\nCase:\ntask_name: t\ninstruction: Summarize this Go code.\n"
        in prompt
    )
    assert prompt.rstrip().endswith("Overall: yes or no (yes only if every rule is answered yes)")


def test_malformed_json_judgements_are_unreadable_not_a_crash():
    no_numbers = {"rules": [{"reason": "r", "answer": "yes"}] * 7, "overall": "yes"}
    for reply in (
        json.dumps(no_numbers),
        json.dumps({"rules": ["yes"] * 7, "overall": "yes"}),
        json.dumps({"rules": {"1": "yes"}, "overall": "yes"}),
        json.dumps([{"rule": 1, "answer": "yes"}]),
    ):
        out = parse_judgement(reply, TASK)
        assert out["accepted"] is False
        assert out["judgement_problem"].startswith("the judgement has no answer for rule 1")
        reasons = rejection_reasons(out["judgement"], out["judgement_problem"])
        assert [r["check"] for r in reasons] == ["judgement_unreadable"]


def test_a_json_judgement_after_a_preamble_is_read():
    data = {
        "rules": [{"rule": f"Rule {n}", "reason": f"r{n}", "answer": "yes"} for n in range(1, 8)],
        "overall": "yes",
    }
    out = parse_judgement("Here is my judgement:\n```json\n" + json.dumps(data) + "\n```", TASK)
    assert out["accepted"] is True and out["judgement"]["rules"][0]["reason"] == "r1"


def test_bold_markup_is_unwrapped_but_code_in_reasons_is_kept():
    text = "\r\n".join(
        f"**Rule {n}**: It forwards `**kwargs` to `__init__`. => **yes**" for n in range(1, 8)
    )
    out = parse_judgement(text + "\r\n**Overall verdict:** yes", TASK)
    assert out["accepted"] is True and out["judgement_problem"] is None
    assert {r["reason"] for r in out["judgement"]["rules"]} == {
        "It forwards `**kwargs` to `__init__`."
    }


def test_a_numbered_line_without_an_answer_is_no_answer():
    # The judge restating the rules is not answering them.
    text = "\n".join(f"{n}. {rule.text}" for n, rule in enumerate(TASK.rules, 1))
    out = parse_judgement(text + "\nOverall: yes", TASK)
    assert out["judgement"]["rules"] == []
    assert out["judgement_problem"].startswith("the judgement has no answer for rule 1 ")
