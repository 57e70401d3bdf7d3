"""What the review-job, end-to-end and reliability tests share.

- :func:`install_list_for_ref`: ``GET /repos/{o}/{r}/commits/{ref}/check-runs``
  (``checks/list-for-ref``) for the FakeGitHub, which does not implement it yet. It is
  registered through the fake's own handler table, so the request and the reply are
  validated against GitHub's OpenAPI description like every other operation; if the
  fake gains its own handler, that one is kept.
- :class:`PullWorld`: a real git repository served over smart HTTP (token required),
  and the pull request on the FakeGitHub whose files come from ``git diff`` of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruvopt.bot.queue.jobs import ReviewJob
from tests.fakegithub import FakeGitHub, git_diff, render
from tests.fakegithub import checks as fake_checks
from tests.fakegithub.core import HANDLERS, Call, Reply
from tests.githttp import GitHttpServer
from tests.plugins.workspaces import Files, commit_files, make_git_repo

REPO = "octo-org/engine"
INSTALLATION = 4321
PR = 7

CRATE = {
    "Cargo.toml": '[package]\nname = "engine"\nversion = "0.1.0"\nedition = "2021"\n',
    "README.md": "# engine\n",
    "src/lib.rs": "//! Engine.\n\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n",
}


def unsafe_reads(name: str, count: int, *, documented: bool = False) -> str:
    """A function with ``count`` one-line ``unsafe`` reads: one RO201 finding each."""
    lines = [f"pub fn {name}(p: *const u8) -> u32 {{", "    let mut total = 0u32;"]
    for i in range(count):
        if documented:
            lines.append("    // SAFETY: the caller passes a valid pointer.")
        lines.append(f"    total += u32::from(unsafe {{ *p.add({i}) }});")
    return "\n".join([*lines, "    total", "}", ""])


def _list_for_ref(call: Call) -> Reply:
    repo = call.repo()
    runs = [
        r
        for r in call.fake.world.check_runs.values()
        if r.repo == repo.full_name
        and r.head_sha == call.params["ref"]
        and r.name == call.query.get("check_name", r.name)
        and r.status == call.query.get("status", r.status)
        and call.query.get("app_id", call.fake.app_id) == call.fake.app_id
    ]
    runs.sort(key=lambda r: r.id, reverse=True)
    if call.query.get("filter", "latest") == "latest":
        runs = list({r.name: r for r in reversed(runs)}.values())[::-1]
    page = render.paged(call, [fake_checks._render(call, r) for r in runs])
    return Reply(page.status, {"total_count": len(runs), "check_runs": page.body}, page.headers)


def install_list_for_ref() -> None:
    HANDLERS.setdefault("checks/list-for-ref", _list_for_ref)


@dataclass
class PullWorld:
    """One repository, one pull request, and the commits pushed to it so far."""

    fake: FakeGitHub
    server: GitHttpServer
    source: Path
    shas: list[str]
    base: str
    repo: str = REPO
    pr: int = PR
    installation: int = INSTALLATION
    pushes: list[str] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        fake: FakeGitHub,
        server: GitHttpServer,
        tmp_path: Path,
        base: Files,
        head: Files,
        *,
        repo: str = REPO,
        pr: int = PR,
        installation: int = INSTALLATION,
    ) -> PullWorld:
        install_list_for_ref()
        fake.clone_base_url = server.url
        source, shas = make_git_repo(tmp_path, [base, head], name=repo.replace("/", "-"))
        if repo not in fake.world.repos:
            fake.add_repo(repo, installation_id=installation)
        server.add_repo(repo, source)
        fake.add_pull(repo, pr, head_sha=shas[1], base_sha=shas[0], diff=git_diff(source, shas[0], shas[1]))
        return cls(fake, server, source, shas, shas[0], repo, pr, installation, [shas[1]])

    @property
    def head(self) -> str:
        return self.pushes[-1]

    def push(self, files: Files) -> str:
        """A new commit on the PR branch, served over HTTP and known to the FakeGitHub."""
        sha = commit_files(self.source, files, index=len(self.shas) + 10)
        self.shas.append(sha)
        self.server.update_repo(self.repo, self.source)
        self.fake.push(self.repo, self.pr, head_sha=sha, diff=git_diff(self.source, self.base, sha))
        self.pushes.append(sha)
        return sha

    def job(self, **overrides: Any) -> ReviewJob:
        args = {
            "installation": self.installation,
            "repo": self.repo,
            "pr": self.pr,
            "head_sha": self.head,
            "base_sha": self.base,
        }
        return ReviewJob(**{**args, **overrides})
