"""The ``ruvopt`` check run: conclusion, output and annotations; and posting them.

Conclusion (``fail-on`` from the base commit's configuration, default ``new``):

- ``failure``: the gate fails — under ``new``, a new error-level finding or a metric that
  got worse than at base and is past its limit; under ``any``, any reported finding;
- ``neutral``: the gate passes but the change adds findings (warnings, notices): worth a
  look, never blocking;
- ``success``: nothing new (findings that were already at the merge base don't count);
- ``action_required``: ruvopt could not judge the change because the base branch's
  configuration is invalid (the output says how to fix it).

One check run per head SHA: a retried job (or a re-check) finds the run it created
through GitHub's list of the commit's check runs and continues it. GitHub appends
annotations on every PATCH and never removes any, so the job posts only those beyond
the run's ``annotations_count``; a run whose annotations no longer match the analysis
(a new ruleset) is replaced by a new run instead of being given duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ruvopt.bot.github.limits import (
    MAX_ANNOTATION_MESSAGE_BYTES,
    MAX_ANNOTATION_TITLE,
    MAX_ANNOTATIONS_PER_REQUEST,
    MAX_OUTPUT_SUMMARY,
    MAX_OUTPUT_TEXT,
)
from ruvopt.bot.report.actions import RECHECK, RUN_BENCH
from ruvopt.bot.report.counts import Counts
from ruvopt.checks.gate import Verdict
from ruvopt.checks.model import Finding, Severity

CHECK_NAME = "ruvopt"
# ruvopt's own cap: each further 50 costs one more PATCH, spaced ≥ 1 s apart; the rest
# are counted per rule in the summary.
MAX_ANNOTATIONS_PER_RUN = 500
MAX_TITLE = 200  # GitHub shows about one line of it
LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}


@dataclass(frozen=True)
class RunState:
    """What the job needs to know about an existing check run to continue it."""

    id: int
    status: str  # queued | in_progress | completed
    conclusion: str | None
    annotations_count: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        output = data.get("output") or {}
        return cls(
            int(data["id"]), str(data["status"]), data.get("conclusion"), int(output.get("annotations_count") or 0)
        )


@dataclass(frozen=True)
class CheckRunPlan:
    conclusion: str
    title: str
    summary: str
    text: str
    annotations: list[dict[str, Any]] = field(default_factory=list)  # most severe first

    def output(self, annotations: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "summary": self.summary}
        if self.text:
            out["text"] = self.text
        if annotations:
            out["annotations"] = list(annotations)
        return out

    def batches(self, start: int = 0) -> list[list[dict[str, Any]]]:
        """Annotations from index ``start`` on, 50 per request (GitHub appends each PATCH's)."""
        rest = self.annotations[start:]
        return [rest[i : i + MAX_ANNOTATIONS_PER_REQUEST] for i in range(0, len(rest), MAX_ANNOTATIONS_PER_REQUEST)]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_bytes(text: str, limit: int) -> str:
    data = text.encode()
    return text if len(data) <= limit else data[: limit - 3].decode(errors="ignore") + "…"


def annotation(finding: Finding) -> dict[str, Any]:
    end = max(finding.start_line, finding.end_line)
    message = finding.message + (f"\n\nFix: {finding.fix_title}" if finding.fix_title else "")
    out: dict[str, Any] = {
        "path": finding.path,
        "start_line": finding.start_line,
        "end_line": end,
        "annotation_level": LEVELS[finding.severity],
        "title": clip(f"{finding.code} {finding.rule}" + (" (new)" if finding.new else ""), MAX_ANNOTATION_TITLE),
        "message": clip_bytes(message, MAX_ANNOTATION_MESSAGE_BYTES),
    }
    # GitHub takes columns only on a one-line range.
    if end == finding.start_line and finding.start_col >= 1:
        out["start_column"] = finding.start_col
        out["end_column"] = max(finding.start_col, finding.end_col)
    edit = finding.suggestion
    if edit is not None:
        details = f"Suggested replacement for lines {edit.start_line}-{edit.end_line}:\n{edit.replacement}"
        out["raw_details"] = clip_bytes(details, MAX_ANNOTATION_MESSAGE_BYTES)
    return out


def by_rule(findings: Sequence[Finding]) -> str:
    counted = Counter(f.code for f in findings)
    return ", ".join(f"{n} more {code}" for code, n in sorted(counted.items()))


def conclusion(verdict: Verdict, findings: Sequence[Finding]) -> str:
    if verdict.failed:
        return "failure"
    return "neutral" if any(f.new for f in findings) else "success"


def title(verdict: Verdict, findings: Sequence[Finding], counts: Counts) -> str:
    errors = [f for f in findings if f.new is not False and f.severity >= Severity.ERROR]
    if verdict.failed and errors and verdict.fail_on == "new":
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        text = f"Failing: {first.path}:{first.start_line}: {first.message}{more}"
    elif verdict.failed:
        more = f" (and {len(verdict.reasons) - 1} more)" if len(verdict.reasons) > 1 else ""
        text = f"Failing: {verdict.reasons[0]}{more}"
    elif counts.new:
        text = f"{counts.new} new finding(s), none blocking"
    elif counts.reported:
        text = f"No new findings ({counts.reported} already at base)"
    else:
        text = "No findings"
    return clip(text.replace("`", ""), MAX_TITLE)


def summary(verdict: Verdict, findings: Sequence[Finding], counts: Counts, overflow: Sequence[Finding]) -> str:
    state = "⚠️ **failing**" if verdict.failed else "✅ **passing**"
    lines = [f"{state} (fail-on `{verdict.fail_on}`)", *(f"- {r}" for r in verdict.reasons), "", counts.sentence()]
    errors = [f for f in findings if f.new and f.severity >= Severity.ERROR]
    if errors:
        lines += ["", "New error-level findings:"]
        lines += [f"- `{f.path}:{f.start_line}` `{f.code}`: {f.message}" for f in errors]
    if overflow:
        lines += [
            "",
            f"Not annotated (over {MAX_ANNOTATIONS_PER_RUN} annotations): {by_rule(overflow)}; "
            "every finding is listed in the details below.",
        ]
    return bound(lines, MAX_OUTPUT_SUMMARY)


def bound(lines: list[str], limit: int) -> str:
    """Join ``lines``; the lines that do not fit are counted, never silently dropped."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        if size + len(line) + 1 > limit - 100:
            kept.append(f"… {len(lines) - i} more line(s) omitted (GitHub's {limit}-character limit).")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def plan_check_run(verdict: Verdict, findings: Sequence[Finding], counts: Counts, details: str) -> CheckRunPlan:
    """``findings``: the reported findings; ``details``: the Markdown report for ``text``."""
    ordered = sorted(findings, key=Finding.sort_key)
    shown, overflow = ordered[:MAX_ANNOTATIONS_PER_RUN], ordered[MAX_ANNOTATIONS_PER_RUN:]
    return CheckRunPlan(
        conclusion=conclusion(verdict, findings),
        title=title(verdict, ordered, counts),
        summary=summary(verdict, ordered, counts, overflow),
        text=clip(details, MAX_OUTPUT_TEXT),
        annotations=[annotation(f) for f in shown],
    )


# --- posting ---------------------------------------------------------------------------------


class ChecksAPI(Protocol):
    def check_runs_for_ref(self, repo: str, sha: str, name: str, app_id: int | None) -> list[dict[str, Any]]: ...
    def create_check_run(
        self,
        repo: str,
        *,
        name: str,
        head_sha: str,
        status: str = ...,
        started_at: datetime | None = ...,
        output: Mapping[str, Any] | None = ...,
    ) -> Any: ...
    def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        *,
        conclusion: str | None = ...,
        completed_at: datetime | None = ...,
        output: Mapping[str, Any] | None = ...,
        actions: Sequence[Mapping[str, str]] | None = ...,
    ) -> Any: ...


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def find_run(gh: ChecksAPI, repo: str, head_sha: str, app_id: int | None) -> RunState | None:
    runs = gh.check_runs_for_ref(repo, head_sha, CHECK_NAME, app_id)  # newest first
    return RunState.from_json(runs[0]) if runs else None


def create_run(gh: ChecksAPI, repo: str, head_sha: str) -> RunState:
    run = gh.create_check_run(
        repo,
        name=CHECK_NAME,
        head_sha=head_sha,
        status="in_progress",
        started_at=now(),
        output={"title": "Reviewing…", "summary": f"ruvopt is checking `{head_sha[:12]}`."},
    )
    return RunState(int(run.id), "in_progress", None, 0)


def open_run(gh: ChecksAPI, repo: str, head_sha: str, app_id: int | None) -> RunState:
    """The ``ruvopt`` run of ``head_sha`` by this App: the existing one, else a new one."""
    return find_run(gh, repo, head_sha, app_id) or create_run(gh, repo, head_sha)


def complete_run(gh: ChecksAPI, repo: str, head_sha: str, run: RunState, plan: CheckRunPlan) -> RunState:
    """Post the remaining annotations and the conclusion; returns the run that holds them."""
    posted = run.annotations_count
    # A completed run without annotations (closed neutral by the sweeper or a give-up) is
    # continued: it holds nothing this analysis could contradict.
    if posted > len(plan.annotations) or (run.status == "completed" and 0 < posted != len(plan.annotations)):
        run, posted = create_run(gh, repo, head_sha), 0  # its annotations are not this analysis's
    batches = plan.batches(posted) or [[]]
    for batch in batches[:-1]:
        gh.update_check_run(repo, run.id, output=plan.output(batch))
    gh.update_check_run(
        repo,
        run.id,
        conclusion=plan.conclusion,
        completed_at=now(),
        output=plan.output(batches[-1]),
        actions=[RECHECK, RUN_BENCH],
    )
    return RunState(run.id, "completed", plan.conclusion, len(plan.annotations))


def close_unfinished(gh: ChecksAPI, repo: str, head_sha: str, app_id: int | None, title: str, why: str) -> int | None:
    """Complete (``neutral``, with the Re-check button) a run left in progress for a head that
    will not be reviewed (a newer push, a closed pull request) or whose review could not
    finish (:mod:`ruvopt.bot.jobs.sweeper`). None when there is none in progress."""
    run = find_run(gh, repo, head_sha, app_id)
    if run is None or run.status == "completed":
        return None
    gh.update_check_run(
        repo,
        run.id,
        conclusion="neutral",
        completed_at=now(),
        output={"title": title, "summary": why},
        actions=[RECHECK],
    )
    return run.id


def fail_internal(gh: ChecksAPI, repo: str, run: RunState, delivery: str) -> None:
    """Complete a run whose analysis crashed: a ruvopt bug must not block the merge."""
    gh.update_check_run(
        repo,
        run.id,
        conclusion="neutral",
        completed_at=now(),
        actions=[RECHECK, RUN_BENCH],
        output={
            "title": "ruvopt hit an internal error",
            "summary": f"ruvopt hit an internal error (delivery `{delivery or 'unknown'}`); "
            "the maintainers have it in the log. Use **Re-check** to try again.",
        },
    )
