"""The receiver's part of ``/ruvopt bench`` (real app over ASGI, real redis-server, real
webhook examples): the "Run bench" button and "Re-run" of the ``ruvopt/bench`` check run
become a ``command`` job for that check run's commit; the bench itself is queued by that
job, after it has checked the sender's permission."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ruvopt.bot.receiver.app import create_app
from ruvopt.bot.settings import Settings
from tests import payloads
from tests.payloads import APP_ID, SECRET
from tests.queue_probe import BENCH, REVIEW, queued_jobs


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(webhook_secret=SECRET, app_id=APP_ID, redis_url=redis_url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ruvopt") as c:
        yield c
    await app.state.queues.redis.aclose()


async def post(client: httpx.AsyncClient, payload: dict[str, Any], guid: str) -> httpx.Response:
    body, headers = payloads.delivery("check_run", payload, guid=guid)
    return await client.post("/webhook", content=body, headers=headers)


def bench_button(sha: str) -> dict[str, Any]:
    payload = payloads.check_run("requested_action", head_sha=sha)
    payload["requested_action"]["identifier"] = "bench"
    return payload


def rerun_of_the_bench_run(sha: str) -> dict[str, Any]:
    payload = payloads.check_run("rerequested", head_sha=sha)
    payload["check_run"]["name"] = "ruvopt/bench"
    return payload


@pytest.mark.parametrize("make", [bench_button, rerun_of_the_bench_run])
async def test_a_bench_request_from_the_checks_ui_becomes_a_command_job_for_that_commit(client, redis_url, make):
    sha = payloads.new_sha()
    payload = make(sha)
    response = await post(client, payload, "delivery-button-1")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued", response.text
    assert response.json()["detail"].startswith("bench request for ")
    [job] = queued_jobs(redis_url, REVIEW)
    listed = payload["check_run"]["pull_requests"][0]
    assert job["function"] == "command"
    assert job["key"] == f"command:{payload['repository']['full_name']}:button-delivery-button-1"
    kwargs = job["kwargs"]
    assert (kwargs["head_sha"], kwargs["pr"], kwargs["comment_id"]) == (sha, listed["number"], 0)
    assert (kwargs["author"], kwargs["body"]) == (payload["sender"]["login"], "/ruvopt bench")
    assert queued_jobs(redis_url, BENCH) == []  # queued by the command job, after the permission check


async def test_rerun_of_the_review_check_run_still_reviews(client, redis_url):
    payload = payloads.check_run("rerequested", head_sha=payloads.new_sha())
    payload["check_run"]["name"] = "ruvopt"
    await post(client, payload, "delivery-rerun-1")
    [job] = queued_jobs(redis_url, REVIEW)
    assert job["function"] == "review"
    assert job["kwargs"]["force"] is True
