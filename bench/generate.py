"""Throughput of the Generator-Discriminator stage, and a dataset that ignores concurrency.

The stage runs in a real distilabel pipeline (LoadDataFromDicts -> task assignment ->
GenerateAndJudge) against the scripted OpenAI-compatible server of the tests
(tests/pipeline/scripted_server.py), which answers every request after a fixed delay and
serves at most `--cap` requests at once: its ideal throughput is cap / delay requests per
second, the ceiling any client can reach. The achieved rate counts the requests the server
received between the stage's first request and its last answer (pipeline start-up excluded).

A second run with a much lower concurrency and scrambled answer times (a jitter per request)
must produce the same dataset: the bench prints a hash of each.

    python bench/generate.py                     # 512 rows, cap 64, delay 0.5 s
    python bench/generate.py --rows 256 --delay 0.25
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pipeline"))  # the scripted server is a test fixture
os.environ.setdefault("HF_HUB_OFFLINE", "1")

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


def responder(rows: list[dict], jitter: float):
    """Both LLMs: a valid case for the prompt's task, then yes on every rule but for 1 row in 5."""
    from generation_fixtures import as_reply_text, good_case, judgement_text, prompt_input, task_of
    from scripted_server import Reply

    by_code = {row["code"]: row for row in rows}

    def script(request) -> Reply:
        prompt = request.prompt
        row = by_code[prompt_input(request)[1]]
        digest = hashlib.sha256(prompt.encode()).digest()
        delay = digest[0] / 255 * jitter
        if prompt.startswith("You check"):
            failing = {2: "The language is not named."} if int(row["id"][-5:]) % 5 == 0 else None
            return Reply(judgement_text(request, failing), delay=delay)
        snippet = {**row, "source": {"func_name": row["source"]["func_name"]}}
        return Reply(as_reply_text(good_case(snippet, task_of(request)), request), delay=delay)

    return script


def run_stage(
    rows, out: Path, *, delay: float, cap: int, concurrency: int, wave: int, jitter: float
):
    """Run the pipeline; returns (dataset hash, requests, seconds of the stage)."""
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from scripted_server import ScriptedServer

    from pipeline.generation.stage import add_generation_steps, distiset_records, prepare_generation
    from pipeline.recipe import Recipe

    with ScriptedServer(responder(rows, jitter), delay=delay, max_concurrency=cap) as server:
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
        prepare_generation(recipe, SimpleNamespace(), out)
        with Pipeline(name="bench-generate", cache_dir=out / "distilabel") as pipeline:
            load = LoadDataFromDicts(data=rows, batch_size=1000)
            add_generation_steps(pipeline, load, recipe, out)
        records = distiset_records(pipeline.run(use_cache=False))
        calls = server.calls()
    times = sorted(c["time"] for c in calls)
    seconds = times[-1] + delay - times[0]
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
    parser.add_argument("--delay", type=float, default=0.5, help="server answer delay, seconds")
    parser.add_argument("--wave-size", type=int, default=128)
    parser.add_argument("--low-concurrency", type=int, default=6)
    args = parser.parse_args()

    import logging

    logging.getLogger("distilabel").setLevel(logging.WARNING)
    rows = make_rows(args.rows)
    ideal = args.cap / args.delay
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            (f"concurrency {args.cap}", args.cap, args.delay, 0.0),
            (f"concurrency {args.low_concurrency}, jitter", args.low_concurrency, 0.01, 0.03),
        ]
        for label, concurrency, delay, jitter in runs:
            out = Path(tmp) / label.replace(" ", "_").replace(",", "")
            digest, requests, seconds, accepted = run_stage(
                rows,
                out,
                delay=delay,
                cap=args.cap,
                concurrency=concurrency,
                wave=args.wave_size,
                jitter=jitter,
            )
            results.append((label, requests, seconds, accepted, digest))

    print(
        f"\nGenerator-Discriminator stage, {args.rows} rows, server cap {args.cap}, wave size {args.wave_size}"
    )
    print(
        f"{'run':<26}{'requests':>9}{'seconds':>9}{'req/s':>9}{'ideal':>9}{'ratio':>7}{'accepted':>10}  dataset hash"
    )
    for index, (label, requests, seconds, accepted, digest) in enumerate(results):
        rate = requests / seconds
        # Only the first run is capped by the server; the second checks the dataset, not speed.
        ideal_cell = f"{ideal:>9.1f}{rate / ideal:>7.2f}" if index == 0 else f"{'-':>9}{'-':>7}"
        print(
            f"{label:<26}{requests:>9}{seconds:>9.2f}{rate:>9.1f}{ideal_cell}{accepted:>10}  {digest}"
        )
    first, second = results
    print(
        f"\nthroughput at cap {args.cap}: {first[1] / first[2]:.1f} req/s of an ideal {ideal:.1f} ({first[1] / first[2] / ideal:.0%})"
    )
    print(f"same dataset at both concurrencies: {'yes' if first[4] == second[4] else 'NO'}")


if __name__ == "__main__":
    main()
