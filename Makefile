# Two commands: `make demo` and `make test`. Each does its own set-up on a fresh machine
# with only Python 3.11 and make (`make demo` installs only what the demo needs). constraints.txt pins a set of versions tested together
# (as Airflow does): without it pip can backtrack for many minutes over this many packages.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test
IMAGE  ?= ghcr.io/pipetune/pipetune
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
FUZZ_MINUTES ?= 20

.PHONY: demo test install bench bench-quick fuzz image clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP_DEMO): pyproject.toml setup.py constraints.txt | $(PY)
	$(PIP) install --quiet -c constraints.txt -e ".[airflow,examples,report]"
	touch $@

$(STAMP_TEST): pyproject.toml setup.py constraints.txt | $(PY)
	$(PIP) install --quiet -c constraints.txt -e ".[test]"
	touch $@ $(STAMP_DEMO)

install: $(STAMP_TEST)

demo: $(STAMP_DEMO)
	$(PY) examples/quickstart/demo.py
	$(PY) examples/airflow_demo.py

# a bare `pytest` from the repo root: the same command a developer types
test: $(STAMP_TEST)
	$(VENV)/bin/pytest -q

# the property tests with random draws (CI runs them derandomized), round after round for
# FUZZ_MINUTES; a failure stops it and prints the example to add as an @example
fuzz: $(STAMP_TEST)
	@end=$$(( $$(date +%s) + 60 * $(FUZZ_MINUTES) )); round=0; \
	while [ $$(date +%s) -lt $$end ]; do \
	  round=$$((round + 1)); echo "fuzz round $$round"; \
	  HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -q -m hypothesis -x || exit 1; \
	done; echo "fuzz: $$round rounds, no failure"

# the component image (needs Docker): $(IMAGE):$(VERSION)
image:
	docker build -t $(IMAGE):$(VERSION) .
	@echo "built $(IMAGE):$(VERSION): push it, then compile with PIPETUNE_IMAGE=$(IMAGE):$(VERSION)"

bench: $(STAMP_TEST)
	$(PY) -m benchmarks.run

bench-quick: $(STAMP_TEST)
	$(PY) -m benchmarks.run --quick

clean:
	rm -rf $(VENV) .pipetune demo-output .hypothesis
