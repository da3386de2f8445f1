"""The run state kept in `DIR/.wavecoder/` besides the caches: who is writing, how the last
generation step ended, and which settings the folder's run was made with.

- `lock`: the pid of the `wavecoder generate` writing DIR; a second run on the same folder is
  refused while that process lives (a lock left by a killed run is taken over).
- `last_run.json`: written by the generation step when it ends (completed, interrupted, or
  stopped because the endpoint refused every request); the main process reads it to decide
  whether to write the dataset.
- the settings fingerprint, in the example database: a folder is resumed only with the settings
  that decide its rows and prompts (see `settings_fingerprint`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from pipeline.generation.example_database import ExampleDatabase
from pipeline.layout import EXAMPLES_FILE, LOCK_FILE, STATE_DIR, STATUS_FILE
from pipeline.tasks import all_tasks, default_mix
from wavecoder.errors import UserError

COMPLETED = "completed"


def _process_start(pid: int) -> str:
    """The start time of a process (Linux), so a reused pid is not mistaken for a live run."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not start or _process_start(pid) in ("", start)


def acquire_lock(output_dir: Path) -> None:
    """Mark `output_dir` as written by this process; UserError if another live run holds it."""
    path = Path(output_dir) / STATE_DIR / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    me = f"{os.getpid()} {_process_start(os.getpid())}"
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            held = path.read_text().split() if path.exists() else []
            if held and held[0].isdigit():
                pid, start = int(held[0]), (held[1] if len(held) > 1 else "")
                if pid == os.getpid():
                    return
                if _alive(pid, start):
                    raise UserError(
                        f"another `wavecoder generate` (pid {pid}) is writing to {output_dir}; "
                        f"wait for it to finish, stop it, or use another --output (if no such "
                        f"run exists, delete {path})"
                    ) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # left by a run that was killed
            continue
        with os.fdopen(fd, "w") as f:
            f.write(me)
        atexit.register(release_lock, Path(output_dir))
        return
    raise UserError(f"cannot take the lock {path}; delete it if no other run is writing there")


def release_lock(output_dir: Path) -> None:
    path = Path(output_dir) / STATE_DIR / LOCK_FILE
    with contextlib.suppress(OSError):
        if path.read_text().split()[0] == str(os.getpid()):
            path.unlink()


def write_status(state_dir: Path, status: str, **details: Any) -> None:
    path = Path(state_dir) / STATUS_FILE
    path.write_text(json.dumps({"status": status, **details}, indent=2), encoding="utf-8")


def read_status(state_dir: Path) -> dict[str, Any] | None:
    path = Path(state_dir) / STATUS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def clear_status(state_dir: Path, *also: str) -> None:
    """Forget how the previous run ended (and `also`: other per-run files) before a new one."""
    for name in (STATUS_FILE, *also):
        with contextlib.suppress(FileNotFoundError):
            (Path(state_dir) / name).unlink()


def settings_fingerprint(recipe: Any, config: Any) -> dict[str, Any]:
    """What a resumed run must share with the run it continues.

    Everything that decides which snippets come in which order (corpus, filters, embedding
    model and backend, the first center, the seed) and what is asked of the LLMs (task mix,
    wave size, examples per prompt, each model's provider, name, output format and generation
    settings), and the decontamination settings that set corpus snippets aside. Not the number
    of snippets: KCenterGreedy's first k picks do not depend on k, a
    row's task and examples depend only on the rows before it, so a run continued with another
    k (or fraction) gives the dataset a fresh run with that k would. Endpoint URL, keys,
    concurrency, retries, timeouts and prices do not change answers and may change freely.
    """

    def llm(c: Any) -> dict[str, Any]:
        return {
            "provider": c.provider,
            "model": c.model,
            "output_format": c.output_format,
            "generation_kwargs": c.generation_kwargs,
        }

    corpus, filters, embeddings = recipe.corpus, recipe.filters, recipe.embeddings
    return {
        "seed": recipe.seed,
        "corpus": {
            "source": corpus.source,
            "languages": sorted(corpus.languages or []),
            "split": corpus.split,
            "limit": corpus.limit,
            "column_mapping": corpus.column_mapping or {},
        },
        "filters": {
            "min_chars": filters.min_chars,
            "max_chars": filters.max_chars,
            "blacklist": filters.blacklist,
            "dedup": filters.dedup,
        },
        "embeddings": [embeddings.model, embeddings.backend],
        "first_center": recipe.selection.first,
        "task_mix": config.task_mix or default_mix(),
        "wave_size": config.wave_size,
        "examples_per_prompt": config.examples_per_prompt,
        "generator": llm(config.generator),
        "discriminator": llm(config.discriminator),
        # The corpus stage sets snippets aside before KCenterGreedy: other settings, other picks.
        **decontamination_fingerprint(recipe),
        **execution_fingerprint(recipe, config, llm),
    }


def execution_fingerprint(recipe: Any, config: Any, llm: Any) -> dict[str, Any]:
    """With execution on: what decides which cases pass (the tester's model and settings, the
    mode, timeout and number of tests); {} with it off, so folders made before it resume."""
    from pipeline.generation.config import tester_config

    execution = getattr(recipe, "execution", None)
    if execution is None or not execution.enabled:
        return {}
    keys = ("mode", "timeout_s", "max_tests")
    return {
        "execution": {key: getattr(execution, key) for key in keys},
        "tester": llm(tester_config(config)),
    }


def decontamination_fingerprint(recipe: Any) -> dict[str, Any]:
    """The decontamination settings that change which corpus snippets are set aside (none of
    the judge's: it checks generated rows only); {} for a recipe from before the section."""
    decon = getattr(recipe, "decontamination", None)
    if decon is None:
        return {}
    keys = ("enabled", "benchmarks", "benchmark_dir", "exact", "min_exact_chars", "ngram_size",
            "ngram_threshold", "embedding_threshold", "prose_embedding_threshold", "nearest_k")  # fmt: skip
    return {"decontamination": {key: getattr(decon, key) for key in keys}}


def check_resume_state(output_dir: Path, fingerprint: dict[str, Any]) -> None:
    """Refuse to continue a run in `output_dir` that was made with other settings."""
    db = ExampleDatabase(all_tasks(), Path(output_dir) / STATE_DIR / EXAMPLES_FILE)
    try:
        stored = db.get_meta("settings")
        current = json.dumps(fingerprint, sort_keys=True)
        if stored is None:
            db.set_meta("settings", current)
        elif stored != current:
            before = json.loads(stored)
            changed = "; ".join(
                f"{k}: {before.get(k)} -> {v}" for k, v in fingerprint.items() if before.get(k) != v
            )
            raise UserError(
                f"{output_dir} holds a run made with other settings ({changed}); use another "
                f"--output, or delete {Path(output_dir) / STATE_DIR} to start over (the number "
                "of snippets may change freely)"
            )
    finally:
        db.close()
