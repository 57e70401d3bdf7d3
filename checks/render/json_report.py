"""The JSON report. Its shape is a contract (tests/schemas/ruvopt-report.schema.json):

``{"tool": {"name", "version"}, "crates": [{"name", "path", "root", "metrics"}],
"findings": [{"code", "rule", "severity", "path", "line", "column", "end_line",
"end_column", "message", "fingerprint", "new"}]}`` — paths relative to the analysed root
with ``/``, lines and columns 1-based; in diff mode each crate also has ``base_metrics``
(null for a crate the head adds). Without a base there is nothing to compare with, so
every finding has ``"new": true``. Fields may be added, never renamed.
"""

from __future__ import annotations

import json
from typing import Any

from ruvopt.checks import __version__
from ruvopt.checks.model import CrateReport, Finding
from ruvopt.checks.render.view import View


def finding_dict(finding: Finding) -> dict[str, Any]:
    edit = finding.suggestion
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity.label,
        "path": finding.path,
        "line": finding.start_line,
        "column": finding.start_col,
        "end_line": finding.end_line,
        "end_column": finding.end_col,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
        "new": finding.new,
        "fix_title": finding.fix_title,
        "suggestion": None
        if edit is None
        else {
            "path": edit.path,
            "start_line": edit.start_line,
            "end_line": edit.end_line,
            "replacement": edit.replacement,
        },
    }


def crate_dict(crate: CrateReport, diff_mode: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": crate.name,
        "path": crate.path,
        "root": crate.root,
        "metrics": crate.metrics.to_dict(),
    }
    if diff_mode:
        data["base_metrics"] = None if crate.base_metrics is None else crate.base_metrics.to_dict()
    return data


def to_dict(view: View) -> dict[str, Any]:
    report = view.report
    data: dict[str, Any] = {
        "tool": {"name": "ruvopt", "version": __version__},
        "crates": [crate_dict(c, view.diff_mode) for c in report.crates],
        "findings": [finding_dict(f) for f in report.findings],
        "notices": [{"path": n.path, "message": n.message} for n in report.notices],
    }
    if view.diff_mode:
        data["base"] = {"ref": report.base_ref, "commit": view.base_commit}
        data["head"] = {"ref": report.head_ref, "commit": view.head_commit}
        data["filter_mode"] = view.filter_mode
        data["fixed"] = [finding_dict(f) for f in view.fixed]
    if view.verdict is not None:
        data["verdict"] = {
            "fail_on": view.verdict.fail_on,
            "failed": view.verdict.failed,
            "reasons": list(view.verdict.reasons),
        }
    return data


def render(view: View) -> str:
    return json.dumps(to_dict(view), indent=2, ensure_ascii=False) + "\n"
