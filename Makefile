# The two commands of the README, plus down/status/lint. Each target first makes sure the
# virtualenv exists and holds the project (re-installed only when pyproject.toml changes).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject

# The one test command: `make test` and .ci/run both run exactly this.
TEST_COMMAND = $(BIN)/ruff check . && $(BIN)/lint-imports && $(BIN)/dashboard-gen check && $(BIN)/dashboard-gen lint && $(BIN)/pytest $(PYTEST_ARGS)

.PHONY: up down status test lint venv drill

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

up: $(STAMP)
	$(BIN)/fleet-stack up

down: $(STAMP)
	$(BIN)/fleet-stack down

status: $(STAMP)
	$(BIN)/fleet-stack status

# Fire drills on the running stack: every drill, or some with `make drill NAME="broker-stopped DatabaseDown"`.
drill: $(STAMP)
	$(BIN)/fleet-stack drill $(NAME)

test: $(STAMP)
	$(TEST_COMMAND)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
