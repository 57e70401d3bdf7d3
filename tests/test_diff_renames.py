"""Diff mode follows renames (``git diff -M``): a moved file does not re-report its findings
as new, nor its base findings as fixed — on real git repositories and the real rules."""

from __future__ import annotations

from pathlib import Path

from ruvopt.checks.config import Config
from ruvopt.checks.diff.mode import check_diff
from tests.plugins.workspaces import make_git_repo

MANIFEST = '[package]\nname = "demo"\nversion = "0.1.0"\n\n[features]\nfast = []\n'
RAW = "".join(
    f"pub fn read_{n}(p: *const u64) -> u64 {{\n    let x = {n};\n    unsafe {{ *p.add(x) }}\n}}\n\n" for n in range(8)
)
CONFIG = Config(select=("RO201", "RO601"))


def new_and_fixed(tmp_path: Path, head: dict[str, str | None], base: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    files: dict[str, str | None] = {"Cargo.toml": MANIFEST, "src/lib.rs": "pub mod raw;\n", "src/raw.rs": RAW}
    repo, (base_sha, head_sha) = make_git_repo(tmp_path, [{**files, **(base or {})}, head])
    result = check_diff(repo, base_sha, head_sha, config=CONFIG, filter_mode="nofilter", jobs=1)
    return result


def test_a_renamed_file_keeps_its_findings_not_new_and_not_fixed(tmp_path: Path) -> None:
    result = new_and_fixed(tmp_path, {"src/raw.rs": None, "src/kernels.rs": RAW, "src/lib.rs": "pub mod kernels;\n"})
    assert result.diff.files["src/kernels.rs"].status == "renamed"
    moved = [f for f in result.findings if f.path == "src/kernels.rs" and f.code == "RO201"]
    assert len(moved) == 8
    assert [f.new for f in moved] == [False] * 8
    assert [f for f in result.fixed if f.code == "RO201"] == []


def test_a_renamed_and_edited_file_reports_only_what_the_edit_added(tmp_path: Path) -> None:
    extra = "pub fn peek(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    result = new_and_fixed(
        tmp_path, {"src/raw.rs": None, "src/kernels.rs": RAW + extra, "src/lib.rs": "pub mod kernels;\n"}
    )
    assert result.diff.files["src/kernels.rs"].status == "renamed"
    new = [(f.code, f.path, f.start_line) for f in result.new_findings]
    assert new == [("RO201", "src/kernels.rs", 42)]
    assert result.fixed == []


def test_a_copy_under_a_new_name_is_new_while_the_original_stays(tmp_path: Path) -> None:
    # Not a rename: the old file is still there, so the copy's findings are its own.
    result = new_and_fixed(tmp_path, {"src/copy.rs": RAW, "src/lib.rs": "pub mod raw;\npub mod copy;\n"})
    assert "src/copy.rs" in result.diff.files
    assert result.diff.files["src/copy.rs"].status == "added"
    assert len([f for f in result.new_findings if f.path == "src/copy.rs"]) == 8
    assert not any(f.new for f in result.findings if f.path == "src/raw.rs")


def test_a_moved_crate_keeps_its_manifest_findings(tmp_path: Path) -> None:
    root = '[workspace]\nmembers = ["crates/*"]\n'
    base = {
        "Cargo.toml": root,
        "src/lib.rs": None,
        "src/raw.rs": None,
        "crates/old/Cargo.toml": MANIFEST,
        "crates/old/src/lib.rs": RAW,
    }
    head = {
        "crates/old/Cargo.toml": None,
        "crates/old/src/lib.rs": None,
        "crates/new/Cargo.toml": MANIFEST,
        "crates/new/src/lib.rs": RAW,
    }
    result = new_and_fixed(tmp_path, head, base)
    codes = {(f.code, f.path) for f in result.findings}
    assert ("RO601", "crates/new/Cargo.toml") in codes
    assert ("RO201", "crates/new/src/lib.rs") in codes
    assert result.new_findings == []
    assert result.fixed == []
