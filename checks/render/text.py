"""The terminal report (rich): a metrics table per crate, findings grouped by file,
notices, and the verdict; plus the progress bar a long scan shows on stderr.
"""

from __future__ import annotations

import io
import time
from collections import defaultdict
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ruvopt.checks import __version__
from ruvopt.checks.gate import metric_rows
from ruvopt.checks.model import CrateReport, Finding, Severity
from ruvopt.checks.render.markdown import fmt_value
from ruvopt.checks.render.view import View

STATUS = {True: "✅", False: "⚠️", None: ""}
SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
PROGRESS_DELAY = 1.0  # seconds: a fast scan should not flash a bar


class ScanProgress:
    """A progress callback for ``check``: a rich bar on stderr, only on a terminal and only
    once the scan has run for ``delay`` seconds."""

    def __init__(
        self, console: Console | None = None, *, delay: float = PROGRESS_DELAY, enabled: bool | None = None
    ) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self.delay = delay
        self.started = time.monotonic()
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.progress is None:
            if time.monotonic() - self.started < self.delay:
                return
            self.progress = Progress(
                TextColumn("scanning"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("scan", total=total)
        assert self.task is not None
        self.progress.update(self.task, completed=done, total=total)

    def note(self, message: str) -> None:
        """A line on stderr that does not tear the bar (a fetch announced mid-scan)."""
        self.console.print(f"ruvopt: {message}", soft_wrap=True, highlight=False, markup=False)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def __enter__(self) -> ScanProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def crate_table(view: View, crate: CrateReport) -> Table:
    title = f"[bold]{escape(crate.name)}[/] ({escape(crate.path)})"
    if view.diff_mode and crate.base_metrics is None:
        title += " — new crate, no base metrics"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("before → after" if view.diff_mode else "value", justify="right")
    table.add_column("limit", justify="right")
    table.add_column("status", justify="center")
    for row in metric_rows(crate, view.config):
        value = fmt_value(row.value)
        if view.diff_mode:
            before = "—" if crate.base_metrics is None else fmt_value(row.before)
            value = value if before == value else f"{before} → {value}"
        table.add_row(row.name, escape(value), row.limit, STATUS[row.ok])
    return table


def print_findings(console: Console, findings: list[Finding], diff_mode: bool) -> None:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_file[finding.path].append(finding)
    for path in sorted(by_file):
        console.print(f"\n[bold underline]{escape(path)}[/]")
        for f in sorted(by_file[path], key=lambda f: (f.start_line, f.start_col, f.code)):
            tag = " [bold magenta]new[/]" if diff_mode and f.new else ""
            style = SEVERITY_STYLES[f.severity]
            # soft_wrap: a finding stays one line (greppable); the terminal wraps it.
            console.print(
                f"  {f.start_line}:{f.start_col}  [{style}]{f.severity.label}[/] [bold]{f.code}[/]{tag} "
                f"{escape(f.message)}",
                soft_wrap=True,
            )
            if f.fix_title:
                console.print(f"      [dim]fix: {escape(f.fix_title)}[/]", soft_wrap=True)


def summary_line(view: View) -> str:
    findings = view.findings
    if view.diff_mode:
        new = sum(1 for f in findings if f.new)
        return (
            f"{len(findings)} finding(s) in the diff (filter {view.filter_mode}): {new} new, "
            f"{len(findings) - new} unchanged; {len(view.fixed)} fixed"
        )
    return f"{len(findings)} finding(s) in {len(view.report.crates)} crate(s)"


def render(view: View, console: Console) -> None:
    report = view.report
    if view.diff_mode:
        console.print(
            f"[bold]ruvopt {__version__}[/] {escape(str(report.base_ref))} ({(view.base_commit or '')[:12]}) → "
            f"{escape(str(report.head_ref))} ({(view.head_commit or '')[:12]})"
        )
    else:
        console.print(f"[bold]ruvopt {__version__}[/]")
    for crate in report.crates:
        console.print()
        console.print(crate_table(view, crate))
    print_findings(console, report.findings, view.diff_mode)
    if view.fixed:
        console.print("\n[bold green]fixed[/]")
        for f in view.fixed:
            console.print(f"  {escape(f.path)}:{f.start_line}  {f.code} {escape(f.message)}", soft_wrap=True)
    for notice in report.notices:
        where = f"{escape(notice.path)}: " if notice.path else ""
        console.print(f"[yellow]notice:[/] {where}{escape(notice.message)}")
    console.print(f"\n{summary_line(view)}")
    if view.verdict is not None:
        if view.verdict.failed:
            console.print(f"[bold red]failed[/] (fail-on {view.verdict.fail_on}):")
            for reason in view.verdict.reasons:
                console.print(f"  - {escape(reason)}", soft_wrap=True)
        else:
            console.print(f"[bold green]passed[/] (fail-on {view.verdict.fail_on})")


def render_str(view: View, *, width: int = 100, color: bool = False) -> str:
    """The text report as a string (for ``--output`` files and tests)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False)
    render(view, console)
    return buffer.getvalue()
