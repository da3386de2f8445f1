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

With `--execution` (issue 13) the two runs are instead the stage with execution off and on, same
rows, fresh folders, same server: the scripted server also plays the tester and writes real,
passing tests for every case (the repair cases carry a real bug, the translations a real
translation), and each case runs in the bwrap sandbox on the recipe's `execution.workers`. The
bench prints the request rate of each (all roles' requests, the tester's included) against the
ideal, the ratio on / off, the sandbox runs (one per check) per second per core used, and the
status counts of the `execution` column (all `passed` or `not_applicable` when the fixtures are
right). `--languages` limits the rows' languages (default: those whose toolchain is installed;
a Java compile takes 1-2 s on 2 cores).

    python bench/generate.py                     # 512 rows, cap 64, delay 0.5 s +- 50 %
    python bench/generate.py --rows 1024 --delay 0.25
    python bench/generate.py --rows 256 --cap 32 --execution --languages python,javascript,go
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The scripted server and the replies of the tests are test fixtures.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "pipeline"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_rows import LANGUAGES, installed_languages, make_rows, responder
from scripted_server import ScriptedServer

from pipeline.execution.run import FAILING
from pipeline.generation.config import GenerationConfig
from pipeline.generation.main_process import (
    add_generation_steps,
    distiset_records,
    prepare_generation,
)
from pipeline.layout import DISTILABEL_DIR, STATE_DIR
from pipeline.recipe import Recipe


def run_stage(
    rows,
    out: Path,
    *,
    delay: float,
    cap: int,
    concurrency: int,
    wave: int,
    jitter: float,
    languages: tuple[str, ...] = LANGUAGES,
    execution: bool = False,
    workers: int | None = None,
):
    """Run the pipeline; returns a dict: hash (of the dataset), requests, seconds (of the
    stage), accepted, statuses (of the execution column), stats (the run's call stats)."""
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts

    from pipeline.layout import CALL_STATS_FILE

    # The server's own delay is 0: each reply carries its jittered delay, served under the cap.
    script = responder(rows, delay, jitter, languages)
    with ScriptedServer(script, max_concurrency=cap) as server:
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
        if execution:
            recipe.execution.enabled = True
            if workers is not None:
                recipe.execution.workers = workers
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
    statuses = Counter(
        (r.get("execution") or {}).get("status", "none") for r in records if execution
    )
    stats_file = out / STATE_DIR / CALL_STATS_FILE
    return {
        "hash": hashlib.sha256(canonical.encode()).hexdigest()[:16],
        "requests": len(calls),
        "seconds": seconds,
        "accepted": sum(r["status"] == "accepted" for r in records),
        "statuses": statuses,
        "checks": sum(len((r.get("execution") or {}).get("checks") or []) for r in records),
        "bad": [r for r in records if (r.get("execution") or {}).get("status") in FAILING],
        "stats": json.loads(stats_file.read_text()) if stats_file.exists() else {},
        "workers": recipe.execution.workers,
    }


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
    parser.add_argument(
        "--execution",
        action="store_true",
        help="run the stage with execution off, then on (instead of the low-concurrency run)",
    )
    parser.add_argument(
        "--languages",
        default=None,
        help="comma-separated row languages (default: all six without --execution; with it, "
        "those whose toolchain is installed)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="execution.workers (default: the recipe's)"
    )
    args = parser.parse_args()

    import logging

    import datasets

    datasets.disable_progress_bars()
    logging.getLogger("distilabel").setLevel(logging.WARNING)
    # One INFO line per sandbox check otherwise.
    logging.getLogger("evaluation").setLevel(logging.WARNING)
    if args.languages:
        languages = tuple(lang.strip() for lang in args.languages.split(",") if lang.strip())
        unknown = sorted(set(languages) - set(LANGUAGES))
        if unknown:
            parser.error(f"unknown languages {unknown}; known: {', '.join(LANGUAGES)}")
    else:
        languages = installed_languages() if args.execution else LANGUAGES
    rows = make_rows(args.rows, languages)
    if args.execution:
        execution_bench(args, rows, languages)
        return
    ideal = args.cap / args.delay
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            (f"concurrency {args.cap}", args.cap, args.delay),
            (f"concurrency {args.low_concurrency}", args.low_concurrency, 0.02),
        ]
        for label, concurrency, delay in runs:
            out = Path(tmp) / label.replace(" ", "_")
            run = run_stage(
                rows,
                out,
                delay=delay,
                cap=args.cap,
                concurrency=concurrency,
                wave=args.wave_size,
                jitter=args.jitter,
                languages=languages,
            )
            results.append(
                (label, delay, run["requests"], run["seconds"], run["accepted"], run["hash"])
            )

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


def execution_bench(args, rows: list[dict], languages: tuple[str, ...]) -> None:
    """The stage with execution off, then on (same rows, fresh folders); prints both rates."""
    from evaluation.execution import default_workers

    ideal = args.cap / args.delay
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, execution in (("execution off", False), ("execution on", True)):
            runs[label] = run_stage(
                rows,
                Path(tmp) / label.replace(" ", "_"),
                delay=args.delay,
                cap=args.cap,
                concurrency=args.cap,
                wave=args.wave_size,
                jitter=args.jitter,
                languages=languages,
                execution=execution,
                workers=args.workers,
            )
    on = runs["execution on"]
    workers, cores = on["workers"], default_workers()
    used = min(workers, cores)
    print(
        f"\nGenerator-Discriminator stage, {args.rows} rows in {', '.join(languages)}, server cap "
        f"{args.cap}, answers in {args.delay} s +-{args.jitter:.0%} (ideal {ideal:.1f} req/s), "
        f"wave size {args.wave_size}, execution.workers {workers} of {cores} cores"
    )
    print(
        f"{'run':<15}{'requests':>9}{'tester':>8}{'seconds':>9}{'req/s':>9}{'of ideal':>10}"
        f"{'accepted':>10}  dataset hash"
    )
    for label, run in runs.items():
        rate = run["requests"] / run["seconds"]
        tester = run["stats"].get("tester", {}).get("sent", "-")
        print(
            f"{label:<15}{run['requests']:>9}{tester!s:>8}{run['seconds']:>9.2f}{rate:>9.1f}"
            f"{rate / ideal:>10.0%}{run['accepted']:>10}  {run['hash']}"
        )
    off_rate = runs["execution off"]["requests"] / runs["execution off"]["seconds"]
    on_rate = on["requests"] / on["seconds"]
    print(
        f"\nrequest rate with execution on: {on_rate:.1f} req/s = {on_rate / off_rate:.0%} of the "
        f"rate with it off ({off_rate:.1f}) and {on_rate / ideal:.0%} of the ideal {ideal:.1f} "
        f"(issue 13 wants at least 80% of the ideal)"
    )
    stats = on["stats"].get("execution", {})
    executed, checks = stats.get("executed", 0), on["checks"]
    print(
        f"sandbox: {executed} cases executed ({stats.get('cached', 0)} from the cache), "
        f"{checks} sandbox runs (one per check) in the stage's {on['seconds']:.1f} s on "
        f"{used} core(s) (min(execution.workers {workers}, {cores} cores)): "
        f"{checks / on['seconds'] / used:.2f} sandbox runs/s/core; "
        f"{stats.get('sandbox_seconds', 0.0):.1f} s in the pool "
        f"({stats.get('sandbox_seconds', 0.0) / max(executed, 1):.2f} s per case, queueing "
        f"included)"
    )
    counts = ", ".join(f"{status} {n}" for status, n in on["statuses"].most_common())
    print(f"execution column: {counts}")
    for record in on["bad"][:5]:
        execution = record["execution"]
        print(
            f"  {record['id']} {record['task']} {record['language']}: {execution['status']}: "
            f"{execution['reason'][:200]} {execution.get('stderr_tail', '')[-300:]!r}"
        )


if __name__ == "__main__":
    main()
