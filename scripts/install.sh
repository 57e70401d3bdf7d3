#!/usr/bin/env bash
# Installs ruvopt from this checkout into a virtual environment. The one install path of
# `make install`, `make test` (scripts/install-test-deps.sh) and the Docker image, so the
# image runs what the tests ran:
#   scripts/install.sh VENV [--editable] [EXTRA ...]
# --editable is for a working copy; the image installs a regular (built) copy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:?usage: scripts/install.sh VENV [--editable] [EXTRA ...]}"
shift
mode=()
extras=()
for arg in "$@"; do
  case "$arg" in
    --editable) mode=(--editable) ;;
    -*) echo "scripts/install.sh: unknown option $arg" >&2; exit 2 ;;
    *) extras+=("$arg") ;;
  esac
done
target="$root"
if ((${#extras[@]})); then
  target="$root[$(IFS=,; echo "${extras[*]}")]"
fi
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${mode[@]}" "$target"
