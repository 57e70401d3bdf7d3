"""The chaos run: the whole App as real processes, with every fault at once.

``redis-server`` (its own, append-only), ``ruvopt serve``, ≥ 2 ``ruvopt worker``s, the
FakeGitHub with seeded faults (:mod:`tests.fakegithub.faults`) and one real git
repository per pull request served over HTTP. A :class:`Hookshot` plays GitHub's webhook
sender: it signs and posts real payloads, sends every delivery twice, replays some of
them later, records every attempt in the FakeGitHub's delivery log — which the App's
``redeliver`` cron reads — and performs the redeliveries the cron asks for.

The :class:`ChaosPlan` is a timeline (seeded): pull requests opened and pushed to,
``/ruvopt recheck`` from writers and a denied one from a fork's author, workers SIGKILLed
and restarted during the first minute, a window of secondary rate limits, and Redis
SIGKILLed right after accepting a burst of deliveries and restarted from its AOF.
:mod:`tests.chaos.invariants` then checks the four invariants of issue 7 on what the
FakeGitHub, Redis and the files say.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests import payloads
from tests.app_stack import AppStack, comment_event, pull_request_event
from tests.chaos.monitor import Monitor
from tests.fakegithub import FakeGitHub
from tests.fakegithub.faults import Chaos, Window
from tests.fakegithub.state import Delivery
from tests.githttp import GitHttpServer
from tests.plugins.redis_server import RedisServer
from tests.review_support import CRATE, PullWorld, unsafe_reads

LIB = CRATE["src/lib.rs"]
WRITER, OUTSIDER = "maintainer", "fork-author"


@dataclass(frozen=True)
class ChaosPlan:
    seed: int = 7
    prs: int = 8
    workers: int = 2
    second_push_share: float = 0.5  # PRs pushed to twice
    replay_share: float = 0.3  # deliveries GitHub replays (same guid) 10-40 s later
    kill_for_s: float = 60.0  # workers are SIGKILLed during this first part of the run
    kill_every_s: tuple[float, float] = (4.0, 9.0)
    redis_crash_at_s: float = 28.0
    redis_down_s: float = 3.0
    error_rate: float = 0.05  # of all GitHub API calls: 502 (half of them after applying the call)
    windows: tuple[Window, ...] = (Window(12.0, 8.0),)  # secondary rate limit on writes
    latency_s: tuple[float, float] = (0.02, 0.15)  # of every GitHub API call
    heartbeat_s: int = 2
    saq_sweep_s: int = 1
    run_sweep_s: int = 5
    run_deadline_s: int = 60
    write_spacing_s: float = 0.1
    settle_timeout_s: float = 300.0


@dataclass
class Sent:
    """One delivery attempt, as GitHub would log it."""

    guid: str
    event: str
    status: int
    outcome: str  # the receiver's "status" field (queued, duplicate, ignored) or the error
    at: float
    redelivery: bool
    pr: int | None = None  # index into ChaosRun.worlds
    head: str | None = None
    comment_id: int | None = None


class Hookshot:
    """GitHub's webhook sender for the run (see the module docstring)."""

    def __init__(self, fake: FakeGitHub, url: str, pool: ThreadPoolExecutor) -> None:
        self.fake, self.url, self.pool = fake, url, pool
        self.sent: list[Sent] = []
        self.bodies: dict[str, tuple[str, dict[str, Any], Sent]] = {}
        self.lock = threading.Lock()
        self.client = httpx.Client(base_url=url, timeout=10)

    def send(self, event: str, payload: dict[str, Any], template: Sent, *, redelivery: bool = False) -> Sent:
        body, headers = payloads.delivery(event, payload, guid=template.guid)
        try:
            response = self.client.post("/webhook", content=body, headers=headers)
            status, outcome = response.status_code, _outcome(response)
        except httpx.HTTPError as exc:
            status, outcome = 504, type(exc).__name__  # GitHub logs a timeout
        attempt = Sent(
            template.guid,
            event,
            status,
            outcome,
            time.monotonic(),
            redelivery,
            template.pr,
            template.head,
            template.comment_id,
        )
        with self.lock:
            self.sent.append(attempt)
            self.bodies.setdefault(template.guid, (event, payload, template))
        repo_id = payload["repository"]["id"]
        self.fake.add_delivery(
            status_code=status,
            event=event,
            action=payload.get("action"),
            guid=template.guid,
            age_s=0,
            redelivery=redelivery,
            installation_id=payload["installation"]["id"],
            repository_id=repo_id,
        )
        return attempt

    def twice(self, event: str, payload: dict[str, Any], template: Sent) -> None:
        """GitHub sometimes sends one delivery twice: both at once, same guid."""
        for future in [self.pool.submit(self.send, event, payload, template) for _ in range(2)]:
            future.result()

    def replay(self, guid: str) -> Sent:
        event, payload, template = self.bodies[guid]
        return self.send(event, payload, template, redelivery=True)

    def on_redeliver(self, attempt: Delivery) -> None:
        """The FakeGitHub was asked to redeliver (the App's cron): do it, off its lock."""
        self.pool.submit(self._redeliver, attempt)

    def _redeliver(self, attempt: Delivery) -> None:
        event, payload, template = self.bodies[attempt.guid]
        body, headers = payloads.delivery(event, payload, guid=attempt.guid)
        try:
            response = self.client.post("/webhook", content=body, headers=headers)
            status, outcome = response.status_code, _outcome(response)
        except httpx.HTTPError as exc:
            status, outcome = 504, type(exc).__name__
        with self.fake.lock:
            attempt.status_code = status
        with self.lock:
            self.sent.append(
                Sent(
                    attempt.guid,
                    event,
                    status,
                    f"cron:{outcome}",
                    time.monotonic(),
                    True,
                    template.pr,
                    template.head,
                    template.comment_id,
                )
            )


def _outcome(response: httpx.Response) -> str:
    try:
        return str(response.json().get("status") or response.json().get("error"))
    except ValueError:
        return response.text[:80]


@dataclass
class ChaosRun:
    plan: ChaosPlan
    fake: FakeGitHub
    git: GitHttpServer
    redis: RedisServer
    workdir: Path
    worlds: list[PullWorld] = field(default_factory=list)
    comments: dict[int, tuple[int, str]] = field(default_factory=dict)  # comment id → (PR index, author)
    kills: list[float] = field(default_factory=list)
    redis_crash: tuple[float, float] | None = None
    started: float = 0.0
    settled_after: float | None = None
    accepted_before_crash: list[Sent] = field(default_factory=list)
    outage_pr: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.plan.seed)
        self.pool = ThreadPoolExecutor(max_workers=32)
        self.app = AppStack(
            self.fake,
            self.redis.url,
            self.workdir,
            RUVOPT_JOB_HEARTBEAT_SECONDS=str(self.plan.heartbeat_s),
            RUVOPT_SWEEP_SECONDS=str(self.plan.saq_sweep_s),
            RUVOPT_RUN_SWEEP_SECONDS=str(self.plan.run_sweep_s),
            RUVOPT_RUN_DEADLINE_SECONDS=str(self.plan.run_deadline_s),
            RUVOPT_WRITE_SPACING_SECONDS=str(self.plan.write_spacing_s),
            RUVOPT_REDELIVER_EVERY_MINUTES="1",
        )
        self.workers_lock = threading.Lock()
        self.monitor = Monitor(self.fake)
        self.hookshot: Hookshot | None = None

    # -- the run ----------------------------------------------------------------------------------

    def arrange(self) -> None:
        for i in range(self.plan.prs):
            head = {"src/lib.rs": LIB + unsafe_reads(f"read{i}", 1 + i % 3)}
            world = PullWorld.create(
                self.fake, self.git, self.workdir / "repos", CRATE, head, repo=f"octo-org/chaos-{i}", pr=100 + i
            )
            self.fake.set_role(world.repo, WRITER, "write")
            self.worlds.append(world)

    def run(self) -> None:
        """Start everything, play the timeline, wait until every PR is settled."""
        self.app.start_receiver()
        self.hookshot = Hookshot(self.fake, self.app.url, self.pool)
        self.fake.on_redeliver = self.hookshot.on_redeliver
        for _ in range(self.plan.workers):
            self.app.start_worker()
        self.started = time.monotonic()
        self.fake.chaos = Chaos(
            self.plan.seed, self.plan.error_rate, windows=list(self.plan.windows), latency_s=self.plan.latency_s
        ).arm(self.fake.clock())
        self.monitor.start()
        timeline = self.timeline()
        for at, action in timeline:
            delay = self.started + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.pool.submit(self._guarded, action)

    def _guarded(self, action: Any) -> None:
        try:
            action()
        except Exception as exc:  # a driver bug must not pass for chaos: it fails the run
            self.monitor.errors.append(f"{getattr(action, '__name__', action)}: {exc!r}")

    def timeline(self) -> list[tuple[float, Any]]:
        plan, rng, events = self.plan, self.rng, []
        last_push: dict[int, float] = {}
        for i, _ in enumerate(self.worlds):
            opened = i * 0.7
            events.append((opened, lambda i=i: self.deliver_head(i, "opened")))
            last_push[i] = opened + rng.uniform(3, 20)
            events.append((last_push[i], lambda i=i: self.push(i)))
            if rng.random() < plan.second_push_share:
                last_push[i] += rng.uniform(8, 35)
                events.append((last_push[i], lambda i=i: self.push(i)))
            if i % 3 == 0:
                events.append((rng.uniform(15, 50), lambda i=i: self.comment(i, WRITER)))
        # The push made while Redis is down goes to a PR pushed to before: its delivery
        # (answered 503) carries the PR's final head, which only the cron can bring in.
        self.outage_pr = min(last_push, key=lambda i: last_push[i])
        events.append((rng.uniform(10, 40), lambda: self.comment(1, OUTSIDER)))
        t = rng.uniform(*plan.kill_every_s)
        while t < plan.kill_for_s:
            events.append((t, self.kill_a_worker))
            t += rng.uniform(*plan.kill_every_s)
        events.append((plan.redis_crash_at_s, self.crash_redis_after_a_burst))
        return sorted(events, key=lambda e: e[0])

    # -- actions --------------------------------------------------------------------------------

    def deliver_head(self, i: int, action: str) -> None:
        assert self.hookshot is not None
        world = self.worlds[i]
        template = Sent(uuid.uuid4().hex, "pull_request", 0, "", 0, False, pr=i, head=world.head)
        payload = pull_request_event(world, action)
        self.hookshot.twice("pull_request", payload, template)
        if self.rng.random() < self.plan.replay_share:
            later = self.rng.uniform(10, 40)
            threading.Timer(later, lambda: self._guarded(lambda: self.hookshot.replay(template.guid))).start()

    def push(self, i: int) -> None:
        world = self.worlds[i]
        count = len(world.pushes) + 1 + i % 3
        world.push({"src/lib.rs": LIB + unsafe_reads(f"read{i}", count)})
        self.deliver_head(i, "synchronize")

    def comment(self, i: int, author: str) -> Sent:
        assert self.hookshot is not None
        world = self.worlds[i]
        comment_id = 900_000 + len(self.comments)
        self.comments[comment_id] = (i, author)
        template = Sent(uuid.uuid4().hex, "issue_comment", 0, "", 0, False, pr=i, comment_id=comment_id)
        payload = comment_event(world, "/ruvopt recheck", author, comment_id=comment_id)
        self.hookshot.twice("issue_comment", payload, template)
        return template

    def kill_a_worker(self) -> None:
        with self.workers_lock:
            alive = [w for w in self.app.workers if w.poll() is None]
            if alive:
                victim = self.rng.choice(alive)
                self.app.kill_worker(victim)
                self.app.workers.remove(victim)
                self.kills.append(time.monotonic() - self.started)
            self.app.start_worker()

    def crash_redis_after_a_burst(self) -> None:
        """Deliveries answered 202 a moment before Redis is SIGKILLed must still be done; a push
        delivered while it is down is answered 503 and must come back through the cron."""
        assert self.hookshot is not None
        burst = [self.pool.submit(self.comment, i, WRITER) for i in range(1, len(self.worlds), 3)]
        guids = {future.result().guid for future in burst}
        with self.hookshot.lock:
            self.accepted_before_crash = [s for s in self.hookshot.sent if s.guid in guids and s.status == 202]
        down = time.monotonic()
        self.redis.stop(hard=True)
        self.push(self.outage_pr)  # answered 503: only the App's redeliver cron can bring it in
        time.sleep(max(0.0, down + self.plan.redis_down_s - time.monotonic()))
        self.redis.start()
        self.redis_crash = (down - self.started, time.monotonic() - self.started)

    # -- the end ----------------------------------------------------------------------------------

    def wait_settled(self, settled: Any) -> float:
        deadline = time.monotonic() + self.plan.settle_timeout_s
        while time.monotonic() < deadline:
            if settled(self):
                self.settled_after = time.monotonic() - self.started
                return self.settled_after
            time.sleep(0.5)
        raise AssertionError(f"not settled after {self.plan.settle_timeout_s} s: {settled(self, explain=True)}")

    def stop(self) -> None:
        self.monitor.stop()
        self.fake.chaos = None
        self.fake.on_redeliver = None
        self.app.stop()
        if self.hookshot is not None:
            self.hookshot.client.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
