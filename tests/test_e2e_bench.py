"""``/ruvopt bench`` end to end with real processes: ``redis-server``, ``ruvopt serve``,
``ruvopt worker --queues review,bench`` (bwrap, cargo), the FakeGitHub and a git
repository served over smart HTTP. Signed real webhook payloads go in through the
receiver; what comes out is read back from the FakeGitHub.

To keep a request queued long enough to be replaced (or its head to move), the one
bench worker is first given a ``sleep_job`` on the bench queue — the operators'
diagnostic job — so requests wait behind it exactly as they would behind a long bench.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ruvopt.bot.queue import worker
from tests import payloads
from tests.app_stack import AppStack, comment_event, pull_request_event
from tests.bench_support import bmf_crate, cargo_home
from tests.fakegithub import FakeGitHub, FakeGitHubServer
from tests.githttp import GitHttpServer
from tests.plugins.redis_server import RedisServer
from tests.queue_probe import BENCH, queued_jobs
from tests.review_support import PullWorld
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

TIMEOUT_S = 90
WRITER, READER = "maintainer-1", "reader-1"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def stack(
    fake_github_server: FakeGitHubServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppStack]:
    work = tmp_path_factory.mktemp("e2e-bench")
    env = {
        "RUVOPT_WRITE_SPACING_SECONDS": "0.2",
        "RUVOPT_BENCH_CARGO_HOME": str(cargo_home(work)),
        "RUVOPT_BENCH_COMMAND_TIMEOUT_SECONDS": "300",
    }
    app = AppStack(fake_github_server.fake, redis_server.url, work, **env)
    app.start_receiver()
    app.start_worker(queues="review,bench")
    yield app
    app.stop()


@pytest.fixture
def world(fake_github: FakeGitHub, redis_url: str, git_server: GitHttpServer, stack: AppStack, tmp_path: Path) -> Any:
    def make(head: dict[str, str]) -> PullWorld:
        repo = f"octo-org/bench-{next(_names)}"
        pr = PullWorld.create(fake_github, git_server, tmp_path, bmf_crate(73), head, repo=repo)
        fake_github.set_role(repo, WRITER, "write")
        fake_github.set_role(repo, READER, "read")
        return pr

    return make


def comment(stack: AppStack, fake: FakeGitHub, pr: PullWorld, body: str, author: str, *, bot: bool = False) -> int:
    """``body`` posted on the PR by ``author`` (in the FakeGitHub too, so it can be reacted to)."""
    posted = fake.add_issue_comment(pr.repo, pr.pr, body, user=author)
    payload = comment_event(pr, body, author, comment_id=posted.id)
    response = stack.post("issue_comment", payloads.from_bot(payload) if bot else payload)
    assert response.status_code in (200, 202), response.text
    return posted.id


def bench_runs(fake: FakeGitHub, pr: PullWorld, status: str | None = "completed") -> list[Any]:
    return [r for r in fake.check_runs(pr.repo, name="ruvopt/bench") if status is None or r.status == status]


def replies(fake: FakeGitHub, pr: PullWorld, text: str) -> list[str]:
    return [c.body for c in fake.issue_comments(pr.repo, pr.pr) if c.user == fake.bot_login and text in c.body]


def hold_the_bench_worker(stack: AppStack, seconds: float) -> None:
    """Occupy the only bench worker, so the next requests stay queued behind it."""
    asyncio.run(worker.enqueue_sleep(stack.redis_url, seconds, f"hold-{next(_names)}", queue_name="bench"))
    wait_for(lambda: not queued_jobs(stack.redis_url, BENCH), 20, "the bench worker to take the sleep job")


def test_a_writers_bench_command_yields_one_completed_ruvopt_bench_run(stack, world, fake_github):
    pr = world(bmf_crate(50))
    said = comment(stack, fake_github, pr, "Let's see.\n\n/ruvopt bench runs=1", WRITER)
    wait_for(lambda: replies(fake_github, pr, "👀 benchmark of"), TIMEOUT_S, "the acknowledgement")
    assert fake_github.world.issue_comments[said].reactions == [(fake_github.bot_login, "eyes")]
    [ack] = replies(fake_github, pr, "👀 benchmark of")
    assert ack.startswith(f"@{WRITER} 👀 benchmark of `{pr.head[:12]}` against base `{pr.base[:12]}` (runs=1) queued")
    [run] = wait_for(lambda: bench_runs(fake_github, pr), TIMEOUT_S, "the ruvopt/bench run to complete")
    assert (run.head_sha, run.conclusion) == (pr.head, "failure")
    assert "| `moe/cache_hit_rate` | 0.73 | 0.5 |" in run.summary
    assert "💸 over budget" in run.summary
    [summary] = wait_for(
        lambda: [c for c in fake_github.issue_comments(pr.repo, pr.pr) if "<!-- ruvopt:bench -->" in c.body],
        TIMEOUT_S,
        "the summary section",
    )
    assert "xychart-beta" in summary.body


def test_a_readers_bench_command_is_refused_and_nothing_is_measured(stack, world, fake_github):
    pr = world(bmf_crate(50))
    said = comment(stack, fake_github, pr, "/ruvopt bench", READER)
    [denial] = wait_for(lambda: replies(fake_github, pr, "needs write access"), TIMEOUT_S, "the denial")
    assert denial.startswith(f"@{READER} `/ruvopt bench` needs write access to this repository (you have `read`).")
    assert fake_github.world.issue_comments[said].reactions == []
    assert queued_jobs(stack.redis_url, BENCH) == []
    assert bench_runs(fake_github, pr, None) == []


def test_a_bots_bench_command_is_ignored_at_the_door(stack, world, fake_github):
    pr = world(bmf_crate(50))
    posted = fake_github.add_issue_comment(pr.repo, pr.pr, "/ruvopt bench", user="some-app[bot]")
    response = stack.post(
        "issue_comment", payloads.from_bot(comment_event(pr, "/ruvopt bench", "some-app[bot]", comment_id=posted.id))
    )
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert queued_jobs(stack.redis_url, BENCH) == []
    assert replies(fake_github, pr, "") == []


def test_a_second_command_replaces_the_queued_one_and_only_it_is_measured(stack, world, fake_github):
    pr = world(bmf_crate(90))
    hold_the_bench_worker(stack, 8)
    comment(stack, fake_github, pr, "/ruvopt bench runs=2", WRITER)
    wait_for(lambda: replies(fake_github, pr, "👀"), TIMEOUT_S, "the first acknowledgement")
    comment(stack, fake_github, pr, "/ruvopt bench runs=1", WRITER)
    [second] = wait_for(lambda: replies(fake_github, pr, "It replaces"), TIMEOUT_S, "the second acknowledgement")
    assert f"It replaces the queued request for `{pr.head[:12]}` from @{WRITER}." in second
    [run] = wait_for(lambda: bench_runs(fake_github, pr), TIMEOUT_S, "the ruvopt/bench run")
    assert run.conclusion == "success"
    assert ", 1 run per side)" in run.summary
    assert len(bench_runs(fake_github, pr, None)) == 1


def test_a_head_that_moves_while_queued_is_said_and_the_pinned_head_is_measured(stack, world, fake_github):
    pr = world(bmf_crate(90))
    hold_the_bench_worker(stack, 6)
    pinned = pr.head
    comment(stack, fake_github, pr, "/ruvopt bench runs=1", WRITER)
    wait_for(lambda: replies(fake_github, pr, "👀"), TIMEOUT_S, "the acknowledgement")
    moved = pr.push(bmf_crate(10))
    stack.post("pull_request", pull_request_event(pr, "synchronize"))
    [run] = wait_for(lambda: bench_runs(fake_github, pr), TIMEOUT_S, "the ruvopt/bench run")
    assert run.head_sha == pinned
    assert run.conclusion == "success"
    [said] = replies(fake_github, pr, "moved to")
    assert f"moved to `{moved[:12]}` after this benchmark was requested; `{pinned[:12]}`" in said


def test_the_run_bench_button_of_the_ruvopt_check_run_benches_its_commit(stack, world, fake_github):
    pr = world(bmf_crate(90))
    stack.post("pull_request", pull_request_event(pr, "opened"))
    wait_for(lambda: stack.reviewed(pr), TIMEOUT_S, "the review")
    [review_run] = fake_github.check_runs(pr.repo, name="ruvopt")
    assert [a["identifier"] for a in review_run.actions] == ["recheck", "bench"]
    press = payloads.check_run("requested_action", app_id=fake_github.app_id, head_sha=pr.head, pulls=False)
    press["requested_action"] = {"identifier": "bench"}
    press["repository"].update(
        {"id": fake_github.world.repos[pr.repo].id, "full_name": pr.repo, "name": pr.repo.split("/")[1]}
    )
    press["repository"]["owner"]["login"] = pr.repo.split("/")[0]
    press["installation"] = {"id": pr.installation, "node_id": "I_1"}
    press["sender"] = {**press["sender"], "login": WRITER, "type": "User"}
    response = stack.post("check_run", press)
    assert response.status_code == 202, response.text
    assert "bench request" in response.json()["detail"], response.text
    [run] = wait_for(lambda: bench_runs(fake_github, pr), TIMEOUT_S, "the ruvopt/bench run")
    assert run.head_sha == pr.head
    assert "with the **Run bench** button" in run.summary
    [ack] = replies(fake_github, pr, "👀 benchmark of")
    assert ack.startswith(f"@{WRITER} 👀 benchmark of `{pr.head[:12]}`")
