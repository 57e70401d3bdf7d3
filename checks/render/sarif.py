"""SARIF 2.1.0 for code scanning (validated against the OASIS schema in tests).

Rules carry their full documentation (the docs page generated from the docstring) and a
help URI; each result carries the ruvopt fingerprint in ``partialFingerprints`` so code
scanning tracks a finding across commits the way ruvopt does, and in diff mode a
``baselineState`` (``new`` / ``unchanged``).
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from ruvopt.checks import __version__
from ruvopt.checks.base import Rule
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.registry import all_rules
from ruvopt.checks.render.docs import help_uri, rule_markdown
from ruvopt.checks.render.view import View

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/ruvopt/ruvopt"
FINGERPRINT_KEY = "ruvopt/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def short_description(rule: type[Rule]) -> str:
    """The first sentence of the rule's ``## What it does`` section."""
    body = inspect.cleandoc(rule.__doc__ or "")
    match = re.search(r"## What it does\s*\n(.*?)(?:\n\s*\n|\n## |\Z)", body, re.S)
    text = " ".join((match.group(1) if match else rule.name).split())
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return sentence


def rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    markdown = rule_markdown(rule)
    text = inspect.cleandoc(rule.__doc__ or "")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": short_description(rule)},
        "fullDescription": {"text": text, "markdown": markdown},
        "help": {"text": text, "markdown": markdown},
        "helpUri": help_uri(rule.code),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["performance", "rust"], "checklist_item": rule.checklist_item},
    }


def _region(finding: Finding) -> dict[str, int]:
    start_line = max(1, finding.start_line)
    end_line = max(start_line, finding.end_line)
    start_col = max(1, finding.start_col)
    end_col = max(1, finding.end_col)
    if end_line == start_line:
        end_col = max(end_col, start_col)
    return {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": end_col}


def result(finding: Finding, index: dict[str, int], diff_mode: bool, path: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                    "region": _region(finding),
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if finding.code in index:
        data["ruleIndex"] = index[finding.code]
    if diff_mode and finding.new is not None:
        data["baselineState"] = "new" if finding.new else "unchanged"
    if finding.fix_title:
        data["properties"] = {"fix_title": finding.fix_title}
    return data


def to_dict(view: View) -> dict[str, Any]:
    rules = [r for r in all_rules() if view.config.enabled(r.code)]
    index = {r.code: i for i, r in enumerate(rules)}
    notices = [
        {"level": "warning", "message": {"text": f"{view.repo_path(n.path)}: {n.message}" if n.path else n.message}}
        for n in view.report.notices
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "ruvopt",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(r) for r in rules],
            }
        },
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notices}],
        "results": [result(f, index, view.diff_mode, view.repo_path(f.path)) for f in view.findings],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(view: View) -> str:
    return json.dumps(to_dict(view), indent=2, ensure_ascii=False) + "\n"
