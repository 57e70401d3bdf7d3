"""The one way a review or command job is enqueued: with a delivery id, in one round trip.

The receiver enqueues what a webhook delivery asks for; a ``/ruvopt recheck`` and the
sweeper's resumed jobs come through here too, each with a delivery id of its own (the
command's delivery + ``:recheck``, the job key + the resume count), so a retried command
job or a second sweeper round cannot enqueue the same work twice.

One Lua script claims the delivery id (``SET NX``, TTL ≥ 3 days), records the PR's head
(newest wins, by ``updated_at``) with the head SHA → PR map, removes the previous head's
review if it is still waiting in the queue (the job and its record: it would only be
skipped), and enqueues the saq job — atomically. So there is no window in which the id
is claimed but the job is missing (a crash in between would turn GitHub's redelivery
into a no-op), no claim to release when
the enqueue fails, and the request costs one round trip instead of four, which is what
lets ingest keep up with a bare endpoint (docs/performance.md).

The enqueue half does exactly what saq's own ``RedisQueue._enqueue`` script does (same
keys, same duplicate rule: refused while the key is queued, running, or being aborted),
on a job serialised by saq itself; ``tests/test_queue.py`` runs jobs enqueued this way in
real saq workers, so a saq upgrade that changed the layout would fail there.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError
from saq import Job
from saq.job import Status
from saq.queue.redis import RedisQueue
from saq.utils import now

from ruvopt.bot import keys
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue.jobs import CommandJob, ReviewJob
from ruvopt.bot.settings import Settings

# KEYS: 1 delivery  2 incomplete  3 job id  4 queued  5 abort id  6 pr head  7 sha → pr
# ARGV: 1 delivery ttl  2 job json ('' = no job)  3 scheduled  4 head stamp ('' = no head)
#       5 head sha  6 head ttl  7 sha → pr value  8 job id of a review of this PR's repo
#       without the sha ('' = none): the previous head's job is ARGV[8] .. previous sha
# Returns {duplicate, enqueued, stale head, previous head sha or false, superseded}.
# (The previous head's job id is built in the script: fine on one Redis, not on a cluster.)
_ACCEPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return {1, 0, 0, false, 0} end
local prev = false
local superseded = 0
if ARGV[4] ~= '' then
  local cur = redis.call('GET', KEYS[6])
  if cur then
    local sp = string.find(cur, ' ', 1, true)
    prev = string.sub(cur, sp + 1)
    if tonumber(ARGV[4]) < tonumber(string.sub(cur, 1, sp - 1)) then return {0, 0, 1, prev, 0} end
  end
  redis.call('SET', KEYS[6], ARGV[4] .. ' ' .. ARGV[5], 'EX', ARGV[6])
  redis.call('SET', KEYS[7], ARGV[7], 'EX', ARGV[6])
  if prev and prev ~= ARGV[5] and ARGV[8] ~= '' then
    local old = ARGV[8] .. prev
    if redis.call('LREM', KEYS[4], 1, old) == 1 then
      redis.call('ZREM', KEYS[2], old)
      redis.call('DEL', old)
      superseded = 1
    end
  end
end
local enqueued = 0
if ARGV[2] ~= '' and not redis.call('ZSCORE', KEYS[2], KEYS[3]) and redis.call('EXISTS', KEYS[5]) == 0 then
  redis.call('SET', KEYS[3], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], KEYS[3])
  if ARGV[3] == '0' then redis.call('RPUSH', KEYS[4], KEYS[3]) end
  enqueued = 1
end
return {0, enqueued, 0, prev, superseded}
"""


class _Pipeliner:
    """Sends the scripts of concurrent requests in one pipeline (auto-pipelining).

    Requests handled in the same event-loop iteration share one write and one read on
    one connection instead of one each: under load that is the difference between
    keeping up and not (docs/performance.md). Each script still runs atomically; a
    pipeline is not a transaction, so one failing delivery does not fail the others.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.sha: str | None = None
        self.pending: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []

    async def call(self, script_keys: list[str], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append((script_keys, args, future))
        if len(self.pending) == 1:
            task = asyncio.ensure_future(self._flush())
            _flushes.add(task)
            task.add_done_callback(_flushes.discard)
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the other requests of this loop iteration join in
        batch, self.pending = self.pending, []
        try:
            results = await self._send(batch)
            missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
            if missing:  # Redis restarted and forgot the script: load it again, once
                self.sha = None
                for i, result in zip(missing, await self._send([batch[i] for i in missing]), strict=True):
                    results[i] = result
        except Exception as exc:  # the connection failed: every caller sees it
            results = [exc] * len(batch)
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():  # the request was cancelled (client went away)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _send(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]) -> list[Any]:
        if self.sha is None:
            self.sha = await self.redis.script_load(_ACCEPT)
        async with self.redis.pipeline(transaction=False) as pipe:
            for script_keys, args, _ in batch:
                pipe.evalsha(self.sha, len(script_keys), *script_keys, *args)
            return list(await pipe.execute(raise_on_error=False))


_pipeliners: weakref.WeakKeyDictionary[Redis, _Pipeliner] = weakref.WeakKeyDictionary()
_flushes: set[asyncio.Task[None]] = set()  # strong references while a flush runs


@dataclass(frozen=True)
class Accepted:
    duplicate: bool  # the delivery id was seen before: nothing was written
    enqueued: bool  # False: a job with this key is already queued or running (or none was asked)
    stale_head: bool  # a newer head of this PR is already known: nothing was enqueued
    previous_sha: str | None  # the PR's head before this delivery, if it was another SHA
    superseded: bool = False  # the previous head's review was still queued and is gone


@dataclass(frozen=True)
class Head:
    """A pull_request event's head, for the PR-head record and the SHA → PR map."""

    pr: int
    sha: str
    base_sha: str
    updated_at: datetime | None


def _saq_job(q: RedisQueue, job: ReviewJob | CommandJob, settings: Settings) -> Job:
    # What saq's Queue.enqueue sets before its script runs.
    options = queue.job_options(settings, job.function)  # type: ignore[arg-type]
    return Job(
        function=job.function,
        kwargs=job.to_kwargs(),
        key=job.key,
        queue=q,
        queued=now(),
        status=Status.QUEUED,
        **options,
    )


async def accept(
    queues: queue.Queues,
    settings: Settings,
    *,
    delivery: str,
    job: ReviewJob | CommandJob | None,
    repo: str | None = None,
    head: Head | None = None,
) -> Accepted:
    """Claim ``delivery`` and enqueue ``job`` (none: only claim and record); with ``head``
    (a pull_request event), also record it as the PR's head, superseding the previous
    head's queued review. ``repo`` is needed when there is no job."""
    q = queues.review  # reviews and commands share it; benches are queued by the command job
    repo = job.repo if job is not None else repo
    if repo is None:
        raise ValueError("accept() needs a job or a repo")
    script_keys = [keys.delivery(delivery), q.namespace("incomplete"), "-", q.namespace("queued"), "-", "-", "-"]
    args: list[Any] = [settings.delivery_ttl_seconds, "", 0, "", "", queue.PULL_MAP_TTL_S, "", ""]
    if job is not None:
        saq_job = _saq_job(q, job, settings)
        script_keys[2], script_keys[4] = saq_job.id, saq_job.abort_id
        args[1], args[2] = q.serialize(saq_job), saq_job.scheduled
    if head is not None:
        script_keys[5], script_keys[6] = keys.pr_head(repo, head.pr), keys.sha_pr(repo, head.sha)
        stamp = head.updated_at.timestamp() if head.updated_at is not None else 0
        args[3], args[4] = f"{stamp:.0f}", head.sha
        args[6] = queue.dumps({"pr": head.pr, "base_sha": head.base_sha})
        args[7] = q.job_id(keys.review_job(repo, ""))  # + the previous sha, in the script
    pipeliner = _pipeliners.get(queues.redis)
    if pipeliner is None:
        pipeliner = _pipeliners[queues.redis] = _Pipeliner(queues.redis)
    duplicate, enqueued, stale, previous, superseded = await pipeliner.call(script_keys, args)
    prev = previous.decode() if previous else None
    return Accepted(
        bool(duplicate),
        bool(enqueued),
        bool(stale),
        prev if head is None or prev != head.sha else None,
        bool(superseded),
    )
