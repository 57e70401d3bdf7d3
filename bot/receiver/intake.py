"""What the receiver writes for one delivery, in one Redis round trip.

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

from ruvopt.bot.queue import contract as queue
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

    async def call(self, keys: list[str], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append((keys, args, future))
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
            for keys, args, _ in batch:
                pipe.evalsha(self.sha, len(keys), *keys, *args)
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


def _job(q: RedisQueue, function: str, key: str, kwargs: dict[str, Any], options: dict[str, Any]) -> Job:
    # What saq's Queue.enqueue sets before its script runs.
    return Job(function=function, kwargs=kwargs, key=key, queue=q, queued=now(), status=Status.QUEUED, **options)


async def _accept(
    queues: queue.Queues, settings: Settings, delivery: str, repo: str, job: Job | None, head: Head | None
) -> Accepted:
    q = queues.review
    keys = [queue.delivery_key(delivery), q.namespace("incomplete"), "-", q.namespace("queued"), "-", "-", "-"]
    args: list[Any] = [settings.delivery_ttl_seconds, "", 0, "", "", queue.PULL_MAP_TTL_S, "", ""]
    if job is not None:
        keys[2], keys[4] = job.id, job.abort_id
        args[1], args[2] = q.serialize(job), job.scheduled
    if head is not None:
        keys[5], keys[6] = queue.pr_head_key(repo, head.pr), queue.sha_pr_key(repo, head.sha)
        stamp = head.updated_at.timestamp() if head.updated_at is not None else 0
        args[3], args[4] = f"{stamp:.0f}", head.sha
        args[6] = queue.dumps({"pr": head.pr, "base_sha": head.base_sha})
        args[7] = q.job_id(queue.review_key(repo, ""))  # + the previous sha, in the script
    pipeliner = _pipeliners.get(queues.redis)
    if pipeliner is None:
        pipeliner = _pipeliners[queues.redis] = _Pipeliner(queues.redis)
    duplicate, enqueued, stale, previous, superseded = await pipeliner.call(keys, args)
    prev = previous.decode() if previous else None
    return Accepted(bool(duplicate), bool(enqueued), bool(stale), prev if head is None or prev != head.sha else None,
                    bool(superseded))  # fmt: skip


async def accept_review(
    queues: queue.Queues,
    settings: Settings,
    *,
    delivery: str,
    installation: int,
    repo: str,
    pr: int,
    head_sha: str,
    base_sha: str,
    force: bool = False,
    head: Head | None = None,
    enqueue: bool = True,
) -> Accepted:
    """Claim ``delivery`` and enqueue a review of (repo, head); with ``head``, also record
    it as the PR's head. ``enqueue=False`` records the head only (a draft)."""
    job = None
    if enqueue:
        kwargs = {"installation": installation, "repo": repo, "pr": pr, "head_sha": head_sha,
                  "base_sha": base_sha, "force": force, "delivery": delivery}  # fmt: skip
        options = queue.job_options(settings, "review")
        job = _job(queues.review, "review", queue.review_key(repo, head_sha), kwargs, options)
    return await _accept(queues, settings, delivery, repo, job, head)


async def accept_command(
    queues: queue.Queues,
    settings: Settings,
    *,
    delivery: str,
    installation: int,
    repo: str,
    pr: int,
    comment_id: int,
    author: str,
    body: str,
) -> Accepted:
    """Claim ``delivery`` and enqueue the ``command`` job of one comment."""
    kwargs = {"installation": installation, "repo": repo, "pr": pr, "comment_id": comment_id, "author": author,
              "body": body, "delivery": delivery}  # fmt: skip
    options = queue.job_options(settings, "command")
    job = _job(queues.review, "command", queue.command_key(repo, comment_id), kwargs, options)
    return await _accept(queues, settings, delivery, repo, job, None)


async def accept_bench_button(
    queues: queue.Queues,
    settings: Settings,
    *,
    delivery: str,
    installation: int,
    repo: str,
    pr: int,
    head_sha: str,
    sender: str,
) -> Accepted:
    """Claim ``delivery`` and enqueue the ``command`` job of a "Run bench" button pressed on
    ``head_sha``'s check run (authorised and pinned by that job, as a comment would be)."""
    kwargs = {"installation": installation, "repo": repo, "pr": pr, "comment_id": 0, "author": sender,
              "body": "/ruvopt bench", "delivery": delivery, "head_sha": head_sha}  # fmt: skip
    options = queue.job_options(settings, "command")
    job = _job(queues.review, "command", queue.command_key(repo, f"button-{delivery}"), kwargs, options)
    return await _accept(queues, settings, delivery, repo, job, None)
