# ThetaVue: `make run` starts the product, `make test` runs the whole suite.
# Both set up everything on a fresh machine: the virtualenv, the Python
# packages, headless Chromium for the browser tests, PgBouncer for the pooler
# test, and (when DATABASE_URL /
# REDIS_URL are unset) an embedded PostgreSQL and Redis kept in .data/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
SERVICES := $(PY) -m thetavue_site.devservices
PYTEST_ARGS ?=

.PHONY: help install browser-deps pgbouncer-deps services stop-services migrate demo run test lint format bench fuzz clean

help:
	@echo "make run    - set up and start ThetaVue (web, worker, beat, sandbox)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make bench  - run the benchmarks (QUICK=1 for the reduced set)"
	@echo "make lint   - ruff check + format check + import arrows (lint-imports)"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Debian's Chromium and its driver drive the browser tests; install them when
# missing (as root, as on CI and the developer machines).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium and chromium-driver"; \
			apt-get update -qq >/dev/null && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else \
			echo "chromium/chromedriver missing and cannot be installed: browser tests will be skipped"; \
		fi; \
	fi

# Debian's PgBouncer: the tenant-isolation test runs requests through it in
# transaction mode. Installed like Chromium; without it that test skips.
pgbouncer-deps:
	@if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing pgbouncer"; \
			apt-get update -qq >/dev/null && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
		else \
			echo "pgbouncer missing and cannot be installed: the pooler test will be skipped"; \
		fi; \
	fi

services: install
	$(SERVICES) start

stop-services:
	-$(SERVICES) stop

migrate: services
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py bootstrap_demo

run: demo
	$(PY) manage.py collectstatic --noinput >/dev/null
	@trap '$(SERVICES) stop' EXIT INT TERM; \
	$(BIN)/honcho -f Procfile.dev start

test: install browser-deps pgbouncer-deps services
	@trap '$(SERVICES) stop' EXIT; \
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports && \
	$(PY) manage.py makemigrations --check --dry-run && \
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install services
	@trap '$(SERVICES) stop' EXIT; \
	$(PY) -m bench $(if $(QUICK),--quick,)

clean:
	-$(SERVICES) stop
	rm -rf $(VENV) staticfiles
