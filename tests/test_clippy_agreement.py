"""ruvopt's SAFETY verdicts against real ``cargo clippy`` 0.1.95, built offline.

Two kinds of material: the placement crate ``tests/fixtures/clippy-placement`` (every
comment placement we could think of, written for this comparison) and real crates from
Debian's ``/usr/share/cargo/registry`` that nobody here wrote. Each is linted under
clippy's default options and with each option off (``clippy.toml``), and ruvopt runs with
the same options. The blocks compared are those rustc compiled (``unsafe_code`` lists
them), by file, line and column of the ``unsafe`` keyword. These tests never skip: no
cargo means failure.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests import clippy_support as cs

pytestmark = pytest.mark.clippy

FIXTURES = Path(__file__).parent / "fixtures"
PLACEMENT = FIXTURES / "clippy-placement"
# Real crates with many unsafe blocks and impls that build offline and quickly, all in
# scripts/corpus-packages.txt (the newest installed version of each is used). lock_api and
# parking_lot_core document most of theirs.
REAL_CRATES = ("lock_api", "parking_lot_core", "spin", "hashbrown", "bytemuck", "crossbeam-utils", "memchr")
SETTINGS = tuple(cs.OPTION_SETTINGS)
Runs = dict[str, tuple[cs.ClippyRun, cs.RuvoptRun]]


def both_runs(crate: Path, target: str) -> Runs:
    runs: Runs = {}
    for label, options in cs.OPTION_SETTINGS.items():
        runs[label] = (cs.run_clippy(crate, target, options), cs.ruvopt_run(crate, options))
    return runs


@pytest.fixture(scope="module")
def placement(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Runs]:
    crate = cs.copy_fixture_crate(PLACEMENT, tmp_path_factory.mktemp("placement"))
    return crate, both_runs(crate, "clippy-placement")


@pytest.fixture(scope="module")
def real_crates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Runs]]:
    found = {}
    for name in REAL_CRATES:
        crate = cs.copy_registry_crate(cs.registry_crate(name), tmp_path_factory.mktemp("registry"))
        found[name] = (crate, both_runs(crate, name))
    return found


def assert_agreement(crate: Path, clippy: cs.ClippyRun, ruvopt: cs.RuvoptRun, label: str) -> None:
    rows = cs.compare(clippy.blocks, clippy.undocumented, ruvopt.blocks, ruvopt.reported, crate)
    rows += cs.compare(clippy.impls, clippy.undocumented, ruvopt.impls, ruvopt.reported, crate)
    compiled = len(clippy.blocks) + len(clippy.impls)
    agreed = compiled - len(rows)
    assert rows == [], f"{crate.name} [{label}]: {agreed}/{compiled} agree\n" + cs.disagreement_table(rows)


def test_cargo_and_clippy_are_installed() -> None:
    assert shutil.which("cargo") is not None, "cargo is required for the clippy comparison"
    assert cs.REGISTRY.is_dir(), "Debian's crate registry is missing: run scripts/install-test-deps.sh"


def test_placement_crate_has_at_least_fifty_cases_of_both_outcomes(placement: tuple[Path, Runs]) -> None:
    _, runs = placement
    clippy, _ = runs["default"]
    compiled = clippy.blocks | clippy.impls
    assert len(compiled) >= 50
    assert 0 < len(clippy.undocumented & compiled) < len(compiled)


def test_each_option_changes_clippys_verdicts_on_the_placement_crate(placement: tuple[Path, Runs]) -> None:
    # Proves clippy.toml reached clippy: otherwise the per-option comparisons prove nothing.
    _, runs = placement
    flagged = {label: runs[label][0].undocumented for label in SETTINGS}
    assert flagged["default"] < flagged["statement-off"]
    assert flagged["default"] < flagged["attributes-off"]
    assert flagged["statement-off"] | flagged["attributes-off"] <= flagged["both-off"]


@pytest.mark.parametrize("label", SETTINGS)
def test_placement_verdicts_match_clippy(placement: tuple[Path, Runs], label: str) -> None:
    crate, runs = placement
    clippy, ruvopt = runs[label]
    assert_agreement(crate, clippy, ruvopt, label)


def test_placement_missing_safety_doc_matches_clippy(placement: tuple[Path, Runs]) -> None:
    _, runs = placement
    clippy, ruvopt = runs["default"]
    assert len(clippy.missing_doc) >= 15
    assert sorted(ruvopt.missing_doc) == sorted(clippy.missing_doc)


@pytest.mark.parametrize("name", REAL_CRATES)
def test_real_crate_verdicts_match_clippy_under_every_option_setting(
    real_crates: dict[str, tuple[Path, Runs]], name: str
) -> None:
    crate, runs = real_crates[name]
    for label in SETTINGS:
        clippy, ruvopt = runs[label]
        assert len(clippy.blocks) + len(clippy.impls) >= 10, f"{name} compiled too few unsafe blocks to compare"
        assert_agreement(crate, clippy, ruvopt, label)
        print(
            f"{name} [{label}]: {len(clippy.blocks)} blocks, {len(clippy.impls)} impls, "
            f"{len(clippy.undocumented)} flagged by clippy — all agree"
        )


def test_real_crates_missing_safety_doc_matches_clippy(real_crates: dict[str, tuple[Path, Runs]]) -> None:
    differences = {}
    for name, (_, runs) in real_crates.items():
        clippy, ruvopt = runs["default"]
        if clippy.missing_doc != ruvopt.missing_doc:
            differences[name] = sorted(clippy.missing_doc ^ ruvopt.missing_doc)
    assert differences == {}


MARKER = re.compile(r"//\s*(RO\d{3}|OK)\b")


@pytest.mark.parametrize("code", ["RO201", "RO202", "RO203"])
def test_rule_fixture_markers_are_what_clippy_says(tmp_path: Path, code: str) -> None:
    """The fixture crates' `// RO20x` / `// OK` markers, checked against clippy itself."""
    crate = cs.copy_fixture_crate(FIXTURES / "rules" / code / "crate", tmp_path)
    run = cs.run_clippy(crate, f"fixture-{code.lower()}", {})
    flagged = {(path, line) for path, line, _ in (run.missing_doc if code == "RO203" else run.undocumented)}
    wrong = []
    for source in sorted(crate.rglob("*.rs")):
        relative = source.relative_to(crate).as_posix()
        lines = source.read_text().split("\n")
        for number, line in enumerate(lines, start=1):
            marker = MARKER.search(line)
            # `// ruvopt: allow(…)` silences ruvopt only: clippy still reports there.
            if marker is None or "ruvopt: allow" in lines[number - 2]:
                continue
            if (marker.group(1) == code) != ((relative, number) in flagged):
                wrong.append(f"{relative}:{number}: marked {marker.group(1)}: {line.strip()}")
    assert wrong == []
    assert flagged
