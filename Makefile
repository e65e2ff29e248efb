# Two commands: `make run` and `make test`. Both work on a machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev serve clean

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

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Links in mail point at the server started here unless PORTAL_BASE_URL says otherwise.
run: export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	@$(BIN)/python -c "import socket, sys; s = socket.socket(); \
	  sys.exit(0 if s.connect_ex(('$(HOST)', $(PORT))) else 'Port $(PORT) on $(HOST) is already in use (another make run?). Stop that server, or choose another port: make run PORT=5001')"
	$(BIN)/portal init-db
	$(BIN)/portal demo
	$(BIN)/portal run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Production server (gunicorn, gunicorn.conf.py); configuration comes from PORTAL_* variables.
serve: install
	$(BIN)/portal init-db
	$(BIN)/gunicorn -c gunicorn.conf.py

clean:
	rm -rf $(VENV) .pytest_cache
