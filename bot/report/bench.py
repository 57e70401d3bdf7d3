"""The ``ruvopt/bench`` check run and the bench's section of the summary comment.

Conclusion: ``failure`` when a metric regressed past ``max-regression`` and the noise,
or a budget is broken; ``neutral`` with the reason when nothing could be measured (a
build failed or timed out, the base configuration is invalid, the pull request
closed); ``success`` otherwise. The output is the Before/After table
(:func:`ruvopt.bot.bench.report.markdown`); the summary comment's section adds the
Mermaid chart. One run per request: a retried job continues the run it opened.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ruvopt.bot.bench import report
from ruvopt.bot.bench.runner import Comparison
from ruvopt.bot.github.limits import MAX_COMMENT_BODY, MAX_OUTPUT_SUMMARY, MAX_OUTPUT_TEXT
from ruvopt.bot.report import bench_section
from ruvopt.bot.report.actions import BENCH_CHECK_NAME, RUN_BENCH
from ruvopt.bot.report.check_run import CheckRunPlan, ChecksAPI, clip
from ruvopt.bot.report.summary import MARKER, CommentsAPI, find_summary

MAX_SECTION = 24_000  # of the sticky comment's 65,536 characters; the review keeps the rest
MAX_TITLE = 200


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def plan_run(comparison: Comparison, notes: list[str]) -> CheckRunPlan:
    """``notes``: what the job adds (a moved head, who asked)."""
    title = report.headline(comparison).replace("**", "").replace("`", "")
    table = report.markdown(comparison, with_chart=False, heading="")
    summary = "\n".join([*notes, "", table]) if notes else table
    details = [
        "### How each verdict was reached",
        "",
        *report.reasons(comparison),
        "",
        *report.chart(comparison.decisions),
    ]
    return CheckRunPlan(
        comparison.conclusion,
        clip(title, MAX_TITLE),
        clip(summary, MAX_OUTPUT_SUMMARY),
        clip("\n".join(details), MAX_OUTPUT_TEXT),
    )


def neutral_plan(title: str, why: str) -> CheckRunPlan:
    return CheckRunPlan("neutral", clip(title, MAX_TITLE), clip(why, MAX_OUTPUT_SUMMARY), "")


def section(comparison: Comparison, notes: list[str]) -> str:
    heading = f"### Bench: `{comparison.base_sha[:12]}` → `{comparison.head_sha[:12]}`"
    body = report.markdown(comparison, heading=heading, level=4)
    if len(body) > MAX_SECTION:
        body = report.markdown(comparison, with_chart=False, heading=heading, level=4)
    if len(body) > MAX_SECTION:
        body = f"{heading}\n\n{report.headline(comparison)}\n\nThe full table is in the `ruvopt/bench` check run."
    lines = [bench_section.START, body.rstrip(), *(["", *notes] if notes else []), bench_section.END]
    return "\n".join(lines)


# --- posting ---------------------------------------------------------------------------------


def open_run(gh: ChecksAPI, repo: str, head_sha: str, app_id: int | None, what: str) -> int:
    """The request's ``ruvopt/bench`` run: an unfinished one on this head (a retried job)
    is continued; a finished one belongs to an earlier request and stays as it is."""
    runs = gh.check_runs_for_ref(repo, head_sha, BENCH_CHECK_NAME, app_id)  # newest first
    unfinished = [r for r in runs if r.get("status") != "completed"]
    if unfinished:
        return int(unfinished[0]["id"])
    run = gh.create_check_run(
        repo,
        name=BENCH_CHECK_NAME,
        head_sha=head_sha,
        status="in_progress",
        started_at=now(),
        output={"title": "Benchmarking…", "summary": what},
    )
    return int(run.id)


def progress(gh: ChecksAPI, repo: str, run_id: int, text: str) -> None:
    gh.update_check_run(repo, run_id, output={"title": clip(f"Benchmarking: {text}", MAX_TITLE), "summary": text})


def complete_run(gh: ChecksAPI, repo: str, run_id: int, plan: CheckRunPlan) -> None:
    gh.update_check_run(
        repo, run_id, conclusion=plan.conclusion, completed_at=now(), output=plan.output(), actions=[RUN_BENCH]
    )


def close_unfinished(gh: ChecksAPI, repo: str, head_sha: str, app_id: int | None, title: str, why: str) -> int | None:
    """Complete (``neutral``) every ``ruvopt/bench`` run left in progress on ``head_sha``;
    the id of the newest one closed, None when there was none."""
    closed = None
    for run in gh.check_runs_for_ref(repo, head_sha, BENCH_CHECK_NAME, app_id):  # newest first
        if run.get("status") != "completed":
            complete_run(gh, repo, int(run["id"]), neutral_plan(title, why))
            closed = closed or int(run["id"])
    return closed


def publish_section(gh: CommentsAPI, repo: str, pr: int, text: str) -> tuple[int, str]:
    """Write the bench section into the sticky summary comment (created if the review has
    not written one yet); the review's part of the comment is left as it is."""
    existing = find_summary(gh, repo, pr)
    if existing is None:
        body = f"{MARKER}\n## ruvopt\n\n{text}\n"
        return int(gh.create_issue_comment(repo, pr, body).id), "created"
    old = existing.get("body") or ""
    body = bench_section.with_section(old, text)
    if len(body) > MAX_COMMENT_BODY:
        body = bench_section.with_section(old, bench_section.condensed(text))
    if body == old:
        return int(existing["id"]), "unchanged"
    gh.edit_issue_comment(repo, int(existing["id"]), body)
    return int(existing["id"]), "edited"
