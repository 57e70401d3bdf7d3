"""New heads of pull requests → a review job (and the older queued review is dropped)."""

from __future__ import annotations

from bot import queue
from bot.events import PullRequestEvent
from bot.routing import Delivery, Outcome, Router

router = Router()


@router.register("pull_request", "opened")
async def pull_request_opened(delivery: Delivery) -> Outcome:
    return await review_head(delivery, PullRequestEvent.model_validate(delivery.payload))


@router.register("pull_request", "synchronize")
async def pull_request_synchronize(delivery: Delivery) -> Outcome:
    return await review_head(delivery, PullRequestEvent.model_validate(delivery.payload))


@router.register("pull_request", "reopened")
async def pull_request_reopened(delivery: Delivery) -> Outcome:
    return await review_head(delivery, PullRequestEvent.model_validate(delivery.payload))


@router.register("pull_request", "ready_for_review")
async def pull_request_ready_for_review(delivery: Delivery) -> Outcome:
    return await review_head(delivery, PullRequestEvent.model_validate(delivery.payload))


async def review_head(delivery: Delivery, event: PullRequestEvent) -> Outcome:
    pull, repo = event.pull_request, event.repository.full_name
    redis = delivery.queues.redis
    # The map is filled even for drafts: check events of a fork's head need it later.
    head = await queue.remember_head(redis, repo, pull.number, pull.head.sha, pull.base.sha, pull.updated_at)
    if not head.accepted:
        return Outcome.ignored(f"{repo}#{pull.number}: a newer head than {pull.head.sha[:12]} is known")
    if pull.draft:
        return Outcome.ignored(f"{repo}#{pull.number} is a draft; reviewed when ready for review")
    if head.previous_sha:
        await queue.supersede_review(delivery.queues, repo, head.previous_sha)
    job = await queue.enqueue_review(
        delivery.queues, delivery.settings, installation=event.installation.id, repo=repo,
        pr=pull.number, head_sha=pull.head.sha, base_sha=pull.base.sha, delivery=delivery.id,
    )  # fmt: skip
    state = "queued" if job else "already queued"
    return Outcome.queued(f"review of {repo}#{pull.number}@{pull.head.sha[:12]} {state}")
