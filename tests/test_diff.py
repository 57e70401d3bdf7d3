"""Diff mode: the parsed diff, reviewdog's filter modes, new/unchanged/fixed findings by
fingerprint, base config, and manifest re-anchoring — on real git repositories.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ruvopt.checks.diff.filter import Diff, FileDiff, filter_findings, git_diff, reanchor_manifest_finding
from ruvopt.checks.diff.mode import check_diff
from ruvopt.checks.model import Edit, Finding, Severity
from ruvopt.checks.source import GitError
from tests.plugins.workspaces import commit_files, git, make_git_repo
from tests.toy_rules import TOY_CONFIG, use_toy_rules

__all__ = ["use_toy_rules"]  # the fixture is used by name

TEN = "".join(f"line {n}\n" for n in range(1, 11))
CRATE = {
    "Cargo.toml": '[package]\nname = "demo"\nversion = "0.1.0"\n',
    "ruvopt.toml": TOY_CONFIG,
}


def finding(path: str, line: int, end_line: int | None = None, *, new: bool | None = True) -> Finding:
    return Finding(
        code="RO991",
        rule="perf-todo",
        severity=Severity.ERROR,
        path=path,
        start_line=line,
        start_col=1,
        end_line=end_line or line,
        end_col=2,
        message="m",
        fingerprint=f"{path}:{line}",
        new=new,
    )


# -- parsing --------------------------------------------------------------------------


def test_parse_maps_added_lines_context_lines_and_hunks(tmp_path: Path) -> None:
    changed = TEN.replace("line 5\n", "line five\n") + "line 11\n"
    repo, (base, head) = make_git_repo(tmp_path, [{"a.txt": TEN}, {"a.txt": changed}])
    fd = git_diff(repo, base, head).files["a.txt"]
    assert fd.status == "modified"
    assert fd.added == {5, 11}
    # three lines of context around each change, merged into one hunk
    assert fd.context == {2, 3, 4, 6, 7, 8, 9, 10}
    assert fd.hunks == ((2, 11),)
    assert fd.commentable == set(range(2, 12))


def test_parse_reports_added_deleted_renamed_and_binary_files(tmp_path: Path) -> None:
    body = "".join(f"fn f{n}() {{}}\n" for n in range(20))
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {"old.rs": body, "gone.rs": "x\n", "keep.rs": "a\n"},
            {
                "old.rs": None,
                "new.rs": body + "fn g() {}\n",
                "gone.rs": None,
                "fresh.rs": "y\nz\n",
                "blob.bin": b"\x00\x01\x02",
            },
        ],
    )
    files = git_diff(repo, base, head).files
    assert files["new.rs"].status == "renamed"
    assert files["new.rs"].old_path == "old.rs"
    assert files["new.rs"].added == {21}
    assert files["gone.rs"].status == "deleted"
    assert files["gone.rs"].commentable == set()
    assert files["fresh.rs"].status == "added"
    assert files["fresh.rs"].old_path is None
    assert files["fresh.rs"].added == {1, 2}
    assert files["blob.bin"].binary
    assert "keep.rs" not in files


def test_parse_keeps_paths_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {"dir with space/ünï.rs": "a\n"},
            {"dir with space/ünï.rs": "a\nb\n"},
        ],
    )
    assert git_diff(repo, base, head).files["dir with space/ünï.rs"].added == {2}


def test_deletion_only_change_points_at_the_line_after_it(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(tmp_path, [{"a.txt": TEN}, {"a.txt": TEN.replace("line 5\n", "")}])
    fd = git_diff(repo, base, head).files["a.txt"]
    assert fd.added == set()
    assert fd.deletion_points == {5}  # old line 6 is new line 5
    assert fd.changed_points() == [5]
    assert 5 in fd.commentable


# -- filter modes -----------------------------------------------------------------------

DIFF = Diff(
    {
        "src/a.rs": FileDiff(
            "src/a.rs",
            "src/a.rs",
            "modified",
            added=frozenset({10}),
            context=frozenset({7, 8, 9, 11, 12, 13}),
            hunks=((7, 13),),
        ),
        "src/gone.rs": FileDiff("src/gone.rs", "src/gone.rs", "deleted"),
    }
)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("added", ["src/a.rs:10", "src/a.rs:2"]),
        ("diff_context", ["src/a.rs:10", "src/a.rs:12", "src/a.rs:2"]),
        ("file", ["src/a.rs:10", "src/a.rs:12", "src/a.rs:40", "src/a.rs:2"]),
        ("nofilter", ["src/a.rs:10", "src/a.rs:12", "src/a.rs:40", "src/a.rs:2", "src/b.rs:10"]),
    ],
)
def test_filter_modes_follow_reviewdog(mode: str, expected: list[str]) -> None:
    findings = [
        finding("src/a.rs", 10),  # on an added line
        finding("src/a.rs", 12),  # on a context line
        finding("src/a.rs", 40),  # in the file, outside every hunk
        finding("src/a.rs", 2, 10),  # starts outside, spans the added line
        finding("src/b.rs", 10),  # a file the diff does not touch
    ]
    kept = filter_findings(findings, DIFF, mode)
    assert [f.fingerprint for f in kept] == expected


def test_comment_line_is_the_first_added_line_of_the_range() -> None:
    assert DIFF.comment_line(finding("src/a.rs", 2, 12)) == 10
    assert DIFF.comment_line(finding("src/a.rs", 12)) == 12
    assert DIFF.comment_line(finding("src/a.rs", 40)) is None
    assert DIFF.comment_line(finding("src/b.rs", 1)) is None


def test_unknown_filter_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="filter mode"):
        filter_findings([], DIFF, "everything")


# -- manifest re-anchoring ------------------------------------------------------------------

MANIFEST_DIFF = Diff(
    {
        "Cargo.toml": FileDiff(
            "Cargo.toml",
            "Cargo.toml",
            "modified",
            added=frozenset({9, 14}),
            context=frozenset({6, 7, 8, 10, 11, 12, 13, 15}),
            hunks=((6, 15),),
        ),
    }
)


def test_new_manifest_finding_moves_to_the_nearest_changed_line() -> None:
    original = replace(finding("Cargo.toml", 3), suggestion=Edit("Cargo.toml", 3, 3, "x"))
    moved = reanchor_manifest_finding(original, MANIFEST_DIFF, "added")
    assert moved is not None
    assert (moved.start_line, moved.end_line) == (9, 9)
    assert "found at line 3" in moved.message
    assert moved.suggestion is None  # a suggestion block would edit line 9
    assert filter_findings([original], MANIFEST_DIFF, "added")[0].start_line == 9


def test_manifest_finding_that_is_not_new_is_not_moved() -> None:
    assert reanchor_manifest_finding(finding("Cargo.toml", 3, new=False), MANIFEST_DIFF, "added") is None
    assert filter_findings([finding("Cargo.toml", 3, new=False)], MANIFEST_DIFF, "added") == []


def test_only_manifest_findings_are_moved() -> None:
    diff = Diff({"src/lib.rs": FileDiff("src/lib.rs", "src/lib.rs", "modified", added=frozenset({9}))})
    assert reanchor_manifest_finding(finding("src/lib.rs", 3), diff, "added") is None


# -- check_diff on real repositories --------------------------------------------------------


def lib(*bodies: str) -> str:
    return "".join(f"fn f{i}() {{\n    {body}\n}}\n" for i, body in enumerate(bodies))


@pytest.mark.usefixtures("use_toy_rules")
def test_finding_added_by_head_is_new_and_existing_one_is_not(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {**CRATE, "src/lib.rs": lib('perf_todo!("old");', "let x = 1;")},
            {"src/lib.rs": lib('perf_todo!("old");', 'perf_todo!("new");')},
        ],
    )
    result = check_diff(repo, base, head, jobs=1)
    assert [(f.start_line, f.new) for f in result.findings] == [(2, False), (5, True)]
    assert [(f.start_line, f.new) for f in result.report.findings] == [(5, True)]
    assert [f.start_line for f in result.new_findings] == [5]
    assert result.fixed == []


@pytest.mark.usefixtures("use_toy_rules")
def test_moved_finding_is_not_new(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {**CRATE, "src/lib.rs": lib('perf_todo!("old");')},
            {"src/lib.rs": "// a new comment\n\n" + lib('perf_todo!("old");').replace("    perf", "        perf")},
        ],
    )
    result = check_diff(repo, base, head, filter_mode="nofilter", jobs=1)
    assert [(f.start_line, f.new) for f in result.findings] == [(4, False)]
    assert result.fixed == []


@pytest.mark.usefixtures("use_toy_rules")
def test_removed_finding_is_fixed(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {**CRATE, "src/lib.rs": lib('perf_todo!("a");', 'perf_todo!("b");')},
            {"src/lib.rs": lib('perf_todo!("a");', "let done = 1;")},
        ],
    )
    result = check_diff(repo, base, head, jobs=1)
    assert [(f.path, f.start_line) for f in result.fixed] == [("src/lib.rs", 5)]
    assert result.findings[0].new is False


@pytest.mark.usefixtures("use_toy_rules")
def test_config_comes_from_base_even_when_head_changes_it(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {**CRATE, "src/lib.rs": lib("let a = 1;")},
            {"ruvopt.toml": 'select = ["RO99"]\nignore = ["RO991"]\n', "src/lib.rs": lib('perf_todo!("sneaky");')},
        ],
    )
    result = check_diff(repo, base, head, jobs=1)
    assert [(f.code, f.new) for f in result.report.findings] == [("RO991", True)]
    assert result.config.ignore == ()


@pytest.mark.usefixtures("use_toy_rules")
def test_head_config_that_does_not_parse_is_ignored(tmp_path: Path) -> None:
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {**CRATE, "src/lib.rs": lib("let a = 1;")},
            {"ruvopt.toml": "select = [broken", "src/lib.rs": lib('perf_todo!("x");')},
        ],
    )
    assert len(check_diff(repo, base, head, jobs=1).report.findings) == 1


@pytest.mark.usefixtures("use_toy_rules")
def test_filter_modes_on_a_real_diff(tmp_path: Path) -> None:
    far = "\n".join(f"// filler {n}" for n in range(20))
    before = lib('perf_todo!("near");', "let a = 1;") + far + "\n" + lib('perf_todo!("far");')
    after = lib('perf_todo!("near");', 'perf_todo!("added");') + far + "\n" + lib('perf_todo!("far");')
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {**CRATE, "src/lib.rs": before, "src/other.rs": lib('perf_todo!("elsewhere");')},
            {"src/lib.rs": after},
        ],
    )
    counts = {
        mode: len(check_diff(repo, base, head, filter_mode=mode, jobs=1).report.findings)
        for mode in ("added", "diff_context", "file", "nofilter")
    }
    # added: the new call; diff_context: + "near" 3 lines above it; file: + "far"; nofilter: + other.rs
    assert counts == {"added": 1, "diff_context": 2, "file": 3, "nofilter": 4}


@pytest.mark.usefixtures("use_toy_rules")
def test_manifest_change_that_creates_a_finding_is_reported_on_the_changed_line(tmp_path: Path) -> None:
    manifest = (
        '[package]\nname = "demo"\nversion = "0.1.0"\n\n[features]\ndefault = ["gpu"]\ngpu = []\n\n'
        '[dependencies]\ncandle-core = { version = "0.8", optional = true }\n'
    )
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {**CRATE, "Cargo.toml": manifest, "src/lib.rs": lib("let a = 1;")},
            {"Cargo.toml": manifest.replace("gpu = []", 'gpu = ["dep:candle-core"]')},
        ],
    )
    result = check_diff(repo, base, head, jobs=1)
    [everywhere] = result.findings
    assert (everywhere.code, everywhere.start_line, everywhere.new) == ("RO992", 6, True)
    [shown] = result.report.findings
    assert (shown.path, shown.start_line) == ("Cargo.toml", 7)  # the `gpu = [...]` line
    assert shown.end_col == len('gpu = ["dep:candle-core"]') + 1
    assert result.diff.is_commentable("Cargo.toml", shown.start_line)


@pytest.mark.usefixtures("use_toy_rules")
def test_crates_are_matched_by_name_and_added_crates_have_no_base_metrics(tmp_path: Path) -> None:
    ws = '[workspace]\nmembers = ["crates/*"]\n'
    repo, (base, head) = make_git_repo(
        tmp_path,
        [
            {
                "Cargo.toml": ws,
                "ruvopt.toml": TOY_CONFIG,
                "crates/a/Cargo.toml": '[package]\nname = "a"\n',
                "crates/a/src/lib.rs": "fn a() {}\n",
            },
            {
                "crates/a/src/lib.rs": "fn a() {}\nfn b() {}\n",
                "crates/b/Cargo.toml": '[package]\nname = "b"\n',
                "crates/b/src/lib.rs": "fn b() {}\n",
            },
        ],
    )
    crates = {c.name: c for c in check_diff(repo, base, head, jobs=1).report.crates}
    assert crates["a"].base_metrics is not None
    assert (crates["a"].base_metrics["root_lines"], crates["a"].metrics["root_lines"]) == (1, 2)
    assert crates["b"].base_metrics is None


@pytest.mark.usefixtures("use_toy_rules")
def test_findings_are_compared_with_the_merge_base(tmp_path: Path) -> None:
    repo, (fork,) = make_git_repo(tmp_path, [{**CRATE, "src/lib.rs": lib('perf_todo!("a");')}])
    git(repo, "checkout", "-q", "-b", "feature")
    head = commit_files(repo, {"src/feature.rs": "fn f() {}\n"}, index=1)
    git(repo, "checkout", "-q", "main")
    main = commit_files(repo, {"src/lib.rs": lib("let fixed = 1;")}, index=2)
    result = check_diff(repo, main, head, jobs=1)
    assert result.merge_base == fork
    assert result.fixed == []  # main's fix is not this branch's doing
    assert set(result.diff.files) == {"src/feature.rs"}


def test_bad_ref_and_not_a_repository_raise_git_errors(tmp_path: Path) -> None:
    repo, _ = make_git_repo(tmp_path, [CRATE])
    with pytest.raises(GitError):
        check_diff(repo, "no-such-ref")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError):
        check_diff(plain, "HEAD~1")
