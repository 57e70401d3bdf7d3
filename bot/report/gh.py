"""The GitHub calls the review job needs, on top of :class:`ruvopt.bot.github.client.GitHubClient`.

:class:`ruvopt.bot.github.client.GitHubClient` has no way to list a commit's check runs, read one
check run back, or list a pull request's reviews, and its comment lists are PyGithub
objects that fetch again lazily; this subclass adds those reads as plain JSON,
through the same PyGithub requester, so they share the client's rate-limit policy,
token cache and base URL. Every other call is the parent's.
"""

from __future__ import annotations

from typing import Any

from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.github.limits import MAX_PER_PAGE
from ruvopt.bot.report.check_run import RunState
from ruvopt.bot.settings import Settings


class ReviewGitHub(GitHubClient):
    """A :class:`GitHubClient` with the reads the reporters need, as plain JSON."""

    @classmethod
    def connect(cls, settings: Settings, installation: int) -> ReviewGitHub:
        client = cls.for_installation(settings, installation)
        assert isinstance(client, cls)  # for_installation builds cls(...)
        return client

    def check_runs_for_ref(self, repo: str, sha: str, name: str, app_id: int | None) -> list[RunState]:
        """Check runs named ``name`` on commit ``sha`` (by ``app_id`` when given), newest first."""
        params: dict[str, Any] = {"check_name": name, "filter": "all", "per_page": MAX_PER_PAGE}
        if app_id is not None:
            params["app_id"] = app_id
        runs: list[RunState] = []
        page = 1
        while True:
            _, data = self._gh.requester.requestJsonAndCheck(
                "GET", f"/repos/{repo}/commits/{sha}/check-runs", parameters={**params, "page": page}
            )
            batch = data.get("check_runs", [])
            runs.extend(RunState.from_json(r) for r in batch if r.get("name") == name)
            if len(batch) < MAX_PER_PAGE:
                return sorted(runs, key=lambda r: r.id, reverse=True)
            page += 1

    def check_run(self, repo: str, check_run_id: int) -> RunState:
        _, data = self._gh.requester.requestJsonAndCheck("GET", f"/repos/{repo}/check-runs/{check_run_id}")
        return RunState.from_json(data)

    def list_reviews(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """The pull request's reviews as GitHub's JSON (``commit_id``, ``user``, ``body``…)."""
        return self._paged(f"/repos/{repo}/pulls/{pr}/reviews")

    def review_comments_json(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """Review comments as GitHub's JSON. PyGithub's objects fetch each comment again
        when a field the list left out (``in_reply_to_id`` of a thread opener) is read."""
        return self._paged(f"/repos/{repo}/pulls/{pr}/comments")

    def issue_comments_json(self, repo: str, pr: int) -> list[dict[str, Any]]:
        return self._paged(f"/repos/{repo}/issues/{pr}/comments")

    def pull_files_json(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """The PR's files with GitHub's ``patch`` of each (at most 3,000 files)."""
        return self._paged(f"/repos/{repo}/pulls/{pr}/files")

    def _paged(self, url: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            _, batch = self._gh.requester.requestJsonAndCheck(
                "GET", url, parameters={"per_page": MAX_PER_PAGE, "page": page}
            )
            items.extend(batch)
            if len(batch) < MAX_PER_PAGE:
                return items
            page += 1
