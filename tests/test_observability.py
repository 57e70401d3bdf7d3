"""Metrics and JSON logs, end to end: real ``ruvopt serve`` and ``ruvopt worker
--metrics-port`` processes with ``RUVOPT_LOG_FORMAT=json``, real redis-server, the
FakeGitHub, a real git repository over HTTP. ``/metrics`` is read with
prometheus-client's own parser of the text format; every log line must be one JSON
object, and no secret the run used may appear in any of them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import payloads
from tests.app_stack import AppStack, pull_request_event
from tests.fakegithub import FakeGitHub, FakeGitHubServer
from tests.githttp import GitHttpServer
from tests.plugins.redis_server import RedisServer, free_port
from tests.review_support import CRATE, PullWorld, unsafe_reads
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

_names = itertools.count(1)


@pytest.fixture(scope="module")
def stack(
    fake_github_server: FakeGitHubServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppStack]:
    app = AppStack(
        fake_github_server.fake,
        redis_server.url,
        tmp_path_factory.mktemp("observability"),
        RUVOPT_WRITE_SPACING_SECONDS="0.2",
        RUVOPT_LOG_FORMAT="json",
    )
    app.metrics_port = free_port()  # type: ignore[attr-defined]
    try:
        app.start_receiver(log_level="info")
        # debug: the most the worker logs, so the likeliest place for a token to leak
        port = str(app.metrics_port)  # type: ignore[attr-defined]
        app.start_worker("--metrics-host", "127.0.0.1", "--metrics-port", port, "--log-level", "debug")
        yield app
    finally:
        app.stop()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page: (name, sorted labels) → value."""
    reply = httpx.get(url, timeout=10)
    assert reply.status_code == 200, reply.text[:300]
    assert reply.headers["content-type"].startswith("text/plain"), reply.text[:300]
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def make_world(fake: FakeGitHub, git_server: GitHttpServer, tmp_path: Path) -> PullWorld:
    repo = f"octo-org/observed-{next(_names)}"
    head = {"src/lib.rs": CRATE["src/lib.rs"] + unsafe_reads("r", 2)}
    return PullWorld.create(fake, git_server, tmp_path, CRATE, head, repo=repo)


def test_receiver_metrics_count_each_delivery_by_event_and_outcome(stack, redis_url, fake_github, git_server, tmp_path):
    world = make_world(fake_github, git_server, tmp_path)
    before = scrape(f"{stack.url}/metrics")
    event = pull_request_event(world, "opened")
    assert stack.post("pull_request", event, guid="metrics-once").json()["status"] == "queued"
    assert stack.post("pull_request", event, guid="metrics-once").json()["status"] == "duplicate"
    body, headers = payloads.delivery("pull_request", event, secret="wrong secret")
    assert httpx.post(f"{stack.url}/webhook", content=body, headers=headers, timeout=10).status_code == 401
    body, headers = payloads.delivery("ping", {"zen": "Design for failure.", "hook_id": 1})
    assert httpx.post(f"{stack.url}/webhook", content=body, headers=headers, timeout=10).status_code == 200
    after = scrape(f"{stack.url}/metrics")

    def delta(event: str, outcome: str) -> float:
        key = {"event": event, "outcome": outcome}
        return value(after, "ruvopt_webhooks_total", **key) - value(before, "ruvopt_webhooks_total", **key)

    assert [delta("pull_request", "queued"), delta("pull_request", "duplicate")] == [1, 1]
    assert [delta("unknown", "rejected"), delta("ping", "pong")] == [1, 1]
    count = "ruvopt_webhook_request_duration_seconds_count"
    assert value(after, count) - value(before, count) == 4
    assert value(after, "ruvopt_redis_up", process="receiver") == 1
    wait_for(lambda: stack.reviewed(world), 60, "the review")


def test_receiver_reports_the_depth_of_each_queue(stack, redis_url):
    from ruvopt.bot.queue.worker import enqueue_sleep

    # No worker consumes the bench queue here, so what is put on it stays there.
    for marker in ("depth-1", "depth-2"):
        asyncio.run(enqueue_sleep(redis_url, 1, marker, queue_name="bench"))
    samples = scrape(f"{stack.url}/metrics")
    assert value(samples, "ruvopt_queue_depth", queue="bench") == 2
    assert ("ruvopt_queue_depth", (("queue", "review"),)) in samples


def test_a_worker_serves_job_github_and_latency_metrics_after_a_review(stack, fake_github, git_server, tmp_path):
    worker = f"http://127.0.0.1:{stack.metrics_port}"
    before = scrape(f"{worker}/metrics")
    world = make_world(fake_github, git_server, tmp_path)
    assert stack.post("pull_request", pull_request_event(world, "opened")).status_code == 202
    wait_for(lambda: stack.reviewed(world), 60, "the review")
    (run,) = fake_github.check_runs(world.repo)
    assert run.status == "completed"
    after = wait_for(lambda: _after_job(worker, before), 10, "the job's metrics")

    posts = value(after, "ruvopt_github_requests_total", method="POST", status="201")
    assert posts >= 2  # the installation token and the check run, at least
    # What the FakeGitHub reports, for the installation that ran the review.
    assert value(after, "ruvopt_github_ratelimit_remaining", installation=str(world.installation)) == 4999
    # Neither the receiver nor a worker reports a Redis or rate-limit sample it never measured.
    assert not any(name == "ruvopt_redis_up" for name, _ in after)
    latency = "ruvopt_review_latency_seconds_count"
    assert value(after, latency) - value(before, latency) == 1
    assert value(after, "ruvopt_review_latency_seconds_sum") > value(before, "ruvopt_review_latency_seconds_sum")
    duration = "ruvopt_job_duration_seconds_count"
    assert value(after, duration, kind="review") - value(before, duration, kind="review") == 1


def _after_job(worker: str, before: dict[Any, float]) -> dict[Any, float] | None:
    after = scrape(f"{worker}/metrics")
    done = value(after, "ruvopt_jobs_total", kind="review", outcome="complete")
    return after if done - value(before, "ruvopt_jobs_total", kind="review", outcome="complete") == 1 else None


def test_worker_probes_follow_redis(tmp_path, fake_github_server):
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    app = AppStack(fake_github_server.fake, redis.url, tmp_path)
    port = free_port()
    try:
        worker = app.start_worker("--metrics-port", str(port))
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        redis.stop()
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 503
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        # saq's upkeep notices the outage: one line naming the error, no traceback.
        wait_for(lambda: "Upkeep task failed" in app.log(worker), 30, "saq's upkeep to meet the outage")
        assert "Traceback" not in app.log(worker), app.log(worker)
    finally:
        app.stop_workers(kill=True)
        redis.stop()


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    assert parsed
    assert all(isinstance(p, dict) and {"time", "level", "logger", "message"} <= p.keys() for p in parsed)
    return parsed


def test_json_logs_carry_the_delivery_and_job_context(stack, fake_github, git_server, tmp_path):
    world = make_world(fake_github, git_server, tmp_path)
    assert stack.post("pull_request", pull_request_event(world, "opened"), guid="logged-delivery").status_code == 202
    wait_for(lambda: stack.reviewed(world), 60, "the review")
    received = [r for r in _json_lines(stack.log("receiver")) if r.get("delivery") == "logged-delivery"]
    assert received
    assert received[-1]["message"].startswith("delivery logged-delivery pull_request.opened: queued")
    assert {k: received[-1][k] for k in ("installation", "repository", "pr", "event")} == {
        "installation": world.installation,
        "repository": world.repo,
        "pr": world.pr,
        "event": "pull_request",
    }
    worked = [r for r in _json_lines(stack.log(stack.workers[0])) if r.get("delivery") == "logged-delivery"]
    assert worked
    assert all(r["job"] == f"review:{world.repo}@{world.head}" and r["kind"] == "review" for r in worked)
    contexts = {(r["installation"], r["repository"], r["pr"]) for r in worked}
    assert contexts == {(world.installation, world.repo, world.pr)}


def test_no_log_line_of_the_run_holds_a_token_a_key_or_the_webhook_secret(stack, fake_github, git_server, tmp_path):
    world = make_world(fake_github, git_server, tmp_path)
    assert stack.post("pull_request", pull_request_event(world, "opened")).status_code == 202
    wait_for(lambda: stack.reviewed(world), 60, "the review")
    tokens = list(fake_github.world.tokens)
    assert tokens, "the run minted no installation token"
    logs = stack.log("receiver") + stack.log(stack.workers[0])
    _json_lines(stack.log(stack.workers[0]))
    key_lines = [line for line in fake_github.app_private_key_pem.splitlines() if "PRIVATE KEY" not in line]
    secrets = [*tokens, payloads.SECRET, *key_lines]
    leaked = [s[:8] + "…" for s in secrets if s in logs]
    assert not leaked, f"secrets in the logs: {leaked}"
    assert not re.search(r"ghs_[A-Za-z0-9]{36}|eyJ[A-Za-z0-9_-]{10,}\.eyJ", logs)  # any token or JWT at all


def _served_names(url: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(httpx.get(url, timeout=10).text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [])
        names.update(family.name + suffix for suffix in suffixes)  # families with no sample yet
    return names


def test_every_metric_the_dashboard_and_the_alerts_use_is_served(stack):
    served = _served_names(f"{stack.url}/metrics") | _served_names(f"http://127.0.0.1:{stack.metrics_port}/metrics")
    deploy = Path(__file__).resolve().parent.parent / "deploy"
    for config in (deploy / "prometheus" / "alerts.yml", deploy / "grafana" / "ruvopt-dashboard.json"):
        used = set(re.findall(r"\bruvopt_[a-z_]+", config.read_text()))
        assert used, f"{config.name} uses metrics nobody serves: {sorted(used - served)}"
        assert used <= served, f"{config.name} uses metrics nobody serves: {sorted(used - served)}"


def test_the_outage_filter_lets_one_connection_error_through_a_minute_with_the_count_left_out():
    import redis.exceptions

    from ruvopt.bot.logs import OutageFilter

    now = [0.0]
    quiet = OutageFilter(every_s=60, clock=lambda: now[0])

    def record(error: BaseException) -> logging.LogRecord:
        try:
            raise error
        except BaseException:
            return logging.LogRecord(
                "saq", logging.ERROR, __file__, 1, "Upkeep task failed unexpectedly", (), sys.exc_info()
            )

    first = record(redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379"))
    assert quiet.filter(first)
    assert first.exc_info is None  # one line: the traceback is dropped
    assert first.getMessage() == (
        "Upkeep task failed unexpectedly: ConnectionError: Error 111 connecting to 127.0.0.1:6379"
    )
    now[0] = 30
    assert not quiet.filter(record(redis.exceptions.ConnectionError("again")))
    assert not quiet.filter(record(ConnectionRefusedError(111, "refused")))
    assert quiet.filter(record(ValueError("a bug is never held back")))
    now[0] = 61
    later = record(redis.exceptions.TimeoutError("Timeout reading from socket"))
    assert quiet.filter(later)
    assert later.getMessage().endswith("; 2 more like it left out")
