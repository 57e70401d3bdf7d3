"""Failure modes of the whole App, with the processes of ``test_e2e``: a worker SIGKILLed in
the middle of a review, Redis restarted between accept and processing, GitHub answering
502 or a secondary rate limit, a burst of deliveries, a manifest that does not parse.

Workers are started per test (some tests kill them) with a 2 s heartbeat and a 1 s
sweep, so a killed job is re-run within seconds instead of the production ~20 s.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import payloads
from tests.app_stack import AppStack, pull_request_event
from tests.fakegithub import FakeGitHub, FakeGitHubServer
from tests.githttp import GitHttpServer
from tests.plugins.redis_server import RedisServer
from tests.review_support import CRATE, PullWorld, unsafe_reads
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

LIB = CRATE["src/lib.rs"]
FAST_RECOVERY = {"RUVOPT_JOB_HEARTBEAT_SECONDS": "2", "RUVOPT_SWEEP_SECONDS": "1"}
TIMEOUT_S = 60
_names = itertools.count(1)


@pytest.fixture(scope="module")
def receiver(
    fake_github_server: FakeGitHubServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppStack]:
    app = AppStack(
        fake_github_server.fake,
        redis_server.url,
        tmp_path_factory.mktemp("reliability"),
        RUVOPT_WRITE_SPACING_SECONDS="0.2",
        **FAST_RECOVERY,
    )
    app.start_receiver()
    yield app
    app.stop()


@pytest.fixture
def stack(receiver: AppStack, redis_url: str, fake_github: FakeGitHub) -> Iterator[AppStack]:
    yield receiver
    receiver.stop_workers(kill=True)  # the test is over: nothing left to finish cleanly


@pytest.fixture
def world(fake_github: FakeGitHub, git_http_server: GitHttpServer, tmp_path: Path) -> Any:
    def make(head: dict[str, str], *, server: GitHttpServer | None = None, pr: int = 7) -> PullWorld:
        repo = f"octo-org/sturdy-{next(_names)}"
        return PullWorld.create(fake_github, server or git_http_server, tmp_path, CRATE, head, repo=repo, pr=pr)

    return make


class HeldGit:
    """``token_ok`` for a git server that holds every request until released: the review
    is then reliably in the middle (check run created, fetch under way) when it is killed."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.held = threading.Event()
        self.released = threading.Event()

    def __call__(self, token: str) -> bool:
        if not self.fake.token_valid(token):
            return False  # not our worker (another process that found this loopback port)
        self.held.set()
        self.released.wait(TIMEOUT_S)
        return True


def sent(stack: AppStack, world: PullWorld, action: str = "opened", **kwargs: Any) -> None:
    response = stack.post("pull_request", pull_request_event(world, action, **kwargs))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued", response.text


def one_of_each(fake: FakeGitHub, world: PullWorld) -> Any:
    (run,) = fake.check_runs(world.repo)
    (review,) = fake.reviews(world.repo, world.pr)
    (summary,) = fake.issue_comments(world.repo, world.pr)
    return run, review, summary


def test_a_worker_killed_mid_review_is_replaced_and_still_one_check_run(stack, world, fake_github, tmp_path):
    hold = HeldGit(fake_github)
    server = GitHttpServer(tmp_path / "held-git", token_ok=hold).start()
    try:
        pr = world({"src/lib.rs": LIB + unsafe_reads("read", 3)}, server=server)
        first = stack.start_worker()
        sent(stack, pr)
        wait_for(hold.held.is_set, TIMEOUT_S, "the first worker to start fetching")
        wait_for(lambda: "ruvopt.review: reviewing" in stack.log(first), TIMEOUT_S, "the first attempt's log")
        (started,) = fake_github.check_runs(pr.repo)
        assert started.status == "in_progress"
        stack.kill_worker(first)
        hold.released.set()
        second = stack.start_worker()
        wait_for(lambda: stack.reviewed(pr), TIMEOUT_S, "the re-run of the killed review")
    finally:
        hold.released.set()
        server.stop()
    run, review, _ = one_of_each(fake_github, pr)
    assert run.id == started.id
    assert run.status == "completed"
    assert len(run.annotations) == 3
    assert len(fake_github.review_comments(pr.repo, pr.pr)) == 3
    assert review.commit_id == pr.head
    for proc in (first, second):  # both attempts got as far as the check run: the same one
        assert f"(check run {started.id}," in stack.log(proc), stack.log(proc)


def test_a_job_accepted_before_a_redis_restart_is_reviewed_after_it(stack, world, fake_github, redis_server):
    pr = world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    sent(stack, pr)  # accepted and queued; no worker is running yet
    redis_server.restart(hard=True)
    stack.start_worker()
    wait_for(lambda: stack.reviewed(pr), TIMEOUT_S, "the review queued before the restart")
    run, _, _ = one_of_each(fake_github, pr)
    assert run.status == "completed"


def test_a_502_from_github_is_retried_and_the_review_posted_once(stack, world, fake_github):
    pr = world({"src/lib.rs": LIB + unsafe_reads("read", 2)})
    fake_github.fail_next("POST", f"/repos/{pr.repo}/pulls/{pr.pr}/reviews", 502)
    stack.start_worker()
    sent(stack, pr)
    wait_for(lambda: stack.reviewed(pr), TIMEOUT_S, "the review")
    calls = fake_github.calls("POST", f"/repos/{pr.repo}/pulls/{pr.pr}/reviews")
    assert [c.status for c in calls] == [502, 200]
    one_of_each(fake_github, pr)


def test_a_secondary_rate_limit_is_waited_out_as_retry_after_says(stack, world, fake_github):
    pr = world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    fake_github.secondary_rate_limit("POST", f"/repos/{pr.repo}/issues/{pr.pr}/comments", retry_after=2)
    stack.start_worker()
    sent(stack, pr)
    wait_for(lambda: stack.reviewed(pr), TIMEOUT_S, "the review")
    limited, posted = fake_github.calls("POST", f"/repos/{pr.repo}/issues/{pr.pr}/comments")
    assert (limited.status, posted.status) == (403, 201)
    assert posted.at - limited.at >= 2.0
    one_of_each(fake_github, pr)


def test_twenty_concurrent_deliveries_for_five_prs_make_five_reviews(stack, world, fake_github):
    worlds = [world({"src/lib.rs": LIB + unsafe_reads(f"read{i}", 2)}, pr=10 + i) for i in range(5)]
    old_heads = [w.head for w in worlds]
    for w in worlds:
        w.push({"README.md": "# engine\n\npushed again\n"})
    stack.start_worker()
    deliveries = []
    for w, old in zip(worlds, old_heads, strict=True):
        synchronize, guid = pull_request_event(w, "synchronize"), f"sync-{w.repo.replace('/', '-')}"
        deliveries += [
            (pull_request_event(w, "opened", head=old), None),  # the older head, delivered late
            (synchronize, guid),
            (synchronize, guid),  # and GitHub's redelivery of it
            (pull_request_event(w, "reopened"), None),
        ]
    statuses = asyncio.run(post_all(stack, deliveries))
    assert len(statuses) == 20
    assert set(statuses) <= {200, 202}
    wait_for(lambda: all(stack.reviewed(w) for w in worlds), TIMEOUT_S, "five reviews")
    for w, old in zip(worlds, old_heads, strict=True):
        run, review, _ = one_of_each(fake_github, w)
        assert run.head_sha == review.commit_id == w.head != old
    assert len(fake_github.check_runs()) == 5


async def post_all(stack: AppStack, deliveries: list[tuple[dict[str, Any], str | None]]) -> list[int]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as client:

        async def post(payload: dict[str, Any], guid: str | None) -> int:
            body, headers = payloads.delivery("pull_request", payload, guid=guid)
            return (await client.post("/webhook", content=body, headers=headers)).status_code

        return list(await asyncio.gather(*(post(p, g) for p, g in deliveries)))


def test_a_cargo_toml_that_does_not_parse_gets_a_check_run_that_says_so(stack, world, fake_github):
    broken = CRATE["Cargo.toml"].replace('version = "0.1.0"', 'version = "0.1.0')
    pr = world({"Cargo.toml": broken})
    stack.start_worker()
    sent(stack, pr)
    wait_for(lambda: stack.reviewed(pr), TIMEOUT_S, "the review")
    (run,) = fake_github.check_runs(pr.repo)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert re.match(
        r"Failing: Cargo\.toml:3: Fix this TOML: the string that starts on this line is never closed", run.title
    )
    (annotation,) = run.annotations
    assert (annotation["path"], annotation["start_line"], annotation["annotation_level"]) == (
        "Cargo.toml",
        3,
        "failure",
    )
