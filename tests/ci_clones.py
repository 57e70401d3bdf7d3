"""A repository served over real git smart HTTP, and the clones CI makes of it.

History (``main`` and a pull request branch ``pr`` forked at ``fork``)::

    fork ── m1 ── m2            main: m1 adds an undocumented unsafe block to src/b.rs
       └─── p1 ── p2            pr:   p1 adds one to src/a.rs; p2 edits README and an asset
    merge = p2 merged into m2   (GitHub's refs/pull/1/merge)

Every commit also holds 16 binary assets that no rule reads; main and the PR each change
some, so a clone that fetched them would show it in the server's object count.
``ruvopt.toml`` says ``fail-on = "any"``, so a reported finding fails the check.

Clones are made the way CI makes them: ``checkout_like`` is what ``actions/checkout``
does by default (``git init``, a persisted ``AUTHORIZATION`` header in ``.git/config``,
``git fetch --depth=1 origin +<sha>:<ref>``, a detached checkout), ``blobless`` is
``git clone --filter=blob:none --no-checkout``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.githttp import GitHttpServer
from tests.plugins.workspaces import GIT_ENV, commit_files, git, make_git_repo

TOKEN = "ci-clone-token"
ASSETS = 16
RS_FILES = 12
UNSAFE = "pub fn peek(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"


def asset(n: int, version: int = 0) -> bytes:
    seed = hashlib.sha256(f"asset {n} v{version}".encode()).digest()
    return seed * 128  # 4 KiB


def rs(n: int) -> str:
    return f"pub fn f{n}(x: u32) -> u32 {{\n    x + {n}\n}}\n"


FORK = {
    "Cargo.toml": '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n',
    "ruvopt.toml": 'fail-on = "any"\n',
    "README.md": "# demo\n",
    "docs/guide.txt": "not a file any rule reads\n",
    "src/lib.rs": "pub mod a;\npub mod b;\n" + "".join(f"pub mod m{n};\n" for n in range(RS_FILES)),
    "src/a.rs": "pub fn a() {}\n",
    "src/b.rs": "pub fn b() {}\n",
    **{f"src/m{n}.rs": rs(n) for n in range(RS_FILES)},
    **{f"assets/data{n:02}.bin": asset(n) for n in range(ASSETS)},
}


@dataclass
class History:
    source: Path
    url: str
    server: GitHttpServer
    fork: str
    m1: str
    m2: str
    p1: str
    p2: str
    merge: str


def auth_header(token: str = TOKEN) -> str:
    return "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def client_env(**extra: str) -> dict[str, str]:
    """A git environment with no user or system config (the test's own git runs)."""
    return {**os.environ, **GIT_ENV, **extra}


def git_with_token(cwd: Path, *args: str) -> str:
    """git in ``cwd`` sending the token (from the environment, as checkout does in memory)."""
    env = client_env(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraheader", GIT_CONFIG_VALUE_0=auth_header())
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout.strip()


def build_history(tmp_path: Path, server: GitHttpServer, *, name: str = "octo/demo") -> History:
    source, (fork,) = make_git_repo(tmp_path, [FORK], name="source")
    git(source, "checkout", "-q", "-b", "pr")
    p1 = commit_files(source, {"src/a.rs": "pub fn a() {}\n" + UNSAFE}, index=1)
    p2 = commit_files(source, {"README.md": "# demo\n\nNow with peek.\n", "assets/data02.bin": asset(2, 1)}, index=2)
    git(source, "checkout", "-q", "main")
    m1 = commit_files(source, {"src/b.rs": "pub fn b() {}\n" + UNSAFE, "assets/data00.bin": asset(0, 1)}, index=3)
    m2 = commit_files(source, {"assets/data01.bin": asset(1, 1)}, index=4)
    git(source, "checkout", "-q", "--detach", "main")
    git(source, "merge", "-q", "--no-ff", "-m", "Merge p2 into m2", "pr", timestamp=1_700_001_000)
    merge = git(source, "rev-parse", "HEAD")
    git(source, "update-ref", "refs/pull/1/merge", merge)
    git(source, "checkout", "-q", "main")
    url = server.add_repo(name, source)
    git(source, "push", "-q", str(server.root / f"{name}.git"), "refs/pull/1/merge:refs/pull/1/merge")
    return History(source, url, server, fork, m1, m2, p1, p2, merge)


def checkout_like(
    parent: Path, history: History, sha: str, ref: str, *, persist_credentials: bool = True, name: str = "checkout"
) -> Path:
    """What ``actions/checkout`` (fetch-depth 1) leaves: ``sha`` alone, checked out, detached."""
    clone = parent / name
    clone.mkdir()
    git(clone, "init", "-q")
    git(clone, "remote", "add", "origin", history.url)
    git_with_token(
        clone, "fetch", "-q", "--no-tags", "--prune", "--no-recurse-submodules", "--depth=1", "origin", f"+{sha}:{ref}"
    )
    git(clone, "checkout", "-q", "--force", ref)
    if persist_credentials:
        git(clone, "config", "--local", f"http.{history.server.url}/.extraheader", auth_header())
    return clone


def blobless(parent: Path, history: History, *, name: str = "blobless", spec: str = "blob:none") -> Path:
    """``git clone --filter=blob:none --no-checkout`` (``spec="tree:0"``: treeless)."""
    clone = parent / name
    git_with_token(parent, "clone", "-q", f"--filter={spec}", "--no-checkout", history.url, str(clone))
    git(clone, "config", "--local", f"http.{history.server.url}/.extraheader", auth_header())
    git_with_token(clone, "fetch", "-q", "origin", "+refs/heads/pr:refs/remotes/origin/pr")
    return clone


def full_clone(parent: Path, history: History, *, name: str = "full", loose: bool = False) -> Path:
    """A complete clone (objects loose with ``loose``, so single ones can be deleted)."""
    clone = parent / name
    git_with_token(parent, "clone", "-q", history.url, str(clone))
    git_with_token(clone, "fetch", "-q", "origin", "+refs/heads/pr:refs/remotes/origin/pr")
    if loose:  # explode the packs: git unpack-objects skips objects its repository has
        packs = parent / f"{name}-packs"
        (clone / ".git" / "objects" / "pack").rename(packs)
        (clone / ".git" / "objects" / "pack").mkdir()
        for pack in sorted(packs.glob("*.pack")):
            with pack.open("rb") as stream:
                subprocess.run(
                    ["git", "-C", str(clone), "unpack-objects", "-q"], stdin=stream, env=client_env(), check=True
                )
    return clone


def delete_loose_object(clone: Path, oid: str) -> None:
    path = clone / ".git" / "objects" / oid[:2] / oid[2:]
    assert path.is_file(), f"{oid} is not a loose object of {clone}"
    path.chmod(0o644)
    path.unlink()


def blob_of(repo: Path, commit: str, path: str) -> str:
    return git(repo, "rev-parse", f"{commit}:{path}")


def missing_objects(clone: Path, *commits: str) -> set[str]:
    """Objects reachable from ``commits`` the clone lacks (rev-list --missing never fetches)."""
    out = git(clone, "rev-list", "--objects", "--missing=print", *commits)
    return {line[1:] for line in out.splitlines() if line.startswith("?")}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def ruvopt(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """The real CLI in a child process (as CI runs it), with no user git config."""
    proc = subprocess.run(
        [sys.executable, "-m", "ruvopt.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**client_env(), **(env or {})},
        timeout=300,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
