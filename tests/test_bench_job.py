"""The bench job in-process: the FakeGitHub (validated against GitHub's OpenAPI), a real
git repository served over smart HTTP that demands the installation token, real Redis,
real cargo and bwrap. What it leaves on GitHub: one ``ruvopt/bench`` check run on the
pinned head and the bench section of the sticky summary comment — also when the pull
request's code is hostile (a build that never ends, one that eats memory)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from ruvopt.bot.jobs.bench import run_bench
from ruvopt.bot.jobs.review import run_review
from ruvopt.bot.queue.jobs import BenchJob
from ruvopt.bot.report import bench_section
from ruvopt.bot.report.actions import RUN_BENCH
from ruvopt.bot.report.summary import MARKER
from tests.bench_support import bmf_crate as crate
from tests.bench_support import cargo_home
from tests.fakegithub import FakeGitHub
from tests.githttp import GitHttpServer
from tests.plugins.workspaces import Files
from tests.review_support import PullWorld


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def settings(fake_github: FakeGitHub, redis_url: str, tmp_path: Path) -> Any:
    return fake_github.settings(
        redis_url=redis_url,
        cache_dir=tmp_path / "cache",
        write_spacing_seconds=0,
        bench_cargo_home=cargo_home(tmp_path),
        bench_command_timeout_seconds=120,
    )


@pytest.fixture
def make_world(fake_github: FakeGitHub, git_http_server: GitHttpServer, tmp_path: Path) -> Any:
    def make(head: Files, base: Files | None = None) -> PullWorld:
        return PullWorld.create(fake_github, git_http_server, tmp_path, base or crate(73), head)

    return make


def bench_job(world: PullWorld, **overrides: Any) -> BenchJob:
    fields = {
        "installation": world.installation,
        "repo": world.repo,
        "pr": world.pr,
        "head_sha": world.head,
        "base_sha": world.base,
        "requested_by": "maintainer",
        "comment_id": 5001,
        "delivery": "d-bench",
    }
    return BenchJob(**{**fields, **overrides})  # type: ignore[arg-type]


def bench_run(fake: FakeGitHub, world: PullWorld) -> Any:
    (run,) = fake.check_runs(world.repo, name="ruvopt/bench")
    return run


def summary_comment(fake: FakeGitHub, world: PullWorld) -> Any:
    (comment,) = [c for c in fake.issue_comments(world.repo, world.pr) if MARKER in c.body]
    return comment


async def test_a_bench_posts_one_check_run_with_the_table_and_a_section_of_the_summary(
    settings, redis, make_world, fake_github
):
    world = make_world(crate(60, padding=300))
    result = await run_bench(settings, redis, bench_job(world))
    run = bench_run(fake_github, world)
    assert (run.head_sha, run.status, run.conclusion) == (world.head, "completed", "failure")
    assert run.title.startswith("❌ 1 regression(s), 💸 1 over budget")
    assert run.actions == [RUN_BENCH]
    rows = {line.split(" | ")[0]: line for line in run.summary.splitlines() if line.startswith("| `")}
    assert rows["| `moe/cache_hit_rate`"].endswith("| 0.73 | 0.6 | 0.73 | 0.6 | -17.8% | ±0.0% | 💸 over budget |")
    assert rows["| `probe rlib (release)`"].endswith("| ❌ bigger |")
    assert "Requested by @maintainer." in run.summary
    assert "base `" in run.summary
    assert "- `custom/moe/cache_hit_rate`: 💸 over budget — head's median breaks the budget `>= 0.70`" in run.text
    section = bench_section.extract(summary_comment(fake_github, world).body)
    assert section is not None
    assert f"### Bench: `{world.base[:12]}` → `{world.head[:12]}`" in section
    assert "```mermaid\nxychart-beta" in section
    assert 'x-axis ["moe/cache_hit_rate"]' in section
    assert result["conclusion"] == "failure"
    assert result["summary"]["action"] == "created"


async def test_the_review_keeps_the_bench_section_and_a_new_bench_replaces_it_in_place(
    settings, redis, make_world, fake_github
):
    world = make_world(crate(80))
    await run_bench(settings, redis, bench_job(world))
    first = summary_comment(fake_github, world)
    await run_review(settings, redis, world.job())
    reviewed = summary_comment(fake_github, world)
    assert reviewed.id == first.id
    assert "### Inline review" in reviewed.body
    assert bench_section.extract(reviewed.body) == bench_section.extract(first.body)  # …and kept the bench's
    await run_bench(settings, redis, bench_job(world, runs=1))
    again = summary_comment(fake_github, world)
    assert again.id == first.id
    assert again.body.count(bench_section.START) == 1
    assert "1 run per side" in (bench_section.extract(again.body) or "")
    runs = fake_github.check_runs(world.repo, name="ruvopt/bench")
    assert [r.conclusion for r in runs] == ["success", "success"]  # one run per request


async def test_a_head_that_moved_after_the_request_is_said_and_the_pinned_head_is_measured(
    settings, redis, make_world, fake_github
):
    world = make_world(crate(75))
    pinned = world.head
    moved = world.push(crate(10))
    await run_bench(settings, redis, bench_job(world, head_sha=pinned))
    run = bench_run(fake_github, world)
    assert run.head_sha == pinned
    assert run.conclusion == "success"
    said = f"the head of #{world.pr} moved to `{moved[:12]}` after this benchmark was requested"
    replies = [c.body for c in fake_github.issue_comments(world.repo, world.pr) if said in c.body]
    assert replies == [f"@maintainer {said}; `{pinned[:12]}` (the head when it was accepted) is what is measured."]
    assert said[0].upper() + said[1:] in run.summary
    await run_bench(settings, redis, bench_job(world, head_sha=pinned))  # a retried job
    assert len([c for c in fake_github.issue_comments(world.repo, world.pr) if said in c.body]) == 1


async def test_a_head_whose_build_never_ends_is_killed_and_reported_neutral(settings, redis, make_world, fake_github):
    sleeper = "fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(600));\n}\n"
    world = make_world(crate(73, build_rs=sleeper))
    quick = settings.model_copy(update={"bench_command_timeout_seconds": 6})
    result = await run_bench(quick, redis, bench_job(world))
    run = bench_run(fake_github, world)
    assert run.conclusion == "neutral"
    assert run.title.startswith("⚠️ Not measured: On head")
    assert "timed out after" in run.summary
    assert "(limit 6 s) and was killed" in run.summary
    assert result["error"]
    assert bench_section.extract(summary_comment(fake_github, world).body)


async def test_a_head_that_allocates_past_the_memory_limit_is_stopped_and_reported_neutral(
    settings, redis, make_world, fake_github
):
    hog = "fn main() {\n    let v = vec![1u8; 3usize << 30];\n    assert!(v.iter().step_by(4096).count() > 0);\n}\n"
    world = make_world(crate(73, build_rs=hog))
    small = settings.model_copy(update={"bench_memory_mb": 1024})
    await run_bench(small, redis, bench_job(world))
    run = bench_run(fake_github, world)
    assert run.conclusion == "neutral"
    assert "ran out of memory (limit 1 GiB per process)" in run.summary


async def test_a_button_pressed_on_an_older_commit_is_measured_without_a_moved_head_reply(
    settings, redis, make_world, fake_github
):
    world = make_world(crate(75))
    older = world.head
    current = world.push(crate(76))
    # The command job's reply already said that `older` is not the head; the PR did not move since.
    await run_bench(settings, redis, bench_job(world, head_sha=older, pr_head=current, comment_id=None))
    run = bench_run(fake_github, world)
    assert run.head_sha == older
    assert run.conclusion == "success"
    assert "with the **Run bench** button" in run.summary
    assert "moved to" not in run.summary
    assert [c for c in fake_github.issue_comments(world.repo, world.pr) if "moved to" in c.body] == []
