"""Pull requests, their files, reviews and review comments (with GitHub's diff rules)."""

from __future__ import annotations

from typing import Any

from tests.fakegithub import render
from tests.fakegithub.core import ApiError, Call, Reply, handles
from tests.fakegithub.state import Pull, Repo, Review, ReviewComment, Thread, iso

OUTSIDE_DIFF = "Pull request review thread line must be part of the diff"


def _pull(call: Call) -> tuple[Repo, Pull]:
    repo = call.repo()
    pull = repo.pulls.get(call.params["pull_number"])
    if pull is None:
        raise ApiError(404, "Not Found")
    return repo, pull


def _branch(call: Call, repo: Repo, full_name: str, ref: str, sha: str) -> dict[str, Any]:
    world = call.fake.world
    source = world.repos.get(full_name) or Repo(*full_name.split("/", 1), id=abs(hash(full_name)) % 10**7)
    return {
        "label": f"{source.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": render.user(call.fake, source.owner),
        "repo": render.repository(call.fake, source),
    }


@handles("pulls/get")
def get(call: Call) -> Reply:
    repo, pull = _pull(call)
    fake = call.fake
    body = {
        "id": repo.id * 100_000 + pull.number,
        "node_id": f"PR_{repo.id}_{pull.number}",
        "number": pull.number,
        "state": pull.state,
        "title": pull.title,
        "draft": pull.draft,
        "user": render.user(fake, pull.user),
        "url": f"{fake.url}/repos/{repo.full_name}/pulls/{pull.number}",
        "html_url": f"{fake.html_url}/{repo.full_name}/pull/{pull.number}",
        "head": _branch(call, repo, pull.head_repo or repo.full_name, pull.head_ref, pull.head_sha),
        "base": _branch(call, repo, repo.full_name, pull.base_ref, pull.base_sha),
        "merged": False,
        "changed_files": len(pull.files),
        "additions": sum(f.additions for f in pull.files),
        "deletions": sum(f.deletions for f in pull.files),
    }
    return Reply(200, body)


@handles("pulls/list-files")
def list_files(call: Call) -> Reply:
    repo, pull = _pull(call)
    blob = f"{call.fake.html_url}/{repo.full_name}/blob/{pull.head_sha}"
    items = [
        {
            "sha": "0" * 40,
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
            "blob_url": f"{blob}/{f.filename}",
            "raw_url": f"{blob}/{f.filename}?raw=true",
            "contents_url": f"{call.fake.url}/repos/{repo.full_name}/contents/{f.filename}?ref={pull.head_sha}",
            **({"patch": f.patch} if f.patch is not None else {}),
            **({"previous_filename": f.previous_filename} if f.previous_filename else {}),
        }
        for f in pull.files
    ]
    return render.paged(call, items)


def _place(pull: Pull, spec: dict[str, Any]) -> tuple[str, int, int | None, str]:
    """(side, line, start_line, diff_hunk) of a comment, or 422 as GitHub answers it."""
    file = pull.file(spec["path"])
    if file is None:
        raise ApiError(422, "Unprocessable Entity", ["Path could not be resolved"])
    if "position" in spec:
        if "line" in spec:
            raise ApiError(422, "Unprocessable Entity", ["position and line cannot be used together"])
        placed = file.position_to_line(spec["position"])
        if placed is None:
            raise ApiError(422, "Unprocessable Entity", [OUTSIDE_DIFF])
        side, line = placed
        return side, line, None, file.hunk_text(side, line)
    if "line" not in spec:
        raise ApiError(422, "Unprocessable Entity", ["line is required"])
    side, line = spec.get("side", "RIGHT"), spec["line"]
    if side not in ("LEFT", "RIGHT"):
        raise ApiError(422, "Unprocessable Entity", [f"side must be LEFT or RIGHT, not {side!r}"])
    lines = file.commentable()
    if line not in lines[side]:
        raise ApiError(422, "Unprocessable Entity", [OUTSIDE_DIFF])
    start = spec.get("start_line")
    if start is not None:
        start_side = spec.get("start_side", side)
        if start >= line or start not in lines[start_side] or lines[start_side][start] != lines[side][line]:
            raise ApiError(422, "Unprocessable Entity", ["start_line must precede line within the same hunk"])
    return side, line, start, file.hunk_text(side, line)


def _new_comment(
    call: Call, repo: Repo, pull: Pull, review_id: int, spec: dict[str, Any], commit_id: str
) -> ReviewComment:
    side, line, start, hunk = _place(pull, spec)
    world = call.fake.world
    cid = world.next_id()
    now = iso(call.fake.clock())
    thread = Thread(f"PRRT_{cid}", repo.full_name, pull.number, [cid])
    world.threads[thread.node_id] = thread
    return ReviewComment(
        cid,
        review_id,
        repo.full_name,
        pull.number,
        spec["path"],
        line,
        side,
        spec["body"],
        commit_id,
        call.fake.bot_login,
        thread.node_id,
        hunk,
        now,
        start_line=start,
        start_side=spec.get("start_side", side) if start else None,
        updated_at=now,
    )


@handles("pulls/create-review")
def create_review(call: Call) -> Reply:
    repo, pull = _pull(call)
    body = call.body or {}
    commit_id = body.get("commit_id", pull.head_sha)
    if commit_id not in pull.commits | {pull.head_sha}:
        raise ApiError(422, "Unprocessable Entity", ["commit_id is not part of the pull request"])
    event = body.get("event")
    if event in ("COMMENT", "REQUEST_CHANGES") and not body.get("body"):
        raise ApiError(422, "Unprocessable Entity", [f"Review body is required for {event}"])
    world = call.fake.world
    review_id = world.next_id()
    # All or nothing: one unplaceable comment rejects the whole review (GitHub does the same).
    comments = [_new_comment(call, repo, pull, review_id, c, commit_id) for c in body.get("comments", [])]
    state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}.get(event or "")
    review = Review(
        review_id,
        repo.full_name,
        pull.number,
        commit_id,
        body.get("body", ""),
        state or "PENDING",
        call.fake.bot_login,
        iso(call.fake.clock()),
    )
    world.reviews[review.id] = review
    for comment in comments:
        world.review_comments[comment.id] = comment
    return Reply(200, _review(call, review))


def _review(call: Call, review: Review) -> dict[str, Any]:
    fake = call.fake
    pr_url = f"{fake.url}/repos/{review.repo}/pulls/{review.pr}"
    html = f"{fake.html_url}/{review.repo}/pull/{review.pr}#pullrequestreview-{review.id}"
    return {
        "id": review.id,
        "node_id": f"PRR_{review.id}",
        "user": render.user(fake, review.user),
        "body": review.body,
        "state": review.state,
        "commit_id": review.commit_id,
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": review.submitted_at if review.state != "PENDING" else None,
        "author_association": "NONE",
    }


@handles("pulls/list-reviews")
def list_reviews(call: Call) -> Reply:
    repo, pull = _pull(call)
    reviews = [r for r in call.fake.world.reviews.values() if r.repo == repo.full_name and r.pr == pull.number]
    return render.paged(call, [_review(call, r) for r in reviews])


def _comment(call: Call, c: ReviewComment) -> dict[str, Any]:
    fake = call.fake
    url = f"{fake.url}/repos/{c.repo}/pulls/comments/{c.id}"
    html = f"{fake.html_url}/{c.repo}/pull/{c.pr}#discussion_r{c.id}"
    pr_url = f"{fake.url}/repos/{c.repo}/pulls/{c.pr}"
    out: dict[str, Any] = {
        "url": url,
        "id": c.id,
        "node_id": f"PRRC_{c.id}",
        "pull_request_review_id": c.review_id,
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "user": render.user(fake, c.user),
        "body": c.body,
        "created_at": c.created_at,
        "updated_at": c.updated_at or c.created_at,
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": "NONE",
        "line": c.line,
        "original_line": c.line,
        "side": c.side,
        "start_line": c.start_line,
        "original_start_line": c.start_line,
        "start_side": c.start_side,
        "subject_type": "line",
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pr_url}},
    }
    if c.in_reply_to_id is not None:
        out["in_reply_to_id"] = c.in_reply_to_id
    return out


@handles("pulls/list-review-comments")
def list_review_comments(call: Call) -> Reply:
    repo, pull = _pull(call)
    items = [c for c in call.fake.world.review_comments.values() if c.repo == repo.full_name and c.pr == pull.number]
    return render.paged(call, [_comment(call, c) for c in sorted(items, key=lambda c: c.id)])


@handles("pulls/create-review-comment")
def create_review_comment(call: Call) -> Reply:
    repo, pull = _pull(call)
    body = call.body
    if "in_reply_to" in body:
        return _reply_to(call, repo, pull, body["in_reply_to"], body["body"])
    if body.get("commit_id") not in pull.commits | {pull.head_sha}:
        raise ApiError(422, "Unprocessable Entity", ["commit_id is not part of the pull request"])
    world = call.fake.world
    comment = _new_comment(call, repo, pull, world.next_id(), body, body["commit_id"])
    world.review_comments[comment.id] = comment
    return Reply(201, _comment(call, comment))


@handles("pulls/create-reply-for-review-comment")
def create_reply(call: Call) -> Reply:
    repo, pull = _pull(call)
    return _reply_to(call, repo, pull, call.params["comment_id"], call.body["body"])


def _reply_to(call: Call, repo: Repo, pull: Pull, parent_id: int, text: str) -> Reply:
    world = call.fake.world
    parent = world.review_comments.get(parent_id)
    if parent is None or parent.repo != repo.full_name or parent.pr != pull.number:
        raise ApiError(404, "Not Found")
    now = iso(call.fake.clock())
    reply = ReviewComment(
        world.next_id(),
        world.next_id(),
        repo.full_name,
        pull.number,
        parent.path,
        parent.line,
        parent.side,
        text,
        parent.commit_id,
        call.fake.bot_login,
        parent.thread_id,
        parent.diff_hunk,
        now,
        in_reply_to_id=parent.id,
        updated_at=now,
    )
    world.review_comments[reply.id] = reply
    world.threads[parent.thread_id].comment_ids.append(reply.id)
    return Reply(201, _comment(call, reply))
