# The README's two commands are `make run` and `make test`; both start with `make install`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

# The browser tests drive Debian's Chromium ($(CHROMIUM)) through Playwright's executable_path:
# Playwright must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# `make test` uses this machine's PostgreSQL and Redis unless told otherwise.
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/carloan
test: export REDIS_URL ?= redis://127.0.0.1:6379/1
test: export SECRET_KEY ?= test-only-not-secret
# Never collected: the tests serve static files from the source folders, so a stale collection
# left by `make run` can never stand in for the code under test.
test: export STATIC_ROOT ?= $(CURDIR)/var/test-staticfiles
# A Celery queue of this run's own: two runs on one Redis never take each other's tasks.
TEST_QUEUE := carloan-test-$(shell od -An -N4 -tx4 /dev/urandom | tr -d ' ')
test: export CELERY_QUEUE ?= $(TEST_QUEUE)
PYTEST_ARGS ?=

.PHONY: install run test check lint bench browser

install: $(STAMP)

# Re-runs only when pyproject.toml changed (or the virtual environment is new).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	@touch $(STAMP)

# HOST and PORT (default 127.0.0.1:8000) reach the runner through the environment.
run: install
	$(BIN)/python -m carloan.dev.runner

test: install browser
	@$(BIN)/python -m carloan.dev.runner --check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests' Chromium and the CJK fonts the Chinese pages and the review PDF need, from
# Debian's packages: installed here when missing (as root, or through sudo without a password).
browser:
	@test -x $(CHROMIUM) || { \
		echo "Installing Debian's Chromium and CJK fonts for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; \
		elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
		else echo "The browser tests need Debian's Chromium at $(CHROMIUM); as root run:" \
			"apt-get install -y chromium fonts-noto-cjk" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium fonts-noto-cjk; }
	@test -x $(CHROMIUM)

# What the README promises of the code, checked before the tests (.ci/run runs it first):
# lint, formatting, types of the apps, and no model change without its migration.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DATABASE_POOL_SIZE=0 DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
		REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/1} SECRET_KEY=$${SECRET_KEY:-check-only} \
		$(BIN)/python manage.py makemigrations --check --dry-run

lint: check

bench: install
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/compliance_bench.py
	$(BIN)/python bench/notify_bench.py
	$(BIN)/python bench/valuation_accuracy.py
