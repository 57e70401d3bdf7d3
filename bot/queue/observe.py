"""What a worker reports about its jobs: saq ``before_process``/``after_process`` hooks
that count jobs and their durations (:mod:`ruvopt.bot.metrics`) and bind the log context
(job id, kind, installation, repository, PR, delivery) for every record logged while a
job runs (:mod:`ruvopt.bot.logs`).

A job is counted once per attempt, by the status saq left it in: ``complete`` (or
``skipped`` when the job said so), ``retried`` (back in the queue), ``failed`` (out of
retries), ``aborted``.
"""

from __future__ import annotations

import time
from typing import Any

from saq.job import Status

from ruvopt.bot import logs, metrics

KINDS = {"review", "command", "bench", "redeliver", "sleep_job"}
OUTCOMES = {Status.COMPLETE: "complete", Status.QUEUED: "retried", Status.FAILED: "failed", Status.ABORTED: "aborted"}


async def job_started(ctx: dict[str, Any]) -> None:
    job = ctx["job"]
    kwargs = job.kwargs or {}
    token = logs.bind(
        job=job.key,
        kind=job.function,
        delivery=kwargs.get("delivery") or None,
        installation=kwargs.get("installation"),
        repository=kwargs.get("repo"),
        pr=kwargs.get("pr"),
    )
    ctx["observe"] = (time.monotonic(), token)


async def job_finished(ctx: dict[str, Any]) -> None:
    started, token = ctx.pop("observe", (None, None))
    job = ctx["job"]
    kind = job.function if job.function in KINDS else "other"
    metrics.JOBS.labels(kind, outcome(job)).inc()
    if started is not None:
        metrics.JOB_SECONDS.labels(kind).observe(time.monotonic() - started)
    if token is not None:
        logs.unbind(token)


def outcome(job: Any) -> str:
    if job.status == Status.COMPLETE and isinstance(job.result, dict) and "skipped" in job.result:
        return "skipped"
    return OUTCOMES.get(job.status, str(job.status))


def review_completed(job: Any, result: Any) -> None:
    """A review job published its check run: observe delivery → completed check run.
    ``job.queued`` (saq, epoch ms) is set when the receiver enqueued the job inside the
    webhook request, and kept across retries, so a retried review counts its full wait."""
    if isinstance(result, dict) and result.get("check_run") and "skipped" not in result and job.queued:
        metrics.REVIEW_LATENCY.observe(max(0.0, time.time() - job.queued / 1000))
