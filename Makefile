# The two commands of the README, plus down/status/lint. Each target first makes sure the
# virtualenv exists and holds the project and the versions uv.lock pins (synced again only when
# pyproject.toml or uv.lock changes).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
UV_VERSION := 0.13.9

# The one test command: `make test` and .ci/run both run exactly this.
TEST_COMMAND = $(BIN)/uv lock --check --quiet && $(BIN)/ruff check . && $(BIN)/lint-imports && $(BIN)/dashboard-gen check && $(BIN)/dashboard-gen lint && $(BIN)/pytest $(PYTEST_ARGS)

.PHONY: up down status test lint venv drill

# Exactly the versions uv.lock pins (run `uv lock` after editing pyproject.toml's dependencies).
$(STAMP): pyproject.toml uv.lock $(wildcard observability/pyproject.toml observability/*/pyproject.toml services/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'
	$(BIN)/uv sync --quiet --frozen --extra dev --inexact
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
	$(BIN)/uv lock --check --quiet
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
