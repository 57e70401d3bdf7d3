"""Fingerprints identify a finding by what it is, not where it is.

A finding that only moved (lines inserted above, code re-indented or re-wrapped) keeps
its fingerprint, so the App does not post it again; identical findings in one file get
different fingerprints; changing the flagged code gives a new one.
"""

from __future__ import annotations

from pathlib import Path

from ruvopt.checks.config import Config
from ruvopt.checks.engine import check
from ruvopt.checks.model import Finding
from ruvopt.checks.source import DirectoryTree
from tests.plugins.workspaces import make_workspace

MANIFEST = '[package]\nname = "fp"\nversion = "0.1.0"\nedition = "2021"\n'
ROUTER = """\
pub struct Router {
    buf: Vec<usize>,
}

impl Router {
    pub fn select(&mut self) -> Vec<usize> {
        self.buf.push(1);
        std::mem::take(&mut self.buf)
    }
}
"""
HOT = """\
// ruvopt: hot
pub fn score(values: &[f32]) -> usize {
    let doubled: Vec<f32> = values.iter().map(|v| v * 2.0).collect();
    doubled.len()
}
"""


def findings(tmp_path: Path, source: str, code: str) -> list[Finding]:
    root = make_workspace(tmp_path, {"Cargo.toml": MANIFEST, "src/lib.rs": source})
    report = check(DirectoryTree(root), Config(select=(code,)), jobs=1)
    return sorted((f for f in report.findings if f.code == code), key=lambda f: f.start_line)


def fingerprints(tmp_path: Path, source: str, code: str) -> list[str]:
    return [f.fingerprint for f in findings(tmp_path, source, code)]


def test_fingerprint_survives_lines_inserted_above(tmp_path: Path) -> None:
    before = findings(tmp_path, ROUTER, "RO503")
    after = findings(tmp_path, "//! Docs.\n\nuse std::fmt;\n\n" + ROUTER, "RO503")
    assert len(before) == len(after) == 1
    assert after[0].start_line == before[0].start_line + 4  # it did move
    assert after[0].fingerprint == before[0].fingerprint


def test_fingerprint_survives_reindentation(tmp_path: Path) -> None:
    reindented = "\n".join(
        ("\t" * (len(line) - len(line.lstrip(" "))) + line.lstrip(" ")) if line else line for line in ROUTER.split("\n")
    )
    assert reindented != ROUTER
    before = fingerprints(tmp_path, ROUTER, "RO503")
    assert len(before) == 1
    assert fingerprints(tmp_path, reindented, "RO503") == before


def test_fingerprint_survives_rewrapping_a_method_chain(tmp_path: Path) -> None:
    rewrapped = HOT.replace(
        "values.iter().map(|v| v * 2.0).collect();",
        "values\n        .iter()\n        .map(|v| v * 2.0)\n        .collect();",
    )
    before = fingerprints(tmp_path, HOT, "RO501")
    assert len(before) == 1
    assert fingerprints(tmp_path, rewrapped, "RO501") == before


def test_identical_findings_in_one_file_get_different_fingerprints(tmp_path: Path) -> None:
    twice = ROUTER.replace(
        "        std::mem::take(&mut self.buf)\n",
        "        let _first = std::mem::take(&mut self.buf);\n        std::mem::take(&mut self.buf)\n",
    )
    found = fingerprints(tmp_path, twice, "RO503")
    assert len(found) == 2
    assert found[0] != found[1]


def test_identical_findings_keep_their_fingerprints_when_moved_together(tmp_path: Path) -> None:
    twice = ROUTER.replace(
        "        std::mem::take(&mut self.buf)\n",
        "        let _first = std::mem::take(&mut self.buf);\n        std::mem::take(&mut self.buf)\n",
    )
    assert fingerprints(tmp_path, "\n\n\n" + twice, "RO503") == fingerprints(tmp_path, twice, "RO503")


def test_a_changed_node_changes_the_fingerprint(tmp_path: Path) -> None:
    changed = ROUTER.replace("buf", "scratch")
    before = fingerprints(tmp_path, ROUTER, "RO503")
    after = fingerprints(tmp_path, changed, "RO503")
    assert len(before) == len(after) == 1
    assert after != before


def test_the_same_finding_in_another_file_has_another_fingerprint(tmp_path: Path) -> None:
    root = make_workspace(
        tmp_path,
        {
            "Cargo.toml": MANIFEST,
            "src/lib.rs": "pub mod a;\npub mod b;\n",
            "src/a.rs": ROUTER,
            "src/b.rs": ROUTER,
        },
    )
    report = check(DirectoryTree(root), Config(select=("RO503",)), jobs=1)
    assert len(report.findings) == 2
    assert report.findings[0].fingerprint != report.findings[1].fingerprint


def test_line_findings_keep_their_fingerprint_when_the_file_grows(tmp_path: Path) -> None:
    # RO102 anchors on the crate root itself, not on whichever line is past the limit.
    long_root = "pub fn f() {}\n" * 301
    before = fingerprints(tmp_path, long_root, "RO102")
    after = fingerprints(tmp_path, "// a new first line\n" + long_root, "RO102")
    assert len(before) == 1
    assert after == before
