"""Caches above the file level follow what changed: a crate's rules re-run when something
they read changes (its files, its manifest or the workspace root's, a README, a listing),
and only then; the workspace rules when a manifest changes; the workspace model when the
set of manifests does. Every re-check is compared with a fresh analysis without a cache."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from ruvopt.checks import registry
from ruvopt.checks.base import CrateRule, WorkspaceRule
from ruvopt.checks.config import Config
from ruvopt.checks.context import CrateContext, WorkspaceContext
from ruvopt.checks.engine import check
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.source import DirectoryTree, GitTree
from tests.plugins.workspaces import make_git_repo, make_workspace

ROOT = '[workspace]\nmembers = ["crates/*"]\n\n[workspace.dependencies]\ncandle-core = "0.8"\n'


def member(name: str, default: str = "[]") -> str:
    return (
        f'[package]\nname = "{name}"\nversion = "0.1.0"\n\n[dependencies]\n'
        "candle-core = { workspace = true, optional = true }\n\n"
        f'[features]\ndefault = {default}\ncandle = ["dep:candle-core"]\nfast = []\n'
    )


FILES = {
    "Cargo.toml": ROOT,
    "README.md": "# ws\n\nThe `fast` feature skips checks.\n",
    "crates/a/Cargo.toml": member("a"),
    "crates/a/src/lib.rs": "pub mod x;\n",
    "crates/a/src/x.rs": "pub fn x() {}\n",
    "crates/b/Cargo.toml": member("b"),
    "crates/b/src/lib.rs": "//! `candle`: Candle tensors.\n",
}


class CountingCrateRule(CrateRule):
    """## What it does
    Counts its runs per crate (test rule).

    ## Why is this bad?
    It is not.

    ## Example
    ```rust
    ```

    Use instead:
    ```rust
    ```
    """

    code = "RO981"
    name = "counting-crate-rule"
    severity = Severity.INFO
    runs: ClassVar[Counter[str]] = Counter()

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        CountingCrateRule.runs[ctx.crate.name] += 1
        return iter(())


class CountingWorkspaceRule(WorkspaceRule):
    """## What it does
    Counts its runs (test rule).

    ## Why is this bad?
    It is not.

    ## Example
    ```rust
    ```

    Use instead:
    ```rust
    ```
    """

    code = "RO982"
    name = "counting-workspace-rule"
    severity = Severity.INFO
    runs: ClassVar[int] = 0

    def run(self, ctx: WorkspaceContext) -> Iterator[Finding]:
        CountingWorkspaceRule.runs += 1
        return iter(())


def summary(report) -> list[tuple[str, str, int, str]]:  # type: ignore[no-untyped-def]
    return sorted((f.code, f.path, f.start_line, f.fingerprint) for f in report.findings)


def rerun_counts(tmp_path: Path, change: dict[str, str | None]) -> tuple[Counter[str], int]:
    """Which crate-rule and workspace-rule runs a re-check after ``change`` makes."""
    repo, (base, head) = make_git_repo(tmp_path, [FILES, change])
    cache = tmp_path / "cache"
    config = Config(select=("RO981", "RO982"))
    with registry.extended(CountingCrateRule, CountingWorkspaceRule):
        check(GitTree(repo, base), config, cache_dir=cache, jobs=1)
        CountingCrateRule.runs.clear()
        CountingWorkspaceRule.runs = 0
        check(GitTree(repo, head), config, cache_dir=cache, jobs=1)
    return Counter(CountingCrateRule.runs), CountingWorkspaceRule.runs


def test_editing_one_crates_file_reruns_that_crates_rules_only(tmp_path: Path) -> None:
    crates, workspace = rerun_counts(tmp_path, {"crates/a/src/x.rs": "pub fn x() { let _ = 1; }\n"})
    assert crates == Counter({"a": 1})
    assert workspace == 0  # no manifest changed


def test_editing_a_member_manifest_reruns_that_crate_and_the_workspace_rules(tmp_path: Path) -> None:
    crates, workspace = rerun_counts(tmp_path, {"crates/b/Cargo.toml": member("b", '["fast"]')})
    assert crates == Counter({"b": 1})
    assert workspace == 1


def test_editing_the_root_manifest_reruns_every_crate(tmp_path: Path) -> None:
    crates, _ = rerun_counts(tmp_path, {"Cargo.toml": ROOT + 'tokio = "1"\n'})
    assert crates == Counter({"a": 1, "b": 1})


def test_a_readme_the_rules_read_reruns_the_crates_that_read_it(tmp_path: Path) -> None:
    # RO601 reads the root README for every crate; the counting rule reads nothing, so
    # only RO601's cached results may be invalidated: compare with a fresh analysis.
    repo, (base, head) = make_git_repo(tmp_path, [FILES, {"README.md": "# ws\n"}])
    cache = tmp_path / "cache"
    config = Config(select=("RO601",))
    before = check(GitTree(repo, base), config, cache_dir=cache, jobs=1)
    after = check(GitTree(repo, head), config, cache_dir=cache, jobs=1)
    assert ("RO601", "crates/a/Cargo.toml") not in {(f.code, f.path) for f in before.findings if "fast" in f.message}
    assert any(f.path == "crates/a/Cargo.toml" and "`fast`" in f.message for f in after.findings)
    assert summary(after) == summary(check(GitTree(repo, head), config, cache_dir=None, jobs=1))


def test_cached_results_equal_a_fresh_analysis_after_each_kind_of_change(tmp_path: Path) -> None:
    changes: list[dict[str, str | None]] = [
        {"crates/a/Cargo.toml": member("a", '["candle"]')},  # RO301 appears
        {"Cargo.toml": ROOT.replace('"0.8"', '{ version = "0.8", features = ["cuda"] }')},
        {
            "crates/a/src/new.rs": "pub fn f(p: *const u8) -> u8 { unsafe { *p } }\n",
            "crates/a/src/lib.rs": "pub mod x;\npub mod new;\n",
        },
        {"crates/b/README.md": "`fast` and `candle`\n"},  # a file the crate's rules list and read
        {"crates/c/Cargo.toml": member("c"), "crates/c/src/lib.rs": ""},  # a new member
        {"crates/b/Cargo.toml": "[package\n"},  # broken: RO001
        {"crates/b/Cargo.toml": member("b")},  # fixed again
    ]
    repo, shas = make_git_repo(tmp_path, [FILES, *changes])
    cache = tmp_path / "cache"
    for sha in shas:
        warm = check(GitTree(repo, sha), cache_dir=cache, jobs=1)
        fresh = check(GitTree(repo, sha), cache_dir=None, jobs=1)
        assert summary(warm) == summary(fresh), sha
        assert [(c.name, c.metrics.to_dict()) for c in warm.crates] == [
            (c.name, c.metrics.to_dict()) for c in fresh.crates
        ]


def test_a_directory_tree_reuses_crate_results_until_a_file_changes(tmp_path: Path) -> None:
    root = make_workspace(tmp_path, FILES)
    cache = tmp_path / "cache"
    config = Config(select=("RO981", "RO601"))
    with registry.extended(CountingCrateRule):
        CountingCrateRule.runs.clear()
        check(DirectoryTree(root), config, cache_dir=cache, jobs=1)
        check(DirectoryTree(root), config, cache_dir=cache, jobs=1)
        assert CountingCrateRule.runs == Counter({"a": 1, "b": 1})
        (root / "crates/b/README.md").write_text("`fast`\n")  # b lists its directory: a new file
        report = check(DirectoryTree(root), config, cache_dir=cache, jobs=1)
        assert CountingCrateRule.runs == Counter({"a": 1, "b": 2})
    assert summary(report) == summary(check(DirectoryTree(root), Config(select=("RO601",)), jobs=1))
