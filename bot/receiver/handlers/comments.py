"""``/ruvopt …`` comments on pull requests → a command job (parsed and authorised there)."""

from __future__ import annotations

from ruvopt.bot import commands
from ruvopt.bot.queue import intake
from ruvopt.bot.queue.jobs import CommandJob
from ruvopt.bot.receiver.events import IssueCommentEvent
from ruvopt.bot.receiver.routing import Delivery, Outcome, Router

router = Router()


@router.register("issue_comment", "created")
async def issue_comment_created(delivery: Delivery) -> Outcome:
    event = delivery.parse(IssueCommentEvent)
    repo, number = event.repository.full_name, event.issue.number
    if event.issue.pull_request is None:
        return Outcome.ignored(f"{repo}#{number} is an issue, not a pull request")
    if commands.find_command(event.comment.body) is None:
        return Outcome.ignored("no /ruvopt command in the comment")
    comment = event.comment
    job = CommandJob(event.installation.id, repo, number, comment.id, comment.user.login, comment.body, delivery.id)
    accepted = await intake.accept(delivery.queues, delivery.settings, delivery=delivery.id, job=job)
    return Outcome.of(accepted, f"command from comment {comment.id}")
