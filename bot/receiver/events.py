"""Typed views of the webhook payload fields ruvopt reads, and nothing more.

Validation is the receiver's "payload missing fields" check: a payload that lacks a
field a handler needs fails here (422) before anything is enqueued. Unknown fields are
ignored, so GitHub adding fields never breaks the receiver.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

SHA = r"^[0-9a-f]{40}([0-9a-f]{24})?$"  # SHA-1, or SHA-256 object format
REPO = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Installation(_View):
    id: int


class Repository(_View):
    id: int
    full_name: str = Field(pattern=REPO)


class Account(_View):
    login: str
    type: str


class App(_View):
    id: int


class RefRepo(_View):
    id: int


class Ref(_View):
    sha: str = Field(pattern=SHA)
    repo: RefRepo | None = None  # null when the head fork was deleted


class PullRequest(_View):
    number: int
    head: Ref
    base: Ref
    draft: bool = False
    state: str = "open"
    updated_at: datetime | None = None


class Sender(_View):
    login: str | None = None
    type: str | None = None


class Envelope(_View):
    """What the receiver reads of every delivery before routing it."""

    action: str | None = None
    sender: Sender | None = None
    zen: str | None = None  # ping


class _Event(_View):
    installation: Installation
    repository: Repository
    sender: Account
    action: str


class PullRequestEvent(_Event):
    action: str
    pull_request: PullRequest


class Issue(_View):
    number: int
    pull_request: dict[str, object] | None = None  # present only when the issue is a PR


class Comment(_View):
    id: int
    body: str
    user: Account


class IssueCommentEvent(_Event):
    action: str
    issue: Issue
    comment: Comment


class CheckPull(_View):
    """A PR as listed inside check_run / check_suite (no draft flag, no title)."""

    number: int
    head: Ref
    base: Ref


class CheckRun(_View):
    id: int
    name: str = ""
    head_sha: str = Field(pattern=SHA)
    app: App
    pull_requests: list[CheckPull]


class RequestedAction(_View):
    identifier: str


class CheckRunEvent(_Event):
    action: str
    check_run: CheckRun
    requested_action: RequestedAction | None = None


class CheckSuite(_View):
    id: int
    head_sha: str = Field(pattern=SHA)
    app: App
    pull_requests: list[CheckPull]


class CheckSuiteEvent(_Event):
    action: str
    check_suite: CheckSuite


# The full view of each event a handler reads, parsed once by the receiver: it holds the
# envelope's fields (action, sender) too, so a 25 KB payload is scanned once, not twice.
EventView = _Event
EVENT_VIEWS: dict[str, type[EventView]] = {
    "pull_request": PullRequestEvent,
    "issue_comment": IssueCommentEvent,
    "check_run": CheckRunEvent,
    "check_suite": CheckSuiteEvent,
}
