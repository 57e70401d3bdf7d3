"""The FakeGitHub's world: plain records, plus the diff arithmetic GitHub applies to reviews."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from unidiff import PatchSet

BOT_LOGIN = "ruvopt[bot]"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Installation:
    id: int
    account: str  # user or organisation login owning the repositories


@dataclass
class Token:
    value: str
    installation_id: int
    expires_at: float


@dataclass
class PullFile:
    filename: str
    status: str  # added | removed | modified | renamed
    patch: str | None  # GitHub's `patch`: the hunks, from the first "@@"; None for binary files
    additions: int = 0
    deletions: int = 0
    previous_filename: str | None = None

    def commentable(self) -> dict[str, dict[int, int]]:
        """{side: {line: hunk index}} of the lines a review comment may target."""
        sides: dict[str, dict[int, int]] = {"LEFT": {}, "RIGHT": {}}
        for index, (_, lines) in enumerate(_hunks(self.patch or "")):
            for old, new, _ in lines:
                if old is not None:
                    sides["LEFT"][old] = index
                if new is not None:
                    sides["RIGHT"][new] = index
        return sides

    def position_to_line(self, position: int) -> tuple[str, int] | None:
        """GitHub's legacy ``position`` (lines below the first @@) → (side, line)."""
        offset = 0
        for header_pos, (_, lines) in enumerate(_hunks(self.patch or "")):
            offset += 1 if header_pos else 0  # later hunk headers count as positions
            for old, new, _ in lines:
                offset += 1
                if offset == position:
                    return ("RIGHT", new) if new is not None else ("LEFT", old)  # type: ignore[return-value]
        return None

    def hunk_text(self, side: str, line: int) -> str:
        """The ``diff_hunk`` GitHub attaches to a comment: hunk header up to that line."""
        for header, lines in _hunks(self.patch or ""):
            out = [header]
            for old, new, text in lines:
                out.append(text)
                if (new if side == "RIGHT" else old) == line:
                    return "\n".join(out)
        return ""


def _hunks(patch: str) -> list[tuple[str, list[tuple[int | None, int | None, str]]]]:
    """[(header, [(old line, new line, text)])]; a side's line is None where it has none."""
    hunks: list[tuple[str, list[tuple[int | None, int | None, str]]]] = []
    old = new = 0
    for text in patch.split("\n"):
        match = _HUNK.match(text)
        if match:
            old, new = int(match.group(1)), int(match.group(3))
            hunks.append((text, []))
        elif hunks and text.startswith("+"):
            hunks[-1][1].append((None, new, text))
            new += 1
        elif hunks and text.startswith("-"):
            hunks[-1][1].append((old, None, text))
            old += 1
        elif hunks and text.startswith(" "):
            hunks[-1][1].append((old, new, text))
            old, new = old + 1, new + 1
    return hunks


def files_from_diff(diff: str) -> list[PullFile]:
    """What GitHub's ``GET …/pulls/{n}/files`` would list for ``git diff base head``."""
    files = []
    for pf in PatchSet(diff):
        status = (
            "added"
            if pf.is_added_file
            else "removed"
            if pf.is_removed_file
            else "renamed"
            if pf.is_rename
            else "modified"
        )
        patch = "".join(str(h) for h in pf).rstrip("\n") if not pf.is_binary_file else None
        files.append(
            PullFile(
                filename=pf.path,
                status=status,
                patch=patch,
                additions=pf.added,
                deletions=pf.removed,
                previous_filename=pf.source_file[2:] if pf.is_rename else None,
            )
        )
    return files


@dataclass
class Pull:
    number: int
    head_sha: str
    base_sha: str
    head_ref: str = "feature"
    base_ref: str = "main"
    title: str = "A pull request"
    user: str = "octocat"
    state: str = "open"
    draft: bool = False
    head_repo: str | None = None  # "owner/name" of a fork; None: same repository
    files: list[PullFile] = field(default_factory=list)
    commits: set[str] = field(default_factory=set)  # SHAs a review may name as commit_id

    def file(self, path: str) -> PullFile | None:
        return next((f for f in self.files if f.filename == path), None)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    default_branch: str = "main"
    pulls: dict[int, Pull] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # login → role_name

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class CheckRun:
    id: int
    repo: str
    name: str
    head_sha: str
    status: str = "queued"
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    external_id: str | None = None
    details_url: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    patches: int = 0  # PATCH requests received, for tests counting round trips


@dataclass
class Review:
    id: int
    repo: str
    pr: int
    commit_id: str
    body: str
    state: str
    user: str
    submitted_at: str


@dataclass
class ReviewComment:
    id: int
    review_id: int
    repo: str
    pr: int
    path: str
    line: int
    side: str
    body: str
    commit_id: str
    user: str
    thread_id: str
    diff_hunk: str
    created_at: str
    start_line: int | None = None
    start_side: str | None = None
    in_reply_to_id: int | None = None
    updated_at: str | None = None


@dataclass
class Thread:
    node_id: str
    repo: str
    pr: int
    comment_ids: list[int]
    resolved: bool = False
    resolved_by: str | None = None
    outdated: bool = False


@dataclass
class IssueComment:
    id: int
    repo: str
    number: int
    body: str
    user: str
    created_at: str
    updated_at: str
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (login, content)


@dataclass
class Delivery:
    id: int
    guid: str
    delivered_at: float
    status_code: int
    event: str
    action: str | None = None
    redelivery: bool = False
    installation_id: int | None = None
    repository_id: int | None = None
    duration: float = 0.05

    @property
    def status(self) -> str:
        return "OK" if 200 <= self.status_code < 300 else "Invalid HTTP Response: " + str(self.status_code)


@dataclass
class CreatedApp:
    """An App created through the manifest flow; ``code`` is redeemable once."""

    id: int
    slug: str
    owner: str
    manifest: dict[str, Any]
    pem: str
    webhook_secret: str
    client_id: str
    client_secret: str
    redeemed: bool = False


@dataclass
class World:
    """Everything the fake knows; replaced wholesale between tests."""

    installations: dict[int, Installation] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    threads: dict[str, Thread] = field(default_factory=dict)
    issue_comments: dict[int, IssueComment] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    created_apps: dict[str, CreatedApp] = field(default_factory=dict)  # by manifest code
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def next_id(self) -> int:
        return next(self.ids)
