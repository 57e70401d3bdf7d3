"""The inline review: which new findings get a comment, where, and with what body.

GitHub rejects a whole review (422) when any one comment names a line outside the diff,
so a comment goes only on a RIGHT-side line inside one of the diff's hunks, as
:meth:`ruvopt.checks.diff.filter.Diff.comment_line` picks it — in GitHub's own diff of the pull
request when the job has it (:func:`github_diff`), else in ``git diff``. A finding with a mechanical fix
(``Finding.suggestion``, whole lines) is anchored on exactly the lines its edit replaces,
with a ```suggestion block — but only when that range lies inside one hunk; otherwise
the comment goes on the finding's line and shows the replacement as plain code.

Only new findings are commented on: an old finding that merely moved into the diff is
not the author's to fix. At most 30 comments per review (most severe first); one review
per head SHA; a finding whose fingerprint already has a comment on this pull request
(from an earlier push, or an earlier attempt of this job) is not commented on again.
Every comment ends with the hidden marker ``<!-- ruvopt:fp=<fingerprint> -->``, which
is how later runs recognise it — to skip it, or to resolve its thread once the finding
is gone from the head.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ruvopt.bot.github.limits import MAX_COMMENT_BODY, MAX_REVIEW_COMMENTS
from ruvopt.bot.report.counts import Counts
from ruvopt.checks.diff.filter import Diff, DiffError, FileDiff, parse_diff
from ruvopt.checks.model import Finding

log = logging.getLogger("ruvopt.review")

FP_MARKER = "<!-- ruvopt:fp={} -->"
FP_PATTERN = re.compile(r"<!-- ruvopt:fp=([0-9a-f]+) -->")
REVIEW_MARKER = "<!-- ruvopt:review -->"
FIXED_MARKER = "<!-- ruvopt:fixed={} -->"
ICONS = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
MAX_REPLACEMENT = 20_000  # characters of a suggestion shown in one comment
OUTSIDE = "its lines are outside the diff's hunks"
OVER_CAP = f"over the {MAX_REVIEW_COMMENTS}-comment limit of one review"
ALREADY_REVIEWED = "this commit already has ruvopt's review"


@dataclass(frozen=True)
class InlineComment:
    finding: Finding
    line: int
    start_line: int | None  # first line of a multi-line suggestion
    body: str
    suggestion: bool

    @property
    def path(self) -> str:
        return self.finding.path

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "line": self.line, "side": "RIGHT", "body": self.body}
        if self.start_line is not None:
            out["start_line"], out["start_side"] = self.start_line, "RIGHT"
        return out


@dataclass(frozen=True)
class Selection:
    comments: list[InlineComment] = field(default_factory=list)  # to post in this review
    commented: list[Finding] = field(default_factory=list)  # already have a comment on the PR
    summary_only: list[tuple[Finding, str]] = field(default_factory=list)  # with the reason


@dataclass(frozen=True)
class ReviewPlan:
    commit_id: str
    body: str
    comments: list[InlineComment]

    def to_api(self) -> dict[str, Any]:
        return {
            "commit_id": self.commit_id,
            "body": self.body,
            "event": "COMMENT",
            "comments": [c.to_api() for c in self.comments],
        }


def github_diff(files: Iterable[dict[str, Any]]) -> Diff:
    """GitHub's own view of the pull request (``GET …/pulls/{n}/files``): the hunks it
    checks review comments against. Placing comments by it, not only by our ``git diff``,
    keeps one line GitHub sees differently (a moved base, other rename detection) from
    getting the whole review rejected. A file without ``patch`` (binary, too large) or
    whose patch does not parse (GitHub cut it short) takes no line comments."""
    parsed: dict[str, FileDiff] = {}
    for file in files:
        name, patch = file["filename"], file.get("patch")
        if not patch:
            continue
        old = "/dev/null" if file.get("status") == "added" else f"a/{file.get('previous_filename') or name}"
        new = "/dev/null" if file.get("status") == "removed" else f"b/{name}"
        try:
            parsed.update(parse_diff(f"--- {old}\n+++ {new}\n{patch}\n").files)
        except DiffError as exc:
            log.warning("GitHub's patch of %s does not parse (%s): no inline comment on it", name, exc)
    return Diff(parsed)


def fence(text: str) -> str:
    """A backtick fence longer than any run of backticks inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def suggestion_range(finding: Finding, diff: Diff) -> tuple[int, int] | None:
    """The lines a suggestion block may replace: the edit's, if one hunk holds them all."""
    edit = finding.suggestion
    if edit is None or edit.path != finding.path or edit.end_line < edit.start_line:
        return None
    fd = diff.file(finding.path)
    if fd is None or fd.status == "deleted":
        return None
    lines = range(edit.start_line, edit.end_line + 1)
    in_one_hunk = any(first <= edit.start_line and edit.end_line <= last for first, last in fd.hunks)
    if in_one_hunk and all(n in fd.commentable for n in lines):
        return edit.start_line, edit.end_line
    return None


def comment_body(finding: Finding, attach_suggestion: bool) -> str:
    icon = ICONS.get(finding.severity.label, "")
    lines = [f"{icon} **{finding.code}** `{finding.rule}`: {finding.message}"]
    if finding.fix_title:
        lines += ["", f"**Fix:** {finding.fix_title}"]
    edit = finding.suggestion
    if edit is not None and len(edit.replacement) <= MAX_REPLACEMENT:
        mark = fence(edit.replacement)
        if attach_suggestion:
            lines += ["", f"{mark}suggestion", edit.replacement, mark]
        else:
            where = (
                f"line {edit.start_line}"
                if edit.start_line == edit.end_line
                else f"lines {edit.start_line}–{edit.end_line}"
            )
            lines += [
                "",
                f"Suggested replacement for {where} (outside this diff, so GitHub cannot apply it):",
                mark,
                edit.replacement,
                mark,
            ]
    lines += ["", FP_MARKER.format(finding.fingerprint)]
    return "\n".join(lines)[:MAX_COMMENT_BODY]


def place(finding: Finding, diff: Diff) -> InlineComment | None:
    """The comment for ``finding``, or None when no line of it may carry one."""
    span = suggestion_range(finding, diff)
    if span is not None:
        start, end = span
        return InlineComment(finding, end, start if start < end else None, comment_body(finding, True), True)
    line = diff.comment_line(finding)
    if line is None:
        return None
    return InlineComment(finding, line, None, comment_body(finding, False), False)


def select(
    candidates: Iterable[Finding],
    diff: Diff,
    posted: frozenset[str] = frozenset(),
    *,
    reviewed: bool = False,
    limit: int = MAX_REVIEW_COMMENTS,
) -> Selection:
    """Split the new findings into comments to post now, already commented, summary only."""
    selection = Selection()
    for finding in sorted(candidates, key=Finding.sort_key):
        if finding.fingerprint in posted:
            selection.commented.append(finding)
            continue
        comment = place(finding, diff)
        if comment is None:
            selection.summary_only.append((finding, OUTSIDE))
        elif reviewed:
            selection.summary_only.append((finding, ALREADY_REVIEWED))
        elif len(selection.comments) >= limit:
            selection.summary_only.append((finding, OVER_CAP))
        else:
            selection.comments.append(comment)
    return selection


def review_body(commit_id: str, selection: Selection, counts: Counts) -> str:
    return "\n".join(
        [
            f"ruvopt: {len(selection.comments)} new finding(s) on `{commit_id[:12]}` commented inline.",
            "",
            counts.sentence(),
            "The summary comment on this pull request lists every finding.",
            "",
            REVIEW_MARKER,
        ]
    )


def plan_review(commit_id: str, selection: Selection, counts: Counts) -> ReviewPlan | None:
    """The review to post, or None when nothing new is to be commented on."""
    if not selection.comments:
        return None
    return ReviewPlan(commit_id, review_body(commit_id, selection, counts), selection.comments)


# --- posting ---------------------------------------------------------------------------------


class ReviewAPI(Protocol):
    def review_comments_json(self, repo: str, pr: int) -> list[dict[str, Any]]: ...
    def list_reviews(self, repo: str, pr: int) -> list[dict[str, Any]]: ...
    def create_review(self, repo: str, pr: int, **kwargs: Any) -> Any: ...
    def review_threads(self, repo: str, pr: int) -> Sequence[Any]: ...
    def resolve_review_thread(self, thread_id: str) -> bool: ...
    def reply_to_review_comment(self, repo: str, pr: int, comment_id: int, body: str) -> Any: ...


@dataclass(frozen=True)
class Posted:
    """What ruvopt already said on a pull request (read before planning, for idempotency)."""

    threads: dict[int, str] = field(default_factory=dict)  # our thread-opening comment id → fingerprint
    fixed_replies: frozenset[str] = frozenset()  # fingerprints already answered "fixed in …"
    reviewed_commits: frozenset[str] = frozenset()  # commit ids our reviews are on

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(self.threads.values())


def _is_bot(user: dict[str, Any] | None) -> bool:
    return (user or {}).get("type") == "Bot"


def posted_state(gh: ReviewAPI, repo: str, pr: int) -> Posted:
    threads: dict[int, str] = {}
    fixed: set[str] = set()
    for comment in gh.review_comments_json(repo, pr):
        if not _is_bot(comment.get("user")):
            continue  # a person quoting a marker does not make it ours
        body = comment.get("body") or ""
        found = FP_PATTERN.search(body)
        if found and comment.get("in_reply_to_id") is None:
            threads[int(comment["id"])] = found.group(1)
        fixed.update(re.findall(r"<!-- ruvopt:fixed=([0-9a-f]+) -->", body))
    reviewed = {
        r["commit_id"]
        for r in gh.list_reviews(repo, pr)
        if _is_bot(r.get("user")) and REVIEW_MARKER in r.get("body", "")
    }
    return Posted(threads, frozenset(fixed), frozenset(reviewed))


def post_review(gh: ReviewAPI, repo: str, pr: int, plan: ReviewPlan | None) -> int | None:
    if plan is None:
        return None
    api = plan.to_api()
    review = gh.create_review(repo, pr, commit_id=api["commit_id"], body=api["body"], comments=api["comments"])
    return int(review.id)


def resolve_fixed(
    gh: ReviewAPI, repo: str, pr: int, posted: Posted, present: frozenset[str], head_sha: str
) -> tuple[list[str], list[str]]:
    """Resolve the threads of our findings that are gone from the head; where resolving
    fails, reply "fixed in <sha>" once. Returns (resolved, replied) fingerprints."""
    resolved: list[str] = []
    replied: list[str] = []
    for thread in gh.review_threads(repo, pr):
        fp = posted.threads.get(thread.first_comment_id or -1)
        if fp is None or thread.is_resolved or fp in present:
            continue
        try:
            ok = gh.resolve_review_thread(thread.id)
        except Exception as exc:  # GraphQL refusal (permissions, a locked PR): say it in a reply
            log.warning("could not resolve thread %s of %s#%s: %s", thread.id, repo, pr, exc)
            ok = False
        if ok:
            resolved.append(fp)
        elif fp not in posted.fixed_replies and thread.first_comment_id is not None:
            gh.reply_to_review_comment(
                repo, pr, thread.first_comment_id, f"Fixed in {head_sha}.\n\n{FIXED_MARKER.format(fp)}"
            )
            replied.append(fp)
    return resolved, replied
