"""Every file name of a dataset folder written by `wavecoder generate`, and of its run state.

    DIR/README.md                                   the dataset card
    DIR/data/train-00000-of-00001.parquet           the `default` config (`config_folder`)
    DIR/<config>/train-00000-of-00001.parquet       every other config
    DIR/summary.json, DIR/example_database.jsonl    the run summary, the good and bad pools
    DIR/selection.parquet, corpus_report.json, pipeline.yaml    the run's records
    DIR/dry_run/                                    --dry-run: prompts and the estimate
    DIR/.wavecoder/                                 run state, not data (never pushed)

Every module names these files through this one; none imports anything.
"""

from __future__ import annotations

# The dataset: one folder per config, one shard each.
README = "README.md"
DEFAULT_CONFIG = "default"
SHARD = "train-00000-of-00001.parquet"
SHARD_PATTERN = "train-*.parquet"  # the shards of a config, as the card's `data_files` name them
SUMMARY_FILE = "summary.json"
PLOTS_DIR = "plots"  # the card's PNG figures
EXAMPLE_DATABASE_FILE = "example_database.jsonl"

# The run's records, written by every run before the generation stage ends (--select-only too).
SELECTION_FILE = "selection.parquet"
CORPUS_REPORT_FILE = "corpus_report.json"
PIPELINE_YAML = "pipeline.yaml"
# Corpus snippets flagged as benchmark copies before selection (with their flags and, on the
# first line, the stage's report).
CORPUS_CONTAMINATION_FILE = "corpus_contamination.jsonl"
# In STATE_DIR: ids and unit vectors of (a sample of) the corpus, for the card's 2-D map.
CORPUS_MAP_FILE = "corpus_map.npz"
RUN_RECORDS = (CORPUS_REPORT_FILE, PIPELINE_YAML, SELECTION_FILE, CORPUS_CONTAMINATION_FILE)

# --dry-run: what a run would send, and what it would cost.
DRY_RUN_DIR = "dry_run"
PROMPTS_FILE = "generator_prompts.jsonl"
JUDGE_EXAMPLE_FILE = "judge_prompt_example.json"
ESTIMATE_FILE = "estimate.json"

# The run state in DIR/.wavecoder/: caches, the lock, how the last run ended.
STATE_DIR = ".wavecoder"
LOCK_FILE = "lock"
STATUS_FILE = "last_run.json"
CALL_STATS_FILE = "last_run_calls.json"
RESPONSES_FILE = "responses.sqlite"
EXAMPLES_FILE = "examples.sqlite"
ERROR_LOG = "error.log"
FAILURES_DIR = "failures"  # failure records of the step processes (pipeline.failures)
DISTILABEL_DIR = "distilabel"  # distilabel's work folder, with its pipeline.log
DISTILABEL_LOG = "pipeline.log"
STAGING_PREFIX = "staging-"  # + pid: the new dataset folder while it is written
REPLACED_PREFIX = "replaced-"  # + pid: the old one while the new one is swapped in

# Left behind by `wavecoder push`.
NOT_PUSHED = (STATE_DIR, DRY_RUN_DIR)


def config_folder(config: str) -> str:
    """The folder of a config in DIR: `data` for `default`, else the config's name."""
    return "data" if config == DEFAULT_CONFIG else config
