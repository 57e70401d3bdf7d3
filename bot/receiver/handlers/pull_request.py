"""New heads of pull requests → a review job (and the older queued review is dropped, atomically)."""

from __future__ import annotations

from ruvopt.bot.queue import intake
from ruvopt.bot.queue.jobs import ReviewJob
from ruvopt.bot.receiver.events import PullRequestEvent
from ruvopt.bot.receiver.routing import Delivery, Outcome, Router

router = Router()


@router.register("pull_request", "opened")
async def pull_request_opened(delivery: Delivery) -> Outcome:
    return await review_head(delivery, delivery.parse(PullRequestEvent))


@router.register("pull_request", "synchronize")
async def pull_request_synchronize(delivery: Delivery) -> Outcome:
    return await review_head(delivery, delivery.parse(PullRequestEvent))


@router.register("pull_request", "reopened")
async def pull_request_reopened(delivery: Delivery) -> Outcome:
    return await review_head(delivery, delivery.parse(PullRequestEvent))


@router.register("pull_request", "ready_for_review")
async def pull_request_ready_for_review(delivery: Delivery) -> Outcome:
    return await review_head(delivery, delivery.parse(PullRequestEvent))


async def review_head(delivery: Delivery, event: PullRequestEvent) -> Outcome:
    pull, repo = event.pull_request, event.repository.full_name
    head = intake.Head(pull.number, pull.head.sha, pull.base.sha, pull.updated_at)
    # Drafts are not reviewed, but their head is recorded: check events need the map.
    job = ReviewJob(event.installation.id, repo, pull.number, pull.head.sha, pull.base.sha, delivery=delivery.id)
    accepted = await intake.accept(
        delivery.queues, delivery.settings, delivery=delivery.id, job=None if pull.draft else job, repo=repo, head=head
    )
    if accepted.stale_head:
        return Outcome.ignored(f"{repo}#{pull.number}: a newer head than {pull.head.sha[:12]} is known")
    # The previous head's queued review, if any, went in the same script (intake._ACCEPT).
    if pull.draft and not accepted.duplicate:
        return Outcome.ignored(f"{repo}#{pull.number} is a draft; reviewed when ready for review")
    return Outcome.of(accepted, f"review of {repo}#{pull.number}@{pull.head.sha[:12]}")
