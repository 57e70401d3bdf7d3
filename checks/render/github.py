"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding,
which the runner turns into annotations on the pull request.

Escaping follows the runner (``actions/toolkit`` ``command.ts``): in the message ``%``,
``\\r`` and ``\\n`` are percent-encoded; in property values ``:`` and ``,`` are as well,
since they separate properties.
"""

from __future__ import annotations

from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.render.view import View

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str | int], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}" if props else f"::{name}::{escape_data(message)}"


def finding_command(finding: Finding, diff_mode: bool, path: str) -> str:
    properties: dict[str, str | int] = {
        "file": path,
        "line": finding.start_line,
        "endLine": max(finding.start_line, finding.end_line),
    }
    # Columns only mean something on a one-line range (GitHub drops them otherwise).
    if finding.end_line <= finding.start_line:
        properties["col"] = finding.start_col
        properties["endColumn"] = max(finding.start_col, finding.end_col)
    label = " (new)" if diff_mode and finding.new else ""
    properties["title"] = f"{finding.code} {finding.rule}{label}"
    message = finding.message
    if finding.fix_title:
        message += f"\nFix: {finding.fix_title}"
    return command(COMMANDS[finding.severity], properties, message)


def render(view: View) -> str:
    lines = [finding_command(f, view.diff_mode, view.repo_path(f.path)) for f in view.findings]
    for notice in view.report.notices:
        lines.append(command("notice", {"file": view.repo_path(notice.path)} if notice.path else {}, notice.message))
    if view.verdict is not None and view.verdict.failed:
        lines.append(command("error", {"title": "ruvopt"}, "; ".join(view.verdict.reasons)))
    return "\n".join(lines) + ("\n" if lines else "")
