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
	$(MAKE) lint typecheck
	$(VENV)/bin/pytest -q -p no:cacheprovider

# ruff's rules and its formatter (enforced: `ruff format` fixes what --check reports).
lint:
	$(VENV)/bin/ruff check checks bot cli tests benchmarks scripts
	$(VENV)/bin/ruff format --check checks bot cli tests benchmarks scripts

# mypy --strict over ruvopt.checks, ruvopt.bot and ruvopt.cli.
typecheck:
	bash scripts/typecheck.sh

docs: install
	$(PY) -m ruvopt.checks.render.docs

# Every published benchmark, one after the other (benchmarks/run_all.py --list).
bench: install-test
	$(PY) benchmarks/run_all.py
