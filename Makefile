# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
# The demo: embedded SQLite, eager Celery, links and QR codes to the server it starts.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL SITE_URL=http://127.0.0.1:$(PORT)

export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/aptic
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: demo test services lint venv messages vendor schema

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

## Start the platform with demo data on the embedded SQLite database, on http://127.0.0.1:$(PORT)
## (links and QR codes printed by the demo point there).
demo:
	@PYTHON=$(PYTHON) scripts/test-services --demo
	$(MAKE) --no-print-directory venv
	$(DEMO_ENV) $(PY) manage.py migrate --noinput --verbosity 0
	$(DEMO_ENV) $(PY) manage.py demo
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

## What the tests need from the machine: Debian packages, Postgres and Redis (as root it
## installs and starts them; as another user it prints the one command to run).
services:
	@PYTHON=$(PYTHON) scripts/test-services

## Run the whole test suite on Postgres and Redis. The machine is checked first, before the
## .venv is made, so that a machine that lacks something says so within seconds.
test: services
	$(MAKE) --no-print-directory venv
	$(VENV)/bin/ruff check .
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

## Refresh the English catalogue after changing French strings.
messages: $(STAMP)
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=static/vendor
	$(PY) manage.py compilemessages -l en --ignore=.venv

## Rewrite the committed API contract (docs/openapi.yaml) after a deliberate API change
## (on Postgres, as the tests: integer limits differ on SQLite).
schema: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
		$(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
