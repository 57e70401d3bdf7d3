"""Prometheus metrics of the receiver and the workers (docs/observability.md).

One registry per process (prometheus-client's default, which also carries the
``process_*`` and ``python_*`` collectors); the receiver serves it at ``/metrics``, a
worker on ``ruvopt worker --metrics-port``. Label values come from a closed set — never
from unverified input — so a stranger's requests cannot grow the series count.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

WEBHOOKS = Counter(
    "ruvopt_webhooks_total",
    "Webhook deliveries by event (unknown until the signature is verified) and outcome: "
    "queued, ignored, duplicate, pong, rejected, invalid, unavailable, error.",
    ["event", "outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "ruvopt_webhook_request_duration_seconds",
    "Time to answer POST /webhook, body read to response.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
QUEUE_DEPTH = Gauge("ruvopt_queue_depth", "Jobs waiting in a queue, read from Redis at scrape time.", ["queue"])
# Labelled so that a process that never measures it exports no sample (an unlabelled gauge
# exports 0 from the start): a worker has no scrape-time Redis read, and a 0 there would
# page RuvoptRedisDown for ever.
REDIS_UP = Gauge("ruvopt_redis_up", "1 when Redis answered the last scrape's queue-depth reads, else 0.", ["process"])

JOBS = Counter(
    "ruvopt_jobs_total",
    "Jobs a worker ran, by kind (review, command, bench, redeliver) and outcome: "
    "complete, skipped, retried, failed, aborted.",
    ["kind", "outcome"],
)
JOB_SECONDS = Histogram(
    "ruvopt_job_duration_seconds",
    "Time a job ran on a worker (one attempt).",
    ["kind"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
REVIEW_LATENCY = Histogram(
    "ruvopt_review_latency_seconds",
    "From the delivery's job entering the queue (inside the webhook request) to its check run completed.",
    buckets=(1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
)
GITHUB_REQUESTS = Counter(
    "ruvopt_github_requests_total",
    "HTTP requests to GitHub's API (each attempt, retries included), by method and status.",
    ["method", "status"],
)
# Per installation (each installation token has its own hourly budget; "app" for the
# App's JWT calls), and absent until GitHub has answered once: an idle process must not
# export a remaining budget of 0.
GITHUB_RATELIMIT_REMAINING = Gauge(
    "ruvopt_github_ratelimit_remaining",
    "x-ratelimit-remaining GitHub last reported to this process, per installation (taken before each write "
    "and when a job's client closes).",
    ["installation"],
)

KNOWN_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


def count_github_response(method: str, status: int) -> None:
    verb = method.upper() if method.upper() in KNOWN_METHODS else "OTHER"
    GITHUB_REQUESTS.labels(verb, str(status)).inc()


def note_rate_limit(remaining: int, installation: int | None) -> None:
    if remaining >= 0:  # PyGithub says -1 before its first response
        GITHUB_RATELIMIT_REMAINING.labels("app" if installation is None else str(installation)).set(remaining)
