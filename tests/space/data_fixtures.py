"""The small CodeOcean folder of the data tests (tests/space/test_data*.py): ten rows written by
our own writer, accepted, rejected and failed, in four tasks and three languages, each search word
in one field only."""

from __future__ import annotations

from pathlib import Path

from pipeline.generation.records import ACCEPTED, FAILED, REJECTED, build_record
from pipeline.generation.writer import write_dataset_folder

TASKS = ["generation", "summarization", "repair", "translation"]
MODELS = ("gen-model", "judge-model")

# id, status, stage, task, language, instruction, information, solution, code, failed checks.
# Search words, each in one field only: Zebra (instruction), QUOKKA (input), narwhal (output),
# AxoLotl (source code).
ROWS = [
    ("a-gen-py", ACCEPTED, "judgement", "generation", "python", "Write a Zebra counter.",
     "<noinput>", "def count(): pass", "def count(): pass", []),
    ("a-gen-go", ACCEPTED, "judgement", "generation", "go", "Write a Go adder.",
     "<noinput>", "func Add() {}", "func Add() {}", []),
    ("a-sum-py", ACCEPTED, "judgement", "summarization", "python", "Summarize this function.",
     "def quokka_sq(x): return x * x", "It squares x.", "def quokka_sq(x): return x * x", []),
    ("a-rep-js", ACCEPTED, "judgement", "repair", "javascript", "Fix the off-by-one error.",
     "function last(xs) { return xs[xs.length]; }", "return xs[xs.length - 1]; // Narwhal",
     "function last(xs) { return xs[xs.length - 1]; }", []),
    ("a-tra-go", ACCEPTED, "judgement", "translation", "go", "Translate this Go to Python.",
     "func Half(x int) int { return x / 2 }", "def half(x): return x // 2",
     "// AxoLotl\nfunc Half(x int) int { return x / 2 }", []),
    ("r-gen-py", REJECTED, "judgement", "generation", "python", "Write a zebra fence.",
     "<noinput>", "x = 1", "x = 1", ["names_language"]),
    ("r-rep-js", REJECTED, "judgement", "repair", "javascript", "Fix it.",
     "let a = 1", "let a = 2", "let a = 2", ["names_language", "solution_is_code"]),
    ("r-sum-go", REJECTED, "postfilter", "summarization", "go", "Explain. Now. Please. Go.",
     "func F() {}", "It does F.", "func F() {}", ["one_or_two_sentences"]),
    ("f-tra-py", FAILED, "generation", "translation", "python", None, None, None,
     "def f(): return 1", ["llm_error"]),
    ("f-gen-go", FAILED, "judgement", "generation", "go", "Write a Go server.", "<noinput>",
     "package main", "package main", ["internal_error"]),
]  # fmt: skip
ACCEPTED_IDS = [r[0] for r in ROWS if r[1] == ACCEPTED]
SUMMARY = {"rows": len(ROWS), "accepted": 5, "rejected": 3, "failed": 2}


def records() -> list[dict]:
    """The records of `ROWS`, built as the pipeline builds them (selection order = ROWS order)."""
    out = []
    for rank, fields in enumerate(ROWS):
        id_, status, stage, task, language, instr, info, solution, code, checks = fields
        row = {"id": id_, "task": task, "language": language, "code": code, "selection_rank": rank,
               "source": {"dataset": "fixture", "repo": "wavecoder/tests", "path": f"{rank}.src"}}  # fmt: skip
        case = None if instr is None else {"instruction": instr, "information": info,
                                           "solution": solution}  # fmt: skip
        reasons = [{"check": check, "message": f"{check} failed"} for check in checks]
        out.append(build_record(row, status=status, stage=stage, case=case, reasons=reasons,
                                target_language="python" if task == "translation" else None,
                                models=MODELS))  # fmt: skip
    return out


def write_folder(folder: Path) -> Path:
    write_dataset_folder(records(), folder, tasks=TASKS, summary=SUMMARY)
    return folder
