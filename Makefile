# The two commands (SPEC "Two commands"): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app plugin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install migrate run worker test test-services bench clean

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(BIN)/activate

install: $(BIN)/activate

migrate: install
	$(FLASK) db upgrade

run: migrate
	$(FLASK) serve --host $(HOST) --port $(PORT)

worker: install
	$(FLASK) worker

# The import rules (.importlinter) first: a circle or a domain module importing a web edge fails fast.
# Any longer import cycle between modules fails tests/integration/test_no_import_cycles.py.
test: install
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance/loyalty.sqlite3*
