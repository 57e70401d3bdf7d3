"""The diff between two commits and reviewdog's four filter modes.

``git diff`` output is parsed with unidiff into, per file (keyed by its new path): the
added lines, the context lines and the hunk ranges, all as new-side ("RIGHT") line
numbers — the only lines GitHub accepts a review comment on.

Filter modes, as reviewdog's ``-filter-mode`` (a finding spanning several lines is kept
when any line of its range qualifies, as reviewdog's ``FilterCheck`` does):

- ``added``: a line the diff added;
- ``diff_context``: a line inside a hunk (added or context);
- ``file``: anywhere in a file the diff touches;
- ``nofilter``: everything.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from ruvopt.checks.model import Finding
from ruvopt.checks.source import run_git

FILTER_MODES: tuple[str, ...] = ("added", "diff_context", "file", "nofilter")
MANIFEST_NAME = "Cargo.toml"

# Pinned so a user's git configuration cannot change what we parse: no colour, no external
# diff driver or textconv, GitHub's 3 context lines and rename detection, fixed a/ b/
# prefixes, raw UTF-8 paths, paths from the repository root.
GIT_DIFF_ARGS: tuple[str, ...] = (
    "-c",
    "core.quotePath=false",
    "diff",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--diff-algorithm=myers",
    "-M",
    "-U3",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str  # new-side path; a deleted file keeps its old path
    old_path: str | None  # None for an added file
    status: str  # added | deleted | modified | renamed
    added: frozenset[int] = frozenset()
    context: frozenset[int] = frozenset()
    hunks: tuple[tuple[int, int], ...] = ()  # new-side (first, last) line of each non-empty hunk
    # New-side lines next to a removal (the line after it, else the line before): where a
    # change that only deletes lines can still be pointed at.
    deletion_points: frozenset[int] = frozenset()
    binary: bool = False

    @property
    def commentable(self) -> frozenset[int]:
        """RIGHT-side lines inside a hunk: the lines a review comment may sit on."""
        return self.added | self.context

    def changed_points(self) -> list[int]:
        """Where this file changed on the new side: added lines, else lines next to removals."""
        return sorted(self.added or self.deletion_points)


@dataclass(frozen=True, slots=True)
class Diff:
    files: dict[str, FileDiff] = field(default_factory=dict)

    def file(self, path: str) -> FileDiff | None:
        return self.files.get(path)

    def is_commentable(self, path: str, line: int) -> bool:
        fd = self.files.get(path)
        return fd is not None and line in fd.commentable

    def keeps(self, finding: Finding, mode: str) -> bool:
        """Whether ``mode`` reports ``finding`` (see the module docstring)."""
        if mode == "nofilter":
            return True
        fd = self.files.get(finding.path)
        if fd is None or fd.status == "deleted":
            return False
        if mode == "file":
            return True
        wanted = fd.added if mode == "added" else fd.commentable
        return any(line in wanted for line in _span(finding))

    def comment_line(self, finding: Finding) -> int | None:
        """The line to hang an inline comment on: the first added line of the finding's
        range, else its first commentable line, else None (summary only)."""
        fd = self.files.get(finding.path)
        if fd is None:
            return None
        for wanted in (fd.added, fd.commentable):
            line = next((n for n in _span(finding) if n in wanted), None)
            if line is not None:
                return line
        return None


def _span(finding: Finding) -> range:
    return range(finding.start_line, max(finding.start_line, finding.end_line) + 1)


def _strip_prefix(name: str, prefix: str) -> str | None:
    if name == "/dev/null":
        return None
    return name[len(prefix) :] if name.startswith(prefix) else name


def _file_diff(patched: PatchedFile) -> FileDiff:
    old = _strip_prefix(patched.source_file, "a/")
    new = _strip_prefix(patched.target_file, "b/")
    if patched.is_added_file:
        status, old = "added", None
    elif patched.is_removed_file:
        status = "deleted"
    elif patched.is_rename:
        status = "renamed"
    else:
        status = "modified"
    added: set[int] = set()
    context: set[int] = set()
    deletion_points: set[int] = set()
    hunks: list[tuple[int, int]] = []
    for hunk in patched:
        if hunk.target_length:
            hunks.append((hunk.target_start, hunk.target_start + hunk.target_length - 1))
        previous: int | None = None
        pending_removal = False
        for line in hunk:
            number = line.target_line_no
            if line.is_removed or number is None:  # no new-side line ("\\ No newline" too)
                pending_removal = pending_removal or line.is_removed
                continue
            (added if line.is_added else context).add(number)
            if pending_removal:
                deletion_points.add(number)
                pending_removal = False
            previous = number
        if pending_removal and previous is not None:  # a removal at the end of a hunk
            deletion_points.add(previous)
    return FileDiff(
        path=new or old or "",
        old_path=old,
        status=status,
        added=frozenset(added),
        context=frozenset(context),
        hunks=tuple(hunks),
        deletion_points=frozenset(deletion_points),
        binary=bool(patched.is_binary_file),
    )


class DiffError(ValueError):
    """A diff that does not parse: a hunk shorter or longer than its header says (GitHub
    truncates the ``patch`` of a large file), or a malformed header."""


def parse_diff(text: str) -> Diff:
    """Parse unified ``git diff`` output (``a/``/``b/`` prefixes) into a :class:`Diff`;
    raises :class:`DiffError` when it does not parse."""
    try:
        patches = PatchSet(text)
    except UnidiffParseError as exc:
        raise DiffError(f"the diff does not parse: {exc}") from None
    files = {}
    for patched in patches:
        fd = _file_diff(patched)
        files[fd.path] = fd
    return Diff(files)


def git_diff(repo: Path, base: str, head: str, pathspecs: tuple[str, ...] = (), subdir: str = "") -> Diff:
    """The diff from commit ``base`` to commit ``head`` of ``repo``, limited to ``pathspecs``
    when given, and to the folder ``subdir`` ("crates/ws/") with paths relative to it when
    given (raises GitError)."""
    args = (
        GIT_DIFF_ARGS
        if not subdir
        else tuple(f"--relative={subdir}" if a == "--no-relative" else a for a in GIT_DIFF_ARGS)
    )
    out = run_git(repo, *args, base, head, "--", *pathspecs)
    # surrogateescape: a non-UTF-8 path keeps the same str as GitTree gives it.
    return parse_diff(out.decode("utf-8", errors="surrogateescape"))


def filter_findings(
    findings: Iterable[Finding], diff: Diff, mode: str, read_text: Callable[[str], str] | None = None
) -> list[Finding]:
    """The findings ``mode`` reports, with new manifest findings re-anchored (see below).

    ``read_text(path)`` gives a head file's text, so a re-anchored finding spans its new line.
    """
    if mode not in FILTER_MODES:
        raise ValueError(f"unknown filter mode {mode!r}; use one of {', '.join(FILTER_MODES)}")
    kept = []
    for finding in findings:
        if diff.keeps(finding, mode):
            kept.append(finding)
            continue
        moved = reanchor_manifest_finding(finding, diff, mode, read_text)
        if moved is not None:
            kept.append(moved)
    return kept


def reanchor_manifest_finding(
    finding: Finding, diff: Diff, mode: str, read_text: Callable[[str], str] | None = None
) -> Finding | None:
    """A new ``Cargo.toml`` finding whose own line the diff did not touch, moved onto the
    nearest line of that manifest the diff changed; None when it does not qualify.

    Manifest findings sit on the line of the key they are about, but the edit that
    created them is often elsewhere in the file: adding `tokio` to ``[dependencies]``
    makes ``default = ["full"]`` heavy, deleting ``[profile.release-fast]`` leaves the
    missing-profile finding on ``[workspace]``. Such a finding is new (its fingerprint is
    absent at base) and its manifest is in the diff, so in ``added`` / ``diff_context``
    mode it is kept by moving it to the changed line nearest to where it was found — an
    added line, or for a change that only removed lines, the line next to the removal
    (inside the hunk, so still commentable). Its message says the line it was found on,
    and its suggestion is dropped because a ``suggestion`` block edits the lines it is
    attached to, which are no longer the finding's lines. Findings that are not new,
    files other than manifests, and manifests the diff does not touch are left out.
    """
    if mode not in ("added", "diff_context") or finding.new is not True:
        return None
    if PurePosixPath(finding.path).name != MANIFEST_NAME:
        return None
    fd = diff.file(finding.path)
    if fd is None or fd.status == "deleted":
        return None
    points = fd.changed_points()
    if not points:
        return None
    line = _nearest(points, finding.start_line)
    width = 0
    if read_text is not None:
        lines = read_text(finding.path).split("\n")
        width = len(lines[line - 1]) if line <= len(lines) else 0
    return replace(
        finding,
        start_line=line,
        end_line=line,
        start_col=1,
        end_col=width + 1,
        suggestion=None,
        message=f"{finding.message} (found at line {finding.start_line}; shown on the nearest changed line)",
    )


def _nearest(points: list[int], target: int) -> int:
    """The member of sorted ``points`` closest to ``target`` (the earlier one on a tie)."""
    i = bisect.bisect_left(points, target)
    candidates = points[max(0, i - 1) : i + 1]
    return min(candidates, key=lambda p: (abs(p - target), p))
