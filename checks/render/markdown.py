"""The sticky summary comment: checklist status per crate, Before → After metrics, finding
counts by rule and the findings themselves, within GitHub's comment size.

The hidden marker lets the App find its own comment and edit it in place. Sections are
added in order of importance; whatever does not fit in ``MAX_CHARS`` is summarised
("N more …", counted by rule), never silently dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ruvopt.checks.gate import CHECKLIST_TITLES, MetricRow, checklist, metric_rows
from ruvopt.checks.model import CrateReport, Finding
from ruvopt.checks.registry import all_rules
from ruvopt.checks.render.view import View

MARKER = "<!-- ruvopt:summary -->"
MAX_CHARS = 65_535  # GitHub's limit on an issue comment body
RESERVE = 600  # room kept for the overflow lines and the footer
ICONS = {True: "✅", False: "⚠️", None: "—"}
SEVERITY_ICONS = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}


def cell(text: object) -> str:
    """Table-cell safe text: pipes escaped, newlines flattened."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def fmt_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "[]"
    return str(value)


def change(row: MetricRow, crate: CrateReport) -> str:
    after = fmt_value(row.value)
    if crate.base_metrics is None:
        return f"(new crate) → {after}"
    before = fmt_value(row.before)
    return after if before == after else f"{before} → {after}"


class Budget:
    """Collects lines while they fit in ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lines: list[str] = []
        self.size = 0

    def fits(self, lines: Iterable[str]) -> bool:
        return self.size + sum(len(line) + 1 for line in lines) <= self.limit

    def add(self, *lines: str) -> bool:
        if not self.fits(lines):
            return False
        self.lines.extend(lines)
        self.size += sum(len(line) + 1 for line in lines)
        return True

    def force(self, *lines: str) -> None:
        self.lines.extend(lines)
        self.size += sum(len(line) + 1 for line in lines)


def header(view: View) -> list[str]:
    lines = [MARKER, "## ruvopt"]
    if view.verdict is not None:
        state = "⚠️ **failing**" if view.verdict.failed else "✅ **passing**"
        lines.append(f"{state} (fail-on `{view.verdict.fail_on}`)")
        lines += [f"- {reason}" for reason in view.verdict.reasons]
    findings = view.findings
    if view.diff_mode:
        new = sum(1 for f in findings if f.new)
        base = (view.base_commit or "")[:12]
        head = (view.head_commit or "")[:12]
        lines.append(
            f"\n`{view.report.base_ref}` ({base}) → `{view.report.head_ref}` ({head}), filter `{view.filter_mode}`: "
            f"**{new} new**, {len(findings) - new} unchanged, {len(view.fixed)} fixed."
        )
    else:
        lines.append(f"\n{len(findings)} finding(s) in {len(view.report.crates)} crate(s).")
    return lines


def checklist_table(view: View) -> list[str]:
    items, rows = checklist(view.report.crates, view.all_findings, view.config)
    if not items or not rows:
        return []
    head = "| crate | " + " | ".join(f"{i} {CHECKLIST_TITLES.get(i, '')}".strip() for i in items) + " |"
    lines = ["", "### Checklist", "", head, "|---" * (len(items) + 1) + "|"]
    for row in rows:
        lines.append(f"| `{cell(row.name)}` | " + " | ".join(ICONS[row.status[i]] for i in items) + " |")
    return lines


def metrics_table(view: View, crate: CrateReport) -> list[str]:
    title = "before → after" if view.diff_mode else "value"
    lines = [
        "",
        f"<details><summary><code>{cell(crate.name)}</code> ({cell(crate.path)})</summary>",
        "",
        f"| metric | {title} | limit | status |",
        "|---|---|---|---|",
    ]
    for row in metric_rows(crate, view.config):
        value = change(row, crate) if view.diff_mode else fmt_value(row.value)
        status = ICONS[row.ok] if row.ok is not None else ""
        lines.append(f"| `{row.name}` | {cell(value)} | {cell(row.limit)} | {status} |")
    lines += ["", "</details>"]
    return lines


def counts_table(view: View) -> list[str]:
    reported = Counter(f.code for f in view.findings)
    new = Counter(f.code for f in view.findings if f.new)
    fixed = Counter(f.code for f in view.fixed)
    codes = sorted(set(reported) | set(fixed))
    if not codes:
        return []
    names = {r.code: r.name for r in all_rules()}
    if view.diff_mode:
        lines = ["", "### Findings by rule", "", "| rule | new | reported | fixed |", "|---|---|---|---|"]
        lines += [f"| `{c}` {names.get(c, '')} | {new[c]} | {reported[c]} | {fixed[c]} |" for c in codes]
    else:
        lines = ["", "### Findings by rule", "", "| rule | findings |", "|---|---|"]
        lines += [f"| `{c}` {names.get(c, '')} | {reported[c]} |" for c in codes]
    return lines


def finding_item(finding: Finding, diff_mode: bool, icon: str | None = None) -> str:
    icon = SEVERITY_ICONS.get(finding.severity.label, "") if icon is None else icon
    tag = " **new**" if diff_mode and finding.new else ""
    text = f"- {icon}{tag} `{finding.code}` `{finding.path}:{finding.start_line}`: {finding.message}"
    return text.replace("\n", " ")


def overflow(rest: list[Finding], what: str) -> str:
    by_rule = Counter(f.code for f in rest)
    parts = ", ".join(f"`{code}` ×{n}" for code, n in sorted(by_rule.items()))
    return f"- … {len(rest)} more {what} ({parts})"


def add_findings(budget: Budget, title: str, findings: list[Finding], diff_mode: bool, icon: str | None = None) -> None:
    if not findings:
        return
    if not budget.add("", f"### {title}", ""):
        budget.force(overflow(findings, title.lower()))
        return
    for i, finding in enumerate(findings):
        if not budget.add(finding_item(finding, diff_mode, icon)):
            budget.force(overflow(findings[i:], title.lower()))
            return


def render(view: View, max_chars: int = MAX_CHARS) -> str:
    budget = Budget(max_chars - RESERVE)
    budget.force(*header(view))
    table = checklist_table(view)
    if table and not budget.add(*table):
        budget.force("", f"_Checklist table omitted: {len(view.report.crates)} crates do not fit._")
    if view.report.crates:
        budget.add("", "### Metrics")
    for i, crate in enumerate(view.report.crates):
        if not budget.add(*metrics_table(view, crate)):
            budget.force("", f"_Metrics of {len(view.report.crates) - i} more crate(s) omitted._")
            break
    counts = counts_table(view)
    if counts and not budget.add(*counts):
        budget.force("", "_Counts by rule omitted._")
    ordered = sorted(view.findings, key=lambda f: (not f.new, f.sort_key()))
    add_findings(budget, "Findings", ordered, view.diff_mode)
    add_findings(budget, "Fixed", view.fixed, False, icon="✅")
    notices = [f"- `{n.path}`: {n.message}" if n.path else f"- {n.message}" for n in view.report.notices]
    if notices and not budget.add("", "### Notices", "", *notices):
        budget.force("", f"_{len(notices)} notice(s) omitted._")
    text = "\n".join(budget.lines) + "\n"
    return text[:max_chars]
