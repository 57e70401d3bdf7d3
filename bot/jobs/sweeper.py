"""The orphan sweeper: no ``ruvopt`` or ``ruvopt/bench`` check run stays ``in_progress``
and no accepted review, command or bench is dropped, whatever happened to the job that
owned it.

The worker records every ``review``, ``command`` and ``bench`` job in Redis when an attempt starts
(:func:`track`, from saq's ``before_process``) and erases the record once the job has
*completed* (:func:`settle`, from ``after_process``). A record that outlives its job is
an orphan: the job's last attempt died with its worker (saq's own sweep then marks it
aborted and no code of the job runs again), or every attempt failed — a GitHub outage
longer than the retries' backoff is enough.

Every worker process runs :func:`sweep_forever` beside its saq workers — not as a
queued job, so a backlog cannot delay it — and one of them per round (a Redis lock)
looks at the records older than one round (:func:`decide`):

- the job is still queued or running (and, for a review, not past
  ``run_deadline_seconds``; a bench has its own, longer ``bench_timeout_seconds``): left alone;
- a review of a head that a newer push superseded, or that is reviewed already: its run,
  if still in progress, is completed ``neutral`` ("Superseded by …"), the record dropped;
- the job is dead and its work undone: it is enqueued again, at most ``review_resumes``
  times, so a 202 still means the work is done; the record stays until a job completes
  (reviews and commands go through :mod:`ruvopt.bot.queue.intake`, each resume with a
  delivery id of its own, so two rounds cannot enqueue it twice; a bench through
  :func:`ruvopt.bot.queue.contract.enqueue_bench`);
- otherwise, or once a review's record is ``run_deadline_seconds`` old, its run is
  completed ``neutral``, saying why and how to run it again (the **Re-check** button, or
  ``/ruvopt recheck``). A review that finishes later still posts its real result on the
  same run (:func:`ruvopt.bot.report.check_run.complete_run` continues a run that holds no
  annotations).

So every run ruvopt creates is completed within ``run_deadline_seconds`` plus two rounds,
as long as one worker runs and GitHub answers at some point; a GitHub error only
postpones a record to the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from saq import Job
from saq.job import Status

from ruvopt.bot import keys
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue import intake
from ruvopt.bot.queue.jobs import BY_FUNCTION, BenchJob, CommandJob
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.sweeper")

TRACKED = frozenset({"review", "command", "bench"})
OPEN = keys.UNFINISHED  # sorted set: job key → epoch of its first attempt's start
RECORD_TTL_S = 7 * 24 * 3600
LOCK = keys.SWEEPER_LOCK
ALIVE = (Status.NEW, Status.QUEUED, Status.ACTIVE)

ORPHAN_TITLE = "ruvopt could not finish this review"
LATE_TITLE = "ruvopt is taking too long on this review"
RERUN = "Use **Re-check** above (or comment `/ruvopt recheck`) to run it again."
BENCH_ORPHAN_TITLE = "ruvopt could not finish this benchmark"
BENCH_RERUN = "Use **Run bench** above (or comment `/ruvopt bench`) to run it again."


async def track(redis: Redis, job: Job) -> None:
    """An attempt of ``job`` starts: record it (the first attempt's start is kept)."""
    if job.function not in TRACKED:
        return
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zadd(OPEN, {job.key: time.time()}, nx=True)
        pipe.set(
            keys.unfinished(job.key), orjson.dumps({"function": job.function, "kwargs": job.kwargs}), ex=RECORD_TTL_S
        )
        await pipe.execute()


async def settle(redis: Redis, job: Job) -> None:
    """After an attempt: a completed job's record goes; a failed one stays for the sweeper."""
    if job.function in TRACKED and job.status == Status.COMPLETE:
        await untrack(redis, job.key)


async def untrack(redis: Redis, key: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(OPEN, key)
        pipe.delete(keys.unfinished(key), keys.resumed(key))
        await pipe.execute()


@dataclass(frozen=True)
class Orphan:
    """One record the round looks at, with what Redis knows about its work."""

    key: str
    function: str
    kwargs: dict[str, Any]
    opened: float
    job_status: str | None  # saq's status of the job, None: no such job any more
    job_alive: bool
    done: bool  # the head is reviewed / the comment was handled
    latest_head: str | None  # reviews: the PR's newest head known to the receiver
    resumes: int

    @property
    def superseded(self) -> str | None:
        head = self.kwargs.get("head_sha")
        if self.function != "review" or self.kwargs.get("force") or self.latest_head in (None, head):
            return None
        return self.latest_head


@dataclass(frozen=True)
class Decision:
    resume: bool  # enqueue the job again
    close: tuple[str, str] | None  # (title, summary) for the review's run, if still in progress
    drop: bool  # forget the record


def decide(orphan: Orphan, now: float, settings: Settings) -> Decision | None:
    """What to do with one record; None: leave it for a later round."""
    late = orphan.function == "review" and now - orphan.opened >= settings.run_deadline_seconds
    if orphan.job_alive and not late:
        return None
    newer = orphan.superseded
    if newer is not None:
        return Decision(False, (f"Superseded by {newer[:12]}", f"A newer push (`{newer}`) is reviewed instead."), True)
    if orphan.job_alive:  # a review past its deadline: unblock the PR, let the job finish
        why = (
            f"This review has run for over {settings.run_deadline_seconds // 60} minute(s); its result replaces "
            f"this one if it finishes. {RERUN}"
        )
        return Decision(False, (LATE_TITLE, _why(orphan, why)), False)
    title, rerun = (BENCH_ORPHAN_TITLE, BENCH_RERUN) if orphan.function == "bench" else (ORPHAN_TITLE, RERUN)
    if orphan.done:
        return Decision(False, (title, _why(orphan, f"Its job ended without closing this run. {rerun}")), True)
    if orphan.resumes < settings.review_resumes:
        close = (title, _why(orphan, f"Its worker stopped before it finished; it is being run again. {rerun}"))
        return Decision(True, close if late else None, False)
    return Decision(False, (title, _why(orphan, f"Every attempt failed or was cut short. {rerun}")), True)


def _why(orphan: Orphan, what: str) -> str:
    head = str(orphan.kwargs.get("head_sha", ""))[:12]
    delivery = orphan.kwargs.get("delivery") or "unknown"
    doing = "benchmarking" if orphan.function == "bench" else "reviewing"
    return f"ruvopt started {doing} `{head}` (delivery `{delivery}`, job {orphan.job_status or 'gone'}). {what}"


class Sweeper:
    def __init__(self, settings: Settings, redis: Redis, queues: queue.Queues) -> None:
        self.settings, self.redis, self.queues = settings, redis, queues

    async def round(self, now: float | None = None) -> dict[str, list[str]]:
        """One pass over the records older than one round; returns what was done."""
        now = time.time() if now is None else now
        done: dict[str, list[str]] = {"resumed": [], "closed": [], "answered": [], "dropped": [], "failed": []}
        horizon = now - self.settings.run_sweep_seconds
        records: Any = await self.redis.zrangebyscore(OPEN, "-inf", horizon, withscores=True)  # [(key, score)]
        for raw, opened in records:
            key = raw.decode()
            try:
                orphan = await self.load(key, float(opened))
                if orphan is None:
                    await self.redis.zrem(OPEN, key)  # its details expired: nothing left to act on
                    continue
                decision = decide(orphan, now, self.settings)
                if decision is not None:
                    await self.apply(orphan, decision, done)
            except Exception as exc:  # GitHub or Redis failed for this one: the next round tries again
                log.warning("sweeping %s failed: %s", key, exc)
                done["failed"].append(key)
        if any(done.values()):
            log.info("sweeper: %s", {k: v for k, v in done.items() if v})
        return done

    async def load(self, key: str, opened: float) -> Orphan | None:
        raw = await self.redis.get(keys.unfinished(key))
        if raw is None:
            return None
        record = orjson.loads(raw)
        function, kwargs = str(record["function"]), dict(record["kwargs"])
        job = await self.queues.by_name(BY_FUNCTION[function].queue).job(key)
        # A stuck job (silent past its heartbeat) is saq's to re-queue at its next sweep.
        alive = job is not None and job.status in ALIVE
        repo = str(kwargs["repo"])
        latest = None
        if function == "review":
            # A forced review (a re-check) of a head reviewed before is not done by that.
            done = not kwargs.get("force") and await queue.is_reviewed(self.redis, repo, str(kwargs["head_sha"]))
            latest = await queue.latest_head(self.redis, repo, int(kwargs["pr"]))
        elif function == "command":
            done = await queue.command_done(self.redis, repo, CommandJob.from_kwargs(kwargs).request)
        else:  # a bench leaves no marker: done when saq says its job completed
            done = job is not None and job.status == Status.COMPLETE
        resumes = int(await self.redis.get(keys.resumed(key)) or 0)
        status = str(job.status) if job is not None else None
        return Orphan(key, function, kwargs, opened, status, alive, done, latest, resumes)

    async def apply(self, orphan: Orphan, decision: Decision, done: dict[str, list[str]]) -> None:
        if decision.close is not None and orphan.function in ("review", "bench"):
            title, why = decision.close
            if await asyncio.to_thread(self.close_run, orphan, title, why) is not None:
                done["closed"].append(orphan.key)
        if decision.resume and await self.resume(orphan):
            await self.redis.set(keys.resumed(orphan.key), orphan.resumes + 1, ex=RECORD_TTL_S)
            done["resumed"].append(orphan.key)
        if decision.drop and orphan.function == "command" and not orphan.done:
            # Nothing else will ever answer it: the commenter hears that it failed.
            from ruvopt.bot.jobs.command import give_up_command

            job = CommandJob.from_kwargs(orphan.kwargs)
            if await asyncio.to_thread(give_up_command, self.settings, job):
                done["answered"].append(orphan.key)
        if decision.drop:
            await untrack(self.redis, orphan.key)
            done["dropped"].append(orphan.key)

    async def resume(self, orphan: Orphan) -> bool:
        """Enqueue the dead job again; False when it could not be (already queued or running)."""
        job = BY_FUNCTION[orphan.function].from_kwargs(orphan.kwargs)
        if isinstance(job, BenchJob):
            ticket = await queue.enqueue_bench(self.queues, self.settings, job)
            return ticket.running_job is None
        delivery = f"resume:{orphan.key}:{orphan.resumes + 1}"
        accepted = await intake.accept(self.queues, self.settings, delivery=delivery, job=job)
        return accepted.enqueued or accepted.duplicate

    def close_run(self, orphan: Orphan, title: str, why: str) -> int | None:
        from ruvopt.bot.github.client import GitHubClient
        from ruvopt.bot.report import bench as bench_report
        from ruvopt.bot.report import check_run

        kwargs = orphan.kwargs
        repo, head, app_id = str(kwargs["repo"]), str(kwargs["head_sha"]), self.settings.app_id
        gh = GitHubClient.for_installation(self.settings, int(kwargs["installation"]))
        try:
            if orphan.function == "bench":
                return bench_report.close_unfinished(gh, repo, head, app_id, title, why)
            return check_run.close_unfinished(gh, repo, head, app_id, title, why)
        finally:
            gh.close()


async def sweep_forever(settings: Settings, redis: Redis, queues: queue.Queues, stop: asyncio.Event) -> None:
    """A round every ``run_sweep_seconds`` until ``stop``; one process per round sweeps."""
    sweeper = Sweeper(settings, redis, queues)
    period = settings.run_sweep_seconds
    while not stop.is_set():
        try:
            if await redis.set(LOCK, b"1", nx=True, ex=max(1, period - 1)):
                await sweeper.round()
        except Exception as exc:  # Redis away: the next round tries again
            log.warning("sweeper round failed: %s", exc)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), period)
