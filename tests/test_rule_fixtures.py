"""Each rule's fixture crate: markers say where findings must and must not appear, and a
snapshot of the rendered findings is the one place to look when a verdict changes.

Markers are trailing comments: ``// RO201`` (``# RO301`` in TOML) on a line where that
rule must report, ``// OK`` (``# OK``) on a line where no rule may report.
Set RUVOPT_UPDATE_SNAPSHOTS=1 to rewrite snapshots after checking the diff by eye.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ruvopt.checks.config import Config
from ruvopt.checks.engine import check
from ruvopt.checks.registry import all_rules, load_config
from ruvopt.checks.render import finding_line
from ruvopt.checks.source import DirectoryTree

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
MARKER = re.compile(r"(?://|#)\s*(RO\d{3}|OK)\b")
CODES = [rule.code for rule in all_rules()]


def expected_markers(root: Path, code: str) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    must, must_not = set(), set()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in (".rs", ".toml", ".md"):
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(errors="replace").split("\n"), start=1):
            for match in MARKER.finditer(line):
                if match.group(1) == code:
                    must.add((rel, number))
                elif match.group(1) == "OK":
                    must_not.add((rel, number))
    return must, must_not


def fixture_config(root: Path, code: str) -> Config:
    """The fixture's own ruvopt.toml (for options), narrowed to the rule under test."""
    base = load_config(DirectoryTree(root))
    return Config(
        select=(code,),
        ignore=(),
        fail_on=base.fail_on,
        crates=base.crates,
        rules=base.rules,
        bench=base.bench,
        max_file_bytes=base.max_file_bytes,
        source=base.source,
    )


@pytest.mark.parametrize("code", CODES)
def test_rule_reports_exactly_on_marked_lines(code: str) -> None:
    root = FIXTURES / code / "crate"
    report = check(DirectoryTree(root), fixture_config(root, code), jobs=1)
    found = {(f.path, f.start_line) for f in report.findings if f.code == code}
    must, must_not = expected_markers(root, code)
    assert must, f"fixture for {code} marks no line where it must report"
    assert must_not, f"fixture for {code} marks no line where it must stay quiet"
    assert sorted(must - found) == [], "marked lines without a finding"
    assert sorted(found - must) == [], "findings on lines not marked for this rule"
    assert sorted(found & must_not) == []


@pytest.mark.parametrize("code", CODES)
def test_rule_snapshot_matches(code: str) -> None:
    root = FIXTURES / code / "crate"
    report = check(DirectoryTree(root), fixture_config(root, code), jobs=1)
    rendered = "".join(
        finding_line(f) + (f"\n    fix: {f.fix_title}" if f.fix_title else "") + "\n"
        for f in sorted(report.findings, key=lambda f: (f.path, f.start_line, f.start_col))
    )
    snapshot = FIXTURES / code / "snapshot.txt"
    if os.environ.get("RUVOPT_UPDATE_SNAPSHOTS"):
        snapshot.write_text(rendered)
    assert snapshot.exists(), f"missing {snapshot}; run with RUVOPT_UPDATE_SNAPSHOTS=1 and review it"
    assert rendered == snapshot.read_text()
