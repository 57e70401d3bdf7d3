"""The receiver through the real app (ASGI) against a real redis-server, fed real GitHub
webhook examples; what it enqueued is read back from saq's keys in Redis."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis

from ruvopt.bot.receiver.app import create_app
from ruvopt.bot.receiver.routing import Delivery, Outcome, Router
from ruvopt.bot.settings import Settings, SettingsError
from tests import payloads
from tests.payloads import APP_ID, SECRET
from tests.queue_probe import BENCH, REVIEW, queued_jobs

MB = 1024 * 1024


def make_settings(redis_url: str, **overrides: Any) -> Settings:
    return Settings(webhook_secret=SECRET, app_id=APP_ID, redis_url=redis_url, **overrides)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(redis_url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ruvopt") as c:
        yield c
    await app.state.queues.redis.aclose()


async def post(client: httpx.AsyncClient, event: str, payload: dict[str, Any] | bytes, **kw: Any) -> httpx.Response:
    body, headers = payloads.delivery(event, payload, **kw)
    return await client.post("/webhook", content=body, headers=headers)


def review_jobs(redis_url: str) -> list[dict[str, Any]]:
    return [j for j in queued_jobs(redis_url, REVIEW) if j["function"] == "review"]


# --- refusing what is not a genuine delivery ---------------------------------------------------


async def test_unsigned_delivery_is_refused_with_401_and_enqueues_nothing(client, redis_url):
    response = await post(client, "pull_request", payloads.pull_request(), secret=None)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["error"]
    assert queued_jobs(redis_url) == []


async def test_signature_made_with_another_secret_is_refused_with_401(client, redis_url):
    response = await post(client, "pull_request", payloads.pull_request(), secret="not-the-secret")
    assert response.status_code == 401
    assert queued_jobs(redis_url) == []


async def test_refusals_are_logged_one_line_a_second_at_most(client, caplog):
    # A secret that no longer matches must show in the logs; a flood must not flood them.
    with caplog.at_level(logging.WARNING, logger="ruvopt.webhook"):
        for _ in range(5):
            response = await post(client, "pull_request", payloads.pull_request(), secret="not-the-secret")
            assert response.status_code == 401
    lines = [r.getMessage() for r in caplog.records if "refused with" in r.getMessage()]
    assert len(lines) == 1, lines
    assert " refused with 401: " in lines[0]


async def test_body_changed_after_signing_is_refused_with_401(client, redis_url):
    body, headers = payloads.delivery("pull_request", payloads.pull_request())
    tampered = body.replace(b'"opened"', b'"closed"', 1)
    assert tampered != body
    response = await client.post("/webhook", content=tampered, headers=headers)
    assert response.status_code == 401
    assert queued_jobs(redis_url) == []


class CountingBody:
    """An endless request body that counts how much of it the server pulled."""

    def __init__(self, chunk: int = 64 * 1024) -> None:
        self.chunk, self.sent = chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.sent += self.chunk
            yield b" " * self.chunk


async def test_declared_oversize_body_gets_413_before_any_of_it_is_read(client):
    body = CountingBody()
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1", "Content-Length": str(26 * MB)}
    response = await client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 413
    assert body.sent <= body.chunk  # at most the chunk the transport pre-reads


async def test_chunked_oversize_body_gets_413_and_reading_stops_at_the_25mb_limit(client):
    body = CountingBody()
    response = await client.post("/webhook", content=body, headers={"X-GitHub-Event": "pull_request"})
    assert response.status_code == 413
    assert 25 * MB < body.sent <= 25 * MB + 2 * body.chunk


async def test_malformed_json_is_refused_with_400(client, redis_url):
    response = await post(client, "pull_request", b'{"action": "opened", "pull_request": ')
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]
    assert queued_jobs(redis_url) == []


async def test_json_that_is_not_an_object_is_refused_with_400(client):
    response = await post(client, "pull_request", b"[1, 2, 3]")
    assert response.status_code == 400


async def test_missing_event_header_is_refused_with_400(client):
    body, headers = payloads.delivery("pull_request", payloads.pull_request())
    del headers["X-GitHub-Event"]
    response = await client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 400


# --- what is ignored ----------------------------------------------------------------------------


async def test_ping_is_answered_200(client, redis_url):
    response = await post(client, "ping", payloads.example("ping", installed=False))
    assert response.status_code == 200
    assert response.json()["status"] == "pong"


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ("push", None),
        ("installation", "created"),
        ("pull_request", "closed"),
        ("pull_request", "labeled"),
        ("issue_comment", "edited"),
        ("check_run", "completed"),
        ("check_suite", "requested"),
    ],
)
async def test_events_without_a_handler_are_ignored_and_enqueue_nothing(client, redis_url, event, action):
    response = await post(client, event, payloads.example(event, action, installed=False))
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert queued_jobs(redis_url, REVIEW) == []
    assert queued_jobs(redis_url, BENCH) == []


async def test_deliveries_sent_by_a_bot_are_ignored(client, redis_url):
    # The real check_suite.rerequested example is sent by octocoders-linter[bot].
    real = payloads.example("check_suite", "rerequested")
    assert real["sender"]["type"] == "Bot"
    real["check_suite"]["app"]["id"] = APP_ID
    response = await post(client, "check_suite", real)
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    response = await post(client, "pull_request", payloads.from_bot(payloads.pull_request()))
    assert response.json()["status"] == "ignored"
    assert queued_jobs(redis_url) == []


async def test_check_run_of_another_app_is_ignored(client, redis_url):
    response = await post(client, "check_run", payloads.check_run("rerequested", app_id=APP_ID + 1))
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert "another app" in response.json()["detail"]
    assert queued_jobs(redis_url) == []


async def test_unknown_requested_action_is_ignored(client, redis_url):
    payload = payloads.check_run("requested_action")  # the real example's identifier "lgtm|26764"
    response = await post(client, "check_run", payload)
    assert response.json()["status"] == "ignored"
    assert queued_jobs(redis_url) == []


async def test_draft_pull_request_is_not_reviewed(client, redis_url):
    response = await post(client, "pull_request", payloads.pull_request("opened", draft=True))
    assert response.json()["status"] == "ignored"
    assert queued_jobs(redis_url) == []


async def test_comments_on_issues_and_comments_without_a_command_are_ignored(client, redis_url):
    on_issue = payloads.example("issue_comment", "created")
    on_issue["comment"]["body"] = "/ruvopt recheck"
    assert (await post(client, "issue_comment", on_issue)).json()["status"] == "ignored"
    chatter = payloads.pr_comment("Looks good, but see `/ruvopt help` later")
    assert (await post(client, "issue_comment", chatter)).json()["status"] == "ignored"
    assert queued_jobs(redis_url) == []


@pytest.mark.parametrize(
    "breakage",
    ["no installation", "no head sha", "sha not hex", "number not int"],
)
async def test_payload_missing_fields_is_refused_with_422_and_enqueues_nothing(client, redis_url, breakage):
    payload = payloads.pull_request("opened")
    pr = payload["pull_request"]
    if breakage == "no installation":
        del payload["installation"]
    elif breakage == "no head sha":
        del pr["head"]["sha"]
    elif breakage == "sha not hex":
        pr["head"]["sha"] = "HEAD; rm -rf /"
    else:
        pr["number"] = "two"
    response = await post(client, "pull_request", payload)
    assert response.status_code == 422
    assert queued_jobs(redis_url) == []


async def test_a_refused_payload_does_not_burn_its_delivery_id(client, redis_url):
    broken = payloads.pull_request("opened")
    del broken["pull_request"]["base"]
    assert (await post(client, "pull_request", broken, guid="fixed-later")).status_code == 422
    response = await post(client, "pull_request", payloads.pull_request("opened"), guid="fixed-later")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert len(review_jobs(redis_url)) == 1


# --- what is enqueued ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened", "ready_for_review"])
async def test_new_pull_request_head_enqueues_one_review_of_that_head(client, redis_url, action):
    payload = payloads.pull_request(action, number=7)
    pr, guid = payload["pull_request"], "guid-" + action.replace("_", "-")
    response = await post(client, "pull_request", payload, guid=guid)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    [job] = queued_jobs(redis_url, REVIEW)
    assert job["function"] == "review"
    assert job["key"] == f"review:Codertocat/Hello-World@{pr['head']['sha']}"
    assert job["kwargs"] == {
        "installation": payload["installation"]["id"],
        "repo": "Codertocat/Hello-World",
        "pr": 7,
        "head_sha": pr["head"]["sha"],
        "base_sha": pr["base"]["sha"],
        "force": False,
        "delivery": guid,
    }
    # saq's defaults would lose a killed job: docs/app.md (Settings) requires these.
    assert job["retries"] >= 2
    assert job["heartbeat"] > 0
    assert job["timeout"] > 0
    assert queued_jobs(redis_url, BENCH) == []


async def test_command_comment_on_a_pull_request_enqueues_a_command_job(client, redis_url):
    payload = payloads.pr_comment("Thanks!\n/ruvopt bench profile=release", number=3)
    response = await post(client, "issue_comment", payload)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    [job] = queued_jobs(redis_url, REVIEW)
    assert job["function"] == "command"
    kwargs = job["kwargs"]
    assert (kwargs["repo"], kwargs["pr"]) == ("Codertocat/Hello-World", 3)
    assert kwargs["comment_id"] == payload["comment"]["id"]
    assert kwargs["author"] == "Codertocat"
    assert kwargs["body"] == payload["comment"]["body"]
    assert queued_jobs(redis_url, BENCH) == []  # the bench itself is queued by the command job


@pytest.mark.parametrize("kind", ["check_run.rerequested", "check_run.requested_action", "check_suite.rerequested"])
async def test_rerun_requests_from_the_checks_ui_enqueue_a_forced_review(client, redis_url, kind):
    sha = payloads.new_sha()
    if kind == "check_suite.rerequested":
        event, payload = "check_suite", payloads.check_suite_rerequested(head_sha=sha)
        listed = payload["check_suite"]["pull_requests"][0]
    else:
        event, action = kind.split(".")
        payload = payloads.check_run(action, head_sha=sha)
        if action == "requested_action":
            payload["requested_action"]["identifier"] = "recheck"
        listed = payload["check_run"]["pull_requests"][0]
    response = await post(client, event, payload)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    [job] = queued_jobs(redis_url, REVIEW)
    assert job["function"] == "review"
    assert job["kwargs"]["force"] is True
    assert job["kwargs"]["head_sha"] == sha
    assert (job["kwargs"]["pr"], job["kwargs"]["base_sha"]) == (listed["number"], listed["base"]["sha"])
    assert job["kwargs"]["repo"] == payload["repository"]["full_name"]


async def test_fork_check_suite_with_no_pull_requests_finds_its_pr_through_the_head_sha_map(client, redis_url):
    fork = payloads.fork_pull_request("opened", number=41)
    sha = fork["pull_request"]["head"]["sha"]
    await post(client, "pull_request", fork)
    first = review_jobs(redis_url)
    assert len(first) == 1
    response = await post(client, "check_suite", payloads.check_suite_rerequested(head_sha=sha, pulls=False))
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    # The first review is still queued under the same key: saq keeps one job per key.
    [job] = review_jobs(redis_url)
    assert job["kwargs"]["pr"] == 41
    assert job["kwargs"]["base_sha"] == fork["pull_request"]["base"]["sha"]


async def test_check_run_with_no_pull_requests_and_an_unknown_head_is_ignored(client, redis_url):
    response = await post(client, "check_run", payloads.check_run("rerequested", pulls=False))
    assert response.json()["status"] == "ignored"
    assert "no pull request known" in response.json()["detail"]
    assert queued_jobs(redis_url) == []


async def test_redelivery_with_the_same_delivery_id_enqueues_nothing_twice(client, redis_url):
    payload = payloads.pull_request("opened", number=5)
    assert (await post(client, "pull_request", payload, guid="same-guid")).status_code == 202
    assert len(review_jobs(redis_url)) == 1
    # Jobs finish and leave the queue; a redelivery must still not enqueue a second one.
    redis = client._transport.app.state.queues.redis  # type: ignore[attr-defined]
    await redis.delete("saq:ruvopt:review:queued", "saq:ruvopt:review:incomplete")
    again = await post(client, "pull_request", payload, guid="same-guid")
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert queued_jobs(redis_url) == []


async def test_newer_push_supersedes_the_queued_review_of_the_older_head(client, redis_url):
    old, new = payloads.new_sha(), payloads.new_sha()
    opened = payloads.pull_request("opened", number=9, head_sha=old, updated_at="2024-05-01T10:00:00Z")
    pushed = payloads.pull_request("synchronize", number=9, head_sha=new, updated_at="2024-05-01T10:05:00Z")
    await post(client, "pull_request", opened)
    await post(client, "pull_request", pushed)
    assert [j["kwargs"]["head_sha"] for j in review_jobs(redis_url)] == [new]


async def test_late_delivery_of_an_older_head_does_not_replace_the_newer_one(client, redis_url):
    old, new = payloads.new_sha(), payloads.new_sha()
    pushed = payloads.pull_request("synchronize", number=9, head_sha=new, updated_at="2024-05-01T10:05:00Z")
    late = payloads.pull_request("opened", number=9, head_sha=old, updated_at="2024-05-01T10:00:00Z")
    await post(client, "pull_request", pushed)
    response = await post(client, "pull_request", late)
    assert response.json()["status"] == "ignored"
    assert [j["kwargs"]["head_sha"] for j in review_jobs(redis_url)] == [new]


async def test_twenty_concurrent_deliveries_for_five_prs_make_five_review_jobs(client, redis_url):
    heads = {pr: payloads.new_sha() for pr in range(1, 6)}
    stamp = "2024-05-01T10:00:00Z"
    deliveries = []
    for pr, sha in heads.items():
        opened = payloads.pull_request("opened", number=pr, head_sha=sha, updated_at=stamp)
        reopened = payloads.pull_request("reopened", number=pr, head_sha=sha, updated_at=stamp)
        guid = f"pr-{pr}-opened"
        # opened, GitHub's redelivery of it, a reopen of the same head, and its redelivery.
        again = f"pr-{pr}-reopened"
        deliveries += [
            ("opened", opened, guid),
            ("opened", opened, guid),
            ("reopened", reopened, again),
            ("reopened", reopened, again),
        ]
    responses = await asyncio.gather(*(post(client, "pull_request", p, guid=g) for _, p, g in deliveries))
    assert all(r.status_code in (200, 202) for r in responses), [r.text for r in responses]
    jobs = review_jobs(redis_url)
    assert sorted((j["kwargs"]["pr"], j["kwargs"]["head_sha"]) for j in jobs) == sorted(heads.items())


# --- failure modes --------------------------------------------------------------------------------


async def test_redis_down_answers_503_so_the_delivery_shows_as_failed(client, redis_server, redis_url):
    assert (await client.get("/readyz")).status_code == 200
    redis_server.stop()
    try:
        response = await post(client, "pull_request", payloads.pull_request("opened"))
        assert response.status_code == 503
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200  # the process itself is fine
    finally:
        redis_server.start()


async def test_deliveries_are_still_queued_after_redis_forgets_the_intake_script(client, redis_server, redis_url):
    # A restarted Redis has an empty script cache: the receiver must load its script again.
    assert (await post(client, "pull_request", payloads.pull_request("opened", number=1))).status_code == 202
    assert redis_server.command("SCRIPT", "FLUSH") == "+OK"
    response = await post(client, "pull_request", payloads.pull_request("opened", number=2))
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert sorted(j["kwargs"]["pr"] for j in review_jobs(redis_url)) == [1, 2]


async def test_redis_out_of_memory_answers_503_and_enqueues_nothing(client, redis_server, redis_url):
    # deploy/redis.conf: maxmemory with noeviction, so a full Redis refuses the write.
    redis_server.command("CONFIG", "SET", "maxmemory", "1")
    try:
        response = await post(client, "pull_request", payloads.pull_request("opened"))
    finally:
        redis_server.command("CONFIG", "SET", "maxmemory", "0")
    assert response.status_code == 503
    assert queued_jobs(redis_url) == []


async def test_a_delivery_whose_handler_failed_is_handled_when_redelivered(redis_url):
    calls: list[str] = []
    router = Router()

    @router.register("pull_request", "opened")
    async def pull_request_opened(delivery: Delivery) -> Outcome:
        calls.append(delivery.id)
        if len(calls) == 1:
            raise RuntimeError("enqueue failed")
        return Outcome.queued("ok")

    app = create_app(make_settings(redis_url), router=router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ruvopt") as c:
        first = await post(c, "pull_request", payloads.pull_request(), guid="flaky")
        second = await post(c, "pull_request", payloads.pull_request(), guid="flaky")
    await app.state.queues.redis.aclose()
    assert first.status_code == 500
    assert "flaky" in first.json()["error"]
    assert second.status_code == 202
    assert calls == ["flaky", "flaky"]


def test_app_refuses_to_start_without_a_webhook_secret(redis_url):
    with pytest.raises(SettingsError, match="RUVOPT_WEBHOOK_SECRET"):
        create_app(Settings(webhook_secret=None, redis_url=redis_url))


def test_ruvopt_serve_exits_naming_the_missing_variable():
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUVOPT_")}
    argv = [sys.executable, "-m", "ruvopt.cli.main", "serve"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "RUVOPT_WEBHOOK_SECRET" in proc.stderr


def test_the_default_body_limit_is_githubs_25_mb():
    assert Settings().max_body_bytes == 25 * MB


async def test_an_accepted_delivery_id_is_remembered_for_at_least_three_days(client, redis_url):
    await post(client, "pull_request", payloads.pull_request("opened"), guid="remember-me")
    ttl = redis.Redis.from_url(redis_url).ttl("ruvopt:delivery:remember-me")
    assert ttl >= 3 * 24 * 3600
