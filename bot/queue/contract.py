"""The queue contract: saq queues, job keys, and the Redis markers saq does not keep.

Redis is the broker and the only state store. Two saq queues, so a 10-minute bench never
delays a 2-second review:

- ``ruvopt:review``: ``review``, ``command`` and the ``redeliver`` cron;
- ``ruvopt:bench``: ``bench``.

saq rejects a duplicate job key only while the job is queued or running, so the facts
that must outlive a job are our own keys (all prefixed ``ruvopt:``):

==============================  ==========================================================
``delivery:<guid>``             a webhook delivery was accepted (:mod:`ruvopt.bot.receiver.intake`)
``pr-head:<repo>#<pr>``         latest head of a PR: ``"<updated_at epoch> <sha>"``
``sha-pr:<repo>@<sha>``         PR of a head SHA (check events from forks list no PRs)
``reviewed:<repo>@<sha>``       a review of that head finished (not repeated unless forced)
``command-done:<repo>:<id>``    a ``/ruvopt`` comment was handled (retries don't re-reply)
==============================  ==========================================================
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
from saq import Job
from saq.queue.redis import RedisQueue

from ruvopt.bot.queue import pubsub
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.queue")

REVIEW_QUEUE = "ruvopt:review"
BENCH_QUEUE = "ruvopt:bench"
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


# --- keys -------------------------------------------------------------------------------


def review_key(repo: str, head_sha: str) -> str:
    return f"review:{repo}@{head_sha}"


def bench_key(repo: str, pr: int, head_sha: str, profile: str | None, bench: str | None) -> str:
    return f"bench:{repo}#{pr}@{head_sha}:{profile or '*'}:{bench or '*'}"


def command_key(repo: str, comment_id: int) -> str:
    return f"command:{repo}:{comment_id}"


def delivery_key(guid: str) -> str:
    return f"ruvopt:delivery:{guid}"


def pr_head_key(repo: str, pr: int) -> str:
    return f"ruvopt:pr-head:{repo}#{pr}"


def sha_pr_key(repo: str, sha: str) -> str:
    return f"ruvopt:sha-pr:{repo}@{sha}"


def _reviewed(repo: str, sha: str) -> str:
    return f"ruvopt:reviewed:{repo}@{sha}"


def _command_done(repo: str, comment_id: int) -> str:
    return f"ruvopt:command-done:{repo}:{comment_id}"


# --- pull request heads ---------------------------------------------------------------------


async def pull_for_sha(redis: Redis, repo: str, head_sha: str) -> tuple[int, str] | None:
    """(PR number, base SHA) recorded for a head SHA by an earlier pull_request event."""
    raw = await redis.get(sha_pr_key(repo, head_sha))
    if raw is None:
        return None
    data = orjson.loads(raw)
    return int(data["pr"]), str(data["base_sha"])


async def latest_head(redis: Redis, repo: str, pr: int) -> str | None:
    raw = await redis.get(pr_head_key(repo, pr))
    if not raw:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    return text.split(" ", 1)[1]


# --- reviews -------------------------------------------------------------------------------


async def enqueue_review(
    queues: Queues,
    settings: Settings,
    *,
    installation: int,
    repo: str,
    pr: int,
    head_sha: str,
    base_sha: str,
    force: bool = False,
    delivery: str = "",
) -> Job | None:
    """Enqueue a review keyed by (repo, head SHA); None if one is already queued/running."""
    return await queues.review.enqueue(
        "review",
        key=review_key(repo, head_sha),
        installation=installation,
        repo=repo,
        pr=pr,
        head_sha=head_sha,
        base_sha=base_sha,
        force=force,
        delivery=delivery,
        **job_options(settings, "review"),
    )


async def review_skip_reason(redis: Redis, repo: str, pr: int, head_sha: str, force: bool) -> str | None:
    """Why a review that reached a worker should not run; checked when the job starts."""
    if force:
        return None
    if await redis.exists(_reviewed(repo, head_sha)):
        return f"already reviewed {repo}@{head_sha[:12]}"
    latest = await latest_head(redis, repo, pr)
    if latest is not None and latest != head_sha:
        return f"superseded: #{pr} head is now {latest[:12]}"
    return None


async def is_reviewed(redis: Redis, repo: str, head_sha: str) -> bool:
    return bool(await redis.exists(_reviewed(repo, head_sha)))


async def mark_reviewed(redis: Redis, repo: str, head_sha: str) -> None:
    await redis.set(_reviewed(repo, head_sha), b"1", ex=REVIEWED_TTL_S)


# --- commands and benches --------------------------------------------------------------------


async def command_done(redis: Redis, repo: str, comment_id: int) -> bool:
    return bool(await redis.exists(_command_done(repo, comment_id)))


async def mark_command_done(redis: Redis, repo: str, comment_id: int) -> None:
    await redis.set(_command_done(repo, comment_id), b"1", ex=COMMAND_DONE_TTL_S)


@dataclass(frozen=True)
class BenchTicket:
    job_key: str
    position: int  # 1 = next to start
    running: int  # benches running right now
    duplicate: bool  # the same bench of the same head was already queued


async def enqueue_bench(
    queues: Queues,
    settings: Settings,
    *,
    installation: int,
    repo: str,
    pr: int,
    head_sha: str,
    base_sha: str,
    profile: str | None,
    bench: str | None,
    requested_by: str,
    comment_id: int,
) -> BenchTicket:
    key = bench_key(repo, pr, head_sha, profile, bench)
    job = await queues.bench.enqueue(
        "bench",
        key=key,
        installation=installation,
        repo=repo,
        pr=pr,
        head_sha=head_sha,
        base_sha=base_sha,
        profile=profile,
        bench=bench,
        requested_by=requested_by,
        comment_id=comment_id,
        **job_options(settings, "bench"),
    )
    position, running = await queue_position(queues.bench, key)
    return BenchTicket(key, position, running, duplicate=job is None)


async def queue_position(queue: RedisQueue, job_key: str) -> tuple[int, int]:
    """(1-based position among queued jobs, or 0 if running/absent; jobs running now)."""
    # Workers BLMOVE from the left, enqueue RPUSHes on the right: index 0 starts next.
    index = await queue.redis.lpos(queue.namespace("queued"), queue.job_id(job_key))
    running = await queue.count("active")
    return (index + 1 if isinstance(index, int) else 0), running
