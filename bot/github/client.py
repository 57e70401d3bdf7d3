"""The GitHub client: a thin, typed facade over PyGithub for one installation (or the App).

Everything the bot says to GitHub goes through here, so the policy lives in one place:
App JWT → installation token cached in Redis (:mod:`ruvopt.bot.github.auth`), retries and waits on
rate limits and 5xx, and writes spaced per installation across the fleet
(:mod:`ruvopt.bot.github.ratelimit`), GitHub's limits as named constants (:mod:`ruvopt.bot.github.limits`).

PyGithub does REST; what it lacks (reviews with a plain ``commit_id``, webhook
deliveries) goes through its requester, and GraphQL through its ``graphql_query``. The
client is synchronous (PyGithub is); async jobs call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import redis
from github import Github
from github.CheckRun import CheckRun
from github.File import File
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest
from github.PullRequestComment import PullRequestComment
from github.PullRequestReview import PullRequestReview
from github.Repository import Repository

from ruvopt.bot.github.auth import InstallationAuth, TokenCache, app_auth, install_log_redaction
from ruvopt.bot.github.limits import MAX_ANNOTATIONS_PER_REQUEST, MAX_GRAPHQL_PAGE, MAX_PER_PAGE, MAX_RATE_LIMIT_WAIT_S
from ruvopt.bot.github.ratelimit import RateLimitRetry, WriteGate, not_idempotent
from ruvopt.bot.metrics import note_rate_limit
from ruvopt.bot.settings import Settings

Sleep = Callable[[float], None]


@functools.cache
def _redis(url: str) -> redis.Redis:
    """One synchronous connection pool per URL per process (PyGithub is synchronous)."""
    return redis.Redis.from_url(url)


def _github(settings: Settings, auth: Any, retry: RateLimitRetry) -> Github:
    # PyGithub's own spacing (0.25 s between any requests, 1 s between writes) is per
    # client object; the WriteGate replaces it fleet-wide, so it is switched off here.
    return Github(
        auth=auth,
        base_url=settings.github_api_url,
        retry=retry,
        per_page=MAX_PER_PAGE,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )


@dataclass(frozen=True)
class ReviewThread:
    id: str  # GraphQL node id, for resolveReviewThread
    is_resolved: bool
    is_outdated: bool
    path: str
    line: int | None
    first_comment_id: int | None  # REST id of the comment that opened the thread
    first_comment_body: str
    author: str | None


_THREADS = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: MAX_PAGE, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id isResolved isOutdated path line
          comments(first: 1) { nodes { databaseId body author { login } } }
        }
      }
    }
  }
}
""".replace("MAX_PAGE", str(MAX_GRAPHQL_PAGE))


@dataclass(frozen=True)
class PullHead:
    """A pull request's head and base SHAs and its state, read now."""

    head_sha: str
    base_sha: str
    state: str = "open"


class GitHubClient:
    """GitHub as one installation (:meth:`for_installation`) or as the App itself
    (:meth:`for_app`: webhook deliveries); the same type, the same policy either way."""

    def __init__(
        self,
        gh: Github,
        tokens: TokenCache | None = None,
        gate: WriteGate | None = None,
        installation_id: int | None = None,
    ) -> None:
        self._gh, self._tokens, self._gate = gh, tokens, gate
        self.installation_id = installation_id

    @classmethod
    def for_installation(
        cls,
        settings: Settings,
        installation_id: int,
        *,
        redis_client: redis.Redis | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = MAX_RATE_LIMIT_WAIT_S,
    ) -> GitHubClient:
        """``sleep``/``clock``/``max_wait`` exist for tests; production uses the defaults."""
        install_log_redaction()
        client = redis_client or _redis(settings.redis_url)

        def retry() -> RateLimitRetry:
            return RateLimitRetry(sleep=sleep, clock=clock, max_wait=max_wait)

        tokens = TokenCache(settings, client, retry=retry, clock=clock)
        gh = _github(settings, InstallationAuth(tokens, installation_id), retry())
        gate = WriteGate(client, installation_id, spacing=settings.write_spacing_seconds, sleep=sleep)
        return cls(gh, tokens, gate, installation_id)

    @classmethod
    def for_app(
        cls, settings: Settings, *, sleep: Sleep = time.sleep, clock: Callable[[], float] = time.time
    ) -> GitHubClient:
        """Requests made as the App (a JWT): the webhook deliveries."""
        install_log_redaction()
        return cls(_github(settings, app_auth(settings), RateLimitRetry(sleep=sleep, clock=clock)))

    def __repr__(self) -> str:
        return f"GitHubClient(installation_id={self.installation_id})"

    def close(self) -> None:
        self._note_rate_limit()
        self._gh.close()

    def _note_rate_limit(self) -> None:
        note_rate_limit(self._gh.requester.rate_limiting[0], self.installation_id)  # the last response's headers

    # -- plumbing --------------------------------------------------------------------------

    def _installation(self) -> tuple[TokenCache, int]:
        if self._tokens is None or self.installation_id is None:
            raise RuntimeError("this call needs an installation client (GitHubClient.for_installation)")
        return self._tokens, self.installation_id

    def installation_token(self) -> str:
        """The current installation token (for git over HTTPS; never log it)."""
        tokens, installation = self._installation()
        return tokens.get(installation).value

    def forget_token(self) -> None:
        """GitHub answered 401 to the cached token: make the next call mint a new one."""
        tokens, installation = self._installation()
        tokens.forget(installation)

    def _pages(self, url: str, params: Mapping[str, Any] | None = None, items: str | None = None) -> Iterator[Any]:
        """The items of a list, page by page as they are read, following GitHub's
        ``Link: rel="next"`` (page numbers and cursors alike); ``items`` names the list
        inside an object response. The one paginator of the client."""
        next_url: str | None = url
        query: dict[str, Any] | None = {"per_page": MAX_PER_PAGE, **(params or {})}
        while next_url is not None:
            headers, data = self._gh.requester.requestJsonAndCheck("GET", next_url, parameters=query)
            yield from data[items] if items else data
            next_url, query = _next_link(str(headers.get("link", ""))), None

    def _paged(self, url: str, params: Mapping[str, Any] | None = None, items: str | None = None) -> list[Any]:
        return list(self._pages(url, params, items))

    def _repo(self, repo: str) -> Repository:
        return self._gh.get_repo(repo)  # lazy: no request until an attribute is needed

    def _write(self) -> None:
        """Wait for this installation's next write slot, as close to sending as possible."""
        tokens, installation = self._installation()
        tokens.get(installation)  # a token minted after the slot would eat into the gap
        self._note_rate_limit()
        if self._gate is not None:
            self._gate.wait()

    # -- check runs -----------------------------------------------------------------------------

    def check_runs_for_ref(self, repo: str, sha: str, name: str, app_id: int | None) -> list[dict[str, Any]]:
        """Check runs named ``name`` on commit ``sha`` (by ``app_id`` when given), newest first."""
        params: dict[str, Any] = {"check_name": name, "filter": "all"}
        if app_id is not None:
            params["app_id"] = app_id
        runs = self._paged(f"/repos/{repo}/commits/{sha}/check-runs", params, items="check_runs")
        return sorted((r for r in runs if r.get("name") == name), key=lambda r: int(r["id"]), reverse=True)

    def create_check_run(
        self,
        repo: str,
        *,
        name: str,
        head_sha: str,
        status: str = "in_progress",
        started_at: datetime | None = None,
        output: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        details_url: str | None = None,
    ) -> CheckRun:
        kwargs: dict[str, Any] = {"status": status}
        for key, value in (
            ("started_at", started_at),
            ("output", output),
            ("external_id", external_id),
            ("details_url", details_url),
        ):
            if value is not None:
                kwargs[key] = dict(value) if isinstance(value, Mapping) else value
        _check_annotations(output)
        self._write()
        with not_idempotent():
            return self._repo(repo).create_check_run(name=name, head_sha=head_sha, **kwargs)

    def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        *,
        status: str | None = None,
        conclusion: str | None = None,
        completed_at: datetime | None = None,
        output: Mapping[str, Any] | None = None,
        actions: Sequence[Mapping[str, str]] | None = None,
    ) -> CheckRun:
        """PATCH a run; ``output.annotations`` (≤ 50) are appended to those already there."""
        _check_annotations(output)
        kwargs: dict[str, Any] = {}
        for key, value in (("status", status), ("conclusion", conclusion), ("completed_at", completed_at)):
            if value is not None:
                kwargs[key] = value
        if output is not None:
            kwargs["output"] = dict(output)
        if actions is not None:
            kwargs["actions"] = [dict(a) for a in actions]
        run = self._repo(repo).get_check_run(check_run_id)
        self._write()
        # Annotations append: a retried PATCH whose first try was applied posts them twice.
        with not_idempotent() if (output or {}).get("annotations") else contextlib.nullcontext():
            run.edit(**kwargs)
        return run

    # -- reviews ----------------------------------------------------------------------------------

    def create_review(
        self,
        repo: str,
        pr: int,
        *,
        commit_id: str,
        body: str,
        comments: Sequence[Mapping[str, Any]] = (),
        event: str = "COMMENT",
    ) -> PullRequestReview:
        """One review; each comment is ``{path, line, side="RIGHT", body[, start_line]}``."""
        payload = {"commit_id": commit_id, "body": body, "event": event, "comments": [dict(c) for c in comments]}
        requester = self._gh.requester
        self._write()
        with not_idempotent():
            headers, data = requester.requestJsonAndCheck("POST", f"/repos/{repo}/pulls/{pr}/reviews", input=payload)
        return PullRequestReview(requester, headers, data)

    def list_review_comments(self, repo: str, pr: int) -> list[PullRequestComment]:
        return list(self._repo(repo).get_pull(pr).get_review_comments())

    def list_reviews(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """The pull request's reviews as GitHub's JSON (``commit_id``, ``user``, ``body``…)."""
        return self._paged(f"/repos/{repo}/pulls/{pr}/reviews")

    def review_comments_json(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """Review comments as GitHub's JSON. PyGithub's objects fetch each comment again
        when a field the list left out (``in_reply_to_id`` of a thread opener) is read."""
        return self._paged(f"/repos/{repo}/pulls/{pr}/comments")

    def reply_to_review_comment(self, repo: str, pr: int, comment_id: int, body: str) -> PullRequestComment:
        pull = self._repo(repo).get_pull(pr)
        self._write()
        with not_idempotent():
            return pull.create_review_comment_reply(comment_id, body)

    def review_threads(self, repo: str, pr: int) -> list[ReviewThread]:
        owner, name = repo.split("/", 1)
        threads: list[ReviewThread] = []
        after: str | None = None
        while True:
            variables = {"owner": owner, "name": name, "number": pr, "after": after}
            _, data = self._gh.requester.graphql_query(_THREADS, variables)
            connection = data["data"]["repository"]["pullRequest"]["reviewThreads"]
            threads.extend(_thread(node) for node in connection["nodes"])
            if not connection["pageInfo"]["hasNextPage"]:
                return threads
            after = connection["pageInfo"]["endCursor"]

    def resolve_review_thread(self, thread_id: str) -> bool:
        """Resolve a thread (a finding that was fixed); returns its new ``isResolved``."""
        self._write()
        _, data = self._gh.requester.graphql_named_mutation(
            "resolveReviewThread", {"threadId": thread_id}, "thread { id isResolved }"
        )
        return bool(data["thread"]["isResolved"])

    # -- conversation comments -----------------------------------------------------------------------

    def list_issue_comments(self, repo: str, pr: int) -> list[IssueComment]:
        return list(self._repo(repo).get_issue(pr).get_comments())

    def issue_comments_json(self, repo: str, pr: int) -> list[dict[str, Any]]:
        return self._paged(f"/repos/{repo}/issues/{pr}/comments")

    def reply_once(self, repo: str, pr: int, body: str) -> bool:
        """Post ``body`` unless a comment already holds its hidden marker (its last line):
        a retried job whose first reply was applied, its answer lost, does not reply twice.
        True when it posted."""
        marker = body.rstrip().rsplit("\n", 1)[-1]
        posted = marker.startswith("<!--") and any(
            marker in (c.get("body") or "") for c in self.issue_comments_json(repo, pr)
        )
        if posted:
            return False
        self.create_issue_comment(repo, pr, body)
        return True

    def create_issue_comment(self, repo: str, pr: int, body: str) -> IssueComment:
        issue = self._repo(repo).get_issue(pr)
        self._write()
        with not_idempotent():
            return issue.create_comment(body)

    def edit_issue_comment(self, repo: str, comment_id: int, body: str) -> IssueComment:
        requester = self._gh.requester
        self._write()
        headers, data = requester.requestJsonAndCheck(
            "PATCH", f"/repos/{repo}/issues/comments/{comment_id}", input={"body": body}
        )
        return IssueComment(requester, headers, data)

    def react(self, repo: str, comment_id: int, content: str) -> None:
        """Add a reaction (``eyes``, ``+1``…) to an issue comment; adding it twice is a no-op."""
        self._write()
        self._gh.requester.requestJsonAndCheck(
            "POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions", input={"content": content}
        )

    # -- pull requests and people ------------------------------------------------------------------

    def get_pull(self, repo: str, pr: int) -> PullRequest:
        pull = self._repo(repo).get_pull(pr)
        _ = pull.raw_data  # complete now, in the caller's thread, not on first attribute use
        return pull

    def list_pull_files(self, repo: str, pr: int) -> list[File]:
        return list(self._repo(repo).get_pull(pr).get_files())

    def pull_files_json(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """The PR's files with GitHub's ``patch`` of each (at most 3,000 files)."""
        return self._paged(f"/repos/{repo}/pulls/{pr}/files")

    def pull_head(self, repo: str, pr: int) -> PullHead:
        pull = self.get_pull(repo, pr)
        return PullHead(head_sha=pull.head.sha, base_sha=pull.base.sha, state=pull.state)

    def get_permission_role(self, repo: str, user: str) -> str:
        """``role_name`` (admin, maintain, write, triage, read, or a custom role)."""
        _, data = self._gh.requester.requestJsonAndCheck(
            "GET", f"/repos/{repo}/collaborators/{quote(user, safe='')}/permission"
        )
        return str(data["role_name"])

    # -- the App's webhook deliveries (a client from for_app) ------------------------------------

    def hook_deliveries(self, per_page: int = MAX_PER_PAGE) -> Iterator[dict[str, Any]]:
        """Deliveries newest first, read lazily (the reconciler stops at its horizon)."""
        return self._pages("/app/hook/deliveries", {"per_page": per_page})

    def redeliver(self, delivery_id: int) -> None:
        self._gh.requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{delivery_id}/attempts")


def _check_annotations(output: Mapping[str, Any] | None) -> None:
    count = len((output or {}).get("annotations", []))
    if count > MAX_ANNOTATIONS_PER_REQUEST:
        raise ValueError(f"{count} annotations in one request; GitHub takes {MAX_ANNOTATIONS_PER_REQUEST}")


def _thread(node: Mapping[str, Any]) -> ReviewThread:
    comments = node["comments"]["nodes"]
    first = comments[0] if comments else {}
    author = (first.get("author") or {}).get("login")
    return ReviewThread(
        node["id"],
        node["isResolved"],
        node["isOutdated"],
        node["path"],
        node["line"],
        first.get("databaseId"),
        first.get("body", ""),
        author,
    )


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        target, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return target.strip().strip("<>")
    return None
