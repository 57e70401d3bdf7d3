"""Reactions on issue (PR conversation) comments: the 👀 that acknowledges a command."""

from __future__ import annotations

from tests.fakegithub import render
from tests.fakegithub.core import ApiError, Call, Reply, handles
from tests.fakegithub.state import iso


@handles("reactions/create-for-issue-comment")
def create_for_issue_comment(call: Call) -> Reply:
    """201 with the new reaction; 200 with the existing one when this user already left it."""
    repo = call.repo()
    comment = call.fake.world.issue_comments.get(call.params["comment_id"])
    if comment is None or comment.repo != repo.full_name:
        raise ApiError(404, "Not Found")
    login, content = call.fake.bot_login, call.body["content"]
    status = 200 if (login, content) in comment.reactions else 201
    if status == 201:
        comment.reactions.append((login, content))
    index = comment.reactions.index((login, content))
    body = {
        "id": comment.id * 100 + index,
        "node_id": f"REA_{comment.id}_{index}",
        "content": content,
        "user": render.user(call.fake, login),
        "created_at": iso(call.fake.clock()),
    }
    return Reply(status, body)
