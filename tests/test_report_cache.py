"""The per-commit report cache: a commit's whole report is reused only when nothing that
decides it (commit, ruleset, config) is the same — and it is exactly the report a fresh
analysis gives."""

from __future__ import annotations

from pathlib import Path

from ruvopt.checks.config import Config
from ruvopt.checks.engine import check
from ruvopt.checks.source import GitTree
from tests.plugins.workspaces import make_git_repo

MANIFEST = '[package]\nname = "c"\nversion = "0.1.0"\nedition = "2021"\n'
LONG = "".join(f"// line {i}\n" for i in range(700))
UNSAFE = "pub fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
DOCUMENTED = "pub fn f(p: *const u8) -> u8 {\n    // SAFETY: callers pass a valid pointer.\n    unsafe { *p }\n}\n"


def repo_with_findings(tmp_path: Path) -> tuple[Path, list[str]]:
    return make_git_repo(
        tmp_path,
        [
            {
                "Cargo.toml": MANIFEST,
                "src/lib.rs": "pub mod long;\npub mod raw;\n",
                "src/long.rs": LONG,
                "src/raw.rs": UNSAFE,
            },
            {"src/raw.rs": DOCUMENTED},
        ],
    )


def as_data(report):  # type: ignore[no-untyped-def]
    return report.to_cache()


def test_a_cached_commit_report_equals_a_fresh_analysis(tmp_path: Path) -> None:
    repo, (first, _) = repo_with_findings(tmp_path)
    cache = tmp_path / "cache"
    fresh = check(GitTree(repo, first), cache_dir=None)
    check(GitTree(repo, first), cache_dir=cache)
    reread = check(GitTree(repo, first), cache_dir=cache)
    assert {f.code for f in fresh.findings} >= {"RO101", "RO201"}
    assert as_data(reread) == as_data(fresh)


def test_another_config_or_commit_is_not_served_from_the_cache(tmp_path: Path) -> None:
    repo, (first, second) = repo_with_findings(tmp_path)
    cache = tmp_path / "cache"
    check(GitTree(repo, first), cache_dir=cache)
    narrowed = check(GitTree(repo, first), Config(select=("RO101",)), cache_dir=cache)
    assert {f.code for f in narrowed.findings} == {"RO101"}
    other = check(GitTree(repo, second), cache_dir=cache)
    assert "RO201" not in {f.code for f in other.findings}  # the second commit documents the block
    assert as_data(other) == as_data(check(GitTree(repo, second), cache_dir=None))
