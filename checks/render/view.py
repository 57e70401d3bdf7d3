"""What every renderer is given: one report, plain or diff mode, plus its verdict."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ruvopt.checks.config import Config
from ruvopt.checks.diff.mode import DiffReport
from ruvopt.checks.gate import Verdict, verdict
from ruvopt.checks.model import Finding, Report


@dataclass(slots=True)
class View:
    report: Report  # crates and the findings to show (filtered to the diff in diff mode)
    config: Config
    diff_mode: bool = False
    all_findings: list[Finding] = field(default_factory=list)  # unfiltered: checklist status
    fixed: list[Finding] = field(default_factory=list)
    filter_mode: str | None = None
    base_commit: str | None = None
    head_commit: str | None = None
    verdict: Verdict | None = None
    # Where the checked folder sits in its git repository ("crates/ws/", or ""): GitHub
    # annotations and SARIF name files from the repository's root, the report from the folder's.
    repo_prefix: str = ""

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    @classmethod
    def of_check(cls, report: Report, config: Config) -> View:
        """A plain check: with nothing to compare with, every finding counts as new."""
        marked = [f.with_new(True) for f in report.findings]
        report = replace(report, findings=marked)
        return cls(report, config, all_findings=marked)

    @classmethod
    def of_diff(cls, result: DiffReport) -> View:
        return cls(
            result.report,
            result.config,
            diff_mode=True,
            all_findings=result.findings,
            fixed=result.fixed,
            filter_mode=result.filter_mode,
            base_commit=result.merge_base,
            head_commit=result.head_commit,
        )

    def repo_path(self, path: str) -> str:
        """``path`` (relative to the checked folder) relative to the repository's root."""
        return self.repo_prefix + path if path else path

    def judged(self, fail_on: str) -> View:
        """This view with the verdict of ``fail_on`` attached."""
        found = verdict(self.findings, self.report.crates, self.config, fail_on, diff_mode=self.diff_mode)
        return replace(self, verdict=found)
