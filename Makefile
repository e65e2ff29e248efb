# Two commands: `make run` and `make test`. Both work on a machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev serve clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency lists change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Compiled catalogs (.mo) are built here from the committed .po files, not committed: Babel comes with
# Flask-Babel, so `make run` and `make test` compile them on any machine, and a .po is never out of step with them.
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@ -l $*

install: $(VENV)/.installed $(COMPILED)
install-dev: $(VENV)/.installed-dev $(COMPILED)

# After changing a text: extract every marked string (babel.cfg) into the template, carry it into each
# language's catalog (new strings empty, changed ones fuzzy, for the translators), compile.
# tests/unit/test_catalogs.py reads these keywords, so that the test finds what this finds.
BABEL_KEYWORDS := -k _l -k _nl:1,2 -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --sort-output --no-wrap \
	  --project=Portal --msgid-bugs-address=- -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete
	$(BIN)/pybabel -q compile -d translations

# Links in mail point at the server started here unless PORTAL_BASE_URL says otherwise.
run: export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	@$(BIN)/python -c "import socket, sys; s = socket.socket(); \
	  sys.exit(0 if s.connect_ex(('$(HOST)', $(PORT))) else 'Port $(PORT) on $(HOST) is already in use (another make run?). Stop that server, or choose another port: make run PORT=5001')"
	$(BIN)/portal init-db
	$(BIN)/portal demo
	$(BIN)/portal run --host $(HOST) --port $(PORT)

# The suite runs in TEST_WORKERS processes (pytest-xdist; each has its own PostgreSQL and Redis database, see
# tests/conftest.py), each taking the next tests as it frees up: most of the browser tests' time is waiting.
# TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 3
test: install-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Production server (gunicorn, gunicorn.conf.py); configuration comes from PORTAL_* variables.
serve: install
	$(BIN)/portal init-db
	$(BIN)/gunicorn -c gunicorn.conf.py

clean:
	rm -rf $(VENV) .pytest_cache
