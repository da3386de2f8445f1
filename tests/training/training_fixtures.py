"""What the training tests train: a CodeOcean folder written by our own writer, a BPE tokenizer
trained here on that folder's text, and a Llama-shaped model of about 0.2M parameters built from
a config (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

# Module import: this module's own `tiny_llama` keeps its (folder, texts) signature.
import tiny_models
from tiny_models import bpe_tokenizer

TASKS = ("generation", "summarization", "repair", "translation")

# (task, language, instruction, input, output, source code): short, distinct, memorisable.
CASES = [
    ("generation", "python", "Write a function that adds two numbers.", "",
     "def add(a, b):\n    return a + b", "def add(a, b):\n    return a + b"),
    ("generation", "python", "Return the largest item of a list.", "",
     "def largest(xs):\n    return max(xs)", "def largest(xs):\n    return max(xs)"),
    ("summarization", "python", "Summarize what this function does.",
     "def square(x):\n    return x * x", "It returns x multiplied by itself.",
     "def square(x):\n    return x * x"),
    ("summarization", "go", "Explain this Go function.",
     "func Neg(x int) int { return -x }", "It returns the negation of x.",
     "func Neg(x int) int { return -x }"),
    ("repair", "python", "Fix the bug in this function.",
     "def is_even(n):\n    return n % 2 == 1", "def is_even(n):\n    return n % 2 == 0",
     "def is_even(n):\n    return n % 2 == 0"),
    ("repair", "javascript", "Fix the off-by-one error.",
     "function last(xs) { return xs[xs.length]; }",
     "function last(xs) { return xs[xs.length - 1]; }",
     "function last(xs) { return xs[xs.length - 1]; }"),
    ("translation", "python", "Translate this Python function to Go.",
     "def double(x):\n    return 2 * x", "func Double(x int) int { return 2 * x }",
     "def double(x):\n    return 2 * x"),
    ("translation", "go", "Translate this Go function to Python.",
     "func Half(x int) int { return x / 2 }", "def half(x):\n    return x // 2",
     "func Half(x int) int { return x / 2 }"),
]  # fmt: skip


def codeocean_records() -> list[dict]:
    """The accepted records of `CASES`, built as the pipeline builds them."""
    from pipeline.generation.records import ACCEPTED, build_record

    records = []
    for rank, (task, language, instruction, input, output, code) in enumerate(CASES):
        row = {"id": f"row{rank}", "task": task, "language": language, "code": code,
               "selection_rank": rank,
               "source": {"dataset": "fixture", "repo": "wavecoder/tests", "path": f"{rank}.src",
                          "license": "apache-2.0"}}  # fmt: skip
        case = {"instruction": instruction, "information": input or "<noinput>", "solution": output}
        records.append(
            build_record(
                row,
                status=ACCEPTED,
                stage="judgement",
                case=case,
                target_language="go" if task == "translation" else None,
                models=("gen-model", "judge-model"),
            )
        )
    return records


def write_codeocean(folder: Path) -> Path:
    """A CodeOcean dataset folder (every config) with the records of `CASES`."""
    from pipeline.generation.writer import write_dataset_folder

    summary = {
        "rows": len(CASES), "accepted": len(CASES), "rejected": 0, "failed": 0,
        "models": {"generator": "gen-model", "discriminator": "judge-model"},
        "lineage": {"recipe": "fixture", "corpus": "stdlib", "languages": ["python", "go"],
                    "embedding_model": "offline:all-MiniLM-L6-v2", "k": len(CASES),
                    "generator_model": "gen-model", "discriminator_model": "judge-model"},
    }  # fmt: skip
    write_dataset_folder(codeocean_records(), folder, tasks=list(TASKS), summary=summary)
    return folder


def train_tokenizer(folder: Path, texts: list[str]):
    """A byte-level BPE tokenizer trained on `texts`, saved to `folder` (no chat template, like a
    base model's)."""
    tokenizer = bpe_tokenizer(texts, vocab_size=600, pad_token="<pad>")
    tokenizer.save_pretrained(folder)
    return tokenizer


def tiny_llama(folder: Path, texts: list[str]) -> Path:
    """A randomly initialised Llama-shaped causal LM with its tokenizer, saved to `folder`."""
    return tiny_models.tiny_llama(
        folder,
        train_tokenizer(folder, texts),
        hidden_size=64,
        intermediate_size=128,
        heads=4,
        kv_heads=2,
        max_positions=512,
        tie_word_embeddings=True,
    )


def corpus_texts() -> list[str]:
    """The text the tokenizer learns: every case plus the Alpaca prompts' wording."""
    from training.formatting import ALPACA_NO_INPUT, ALPACA_WITH_INPUT

    texts = [ALPACA_WITH_INPUT, ALPACA_NO_INPUT]
    for case in CASES:
        texts.extend(case[2:])
    return texts * 4
