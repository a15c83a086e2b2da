# The two commands of the README: `make run` and `make test`. Both set up what they need first
# (virtual environments are rebuilt only when their inputs change).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint setup setup-hub setup-bot setup-web seed model bench clean

run: setup
	$(PY) -m hub run

test: setup lint model
	$(PY) -m pytest $(PYTEST_ARGS)
	@if [ -x .venv-bot/bin/rasa ] && [ -f config.yml ]; then \
	  scripts/test-assistant $(BOT_PYTEST_ARGS); \
	else echo "assistant tests: skipped (no .venv-bot: python3.10 missing)"; fi

lint: setup-hub
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

setup: setup-hub setup-bot setup-web

setup-hub:
	@scripts/setup-env hub

setup-bot:
	@scripts/setup-env bot

setup-web:
	@scripts/setup-env web

seed: setup-hub
	$(PY) -m hub seed

# Trains the assistant only when config, domain or training data changed (hash-named model);
# without .venv-bot or a Rasa project it says so and carries on.
model: setup
	@if [ -x .venv-bot/bin/rasa ] && [ -f config.yml ]; then $(PY) -m hub train; \
	else echo "assistant model: skipped (no .venv-bot or no Rasa project)"; fi

# Speed and memory against a baseline in the same run; rewrites BENCHMARKS.md (a few minutes).
bench: setup-hub
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .venv-bot var .pytest_cache .mypy_cache .ruff_cache
