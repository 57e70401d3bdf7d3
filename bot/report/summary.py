"""The sticky summary comment: one per pull request, found by its hidden marker and
edited in place on every review.

The body is :func:`ruvopt.checks.render.markdown.render` (checklist status per crate, every
metric Before → After, counts by rule, the findings) with an "Inline review" section
after its header: the counts every output states, and the new findings that got no
inline comment — with the reason, the fix and any suggested replacement — so nothing
that did not fit in the review is lost.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from ruvopt.bot.github.limits import MAX_COMMENT_BODY
from ruvopt.bot.report import bench_section
from ruvopt.bot.report.counts import Counts
from ruvopt.bot.report.review import Selection, fence
from ruvopt.checks.model import Finding
from ruvopt.checks.render import markdown
from ruvopt.checks.render.view import View

MARKER = markdown.MARKER
MAX_SECTION = 16_000  # characters of the "Inline review" section; the report gets the rest


def _item(finding: Finding, reason: str) -> list[str]:
    lines = [f"- `{finding.path}:{finding.start_line}` **{finding.code}** {finding.message} _({reason})_"]
    if finding.fix_title:
        lines.append(f"  Fix: {finding.fix_title}")
    edit = finding.suggestion
    if edit is not None and len(edit.replacement) <= 2_000:
        mark = fence(edit.replacement)
        body = "\n".join(f"  {line}" for line in edit.replacement.split("\n"))
        lines += [f"  Replace lines {edit.start_line}–{edit.end_line} with:", f"  {mark}", body, f"  {mark}"]
    return [line.replace("\r", "") for line in lines]


def review_section(counts: Counts, selection: Selection, limit: int = MAX_SECTION) -> list[str]:
    lines = ["### Inline review", "", counts.sentence()]
    rest = selection.summary_only
    if not rest:
        return lines
    lines += ["", f"<details><summary>{len(rest)} new finding(s) not commented inline</summary>", ""]
    size = sum(len(line) + 1 for line in lines)
    for i, (finding, reason) in enumerate(rest):
        item = _item(finding, reason)
        cost = sum(len(line) + 1 for line in item)
        if size + cost > limit - 300:
            left = Counter(f.code for f, _ in rest[i:])
            lines.append(f"- … {len(rest) - i} more: " + ", ".join(f"{n} more {c}" for c, n in sorted(left.items())))
            break
        lines += item
        size += cost
    return [*lines, "", "</details>"]


def summary_body(view: View, counts: Counts, selection: Selection) -> str:
    section = "\n".join(review_section(counts, selection))
    report = markdown.render(view, max_chars=MAX_COMMENT_BODY - len(section) - 4)
    cut = report.find("\n\n### ")
    if cut < 0:
        return f"{report.rstrip()}\n\n{section}\n"
    return f"{report[:cut]}\n\n{section}{report[cut:]}"


def error_body(head_sha: str, what: str, fix: str) -> str:
    """The summary when ruvopt could not judge the change at all (a broken base config)."""
    return "\n".join([MARKER, "## ruvopt", "", f"⚠️ **Not reviewed** (`{head_sha[:12]}`): {what}", "", fix, ""])


# --- posting ---------------------------------------------------------------------------------


class CommentsAPI(Protocol):
    def issue_comments_json(self, repo: str, pr: int) -> list[dict[str, Any]]: ...
    def create_issue_comment(self, repo: str, pr: int, body: str) -> Any: ...
    def edit_issue_comment(self, repo: str, comment_id: int, body: str) -> Any: ...


def find_summary(gh: CommentsAPI, repo: str, pr: int) -> dict[str, Any] | None:
    for comment in gh.issue_comments_json(repo, pr):
        if (comment.get("user") or {}).get("type") == "Bot" and MARKER in (comment.get("body") or ""):
            return comment
    return None


def publish_summary(gh: CommentsAPI, repo: str, pr: int, body: str) -> tuple[int, str]:
    """Create the sticky comment once, edit it afterwards: (comment id, what was done)."""
    existing = find_summary(gh, repo, pr)
    if existing is None:
        return int(gh.create_issue_comment(repo, pr, body).id), "created"
    body = bench_section.carry_over(existing.get("body") or "", body, MAX_COMMENT_BODY)
    if existing.get("body") == body:
        return int(existing["id"]), "unchanged"
    gh.edit_issue_comment(repo, int(existing["id"]), body)
    return int(existing["id"]), "edited"
