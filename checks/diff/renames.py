"""Following renamed files when head findings are compared with base findings.

A fingerprint hashes the finding's path with its anchor (``engine.finalise_fingerprints``)
so that the same text in two files gives two findings. A file that is only moved would
then count every finding in it as new at head and fixed at base. ``git diff -M`` (the
diff mode's diff) pairs each renamed file with its old path; a head finding in a renamed
file also answers to the fingerprint it would have at the old path (same code, anchor and
occurrence index), and is new only when the base has neither. A rename that also edits
the file keeps the findings whose anchor text is unchanged.
"""

from __future__ import annotations

from ruvopt.checks.diff.filter import Diff
from ruvopt.checks.engine import fingerprint
from ruvopt.checks.model import Finding


def renamed_paths(diff: Diff) -> dict[str, str]:
    """New path -> old path of every file the diff renames."""
    return {fd.path: fd.old_path for fd in diff.files.values() if fd.status == "renamed" and fd.old_path}


def old_fingerprint(finding: Finding, renames: dict[str, str]) -> str | None:
    """The fingerprint ``finding`` would have at its file's old path, or None."""
    old = renames.get(finding.path)
    if old is None or not finding.anchor:
        return None
    anchor, _, index = finding.anchor.rpartition("\0")
    return fingerprint(finding.code, old, anchor, int(index))


def mark_new(head: list[Finding], base: list[Finding], renames: dict[str, str] | None = None) -> list[Finding]:
    seen = {f.fingerprint for f in base}
    renames = renames or {}
    return [f.with_new(f.fingerprint not in seen and old_fingerprint(f, renames) not in seen) for f in head]


def fixed_findings(head: list[Finding], base: list[Finding], renames: dict[str, str] | None = None) -> list[Finding]:
    present = {f.fingerprint for f in head}
    present.update(filter(None, (old_fingerprint(f, renames or {}) for f in head)))
    return [f for f in base if f.fingerprint not in present]
