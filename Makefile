# Two commands do all set-up: `make run` and `make test`. Needs Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: run test install messages catalogs fmt check lint stop-db

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change; the constraints file pins every version.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Translation catalogs: each .mo is built from its .po in pure Python (no GNU gettext needed), when older.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

%.mo: %.po $(STAMP)
	$(PY) -m mes.catalogs

messages: $(MO_FILES)

# After changing user-visible text: bring locale/*/django.po up to date with the sources (needs GNU gettext),
# then translate the new entries (empty msgstr, or flagged fuzzy).
catalogs: $(STAMP)
	$(PY) -m mes.catalogs --update

install: $(STAMP) $(MO_FILES)

run: $(STAMP) $(MO_FILES)
	PORT=$(PORT) $(PY) manage.py serve

test: $(STAMP) $(MO_FILES)
	$(PY) -m pytest $(PYTEST_ARGS)

# Rewrite the code into the house style and fix what ruff can fix by itself.
fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Everything CI checks short of the test suite: lint, format, Django's checks, migrations, types.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy

lint: $(STAMP)
	$(VENV)/bin/ruff check .

stop-db: $(STAMP)
	$(PY) -m mes.embedded stop
