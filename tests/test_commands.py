"""``/ruvopt`` commands: finding and parsing them (pure), then the command job with the
real GitHub client against the FakeGitHub and real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ruvopt.bot import commands
from ruvopt.bot.commands import Bench, CommandError, Help, Recheck
from ruvopt.bot.github.client import command_github
from ruvopt.bot.jobs.command import run_command
from ruvopt.bot.queue import contract as queue
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
        ("/ruvopt bench profile=release-fast", Bench(profile="release-fast")),
        ("/ruvopt bench bench=moe_bench", Bench(bench="moe_bench")),
        ("/ruvopt bench bench=moe_router/select_top_k profile=release", Bench("release", "moe_router/select_top_k")),
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
        ("/ruvopt bench runs=3", "unknown option `runs`"),
        ("/ruvopt bench profile=a profile=b", "`profile=` is given twice"),
        ("/ruvopt bench profile=", "not a valid profile name"),
        ("/ruvopt bench profile=$(reboot)", "not a valid profile name"),
        ("/ruvopt bench bench=--all", "not a valid bench name"),
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
    # The client the worker builds for each command job (ruvopt.bot.queue.worker._default_command_github).
    settings = fake_github.settings(redis_url=redis_url, webhook_secret="s", write_spacing_seconds=0)
    github = command_github(settings, INSTALLATION)
    redis = queue.connect(redis_url, role="worker")
    yield {"fake": fake_github, "github": github, "queues": queue.make_queues(redis), "settings": settings,
           "head": head, "base": base}  # fmt: skip
    await redis.aclose()
    github.client.close()


async def run(world: dict[str, Any], body: str, *, author: str = "maintainer", comment_id: int = 1001) -> Any:
    return await run_command(
        world["settings"], world["queues"], world["github"], installation=INSTALLATION, repo=REPO, pr=12,
        comment_id=comment_id, author=author, body=body, delivery="d-1",
    )  # fmt: skip


def replies(world: dict[str, Any]) -> list[str]:
    return [c.body for c in world["fake"].issue_comments(REPO, 12)]


async def test_recheck_by_a_writer_enqueues_a_forced_review_of_the_current_head(world, redis_url):
    await run(world, "/ruvopt recheck")
    [job] = queued_jobs(redis_url, REVIEW)
    assert job["function"] == "review" and job["kwargs"]["force"] is True
    assert (job["kwargs"]["head_sha"], job["kwargs"]["base_sha"]) == (world["head"], world["base"])
    [text] = replies(world)
    assert text.startswith("@maintainer") and world["head"][:12] in text


async def test_commands_from_someone_without_write_access_are_denied_and_enqueue_nothing(world, redis_url):
    await run(world, "/ruvopt bench", author="visitor")
    await run(world, "/ruvopt recheck", author="visitor", comment_id=1002)
    assert queued_jobs(redis_url, REVIEW) == [] and queued_jobs(redis_url, BENCH) == []
    texts = replies(world)
    assert len(texts) == 2
    assert all("needs write access" in t and "`read`" in t for t in texts)
    assert len(world["fake"].calls("GET", "/repos/*/*/collaborators/*/permission")) == 2


async def test_bench_pins_the_head_sha_and_replies_with_its_queue_position(world, redis_url):
    await run(world, "/ruvopt bench profile=release", comment_id=2001)
    await run(world, "/ruvopt bench bench=moe_bench", comment_id=2002)
    jobs = queued_jobs(redis_url, BENCH)
    assert [j["function"] for j in jobs] == ["bench", "bench"]
    assert all(j["kwargs"]["head_sha"] == world["head"] for j in jobs)
    assert [(j["kwargs"]["profile"], j["kwargs"]["bench"]) for j in jobs] == [("release", None), (None, "moe_bench")]
    assert jobs[0]["kwargs"]["requested_by"] == "maintainer" and jobs[0]["kwargs"]["comment_id"] == 2001
    # A later push does not change what an accepted bench measures.
    world["fake"].push(REPO, 12, head_sha=new_sha(), diff="")
    assert queued_jobs(redis_url, BENCH)[0]["kwargs"]["head_sha"] == world["head"]
    first, second = replies(world)
    assert "position 1 in the bench queue" in first and "position 2 in the bench queue" in second
    assert queued_jobs(redis_url, REVIEW) == []  # benches never share the review queue


async def test_a_malformed_command_gets_a_reply_with_the_problem_and_the_help(world, redis_url):
    await run(world, "/ruvopt bench --release")
    [text] = replies(world)
    assert "`--release` is not an option" in text and "/ruvopt recheck" in text
    assert queued_jobs(redis_url, REVIEW) == [] and queued_jobs(redis_url, BENCH) == []


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
