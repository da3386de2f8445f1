"""Throughput of the Generator-Discriminator stage, and a dataset that ignores concurrency.

The stage runs in a real distilabel pipeline (LoadDataFromDicts -> task assignment ->
GenerateAndJudge) against the scripted OpenAI-compatible server of the tests
(tests/scripted_server.py), which serves at most `--cap` requests at once and answers
each after `--delay` seconds give or take `--jitter` (a uniform factor in [1 - j, 1 + j], fixed
per request, so answers finish out of order as a real endpoint's do). Its ideal throughput is
cap / delay requests per second on average, the ceiling any client can reach. The achieved rate
counts the requests the server received between the stage's first request and its last answer
(pipeline start-up excluded). The wave size is the shipped default (64) unless `--wave-size`.

A second run with a much lower concurrency and the same jitter on a short delay, so the answers
finish in another scrambled order, must produce the same dataset: the bench prints a hash of
each.

    python bench/generate.py                     # 512 rows, cap 64, delay 0.5 s +- 50 %
    python bench/generate.py --rows 1024 --delay 0.25
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The scripted server and the replies of the tests are test fixtures.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "pipeline"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from generation_fixtures import as_reply_text, good_case, judgement_text, prompt_input, task_of
from scripted_server import Reply, ScriptedServer

from pipeline.generation.config import GenerationConfig
from pipeline.generation.main_process import (
    add_generation_steps,
    distiset_records,
    prepare_generation,
)
from pipeline.layout import DISTILABEL_DIR, STATE_DIR
from pipeline.recipe import Recipe

LANGUAGES = ("python", "go", "java", "javascript", "php", "ruby")


def make_rows(n: int) -> list[dict]:
    """n distinct small functions, in six languages, shaped like selected rows."""
    templates = {
        "python": "def step_{i}(x):\n    return x * {i} + 1",
        "go": "func Step{i}(x int) int {{\n\treturn x*{i} + 1\n}}",
        "java": "static int step{i}(int x) {{\n    return x * {i} + 1;\n}}",
        "javascript": "function step{i}(x) {{\n  return x * {i} + 1;\n}}",
        "php": "function step_{i}(int $x): int {{\n    return $x * {i} + 1;\n}}",
        "ruby": "def step_{i}(x)\n  x * {i} + 1\nend",
    }
    rows = []
    for i in range(n):
        language = LANGUAGES[i % len(LANGUAGES)]
        rows.append(
            {
                "id": f"bench-{i:05d}",
                "code": templates[language].format(i=i),
                "docstring": "",
                "language": language,
                "source": {"dataset": "bench", "func_name": f"step{i}"},
                "selection_rank": i,
                "coverage_radius": 1.0,
            }
        )
    return rows


def responder(rows: list[dict], delay: float, jitter: float):
    """Both LLMs: a valid case for the prompt's task, then yes on every rule but for 1 row in 5;
    each answer after delay * U(1 - jitter, 1 + jitter), drawn from the prompt's hash."""
    by_code = {row["code"]: row for row in rows}

    def script(request) -> Reply:
        prompt = request.prompt
        row = by_code[prompt_input(request)[1]]
        unit = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") / 2**32
        seconds = delay * (1 - jitter + 2 * jitter * unit)
        if prompt.startswith("You check"):
            failing = {2: "The language is not named."} if int(row["id"][-5:]) % 5 == 0 else None
            return Reply(judgement_text(request, failing), delay=seconds)
        snippet = {**row, "source": {"func_name": row["source"]["func_name"]}}
        return Reply(as_reply_text(good_case(snippet, task_of(request)), request), delay=seconds)

    return script


def run_stage(
    rows, out: Path, *, delay: float, cap: int, concurrency: int, wave: int, jitter: float
):
    """Run the pipeline; returns (dataset hash, requests, seconds of the stage)."""
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts

    # The server's own delay is 0: each reply carries its jittered delay, served under the cap.
    with ScriptedServer(responder(rows, delay, jitter), max_concurrency=cap) as server:
        recipe = Recipe(name="bench", seed=1)
        gen = recipe.generation
        gen.wave_size = wave
        for llm, model in ((gen.generator, "gen-model"), (gen.discriminator, "judge-model")):
            llm.model, llm.base_url, llm.concurrency, llm.timeout = (
                model,
                server.base_url,
                concurrency,
                60,
            )
        prepare_generation(recipe, out)
        with Pipeline(
            name="bench-generate", cache_dir=out / STATE_DIR / DISTILABEL_DIR
        ) as pipeline:
            load = LoadDataFromDicts(data=rows, batch_size=1000)
            add_generation_steps(pipeline, load, recipe, out)
        records = distiset_records(pipeline.run(use_cache=False))
        calls = server.calls()
    seconds = max(c["answered"] for c in calls) - min(c["time"] for c in calls)
    keep = ("id", "task", "status", "instruction", "input", "output", "judgement", "reasons")
    canonical = json.dumps(
        sorted(({k: r[k] for k in keep} for r in records), key=lambda r: r["id"]), sort_keys=True
    )
    accepted = sum(r["status"] == "accepted" for r in records)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16], len(calls), seconds, accepted


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--cap", type=int, default=64, help="server concurrency cap")
    parser.add_argument("--delay", type=float, default=0.5, help="mean answer delay, seconds")
    parser.add_argument("--jitter", type=float, default=0.5, help="delay spread, fraction +-")
    parser.add_argument("--wave-size", type=int, default=GenerationConfig().wave_size)
    parser.add_argument("--low-concurrency", type=int, default=6)
    args = parser.parse_args()

    import logging

    import datasets

    datasets.disable_progress_bars()
    logging.getLogger("distilabel").setLevel(logging.WARNING)
    rows = make_rows(args.rows)
    ideal = args.cap / args.delay
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            (f"concurrency {args.cap}", args.cap, args.delay),
            (f"concurrency {args.low_concurrency}", args.low_concurrency, 0.02),
        ]
        for label, concurrency, delay in runs:
            out = Path(tmp) / label.replace(" ", "_")
            digest, requests, seconds, accepted = run_stage(
                rows,
                out,
                delay=delay,
                cap=args.cap,
                concurrency=concurrency,
                wave=args.wave_size,
                jitter=args.jitter,
            )
            results.append((label, delay, requests, seconds, accepted, digest))

    print(
        f"\nGenerator-Discriminator stage, {args.rows} rows, server cap {args.cap}, answers in "
        f"delay +-{args.jitter:.0%}, wave size {args.wave_size}"
    )
    print(
        f"{'run':<18}{'delay':>7}{'requests':>9}{'seconds':>9}{'req/s':>9}{'ideal':>9}"
        f"{'ratio':>7}{'accepted':>10}  dataset hash"
    )
    for index, (label, delay, requests, seconds, accepted, digest) in enumerate(results):
        rate = requests / seconds
        # Only the first run is bound by the server; the second checks the dataset, not speed.
        ideal_cell = f"{ideal:>9.1f}{rate / ideal:>7.2f}" if index == 0 else f"{'-':>9}{'-':>7}"
        print(
            f"{label:<18}{delay:>7.2f}{requests:>9}{seconds:>9.2f}{rate:>9.1f}{ideal_cell}"
            f"{accepted:>10}  {digest}"
        )
    first, second = results
    rate = first[2] / first[3]
    print(
        f"\nthroughput at cap {args.cap}: {rate:.1f} req/s of an ideal {ideal:.1f} "
        f"({rate / ideal:.0%}; the ideal keeps all {args.cap} server slots busy all the time)"
    )
    print(f"same dataset at both concurrencies: {'yes' if first[5] == second[5] else 'NO'}")


if __name__ == "__main__":
    main()
