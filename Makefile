# health-export: `make run` serves, `make test` tests. Both start with `make install`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
PYTHON ?= python3
VENV_STAMP := .venv/.synced

.PHONY: help install run test test-reliability lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV_STAMP) ## install dependencies, prepare PostgreSQL/PostGIS and Redis, migrate
	@bash scripts/setup.sh

# uv from PATH, else the one pip installs for this Python (`python -m uv` needs no PATH).
$(VENV_STAMP): pyproject.toml uv.lock
	@uv=$$(command -v uv || true); \
	if [ -z "$$uv" ]; then \
	  $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv; \
	  uv="$(PYTHON) -m uv"; \
	fi; \
	$$uv sync --frozen --python $(PYTHON) --quiet
	@touch $@

run: install ## start the server on HOST:PORT (from the environment or .env)
	@.venv/bin/health-export bootstrap
	@exec .venv/bin/health-export serve

# Line coverage of both runs of `make test` together, rounded down to a whole percent:
# raise it when coverage grows, never lower it to make a change pass.
COVERAGE_FLOOR ?= 90

test: export SETUP_BROWSER := 1
test: install ## run the whole test suite against real PostgreSQL/PostGIS and Redis, with coverage
	@.venv/bin/pytest -n 2 --dist loadfile -m "not faults and not reliability_long" --cov --cov-report= $(PYTEST_ARGS)
	@# Fault and reliability tests start their own PostgreSQL and Redis (never the shared
	@# ones) and kill them; they run alone, after, so their timings are not disturbed.
	@.venv/bin/pytest -m "faults and not reliability_long" -p no:xdist --cov --cov-append --cov-report= $(PYTEST_ARGS)
	@.venv/bin/coverage report --fail-under=$(COVERAGE_FLOOR)

test-reliability: install ## the reliability suite with its long soak/fuzz variants (docs/reliability.md)
	@.venv/bin/pytest -p no:xdist tests/reliability tests/faults $(PYTEST_ARGS)

lint: $(VENV_STAMP) ## ruff (lint + format check) and mypy --strict
	@.venv/bin/ruff check src tests bench
	@.venv/bin/ruff format --check src tests bench
	@.venv/bin/mypy

format: $(VENV_STAMP) ## apply ruff's formatting and safe fixes
	@.venv/bin/ruff check --fix src tests bench
	@.venv/bin/ruff format src tests bench

bench: install ## run the benchmarks (a few minutes) and write their figures to bench/README.md
	@.venv/bin/python -m bench $(BENCH_ARGS)

clean: ## remove the virtual environment and caches
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
