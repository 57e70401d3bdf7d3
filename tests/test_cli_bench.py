"""``ruvopt bench PATH --base REF --head REF`` as a user runs it: a real process, real git,
cargo and bwrap; what it prints and its exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.bench_support import cargo_home, plain_crate
from tests.plugins.workspaces import make_git_repo

ROOT = Path(__file__).resolve().parent.parent
PADDED = "".join(f"pub fn pad{i}(x: u64) -> u64 {{ x.rotate_left({i % 63}) ^ {i} }}\n" for i in range(200))


def ruvopt_bench(tmp_path: Path, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARGO_HOME": str(cargo_home(tmp_path))}
    return subprocess.run(
        [sys.executable, "-m", "ruvopt.cli.main", "bench", str(repo), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_bigger_head_prints_the_regression_as_json_and_exits_1(tmp_path):
    repo, (base, head) = make_git_repo(tmp_path, [plain_crate(), {"src/lib.rs": plain_crate()["src/lib.rs"] + PADDED}])
    done = ruvopt_bench(tmp_path, repo, "--base", base, "--head", head, "--runs", "2", "--format", "json", "-q")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert (report["base_sha"], report["head_sha"], report["conclusion"], report["runs"]) == (base, head, "failure", 2)
    [rlib] = [m for m in report["metrics"] if m["id"] == "size/release/probe.rlib"]
    assert rlib["outcome"] == "regression"
    assert rlib["change"] > 0.5
    assert len(rlib["base"]) == len(rlib["head"]) == 2


def test_an_unchanged_crate_prints_the_table_and_exits_0(tmp_path):
    repo, _ = make_git_repo(tmp_path, [plain_crate(), {"README.md": "# probe\n"}])
    done = ruvopt_bench(tmp_path, repo, "--base", "HEAD~1", "--runs", "1", "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("✅ No regression (max-regression 2.0%, 1 run per side)")
    assert "Binary size" in done.stdout
    assert "probe rlib (release)" in done.stdout


def test_a_ref_that_is_not_a_commit_is_a_usage_error(tmp_path):
    repo, _ = make_git_repo(tmp_path, [plain_crate()])
    done = ruvopt_bench(tmp_path, repo, "--base", "no-such-branch", "-q")
    assert done.returncode == 2
    assert "`no-such-branch` is not a commit" in done.stderr


def test_a_head_that_does_not_build_is_reported_and_exits_3(tmp_path):
    broken = {"src/lib.rs": 'pub fn answer() -> u32 {\n    "forty-two"\n}\n'}
    repo, _ = make_git_repo(tmp_path, [plain_crate(), broken])
    done = ruvopt_bench(tmp_path, repo, "--base", "HEAD~1", "--runs", "1", "--format", "markdown", "-q")
    assert done.returncode == 3
    assert "⚠️ **Not measured**: On head" in done.stdout
    assert "mismatched types" in done.stdout
    assert done.stderr.startswith("ruvopt bench: On head")
