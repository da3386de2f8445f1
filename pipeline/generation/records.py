"""The dataset row of one selected snippet, whatever became of it.

Accepted rows carry the Alpaca mapping (instruction, input = information with `<noinput>` as "",
output = solution), the same case as a chat (`messages`), and that chat split into the
conversational `prompt` (the user turn) and `completion` (the assistant turn), so that
`SFTTrainer(train_dataset=load_dataset(DIR, split="train"))` puts the loss on the response only.
Rejected and failed rows keep what was generated, the stage that stopped them and the reasons, so
nothing is silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.generation.postfilter import NOINPUT

ACCEPTED, REJECTED, FAILED = "accepted", "rejected", "failed"
# A snippet or a generated row that copies a benchmark item (pipeline/decontamination): kept in
# the `contaminated` config with its flags, never in the training configs.
CONTAMINATED = "contaminated"
# The accepted rows whose case passed its sandbox checks (pipeline/execution): a config of its own.
VERIFIED = "verified"
# TRL's SFTTrainer tokenizes a row that has a `prompt` as prompt + completion and masks the prompt
# (`completion_only_loss` defaults to on when both columns exist); `messages` is then not read. A
# row with `messages` alone is trained on every token, the instruction included. Only the accepted
# configs are training data, so only they carry these two columns.
TRAINING_COLUMNS = ("prompt", "completion")
# The columns of the accepted configs (pipeline/README.md, "The dataset folder").
DATASET_COLUMNS = (
    "id",
    "task",
    "language",
    "target_language",
    "instruction",
    "input",
    "output",
    "messages",
    *TRAINING_COLUMNS,
    "source_code",
    "source",
    "generator_model",
    "discriminator_model",
    "judgement",
    # What running the case in the sandbox gave (pipeline/execution/run.py documents the record);
    # null when it did not run (execution off, or the row stopped before it).
    "execution",
    "usage",
)
# The columns the `rejected` and `failed` configs share with the accepted ones.
COMMON_COLUMNS = tuple(c for c in DATASET_COLUMNS if c not in TRAINING_COLUMNS)
# Added in the `rejected`, `failed` and `contaminated` configs. `duplicate_of`: the id of the row a
# near-duplicate (stage `dedup`) repeats; `contamination`: the benchmark items a row matched
# (benchmark, item, method, score, field), for stage `decontamination` or `corpus-decontamination`.
OUTCOME_COLUMNS = (
    "status",
    "stage",
    "reasons",
    "selection_rank",
    "raw_generation",
    "raw_judgement",
    "duplicate_of",
    "contamination",
)


def in_selection_order(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in KCenterGreedy's order (`selection_rank`; a row without one counts as rank 0),
    ties broken by id."""
    return sorted(rows, key=lambda row: (row.get("selection_rank", 0), row["id"]))


# The LLM roles a row's tokens are counted for; the tester writes the tests of pipeline/execution.
USAGE_ROLES = ("generator", "discriminator", "tester")


def empty_usage() -> dict[str, dict[str, int]]:
    return {role: {"prompt_tokens": 0, "completion_tokens": 0} for role in USAGE_ROLES}


def build_record(
    row: dict[str, Any],
    *,
    status: str,
    stage: str,
    case: dict[str, Any] | None = None,
    target_language: str | None = None,
    judgement: dict[str, Any] | None = None,
    reasons: list[dict[str, str]] | None = None,
    usage: dict[str, dict[str, int]] | None = None,
    models: tuple[str, str],
    raw_generation: str | None = None,
    raw_judgement: str | None = None,
    duplicate_of: str | None = None,
    contamination: list[dict[str, Any]] | None = None,
    execution: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One output row; `case` holds the generator's four keys when it was parsed."""
    case = case or {}
    instruction = case.get("instruction") or ""
    information = case.get("information") or ""
    alpaca_input = "" if information == NOINPUT else information
    output = case.get("solution") or ""
    prompt, completion = [], []
    if instruction and output:
        user = f"{instruction}\n\n{alpaca_input}" if alpaca_input else instruction
        prompt = [{"role": "user", "content": user}]
        completion = [{"role": "assistant", "content": output}]
    return {
        "id": row["id"],
        "task": row.get("task"),
        "language": row.get("language"),
        "target_language": target_language,
        "instruction": instruction,
        "input": alpaca_input,
        "output": output,
        "messages": prompt + completion,
        "prompt": prompt,
        "completion": completion,
        "source_code": row["code"],
        "source": row.get("source") or {},
        "generator_model": models[0],
        "discriminator_model": models[1],
        "judgement": judgement or {"rules": [], "overall": None},
        "execution": execution,
        "usage": {**empty_usage(), **(usage or {})},
        "status": status,
        "stage": stage,
        "reasons": reasons or [],
        "selection_rank": int(row.get("selection_rank", -1)),
        "raw_generation": raw_generation,
        "raw_judgement": raw_judgement,
        "duplicate_of": duplicate_of,
        "contamination": contamination or [],
    }
