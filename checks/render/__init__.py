"""Renderers: the report as text, JSON, SARIF, GitHub workflow commands or markdown."""

from __future__ import annotations

from ruvopt.checks.model import Finding


def finding_line(finding: Finding) -> str:
    """One finding as ``path:line:col: CODE message`` — the compiler-style short form."""
    return f"{finding.path}:{finding.start_line}:{finding.start_col}: {finding.code} {finding.message}"
