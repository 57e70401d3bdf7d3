#!/usr/bin/env bash
# mypy over the three import packages. They install as ruvopt.checks / ruvopt.bot /
# ruvopt.cli from the top-level folders (setuptools package-dir); mypy resolves modules
# by directory, so it reads them through a tree of links that has the installed shape.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/typecheck/ruvopt
for pkg in checks bot cli; do ln -sfn "../../../$pkg" ".cache/typecheck/ruvopt/$pkg"; done
exec .venv/bin/mypy "$@"
