# Parvaneh: `make demo` serves the demo, `make test` runs the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo test lint format translations serve clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Compiled message catalogues are build output: made from the .po files, never committed.
# app/translations is the shared catalogue; a domain may keep its own in app/<domain>/translations.
translations: $(STAMP)
	@for dir in app/translations app/*/translations; do \
	  [ -d "$$dir" ] && $(BIN)/pybabel -q compile --use-fuzzy -d "$$dir" || true; \
	done

demo: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo "Serving http://$(HOST):$(PORT)  (Ctrl+C to stop); background jobs every 15 s"
	@$(FLASK) jobs run --loop > instance/jobs.log 2>&1 & jobs=$$!; \
	  trap 'kill $$jobs 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

test: $(STAMP) translations
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh a catalogue after changing user-facing text: extract, then merge into each locale.
# `make messages` for the shared one; `make messages DOMAIN=portal` for app/portal/translations.
ifdef DOMAIN
CATALOGUE := app/$(DOMAIN)/translations
SOURCES := app/$(DOMAIN)
else
CATALOGUE := app/translations
SOURCES := app
endif
messages: $(STAMP)
	mkdir -p $(CATALOGUE)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o $(CATALOGUE)/messages.pot --no-location --sort-output $(SOURCES)
	test -f $(CATALOGUE)/fa/LC_MESSAGES/messages.po \
	  || $(BIN)/pybabel init -i $(CATALOGUE)/messages.pot -d $(CATALOGUE) -l fa
	$(BIN)/pybabel update -i $(CATALOGUE)/messages.pot -d $(CATALOGUE) --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts
