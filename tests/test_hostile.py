"""Hostile input (issue 7): each case gets a clear result — a finding, a notice, a refusal
that says why — with bounded time and memory, and nothing outside the analysed tree is
read or written. Heavy trees go through the real ``ruvopt check`` process, so the memory
bound is the whole process's peak (``ru_maxrss`` of the child).

Covered elsewhere: symlinks out of the tree and git symlinks (``tests/test_bad_input.py``),
a ``/ruvopt`` command from a fork's author without write access (``tests/test_e2e.py``,
and the chaos suite), replays with the same delivery id (``tests/test_e2e.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from ruvopt.bot.jobs.command import run_command
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue.jobs import CommandJob
from ruvopt.bot.report.plan import both, build_plan
from ruvopt.bot.report.review import github_diff
from ruvopt.bot.settings import Settings
from ruvopt.checks.config import ConfigError
from ruvopt.checks.diff.filter import parse_diff
from ruvopt.checks.diff.mode import check_diff
from tests.plugins.workspaces import make_git_repo, make_workspace
from tests.process_usage import run_check
from tests.review_support import unsafe_reads

MANIFEST = '[package]\nname = "hostile"\nversion = "0.1.0"\nedition = "2021"\n'
LIB = "//! Hostile.\n\npub fn f() {}\n"
MB = 1024 * 1024


def ruvopt_check(tree: Path) -> tuple[dict[str, Any], float, int]:
    """(JSON report, seconds, peak RSS in MB) of ``ruvopt check`` in its own process."""
    code, stdout, stderr, took, peak_mb = run_check(tree)
    assert code in (0, 1), stderr.decode()[-2000:]
    return json.loads(stdout), took, peak_mb


def codes(report: dict[str, Any]) -> list[str]:
    return sorted(f["code"] for f in report["findings"])


def test_a_100000_file_tree_is_checked_in_bounded_time_and_memory(tmp_path: Path):
    src = tmp_path / "ws" / "src"
    for d in range(100):
        (src / f"d{d}").mkdir(parents=True)
        for k in range(1000):
            (src / f"d{d}" / f"m{k}.rs").write_text(f"pub fn f{k}() -> u32 {{ {k} }}\n")
    (tmp_path / "ws" / "Cargo.toml").write_text(MANIFEST)
    (src / "lib.rs").write_text(LIB)
    report, took, peak_mb = ruvopt_check(tmp_path / "ws")
    assert report["crates"][0]["metrics"]["rs_files"] == 100_001
    assert codes(report) == []
    assert took < 180, (took, peak_mb)
    assert peak_mb < 1024, (took, peak_mb)


def test_a_50_mb_rust_file_is_skipped_with_a_notice(tmp_path: Path):
    big = "pub fn g() -> u32 { unsafe { 1 } }\n" * (50 * MB // 36)
    ws = make_workspace(tmp_path, {"Cargo.toml": MANIFEST, "src/lib.rs": LIB, "src/big.rs": big})
    report, took, peak_mb = ruvopt_check(ws)
    assert report["notices"] == [{"path": "src/big.rs", "message": "larger than 5242880 bytes; not checked"}]
    assert took < 30, (took, peak_mb)
    assert peak_mb < 512, (took, peak_mb)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("x = " + "{a = " * 10_000 + "1" + "}" * 10_000, "nested 10000 deep, over the 64 ruvopt parses"),
        ("x = [" + "1, " * 1_000_000 + "]", "over the 1048576 ruvopt parses"),
        (
            "x = [" + "1," * 300_000 + "]",
            "300000 commas (array elements, table entries), over the 200000 ruvopt parses",
        ),
    ],
    ids=["nested-inline-tables", "3-mb-array", "300k-element-array"],
)
def test_a_toml_bomb_is_an_ro001_finding_that_says_why(tmp_path: Path, extra: str, reason: str):
    ws = make_workspace(tmp_path, {"Cargo.toml": f"{MANIFEST}\n[package.metadata]\n{extra}\n", "src/lib.rs": LIB})
    report, took, peak_mb = ruvopt_check(ws)
    (finding,) = report["findings"]
    assert finding["code"] == "RO001"
    assert reason in finding["message"]
    assert finding["line"] == 1
    assert took < 30, (took, peak_mb)
    assert peak_mb < 512, (took, peak_mb)


def test_a_manifest_with_10000_features_gets_one_finding_listing_them(tmp_path: Path):
    features = "\n".join(f'f{i} = ["f{i + 1}"]' for i in range(9_999)) + '\nf9999 = []\ndefault = ["f0"]\n'
    ws = make_workspace(
        tmp_path, {"Cargo.toml": f"{MANIFEST}\n[features]\n{features}", "src/lib.rs": LIB, "README.md": "# hostile\n"}
    )
    report, took, peak_mb = ruvopt_check(ws)
    (finding,) = report["findings"]
    assert finding["code"] == "RO601"
    assert "10000 features" in finding["message"]
    assert took < 60, (took, peak_mb)
    assert peak_mb < 512, (took, peak_mb)


def test_a_50_mb_lockfile_is_not_read(tmp_path: Path):
    entry = '[[package]]\nname = "p{}"\nversion = "1.0.0"\nchecksum = "' + "0" * 64 + '"\n\n'
    lock = "".join(entry.format(i) for i in range(50 * MB // len(entry)))
    ws = make_workspace(tmp_path, {"Cargo.toml": MANIFEST, "Cargo.lock": lock, "src/lib.rs": LIB})
    report, took, peak_mb = ruvopt_check(ws)
    assert codes(report) == []
    assert report["notices"] == []
    assert took < 20, (took, peak_mb)
    assert peak_mb < 256, (took, peak_mb)


def test_a_rename_to_a_path_outside_the_tree_gets_no_comment_anywhere():
    # GitHub lists what the PR says; ruvopt comments only where its own git diff agrees,
    # and a commit can never hold "../../x.rs" (git refuses such a path).
    listing = [
        {"filename": "../../x.rs", "status": "renamed", "previous_filename": "src/a.rs", "patch": "@@ -1 +1 @@\n-a\n+b"}
    ]
    ours = parse_diff("--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1 +1 @@\n-a\n+b\n")
    assert set(github_diff(listing).files) == {"../../x.rs"}
    assert both(ours, github_diff(listing)).files == {}


def test_a_head_config_cannot_loosen_its_own_gate_or_aim_the_bench_elsewhere(tmp_path: Path):
    base = {"Cargo.toml": MANIFEST, "src/lib.rs": LIB, "ruvopt.toml": 'fail-on = "new"\n'}
    head = {
        "src/lib.rs": LIB + unsafe_reads("read", 2),
        "ruvopt.toml": 'fail-on = "never"\nignore = ["RO201"]\n[bench]\nrepository = "evil/other"\n',
    }
    repo, (base_sha, head_sha) = make_git_repo(tmp_path, [base, head])
    result = check_diff(repo, base_sha, head_sha)
    assert result.config.fail_on == "new"
    assert "RO201" not in result.config.ignore
    assert len([f for f in result.findings if f.code == "RO201" and f.new]) == 2
    assert build_plan(result).check_run.conclusion == "failure"


def test_a_base_config_pointing_the_bench_at_another_repository_is_refused(tmp_path: Path):
    base = {"Cargo.toml": MANIFEST, "src/lib.rs": LIB, "ruvopt.toml": '[bench]\nrepository = "evil/other"\n'}
    repo, (base_sha, head_sha) = make_git_repo(tmp_path, [base, {"src/lib.rs": LIB + "\n"}])
    with pytest.raises(ConfigError, match="repository"):
        check_diff(repo, base_sha, head_sha)


async def test_an_old_comment_replayed_under_a_new_delivery_id_is_not_run_again(redis_url: str):
    # The signature covers the body, not the delivery id: a captured comment replayed with
    # a fresh id passes the receiver, and the command job finds it handled already.
    redis = Redis.from_url(redis_url)
    queues = queue.make_queues(redis)
    await queue.mark_command_done(redis, "o/r", 77)
    github: Any = None  # never reached: the job stops before any GitHub call
    job = CommandJob(1, "o/r", 3, 77, "someone", "/ruvopt recheck", delivery="replayed")
    result = await run_command(Settings(), queues, github, job)
    await redis.aclose()
    assert result == {"skipped": "comment 77 was already handled"}


def test_invalid_utf8_inside_a_crate_level_allow_is_counted_not_a_crash(tmp_path: Path):
    # Found by the long fuzz run: RO104 decoded the lint names strictly and crashed the check.
    ws = make_workspace(tmp_path, {"Cargo.toml": MANIFEST, "src/lib.rs": b"#![allow(\xf5nused_imports, dead_code)]\n"})
    report, _, _ = ruvopt_check(ws)
    assert report["crates"][0]["metrics"]["crate_allow_lints"] == 2
