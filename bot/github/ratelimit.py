"""The one place for GitHub's rate-limit policy: how long to wait, and when to write.

:class:`RateLimitRetry` is PyGithub's ``GithubRetry`` with the waits of docs/app.md:

- 403 secondary limit or 429: honour ``retry-after``; else, when the primary limit is
  spent (``x-ratelimit-remaining: 0``), wait until ``x-ratelimit-reset``; else wait 60 s.
  A request rate-limited again waits that plus an exponential backoff with jitter.
- 502/503/504 and connection errors: exponential backoff with jitter (``retry-after``
  on a 503 is honoured).
- Any other 403 is not retried (PyGithub's exception, with GitHub's message).
- A request that creates something (a check run, a review, a comment) or appends to it
  (check-run annotations) is sent inside :func:`not_idempotent`: a 5xx or a connection
  dropped after sending is *not* retried, because GitHub may have applied it and lost
  only the reply — a blind retry posts it twice. The caller's job fails, and its retry
  reads what GitHub holds before writing (the reporters are idempotent that way). Rate
  limits (403/429) were refused before anything happened and are still retried.
- A wait longer than ``max_wait`` is not slept: the request fails with PyGithub's
  rate-limit exception and the job is retried by the queue later.

PyGithub's own ``seconds_between_writes`` spaces writes of one client object only, so
writes are spaced by :class:`WriteGate`, a Redis slot reservation shared by every
process of every machine, per installation.

``sleep`` and ``clock`` are injectable so tests never wait a minute.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from github.GithubRetry import GithubRetry
from github.Requester import Requester
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from ruvopt.bot import keys
from ruvopt.bot.github.limits import MAX_RATE_LIMIT_WAIT_S, SECONDARY_RATE_LIMIT_WAIT_S, WRITE_SPACING_S
from ruvopt.bot.metrics import count_github_response

log = logging.getLogger("ruvopt.github")

RETRY_STATUSES = (403, 429, 502, 503, 504)
RETRY_METHODS = frozenset({"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"})
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
MAX_RETRIES = 6


_unsafe = threading.local()  # PyGithub is synchronous: the request runs on the caller's thread


@contextlib.contextmanager
def not_idempotent() -> Iterator[None]:
    """Requests sent inside are not retried after a 5xx or a dropped reply (see above)."""
    depth = getattr(_unsafe, "depth", 0)
    _unsafe.depth = depth + 1
    try:
        yield
    finally:
        _unsafe.depth = depth


def _retry_is_unsafe() -> bool:
    return getattr(_unsafe, "depth", 0) > 0


def backoff(attempt: int, *, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Exponential backoff with jitter for the ``attempt``-th retry (1, 2, …): ×0.5–1.5."""
    return min(cap, base * 2.0 ** (attempt - 1)) * (0.5 + random.random())


class RateLimitRetry(GithubRetry):
    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = MAX_RATE_LIMIT_WAIT_S,
        planned_wait: float = 0.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("total", MAX_RETRIES)
        kwargs["status_forcelist"] = [s for s in RETRY_STATUSES if s != 403]  # GithubRetry adds 403
        kwargs.setdefault("allowed_methods", RETRY_METHODS)
        kwargs.setdefault("raise_on_status", False)  # out of retries: PyGithub sees the last reply
        kwargs.setdefault("backoff_factor", 0)  # waits are planned in increment(), slept in sleep()
        kwargs["max_rate_limit_wait"] = max_wait
        kwargs.setdefault("secondary_rate_wait", SECONDARY_RATE_LIMIT_WAIT_S)
        super().__init__(**kwargs)
        self._sleep, self._clock, self.planned_wait = sleep, clock, planned_wait

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # urllib3 asks this of every response it receives, retried or not: the one place
        # that sees each attempt, so GitHub's 429s and 5xx are counted even when a retry
        # then succeeds.
        count_github_response(method, status_code)
        if status_code in (403, 429):  # refused before anything happened: safe to send again
            return bool(self.status_forcelist and status_code in self.status_forcelist)
        if _retry_is_unsafe():
            return False
        return bool(super().is_retry(method, status_code, has_retry_after))

    def _is_method_retryable(self, method: str) -> bool:
        # Consulted for a connection dropped after the request was sent (a read error).
        return not _retry_is_unsafe() and bool(super()._is_method_retryable(method))

    def new(self, **kw: Any) -> RateLimitRetry:
        kw.update(sleep=self._sleep, clock=self._clock)
        return super().new(**kw)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if response is None or response.status not in (403, 429):
            new = Retry.increment(self, method, url, response, error, _pool, _stacktrace)
            wait = backoff(len(new.history))
            retry_after = self.get_retry_after(response) if response is not None else None
            new.planned_wait = max(wait, retry_after or 0.0)
            return new
        content = self.get_content(response, url or "")
        base = self._rate_limit_wait(response, content)
        if base is None:  # a 403 that is no rate limit: permissions, not timing
            raise Requester.createException(response.status, dict(response.headers), _json(content))
        try:
            new = Retry.increment(self, method, url, response, error, _pool, _stacktrace)
        except MaxRetryError:
            raise Requester.createException(response.status, dict(response.headers), _json(content)) from None
        limited = sum(1 for h in new.history if h.status in (403, 429))
        wait = base + (backoff(limited - 1) if limited > 1 else 0.0)
        if wait > self.max_rate_limit_wait:  # type: ignore[operator]
            log.warning("rate limited for %.0f s (> %.0f s): giving up this attempt", wait, self.max_rate_limit_wait)
            raise Requester.createException(response.status, dict(response.headers), _json(content))
        log.info("rate limited (%s %s → %s): waiting %.1f s", method, url, response.status, wait)
        new.planned_wait = wait
        return new

    def _rate_limit_wait(self, response: Any, content: bytes) -> float | None:
        """Seconds the headers ask for; None if this 403 is not a rate limit at all."""
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after:
            return float(self.parse_retry_after(retry_after))
        reset = headers.get("x-ratelimit-reset")
        if headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
            return max(0.0, int(reset) - self._clock()) + 1.0  # +1: the reset second is not exact
        message = str(_json(content).get("message", ""))
        if response.status == 429 or Requester.isRateLimitError(message):
            return float(self.secondary_rate_wait)
        return None

    def sleep(self, response: Any = None) -> None:
        if self.planned_wait > 0:
            self._sleep(self.planned_wait)


def _json(content: bytes) -> dict[str, Any]:
    try:
        value = json.loads(content or b"{}")
    except ValueError:
        return {"message": content.decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"data": value}


# Reserves the next write slot of one installation atomically, with Redis's own clock so
# machines with skewed clocks agree. Returns how many milliseconds the caller must wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local spacing = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + spacing, 'PX', slot - now + spacing + 1000)
return slot - now
"""

# GitHub measures the gap where requests arrive; this much extra keeps two requests that
# left exactly 1 s apart from arriving closer together.
ARRIVAL_MARGIN_S = 0.05


class WriteGate:
    """Content-creating writes of one installation, ≥ ``spacing`` seconds apart, fleet-wide."""

    def __init__(
        self,
        client: redis.Redis,
        installation_id: int,
        *,
        spacing: float = WRITE_SPACING_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._script = client.register_script(_RESERVE)
        self.key = keys.write_gate(installation_id)
        self.spacing_ms = int((spacing + ARRIVAL_MARGIN_S) * 1000) if spacing > 0 else 0
        self._sleep = sleep

    def wait(self) -> float:
        """Block until this process may write; returns the seconds waited."""
        if not self.spacing_ms:
            return 0.0
        waited = int(self._script(keys=[self.key], args=[self.spacing_ms])) / 1000
        if waited > 0:
            self._sleep(waited)
        return waited
