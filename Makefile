# Each target is a one-liner over real commands; see README.md.
PYTHON ?= python3

.PHONY: setup demo test quality bench

setup:
	bash scripts/setup.sh

demo:
	wavecoder generate --recipe demo

test:
	$(PYTHON) -m pytest tests

quality:
	ruff check . && ruff format --check .

bench:
	$(PYTHON) bench/kcenter.py && $(PYTHON) bench/embed.py
