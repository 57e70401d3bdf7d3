"""The ``bench`` job: one ``/ruvopt bench`` request → the ``ruvopt/bench`` check run on the
pinned head and the bench section of the sticky summary comment.

1. Open the ``ruvopt/bench`` check run ``in_progress`` on the pinned head SHA (a retried
   job continues the run its first attempt opened).
2. If the pull request's head moved after the request was accepted, say so (a reply to
   the requester, once, and a line in the check run): the pinned SHA is still what is
   measured. A closed pull request is not measured (``neutral``).
3. Fetch base and head into the repository's mirror (:mod:`ruvopt.bot.git.mirror`; the
   token travels in git's environment only), then :func:`ruvopt.bot.bench.runner.compare`:
   configuration from the base commit, dependencies fetched outside the sandbox, every
   build and bench inside it, base and head interleaved. The check run's title follows
   the progress.
4. Complete the run (``success``/``failure``/``neutral`` with the reason) with a "Run
   bench" button, then write the bench section of the summary comment under the per-PR
   summary lock the review job uses.

A build that fails or times out, a sandbox that kills a command, an invalid base
configuration: all are results (``neutral``, with the reason and the end of the
output), never exceptions — the worker carries on with the next job; so is a crash of
the engine itself (``neutral``, "internal error", not retried: it would fail again after
another hour of measuring). GitHub or git errors propagate and saq retries the job;
after the last attempt the worker closes the run ``neutral`` (:func:`give_up_bench`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from github import BadCredentialsException
from redis.asyncio import Redis

from ruvopt.bot import keys
from ruvopt.bot.bench.depcache import DependencyCache
from ruvopt.bot.bench.measure import Plan
from ruvopt.bot.bench.runner import Comparison, Machine, Request, compare
from ruvopt.bot.bench.sandbox import Limits
from ruvopt.bot.git import mirror as gitmirror
from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.jobs.review import pr_lock
from ruvopt.bot.queue.jobs import BenchJob
from ruvopt.bot.report import bench as bench_report
from ruvopt.bot.settings import Settings

log = logging.getLogger("ruvopt.bench")

PROGRESS_EVERY_S = 20.0  # check-run title updates while measuring (writes are spaced ≥ 1 s anyway)
MOVED_TTL_S = 7 * 24 * 3600
GAVE_UP_TITLE = "ruvopt could not finish this benchmark"


async def run_bench(settings: Settings, redis: Redis, job: BenchJob) -> dict[str, Any]:
    gh = GitHubClient.for_installation(settings, job.installation)
    try:
        return await _Bench(settings, redis, gh, job).run()
    except BadCredentialsException:
        gh.forget_token()  # revoked while cached: the job's retry mints a fresh token
        raise
    finally:
        gh.close()


async def give_up_bench(settings: Settings, job: BenchJob) -> None:
    """The last attempt failed: complete the run it left in progress (best effort)."""

    def close() -> None:
        gh = GitHubClient.for_installation(settings, job.installation)
        try:
            why = (
                f"Every attempt failed (delivery `{job.delivery or 'unknown'}`); the maintainers have it in the "
                "log. Comment `/ruvopt bench` or use **Run bench** to try again."
            )
            bench_report.close_unfinished(gh, job.repo, job.head_sha, settings.app_id, GAVE_UP_TITLE, why)
        finally:
            gh.close()

    try:
        await asyncio.to_thread(close)
    except Exception:
        log.exception("could not close the bench run of %s@%s after the last attempt", job.repo, job.head_sha[:12])


def machine(settings: Settings, job: BenchJob) -> Machine:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{job.repo}#{job.pr}")
    work = settings.cache_dir / "bench" / "work" / safe
    work.mkdir(parents=True, exist_ok=True)
    cache = None
    if settings.bench_dependency_cache_entries > 0:
        cache = DependencyCache(settings.cache_dir / "bench" / "deps", settings.bench_dependency_cache_entries)
    limits = Limits(float(settings.bench_command_timeout_seconds), settings.bench_memory_mb << 20)
    # Only cargo fetch (outside the sandbox) sees the environment, and only proxy and
    # registry variables of it (ruvopt.bot.bench.toolchain.CargoHome.fetch_env).
    return Machine(
        work,
        settings.bench_cargo_home,
        limits,
        dict(os.environ),
        settings.bench_jobs,
        deps_cache=cache,
        cache_scope=job.repo,
    )


@dataclass
class _Bench:
    settings: Settings
    redis: Redis
    gh: GitHubClient
    job: BenchJob
    run_id: int = 0
    notes: list[str] = field(default_factory=list)
    last_progress: float = 0.0
    updates: set[asyncio.Future[Any]] = field(default_factory=set)

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A synchronous (PyGithub) call, off the event loop so the heartbeat runs."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run(self) -> dict[str, Any]:
        job = self.job
        pull = await self.call(self.gh.get_pull, job.repo, job.pr)
        asked = f"Requested by @{job.requested_by}" + ("" if job.comment_id else " with the **Run bench** button")
        self.run_id = await self.call(
            bench_report.open_run,
            self.gh,
            job.repo,
            job.head_sha,
            self.settings.app_id,
            f"{asked}; base `{job.base_sha[:12]}`, head `{job.head_sha[:12]}`.",
        )
        self.notes.append(f"{asked}.")
        if pull.state != "open":
            plan = bench_report.neutral_plan(f"Pull request {pull.state}", f"#{job.pr} is {pull.state}; not measured.")
            await self.call(bench_report.complete_run, self.gh, job.repo, self.run_id, plan)
            return {"check_run": self.run_id, "skipped": f"pull request {pull.state}"}
        if pull.head.sha not in (job.head_sha, job.pr_head or job.head_sha):  # the button's reply said so
            await self.head_moved(pull.head.sha)
        log.info(
            "benchmarking %s#%s %s..%s (check run %s)",
            job.repo,
            job.pr,
            job.base_sha[:12],
            job.head_sha[:12],
            self.run_id,
        )
        comparison = await self.measure(pull.raw_data["base"]["repo"]["clone_url"])
        plan = bench_report.plan_run(comparison, self.notes)
        await self.call(bench_report.complete_run, self.gh, job.repo, self.run_id, plan)
        summary = await self.publish_section(comparison)
        outcome = {
            "check_run": self.run_id,
            "conclusion": comparison.conclusion,
            "error": comparison.error,
            "regressions": [d.metric.id for d in comparison.regressions],
            "metrics": len(comparison.decisions),
            "summary": summary,
            "seconds": round(comparison.seconds, 1),
        }
        log.info("benchmarked %s#%s@%s: %s", job.repo, job.pr, job.head_sha[:12], outcome)
        return outcome

    async def head_moved(self, current: str) -> None:
        job = self.job
        text = (
            f"the head of #{job.pr} moved to `{current[:12]}` after this benchmark was requested; "
            f"`{job.head_sha[:12]}` (the head when it was accepted) is what is measured."
        )
        self.notes.append(text[0].upper() + text[1:])
        once = keys.bench_moved(job.repo, job.pr, job.head_sha, str(job.comment_id or job.delivery))
        if await self.redis.set(once, b"1", nx=True, ex=MOVED_TTL_S):  # a retried job does not say it twice
            await self.call(self.gh.create_issue_comment, job.repo, job.pr, f"@{job.requested_by} {text}")

    async def measure(self, clone_url: str) -> Comparison:
        job = self.job
        token = await self.call(self.gh.installation_token)
        mirror = await gitmirror.fetch(
            self.settings.cache_dir, job.repo, clone_url, token, [job.base_sha, job.head_sha]
        )
        request = Request(mirror, job.base_sha, job.head_sha, job.profiles, job.benches, job.runs)
        try:
            return await compare(request, machine(self.settings, job), self.progress)
        except Exception:
            # A ruvopt bug, not the pull request's: retrying would measure for another hour
            # and fail the same way. The run says so; the log has the traceback.
            log.exception("bench of %s@%s failed (delivery %s)", job.repo, job.head_sha[:12], job.delivery)
            failed = Comparison(job.base_sha, job.head_sha, Plan(), 0.0)
            failed.error = f"ruvopt hit an internal error (delivery `{job.delivery or 'unknown'}`)."
            return failed
        finally:
            # A title update still in flight must land before the completion, not after it.
            await asyncio.gather(*self.updates, return_exceptions=True)

    def progress(self, text: str, done: int, total: int) -> None:
        if done < 0 or time.monotonic() - self.last_progress < PROGRESS_EVERY_S or self.updates:
            return
        self.last_progress = time.monotonic()
        task = asyncio.ensure_future(
            self.call(bench_report.progress, self.gh, self.job.repo, self.run_id, f"{text} ({done}/{total})")
        )
        self.updates.add(task)
        task.add_done_callback(self._progress_done)

    def _progress_done(self, task: asyncio.Future[Any]) -> None:
        self.updates.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("progress update of check run %s failed: %s", self.run_id, task.exception())

    async def publish_section(self, comparison: Comparison) -> dict[str, Any]:
        job = self.job
        text = bench_report.section(comparison, self.notes)
        async with pr_lock(self.redis, keys.summary_lock(job.repo, job.pr)):  # the review's lock too
            comment_id, action = await self.call(bench_report.publish_section, self.gh, job.repo, job.pr, text)
        return {"id": comment_id, "action": action}
