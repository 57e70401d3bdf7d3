"""The missed-delivery reconciler against the FakeGitHub's delivery log and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.jobs.redeliver import MAX_REDELIVERIES, run_redeliver
from tests.fakegithub import FakeGitHub

DAY = 24 * 3600


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def redeliveries(fake: FakeGitHub) -> list[str]:
    """guids GitHub was asked to redeliver, in order."""
    by_id = {d.id: d.guid for d in fake.world.deliveries}
    return [by_id[int(r.path.split("/")[4])] for r in fake.calls("POST", "/app/hook/deliveries/*/attempts")]


async def test_failed_unprocessed_deliveries_are_redelivered_once(fake_github: FakeGitHub, redis: Redis):
    fake = fake_github
    failed = fake.add_delivery(status_code=502, guid="failed", age_s=3600)
    fake.add_delivery(status_code=504, guid="retried-ok", age_s=7200)
    fake.add_delivery(status_code=200, guid="retried-ok", age_s=600, redelivery=True)
    fake.add_delivery(status_code=200, guid="fine", age_s=60)
    fake.add_delivery(status_code=500, guid="accepted-late", age_s=120)
    await redis.set("ruvopt:delivery:accepted-late", b"done")  # the receiver has it, GitHub saw a timeout
    fake.add_delivery(status_code=502, guid="too-old", age_s=3 * DAY + 600)

    result = await run_redeliver(fake.settings(), redis)

    assert redeliveries(fake) == ["failed"]
    assert result["redelivered"] == ["failed"]
    assert result["accepted"] == ["accepted-late"]
    assert fake.calls("POST", f"/app/hook/deliveries/{failed.id}/attempts")[0].auth == "app"


async def test_latest_attempt_is_the_one_redelivered(fake_github: FakeGitHub, redis: Redis):
    fake_github.add_delivery(status_code=502, guid="g", age_s=7200)
    latest = fake_github.add_delivery(status_code=502, guid="g", age_s=60, redelivery=True)
    await run_redeliver(fake_github.settings(), redis)
    assert [r.path for r in fake_github.calls("POST")] == [f"/app/hook/deliveries/{latest.id}/attempts"]


async def test_a_guid_is_not_asked_for_again_while_cooling_down(fake_github: FakeGitHub, redis: Redis):
    fake_github.redelivery_status = 502  # the receiver is still down
    fake_github.add_delivery(status_code=502, guid="down", age_s=60)
    first = await run_redeliver(fake_github.settings(), redis)
    second = await run_redeliver(fake_github.settings(), redis)
    assert first["redelivered"] == ["down"]
    assert second["cooling"] == ["down"]
    assert redeliveries(fake_github) == ["down"]


async def test_gives_up_after_max_redeliveries(fake_github: FakeGitHub, redis: Redis):
    fake_github.add_delivery(status_code=502, guid="poison", age_s=DAY)
    for i in range(MAX_REDELIVERIES):
        fake_github.add_delivery(status_code=400, guid="poison", age_s=DAY - 60 * (i + 1), redelivery=True)
    result = await run_redeliver(fake_github.settings(), redis)
    assert result["given_up"] == ["poison"]
    assert redeliveries(fake_github) == []


async def test_walks_every_page_of_the_delivery_log(fake_github: FakeGitHub, redis: Redis):
    for i in range(150):  # more than one page of 100
        fake_github.add_delivery(status_code=200, guid=f"ok-{i}", age_s=10 + i)
    oldest_failed = fake_github.add_delivery(status_code=502, guid="on-page-2", age_s=1000)
    result = await run_redeliver(fake_github.settings(), redis)
    assert result["scanned"] == 151
    assert len(fake_github.calls("GET", "/app/hook/deliveries")) == 2
    assert redeliveries(fake_github) == [oldest_failed.guid]


async def test_a_failed_redelivery_request_leaves_no_cooldown(fake_github: FakeGitHub, redis: Redis):
    fake_github.add_delivery(status_code=502, guid="g", age_s=60)
    fake_github.fail_next("POST", "/app/hook/deliveries/*/attempts", 422, body={"message": "Validation Failed"})
    settings = fake_github.settings()
    with pytest.raises(Exception, match="422"):
        await run_redeliver(settings, redis, GitHubClient.for_app(settings))
    assert await redis.exists("ruvopt:redeliver-asked:g") == 0
    assert (await run_redeliver(settings, redis))["redelivered"] == ["g"]
