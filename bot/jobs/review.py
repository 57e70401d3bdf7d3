"""The ``review`` job: one head of one pull request → check run, inline review, summary.

1. Ask GitHub for the pull request. Unless forced, a head that is no longer the PR's
   head (a newer push) or a closed PR is not reviewed: no check run is created for it
   (GitHub shows a PR the checks of its current head only), and a run an earlier attempt
   left in progress is completed ``neutral`` "Superseded by <sha>".
2. Open the ``ruvopt`` check run ``in_progress`` — the one this App already has on the
   head SHA if there is one (a retried job, a re-check), so there is one run per head.
3. Fetch base and head into the per-repository mirror (:mod:`ruvopt.bot.git.mirror`).
4. Analyse straight from git objects (:func:`ruvopt.checks.diff.mode.check_diff`, configuration
   from the base commit, per-file cache under ``settings.cache_dir/results``). An
   invalid base configuration completes the run ``action_required`` with the fix; a
   ``Cargo.toml`` that does not parse is finding RO001, so the run fails at its line.
   A crash of the analysis itself completes the run ``neutral`` "internal error
   (delivery …)" rather than retrying a deterministic bug three times.
5. Read what ruvopt already posted on the PR and GitHub's diff of it (inline comments
   go only on lines both diffs agree on), build the plan (:mod:`ruvopt.bot.report.plan`) and
   post it: check run completed first (the gate), then the review, then the sticky
   summary (only while GitHub still names this head the PR's head — a newer head's review
   writes it; serialised per PR with a Redis lock), then resolve the threads of findings
   that are gone.

The worker applies the queue contract around this (already-reviewed and superseded
heads are skipped before the job starts; the head is marked reviewed after it returns)
and keeps the job's heartbeat (``job.update()`` every third of the heartbeat) from a task
on the event loop. So this job never blocks the loop: GitHub calls and the analysis run
in threads, git in child processes (:mod:`ruvopt.bot.queue.procs`). GitHub errors that outlast the
client's retries propagate, and saq retries the job; every step above is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from github import BadCredentialsException
from redis.asyncio import Redis

from ruvopt.bot import keys
from ruvopt.bot.git import mirror as gitmirror
from ruvopt.bot.github.client import GitHubClient
from ruvopt.bot.queue.jobs import ReviewJob
from ruvopt.bot.report import check_run, review, summary
from ruvopt.bot.report.check_run import RunState
from ruvopt.bot.report.plan import Plan, build_plan, config_error_plan
from ruvopt.bot.settings import Settings
from ruvopt.checks.config import ConfigError
from ruvopt.checks.diff.mode import DiffReport, check_diff
from ruvopt.checks.source import GitError

log = logging.getLogger("ruvopt.review")

# Per-PR locks live this long unless their holder renews them (every third of it): a
# worker SIGKILLed while holding one blocks that PR's other reviews for at most this.
LOCK_TTL_S = 15
LOCK_WAIT_S = 600  # a holder in a long rate-limit wait keeps it that long at most


@contextlib.asynccontextmanager
async def pr_lock(redis: Redis, name: str) -> AsyncIterator[None]:
    """A Redis lock, renewed while held, so it never expires under a live holder and
    frees itself soon after a dead one."""
    lock = redis.lock(name, timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S)
    async with lock:

        async def renew() -> None:
            while True:
                await asyncio.sleep(LOCK_TTL_S / 3)
                with contextlib.suppress(Exception):  # a Redis blip: the next renewal may get through
                    await lock.reacquire()

        renewer = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer


async def run_review(settings: Settings, redis: Redis, job: ReviewJob) -> dict[str, Any]:
    gh = GitHubClient.for_installation(settings, job.installation)
    try:
        review = _Review(settings, redis, gh, job.repo, job.pr, job.head_sha, job.base_sha, job.force, job.delivery)
        return await review.run()
    except BadCredentialsException:
        gh.forget_token()  # revoked while cached: the job's retry mints a fresh token
        raise
    finally:
        gh.close()


GAVE_UP_TITLE = "ruvopt could not finish this review"


async def give_up_review(settings: Settings, job: ReviewJob) -> int | None:
    """The last attempt failed: complete the run it left ``in_progress``, so a required check
    does not block the pull request forever. Best effort — GitHub may be what kept failing."""

    def close() -> int | None:
        gh = GitHubClient.for_installation(settings, job.installation)
        try:
            why = (
                f"Every attempt failed (delivery `{job.delivery or 'unknown'}`); the maintainers have it in the "
                "log. Comment `/ruvopt recheck` to try again."
            )
            return check_run.close_unfinished(gh, job.repo, job.head_sha, settings.app_id, GAVE_UP_TITLE, why)
        finally:
            gh.close()

    try:
        return await asyncio.to_thread(close)
    except Exception:
        log.exception("could not close the check run of %s@%s after the last attempt", job.repo, job.head_sha[:12])
        return None


@dataclass
class _Review:
    settings: Settings
    redis: Redis
    gh: GitHubClient
    repo: str
    pr: int
    head_sha: str
    base_sha: str
    force: bool
    delivery: str

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A synchronous (PyGithub, CPU) call, off the event loop so the heartbeat runs."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run(self) -> dict[str, Any]:
        pull = await self.call(self.gh.get_pull, self.repo, self.pr)
        skipped = await self.skip_reason(pull)
        if skipped is not None:
            return skipped
        run = await self.call(check_run.open_run, self.gh, self.repo, self.head_sha, self.settings.app_id)
        log.info(
            "reviewing %s#%s@%s (check run %s, delivery %s)",
            self.repo,
            self.pr,
            self.head_sha[:12],
            run.id,
            self.delivery,
        )
        mirror = await self.fetch(pull.raw_data["base"]["repo"]["clone_url"])
        try:
            result = await self.call(self.analyse, mirror)
        except ConfigError as exc:
            return await self.publish(run, config_error_plan(exc, self.head_sha), config_error=str(exc))
        except GitError:
            raise  # a missing object: fetch again on the retry
        except Exception:
            log.exception("analysis of %s@%s failed (delivery %s)", self.repo, self.head_sha[:12], self.delivery)
            await self.call(check_run.fail_internal, self.gh, self.repo, run, self.delivery)
            return {"check_run": run.id, "error": "internal error"}
        result.report.base_ref, result.report.head_ref = pull.base.ref, pull.head.ref
        # Reviews of two heads of one PR can run at once (a push lands mid-review): each
        # reads what ruvopt already posted, then posts. Serialised per PR, the second sees
        # the first's comments, so a finding present in both heads is commented once.
        async with pr_lock(self.redis, keys.review_lock(self.repo, self.pr)):
            posted = await self.call(review.posted_state, self.gh, self.repo, self.pr)
            files = await self.call(self.gh.pull_files_json, self.repo, self.pr)
            plan = await self.call(build_plan, result, posted=posted, placement=review.github_diff(files))
            return await self.publish(run, plan, posted=posted)

    async def skip_reason(self, pull: Any) -> dict[str, Any] | None:
        if self.force:
            return None
        head = pull.head.sha
        if head != self.head_sha:
            title, why = f"Superseded by {head[:12]}", f"A newer push (`{head}`) is reviewed instead."
        elif pull.state != "open":
            title, why = f"Pull request {pull.state}", f"#{self.pr} is {pull.state}; its head was not reviewed."
        else:
            return None
        closed = await self.call(
            check_run.close_unfinished, self.gh, self.repo, self.head_sha, self.settings.app_id, title, why
        )
        log.info("review of %s@%s skipped: %s", self.repo, self.head_sha[:12], title)
        return {"skipped": title, "check_run": closed}

    async def fetch(self, clone_url: str) -> Path:
        token = await self.call(self.gh.installation_token)
        return await gitmirror.fetch(
            self.settings.cache_dir, self.repo, clone_url, token, [self.base_sha, self.head_sha]
        )

    def analyse(self, mirror: Path) -> DiffReport:
        return check_diff(mirror, self.base_sha, self.head_sha, cache_dir=self.settings.cache_dir / "results")

    async def publish(
        self, run: RunState, plan: Plan, *, posted: review.Posted | None = None, config_error: str | None = None
    ) -> dict[str, Any]:
        done = await self.call(check_run.complete_run, self.gh, self.repo, self.head_sha, run, plan.check_run)
        review_id = await self.call(review.post_review, self.gh, self.repo, self.pr, plan.review)
        comment = await self.publish_summary(plan.summary)
        resolved: list[str] = []
        replied: list[str] = []
        if posted is not None and plan.present is not None:
            resolved, replied = await self.call(
                review.resolve_fixed, self.gh, self.repo, self.pr, posted, plan.present, self.head_sha
            )
        counts = plan.counts
        outcome: dict[str, Any] = {
            "check_run": done.id,
            "conclusion": plan.check_run.conclusion,
            "annotations": len(plan.check_run.annotations),
            "reported": counts.reported,
            "new": counts.new,
            "inline": counts.inline,
            "summary_only": counts.summary_only,
            "fixed": counts.fixed,
            "review": review_id,
            "comments": len(plan.review.comments) if plan.review else 0,
            "summary": comment,
            "resolved": resolved,
            "replied_fixed": replied,
        }
        if config_error is not None:
            outcome["config_error"] = config_error
        log.info("reviewed %s#%s@%s: %s", self.repo, self.pr, self.head_sha[:12], outcome)
        return outcome

    async def publish_summary(self, body: str) -> dict[str, Any] | None:
        async with pr_lock(self.redis, keys.summary_lock(self.repo, self.pr)):
            # GitHub decides which head is current, not Redis: the receiver may not have the
            # newest head yet (its delivery failed and awaits redelivery) and a re-check may
            # have pinned a head a push since replaced. The review of the current head writes
            # the summary; under the lock, so a newer head's review always writes after it.
            pull = await self.call(self.gh.get_pull, self.repo, self.pr)
            if pull.head.sha != self.head_sha:
                return None
            comment_id, action = await self.call(summary.publish_summary, self.gh, self.repo, self.pr, body)
        return {"id": comment_id, "action": action}
