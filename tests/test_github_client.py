"""ruvopt.bot.github.client against the FakeGitHub and a real Redis: auth, retries, waits, write spacing."""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

import pytest
import redis
from github import GithubException, RateLimitExceededException

from ruvopt.bot.github.auth import TokenCache
from ruvopt.bot.github.client import GitHubClient, PullHead
from tests.fakegithub import FakeGitHub, git_diff
from tests.plugins.workspaces import make_git_repo

REPO = "octo-org/widgets"
INSTALLATION = 71
SHA = "a" * 40
COMMENTS = f"/repos/{REPO}/issues/1/comments"


class Sleeps:
    """A ``sleep`` that records instead of waiting (tests never sleep a minute)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def world(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_repo(REPO, installation_id=INSTALLATION)
    fake_github.add_pull(REPO, 1, head_sha=SHA, base_sha="b" * 40)
    return fake_github


@pytest.fixture
def sync_redis(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def client(fake: FakeGitHub, r: redis.Redis, **kwargs: object) -> GitHubClient:
    settings = fake.settings(write_spacing_seconds=kwargs.pop("spacing", 0.0))
    return GitHubClient.for_installation(settings, INSTALLATION, redis_client=r, **kwargs)  # type: ignore[arg-type]


# -- tokens -------------------------------------------------------------------------------------


def test_installation_token_is_shared_through_redis(world: FakeGitHub, sync_redis: redis.Redis):
    first = client(world, sync_redis).installation_token()
    second = client(world, sync_redis).installation_token()  # another client, as another process would be
    assert first == second
    assert world.tokens_issued(INSTALLATION) == 1
    assert world.token_valid(first)


def test_token_is_renewed_five_minutes_before_it_expires(world: FakeGitHub, sync_redis: redis.Redis):
    world.token_lifetime = 5 * 60 + 10  # expires 10 s after the renewal margin starts
    now = [time.time()]
    c = client(world, sync_redis, clock=lambda: now[0])
    first = c.installation_token()
    assert c.installation_token() == first
    now[0] += 11  # 4 min 59 s left
    second = c.installation_token()
    assert second != first
    assert world.tokens_issued(INSTALLATION) == 2


def test_requests_carry_the_cached_token(world: FakeGitHub, sync_redis: redis.Redis):
    c = client(world, sync_redis)
    c.create_issue_comment(REPO, 1, "hello")
    c.create_issue_comment(REPO, 1, "again")
    assert world.tokens_issued() == 1
    assert [r.auth for r in world.calls("POST", COMMENTS)] == [f"installation:{INSTALLATION}"] * 2


# -- retries --------------------------------------------------------------------------------------


def test_502_then_200_reads_once(world: FakeGitHub, sync_redis: redis.Redis):
    sleeps = Sleeps()
    world.fail_next("GET", f"/repos/{REPO}/pulls/1", 502)
    pull = client(world, sync_redis, sleep=sleeps).get_pull(REPO, 1)
    assert pull.head.sha == SHA
    assert [r.status for r in world.calls("GET", f"/repos/{REPO}/pulls/1")] == [502, 200]
    assert len(sleeps.waits) == 1
    assert 0.25 <= sleeps.waits[0] <= 0.75


def test_a_502_on_a_create_is_not_retried_blindly(world: FakeGitHub, sync_redis: redis.Redis):
    # GitHub may have created the comment and lost only the reply: a retry would post it twice.
    world.fail_next("POST", COMMENTS, 502)
    with pytest.raises(GithubException) as raised:
        client(world, sync_redis, sleep=Sleeps()).create_issue_comment(REPO, 1, "once")
    assert raised.value.status == 502
    assert [r.status for r in world.calls("POST", COMMENTS)] == [502]


def test_a_secondary_limit_on_a_create_is_still_waited_out_and_sent_again(world: FakeGitHub, sync_redis: redis.Redis):
    world.secondary_rate_limit("POST", COMMENTS, retry_after=1)  # refused: nothing was created
    client(world, sync_redis, sleep=Sleeps()).create_issue_comment(REPO, 1, "once")
    assert [r.status for r in world.calls("POST", COMMENTS)] == [403, 201]
    assert [c.body for c in world.issue_comments(REPO, 1)] == ["once"]


def test_annotations_are_not_posted_twice_when_a_reply_is_lost(world: FakeGitHub, sync_redis: redis.Redis):
    from tests.fakegithub.faults import Chaos

    c = client(world, sync_redis, sleep=Sleeps())
    run = c.create_check_run(REPO, name="ruvopt", head_sha=SHA)
    annotation = {"path": "a.rs", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"}
    world.chaos = Chaos(seed=1, error_rate=1.0, applied_share=1.0)  # every call applied, its reply lost
    with pytest.raises(GithubException):
        c.update_check_run(REPO, run.id, output={"title": "t", "summary": "s", "annotations": [annotation]})
    world.chaos = None
    (stored,) = world.check_runs(REPO)
    assert len(stored.annotations) == 1


def test_persistent_5xx_gives_up_with_githubs_error(world: FakeGitHub, sync_redis: redis.Redis):
    world.fail_next("GET", f"/repos/{REPO}/pulls/1", 503, times=100)
    with pytest.raises(GithubException) as raised:
        client(world, sync_redis, sleep=Sleeps()).get_pull(REPO, 1)
    assert raised.value.status == 503
    assert len(world.calls("GET", f"/repos/{REPO}/pulls/1")) == 7  # the first try and 6 retries


def test_secondary_limit_with_retry_after_waits_then_posts(world: FakeGitHub, sync_redis: redis.Redis):
    world.secondary_rate_limit("POST", COMMENTS, retry_after=1)
    started = time.monotonic()
    client(world, sync_redis).create_issue_comment(REPO, 1, "patient")
    assert time.monotonic() - started >= 1.0
    first, second = world.calls("POST", COMMENTS)
    assert (first.status, second.status) == (403, 201)
    assert second.at - first.at >= 1.0
    assert len(world.issue_comments(REPO, 1)) == 1


def test_secondary_limit_without_headers_waits_a_minute(world: FakeGitHub, sync_redis: redis.Redis):
    sleeps = Sleeps()
    world.secondary_rate_limit("POST", COMMENTS, retry_after=None)
    client(world, sync_redis, sleep=sleeps).create_issue_comment(REPO, 1, "later")
    assert sleeps.waits == [60.0]
    assert len(world.issue_comments(REPO, 1)) == 1


def test_429_waits_until_the_ratelimit_reset(world: FakeGitHub, sync_redis: redis.Redis):
    now = time.time()
    world.clock = lambda: now
    sleeps = Sleeps()
    world.primary_rate_limit("POST", COMMENTS, reset_in=5, status=429)
    reset = int(now + 5 + 0.999)  # what the fake puts in x-ratelimit-reset
    client(world, sync_redis, sleep=sleeps, clock=lambda: now).create_issue_comment(REPO, 1, "after reset")
    assert sleeps.waits == [pytest.approx(reset - now + 1)]  # +1 s: the reset second is not exact
    assert [r.status for r in world.calls("POST", COMMENTS)] == [429, 201]


def test_repeated_secondary_limits_back_off_exponentially_with_jitter(world: FakeGitHub, sync_redis: redis.Redis):
    sleeps = Sleeps()
    world.secondary_rate_limit("POST", COMMENTS, retry_after=2, times=3)
    client(world, sync_redis, sleep=sleeps).create_issue_comment(REPO, 1, "eventually")
    first, second, third = sleeps.waits
    assert first == 2.0
    assert 2.0 + 0.25 <= second <= 2.0 + 0.75
    assert 2.0 + 0.5 <= third <= 2.0 + 1.5
    assert len(world.issue_comments(REPO, 1)) == 1


def test_rate_limit_longer_than_max_wait_fails_without_sleeping(world: FakeGitHub, sync_redis: redis.Redis):
    sleeps = Sleeps()
    world.primary_rate_limit("POST", COMMENTS, reset_in=3600, status=403)
    with pytest.raises(RateLimitExceededException):
        client(world, sync_redis, sleep=sleeps).create_issue_comment(REPO, 1, "no")
    assert sleeps.waits == []
    assert len(world.calls("POST", COMMENTS)) == 1


def test_403_that_is_not_a_rate_limit_is_not_retried(world: FakeGitHub, sync_redis: redis.Redis):
    world.fail_next("POST", COMMENTS, 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(GithubException) as raised:
        client(world, sync_redis, sleep=Sleeps()).create_issue_comment(REPO, 1, "no")
    assert raised.value.status == 403
    assert raised.value.data["message"] == "Resource not accessible by integration"
    assert len(world.calls("POST", COMMENTS)) == 1


# -- write spacing ------------------------------------------------------------------------------------


def test_writes_of_one_installation_are_a_second_apart_across_clients(world: FakeGitHub, sync_redis: redis.Redis):
    a, b = client(world, sync_redis, spacing=1.0), client(world, sync_redis, spacing=1.0)
    for c, body in ((a, "1"), (b, "2"), (a, "3")):
        c.create_issue_comment(REPO, 1, body)
    arrivals = [r.at for r in world.calls("POST", COMMENTS)]
    assert [round(y - x, 3) >= 1.0 for x, y in itertools.pairwise(arrivals)] == [True, True]


def test_writes_of_other_installations_are_not_held_back(world: FakeGitHub, sync_redis: redis.Redis):
    world.add_repo("other/repo", installation_id=72)
    world.add_pull("other/repo", 1, head_sha=SHA, base_sha="b" * 40)
    settings = world.settings(write_spacing_seconds=1.0)
    other = GitHubClient.for_installation(settings, 72, redis_client=sync_redis)
    client(world, sync_redis, spacing=1.0).create_issue_comment(REPO, 1, "a")
    started = time.monotonic()
    other.create_issue_comment("other/repo", 1, "b")
    assert time.monotonic() - started < 0.9


# -- secrets ---------------------------------------------------------------------------------------------


def test_tokens_never_reach_the_logs(world: FakeGitHub, sync_redis: redis.Redis, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="github")  # PyGithub pins its logger at INFO
    c = client(world, sync_redis)
    token = c.installation_token()
    c.create_issue_comment(REPO, 1, "logged")
    assert "access_tokens" in caplog.text  # PyGithub did log the token request and its reply…
    assert "[redacted]" in caplog.text  # …and the reply's token was scrubbed
    assert token not in caplog.text
    assert token not in repr(c)
    assert token not in repr(TokenCache(world.settings(), sync_redis).get(INSTALLATION))


# -- the facade -------------------------------------------------------------------------------------------


def _annotations(n: int, start: int = 1) -> list[dict[str, object]]:
    return [
        {"path": "src/lib.rs", "start_line": i, "end_line": i, "annotation_level": "warning", "message": "m"}
        for i in range(start, start + n)
    ]


def test_check_run_lifecycle_appends_annotations(world: FakeGitHub, sync_redis: redis.Redis):
    c = client(world, sync_redis)
    run = c.create_check_run(REPO, name="ruvopt", head_sha=SHA, output={"title": "t", "summary": "running"})
    c.update_check_run(REPO, run.id, output={"title": "t", "summary": "s", "annotations": _annotations(50)})
    c.update_check_run(
        REPO, run.id, conclusion="failure", output={"title": "t", "summary": "done", "annotations": _annotations(3, 51)}
    )
    [stored] = world.check_runs(REPO, "ruvopt")
    assert (stored.status, stored.conclusion, stored.summary) == ("completed", "failure", "done")
    assert [a["start_line"] for a in stored.annotations] == list(range(1, 54))
    with pytest.raises(ValueError, match="51 annotations"):
        c.update_check_run(REPO, run.id, output={"summary": "s", "annotations": _annotations(51)})


def test_review_threads_and_resolution(world: FakeGitHub, sync_redis: redis.Redis, tmp_path: Path):
    repo, (base, head) = make_git_repo(tmp_path, [{"a.rs": "fn a() {}\n"}, {"a.rs": "fn a() {}\nfn b() {}\n"}])
    world.add_pull(REPO, 2, head_sha=head, base_sha=base, diff=git_diff(repo, base, head))
    c = client(world, sync_redis)
    review = c.create_review(
        REPO,
        2,
        commit_id=head,
        body="ruvopt found 1 issue",
        comments=[{"path": "a.rs", "line": 2, "side": "RIGHT", "body": "finding"}],
    )
    assert review.state == "COMMENTED"
    [comment] = c.list_review_comments(REPO, 2)
    [thread] = c.review_threads(REPO, 2)
    assert (thread.path, thread.line, thread.first_comment_id, thread.is_resolved) == ("a.rs", 2, comment.id, False)
    assert c.resolve_review_thread(thread.id) is True
    assert [t.is_resolved for t in c.review_threads(REPO, 2)] == [True]


def test_sticky_comment_is_listed_and_edited(world: FakeGitHub, sync_redis: redis.Redis):
    world.add_issue_comment(REPO, 1, "a human", user="octocat")
    c = client(world, sync_redis)
    posted = c.create_issue_comment(REPO, 1, "<!-- ruvopt:summary -->\nv1")
    c.edit_issue_comment(REPO, posted.id, "<!-- ruvopt:summary -->\nv2")
    assert [x.body for x in c.list_issue_comments(REPO, 1)] == ["a human", "<!-- ruvopt:summary -->\nv2"]


def test_pull_files_and_permission(world: FakeGitHub, sync_redis: redis.Redis, tmp_path: Path):
    repo, (base, head) = make_git_repo(tmp_path, [{"a.rs": "1\n"}, {"a.rs": "2\n", "b.rs": "3\n"}])
    world.add_pull(REPO, 3, head_sha=head, base_sha=base, diff=git_diff(repo, base, head))
    world.set_role(REPO, "maint", "maintain")
    c = client(world, sync_redis)
    assert c.get_pull(REPO, 3).head.sha == head
    assert sorted((f.filename, f.status) for f in c.list_pull_files(REPO, 3)) == [
        ("a.rs", "modified"),
        ("b.rs", "added"),
    ]
    assert c.get_permission_role(REPO, "maint") == "maintain"


def test_what_the_command_job_asks_of_the_client(world: FakeGitHub, redis_url: str):
    world.set_role(REPO, "alice", "write")
    gh = GitHubClient.for_installation(world.settings(redis_url=redis_url, write_spacing_seconds=0.0), INSTALLATION)
    assert gh.get_permission_role(REPO, "alice") == "write"
    assert gh.pull_head(REPO, 1) == PullHead(head_sha=SHA, base_sha="b" * 40, state="open")
    body = "@alice queued\n\n<!-- ruvopt:reply-to:5 -->"
    assert gh.reply_once(REPO, 1, body) is True
    assert gh.reply_once(REPO, 1, body) is False  # its marker is on the PR already: not posted twice
    assert [c.body for c in world.issue_comments(REPO, 1)] == [body]


def test_app_client_walks_cursor_pages(world: FakeGitHub):
    for _ in range(5):
        world.add_delivery(status_code=200)
    app = GitHubClient.for_app(world.settings())
    ids = [d["id"] for d in app.hook_deliveries(per_page=2)]
    assert ids == sorted((d.id for d in world.world.deliveries), reverse=True)
    assert len(world.calls("GET", "/app/hook/deliveries")) == 3
