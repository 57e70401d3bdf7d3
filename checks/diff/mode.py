"""Diff mode: the rules over a base and a head commit, findings compared and filtered.

Both commits are read straight from the git object store (``GitTree``: no checkout, no
work tree touched), analysed with the same configuration, and compared by fingerprint:
a head finding is *new* when no base finding has its fingerprint (fingerprints carry no
line numbers, so a finding that only moved is not new). Findings are then filtered to
the diff (``ruvopt.checks.diff.filter``), the way reviewdog does.

Only the blobs the rules read are looked at (``GitTree`` is lean: see
:mod:`ruvopt.checks.source`), and the diff covers only the files findings sit in, so a
blobless clone or a mirror without large files costs the Rust, TOML and doc blobs of the
analysed crates and nothing else. ``fetch_blobs`` is how a caller lets a partial clone
fetch what is missing (the CLI does; checks/ itself never touches the network).

"Base" for the comparison and the diff is the merge base of ``base`` and ``head`` — what
GitHub diffs a pull request against — so a PR is judged only on what it changes, not on
commits that landed on the base branch after it forked. When ``base`` is an ancestor of
``head`` (the usual case) the two are the same commit. A shallow clone may hold no merge
base (history cut off): that is an error, never a silent fallback to ``base``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from ruvopt.checks.config import CONFIG_FILE, Config
from ruvopt.checks.diff.filter import FILTER_MODES, Diff, filter_findings, git_diff
from ruvopt.checks.diff.renames import fixed_findings, mark_new, renamed_paths
from ruvopt.checks.engine import Progress, check
from ruvopt.checks.model import CrateReport, Finding, Notice, Report
from ruvopt.checks.registry import load_config
from ruvopt.checks.rules.ro601_undocumented_feature import DOC_FILES
from ruvopt.checks.source import BlobFetcher, GitError, GitTree, is_shallow_clone, run_git

# Files the rules read one at a time (config, manifests, feature docs): the first such
# read fetches them all in one batch. `.rs` files come in one batch per tree already
# (the engine's read_many). No rule reads Cargo.lock today, so it is not fetched.
ONE_BY_ONE_NAMES = frozenset({"Cargo.toml", CONFIG_FILE})
# Findings sit only in these files, so the diff (which places them) needs no other blob.
DIFF_PATHSPECS = (":(glob)**/*.rs", ":(glob)**/Cargo.toml", f":(literal){CONFIG_FILE}")


def read_one_by_one(path: str) -> bool:
    name = posixpath.basename(path)
    return name in ONE_BY_ONE_NAMES or name.lower() in DOC_FILES


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
    """The merge base of two commits, or ``base`` when the histories are unrelated.

    Raises ``GitError`` in a shallow clone that holds no merge base: there the histories
    are cut off, not unrelated, and diffing against ``base`` would blame the pull request
    for every commit the base branch gained since it forked.
    """
    try:
        found = run_git(repo, "merge-base", base, head).decode().strip()
    except GitError:  # exit 1: none found
        found = ""
    if found:
        return found
    if is_shallow_clone(repo):
        raise GitError(
            f"base {base[:12]} and head {head[:12]} have no common ancestor in this shallow clone; "
            "fetch their history (`fetch-depth: 0` in actions/checkout) or let ruvopt deepen it (without --no-fetch)"
        )
    return base


def diff_pathspecs(subdir: str = "") -> tuple[str, ...]:
    """What the diff needs: Rust sources and manifests anywhere (``git diff --relative``
    keeps those of ``subdir``), and the one configuration file of the checked folder."""
    return (*DIFF_PATHSPECS[:-1], f":(literal){subdir}{CONFIG_FILE}")


def require_diff_blobs(repo: Path, fork: GitTree, head: GitTree) -> None:
    """Make the blobs ``git diff`` will read present (fetched in one batch each side when
    allowed), so a missing one is a clear :class:`MissingBlobError`, not git's message."""
    out = run_git(
        repo,
        "diff",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--no-ext-diff",
        "--no-textconv",
        f"--relative={head.subdir}" if head.subdir else "--no-relative",
        fork.commit,
        head.commit,
        "--",
        *diff_pathspecs(head.subdir),
    )
    fields = out.split(b"\0")
    old_side: list[str] = []
    new_side: list[str] = []
    for meta, raw_path in zip(fields[0::2], fields[1::2], strict=False):
        status, path = meta.split()[-1][:1], raw_path.decode("utf-8", errors="surrogateescape")
        if status != b"A":
            old_side.append(path)
        if status != b"D":
            new_side.append(path)
    fork.require(old_side)
    head.require(new_side)


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
    repo: Path,
    base: str,
    head: str = "HEAD",
    *,
    config: Config | None = None,
    filter_mode: str = "added",
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    fetch_blobs: BlobFetcher | None = None,
    subdir: str = "",
) -> DiffReport:
    """Analyse ``base`` and ``head`` of ``repo`` and report what the change did; with
    ``subdir`` ("crates/ws/"), of that folder only: its configuration, its crates, paths
    relative to it (what ``ruvopt check crates/ws --base …`` asks for).

    Raises ``GitError`` (bad ref, not a repository, a blob the rules read missing, no merge
    base in a shallow clone), ``ConfigError`` (bad base config) and ``ValueError`` (unknown
    filter mode).
    """
    if filter_mode not in FILTER_MODES:
        raise ValueError(f"unknown filter mode {filter_mode!r}; use one of {', '.join(FILTER_MODES)}")

    def commit_tree(rev: str) -> GitTree:
        return GitTree(repo, rev, fetch_blobs=fetch_blobs, wanted=read_one_by_one, subdir=subdir)

    base_tree, head_tree = commit_tree(base), commit_tree(head)
    fork_tree: GitTree | None = None
    try:
        # The gate comes from the BASE commit, never the head: a pull request must not be
        # able to loosen its own gate (ignore a rule, raise a limit), and nothing from a
        # fork decides what runs.
        config = config or load_config(base_tree)
        fork = merge_base(repo, base_tree.commit, head_tree.commit)
        fork_tree = base_tree if fork == base_tree.commit else commit_tree(fork)
        counted: list[int] = [0]

        def base_progress(done: int, total: int) -> None:
            counted[0] = total
            if progress:
                progress(done, total)

        base_report = check(fork_tree, config, cache_dir=cache_dir, jobs=jobs, progress=base_progress)
        head_report = check(head_tree, config, cache_dir=cache_dir, jobs=jobs, progress=_offset(progress, counted[0]))
        require_diff_blobs(repo, fork_tree, head_tree)
        diff = git_diff(
            repo, fork, head_tree.commit, pathspecs=diff_pathspecs(head_tree.subdir), subdir=head_tree.subdir
        )
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
            report=report,
            diff=diff,
            findings=findings,
            fixed=fixed,
            base_report=base_report,
            config=config,
            base_commit=base_tree.commit,
            head_commit=head_tree.commit,
            merge_base=fork,
            filter_mode=filter_mode,
            removed_crates=removed,
        )
    finally:
        for tree in {id(t): t for t in (base_tree, head_tree, fork_tree) if t is not None}.values():
            tree.close()
