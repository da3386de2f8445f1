"""Publish scores: `model-index` entries in a model card, and the raw generations as a Hub dataset.

`eval_results` turns a summary into `huggingface_hub.EvalResult`s (task ``text-generation``;
datasets ``openai_humaneval``, ``mbpp``, ``bigcode/humanevalpack`` with the language as config;
metric ``pass@k`` in percent, as papers and leaderboards print it). `update_model_card` adds them to
a local model card's YAML front matter (the training issue's card), replacing entries for the same
dataset, config and metric, and keeping everything else. `generations_folder` lays out what
`push_generations` uploads: ``<benchmark>/results.jsonl`` (every prompt, raw generation,
completion and verdict) and ``summary.json``, with a dataset card, so anyone can re-score them with
``wavecoder evaluate --samples``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from evaluation.benchmarks import Benchmark
from evaluation.languages import LANGUAGES

TASK_TYPE = "text-generation"
SOURCE_NAME = "wavecoder evaluate (raw generations)"

GENERATIONS_CARD = """---
configs:
{configs}
tags:
- code
- evaluation
---
# Generations of {model} on code benchmarks

Produced by `wavecoder evaluate` (sandboxed execution, pass@k with the unbiased estimator).
Each `<benchmark>/results.jsonl` row holds the `prompt`, the `raw_generation`, the processed
`completion`, `passed` and `result`; `<benchmark>/summary.json` holds the scores.

Re-score any of them:

```bash
huggingface-cli download {repo_id} --repo-type dataset --local-dir generations
wavecoder evaluate --benchmark {benchmark} --samples generations/{benchmark}/results.jsonl{language_flag}
```

| benchmark | metric | value (%) |
|---|---|---|
{table}
"""


def eval_results(benchmark: Benchmark, summary: dict, *, source_url: str | None = None) -> list:
    """EvalResults for every pass@k in `summary` (per language for HumanEvalPack; plus the
    average over languages when there are several)."""
    from huggingface_hub import EvalResult

    blocks = summary.get("languages") or {summary.get("language", "python"): summary}
    pack = benchmark.dataset_id == "bigcode/humanevalpack"
    results = []

    def add(block: dict, name: str, config: str | None) -> None:
        for key, value in block.items():
            if key.startswith("pass@"):
                results.append(
                    EvalResult(
                        task_type=TASK_TYPE,
                        dataset_type=benchmark.dataset_id,
                        dataset_name=name,
                        dataset_config=config,
                        dataset_split="test",
                        metric_type=key,
                        metric_value=round(100 * value, 2),
                        source_name=SOURCE_NAME if source_url else None,
                        source_url=source_url,
                    )
                )

    for language, block in blocks.items():
        if pack:
            add(block, f"{benchmark.display_name} ({LANGUAGES[language].display})", language)
        else:
            add(block, benchmark.display_name, benchmark.dataset_config)
    if pack and len(blocks) > 1:
        add(summary, f"{benchmark.display_name} (average of {len(blocks)} languages)", None)
    return results


def _key(result) -> tuple:
    return (
        result.task_type,
        result.dataset_type,
        result.dataset_config,
        result.dataset_name,
        result.metric_type,
    )


def update_model_card(path: str | Path, results: list, *, model_name: str | None = None) -> Path:
    """Merge `results` into the card's model-index (same dataset/config/metric: replaced)."""
    from huggingface_hub import ModelCard

    path = Path(path)
    card = ModelCard.load(path) if path.exists() else ModelCard("---\n---\n")
    fresh = {_key(r) for r in results}
    kept = [r for r in (card.data.eval_results or []) if _key(r) not in fresh]
    card.data.eval_results = kept + list(results)
    card.data.model_name = card.data.model_name or model_name or path.parent.resolve().name
    path.parent.mkdir(parents=True, exist_ok=True)
    card.save(path)
    return path


def generations_folder(
    output_dir: str | Path,
    staging: str | Path,
    benchmark: Benchmark,
    *,
    repo_id: str,
    model: str,
    summary: dict,
    existing: tuple[str, ...] = (),
) -> Path:
    """Lay out the dataset to upload in `staging`; `existing`: benchmarks already in the repo."""
    output_dir, staging = Path(output_dir), Path(staging)
    target = staging / benchmark.name
    target.mkdir(parents=True, exist_ok=True)
    for name in ("results.jsonl", "summary.json"):
        shutil.copyfile(output_dir / name, target / name)
    names = sorted({benchmark.name, *existing})
    configs = "\n".join(
        f"- config_name: {name}\n  data_files:\n  - split: test\n    path: {name}/results.jsonl"
        for name in names
    )
    rows = [
        f"| {benchmark.name}{' ' + lang if lang else ''} | {key} | {100 * value:.1f} |"
        for lang, block in _blocks(summary)
        for key, value in block.items()
        if key.startswith("pass@")
    ]
    language = summary.get("language")
    card = GENERATIONS_CARD.format(
        configs=configs,
        model=model,
        repo_id=repo_id,
        benchmark=benchmark.name,
        language_flag=f" --language {language}" if language and language != "python" else "",
        table="\n".join(rows),
    )
    (staging / "README.md").write_text(card, encoding="utf-8")
    return staging


def _blocks(summary: dict):
    if "languages" in summary:
        yield "average", summary
        yield from summary["languages"].items()
    else:
        yield summary.get("language", ""), summary


def existing_benchmarks(repo_id: str, token: str | None = None) -> tuple[str, ...]:
    """Benchmarks already uploaded to the generations dataset (none if it does not exist)."""
    from huggingface_hub import HfApi

    try:
        files = HfApi(token=token).list_repo_files(repo_id, repo_type="dataset")
    except Exception:
        return ()
    return tuple(sorted({f.split("/")[0] for f in files if f.endswith("/results.jsonl")}))


def push_generations(
    folder: str | Path, repo_id: str, *, private: bool = False, token: str | None = None
) -> str:
    """Upload `folder` as the dataset `repo_id`; return its URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(folder),
        repo_id=repo_id,
        repo_type="dataset",
        commit_message="Add wavecoder evaluate generations",
    )
    return f"https://huggingface.co/datasets/{repo_id}"
