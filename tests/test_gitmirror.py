"""ruvopt.bot.git.mirror with real git over real smart HTTP that demands the installation token."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ruvopt.bot.queue.procs
from ruvopt.bot.git.mirror import Mirror, MirrorError, fetch
from ruvopt.checks.source import GitTree
from tests.fakegithub import FakeGitHub
from tests.githttp import GitHttpServer
from tests.plugins.workspaces import commit_files, git, make_git_repo
from tests.waiting import wait_for_async

REPO = "octo-org/widgets"
INSTALLATION = 71


@pytest.fixture
def served(fake_github: FakeGitHub, git_http_server: GitHttpServer, tmp_path: Path) -> dict[str, Any]:
    """A repository with base → head on main and an unrelated commit on another branch."""
    source, (base, head) = make_git_repo(
        tmp_path, [{"src/lib.rs": "pub fn a() {}\n"}, {"src/lib.rs": "pub fn a() {}\npub fn b() {}\n"}]
    )
    git(source, "checkout", "-q", "-b", "other")
    other = commit_files(source, {"OTHER.md": "not for review\n"}, index=5)
    fake_github.add_repo(REPO, installation_id=INSTALLATION)
    url = git_http_server.add_repo(REPO, source)
    token = fake_github.issue_token(INSTALLATION)
    return {"url": url, "token": token, "base": base, "head": head, "other": other, "cache": tmp_path / "cache"}


def has(mirror_path: Path, sha: str) -> bool:
    try:
        git(mirror_path, "cat-file", "-e", f"{sha}^{{commit}}")
    except RuntimeError:
        return False
    return True


async def test_fetch_brings_exactly_the_requested_commits(served: dict[str, Any]):
    path = await fetch(served["cache"], REPO, served["url"], served["token"], [served["base"], served["head"]])
    assert path == served["cache"] / "mirrors" / "octo-org" / "widgets.git"
    assert has(path, served["base"])
    assert has(path, served["head"])
    assert not has(path, served["other"])  # another branch's commit was not asked for
    assert GitTree(path, served["head"]).read("src/lib.rs") == b"pub fn a() {}\npub fn b() {}\n"


async def test_fetch_needs_a_valid_token(served: dict[str, Any], fake_github: FakeGitHub, git_http_server):
    fake_github.expire_tokens()
    with pytest.raises(MirrorError, match="git fetch"):
        await fetch(served["cache"], REPO, served["url"], served["token"], [served["head"]])
    assert git_http_server.requests
    assert all(r.status == 401 for r in git_http_server.requests)


async def test_warm_mirror_does_not_touch_the_network(served: dict[str, Any], git_http_server: GitHttpServer):
    shas = [served["base"], served["head"]]
    await fetch(served["cache"], REPO, served["url"], served["token"], shas)
    seen = len(git_http_server.requests)
    await fetch(served["cache"], REPO, served["url"], "token-not-even-valid", shas)
    assert len(git_http_server.requests) == seen


async def test_token_is_in_no_argv_config_or_file(served: dict[str, Any], monkeypatch: pytest.MonkeyPatch):
    spawned: list[tuple[tuple[str, ...], dict[str, str]]] = []
    real = asyncio.create_subprocess_exec

    async def spy(*argv: str, **kwargs: Any) -> Any:
        spawned.append((argv, dict(kwargs.get("env") or {})))
        return await real(*argv, **kwargs)

    monkeypatch.setattr(ruvopt.bot.queue.procs.asyncio, "create_subprocess_exec", spy)
    token = served["token"]
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    path = await fetch(served["cache"], REPO, served["url"], token, [served["head"]])
    fetches = [env for argv, env in spawned if "fetch" in argv]
    assert fetches
    assert basic in fetches[0]["GIT_CONFIG_VALUE_0"]
    assert all(token not in arg and basic not in arg for argv, _ in spawned for arg in argv)
    for file in path.parent.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert token.encode() not in data, file
            assert basic.encode() not in data, file


async def test_concurrent_fetches_wait_for_the_mirror_lock(served: dict[str, Any], git_http_server: GitHttpServer):
    mirror = Mirror.for_repo(served["cache"], REPO)
    async with mirror.locked():
        task = asyncio.create_task(mirror.fetch(served["url"], served["token"], [served["head"]]))
        # The fetch has opened the lock file too: it is at the flock, which we hold.
        await wait_for_async(lambda: lock_holders(mirror.lock_path) == 2, 10, "the fetch to reach the mirror lock")
        assert not task.done()
        assert git_http_server.requests == []
    other = Mirror.for_repo(served["cache"], REPO)
    await asyncio.gather(task, other.fetch(served["url"], served["token"], [served["base"], served["head"]]))
    git(mirror.path, "fsck", "--no-progress")
    assert has(mirror.path, served["head"])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers: a fetch hangs until killed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hang/forever.git"
    sock.close()


def lock_holders(path: Path) -> int:
    """How many descriptors of this process have ``path`` open."""
    target = str(path.resolve())
    return sum(1 for fd in Path("/proc/self/fd").iterdir() if _link(fd) == target)


def _link(fd: Path) -> str | None:
    try:
        return str(fd.readlink())
    except OSError:  # closed between listing and reading
        return None


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_cancelling_a_fetch_kills_git_and_its_children(silent_server: str, tmp_path: Path):
    mirror = Mirror.for_repo(tmp_path, REPO)
    task = asyncio.create_task(mirror.fetch(silent_server, "t", ["1" * 40]))
    await wait_for_async(lambda: len(processes_mentioning(silent_server)) >= 2, 10, "git fetch and git-remote-http")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_async(lambda: processes_mentioning(silent_server) == [], 5, "git and its helper to be gone")


@pytest.mark.parametrize("name", ["../escape", "octo/../x", "octo/.git", "octo", "octo/a b"])
def test_unsafe_repository_names_are_refused(name: str, tmp_path: Path):
    with pytest.raises(MirrorError):
        Mirror.for_repo(tmp_path, name)


async def test_abbreviated_shas_are_refused(tmp_path: Path):
    with pytest.raises(MirrorError, match="full commit id"):
        await Mirror.for_repo(tmp_path, REPO).fetch("http://127.0.0.1:9/x.git", "t", ["abc123"])
