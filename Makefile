# `make run`: set up, then talk with Sayso. `make test`: set up, then run the tests.
.PHONY: setup run test bench check

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/sayso talk

# The test command checks style and types first: CI runs exactly this.
test: setup check
	.venv/bin/python -m pytest

check: setup
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy

bench: setup
	.venv/bin/python bench/wer.py
	.venv/bin/python bench/turn.py
