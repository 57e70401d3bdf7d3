"""The missed-delivery reconciler (the ``redeliver`` cron job).

GitHub never retries a webhook delivery that failed (receiver down, timeout, 5xx). This
job lists the App's deliveries (``GET /app/hook/deliveries``, as the App, newest first,
cursor-paginated) back to GitHub's 3-day redelivery window, groups the attempts by
``guid`` (a redelivery keeps the guid) and asks GitHub to redeliver
(``POST /app/hook/deliveries/{id}/attempts``) each guid that:

- has no attempt with a 2xx status, and
- the receiver never accepted (its dedupe key ``ruvopt:delivery:<guid>`` is absent: a
  receiver that enqueued the work but answered late is not asked twice), and
- was not asked for in the last :data:`COOLDOWN_S` (several workers may run the cron;
  a ``SET NX`` marker makes one of them ask), and
- has had fewer than :data:`MAX_REDELIVERIES` redeliveries already (a payload the
  receiver rejects every time stops being replayed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from ruvopt.bot import keys
from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.github.limits import REDELIVERY_WINDOW_S
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.redeliver")

COOLDOWN_S = 30 * 60
MAX_REDELIVERIES = 5


def redeliver_marker(guid: str) -> str:
    return keys.redeliver_asked(guid)


@dataclass
class Outcome:
    redelivered: list[str] = field(default_factory=list)  # guids asked for again
    accepted: list[str] = field(default_factory=list)  # failed at GitHub, but the receiver has it
    cooling: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    scanned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


async def run_redeliver(
    settings: Settings, redis: Redis, client: GitHubClient | None = None, *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    own = client is None
    app = client or GitHubClient.for_app(settings)
    try:
        attempts = await asyncio.to_thread(_recent, app, clock() - REDELIVERY_WINDOW_S)
        outcome = Outcome(scanned=len(attempts))
        for guid, group in _failed(attempts).items():
            await _consider(app, redis, guid, group, outcome)
    finally:
        if own:
            app.close()
    if outcome.redelivered or outcome.given_up:
        log.info("redeliver: asked again for %s; gave up on %s", outcome.redelivered, outcome.given_up)
    return outcome.as_dict()


def _recent(app: GitHubClient, horizon: float) -> list[dict[str, Any]]:
    """Deliveries newer than ``horizon`` (the listing is newest first: stop at the first older)."""
    out = []
    for delivery in app.hook_deliveries():
        if _epoch(delivery["delivered_at"]) < horizon:
            break
        out.append(delivery)
    return out


def _failed(attempts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Attempts grouped by guid, for guids none of whose attempts succeeded."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        groups.setdefault(attempt["guid"], []).append(attempt)
    return {guid: group for guid, group in groups.items() if not any(200 <= int(a["status_code"]) < 300 for a in group)}


async def _consider(app: GitHubClient, redis: Redis, guid: str, group: list[dict[str, Any]], outcome: Outcome) -> None:
    if await redis.exists(keys.delivery(guid)):
        outcome.accepted.append(guid)
        return
    if sum(1 for a in group if a["redelivery"]) >= MAX_REDELIVERIES:
        outcome.given_up.append(guid)
        return
    if not await redis.set(redeliver_marker(guid), b"1", nx=True, ex=COOLDOWN_S):
        outcome.cooling.append(guid)
        return
    newest = max(group, key=lambda a: _epoch(a["delivered_at"]))
    try:
        await asyncio.to_thread(app.redeliver, int(newest["id"]))
    except BaseException:
        await redis.delete(redeliver_marker(guid))  # not asked after all: the next run may ask
        raise
    outcome.redelivered.append(guid)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
