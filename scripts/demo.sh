#!/usr/bin/env bash
# `make demo`: ruvopt on the bundled sample workspace — a plain check, then diff mode on a
# throw-away git repository whose base is the sample and whose head applies
# examples/sample-change.patch (adds problems, fixes one, and tries to loosen the gate in
# ruvopt.toml, which diff mode ignores: the config comes from the base).
#
# ruvopt exits 1 when the gate fails; that is the expected outcome here, so only other
# exit codes (2 = usage/config error, crashes) fail the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
RUVOPT="$PWD/.venv/bin/ruvopt"
SAMPLE="$PWD/examples/sample-workspace"
PATCH="$PWD/examples/sample-change.patch"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A fixed identity and no user/system git config, so the demo runs on any machine.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="ruvopt demo" GIT_AUTHOR_EMAIL="demo@ruvopt.invalid"
export GIT_COMMITTER_NAME="ruvopt demo" GIT_COMMITTER_EMAIL="demo@ruvopt.invalid"

ruvopt() {
  local rc=0
  "$RUVOPT" "$@" --cache-dir "$tmp/cache" || rc=$?
  if ((rc > 1)); then
    echo "demo: ruvopt $* exited $rc" >&2
    exit "$rc"
  fi
  echo "(ruvopt exited $rc: $([[ $rc == 0 ]] && echo passes || echo fails) under fail-on)"
}

banner() { printf '\n\033[1m==> %s\033[0m\n\n' "$*"; }

banner "ruvopt check examples/sample-workspace"
ruvopt check "$SAMPLE"

repo="$tmp/sample-repo"
cp -R "$SAMPLE" "$repo"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" commit -q -m "sample workspace"
git -C "$repo" branch base
git -C "$repo" apply --whitespace=nowarn "$PATCH"
git -C "$repo" commit -q -a -m "router: restore the result buffer; kernels: scale_in_place; default async-runtime"

banner "the change under review (git diff --stat base HEAD)"
git -C "$repo" --no-pager diff --stat base HEAD

banner "ruvopt check <repo> --base base --head HEAD"
ruvopt check "$repo" --base base --head HEAD

banner "the summary comment the App would post (--format markdown)"
ruvopt check "$repo" --base base --head HEAD --format markdown
