"""The queue contract: saq queues, job keys, and the Redis markers saq does not keep.

Redis is the broker and the only state store. Two saq queues, so a 10-minute bench never
delays a 2-second review:

- ``ruvopt:review``: ``review``, ``command`` and the ``redeliver`` cron;
- ``ruvopt:bench``: ``bench``.

saq rejects a duplicate job key only while the job is queued or running, so the facts
that must outlive a job are Redis keys of our own (:mod:`ruvopt.bot.keys` lists them all).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import hiredis  # noqa: F401  redis-py parses replies in C when this imports (docs/dependencies.md)
import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from saq.job import Status
from saq.queue.redis import RedisQueue

from ruvopt.bot import keys
from ruvopt.bot.queue import pubsub
from ruvopt.bot.queue.jobs import BenchJob
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.queue")

REVIEW_QUEUE = keys.REVIEW_QUEUE
BENCH_QUEUE = keys.BENCH_QUEUE
QUEUE_NAMES = {"review": REVIEW_QUEUE, "bench": BENCH_QUEUE}

PULL_MAP_TTL_S = 90 * 24 * 3600  # a PR left open for a quarter still maps its head SHA
REVIEWED_TTL_S = 90 * 24 * 3600
COMMAND_DONE_TTL_S = 7 * 24 * 3600
JOB_RESULT_TTL_S = 24 * 3600  # finished jobs stay inspectable for a day

JobKind = Literal["review", "command", "bench", "redeliver", "sleep_job"]


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


@dataclass
class Queues:
    """The saq queues of one process, sharing one Redis client."""

    redis: Redis
    review: RedisQueue
    bench: RedisQueue

    def by_name(self, short: str) -> RedisQueue:
        return {"review": self.review, "bench": self.bench}[short]


def connect(url: str, *, role: Literal["receiver", "worker"]) -> Redis:
    """A Redis client (no I/O until first use).

    The receiver fails fast (one quick retry, 1 s connect timeout) so a request answers
    503 instead of hanging while Redis is down; the worker rides out restarts (redis-py's
    default backoff) and has no read timeout, since saq blocks in BLMOVE and pub/sub.
    """
    if role == "receiver":
        return Redis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=2.0, retry=Retry(NoBackoff(), 1), max_connections=256
        )
    return Redis.from_url(url, socket_timeout=None, socket_keepalive=True, health_check_interval=15)


def make_queues(redis: Redis) -> Queues:
    def queue(name: str) -> RedisQueue:
        return pubsub.install(RedisQueue(redis, name=name, dump=dumps, load=orjson.loads))

    return Queues(redis=redis, review=queue(REVIEW_QUEUE), bench=queue(BENCH_QUEUE))


def job_options(settings: Settings, kind: JobKind) -> dict[str, Any]:
    """saq's defaults lose a killed job (retries=1, heartbeat off): these keep it."""
    timeout = settings.bench_timeout_seconds if kind == "bench" else settings.review_timeout_seconds
    return {
        "timeout": timeout,
        "heartbeat": settings.job_heartbeat_seconds,
        "retries": max(settings.job_retries, 2),
        "retry_delay": 1.0,
        "retry_backoff": 30.0,
        "ttl": JOB_RESULT_TTL_S,
    }


# --- pull request heads ---------------------------------------------------------------------


async def pull_for_sha(redis: Redis, repo: str, head_sha: str) -> tuple[int, str] | None:
    """(PR number, base SHA) recorded for a head SHA by an earlier pull_request event."""
    raw = await redis.get(keys.sha_pr(repo, head_sha))
    if raw is None:
        return None
    data = orjson.loads(raw)
    return int(data["pr"]), str(data["base_sha"])


async def latest_head(redis: Redis, repo: str, pr: int) -> str | None:
    raw = await redis.get(keys.pr_head(repo, pr))
    if not raw:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    return text.split(" ", 1)[1]


# --- reviews -------------------------------------------------------------------------------


async def review_skip_reason(redis: Redis, repo: str, pr: int, head_sha: str, force: bool) -> str | None:
    """Why a review that reached a worker should not run; checked when the job starts."""
    if force:
        return None
    if await redis.exists(keys.reviewed(repo, head_sha)):
        return f"already reviewed {repo}@{head_sha[:12]}"
    latest = await latest_head(redis, repo, pr)
    if latest is not None and latest != head_sha:
        return f"superseded: #{pr} head is now {latest[:12]}"
    return None


async def is_reviewed(redis: Redis, repo: str, head_sha: str) -> bool:
    return bool(await redis.exists(keys.reviewed(repo, head_sha)))


async def mark_reviewed(redis: Redis, repo: str, head_sha: str) -> None:
    await redis.set(keys.reviewed(repo, head_sha), b"1", ex=REVIEWED_TTL_S)


# --- commands and benches --------------------------------------------------------------------


async def command_done(redis: Redis, repo: str, comment_id: int | str) -> bool:
    return bool(await redis.exists(keys.command_done(repo, comment_id)))


async def mark_command_done(redis: Redis, repo: str, comment_id: int | str) -> None:
    await redis.set(keys.command_done(repo, comment_id), b"1", ex=COMMAND_DONE_TTL_S)


@dataclass(frozen=True)
class BenchTicket:
    job_key: str
    position: int  # 1 = next to start; 0 = not queued (see ``running_job``)
    running: int  # benches running right now, on every worker
    replaced: BenchJob | None = None  # the queued request of this PR that this one replaced
    running_job: BenchJob | None = None  # this PR's bench that is running: nothing was queued


async def enqueue_bench(queues: Queues, settings: Settings, job: BenchJob) -> BenchTicket:
    """Queue ``job``; one bench per PR: a queued one is replaced, a running one is left to
    finish and ``job`` is not queued (the ticket says which)."""
    existing = await queues.bench.job(job.key)
    replaced = None
    if existing is not None and existing.status == Status.QUEUED:
        await queues.bench.abort(existing, error=f"replaced by a newer request from {job.requested_by}")
        replaced = BenchJob.from_kwargs(existing.kwargs or {})
    queued = await queues.bench.enqueue("bench", key=job.key, **job.to_kwargs(), **job_options(settings, "bench"))
    if queued is None:  # running (or being aborted): one bench per PR at a time
        current = await queues.bench.job(job.key)
        running = BenchJob.from_kwargs(current.kwargs or {}) if current is not None else None
        return BenchTicket(job.key, 0, await queues.bench.count("active"), replaced, running or job)
    position, running_count = await queue_position(queues.bench, job.key)
    return BenchTicket(job.key, position, running_count, replaced)


async def queue_position(queue: RedisQueue, job_key: str) -> tuple[int, int]:
    """(1-based position among queued jobs, or 0 if running/absent; jobs running now)."""
    # Workers BLMOVE from the left, enqueue RPUSHes on the right: index 0 starts next.
    index = await queue.redis.lpos(queue.namespace("queued"), queue.job_id(job_key))
    running = await queue.count("active")
    return (index + 1 if isinstance(index, int) else 0), running
