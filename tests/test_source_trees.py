"""Source trees: a directory and a git commit give the same view of the same files.

The App analyses commits (``GitTree``: ``git ls-tree`` + one ``git cat-file --batch``),
the CLI analyses directories (``DirectoryTree``); both must list the same paths, return
the same bytes and key the cache with the same blob ids (git's own), so a finding or a
cache entry means the same thing whichever way the code came in.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ruvopt.checks.manifest.workspace import load_workspace
from ruvopt.checks.source import DirectoryTree, GitError, GitTree, SourceTree, git_blob_id, open_tree
from tests.plugins.workspaces import Files, Submodule, Symlink, commit_files, git, make_git_repo, make_workspace

FILES: Files = {
    "Cargo.toml": '[package]\nname = "t"\nversion = "0.1.0"\n',
    "src/lib.rs": "pub mod a;\n",
    "src/a.rs": "pub fn a() {}",  # no final newline
    "src/empty.rs": "",
    "src/crlf.rs": b"fn f() {}\r\n",
    "src/latin1.rs": b"// caf\xe9\n",
    "src/with space é.rs": "// a name with a space and a non-ASCII letter\n",
    "docs/big.txt": "x" * 300_000 + "\n",  # larger than a pipe buffer
    "target/debug/build.rs": "// build output: skipped\n",
    "node_modules/pkg/index.rs": "// vendored JS tooling: skipped\n",
}


def both(tmp_path: Path, files: Files) -> tuple[DirectoryTree, GitTree]:
    directory = DirectoryTree(make_workspace(tmp_path, files))
    repo, shas = make_git_repo(tmp_path, [files])
    return directory, GitTree(repo, shas[-1])


def content(tree: SourceTree) -> dict[str, bytes]:
    return dict(tree.read_many(sorted(tree.entries())))


def test_directory_and_commit_list_the_same_paths(tmp_path: Path) -> None:
    directory, commit = both(tmp_path, FILES)
    expected = sorted(p for p in FILES if not p.startswith(("target/", "node_modules/")))
    assert sorted(directory.entries()) == expected
    assert sorted(commit.entries()) == expected


def test_directory_and_commit_return_the_same_bytes(tmp_path: Path) -> None:
    directory, commit = both(tmp_path, FILES)
    assert content(directory) == content(commit)
    assert content(commit)["src/latin1.rs"] == b"// caf\xe9\n"
    assert content(commit)["docs/big.txt"] == b"x" * 300_000 + b"\n"


def test_sizes_are_byte_lengths(tmp_path: Path) -> None:
    directory, commit = both(tmp_path, FILES)
    for tree in (directory, commit):
        data = content(tree)
        assert tree.sizes(sorted(tree.entries())) == {p: len(b) for p, b in data.items()}


def test_a_commit_is_listed_without_sizes(tmp_path: Path) -> None:
    """Sizing every blob (`ls-tree --long`) would make a blobless clone fetch them all."""
    _, commit = both(tmp_path, FILES)
    assert {e.size for e in commit.entries().values()} == {None}


def test_blob_ids_are_gits_own_on_both_trees(tmp_path: Path) -> None:
    directory, commit = both(tmp_path, FILES)
    for path in ("src/a.rs", "src/empty.rs", "src/latin1.rs"):
        file = directory.root / path
        hashed = subprocess.run(["git", "hash-object", str(file)], capture_output=True, text=True, check=True)
        assert directory.blob_id(path) == commit.blob_id(path) == hashed.stdout.strip()
        assert git_blob_id(file.read_bytes()) == hashed.stdout.strip()


def test_read_text_replaces_invalid_utf8(tmp_path: Path) -> None:
    directory, commit = both(tmp_path, FILES)
    assert directory.read_text("src/latin1.rs") == commit.read_text("src/latin1.rs") == "// caf\ufffd\n"


def test_reading_an_absent_path_raises_file_not_found(tmp_path: Path) -> None:
    directory, commit = both(tmp_path, FILES)
    for tree in (directory, commit):
        assert not tree.exists("src/missing.rs")
        with pytest.raises(FileNotFoundError):
            tree.read("src/missing.rs")
        with pytest.raises(FileNotFoundError):
            tree.read("target/debug/build.rs")  # present on disk/in git, but not part of the tree


def test_a_commit_is_read_as_it_was_not_as_the_work_tree_is(tmp_path: Path) -> None:
    repo, (first, second) = make_git_repo(tmp_path, [{"a.rs": "one\n"}, {"a.rs": "two\n", "b.rs": "new\n"}])
    (repo / "a.rs").write_text("uncommitted\n")
    old, new = GitTree(repo, first), GitTree(repo, second)
    assert old.read("a.rs") == b"one\n"
    assert not old.exists("b.rs")
    assert new.read("a.rs") == b"two\n"
    assert new.read("b.rs") == b"new\n"
    assert DirectoryTree(repo).read("a.rs") == b"uncommitted\n"


def test_commits_are_named_by_branch_tag_or_short_sha(tmp_path: Path) -> None:
    repo, (first, second) = make_git_repo(tmp_path, [{"a.rs": "1\n"}, {"a.rs": "2\n"}])
    git(repo, "tag", "v1", first)
    assert GitTree(repo, "main").commit == second
    assert GitTree(repo, "v1").commit == first
    assert GitTree(repo, first[:10]).commit == first
    assert GitTree(repo, "HEAD~1").commit == first
    with pytest.raises(GitError):
        GitTree(repo, "no-such-branch")


def test_open_tree_picks_git_for_a_revision_and_the_directory_otherwise(tmp_path: Path) -> None:
    repo, (sha,) = make_git_repo(tmp_path, [{"a.rs": "1\n"}])
    assert isinstance(open_tree(repo, sha), GitTree)
    assert isinstance(open_tree(repo, None), DirectoryTree)


def test_commit_skips_symlinks_and_submodules(tmp_path: Path) -> None:
    files: Files = {
        "a.rs": "real\n",
        "link.rs": Symlink("a.rs"),
        "out.rs": Symlink("/etc/passwd"),
        "vendor/dep": Submodule("3" * 40),
    }
    repo, (sha,) = make_git_repo(tmp_path, [files])
    listing = git(repo, "ls-tree", "-r", sha)
    assert "120000" in listing
    assert "160000" in listing
    assert sorted(GitTree(repo, sha).entries()) == ["a.rs"]


def test_directory_follows_links_inside_the_root_only(tmp_path: Path) -> None:
    (tmp_path / "secret.rs").write_text("outside\n")
    root = make_workspace(
        tmp_path,
        {
            "a.rs": "real\n",
            "link.rs": Symlink("a.rs"),
            "out.rs": Symlink(str(tmp_path / "secret.rs")),
            "sub/up.rs": Symlink("../../secret.rs"),
            "dirlink": Symlink(str(tmp_path)),
            "loop1.rs": Symlink("loop2.rs"),
            "loop2.rs": Symlink("loop1.rs"),
        },
    )
    tree = DirectoryTree(root)
    assert sorted(tree.entries()) == ["a.rs", "link.rs"]
    assert tree.read("link.rs") == b"real\n"


def test_concurrent_reads_from_one_commit_get_their_own_bytes(tmp_path: Path) -> None:
    files: Files = {f"f{i}.rs": f"// file {i}\n" * (i + 1) for i in range(64)}
    repo, (sha,) = make_git_repo(tmp_path, [files])
    tree = GitTree(repo, sha)
    with ThreadPoolExecutor(8) as pool:
        read = dict(zip(files, pool.map(tree.read, list(files)), strict=True))
    assert read == {p: str(t).encode() for p, t in files.items()}


def test_a_closed_commit_tree_reopens_its_reader(tmp_path: Path) -> None:
    repo, (sha,) = make_git_repo(tmp_path, [{"a.rs": "1\n", "b.rs": "2\n"}])
    tree = GitTree(repo, sha)
    assert tree.read("a.rs") == b"1\n"
    tree.close()
    assert tree.read("b.rs") == b"2\n"
    tree.close()


def test_later_commits_apply_on_top_of_earlier_ones(tmp_path: Path) -> None:
    repo, shas = make_git_repo(tmp_path, [{"a.rs": "1\n", "b.rs": "b\n"}, {"a.rs": None, "c.rs": "c\n"}])
    assert sorted(GitTree(repo, shas[1]).entries()) == ["b.rs", "c.rs"]
    third = commit_files(repo, {"b.rs": "changed\n"}, index=2)
    assert GitTree(repo, third).read("b.rs") == b"changed\n"


def test_builders_give_reproducible_commit_ids(tmp_path: Path) -> None:
    _, first = make_git_repo(tmp_path, [{"a.rs": "1\n"}, {"b.rs": "2\n"}])
    _, again = make_git_repo(tmp_path, [{"a.rs": "1\n"}, {"b.rs": "2\n"}])
    assert first == again


# Crate roots, as Cargo's target auto-discovery finds them.

MANIFEST = '[package]\nname = "tool"\nversion = "0.1.0"\nedition = "2021"\n'


def roots(tmp_path: Path, files: Files) -> tuple[str | None, list[str]]:
    directory, commit = both(tmp_path, files)
    found = []
    for tree in (directory, commit):
        crate = load_workspace(tree).crates[0]
        found.append((crate.lib_root, crate.bin_roots))
    assert found[0] == found[1]
    return found[0]


def test_bins_are_discovered_in_src_bin(tmp_path: Path) -> None:
    files: Files = {
        "Cargo.toml": MANIFEST,
        "src/lib.rs": "",
        "src/main.rs": "",
        "src/bin/a.rs": "",
        "src/bin/b/main.rs": "",
        "src/bin/b/helper.rs": "",  # a module of bin `b`, not a bin
        "src/bin/nested/deeper/x.rs": "",
    }
    assert roots(tmp_path, files) == ("src/lib.rs", ["src/main.rs", "src/bin/a.rs", "src/bin/b/main.rs"])


def test_explicit_bins_come_first_and_are_not_repeated(tmp_path: Path) -> None:
    manifest = MANIFEST + '[[bin]]\nname = "x"\npath = "tools/x.rs"\n[[bin]]\nname = "a"\n'
    files: Files = {"Cargo.toml": manifest, "tools/x.rs": "", "src/main.rs": "", "src/bin/a.rs": ""}
    assert roots(tmp_path, files) == (None, ["tools/x.rs", "src/bin/a.rs", "src/main.rs"])


def test_autobins_false_keeps_only_declared_bins(tmp_path: Path) -> None:
    manifest = MANIFEST.replace('edition = "2021"\n', 'edition = "2021"\nautobins = false\n')
    manifest += '[[bin]]\nname = "x"\npath = "tools/x.rs"\n'
    files: Files = {"Cargo.toml": manifest, "tools/x.rs": "", "src/main.rs": "", "src/bin/a.rs": ""}
    assert roots(tmp_path, files) == (None, ["tools/x.rs"])


def test_bins_of_a_member_crate_are_found_under_its_directory(tmp_path: Path) -> None:
    files: Files = {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "crates/tool/Cargo.toml": MANIFEST,
        "crates/tool/src/bin/run.rs": "",
        "crates/tool/src/lib.rs": "",
    }
    assert roots(tmp_path, files) == ("crates/tool/src/lib.rs", ["crates/tool/src/bin/run.rs"])
