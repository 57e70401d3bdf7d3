"""What to post for one analysed head: a pure function of the analysis and of what ruvopt
already posted on the pull request.

Used by the review job (:mod:`ruvopt.bot.jobs.review`), which reads :class:`Posted` from GitHub
first, and by ``ruvopt review``, which prints the plan for an empty pull request. The
check run, the review and the summary are built from one :class:`Counts`, so the
numbers they state always agree.

Which findings go where:

- check run annotations: every finding the filter mode reports (default ``added``:
  on lines the diff adds), most severe first;
- inline comments: the new ones among those that can sit on a line of the diff
  (:mod:`ruvopt.bot.report.review`), at most 30;
- summary: everything (:func:`ruvopt.checks.render.markdown.render`), plus the new findings
  that got no inline comment and why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ruvopt.bot.report.check_run import CheckRunPlan, plan_check_run
from ruvopt.bot.report.counts import Counts
from ruvopt.bot.report.review import Posted, ReviewPlan, Selection, plan_review, select
from ruvopt.bot.report.summary import MARKER, error_body, summary_body
from ruvopt.checks.config import ConfigError
from ruvopt.checks.diff.filter import Diff
from ruvopt.checks.diff.mode import DiffReport
from ruvopt.checks.gate import Verdict
from ruvopt.checks.render.view import View

CONFIG_FIX = (
    "ruvopt reads its configuration (`ruvopt.toml`, or `[workspace.metadata.ruvopt]` / "
    "`[package.metadata.ruvopt]` in `Cargo.toml`) from the pull request's **base** commit, so "
    "a pull request cannot loosen its own gate. Fix the configuration on the base branch "
    "(see docs/configuration.md), then use **Re-check** or comment `/ruvopt recheck`."
)


@dataclass(frozen=True)
class Plan:
    head_sha: str
    counts: Counts
    check_run: CheckRunPlan
    review: ReviewPlan | None  # None: no new inline comment to post
    summary: str  # the sticky comment's whole body, marker included
    selection: Selection
    present: frozenset[str] | None  # fingerprints of every finding at head (None: unknown)
    verdict: Verdict | None = None


def build_plan(
    result: DiffReport, *, posted: Posted | None = None, fail_on: str | None = None, placement: Diff | None = None
) -> Plan:
    """The plan for ``result``; ``posted`` is what ruvopt already said on the PR and
    ``placement`` GitHub's diff of it (inline comments go only where both diffs agree)."""
    posted = posted or Posted()
    view = View.of_diff(result).judged(fail_on or result.config.fail_on)
    assert view.verdict is not None
    reported = view.findings
    candidates = [f for f in reported if f.new]
    reviewed = result.head_commit in posted.reviewed_commits
    where = result.diff if placement is None else both(result.diff, placement)
    selection = select(candidates, where, posted.fingerprints, reviewed=reviewed)
    counts = Counts(
        reported=len(reported),
        new=len(candidates),
        inline=len(selection.comments) + len(selection.commented),
        summary_only=len(selection.summary_only),
        fixed=len(result.fixed),
    )
    summary = summary_body(view, counts, selection)
    details = summary.replace(MARKER + "\n", "", 1)  # the same report, in the Checks tab
    return Plan(
        head_sha=result.head_commit,
        counts=counts,
        check_run=plan_check_run(view.verdict, reported, counts, details),
        review=plan_review(result.head_commit, selection, counts),
        summary=summary,
        selection=selection,
        present=frozenset(f.fingerprint for f in result.findings),
        verdict=view.verdict,
    )


def both(ours: Diff, github: Diff) -> Diff:
    """Files and lines that both diffs can hold a comment on, with GitHub's hunks."""
    files = {}
    for path, theirs in github.files.items():
        mine = ours.file(path)
        if mine is None:
            continue
        files[path] = replace(theirs, added=theirs.added & mine.commentable, context=theirs.context & mine.commentable)
    return Diff(files)


def config_error_plan(error: ConfigError, head_sha: str) -> Plan:
    """The base commit's configuration is invalid: nothing can be judged, and the check
    run says what to fix (``action_required``) instead of failing or crashing."""
    what = "the ruvopt configuration on the base branch is invalid."
    details = f"```\n{error}\n```\n\n{CONFIG_FIX}"
    check_run = CheckRunPlan(
        conclusion="action_required",
        title=f"Invalid configuration: {error}"[:200].replace("`", ""),
        summary=f"⚠️ **Not reviewed**: {what}\n\n{details}",
        text="",
    )
    return Plan(
        head_sha=head_sha,
        counts=Counts(0, 0, 0, 0, 0),
        check_run=check_run,
        review=None,
        summary=error_body(head_sha, what, details),
        selection=Selection(),
        present=None,
    )
