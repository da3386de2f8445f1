"""Replies in the layouts real models write, parsed exactly; malformed ones stay rejected.

The corpus is data: `fixtures/reply_layouts/generator.yaml` (generator replies through the
post-filter) and `fixtures/reply_layouts/judge.yaml` (discriminator replies through
`parse_judgement`). Each entry holds the reply and its exact parse or its exact rejection.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipeline.generation.generate_instruction import parse_generation
from pipeline.generation.judge_instruction import parse_judgement
from pipeline.generation.postfilter import PostFilterRejected, postfilter
from pipeline.tasks import get_task

CORPUS = Path(__file__).parent / "fixtures" / "reply_layouts"
GENERATOR = yaml.safe_load((CORPUS / "generator.yaml").read_text(encoding="utf-8"))
JUDGE = yaml.safe_load((CORPUS / "judge.yaml").read_text(encoding="utf-8"))
ACCEPTED = [entry for entry in GENERATOR if "expected" in entry]
REJECTED = [entry for entry in GENERATOR if "rejected" in entry]

# Layouts the corpus must hold (issue 8, section 3); each is a tag of at least one entry.
REQUIRED_TAGS = {
    "fence_on_key_line", "fence_with_language", "fence_without_language", "fence_on_next_line",
    "bold_colon_inside", "bold_colon_outside", "heading_no_colon", "heading_colon", "numbered",
    "crlf", "preamble", "trailing_commentary", "json", "json_preamble", "json_fenced_preamble",
    "keys_upper", "keys_title", "task_name_space", "task_name_underscore", "key_inside_fence",
    "reject_missing_key", "reject_multiple_cases", "reject_out_of_order", "reject_refusal",
    "reject_empty", "reject_truncated_json", "reject_extra_json_keys", "reject_key_inside_fence",
    "reject_prose_mention",
}  # fmt: skip


def reply_text(entry: dict, line_end: str | None = None) -> str:
    line_end = line_end or ("\r\n" if entry.get("line_ends") == "crlf" else "\n")
    return entry["reply"].replace("\n", line_end)


def outcome(entry: dict, text: str) -> tuple:
    """("accepted", four keys, extra) or ("rejected", check, message) of one reply."""
    task = get_task(entry.get("task", "generation"))
    try:
        case = postfilter(text, task, {"language": entry.get("language", "python")})
    except PostFilterRejected as exc:
        return ("rejected", exc.check, exc.message)
    return ("accepted", case.as_dict(), case.extra)


def test_the_corpus_covers_every_required_layout_and_is_well_formed():
    ids = [entry["id"] for entry in GENERATOR]
    assert len(ids) == len(set(ids))
    assert all(("expected" in entry) != ("rejected" in entry) for entry in GENERATOR)
    covered = {tag for entry in GENERATOR for tag in entry["tags"]}
    assert sorted(REQUIRED_TAGS - covered) == []
    assert (len(ACCEPTED), len(REJECTED)) == (38, 21)


@pytest.mark.parametrize("entry", ACCEPTED, ids=[entry["id"] for entry in ACCEPTED])
def test_a_layout_models_write_gives_its_exact_case(entry):
    expected = dict(entry["expected"])
    extra = expected.pop("extra", {})
    assert outcome(entry, reply_text(entry)) == ("accepted", expected, extra)


@pytest.mark.parametrize("entry", REJECTED, ids=[entry["id"] for entry in REJECTED])
def test_a_malformed_reply_is_rejected_with_its_exact_check(entry):
    rejected = entry["rejected"]
    assert outcome(entry, reply_text(entry)) == (
        "rejected",
        rejected["check"],
        rejected["message"],
    )


@pytest.mark.parametrize("entry", GENERATOR, ids=[entry["id"] for entry in GENERATOR])
def test_line_ends_do_not_change_the_outcome(entry):
    lf, crlf, cr = (outcome(entry, reply_text(entry, end)) for end in ("\n", "\r\n", "\r"))
    assert lf == crlf == cr


# A key line that ends where a fence opens on a line below, and the reverse.
_FENCE_BELOW_KEY = re.compile(
    r"^([^\n]*\b(?:task[ _]?name|instruction|information|solution)\b[^\n]*)\n(?:[ \t]*\n)*"
    r"(```[\w+#.-]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_FENCE_ON_KEY = re.compile(
    r"^([^\n]*\b(?:task[ _]?name|instruction|information|solution)\b[^\n`]*?)[ \t]*"
    r"(```[\w+#.-]*)$",
    re.IGNORECASE | re.MULTILINE,
)


# An indented fence (in a list item) strips its indentation off the code; moved up, it would not.
MOVES = [
    *((e, "up") for e in ACCEPTED
      if "fence_on_next_line" in e["tags"] and "fence_in_list_item" not in e["tags"]),
    *((e, "down") for e in GENERATOR if "fence_on_key_line" in e["tags"]),
]  # fmt: skip


@pytest.mark.parametrize(("entry", "move"), MOVES, ids=[f"{e['id']}-{m}" for e, m in MOVES])
def test_a_fence_on_the_key_line_or_the_next_parses_the_same(entry, move):
    if move == "up":
        moved, count = _FENCE_BELOW_KEY.subn(r"\1 \2", entry["reply"])
    else:
        moved, count = _FENCE_ON_KEY.subn(r"\1\n\2", entry["reply"])
    assert count >= 1
    assert outcome(entry, moved) == outcome(entry, entry["reply"])


def test_the_issue_reply_passes_through_parse_generation():
    entry = next(e for e in ACCEPTED if e["id"] == "issue-8-fence-on-the-information-key-line")
    out = parse_generation(entry["reply"], {"task": "repair", "language": "python"})
    assert out["postfilter"] == {"passed": True, "check": None, "message": None}
    assert out["information"] == "def f(x):\n    return x-1"
    assert out["solution"] == "def f(x):\n    return x+1"


@pytest.mark.parametrize("entry", JUDGE, ids=[entry["id"] for entry in JUDGE])
def test_a_judgement_layout_gives_its_exact_reading(entry):
    task = get_task(entry.get("task", "generation"))
    text = None if entry["reply"] is None else reply_text(entry)
    expected = entry["expected"]
    out = parse_judgement(text, task)
    assert out == {
        "judgement": {
            "rules": [
                {"rule": rule, "passed": passed, "reason": reason}
                for rule, passed, reason in expected["rules"]
            ],
            "overall": expected["overall"],
        },
        "accepted": expected["accepted"],
        "judgement_problem": expected["problem"],
    }


def test_the_judge_corpus_covers_bold_headings_crlf_fences_and_preambles():
    covered = {tag for entry in JUDGE for tag in entry["tags"]}
    required = {"bold", "heading", "crlf", "fenced", "preamble", "json", "numbered", "unreadable"}
    assert sorted(required - covered) == []
