"""End to end with real processes: ``redis-server``, ``ruvopt serve`` (uvicorn),
``ruvopt worker``, the FakeGitHub, and a real git repository served over smart HTTP on
loopback that demands the installation token. Signed real ``@octokit/webhooks-examples``
payloads (repository, PR and SHAs rewritten to the local repository) go in through the
receiver; what comes out is read back from the FakeGitHub.

The receiver and the worker are started once for the module; Redis is flushed and the
FakeGitHub reset before each test. Writes are spaced 0.2 s (not the production 1 s) to
keep the suite short; spacing itself is tested with the GitHub client.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app_stack import AppStack, comment_event, pull_request_event
from tests.fakegithub import FakeGitHub, FakeGitHubServer
from tests.githttp import GitHttpServer
from tests.plugins.redis_server import RedisServer
from tests.queue_probe import REVIEW, job, queued_jobs
from tests.review_support import CRATE, PullWorld, unsafe_reads
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

LIB = CRATE["src/lib.rs"]
KEPT = "pub fn kept(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
FIXED = "pub fn fixed(p: *const u8) -> u8 {\n    unsafe { *p.add(1) }\n}\n"
ADDED = "pub fn added(p: *const u8) -> u8 {\n    unsafe { *p.add(2) }\n}\n"
REVIEW_TIMEOUT_S = 60
_names = itertools.count(1)


@pytest.fixture(scope="module")
def stack(
    fake_github_server: FakeGitHubServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppStack]:
    app = AppStack(
        fake_github_server.fake, redis_server.url, tmp_path_factory.mktemp("e2e"), RUVOPT_WRITE_SPACING_SECONDS="0.2"
    )
    app.start_receiver()
    app.start_worker()
    yield app
    app.stop()


@pytest.fixture
def world(fake_github: FakeGitHub, redis_url: str, git_server: GitHttpServer, stack: AppStack, tmp_path: Path) -> Any:
    def make(head: dict[str, str]) -> PullWorld:
        repo = f"octo-org/engine-{next(_names)}"  # each test its own served repository
        return PullWorld.create(fake_github, git_server, tmp_path, CRATE, head, repo=repo)

    return make


def open_and_wait(stack: AppStack, world: PullWorld, action: str = "opened", guid: str | None = None) -> None:
    response = stack.post("pull_request", pull_request_event(world, action), guid=guid)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued", response.text
    wait_for(lambda: stack.reviewed(world), REVIEW_TIMEOUT_S, f"the review of {world.head[:12]}")


def writes(fake: FakeGitHub, repo: str) -> list[str]:
    return [f"{c.method} {c.path}" for c in fake.requests if c.method != "GET" and c.path.startswith(f"/repos/{repo}")]


def test_a_signed_pull_request_webhook_yields_one_check_run_one_review_one_summary(stack, world, fake_github):
    head_lib = LIB + unsafe_reads("read", 3)
    pr = world({"src/lib.rs": head_lib})
    open_and_wait(stack, pr)
    lines = [n for n, text in enumerate(head_lib.split("\n"), 1) if "unsafe {" in text]
    (run,) = fake_github.check_runs(pr.repo)
    assert (run.head_sha, run.status, run.conclusion) == (pr.head, "completed", "failure")
    assert [(a["path"], a["start_line"], a["annotation_level"]) for a in run.annotations] == [
        ("src/lib.rs", n, "warning") for n in lines
    ]
    (review,) = fake_github.reviews(pr.repo, pr.pr)
    assert review.commit_id == pr.head
    assert sorted(c.line for c in fake_github.review_comments(pr.repo, pr.pr)) == lines
    (summary,) = fake_github.issue_comments(pr.repo, pr.pr)
    assert summary.body.startswith("<!-- ruvopt:summary -->")
    assert "**3** finding(s) reported, **3** new: 3 commented inline" in summary.body


def test_a_new_push_updates_everything_without_duplicates(stack, world, fake_github):
    pr = world({"src/lib.rs": LIB + KEPT + FIXED})
    open_and_wait(stack, pr)
    (summary,) = fake_github.issue_comments(pr.repo, pr.pr)
    summary_id, first_body, first_head = summary.id, summary.body, pr.head
    pr.push({"src/lib.rs": LIB + KEPT + ADDED})
    open_and_wait(stack, pr, "synchronize")
    runs = {r.head_sha: r for r in fake_github.check_runs(pr.repo)}
    assert set(runs) == {first_head, pr.head}
    assert runs[pr.head].status == "completed"
    reviews = sorted(fake_github.reviews(pr.repo, pr.pr), key=lambda r: r.id)
    assert [r.commit_id for r in reviews] == [first_head, pr.head]
    bodies = [c.body for c in fake_github.review_comments(pr.repo, pr.pr)]
    fingerprints = [m.group(1) for b in bodies if (m := re.search(r"ruvopt:fp=([0-9a-f]+)", b))]
    assert len(fingerprints) == 3 == len(set(fingerprints))  # kept, fixed, added: each once
    (edited,) = fake_github.issue_comments(pr.repo, pr.pr)
    assert edited.id == summary_id
    assert pr.head[:12] in edited.body
    assert edited.body != first_body
    (resolved,) = [t for t in fake_github.threads(pr.repo, pr.pr) if t.resolved]
    assert "p.add(1)" in fake_github.world.review_comments[resolved.comment_ids[0]].body


def test_a_redelivery_with_the_same_delivery_id_changes_nothing(stack, world, fake_github):
    pr = world({"src/lib.rs": LIB + unsafe_reads("read", 2)})
    open_and_wait(stack, pr, guid="delivery-once")
    before = writes(fake_github, pr.repo)
    record = job(stack.redis_url, REVIEW, f"review:{pr.repo}@{pr.head}")
    assert record is not None
    assert record["status"] == "complete"
    again = stack.post("pull_request", pull_request_event(pr, "opened"), guid="delivery-once")
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    # The receiver enqueues before it answers: anything a duplicate set off would be in
    # the queue, or in the job's record, by now.
    assert queued_jobs(stack.redis_url) == []
    assert job(stack.redis_url, REVIEW, f"review:{pr.repo}@{pr.head}") == record
    assert writes(fake_github, pr.repo) == before
    assert len(fake_github.check_runs(pr.repo)) == 1
    assert len(fake_github.reviews(pr.repo, pr.pr)) == 1


def test_recheck_from_a_writer_runs_the_review_again(stack, world, fake_github):
    pr = world({"src/lib.rs": LIB + unsafe_reads("read", 2)})
    open_and_wait(stack, pr)
    (run,) = fake_github.check_runs(pr.repo)
    patches = run.patches
    fake_github.set_role(pr.repo, "maintainer-1", "write")
    response = stack.post("issue_comment", comment_event(pr, "/ruvopt recheck", "maintainer-1", comment_id=9001))
    assert response.status_code == 202, response.text
    reply = wait_for(
        lambda: [c for c in fake_github.issue_comments(pr.repo, pr.pr) if "re-check of" in c.body],
        REVIEW_TIMEOUT_S,
        "the re-check reply",
    )
    assert reply[0].body.startswith(f"@maintainer-1 re-check of `{pr.head[:12]}` queued")
    wait_for(lambda: fake_github.check_runs(pr.repo)[0].patches > patches, REVIEW_TIMEOUT_S, "the re-run")
    wait_for(
        lambda: job(stack.redis_url, REVIEW, f"review:{pr.repo}@{pr.head}")["status"] == "complete",
        REVIEW_TIMEOUT_S,
        "the forced review to finish",
    )
    (again,) = fake_github.check_runs(pr.repo)
    assert again.id == run.id
    assert again.status == "completed"
    assert len(again.annotations) == 2
    assert len(fake_github.reviews(pr.repo, pr.pr)) == 1
    assert len([c for c in fake_github.issue_comments(pr.repo, pr.pr) if "ruvopt:summary" in c.body]) == 1


def test_recheck_from_a_non_writer_gets_a_short_denial(stack, world, fake_github):
    pr = world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    open_and_wait(stack, pr)
    (run,) = fake_github.check_runs(pr.repo)
    patches = run.patches
    response = stack.post("issue_comment", comment_event(pr, "/ruvopt recheck", "drive-by-user", comment_id=9002))
    assert response.status_code == 202, response.text
    denial = wait_for(
        lambda: [c for c in fake_github.issue_comments(pr.repo, pr.pr) if "drive-by-user" in c.body],
        REVIEW_TIMEOUT_S,
        "the denial",
    )
    assert "needs write access" in denial[0].body
    assert len(denial[0].body) < 200
    assert fake_github.check_runs(pr.repo)[0].patches == patches
