# The two commands the README promises: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test install install-test lint typecheck docs bench

install:
	@bash scripts/install.sh $(VENV) --editable

# Runs the main job on the bundled sample workspace: a plain check, then diff mode.
demo: install
	@bash scripts/demo.sh

install-test:
	@bash scripts/install-test-deps.sh

# Installs everything the tests need (apt, npm, pip), then runs lint, types and tests.
test: install-test
	$(VENV)/bin/ruff check checks bot cli tests benchmarks
	bash scripts/typecheck.sh
	$(VENV)/bin/pytest -q -p no:cacheprovider

docs: install
	$(PY) -m ruvopt.checks.render.docs

bench: install-test
	$(PY) benchmarks/run_all.py
