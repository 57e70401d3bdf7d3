"""Diff mode: the rules over a base and a head commit, findings compared and filtered.

Both commits are read straight from the git object store (``GitTree``: no checkout, no
work tree touched), analysed with the same configuration, and compared by fingerprint:
a head finding is *new* when no base finding has its fingerprint (fingerprints carry no
line numbers, so a finding that only moved is not new). Findings are then filtered to
the diff (``ruvopt.checks.diff.filter``), the way reviewdog does.

"Base" for the comparison and the diff is the merge base of ``base`` and ``head`` — what
GitHub diffs a pull request against — so a PR is judged only on what it changes, not on
commits that landed on the base branch after it forked. When ``base`` is an ancestor of
``head`` (the usual case) the two are the same commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruvopt.checks.config import Config
from ruvopt.checks.diff.filter import FILTER_MODES, Diff, filter_findings, git_diff
from ruvopt.checks.diff.renames import fixed_findings, mark_new, renamed_paths
from ruvopt.checks.engine import Progress, check
from ruvopt.checks.model import CrateReport, Finding, Notice, Report
from ruvopt.checks.registry import load_config
from ruvopt.checks.source import GitError, GitTree, run_git


@dataclass(slots=True)
class DiffReport:
    report: Report  # head crates (with base_metrics) and the findings the filter mode reports
    diff: Diff  # merge base -> head: the commentable RIGHT-side lines
    findings: list[Finding]  # every head finding, marked new or not, unfiltered
    fixed: list[Finding]  # base findings whose fingerprint is absent at head
    base_report: Report
    config: Config  # loaded from the base commit
    base_commit: str
    head_commit: str
    merge_base: str
    filter_mode: str
    removed_crates: list[str] = field(default_factory=list)

    @property
    def new_findings(self) -> list[Finding]:
        """Every new head finding, whether or not the filter mode reports it."""
        return [f for f in self.findings if f.new]


def merge_base(repo: Path, base: str, head: str) -> str:
    """The merge base of two commits, or ``base`` when the histories are unrelated."""
    try:
        return run_git(repo, "merge-base", base, head).decode().strip() or base
    except GitError:
        return base


def attach_base_metrics(head: list[CrateReport], base: list[CrateReport]) -> list[str]:
    """Give each head crate the metrics of the base crate of the same name (None for a
    crate the head adds); return the names of base crates the head no longer has."""
    by_name = {c.name: c for c in base}
    for crate in head:
        match = by_name.get(crate.name)
        crate.base_metrics = match.metrics if match else None
    names = {c.name for c in head}
    return [c.name for c in base if c.name not in names]


def _offset(progress: Progress | None, before: int) -> Progress | None:
    """Report the head scan after the base scan on one running count."""
    if progress is None:
        return None
    return lambda done, total: progress(before + done, before + total)


def check_diff(
    repo: Path, base: str, head: str = "HEAD", *, config: Config | None = None, filter_mode: str = "added",
    cache_dir: Path | None = None, jobs: int | None = None, progress: Progress | None = None,
) -> DiffReport:
    """Analyse ``base`` and ``head`` of ``repo`` and report what the change did.

    Raises ``GitError`` (bad ref, not a repository), ``ConfigError`` (bad base config) and
    ``ValueError`` (unknown filter mode).
    """
    if filter_mode not in FILTER_MODES:
        raise ValueError(f"unknown filter mode {filter_mode!r}; use one of {', '.join(FILTER_MODES)}")
    base_tree, head_tree = GitTree(repo, base), GitTree(repo, head)
    fork_tree: GitTree | None = None
    try:
        # The gate comes from the BASE commit, never the head: a pull request must not be
        # able to loosen its own gate (ignore a rule, raise a limit), and nothing from a
        # fork decides what runs.
        config = config or load_config(base_tree)
        fork = merge_base(repo, base_tree.commit, head_tree.commit)
        fork_tree = base_tree if fork == base_tree.commit else GitTree(repo, fork)
        counted: list[int] = [0]

        def base_progress(done: int, total: int) -> None:
            counted[0] = total
            if progress:
                progress(done, total)

        base_report = check(fork_tree, config, cache_dir=cache_dir, jobs=jobs, progress=base_progress)
        head_report = check(
            head_tree, config, cache_dir=cache_dir, jobs=jobs, progress=_offset(progress, counted[0])
        )
        diff = git_diff(repo, fork, head_tree.commit)
        renames = renamed_paths(diff)  # a moved file's findings are not new (checks/diff/renames.py)
        findings = mark_new(head_report.findings, base_report.findings, renames)
        reported = filter_findings(findings, diff, filter_mode, head_tree.read_text)
        removed = attach_base_metrics(head_report.crates, base_report.crates)
        notices = list(head_report.notices) + [
            Notice("", f"crate `{name}` exists at base but not at head") for name in removed
        ]
        report = Report(head_report.crates, reported, notices, base_ref=base, head_ref=head)
        fixed = fixed_findings(head_report.findings, base_report.findings, renames)
        return DiffReport(
            report=report, diff=diff, findings=findings, fixed=fixed,
            base_report=base_report, config=config, base_commit=base_tree.commit, head_commit=head_tree.commit,
            merge_base=fork, filter_mode=filter_mode, removed_crates=removed,
        )
    finally:
        for tree in {id(t): t for t in (base_tree, head_tree, fork_tree) if t is not None}.values():
            tree.close()
