# The two commands of the README: `make run` and `make test`. Both set up what they need first
# (virtual environments are rebuilt only when their inputs change).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint setup setup-hub setup-bot seed clean

run: setup
	$(PY) -m hub run

test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup-hub
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

setup: setup-hub setup-bot

setup-hub:
	@scripts/setup-env hub

setup-bot:
	@scripts/setup-env bot

seed: setup-hub
	$(PY) -m hub seed


clean:
	rm -rf $(VENV) .venv-bot var .pytest_cache .mypy_cache .ruff_cache
