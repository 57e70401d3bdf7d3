"""The orphan sweeper: its decisions one by one, then rounds against a real Redis, real saq
job records and the FakeGitHub (check runs listed and completed through the real client)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from saq.job import Status

from ruvopt.bot import keys
from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.jobs import sweeper
from ruvopt.bot.jobs.sweeper import BENCH_ORPHAN_TITLE, LATE_TITLE, ORPHAN_TITLE, Decision, Orphan, Sweeper, decide
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue import intake
from ruvopt.bot.queue.jobs import BenchJob, CommandJob, ReviewJob
from ruvopt.bot.report import bench as bench_report
from ruvopt.bot.report.check_run import RECHECK, create_run
from tests.fakegithub import FakeGitHub
from tests.review_support import install_list_for_ref

REPO, INSTALLATION, PR = "octo-org/orphans", 4321, 7
HEAD, NEWER, BASE = "a" * 40, "b" * 40, "c" * 40
NOW = 1_800_000_000.0


def orphan(
    function: str = "review",
    *,
    age: float = 120,
    alive: bool = False,
    done: bool = False,
    latest: str | None = HEAD,
    resumes: int = 0,
    force: bool = False,
) -> Orphan:
    kwargs: dict[str, Any] = {"installation": INSTALLATION, "repo": REPO, "pr": PR, "delivery": "d-1"}
    if function == "review":
        kwargs |= {"head_sha": HEAD, "base_sha": BASE, "force": force}
    else:
        kwargs |= {"comment_id": 99, "author": "maintainer", "body": "/ruvopt recheck"}
    status = "active" if alive else "aborted"
    return Orphan(f"{function}:x", function, kwargs, NOW - age, status, alive, done, latest, resumes)


@pytest.fixture
def settings(fake_github: FakeGitHub, redis_url: str) -> Any:
    return fake_github.settings(
        redis_url=redis_url, write_spacing_seconds=0, run_sweep_seconds=5, run_deadline_seconds=600, review_resumes=2
    )


def test_a_job_still_queued_or_running_is_left_alone(settings):
    assert decide(orphan(alive=True), NOW, settings) is None
    assert decide(orphan("command", alive=True, age=10_000), NOW, settings) is None  # commands have no run


def test_a_dead_review_of_the_current_head_is_resumed_without_touching_its_run_yet(settings):
    assert decide(orphan(), NOW, settings) == Decision(resume=True, close=None, drop=False)


def test_past_the_deadline_a_resumed_review_also_completes_its_run(settings):
    decision = decide(orphan(age=601), NOW, settings)
    assert decision is not None
    assert decision.resume
    assert decision.close is not None
    assert decision.close[0] == ORPHAN_TITLE
    assert "Re-check" in decision.close[1]


def test_a_review_running_past_the_deadline_unblocks_the_pr_and_keeps_its_record(settings):
    decision = decide(orphan(alive=True, age=601), NOW, settings)
    assert decision is not None
    assert decision.close is not None
    assert (decision.resume, decision.drop, decision.close[0]) == (False, False, LATE_TITLE)


def test_a_superseded_head_gets_its_run_closed_as_superseded(settings):
    decision = decide(orphan(latest=NEWER), NOW, settings)
    assert decision == Decision(
        False, (f"Superseded by {NEWER[:12]}", f"A newer push (`{NEWER}`) is reviewed instead."), True
    )
    forced = decide(orphan(latest=NEWER, force=True), NOW, settings)  # a re-check asked for this head
    assert forced is not None
    assert forced.resume


def test_after_the_last_resume_the_run_is_completed_neutral_and_the_record_dropped(settings):
    decision = decide(orphan(resumes=2), NOW, settings)
    assert decision is not None
    assert (decision.resume, decision.drop) == (False, True)
    assert decision.close is not None
    assert "Every attempt failed" in decision.close[1]


def test_a_dead_command_is_resumed_until_handled(settings):
    assert decide(orphan("command"), NOW, settings) == Decision(True, None, False)
    handled = decide(orphan("command", done=True), NOW, settings)
    given_up = decide(orphan("command", resumes=2), NOW, settings)
    assert handled is not None
    assert (handled.resume, handled.drop) == (False, True)
    assert given_up is not None
    assert (given_up.resume, given_up.drop) == (False, True)


# --- rounds ---------------------------------------------------------------------------------------


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def github(fake_github: FakeGitHub, settings: Any) -> GitHubClient:
    install_list_for_ref()
    fake_github.add_repo(REPO, installation_id=INSTALLATION)
    return GitHubClient.for_installation(settings, INSTALLATION)


async def queued(queues: queue.Queues, settings: Any, job: ReviewJob) -> Any:
    """``job`` enqueued the one way reviews are (the intake), as saq stores it."""
    accepted = await intake.accept(queues, settings, delivery=f"d-{job.key}", job=job)
    assert accepted.enqueued
    return await queues.review.job(job.key)


async def dead_review(redis: Redis, queues: queue.Queues, settings: Any, status: Status = Status.ABORTED) -> Any:
    """A review job that started (tracked) and then died the way saq records it."""
    job = await queued(queues, settings, ReviewJob(INSTALLATION, REPO, PR, HEAD, BASE, delivery="d-1"))
    await sweeper.track(redis, job)
    await queues.review.finish(job, status, error="swept")
    return job


async def test_a_round_completes_the_run_of_a_review_that_died_for_good(redis, settings, github, fake_github):
    queues = queue.make_queues(redis)
    run = create_run(github, REPO, HEAD)
    await redis.set(keys.pr_head(REPO, PR), f"1 {HEAD}")
    await dead_review(redis, queues, settings)
    await redis.set(f"ruvopt:resumed:review:{REPO}@{HEAD}", 2)  # both resumes spent
    done = await Sweeper(settings, redis, queues).round(time.time() + 10)
    assert done["closed"] == done["dropped"] == [f"review:{REPO}@{HEAD}"]
    (stored,) = fake_github.check_runs(REPO)
    assert (stored.id, stored.status, stored.conclusion, stored.title) == (run.id, "completed", "neutral", ORPHAN_TITLE)
    assert "d-1" in (stored.summary or "")
    assert stored.actions == [RECHECK]
    assert await redis.zcard(sweeper.OPEN) == 0


async def test_a_round_enqueues_again_a_review_whose_job_died_and_keeps_watching_it(redis, settings, github):
    queues = queue.make_queues(redis)
    await dead_review(redis, queues, settings, Status.FAILED)
    done = await Sweeper(settings, redis, queues).round(time.time() + 10)
    assert done["resumed"] == [f"review:{REPO}@{HEAD}"]
    assert not done["closed"]
    job = await queues.review.job(keys.review_job(REPO, HEAD))
    assert job is not None
    assert job.status == Status.QUEUED
    assert job.kwargs["delivery"] == "d-1"
    assert await redis.zscore(sweeper.OPEN, f"review:{REPO}@{HEAD}") is not None
    again = await Sweeper(settings, redis, queues).round(time.time() + 10)  # the job is queued: alive
    assert not any(again.values())


async def test_a_completed_job_leaves_no_record(redis, settings):
    queues = queue.make_queues(redis)
    job = await queued(queues, settings, ReviewJob(INSTALLATION, REPO, PR, HEAD, BASE))
    await sweeper.track(redis, job)
    await queues.review.finish(job, Status.COMPLETE)
    await sweeper.settle(redis, job)
    assert await redis.zcard(sweeper.OPEN) == 0
    assert not await redis.keys("ruvopt:unfinished:*")


async def test_a_round_skips_records_younger_than_one_round(redis, settings, github):
    queues = queue.make_queues(redis)
    await dead_review(redis, queues, settings)
    assert not any((await Sweeper(settings, redis, queues).round(time.time())).values())


# --- benches ------------------------------------------------------------------------------------


async def dead_bench(redis: Redis, queues: queue.Queues, settings: Any) -> Any:
    """A bench job that started (tracked) and died with its worker (saq's sweep aborted it)."""
    bench = BenchJob(INSTALLATION, REPO, PR, HEAD, BASE, requested_by="maintainer", comment_id=99, delivery="d-7")
    ticket = await queue.enqueue_bench(queues, settings, bench)
    assert ticket.running_job is None
    job = await queues.bench.job(bench.key)
    await sweeper.track(redis, job)
    await queues.bench.finish(job, Status.ABORTED, error="swept")
    return job


async def test_a_dead_bench_is_run_again_on_the_bench_queue(redis, settings, github):
    queues = queue.make_queues(redis)
    await dead_bench(redis, queues, settings)
    done = await Sweeper(settings, redis, queues).round(time.time() + 10)
    assert done["resumed"] == [keys.bench_job(REPO, PR)]
    assert not done["closed"]
    job = await queues.bench.job(keys.bench_job(REPO, PR))
    assert job is not None
    assert job.status == Status.QUEUED
    assert job.kwargs["head_sha"] == HEAD
    assert BenchJob.from_kwargs(job.kwargs).delivery == "d-7"  # the same request, pinned head and all


async def test_a_bench_that_died_for_good_gets_its_bench_run_completed(redis, settings, github, fake_github):
    queues = queue.make_queues(redis)
    run_id = bench_report.open_run(github, REPO, HEAD, settings.app_id, "measuring")
    await dead_bench(redis, queues, settings)
    await redis.set(keys.resumed(keys.bench_job(REPO, PR)), 2)  # both resumes spent
    done = await Sweeper(settings, redis, queues).round(time.time() + 10)
    assert done["closed"] == done["dropped"] == [keys.bench_job(REPO, PR)]
    (stored,) = fake_github.check_runs(REPO)
    assert (stored.id, stored.name, stored.status, stored.conclusion) == (
        run_id,
        "ruvopt/bench",
        "completed",
        "neutral",
    )
    assert stored.title == BENCH_ORPHAN_TITLE
    assert "Run bench" in (stored.summary or "")
    assert "d-7" in (stored.summary or "")


async def test_a_command_whose_workers_kept_dying_gets_an_answer_when_the_sweeper_gives_up(
    redis, settings, github, fake_github
):
    # Found by the chaos suite: two resumes spent, the job gone — the comment stayed unanswered.
    fake_github.add_pull(REPO, PR, head_sha=HEAD, base_sha=BASE)
    queues = queue.make_queues(redis)
    command = CommandJob(INSTALLATION, REPO, PR, 900003, "maintainer", "/ruvopt recheck", "d-7")
    accepted = await intake.accept(queues, settings, delivery="d-7", job=command)
    assert accepted.enqueued
    job = await queues.review.job(command.key)
    await sweeper.track(redis, job)
    await queues.review.finish(job, Status.ABORTED, error="swept")
    await redis.set(keys.resumed(command.key), 2)  # both resumes spent
    sweep = Sweeper(settings, redis, queues)
    done = await sweep.round(time.time() + 10)
    assert done["answered"] == done["dropped"] == [command.key]
    (reply,) = fake_github.issue_comments(REPO, PR)
    assert reply.body.startswith("@maintainer ruvopt could not finish `/ruvopt recheck`")
    assert "d-7" in reply.body
    assert reply.body.rstrip().endswith("<!-- ruvopt:reply-to:900003 -->")
    assert await redis.zcard(sweeper.OPEN) == 0
