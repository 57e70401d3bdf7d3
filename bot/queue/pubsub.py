"""saq's job-notification listener, with a backoff while Redis is away.

saq (0.26) listens to job updates through one pub/sub connection per queue
(``RedisQueue._pubsub``, a ``PubSubMultiplexer``); its loop logs and retries at once on
any error. While Redis is down that is a busy loop: in the chaos run a 3-second Redis
outage cost a worker a core and 4 MB of identical tracebacks. This multiplexer waits
between failed attempts (0.1 s doubling to 5 s), logs the outage once, and
re-subscribes when Redis is back.
"""

from __future__ import annotations

import asyncio
import logging

from saq.queue.redis import PubSubMultiplexer, RedisQueue

log = logging.getLogger("ruvopt.queue")

FIRST_WAIT_S = 0.1
MAX_WAIT_S = 5.0


class BackoffPubSub(PubSubMultiplexer):
    async def _start(self) -> None:
        failures = 0
        subscribed = False
        while True:
            try:
                if not subscribed:
                    await self.pubsub.psubscribe(f"{self.prefix}*")
                    subscribed = True
                message = await self.pubsub.get_message(timeout=None)
                if failures:
                    log.info("job notifications of %s flow again after %d failed attempt(s)", self.prefix, failures)
                    failures = 0
                if message and message["type"] == "pmessage":
                    message["channel"] = message["channel"].decode("utf-8")
                    self.publish(message["channel"], message)
            except asyncio.CancelledError:
                return
            except Exception as exc:
                failures += 1
                if failures == 1:
                    log.warning("job notifications of %s interrupted (%s); retrying with backoff", self.prefix, exc)
                await asyncio.sleep(min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (failures - 1)))


def install(queue: RedisQueue) -> RedisQueue:
    """Replace ``queue``'s listener; fails loudly if saq's layout changed."""
    current = getattr(queue, "_pubsub", None)
    if not isinstance(current, PubSubMultiplexer):
        raise RuntimeError("saq.RedisQueue has no _pubsub multiplexer any more: revisit bot/queue/pubsub.py")
    queue._pubsub = BackoffPubSub(queue.redis.pubsub(), prefix=current.prefix)
    return queue
