"""``ruvopt worker [--queues review,bench]``: the saq job consumers.

Any number of workers on any number of machines share one Redis. The job functions here
are thin: they apply the queue contract (skip superseded or already-reviewed heads, mark
heads reviewed) and delegate to :mod:`ruvopt.bot.jobs` (see its docstring for signatures).

At-least-once (docs/app.md, "Jobs and their guarantees"): every job has ``retries ≥ 2``, a ``heartbeat`` and
a ``timeout`` (:func:`ruvopt.bot.queue.contract.job_options`); every running job is touched
(``job.update()``) every third of its heartbeat by a task started in ``before_process``,
so a job only goes silent when its worker is dead or its event loop is blocked; workers
sweep every ``sweep_seconds`` and re-queue silent jobs. A worker SIGKILLed mid-job has
its job re-run by another worker after about heartbeat + sweep + 5 s (saq waits 5 s for
an abort to land before it retries).

``sleep_job(seconds, marker, spawn=False)`` is a diagnostic for operators: it counts its
starts and completions in Redis (``ruvopt:diag:<marker>:{started,completed}``), sleeps —
in a ``sleep`` child process when ``spawn`` — and proves that a queue and its workers
recover killed jobs and kill an aborted job's children::

    python -c 'import asyncio, ruvopt.bot.queue.worker as w; asyncio.run(w.enqueue_sleep("redis://…", 30, "probe"))'
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from redis.asyncio import Redis
from saq import CronJob, Worker

from ruvopt.bot import keys, logs
from ruvopt.bot.queue import contract as queue
from ruvopt.bot.queue import observe, probes, procs
from ruvopt.bot.queue.jobs import BenchJob, CommandJob, ReviewJob
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.worker")

DEQUEUE_TIMEOUT_S = 2.0  # BLMOVE wakes up this often when idle; keeps shutdown prompt
CREDENTIALS_POLL_S = 2.0


@dataclass
class State:
    """What every job of one worker process shares (saq's ``ctx["state"]``)."""

    settings: Settings
    redis: Redis
    queues: queue.Queues


def _state(ctx: dict[str, Any]) -> State:
    state: State = ctx["state"]
    return state


# --- jobs -------------------------------------------------------------------------------


async def review(ctx: dict[str, Any], **kwargs: Any) -> Any:
    state, job = _state(ctx), ReviewJob.from_kwargs(kwargs)
    repo, head_sha = job.repo, job.head_sha
    reason = await queue.review_skip_reason(state.redis, repo, job.pr, head_sha, job.force)
    if reason is not None and ctx["job"].attempts > 1 and not await queue.is_reviewed(state.redis, repo, head_sha):
        # Superseded on Redis's word, but an earlier attempt may have opened a check run:
        # run_review asks GitHub and completes that run "Superseded by …".
        reason = None
    if reason is not None:
        log.info("review %s@%s skipped: %s", repo, head_sha[:12], reason)
        return {"skipped": reason}
    from ruvopt.bot.jobs.review import give_up_review, run_review

    try:
        result = await run_review(state.settings, state.redis, job)
    except Exception:
        if not ctx["job"].retryable:  # attempts already counts this run: no retry follows
            await give_up_review(state.settings, job)
        raise
    await queue.mark_reviewed(state.redis, repo, head_sha)
    observe.review_completed(ctx["job"], result)
    return result


async def command(ctx: dict[str, Any], **kwargs: Any) -> Any:
    from ruvopt.bot.github.client import GitHubClient
    from ruvopt.bot.jobs.command import run_command

    state, job = _state(ctx), CommandJob.from_kwargs(kwargs)
    github = GitHubClient.for_installation(state.settings, job.installation)
    try:
        last = not ctx["job"].retryable  # attempts already counts this run
        return await run_command(state.settings, state.queues, github, job, last_attempt=last)
    finally:
        github.close()


async def bench(ctx: dict[str, Any], **kwargs: Any) -> Any:
    from ruvopt.bot.jobs.bench import give_up_bench, run_bench

    state, job = _state(ctx), BenchJob.from_kwargs(kwargs)
    try:
        return await run_bench(state.settings, state.redis, job)
    except Exception:
        if not ctx["job"].retryable:  # attempts already counts this run: no retry follows
            await give_up_bench(state.settings, job)
        raise


class WorkerRefused(RuntimeError):
    """This machine cannot run the job functions of a queue it was asked to consume."""


async def check_bench_machine(settings: Settings) -> str:
    """A bench worker needs bwrap (with user and network namespaces), prlimit and a Rust
    toolchain that runs inside the sandbox; without them it must not take bench jobs
    (they would fail one after another). Returns the toolchain's description."""
    from ruvopt.bot.bench.runner import preflight
    from ruvopt.bot.bench.sandbox import SandboxError
    from ruvopt.bot.bench.toolchain import ToolchainError

    try:
        return await preflight(settings.bench_cargo_home)
    except (SandboxError, ToolchainError) as exc:
        raise WorkerRefused(f"this machine cannot run benches: {exc}") from exc


async def redeliver(ctx: dict[str, Any]) -> Any:
    from ruvopt.bot.jobs.redeliver import run_redeliver

    state = _state(ctx)
    return await run_redeliver(state.settings, state.redis)


async def sleep_job(ctx: dict[str, Any], *, seconds: float, marker: str, spawn: bool = False) -> dict[str, Any]:
    """Diagnostic (see module docstring)."""
    redis = _state(ctx).redis
    await redis.incr(keys.diag(marker, "started"))
    if spawn:
        pids: list[int] = []
        spawned = asyncio.Event()

        def started(pid: int) -> None:
            pids.append(pid)
            spawned.set()

        child = asyncio.create_task(procs.run(["sleep", str(seconds)], on_start=started))
        waiting = asyncio.create_task(spawned.wait())
        await asyncio.wait({child, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if pids:
            await redis.set(keys.diag(marker, "pid"), pids[0])
        await child
    else:
        await asyncio.sleep(seconds)
    completed = await redis.incr(keys.diag(marker, "completed"))
    return {"completed": completed}


async def enqueue_sleep(
    redis_url: str, seconds: float, marker: str, queue_name: str = "review", spawn: bool = False
) -> str:
    """Operator helper: put one ``sleep_job`` on a queue; returns its key."""
    options = queue.job_options(Settings(), "review")
    redis = queue.connect(redis_url, role="worker")
    try:
        q = queue.make_queues(redis).by_name(queue_name)
        job = await q.enqueue("sleep_job", key=f"diag:{marker}", seconds=seconds, marker=marker, spawn=spawn, **options)
        return job.key if job else f"diag:{marker} (already queued)"
    finally:
        await redis.aclose()


# --- heartbeat ------------------------------------------------------------------------------


async def _track(ctx: dict[str, Any]) -> None:
    from ruvopt.bot.jobs import sweeper

    await sweeper.track(_state(ctx).redis, ctx["job"])  # the sweeper finishes what a dead job leaves


async def _settle(ctx: dict[str, Any]) -> None:
    from ruvopt.bot.jobs import sweeper

    await sweeper.settle(_state(ctx).redis, ctx["job"])


async def _start_heartbeat(ctx: dict[str, Any]) -> None:
    job = ctx["job"]
    if not job.heartbeat:
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(job.heartbeat / 3)
            try:
                await job.update()
            except Exception as exc:  # a Redis blip: the next beat may get through
                log.warning("heartbeat of %s failed: %s", job.key, exc)

    ctx["heartbeat"] = asyncio.create_task(beat(), name=f"heartbeat:{job.key}")


async def _stop_heartbeat(ctx: dict[str, Any]) -> None:
    task = ctx.pop("heartbeat", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# --- workers --------------------------------------------------------------------------------


async def _stop_when_registered(settings: Settings, stop: Callable[[], None]) -> None:
    """A worker started before the one-click registration has no credentials; once the
    credentials file appears it stops, so its process manager (Compose, Kubernetes)
    starts it again with them."""
    log.warning("no App credentials: jobs that call GitHub fail until %s exists", settings.credentials_file)
    # A file appearing has no event to await (inotify would be a dependency for one file).
    while not settings.credentials_file.exists():  # noqa: ASYNC110
        await asyncio.sleep(CREDENTIALS_POLL_S)
    log.warning(
        "the App's credentials appeared in %s: stopping so this worker restarts with them", settings.credentials_file
    )
    stop()


class _Worker(Worker):  # type: ignore[type-arg]
    # saq installs SIGINT/SIGTERM handlers per Worker, and each replaces the last; with
    # one worker per queue in a process, run() installs one handler that stops them all.
    SIGNALS: ClassVar[list[signal.Signals]] = []  # type: ignore[misc]


def worker_settings(settings: Settings, queues: queue.Queues, name: str, state: State) -> dict[str, Any]:
    """saq Worker keyword arguments for the queue ``name`` ("review" or "bench")."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["state"] = state

    functions: list[Any] = [review, command, sleep_job] if name == "review" else [bench, sleep_job]
    cron: list[CronJob[Any]] = []
    if name == "review" and settings.app_id is not None:
        every = settings.redeliver_every_minutes
        cron.append(CronJob(redeliver, cron=f"*/{every} * * * *", **_cron_options(settings)))
    return {
        "queue": queues.by_name(name),
        "functions": functions,
        "cron_jobs": cron,
        "concurrency": settings.review_concurrency if name == "review" else settings.bench_concurrency,
        "startup": startup,
        "before_process": [observe.job_started, _start_heartbeat, _track],
        "after_process": [_stop_heartbeat, _settle, observe.job_finished],
        "timers": {"sweep": settings.sweep_seconds, "abort": 1, "schedule": 1, "worker_info": 10},
        "dequeue_timeout": DEQUEUE_TIMEOUT_S,
        "shutdown_grace_period_s": settings.shutdown_grace_seconds,
        "cancellation_hard_deadline_s": procs.KILL_GRACE_S + 2,
    }


def _cron_options(settings: Settings) -> dict[str, Any]:
    options = queue.job_options(settings, "redeliver")
    return {k: options[k] for k in ("timeout", "heartbeat", "retries", "ttl")}


async def _sweep_orphans(settings: Settings, queues: queue.Queues, stop: asyncio.Event) -> None:
    # Beside the saq workers, not a queued job: a backlog of reviews cannot delay it.
    from ruvopt.bot.jobs.sweeper import sweep_forever

    await sweep_forever(settings, queues.redis, queues, stop)


async def run(settings: Settings, names: Sequence[str], metrics_address: tuple[str, int] | None = None) -> None:
    """Run one saq worker per queue name until SIGINT/SIGTERM; running jobs are re-queued
    if they do not finish within ``shutdown_grace_seconds``. With ``metrics_address``
    (host, port), serve /metrics, /healthz and /readyz there (:mod:`ruvopt.bot.queue.probes`).
    A bench worker first checks that benches can run here (:class:`WorkerRefused` if not)."""
    if "bench" in names:
        log.info("bench sandbox ready: %s", await check_bench_machine(settings))
    logging.getLogger("saq").addFilter(logs.OutageFilter())  # Redis away: a line a minute, not a flood
    redis = queue.connect(settings.redis_url, role="worker")
    queues = queue.make_queues(redis)
    state = State(settings, redis, queues)
    workers = [_Worker(**worker_settings(settings, queues, name, state)) for name in names]
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for w in workers:
            w.event.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_all)
    watcher = None
    if settings.missing_credentials(worker=True):
        watcher = asyncio.create_task(_stop_when_registered(settings, stop_all), name="credentials-watch")
    server = await probes.start(redis, *metrics_address) if metrics_address else None
    log.info("worker consuming %s", ", ".join(queue.QUEUE_NAMES[n] for n in names))
    stopped = asyncio.Event()
    orphans = asyncio.create_task(_sweep_orphans(settings, queues, stopped)) if "review" in names else None
    try:
        for q in {id(w.queue): w.queue for w in workers}.values():
            await q.connect()
        await asyncio.gather(*(w.start() for w in workers))
    finally:
        stopped.set()
        if orphans is not None:
            await orphans
        if watcher is not None:
            watcher.cancel()
        if server is not None:
            await server.shutdown()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await redis.aclose()
