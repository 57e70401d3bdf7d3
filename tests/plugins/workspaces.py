"""pytest plugin: workspace and git repository builders.

Tests describe a tree as ``{relative path: content}`` and get a real directory or a real
git repository (real ``git`` with a fixed author, committer, dates and no user config,
so commit ids are reproducible on every machine).

Content values:

- ``str`` is written as UTF-8, byte for byte (no newline translation);
- ``bytes`` is written as is (for invalid UTF-8, ``\\r\\n`` endings…);
- ``Symlink("target")`` makes a symbolic link (recorded as mode 120000 by git);
- ``Submodule("<sha>")`` (git only) records a gitlink entry (mode 160000);
- ``None`` (git only, in a later commit) deletes the path.

Signatures are stable; other tests import them::

    from tests.plugins.workspaces import make_git_repo, make_workspace
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest


@dataclass(frozen=True)
class Symlink:
    target: str


@dataclass(frozen=True)
class Submodule:
    commit: str  # 40 hex digits; the commit need not exist anywhere


Content = str | bytes | Symlink | Submodule | None
Files = Mapping[str, Content]

# A fixed identity and clock: the same commits give the same shas on every machine.
GIT_ENV: dict[str, str] = {
    "GIT_AUTHOR_NAME": "ruvopt tests",
    "GIT_AUTHOR_EMAIL": "tests@ruvopt.invalid",
    "GIT_COMMITTER_NAME": "ruvopt tests",
    "GIT_COMMITTER_EMAIL": "tests@ruvopt.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}
BASE_TIMESTAMP = 1_700_000_000  # 2023-11-14; each commit is one minute later


def git(repo: Path, *args: str, timestamp: int = BASE_TIMESTAMP) -> str:
    """Run real git in ``repo`` with the fixed test identity; return stdout (stripped)."""
    date = f"@{timestamp} +0000"
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    proc = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _fresh_dir(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name-2``, ``name-3``… so one test can build several trees."""
    candidate, n = parent / name, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{name}-{n}"
    candidate.mkdir(parents=True)
    return candidate


def _checked(rel: str) -> PurePosixPath:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"workspace paths must be relative and stay inside the root: {rel!r}")
    return path


def write_files(root: Path, files: Files) -> None:
    """Write ``files`` under ``root`` (creating directories); ``None`` removes a path."""
    for rel, content in files.items():
        target = root / _checked(rel)
        if content is None or isinstance(content, Submodule):
            if target.is_symlink() or target.is_file():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_file():
            target.unlink()
        if isinstance(content, Symlink):
            os.symlink(content.target, target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_bytes(content.encode("utf-8"))


def make_workspace(tmp_path: Path, files: Files, *, name: str = "ws") -> Path:
    """A directory under ``tmp_path`` holding ``files``; returns its path."""
    root = _fresh_dir(tmp_path, name)
    for rel, content in files.items():
        if content is None or isinstance(content, Submodule):
            raise ValueError(f"{rel!r}: None/Submodule only make sense in git commits")
    write_files(root, files)
    return root


def commit_files(repo: Path, files: Files, *, message: str | None = None, index: int = 0) -> str:
    """Apply ``files`` on top of the work tree of ``repo``, commit, return the commit sha.

    ``index`` orders the fixed commit dates (one minute apart) so history is reproducible.
    """
    write_files(repo, files)
    timestamp = BASE_TIMESTAMP + 60 * index
    for rel, content in files.items():
        if content is None:
            git(repo, "rm", "-q", "--cached", "--ignore-unmatch", "-r", "--", rel)
        elif isinstance(content, Submodule):
            git(repo, "update-index", "--add", "--cacheinfo", f"160000,{content.commit},{rel}")
        else:
            git(repo, "add", "-f", "--", rel)
    git(repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", message or f"commit {index}", timestamp=timestamp)
    return git(repo, "rev-parse", "HEAD")


def make_git_repo(
    tmp_path: Path, commits: Sequence[Files], *, messages: Sequence[str] | None = None, name: str = "repo"
) -> tuple[Path, list[str]]:
    """A git repository (branch ``main``) with one commit per entry of ``commits``.

    Each entry lists changes on top of the previous commit (``None`` deletes a path).
    Returns the repository path and the commit shas, oldest first.
    """
    repo = _fresh_dir(tmp_path, name)
    git(repo, "init", "-q", "-b", "main")
    shas = []
    for index, files in enumerate(commits):
        message = messages[index] if messages else None
        shas.append(commit_files(repo, files, message=message, index=index))
    return repo, shas


@pytest.fixture
def workspace_builder(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``workspace_builder(files)``: ``make_workspace`` bound to this test's ``tmp_path``."""

    def build(files: Files, *, name: str = "ws") -> Path:
        return make_workspace(tmp_path, files, name=name)

    return build


@pytest.fixture
def git_repo_builder(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``git_repo_builder(commits)``: ``make_git_repo`` bound to this test's ``tmp_path``."""

    def build(commits: Sequence[Files], **kwargs: object) -> tuple[Path, list[str]]:
        return make_git_repo(tmp_path, commits, **kwargs)  # type: ignore[arg-type]

    return build
