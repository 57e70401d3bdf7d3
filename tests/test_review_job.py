"""The review job in-process, against the FakeGitHub (validated against GitHub's OpenAPI),
a real git repository served over smart HTTP that demands the installation token, and a
real Redis. Writes are not spaced here (``write_spacing_seconds=0``): spacing is the
GitHub client's, tested with it; the end-to-end tests run with the default."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from github import BadCredentialsException
from redis.asyncio import Redis

from ruvopt.bot import keys
from ruvopt.bot.github.auth import TokenCache
from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.jobs import review as review_job
from ruvopt.bot.jobs.review import run_review
from ruvopt.bot.report.actions import RUN_BENCH
from ruvopt.bot.report.check_run import RECHECK, create_run
from ruvopt.bot.report.plan import build_plan
from ruvopt.bot.report.summary import MARKER
from ruvopt.checks.diff.mode import check_diff
from tests.fakegithub import FakeGitHub
from tests.fakegithub import graphql as fake_graphql
from tests.fakegithub.faults import Chaos
from tests.githttp import GitHttpServer
from tests.payloads import new_sha
from tests.plugins.workspaces import Files
from tests.review_support import CRATE, PullWorld, unsafe_reads

LIB = CRATE["src/lib.rs"]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def settings(fake_github: FakeGitHub, redis_url: str, tmp_path: Path) -> Any:
    return fake_github.settings(redis_url=redis_url, cache_dir=tmp_path / "cache", write_spacing_seconds=0)


@pytest.fixture
def make_world(fake_github: FakeGitHub, git_http_server: GitHttpServer, tmp_path: Path) -> Any:
    def make(head: Files, base: Files = CRATE) -> PullWorld:
        return PullWorld.create(fake_github, git_http_server, tmp_path, base, head)

    return make


async def review(settings: Any, redis: Redis, world: PullWorld, **overrides: Any) -> dict[str, Any]:
    return await run_review(settings, redis, world.job(**overrides))


def unsafe_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.split("\n"), 1) if "unsafe {" in line]


def annotation_lines(fake: FakeGitHub, world: PullWorld) -> list[tuple[str, int]]:
    (run,) = fake.check_runs(world.repo)
    return [(a["path"], a["start_line"]) for a in run.annotations]


async def test_a_review_posts_one_completed_check_run_one_review_and_one_summary(
    settings, redis, make_world, fake_github
):
    head_lib = LIB + unsafe_reads("read", 3)
    world = make_world({"src/lib.rs": head_lib})
    outcome = await review(settings, redis, world)
    expected = [("src/lib.rs", n) for n in unsafe_lines(head_lib)]
    (run,) = fake_github.check_runs(world.repo)
    assert (run.name, run.head_sha, run.status, run.conclusion) == ("ruvopt", world.head, "completed", "failure")
    assert annotation_lines(fake_github, world) == expected
    assert run.actions == [RECHECK, RUN_BENCH]
    (posted,) = fake_github.reviews(world.repo, world.pr)
    assert (posted.commit_id, posted.state) == (world.head, "COMMENTED")
    comments = fake_github.review_comments(world.repo, world.pr)
    assert sorted((c.path, c.line) for c in comments) == expected
    assert all(c.side == "RIGHT" and re.search(r"<!-- ruvopt:fp=[0-9a-f]+ -->$", c.body) for c in comments)
    (summary,) = fake_github.issue_comments(world.repo, world.pr)
    assert summary.body.startswith(MARKER)
    assert "**3** finding(s) reported, **3** new" in summary.body
    assert outcome["check_run"] == run.id
    assert outcome["summary"] == {"id": summary.id, "action": "created"}


async def test_a_retried_review_reuses_its_check_run_and_posts_nothing_twice(settings, redis, make_world, fake_github):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 3)})
    first = await review(settings, redis, world)
    second = await review(settings, redis, world)
    assert len(fake_github.check_runs(world.repo)) == 1
    assert second["check_run"] == first["check_run"]
    assert len(annotation_lines(fake_github, world)) == 3
    assert len(fake_github.reviews(world.repo, world.pr)) == 1
    assert len(fake_github.review_comments(world.repo, world.pr)) == 3
    assert len(fake_github.issue_comments(world.repo, world.pr)) == 1
    assert second["summary"]["action"] == "unchanged"
    assert second["review"] is None


async def test_a_check_run_an_earlier_attempt_left_half_annotated_is_finished_not_duplicated(
    settings, redis, make_world, fake_github
):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 120)})
    plan = build_plan(check_diff(world.source, world.base, world.head, jobs=1))
    gh = GitHubClient.for_installation(settings, world.installation)
    try:  # what a worker killed after its first PATCH leaves behind
        run = create_run(gh, world.repo, world.head)
        gh.update_check_run(world.repo, run.id, output=plan.check_run.output(plan.check_run.batches()[0]))
    finally:
        gh.close()
    await review(settings, redis, world)
    (finished,) = fake_github.check_runs(world.repo)
    assert finished.id == run.id
    assert finished.status == "completed"
    assert finished.annotations == plan.check_run.annotations  # 120, each once, in order


async def test_more_than_50_annotations_go_out_in_patches_of_at_most_50(settings, redis, make_world, fake_github):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 120)})
    await review(settings, redis, world)
    patches = [c.body for c in fake_github.calls("PATCH", f"/repos/{world.repo}/check-runs/*")]
    assert [len(p["output"].get("annotations", [])) for p in patches] == [50, 50, 20]
    assert ["conclusion" in p for p in patches] == [False, False, True]  # completed with the last batch
    assert len(annotation_lines(fake_github, world)) == 120
    assert len(fake_github.review_comments(world.repo, world.pr)) == 30


async def test_a_new_push_edits_the_summary_skips_posted_findings_and_resolves_fixed_threads(
    settings, redis, make_world, fake_github
):
    kept = "pub fn kept(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    fixed = "pub fn fixed(p: *const u8) -> u8 {\n    unsafe { *p.add(1) }\n}\n"
    world = make_world({"src/lib.rs": LIB + kept + fixed})
    first = await review(settings, redis, world)
    assert first["inline"] == 2
    added = "pub fn added(p: *const u8) -> u8 {\n    unsafe { *p.add(2) }\n}\n"
    world.push({"src/lib.rs": LIB + kept + added})
    second = await review(settings, redis, world)
    assert len(fake_github.reviews(world.repo, world.pr)) == 2
    bodies = [c.body for c in fake_github.review_comments(world.repo, world.pr)]
    assert len(bodies) == 3
    assert sum("unsafe { *p }" in b for b in bodies) == 1
    threads = {t.node_id: t for t in fake_github.threads(world.repo, world.pr)}
    resolved = [t for t in threads.values() if t.resolved]
    assert len(resolved) == 1
    assert second["resolved"] == [first_fp(fake_github, world, resolved[0].comment_ids[0])]
    assert "p.add(1)" in fake_github.world.review_comments[resolved[0].comment_ids[0]].body
    (summary,) = fake_github.issue_comments(world.repo, world.pr)
    assert second["summary"] == {"id": summary.id, "action": "edited"}
    assert world.head[:12] in summary.body


def first_fp(fake: FakeGitHub, world: PullWorld, comment_id: int) -> str:
    found = re.search(r"ruvopt:fp=([0-9a-f]+)", fake.world.review_comments[comment_id].body)
    assert found
    return found.group(1)


async def test_a_thread_that_cannot_be_resolved_gets_one_fixed_in_reply(
    settings, redis, make_world, fake_github, monkeypatch
):
    def refuse(self: Any, _info: Any, input: dict[str, Any]) -> Any:  # noqa: A002  (GraphQL's argument name)
        raise fake_graphql._TypedError("FORBIDDEN", "Resource not accessible by integration")

    monkeypatch.setattr(fake_graphql._Root, "resolveReviewThread", refuse)
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    await review(settings, redis, world)
    fix = world.push({"src/lib.rs": LIB + unsafe_reads("read", 1, documented=True)})
    outcome = await review(settings, redis, world)
    await review(settings, redis, world, force=True)  # asked again: no second reply
    replies = [c for c in fake_github.review_comments(world.repo, world.pr) if c.in_reply_to_id is not None]
    assert len(replies) == 1
    assert replies[0].body.startswith(f"Fixed in {fix}.")
    assert outcome["replied_fixed"]
    assert not outcome["resolved"]


async def test_a_superseded_head_gets_no_check_run_and_an_unfinished_one_is_closed_neutral(
    settings, redis, make_world, fake_github
):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    old = world.head
    gh = GitHubClient.for_installation(settings, world.installation)
    try:
        left = create_run(gh, world.repo, old)  # an attempt that died before the push
    finally:
        gh.close()
    newer = world.push({"README.md": "# engine\n\nnewer\n"})
    outcome = await review(settings, redis, world, head_sha=old)
    assert outcome == {"skipped": f"Superseded by {newer[:12]}", "check_run": left.id}
    (run,) = fake_github.check_runs(world.repo)
    assert (run.status, run.conclusion, run.title) == ("completed", "neutral", f"Superseded by {newer[:12]}")
    await review(settings, redis, world, head_sha=new_sha())  # never seen: nothing is created
    assert len(fake_github.check_runs(world.repo)) == 1
    assert not fake_github.reviews(world.repo, world.pr)
    assert not fake_github.issue_comments(world.repo, world.pr)


async def test_giving_up_after_the_last_attempt_completes_the_run_left_in_progress(
    settings, redis, make_world, fake_github
):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    gh = GitHubClient.for_installation(settings, world.installation)
    try:
        left = create_run(gh, world.repo, world.head)  # the failed attempts' run
    finally:
        gh.close()
    closed = await review_job.give_up_review(settings, world.job(delivery="d-9"))
    (run,) = fake_github.check_runs(world.repo)
    assert closed == left.id
    assert (run.status, run.conclusion, run.title) == ("completed", "neutral", review_job.GAVE_UP_TITLE)
    assert "delivery `d-9`" in run.summary
    assert "/ruvopt recheck" in run.summary
    again = await review_job.give_up_review(settings, world.job(delivery="d-9"))
    assert again is None  # nothing left in progress: nothing written twice


async def test_a_token_github_refuses_is_dropped_so_the_retry_mints_a_new_one(settings, redis, make_world, fake_github):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    gh = GitHubClient.for_installation(settings, world.installation)
    try:
        refused = gh.installation_token()  # cached in Redis, then revoked behind our back
    finally:
        gh.close()
    fake_github.expire_tokens()
    with pytest.raises(BadCredentialsException):
        await review(settings, redis, world)
    assert await redis.get(TokenCache.key(world.installation)) is None
    await review(settings, redis, world)  # the retry
    (run,) = fake_github.check_runs(world.repo)
    assert run.status == "completed"
    assert fake_github.token_valid(gh_token(settings, world))
    assert not fake_github.token_valid(refused)


def gh_token(settings: Any, world: PullWorld) -> str:
    gh = GitHubClient.for_installation(settings, world.installation)
    try:
        return gh.installation_token()
    finally:
        gh.close()


async def test_an_invalid_base_configuration_completes_the_run_action_required(
    settings, redis, make_world, fake_github
):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)}, base={**CRATE, "ruvopt.toml": "ignore = 3\n"})
    outcome = await review(settings, redis, world)
    (run,) = fake_github.check_runs(world.repo)
    assert (run.status, run.conclusion) == ("completed", "action_required")
    assert "ignore" in run.summary
    assert "base branch" in run.summary
    assert "ruvopt.toml" in outcome["config_error"]
    (summary,) = fake_github.issue_comments(world.repo, world.pr)
    assert summary.body.startswith(MARKER)
    assert "Not reviewed" in summary.body
    assert not fake_github.reviews(world.repo, world.pr)


async def test_a_crash_in_the_analysis_completes_the_run_neutral_naming_the_delivery(
    settings, redis, make_world, fake_github, monkeypatch
):
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(review_job, "check_diff", crash)
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    outcome = await review(settings, redis, world, delivery="d-123")
    (run,) = fake_github.check_runs(world.repo)
    assert (run.conclusion, run.title) == ("neutral", "ruvopt hit an internal error")
    assert "delivery `d-123`" in run.summary
    assert outcome["error"] == "internal error"


async def test_a_forced_recheck_of_a_reviewed_head_completes_the_same_run_again(
    settings, redis, make_world, fake_github
):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 2)})
    first = await review(settings, redis, world)
    again = await review(settings, redis, world, force=True)
    (run,) = fake_github.check_runs(world.repo)
    assert again["check_run"] == first["check_run"] == run.id
    assert len(run.annotations) == 2
    assert run.patches == 2
    assert run.conclusion == "failure"


async def test_the_summary_is_left_to_the_newer_head_github_names(settings, redis, make_world, fake_github):
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    old_head = world.head
    world.push({"src/lib.rs": LIB + unsafe_reads("read", 2)})  # a re-check pinned old_head before this push
    outcome = await review(settings, redis, world, head_sha=old_head, force=True)
    assert outcome["summary"] is None
    assert not fake_github.issue_comments(world.repo, world.pr)
    assert len(fake_github.reviews(world.repo, world.pr)) == 1


async def test_the_current_head_writes_the_summary_even_when_redis_names_an_older_one(
    settings, redis, make_world, fake_github
):
    # The push's delivery was answered 503 (Redis down) and awaits redelivery: Redis still
    # names the old head. A re-check of the current head must still write the summary.
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    await redis.set(keys.pr_head(world.repo, world.pr), f"{int(time.time())} {new_sha()}")  # contract.py format
    outcome = await review(settings, redis, world, force=True)
    (summary,) = fake_github.issue_comments(world.repo, world.pr)
    assert outcome["summary"] == {"id": summary.id, "action": "created"}
    assert world.head[:12] in summary.body


async def test_the_event_loop_keeps_turning_while_a_large_review_runs(settings, redis, make_world, fake_github):
    """The worker's heartbeat task (job.update() every third of the heartbeat) shares the
    loop with the job: the analysis and GitHub calls must leave it free."""
    files = {f"src/m{i}.rs": unsafe_reads(f"f{i}", 40) for i in range(200)}
    lib = LIB + "".join(f"pub mod m{i};\n" for i in range(200))
    world = make_world({**files, "src/lib.rs": lib})
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        outcome = await review(settings, redis, world)
    finally:
        task.cancel()
    took = time.monotonic() - started
    assert outcome["reported"] == 8000
    # Work done on the loop would show as one gap about as long as itself.
    assert max(gaps) < min(1.0, took / 4), (took, max(gaps))


async def test_a_line_githubs_diff_does_not_hold_goes_to_the_summary_instead_of_failing_the_review(
    settings, redis, make_world, fake_github
):
    filler = "".join(f"pub fn filler{i}() {{}}\n" for i in range(30))
    world = make_world(
        {"src/lib.rs": LIB + unsafe_reads("early", 1) + filler + unsafe_reads("late", 1)},
        base={**CRATE, "src/lib.rs": LIB + filler},
    )
    (file,) = fake_github.world.repos[world.repo].pulls[world.pr].files
    first_hunk = file.patch.split("\n@@")[0]  # GitHub's diff (another base) shows only the first hunk
    fake_github.set_pull_files(world.repo, world.pr, [replace(file, patch=first_hunk)])
    outcome = await review(settings, redis, world)
    assert [r.status for r in fake_github.calls("POST", f"/repos/{world.repo}/pulls/*/reviews")] == [200]
    (comment,) = fake_github.review_comments(world.repo, world.pr)
    assert comment.line < 15  # the early read, in GitHub's one hunk
    assert (outcome["inline"], outcome["summary_only"]) == (1, 1)


async def test_two_heads_reviewed_at_once_comment_a_shared_finding_once(settings, redis, make_world, fake_github):
    # Found by the chaos suite: a push landed while the previous head's review ran; both
    # read "nothing posted yet" and both commented the finding the two heads share.
    world = make_world({"src/lib.rs": LIB + unsafe_reads("read", 1)})
    first = world.head
    world.push({"src/lib.rs": LIB + unsafe_reads("read", 1) + unsafe_reads("more", 1)})
    fake_github.chaos = Chaos(seed=1, error_rate=0.0, latency_s=(0.05, 0.05))  # both reviews advance in step
    await asyncio.gather(review(settings, redis, world, head_sha=first, force=True), review(settings, redis, world))
    fingerprints = [
        re.search(r"ruvopt:fp=([0-9a-f]+)", c.body).group(1)  # type: ignore[union-attr]
        for c in fake_github.review_comments(world.repo, world.pr)
        if c.in_reply_to_id is None
    ]
    assert len(fingerprints) == len(set(fingerprints)) == 2


async def test_a_per_pr_lock_outlives_its_ttl_while_held_and_frees_itself_after_a_dead_holder(redis, monkeypatch):
    monkeypatch.setattr(review_job, "LOCK_TTL_S", 1)
    async with review_job.pr_lock(redis, "ruvopt:lock:test"):
        # Watch the key for 2.5 TTLs: it must never lapse, and its TTL must be seen to go
        # back up (a renewal), twice.
        renewals, last, held_since = 0, await redis.pttl("ruvopt:lock:test"), time.monotonic()
        while time.monotonic() - held_since < 2.5 or renewals < 2:
            ttl = await redis.pttl("ruvopt:lock:test")
            assert ttl > 0, "the held lock lapsed"
            renewals, last = renewals + (ttl > last), ttl
            assert time.monotonic() - held_since < 10, "the held lock was never renewed"
            await asyncio.sleep(0.05)
    await redis.lock("ruvopt:lock:test", timeout=1).acquire()  # a holder that dies without releasing
    start = time.monotonic()
    async with review_job.pr_lock(redis, "ruvopt:lock:test"):
        waited = time.monotonic() - start
    assert waited < 2
