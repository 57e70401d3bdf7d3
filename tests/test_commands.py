"""``/ruvopt`` commands: finding and parsing them (pure), then the command job with the
real GitHub client against the FakeGitHub and real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from saq.job import Status

from ruvopt.bot import commands
from ruvopt.bot.commands import Bench, CommandError, Help, Recheck
from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.jobs.command import run_command
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue.jobs import BenchJob, CommandJob
from tests.payloads import new_sha
from tests.queue_probe import BENCH, REVIEW, queued_jobs

REPO = "octo/engine"
INSTALLATION = 77

# --- finding the command line -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("/ruvopt recheck", "/ruvopt recheck"),
        ("Thanks!\n\n  /ruvopt bench profile=release  \nmore text", "/ruvopt bench profile=release"),
        ("/ruvopt help\n/ruvopt recheck", "/ruvopt help"),  # only the first command runs
        ("/ruvopt", "/ruvopt"),
    ],
)
def test_find_command_returns_the_first_command_line(body, line):
    assert commands.find_command(body) == line


@pytest.mark.parametrize(
    "body",
    [
        "please run /ruvopt recheck",  # not at the start of a line
        "> /ruvopt recheck\n\nquoting the command above",  # a quote of someone's command
        "```\n/ruvopt recheck\n```",  # inside a fenced code block
        "~~~text\n/ruvopt bench\n~~~",
        "````\n```\n/ruvopt recheck\n```\n````",  # a four-backtick fence holding a three-backtick one
        "~~~~\n~~~\n/ruvopt recheck\n~~~~",
        "```\nnever closed\n/ruvopt recheck",  # an unclosed fence runs to the end
        "- /ruvopt recheck",  # a list item, not a line of its own
        "<!--\n/ruvopt recheck\n-->",  # an HTML comment
        "Example:\n\n    /ruvopt recheck",  # an indented code block
        "/ruvoptimize everything",  # another word that merely starts with the prefix
        "",
    ],
)
def test_find_command_ignores_lines_that_are_not_commands(body):
    assert commands.find_command(body) is None


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("/ruvopt help", Help()),
        ("/ruvopt recheck", Recheck()),
        ("/ruvopt bench", Bench()),
        ("/ruvopt bench profile=release-fast", Bench(profiles=("release-fast",))),
        ("/ruvopt bench bench=moe_bench", Bench(benches=("moe_bench",))),
        ("/ruvopt bench runs=3", Bench(runs=3)),
        (
            "/ruvopt bench bench=moe_bench,router profile=release,release-fast runs=10",
            Bench(("release", "release-fast"), ("moe_bench", "router"), 10),
        ),
    ],
)
def test_parse_accepts_the_documented_grammar(line, command):
    assert commands.parse(line) == command


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/ruvopt", "needs a command"),
        ("/ruvopt deploy", "unknown command `deploy`"),
        ("/ruvopt recheck now", "takes no arguments"),
        ("/ruvopt help me", "takes no arguments"),
        ("/ruvopt bench release", "`release` is not an option"),
        (
            "/ruvopt bench rusn=3",
            "unknown option `rusn`; `/ruvopt bench` takes `profile=NAME[,NAME…]`, "
            "`bench=NAME[,NAME…]` and `runs=N` (1–50)",
        ),
        ("/ruvopt bench profile=a profile=b", "`profile=` is given twice; `/ruvopt bench` takes `profile="),
        ("/ruvopt bench runs=3 runs=4", "`runs=` is given twice"),
        ("/ruvopt bench profile=", "not a valid profile name"),
        ("/ruvopt bench profile=release,", "`` is not a valid profile name"),
        ("/ruvopt bench profile=a,a", "names the same profile twice"),
        ("/ruvopt bench profile=$(reboot)", "not a valid profile name"),
        ("/ruvopt bench bench=--all", "not a valid bench name"),
        ("/ruvopt bench bench=moe/select", "not a valid bench name"),
        ("/ruvopt bench runs=0", "`runs=` takes a whole number from 1 to 50"),
        ("/ruvopt bench runs=51", "`runs=` takes a whole number from 1 to 50"),
        ("/ruvopt bench runs=²", "`runs=` takes a whole number from 1 to 50"),
    ],
)
def test_parse_rejects_malformed_commands_with_a_message_that_says_what_is_wrong(line, says):
    with pytest.raises(CommandError) as raised:
        commands.parse(line)
    assert says in str(raised.value)


# --- the command job ----------------------------------------------------------------------------


@pytest.fixture
async def world(fake_github, redis_url) -> AsyncIterator[dict[str, Any]]:
    fake_github.add_repo(REPO, installation_id=INSTALLATION)
    head, base = new_sha(), new_sha()
    fake_github.add_pull(REPO, 12, head_sha=head, base_sha=base)
    fake_github.set_role(REPO, "maintainer", "write")
    fake_github.set_role(REPO, "visitor", "read")
    # The client the worker builds for each command job (ruvopt.bot.queue.worker.command).
    settings = fake_github.settings(redis_url=redis_url, webhook_secret="s", write_spacing_seconds=0)
    github = GitHubClient.for_installation(settings, INSTALLATION)
    redis = queue.connect(redis_url, role="worker")
    yield {
        "fake": fake_github,
        "github": github,
        "queues": queue.make_queues(redis),
        "settings": settings,
        "head": head,
        "base": base,
    }
    await redis.aclose()
    github.close()


async def run(
    world: dict[str, Any],
    body: str,
    *,
    author: str = "maintainer",
    comment_id: int | None = None,
    pr: int = 12,
    head_sha: str | None = None,
    delivery: str = "d-1",
) -> Any:
    """Run the command job of ``body``, posted as a comment by ``author`` (or, with
    ``head_sha`` and ``comment_id=0``, of a "Run bench" button pressed on that commit)."""
    if comment_id is None:
        comment_id = world["fake"].add_issue_comment(REPO, pr, body, user=author).id
    job = CommandJob(INSTALLATION, REPO, pr, comment_id, author, body, delivery=delivery, head_sha=head_sha)
    return await run_command(world["settings"], world["queues"], world["github"], job)


def replies(world: dict[str, Any], pr: int = 12) -> list[str]:
    fake = world["fake"]
    return [c.body for c in fake.issue_comments(REPO, pr) if c.user == fake.bot_login]


def reactions(world: dict[str, Any], pr: int = 12) -> dict[str, list[str]]:
    """Reactions the bot left, by the text of the comment they are on."""
    fake = world["fake"]
    return {
        c.body: [r for who, r in c.reactions if who == fake.bot_login]
        for c in fake.issue_comments(REPO, pr)
        if c.user != fake.bot_login
    }


async def test_recheck_by_a_writer_enqueues_a_forced_review_of_the_current_head(world, redis_url):
    await run(world, "/ruvopt recheck")
    [job] = queued_jobs(redis_url, REVIEW)
    assert job["function"] == "review"
    assert job["kwargs"]["force"] is True
    assert (job["kwargs"]["head_sha"], job["kwargs"]["base_sha"]) == (world["head"], world["base"])
    [text] = replies(world)
    assert text.startswith("@maintainer")
    assert world["head"][:12] in text


async def test_commands_from_someone_without_write_access_are_denied_and_enqueue_nothing(world, redis_url):
    await run(world, "/ruvopt bench", author="visitor")
    await run(world, "/ruvopt recheck", author="visitor")
    assert queued_jobs(redis_url, REVIEW) == []
    assert queued_jobs(redis_url, BENCH) == []
    texts = replies(world)
    assert len(texts) == 2
    assert all("needs write access" in t and "`read`" in t for t in texts)
    assert len(world["fake"].calls("GET", "/repos/*/*/collaborators/*/permission")) == 2


async def test_bench_pins_the_head_reacts_with_eyes_and_replies_with_its_queue_position(world, redis_url):
    await run(world, "/ruvopt bench profile=release,release-fast bench=moe_bench runs=3")
    [job] = queued_jobs(redis_url, BENCH)
    assert job["function"] == "bench"
    assert job["key"] == f"bench:{REPO}#12"
    bench = BenchJob.from_kwargs(job["kwargs"])
    assert (bench.head_sha, bench.base_sha, bench.requested_by) == (world["head"], world["base"], "maintainer")
    assert (bench.profiles, bench.benches, bench.runs) == (("release", "release-fast"), ("moe_bench",), 3)
    assert reactions(world) == {"/ruvopt bench profile=release,release-fast bench=moe_bench runs=3": ["eyes"]}
    [text] = replies(world)
    assert text.startswith(f"@maintainer 👀 benchmark of `{world['head'][:12]}` against base `{world['base'][:12]}`")
    assert "position 1 in the bench queue (0 running)" in text
    assert "`ruvopt/bench` check run" in text
    # A later push does not change what an accepted bench measures.
    world["fake"].push(REPO, 12, head_sha=new_sha(), diff="")
    assert queued_jobs(redis_url, BENCH)[0]["kwargs"]["head_sha"] == world["head"]
    assert queued_jobs(redis_url, REVIEW) == []  # benches never share the review queue


async def test_benches_of_two_pull_requests_queue_one_behind_the_other(world, redis_url):
    world["fake"].add_pull(REPO, 13, head_sha=new_sha(), base_sha=world["base"])
    await run(world, "/ruvopt bench")
    await run(world, "/ruvopt bench", pr=13)
    assert [j["key"] for j in queued_jobs(redis_url, BENCH)] == [f"bench:{REPO}#12", f"bench:{REPO}#13"]
    assert "position 2 in the bench queue" in replies(world, 13)[0]


async def test_a_second_bench_command_replaces_the_one_queued_for_the_same_pull_request(world, redis_url):
    await run(world, "/ruvopt bench runs=3")
    world["fake"].set_role(REPO, "reviewer", "maintain")
    await run(world, "/ruvopt bench runs=7", author="reviewer")
    [job] = queued_jobs(redis_url, BENCH)
    assert (job["kwargs"]["runs"], job["kwargs"]["requested_by"]) == (7, "reviewer")
    first, second = replies(world)
    assert "position 1" in first
    assert "position 1" in second
    assert f"It replaces the queued request for `{world['head'][:12]}` from @maintainer." in second


async def test_a_bench_command_while_the_pull_requests_bench_runs_is_refused(world, redis_url):
    await run(world, "/ruvopt bench")
    started = await world["queues"].bench.dequeue()  # what a worker does when it takes the job
    started.status = Status.ACTIVE
    await started.update()
    await run(world, "/ruvopt bench runs=9")
    assert queued_jobs(redis_url, BENCH) == []
    [job] = [j for j in [await world["queues"].bench.job(f"bench:{REPO}#12")] if j is not None]
    assert job.kwargs["runs"] is None  # the running request, untouched
    refusal = replies(world)[1]
    assert f"a benchmark of #12 is running now (`{world['head'][:12]}`, requested by @maintainer)" in refusal
    assert list(reactions(world).values()) == [["eyes"], []]


async def test_the_run_bench_button_pins_the_commit_it_was_pressed_on(world, redis_url):
    pressed = world["head"]
    world["fake"].push(REPO, 12, head_sha=(moved := new_sha()), diff="")
    await run(world, "/ruvopt bench", comment_id=0, head_sha=pressed, delivery="button-delivery")
    [job] = queued_jobs(redis_url, BENCH)
    assert job["kwargs"]["head_sha"] == pressed
    assert job["kwargs"]["comment_id"] is None
    [text] = replies(world)
    assert f"`{pressed[:12]}` is no longer the head of #12 (now `{moved[:12]}`)" in text
    assert "<!-- ruvopt:reply-to:button-button-delivery -->" in text
    # The same delivery handled again (a retried job) does nothing twice.
    await run(world, "/ruvopt bench", comment_id=0, head_sha=pressed, delivery="button-delivery")
    assert len(replies(world)) == 1


async def test_a_malformed_command_gets_a_reply_with_the_problem_and_the_help(world, redis_url):
    await run(world, "/ruvopt bench --release")
    [text] = replies(world)
    assert "`--release` is not an option" in text
    assert "/ruvopt recheck" in text
    assert queued_jobs(redis_url, REVIEW) == []
    assert queued_jobs(redis_url, BENCH) == []


async def test_help_is_answered_for_anyone_without_asking_for_permission(world):
    await run(world, "/ruvopt help", author="visitor")
    [text] = replies(world)
    assert "/ruvopt bench" in text
    assert world["fake"].calls("GET", "/repos/*/*/collaborators/*/permission") == []


async def test_a_retried_command_job_does_not_reply_twice(world, redis_url):
    await run(world, "/ruvopt recheck", comment_id=3001)
    await run(world, "/ruvopt recheck", comment_id=3001)
    assert len(replies(world)) == 1


async def test_commands_on_a_closed_pull_request_are_refused(world, redis_url):
    world["fake"].world.repos[REPO].pulls[12].state = "closed"
    await run(world, "/ruvopt recheck")
    [text] = replies(world)
    assert "closed" in text
    assert queued_jobs(redis_url, REVIEW) == []
