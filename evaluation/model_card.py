"""Publish scores: `model-index` entries in a model card, and the raw generations as a Hub dataset.

`eval_results` turns a summary into `huggingface_hub.EvalResult`s (task ``text-generation``;
datasets ``openai_humaneval``, ``mbpp``, ``bigcode/humanevalpack`` with the language as config;
metric ``pass@k`` in percent, as papers and leaderboards print it). `update_model_card` adds them to
a local model card's YAML front matter (the training issue's card), replacing entries for the same
dataset, config and metric, and keeping everything else; in a card written by `wavecoder train` it
also rewrites the body's scores table (between `cards.model_card.SCORES_START` and `SCORES_END`).
A HumanEvalPack "average" entry is published only when all six languages were scored; otherwise
only the per-language entries.
`generations_folder` lays out what `push_generations` uploads: one folder, and dataset config, per
benchmark and language (``humaneval``, ``mbpp``, ``humanevalfix-python``, ``humanevalfix-js``...),
each with ``results.jsonl`` (every prompt, raw generation, completion and verdict) and
``summary.json``, so that pushing another language never overwrites one already there; the dataset
card says how to re-score each with ``wavecoder evaluate --samples``.
"""

from __future__ import annotations

import json
from pathlib import Path

from cards.model_card import SCORES_END, SCORES_START
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
One config per benchmark and language: each `<config>/results.jsonl` row holds the `prompt`, the
`raw_generation`, the processed `completion`, `passed` and `result`; `<config>/summary.json` holds
the scores.

Re-score them:

```bash
huggingface-cli download {repo_id} --repo-type dataset --local-dir generations
{commands}
```

Scores of the latest upload:

| config | metric | value (%) |
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
    scored = summary.get("languages_scored", [])
    if pack and "languages" in summary and set(scored) >= set(benchmark.languages):
        add(summary, f"{benchmark.display_name} (average of {len(scored)} languages)", None)
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
    card.text = refresh_scores_table(card.text, card.data.eval_results)
    path.parent.mkdir(parents=True, exist_ok=True)
    card.save(path)
    return path


def scores_table(results: list) -> str:
    """A Markdown table of `results` (benchmark, metric, value in %), sorted by benchmark."""
    rows = sorted(results, key=lambda r: (r.dataset_name, r.metric_type))
    lines = ["| benchmark | metric | value (%) |", "|---|---|---|"]
    lines += [f"| {r.dataset_name} | {r.metric_type} | {r.metric_value:.1f} |" for r in rows]
    return "\n".join(lines)


def refresh_scores_table(text: str, results: list) -> str:
    """`text` with the part between the scores markers replaced by `scores_table(results)`;
    unchanged when it has no markers (a card not written by `wavecoder train`)."""
    start, end = text.find(SCORES_START), text.find(SCORES_END)
    if start < 0 or end < start or not results:
        return text
    table = scores_table(results)
    note = "Scored by `wavecoder evaluate` in a sandbox; the card's `model-index` holds the same values."
    return f"{text[: start + len(SCORES_START)]}\n{table}\n\n{note}\n{text[end:]}"


def config_name(benchmark: Benchmark, language: str) -> str:
    """The generations dataset's config (and folder) for one benchmark and language."""
    return benchmark.name if benchmark.languages == ("python",) else f"{benchmark.name}-{language}"


def rescore_command(config: str) -> str:
    """The `wavecoder evaluate` command that re-scores the downloaded `config` folder."""
    benchmark, _, language = config.partition("-")
    flag = f" --language {language}" if language else ""
    return (
        f"wavecoder evaluate --benchmark {benchmark}{flag} "
        f"--samples generations/{config}/results.jsonl --output out/{config}"
    )


def generations_folder(
    output_dir: str | Path,
    staging: str | Path,
    benchmark: Benchmark,
    problems: dict,
    *,
    repo_id: str,
    model: str,
    summary: dict,
    existing: tuple[str, ...] = (),
) -> Path:
    """Lay out the dataset to upload in `staging`: the results of `output_dir` split into one
    folder per language of `problems` (task id -> Problem); `existing`: configs already in the
    repo."""
    output_dir, staging = Path(output_dir), Path(staging)
    rows = [json.loads(line) for line in (output_dir / "results.jsonl").open(encoding="utf-8")]
    by_language: dict[str, list[str]] = {}
    for row in rows:
        line = json.dumps(row) + "\n"
        by_language.setdefault(problems[row["task_id"]].language, []).append(line)
    blocks = summary.get("languages") or {summary.get("language", "python"): summary}
    table = []
    for language, lines in by_language.items():
        config = config_name(benchmark, language)
        target = staging / config
        target.mkdir(parents=True, exist_ok=True)
        (target / "results.jsonl").write_text("".join(lines), encoding="utf-8")
        block = {"benchmark": benchmark.name, "language": language, **blocks.get(language, {})}
        (target / "summary.json").write_text(json.dumps(block, indent=2) + "\n", encoding="utf-8")
        table += [
            f"| {config} | {key} | {100 * value:.1f} |"
            for key, value in block.items()
            if key.startswith("pass@")
        ]
    names = sorted({*(config_name(benchmark, lang) for lang in by_language), *existing})
    configs = "\n".join(
        f"- config_name: {name}\n  data_files:\n  - split: test\n    path: {name}/results.jsonl"
        for name in names
    )
    card = GENERATIONS_CARD.format(
        configs=configs,
        model=model,
        repo_id=repo_id,
        commands="\n".join(rescore_command(name) for name in names),
        table="\n".join(table),
    )
    (staging / "README.md").write_text(card, encoding="utf-8")
    return staging


def existing_configs(repo_id: str, token: str | None = None) -> tuple[str, ...]:
    """Configs already uploaded to the generations dataset (none if it does not exist)."""
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
