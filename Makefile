# The two set-up commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Test processes in parallel; TensorFlow keeps each to about one core.
PYTEST_WORKERS ?= auto

.PHONY: demo test clean

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "kerasts needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -e '.[test,plot,stats,serve,holidays]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(VENV_PYTHON) -m kerasts demo --output-dir demo_output

test: $(INSTALLED)
	$(VENV_PYTHON) -m pytest -n $(PYTEST_WORKERS)

clean:
	rm -rf $(VENV) demo_output
