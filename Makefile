# Two commands: `make demo` and `make test`. Each does its own set-up on a fresh machine
# with only Python 3.11 and make. constraints.txt pins a set of versions tested together
# (as Airflow does): without it pip can backtrack for many minutes over this many packages.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test install bench bench-quick clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP_DEMO): pyproject.toml setup.py constraints.txt | $(PY)
	$(PIP) install --quiet -c constraints.txt -e ".[airflow]" scikit-learn
	touch $@

$(STAMP_TEST): pyproject.toml setup.py constraints.txt | $(PY)
	$(PIP) install --quiet -c constraints.txt -e ".[test]"
	touch $@ $(STAMP_DEMO)

install: $(STAMP_TEST)

demo: $(STAMP_DEMO)
	$(PY) examples/quickstart/demo.py
	$(PY) examples/airflow_demo.py

test: $(STAMP_TEST)
	$(PY) -m pytest tests -q

bench: $(STAMP_TEST)
	$(PY) -m benchmarks.run

bench-quick: $(STAMP_TEST)
	$(PY) -m benchmarks.run --quick

clean:
	rm -rf $(VENV) .pipetune demo-output
