# Each target is a one-liner over real commands; see README.md.
PYTHON ?= python3

.PHONY: setup demo test quality bench

setup:
	bash scripts/setup.sh

# The main job: a real run when an LLM endpoint is configured, else a dry run (prompts + cost).
demo:
	$(PYTHON) -m wavecoder generate --recipe demo --dry-run auto

test:
	$(PYTHON) -m pytest tests

quality:
	ruff check . && ruff format --check .

bench:
	$(PYTHON) bench/kcenter.py && $(PYTHON) bench/embed.py && $(PYTHON) bench/generate.py && $(PYTHON) bench/execution_demo.py && $(PYTHON) bench/evaluate.py && $(PYTHON) bench/train.py && $(PYTHON) bench/space.py
