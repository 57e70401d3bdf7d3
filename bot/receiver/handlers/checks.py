"""Re-run requests from the Checks UI → a forced review of that head; the "Run bench"
button, and "Re-run" of the ``ruvopt/bench`` run → a bench request for that head.

Only ruvopt's own check runs and suites count: GitHub sends every app's check events to
every app subscribed to them. A fork's head arrives with an empty ``pull_requests`` list,
so the PR comes from the head SHA → PR map the pull_request handler keeps.
"""

from __future__ import annotations

from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue import intake
from ruvopt.bot.queue.jobs import CommandJob, ReviewJob
from ruvopt.bot.receiver.events import CheckPull, CheckRunEvent, CheckSuiteEvent
from ruvopt.bot.receiver.routing import Delivery, Outcome, Router
from ruvopt.bot.report.actions import BENCH_ACTION, BENCH_CHECK_NAME, RECHECK_ACTION

router = Router()


def other_apps_run(delivery: Delivery, event: CheckRunEvent) -> Outcome | None:
    """Check runs of other apps (CI, linters) share the events: they are not ours to redo."""
    if event.check_run.app.id != delivery.settings.app_id:
        return Outcome.ignored(f"check run of another app ({event.check_run.app.id})")
    return None


@router.register("check_run", "rerequested")
async def check_run_rerequested(delivery: Delivery) -> Outcome:
    event = delivery.parse(CheckRunEvent)
    if (ignored := other_apps_run(delivery, event)) is not None:
        return ignored
    if event.check_run.name == BENCH_CHECK_NAME:
        return await bench_request(delivery, event)
    return await forced_review(delivery, event, event.check_run.head_sha, event.check_run.pull_requests)


@router.register("check_run", "requested_action")
async def check_run_requested_action(delivery: Delivery) -> Outcome:
    event = delivery.parse(CheckRunEvent)
    if (ignored := other_apps_run(delivery, event)) is not None:
        return ignored
    action = event.requested_action.identifier if event.requested_action else None
    if action == BENCH_ACTION:
        return await bench_request(delivery, event)
    if action != RECHECK_ACTION:
        return Outcome.ignored(f"unknown requested action {action!r}")
    return await forced_review(delivery, event, event.check_run.head_sha, event.check_run.pull_requests)


@router.register("check_suite", "rerequested")
async def check_suite_rerequested(delivery: Delivery) -> Outcome:
    event = delivery.parse(CheckSuiteEvent)
    if event.check_suite.app.id != delivery.settings.app_id:
        return Outcome.ignored(f"check suite of another app ({event.check_suite.app.id})")
    return await forced_review(delivery, event, event.check_suite.head_sha, event.check_suite.pull_requests)


async def find_pull(
    delivery: Delivery, event: CheckRunEvent | CheckSuiteEvent, head_sha: str, pulls: list[CheckPull]
) -> tuple[int, str] | None:
    """(PR number, base SHA) of a head: from the event, else from the head SHA → PR map."""
    # Entries can name PRs of other repositories whose head is this commit.
    listed = [p for p in pulls if p.base.repo is None or p.base.repo.id == event.repository.id]
    if listed:
        return listed[0].number, listed[0].base.sha
    return await queue.pull_for_sha(delivery.queues.redis, event.repository.full_name, head_sha)


async def bench_request(delivery: Delivery, event: CheckRunEvent) -> Outcome:
    repo, head_sha = event.repository.full_name, event.check_run.head_sha
    found = await find_pull(delivery, event, head_sha, event.check_run.pull_requests)
    if found is None:
        return Outcome.ignored(f"no pull request known for {repo}@{head_sha[:12]}")
    # The command job authorises and pins it, as it does a `/ruvopt bench` comment.
    job = CommandJob(
        event.installation.id,
        repo,
        found[0],
        0,
        event.sender.login,
        "/ruvopt bench",
        delivery=delivery.id,
        head_sha=head_sha,
    )
    accepted = await intake.accept(delivery.queues, delivery.settings, delivery=delivery.id, job=job)
    return Outcome.of(accepted, f"bench request for {repo}#{found[0]}@{head_sha[:12]}")


async def forced_review(
    delivery: Delivery, event: CheckRunEvent | CheckSuiteEvent, head_sha: str, pulls: list[CheckPull]
) -> Outcome:
    repo = event.repository.full_name
    found = await find_pull(delivery, event, head_sha, pulls)
    if found is None:
        return Outcome.ignored(f"no pull request known for {repo}@{head_sha[:12]}")
    pr, base_sha = found
    job = ReviewJob(event.installation.id, repo, pr, head_sha, base_sha, force=True, delivery=delivery.id)
    accepted = await intake.accept(delivery.queues, delivery.settings, delivery=delivery.id, job=job)
    return Outcome.of(accepted, f"re-review of {repo}#{pr}@{head_sha[:12]}")
