"""The test API of the FakeGitHub: arrange the world, inspect what the bot did."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

# Importing the operation modules registers their handlers.
from tests.fakegithub import apps, checks, issues, manifest_flow, pulls, reactions  # noqa: F401
from tests.fakegithub.auth import new_token
from tests.fakegithub.core import FakeCore
from tests.fakegithub.state import (
    CheckRun,
    CreatedApp,
    Delivery,
    Installation,
    IssueComment,
    Pull,
    PullFile,
    Repo,
    ReviewComment,
    Thread,
    Token,
    files_from_diff,
    iso,
)


def git_diff(repo: Path, base: str, head: str) -> str:
    """``git diff base head`` of a real repository, as GitHub computes a PR's files."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "diff", "--no-color", "--no-ext-diff", "-M", base, head],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


class FakeGitHub(FakeCore):
    @property
    def app_private_key_pem(self) -> str:
        return self.key.private_pem

    def settings(self, **overrides: Any) -> Any:
        """``ruvopt.bot.settings.Settings`` pointing at this fake (App id, key and API URL set)."""
        from ruvopt.bot.settings import Settings

        values = {"app_id": self.app_id, "private_key": self.app_private_key_pem, "github_api_url": self.url}
        return Settings(**{**values, **overrides})

    # -- arrange -------------------------------------------------------------------------

    def add_installation(self, installation_id: int, account: str) -> Installation:
        with self.lock:
            installation = Installation(installation_id, account)
            self.world.installations[installation_id] = installation
            return installation

    def add_repo(self, full_name: str, *, private: bool = False, installation_id: int | None = None) -> Repo:
        """A repository; with ``installation_id`` the App is installed on its owner too."""
        owner, name = full_name.split("/", 1)
        with self.lock:
            if installation_id is not None and installation_id not in self.world.installations:
                self.add_installation(installation_id, owner)
            repo = Repo(owner, name, self.world.next_id(), private=private)
            self.world.repos[full_name] = repo
            return repo

    def add_pull(
        self, full_name: str, number: int, *, head_sha: str, base_sha: str, diff: str = "", **fields: Any
    ) -> Pull:
        """A PR whose files (and so its commentable lines) come from ``diff`` (``git diff`` text)."""
        with self.lock:
            pull = Pull(number, head_sha, base_sha, files=files_from_diff(diff) if diff else [], **fields)
            pull.commits.add(head_sha)
            self.world.repos[full_name].pulls[number] = pull
            return pull

    def set_pull_files(self, full_name: str, number: int, files: list[PullFile]) -> None:
        with self.lock:
            self.world.repos[full_name].pulls[number].files = files

    def push(self, full_name: str, number: int, *, head_sha: str, diff: str) -> None:
        """A new head for the PR: earlier review threads become outdated, as on GitHub."""
        with self.lock:
            pull = self.world.repos[full_name].pulls[number]
            pull.head_sha = head_sha
            pull.commits.add(head_sha)
            pull.files = files_from_diff(diff)
            for thread in self.threads(full_name, number):
                thread.outdated = True

    def set_role(self, full_name: str, login: str, role: str) -> None:
        """``role`` is a role_name: admin | maintain | write | triage | read | none."""
        with self.lock:
            self.world.repos[full_name].roles[login] = role

    def add_issue_comment(self, full_name: str, number: int, body: str, *, user: str = "octocat") -> IssueComment:
        with self.lock:
            now = iso(self.clock())
            comment = IssueComment(self.world.next_id(), full_name, number, body, user, now, now)
            self.world.issue_comments[comment.id] = comment
            return comment

    def add_delivery(
        self,
        *,
        status_code: int,
        event: str = "pull_request",
        action: str | None = "opened",
        guid: str | None = None,
        age_s: float = 60.0,
        redelivery: bool = False,
        installation_id: int | None = None,
        repository_id: int | None = None,
    ) -> Delivery:
        """A webhook delivery attempt ``age_s`` seconds ago (same ``guid`` = same event)."""
        with self.lock:
            delivery = Delivery(
                self.world.next_id(),
                guid or str(uuid.uuid4()),
                self.clock() - age_s,
                status_code,
                event,
                action,
                redelivery,
                installation_id,
                repository_id,
            )
            self.world.deliveries.append(delivery)
            return delivery

    def issue_token(self, installation_id: int, lifetime_s: float | None = None) -> str:
        """A valid installation token minted directly (for tests of git over HTTP)."""
        with self.lock:
            token = Token(new_token(), installation_id, self.clock() + (lifetime_s or self.token_lifetime))
            self.world.tokens[token.value] = token
            return token.value

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.world.tokens.values():
                token.expires_at = min(token.expires_at, self.clock() - 1)

    def create_app_from_manifest(self, manifest: dict[str, Any], owner: str) -> str:
        """What GitHub's "Create GitHub App" button does; returns the one-time code."""
        with self.lock:
            code = uuid.uuid4().hex[:20]
            self.world.created_apps[code] = manifest_flow.new_created_app(self, manifest, owner)
            return code

    # -- inspect -------------------------------------------------------------------------

    def created_apps(self) -> list[CreatedApp]:
        with self.lock:
            return list(self.world.created_apps.values())

    def token_valid(self, value: str) -> bool:
        with self.lock:
            token = self.world.tokens.get(value)
            return token is not None and token.expires_at > self.clock()

    def check_runs(self, full_name: str | None = None, name: str | None = None) -> list[CheckRun]:
        with self.lock:
            return [
                r
                for r in self.world.check_runs.values()
                if (full_name is None or r.repo == full_name) and (name is None or r.name == name)
            ]

    def reviews(self, full_name: str, number: int) -> list[Any]:
        with self.lock:
            return [r for r in self.world.reviews.values() if r.repo == full_name and r.pr == number]

    def review_comments(self, full_name: str, number: int) -> list[ReviewComment]:
        with self.lock:
            return [c for c in self.world.review_comments.values() if c.repo == full_name and c.pr == number]

    def threads(self, full_name: str, number: int) -> list[Thread]:
        with self.lock:
            return [t for t in self.world.threads.values() if t.repo == full_name and t.pr == number]

    def issue_comments(self, full_name: str, number: int) -> list[IssueComment]:
        with self.lock:
            return [c for c in self.world.issue_comments.values() if c.repo == full_name and c.number == number]

    def tokens_issued(self, installation_id: int | None = None) -> int:
        """How many access-token POSTs succeeded (for tests of token caching)."""
        return len(
            [
                r
                for r in self.calls("POST", "/app/installations/*/access_tokens")
                if r.status == 201 and (installation_id is None or r.path.split("/")[3] == str(installation_id))
            ]
        )
