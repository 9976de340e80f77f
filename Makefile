# OFeli — every set-up step lives here, so a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
PG_URL ?= postgres://postgres@127.0.0.1:5432/ofeli_ci
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run serve test test-sqlite test-pg browser lint format checks migrate demo bench lock clean tour load faults security

help:
	@echo "make run    — install, migrate, load demo data, start the web app and its worker"
	@echo "make test   — the whole test suite on SQLite"
	@echo "make test-pg, make lint, make checks, make bench, make lock"
	@echo "make tour   — regenerates the screenshots of the guided tour (docs/tour/)"
	@echo "make security — bandit and pip-audit (pip-audit needs access to PyPI's advisory database)"
	@echo "make load, make faults — the load test and the fault drills (bench/load, bench/faults; docs/reliability.md)"

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "OFeli needs Python >= 3.11"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# setuptools too: the one Python's venv seeds (65.5 on Python 3.11) has published advisories.
	$(PIP) install --quiet --upgrade pip setuptools
	$(PIP) install --quiet -r requirements/base.txt -r requirements/dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm est introuvable : installez Node.js >= 20 avec npm."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

migrate: install
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) load_referentiels
	$(MANAGE) seed_demo

run: demo
	$(MANAGE) collectstatic --noinput --verbosity 0
	HOST=$(HOST) PORT=$(PORT) bash scripts/run-dev

browser:
	bash scripts/ensure-chromium

# Browser tests run apart: Playwright's sync API keeps an event loop in its thread, which must not
# share a process with the tests that use threads and database connections directly.
test: install browser
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q --ignore=tests/browser
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q tests/browser

test-sqlite: test

test-pg: install browser
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -n $(PYTEST_WORKERS) -q --create-db --ignore=tests/browser
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -n $(PYTEST_WORKERS) -q --create-db tests/browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

checks: install
	$(MANAGE) makemigrations --check --dry-run
	DJANGO_ENV=production SECRET_KEY=check-deploy-only-$$(date +%s)-not-a-real-secret-key-but-long-enough \
	  ALLOWED_HOSTS=ofeli.example.org DATABASE_URL=$(PG_URL) \
	  $(MANAGE) check --deploy --fail-level WARNING

bench: install
	bash bench/run

security: install
	bash scripts/security-audit

load: install
	bash bench/load/run

faults: install
	bash bench/faults/run

tour: install browser
	bash scripts/tour

lock: $(VENV)/.installed
	cd requirements && ../$(VENV)/bin/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links base.in -o base.txt
	cd requirements && ../$(VENV)/bin/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links dev.in -o dev.txt

clean:
	rm -rf $(VENV) node_modules var
