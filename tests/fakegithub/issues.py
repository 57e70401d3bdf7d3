"""Issue (PR conversation) comments, collaborator permissions and repositories."""

from __future__ import annotations

from typing import Any

from tests.fakegithub import render
from tests.fakegithub.core import ApiError, Call, Reply, handles
from tests.fakegithub.state import IssueComment, iso

# role_name → the legacy `permission` GitHub reports beside it
LEGACY_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}


def _comment(call: Call, c: IssueComment) -> dict[str, Any]:
    fake = call.fake
    return {
        "id": c.id,
        "node_id": f"IC_{c.id}",
        "url": f"{fake.url}/repos/{c.repo}/issues/comments/{c.id}",
        "html_url": f"{fake.html_url}/{c.repo}/pull/{c.number}#issuecomment-{c.id}",
        "issue_url": f"{fake.url}/repos/{c.repo}/issues/{c.number}",
        "body": c.body,
        "user": render.user(fake, c.user),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "author_association": "NONE",
    }


def _issue_exists(call: Call, number: int) -> None:
    if number not in call.repo().pulls:
        raise ApiError(404, "Not Found")  # the fake knows pull requests only (every PR is an issue)


@handles("issues/list-comments")
def list_comments(call: Call) -> Reply:
    repo = call.repo()
    number = call.params["issue_number"]
    _issue_exists(call, number)
    since = call.query.get("since")
    items = [
        c
        for c in call.fake.world.issue_comments.values()
        if c.repo == repo.full_name and c.number == number and (since is None or c.updated_at >= since)
    ]
    return render.paged(call, [_comment(call, c) for c in sorted(items, key=lambda c: c.id)])


@handles("issues/create-comment")
def create_comment(call: Call) -> Reply:
    repo = call.repo()
    number = call.params["issue_number"]
    _issue_exists(call, number)
    now = iso(call.fake.clock())
    comment = IssueComment(
        call.fake.world.next_id(), repo.full_name, number, call.body["body"], call.fake.bot_login, now, now
    )
    call.fake.world.issue_comments[comment.id] = comment
    return Reply(201, _comment(call, comment))


def _find(call: Call) -> IssueComment:
    repo = call.repo()
    comment = call.fake.world.issue_comments.get(call.params["comment_id"])
    if comment is None or comment.repo != repo.full_name:
        raise ApiError(404, "Not Found")
    return comment


@handles("issues/get-comment")
def get_comment(call: Call) -> Reply:
    return Reply(200, _comment(call, _find(call)))


@handles("issues/update-comment")
def update_comment(call: Call) -> Reply:
    comment = _find(call)
    if comment.user != call.fake.bot_login:
        raise ApiError(403, "Resource not accessible by integration")
    comment.body = call.body["body"]
    comment.updated_at = iso(call.fake.clock())
    return Reply(200, _comment(call, comment))


@handles("issues/delete-comment")
def delete_comment(call: Call) -> Reply:
    comment = _find(call)
    del call.fake.world.issue_comments[comment.id]
    return Reply(204, None)


@handles("repos/get-collaborator-permission-level")
def permission(call: Call) -> Reply:
    repo = call.repo()
    login = call.params["username"]
    # Anyone may read a public repository; elsewhere a stranger has no role at all.
    role = repo.roles.get(login, "none" if repo.private else "read")
    body = {
        "permission": LEGACY_PERMISSION.get(role, "none"),
        "role_name": role,
        "user": {
            **render.user(call.fake, login),
            "permissions": {"admin": role == "admin", "pull": True, "push": role in ("admin", "maintain", "write")},
        },
    }
    return Reply(200, body)


@handles("repos/get")
def get_repo(call: Call) -> Reply:
    return Reply(200, render.repository(call.fake, call.repo()))
