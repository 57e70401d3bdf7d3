"""Seeded fault injection for the FakeGitHub: error rates and rate-limit windows.

``fail_next`` (in :mod:`tests.fakegithub.core`) scripts one fault for one request; a
:class:`Chaos` plan makes faults a property of the whole run, as GitHub's are:

- ``error_rate`` of all API calls (REST and GraphQL) answer 502. Real 502s come in two
  kinds and both are injected: the gateway gave up *before* the request reached GitHub
  (nothing happened), or *after* GitHub applied it and the reply was lost
  (``applied_share`` of them) — a retried POST then creates a second object;
- secondary-rate-limit windows: while one is open, every REST write under ``/repos/``
  answers 403 with GitHub's secondary-limit message and ``Retry-After`` = the seconds
  left in the window;
- ``latency_s``: every call waits that long (uniform in the range) before it is handled,
  as GitHub's API takes tens to hundreds of milliseconds — which keeps jobs in flight
  long enough for a killed worker to interrupt one.

Decisions are deterministic given the seed: the n-th request with a given method and
path gets the same fate in every run (a hash of seed, method, path and n), whatever the
interleaving of the processes sending them. Every injected fault is recorded
(:attr:`Chaos.injected`) so a test can report how much chaos it survived.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import Counter
from dataclasses import dataclass, field

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
SECONDARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"


@dataclass(frozen=True)
class Window:
    start: float  # seconds after the plan is armed
    seconds: float


@dataclass(frozen=True)
class Fate:
    """What happens to one request: answered 502 before or after it is applied, or 403."""

    kind: str  # "502-before" | "502-after" | "403-secondary"
    retry_after: int | None = None


@dataclass
class Chaos:
    seed: int
    error_rate: float = 0.05
    applied_share: float = 0.5
    windows: list[Window] = field(default_factory=list)
    latency_s: tuple[float, float] = (0.0, 0.0)
    armed_at: float = 0.0
    injected: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    _seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, now: float) -> Chaos:
        self.armed_at = now
        return self

    def decide(self, method: str, path: str, now: float) -> Fate | None:
        with self._lock:
            self.requests += 1
            self._seen[method, path] += 1
            nth = self._seen[method, path]
            fate = self._fate(method, path, nth, now)
            if fate is not None:
                self.injected[fate.kind] += 1
            return fate

    def _fate(self, method: str, path: str, nth: int, now: float) -> Fate | None:
        left = self._window_left(now)
        if left is not None and method in WRITE_METHODS and path.startswith("/repos/"):
            return Fate("403-secondary", retry_after=max(1, math.ceil(left)))
        roll = self._roll(method, path, nth)
        if roll >= self.error_rate:
            return None
        applied = roll < self.error_rate * self.applied_share
        return Fate("502-after" if applied else "502-before")

    def latency(self, method: str, path: str) -> float:
        low, high = self.latency_s
        if high <= 0:
            return 0.0
        with self._lock:
            nth = self._seen[method, path]  # latency and fate are drawn from the same request count
        return low + (high - low) * self._roll(f"latency:{method}", path, nth)

    def _window_left(self, now: float) -> float | None:
        elapsed = now - self.armed_at
        for window in self.windows:
            if window.start <= elapsed < window.start + window.seconds:
                return window.start + window.seconds - elapsed
        return None

    def _roll(self, method: str, path: str, nth: int) -> float:
        digest = hashlib.blake2b(f"{self.seed}|{method}|{path}|{nth}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def summary(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, **dict(self.injected)}


def error_body() -> dict[str, str]:
    return {"message": "Server Error"}


def secondary_body() -> dict[str, str]:
    return {"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS}
