"""Hostile or odd input never crashes a check and never leaks outside the analysed tree.

Every case goes through ``ruvopt.checks.engine.check``, on a directory and on a git commit
(``GitTree``), because the App reads commits and the CLI reads directories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ruvopt.checks.config import Config
from ruvopt.checks.engine import PARALLEL_THRESHOLD, check
from ruvopt.checks.model import Report
from ruvopt.checks.source import DEFAULT_MAX_FILE_BYTES, DirectoryTree, GitTree, SourceTree
from tests.plugins.workspaces import Files, Submodule, Symlink, make_git_repo, make_workspace

MANIFEST = '[package]\nname = "bad"\nversion = "0.1.0"\nedition = "2021"\n'
# A method that RO503 flags wherever it is: proof that a file was analysed.
FLAGGED = """\
pub struct S {
    buf: Vec<u8>,
}

impl S {
    pub fn out(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}
"""
Build = Callable[[Path, Files], SourceTree]


def directory(tmp_path: Path, files: Files) -> SourceTree:
    return DirectoryTree(make_workspace(tmp_path, files))


def git_commit(tmp_path: Path, files: Files) -> SourceTree:
    repo, shas = make_git_repo(tmp_path, [files])
    return GitTree(repo, shas[-1])


@pytest.fixture(params=[directory, git_commit], ids=["directory", "git"])
def build(request: pytest.FixtureRequest) -> Build:
    return request.param  # type: ignore[no-any-return]


def run(tree: SourceTree, config: Config | None = None, jobs: int = 1) -> Report:
    return check(tree, config or Config(), jobs=jobs)


def crate(files: Files) -> dict[str, str | bytes | Symlink | Submodule | None]:
    return {"Cargo.toml": MANIFEST, **files}


def flagged_paths(report: Report, code: str = "RO503") -> set[str]:
    return {f.path for f in report.findings if f.code == code}


def test_invalid_utf8_is_replaced_and_still_counted(build: Build, tmp_path: Path) -> None:
    latin1 = b"// caf\xe9 cr\xe8me\n\xff\xfe\x00garbage\n" + FLAGGED.encode()
    tree = build(tmp_path, crate({"src/lib.rs": "pub mod latin;\n", "src/latin.rs": latin1}))
    report = run(tree)
    metrics = report.crates[0].metrics
    assert metrics["rs_files"] == 2
    assert metrics["rs_lines"] == 1 + latin1.count(b"\n")
    assert flagged_paths(report) == {"src/latin.rs"}  # still parsed and checked


@pytest.mark.parametrize("big", ["src/generated.rs", "src/lib.rs"])
def test_a_file_over_the_size_cap_is_skipped_with_a_notice(build: Build, tmp_path: Path, big: str) -> None:
    cap = 4096
    huge = ("pub const X: u8 = 0;\n" * 400).encode()  # 8.4 kB, over the cap
    files = {"src/lib.rs": "pub mod generated;\npub mod ok;\n", "src/generated.rs": FLAGGED, "src/ok.rs": FLAGGED}
    files[big] = huge + (FLAGGED.encode() if big != "src/lib.rs" else b"pub mod generated;\npub mod ok;\n")
    report = run(build(tmp_path, crate(files)), Config(max_file_bytes=cap))
    assert [n.path for n in report.notices] == [big]
    assert "larger than 4096 bytes" in report.notices[0].message
    assert big not in flagged_paths(report)
    assert flagged_paths(report, "RO102") == set()  # not even a crate rule reads it (400 lines)
    assert "src/ok.rs" in flagged_paths(report)  # the rest of the crate is still checked
    assert report.crates[0].metrics["rs_lines"] == sum(
        (v if isinstance(v, bytes) else v.encode()).count(b"\n") for k, v in files.items() if k.endswith(".rs")
    )


def test_the_default_cap_is_five_megabytes(build: Build, tmp_path: Path) -> None:
    assert Config().max_file_bytes == DEFAULT_MAX_FILE_BYTES == 5 * 1024 * 1024
    just_over = b"//" + b"x" * (DEFAULT_MAX_FILE_BYTES - 2) + b"\n"  # one byte over
    files = crate({"src/lib.rs": "pub mod blob;\npub mod ok;\n", "src/blob.rs": just_over, "src/ok.rs": FLAGGED})
    report = run(build(tmp_path, files))
    assert [n.path for n in report.notices] == ["src/blob.rs"]
    assert flagged_paths(report) == {"src/ok.rs"}


def test_syntax_errors_in_one_file_do_not_stop_other_files_or_rules(build: Build, tmp_path: Path) -> None:
    broken = "fn broken( {\n    let = ;\n    impl impl for\n}}}\n" + FLAGGED + "\n#[[[\n"
    files = crate({"src/lib.rs": "pub mod broken;\npub mod fine;\n", "src/broken.rs": broken, "src/fine.rs": FLAGGED})
    config = Config(rules={"RO101": {"max-lines": 5}})
    report = run(build(tmp_path, files), config)
    assert flagged_paths(report) == {"src/broken.rs", "src/fine.rs"}  # error recovery keeps the good part
    assert flagged_paths(report, "RO101") == {"src/broken.rs", "src/fine.rs"}
    assert report.crates[0].metrics["rs_lines"] == 2 + broken.count("\n") + FLAGGED.count("\n")


def deep_sources(depth: int) -> dict[str, str]:
    """Files nested ``depth`` levels deep in the ways Rust code can nest."""
    blocks = "// ruvopt: hot\npub fn blocks() {\n" + "{" * depth + "let _ = Vec::<u8>::new();" + "}" * depth + "\n}\n"
    calls = "// ruvopt: hot\npub fn calls() -> Box<u8> {\n" + "Box::new(" * depth + "0" + ")" * depth + "\n}\n"
    parens = "pub fn parens() -> i32 {\n" + "(" * depth + "1" + ")" * depth + "\n}\n"
    mods = "pub mod m {\n" * depth + FLAGGED + "}\n" * depth
    closures = "// ruvopt: hot\npub fn closures() {\n let _f = " + "|| " * depth + "std::time::Instant::now();\n}\n"
    macros = "pub fn macros() -> Vec<u8> {\n" + "vec![" * depth + "]" * depth + "\n}\n"
    return {"blocks": blocks, "calls": calls, "parens": parens, "mods": mods, "closures": closures, "macros": macros}


# Takes ~2 s; the limit turns a quadratic walk (`Node.parent` is O(depth) in tree-sitter)
# into a failure with a stack naming the culprit instead of a ten-minute stall.
@pytest.mark.timeout(120)
@pytest.mark.parametrize("jobs", [1, 2])
def test_ten_thousand_deep_nesting_raises_no_recursion_error(build: Build, tmp_path: Path, jobs: int) -> None:
    deep = deep_sources(10_000)
    # Enough files that jobs=2 really goes through the process pool.
    fillers = {f"src/filler{i}.rs": f"pub fn f{i}() {{}}\n" for i in range(PARALLEL_THRESHOLD)}
    files = {f"src/{name}.rs": text for name, text in deep.items()} | fillers
    files["src/lib.rs"] = "".join(f"pub mod {Path(p).stem};\n" for p in files)
    report = run(build(tmp_path, crate(files)), jobs=jobs)
    assert report.crates[0].metrics["rs_files"] == len(files)
    assert flagged_paths(report) == {"src/mods.rs"}  # a method 10,000 modules down is found
    assert "src/calls.rs" in flagged_paths(report, "RO501")
    assert "src/closures.rs" in flagged_paths(report, "RO502")


def test_empty_and_crlf_only_files_are_counted(build: Build, tmp_path: Path) -> None:
    files = crate(
        {
            "src/lib.rs": "pub mod empty;\npub mod crlf;\npub mod cr;\n",
            "src/empty.rs": b"",
            "src/crlf.rs": b"\r\n" * 7,
            "src/cr.rs": b"\r\r\r",  # old Mac line ends: no newline byte, wc -l says 0
            "src/weird.rs/inner.rs": FLAGGED,  # a directory whose name ends in .rs
        }
    )
    report = run(build(tmp_path, files))
    metrics = report.crates[0].metrics
    assert metrics["rs_files"] == 5
    assert metrics["rs_lines"] == 3 + 0 + 7 + 0 + FLAGGED.count("\n")
    assert flagged_paths(report) == {"src/weird.rs/inner.rs"}


def test_symlinks_out_of_the_root_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.rs").write_text(FLAGGED + "\n" * 1000)
    (outside / "pkg").mkdir()
    (outside / "pkg" / "lib.rs").write_text(FLAGGED)
    files = crate(
        {
            "src/lib.rs": "pub mod inside;\n",
            "src/inside.rs": "pub fn f() {}\n",
            "src/leak.rs": Symlink(str(outside / "secret.rs")),  # absolute, out of the root
            "src/up.rs": Symlink("../../outside/secret.rs"),  # relative, out of the root
            "src/dir": Symlink(str(outside / "pkg")),  # a directory out of the root
            "src/loop_a.rs": Symlink("loop_b.rs"),  # a loop
            "src/loop_b.rs": Symlink("loop_a.rs"),
            "src/self": Symlink("."),  # a directory loop
            "src/dangling.rs": Symlink("nowhere.rs"),
        }
    )
    report = run(DirectoryTree(make_workspace(tmp_path, files)))
    assert report.crates[0].metrics["rs_files"] == 2
    assert report.crates[0].metrics["rs_lines"] == 2
    assert report.findings == []


def test_symlinks_inside_the_root_are_read_once_as_themselves(tmp_path: Path) -> None:
    files = crate({"src/lib.rs": "pub mod real;\n", "src/real.rs": FLAGGED, "src/alias.rs": Symlink("real.rs")})
    report = run(DirectoryTree(make_workspace(tmp_path, files)))
    assert report.crates[0].metrics["rs_files"] == 3
    assert flagged_paths(report) == {"src/real.rs", "src/alias.rs"}


def test_git_symlinks_and_submodules_are_skipped(tmp_path: Path) -> None:
    files = crate(
        {
            "src/lib.rs": "pub mod inside;\n",
            "src/inside.rs": "pub fn f() {}\n",
            "src/leak.rs": Symlink("/etc/passwd"),
            "src/alias.rs": Symlink("inside.rs"),  # even inside the tree: a link blob holds a path, not code
            "src/loop_a.rs": Symlink("loop_b.rs"),
            "src/loop_b.rs": Symlink("loop_a.rs"),
            "vendor/dep": Submodule("1" * 40),
            "src/sub.rs": Submodule("2" * 40),
        }
    )
    report = run(git_commit(tmp_path, files))
    assert report.crates[0].metrics["rs_files"] == 2
    assert report.crates[0].metrics["rs_lines"] == 2
    assert report.findings == []


def test_a_cap_below_every_file_skips_them_all_and_still_reports_the_crate(build: Build, tmp_path: Path) -> None:
    # A cap of one byte skips every file: the crate is still reported, with notices.
    files = crate({"src/lib.rs": FLAGGED})
    report = run(build(tmp_path, files), replace(Config(), max_file_bytes=1))
    assert [n.path for n in report.notices] == ["src/lib.rs"]
    assert report.crates[0].metrics["root_lines"] == FLAGGED.count("\n")
    assert report.findings == []
