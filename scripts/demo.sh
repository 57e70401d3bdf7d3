#!/usr/bin/env bash
# `make demo`: the main job on the bundled sample workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruvopt check examples/sample-workspace || true
