"""Runs the rules over a source tree: per-file work in parallel and cached, then crates,
then the workspace — each level cached by what it read (``ruvopt.checks.incremental``).

``check(tree)`` is the one entry point the CLI, the App and the Action share.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruvopt.checks import incremental
from ruvopt.checks import metrics as metrics_mod
from ruvopt.checks.base import CrateRule, FileRule, Rule, WorkspaceRule
from ruvopt.checks.cache import ResultCache
from ruvopt.checks.config import Config
from ruvopt.checks.context import CrateContext, FileContext, WorkspaceContext
from ruvopt.checks.filepass import (
    PARALLEL_THRESHOLD,
    FileResult,
    Progress,
    active_rules,
    analyse_files,
    suppressed,
    suppressed_by,
    suppressions,
)
from ruvopt.checks.hot import benches
from ruvopt.checks.manifest.workspace import Crate, Workspace, glob_match
from ruvopt.checks.model import CrateReport, Finding, Metrics, Notice, Report
from ruvopt.checks.registry import load_config, option_value, ruleset_version, wanted_kinds_for
from ruvopt.checks.source import SourceTree

__all__ = ["PARALLEL_THRESHOLD", "Progress", "check", "finalise_fingerprints", "selected_crates"]


def selected_crates(workspace: Workspace, config: Config) -> list[Crate]:
    if not config.crates:
        return workspace.crates
    return [c for c in workspace.crates if any(glob_match(c.dir, pat) for pat in config.crates)]


def fingerprint(code: str, path: str, anchor: str, index: int) -> str:
    raw = "\0".join((code, path, anchor, str(index)))
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:20]


def finalise_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Turn each rule's anchor into a stable fingerprint: no line numbers, so moves keep it.

    The anchor itself stays on the finding (``Finding.anchor``) with its occurrence index,
    so diff mode can tell what the fingerprint would be at a file's old path.
    """
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    final = []
    for finding in sorted(findings, key=lambda f: (f.path, f.start_line, f.start_col, f.code)):
        key = (finding.code, finding.path, finding.fingerprint)
        index = seen[key]
        seen[key] += 1
        final.append(
            finding.with_fingerprint(
                fingerprint(finding.code, finding.path, finding.fingerprint, index), f"{finding.fingerprint}\0{index}"
            )
        )
    return sorted(final, key=Finding.sort_key)


def check(
    tree: SourceTree,
    config: Config | None = None,
    *,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Analyse ``tree`` with ``config`` (default: the tree's own config).

    A git commit is immutable, so its whole report is cached too: a warm re-review of a PR
    whose base did not move reads the base's report in one row instead of re-running the
    crate-level rules over it.
    """
    config = config or load_config(tree)
    key = _report_key(tree, config)
    cache = ResultCache(cache_dir)
    try:
        hit = cache.get_many([key]).get(key) if key is not None else None
        if hit is not None:
            return Report.from_cache(hit)
        report = _check_uncached(tree, config, cache=cache, jobs=jobs, progress=progress)
        if key is not None and cache.enabled:
            cache.put_many({key: report.to_cache()})
        return report
    finally:
        cache.close()


def _report_key(tree: SourceTree, config: Config) -> str | None:
    commit = getattr(tree, "commit", None)  # only git trees are immutable
    if commit is None:
        return None
    raw = f"report\0{ruleset_version()}\0{config.digest()}\0{','.join(config.crates)}\0{commit}"
    return "report:" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


@dataclass(slots=True)
class _Outcome:
    """Everything one crate contributes to the report (its files' findings and notices, its
    crate rules' findings, its metrics), or the workspace rules' findings; as cached."""

    findings: list[Finding]  # with final fingerprints
    metrics: dict[str, Any]
    deps: dict[str, Any]
    notices: list[Notice] = field(default_factory=list)
    index: dict[str, Any] = field(default_factory=lambda: {"fns": {}, "bench": {}})  # benches.index_of

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_row() for f in self.findings],
            "metrics": self.metrics,
            "deps": self.deps,
            "notices": [[n.path, n.message] for n in self.notices],
            "index": self.index,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Outcome:
        notices = [Notice(path, message) for path, message in data["notices"]]
        findings = [Finding.from_row(f) for f in data["findings"]]
        return cls(findings, data["metrics"], data["deps"], notices, data["index"])


def _check_uncached(
    tree: SourceTree, config: Config, *, cache: ResultCache, jobs: int | None, progress: Progress | None
) -> Report:
    blobs = incremental.BlobIds(tree)
    workspace = incremental.cached_workspace(tree, cache, blobs)
    crates = selected_crates(workspace, config)
    # Without a cache nothing needs a key (nor the blob ids they are made of).
    keyed = {(incremental.crate_key(c, workspace, config, blobs) if cache.enabled else c.dir): c for c in crates}
    outcomes = _cached(keyed, cache, tree, blobs)
    # Only the files of crates whose outcome is not cached are looked at one by one.
    missing = {k: c for k, c in keyed.items() if k not in outcomes}
    paths = [p for c in missing.values() for p in c.rs_files]
    results = analyse_files(tree, paths, config, cache=cache, blobs=blobs, jobs=jobs, progress=progress)
    rules = active_rules(config)
    record = blobs if cache.enabled else None
    fresh = {k: _run_crate(c, workspace, config, rules, results, record) for k, c in missing.items()}
    ws_key = incremental.workspace_key(workspace, crates, config, blobs) if cache.enabled else "workspace"
    ws_cached = _cached({ws_key: None}, cache, tree, blobs)
    if ws_key not in ws_cached:
        fresh[ws_key] = _run_workspace(workspace, config, rules, crates, record)
    if fresh and cache.enabled:
        cache.put_many({k: o.to_dict() for k, o in fresh.items()})
    outcomes.update(ws_cached)
    outcomes.update(fresh)
    crate_outcomes = [outcomes[k] for k in keyed]
    findings = [f for o in (*crate_outcomes, outcomes[ws_key]) for f in o.findings]
    targets = benches.hot_targets(crates, {c.dir: o.index for c, o in zip(crates, crate_outcomes, strict=True)})
    findings += _bench_pass(tree, config, rules, targets, cache, blobs)
    reports = [
        CrateReport(c.name, c.display_dir, c.root, Metrics(dict(o.metrics)))
        for c, o in zip(crates, crate_outcomes, strict=True)
    ]
    notices = [n for o in crate_outcomes for n in o.notices]
    return Report(reports, _merged(findings), notices)


def _merged(findings: list[Finding]) -> list[Finding]:
    """The outcomes' findings in report order. Each outcome numbered its own occurrences;
    that equals numbering them all together unless two outcomes share a (code, path,
    anchor) — then they are numbered again together, from the anchors they keep."""
    if len({f.fingerprint for f in findings}) != len(findings):
        raw = [f.with_fingerprint(f.anchor.rpartition("\0")[0], "") for f in findings]
        return finalise_fingerprints(raw)
    return sorted(findings, key=Finding.sort_key)


def _cached(
    keyed: dict[str, Any], cache: ResultCache, tree: SourceTree, blobs: incremental.BlobIds
) -> dict[str, _Outcome]:
    """The cached outcomes of these keys whose recorded reads still hold."""
    rows = cache.get_many(keyed)
    return {
        key: _Outcome.from_dict(row) for key, row in rows.items() if incremental.deps_hold(row["deps"], tree, blobs)
    }


def _recording(workspace: Workspace, blobs: incremental.BlobIds | None) -> tuple[Workspace, dict[str, Any]]:
    """A view of ``workspace`` whose tree records every read (when results are cached), and
    the deps it fills in."""
    if blobs is None:
        return workspace, {}
    recorder = incremental.RecordingTree(workspace.tree, blobs)
    return replace(workspace, tree=recorder), recorder.deps()


def _run_crate(
    crate: Crate,
    workspace: Workspace,
    config: Config,
    rules: list[Rule],
    results: dict[str, FileResult],
    blobs: incremental.BlobIds | None,
) -> _Outcome:
    view, deps = _recording(workspace, blobs)
    ctx = CrateContext(crate, view, config, wanted_kinds=wanted_kinds_for(config))
    findings: list[Finding] = [f for p in crate.rs_files for f in results[p].findings]
    for rule in rules:
        if isinstance(rule, CrateRule):
            ctx.facts[rule.code] = {
                p: results[p].facts[rule.code] for p in crate.rs_files if rule.code in results[p].facts
            }
            findings.extend(_unsuppressed(rule.run(ctx), view, results))
    per_file = {p: results[p].metrics for p in crate.rs_files}
    lines = {p: results[p].lines for p in crate.rs_files}
    metrics = metrics_mod.crate_metrics(
        ctx,
        per_file,
        lines,
        int(option_value(config, "RO101", "max-lines")),
        [str(p) for p in option_value(config, "RO301", "heavy")],
    )
    notices = [Notice(p, results[p].skipped or "") for p in crate.rs_files if results[p].skipped]
    index = benches.index_of({p: (results[p].fns, results[p].bench) for p in crate.rs_files})
    return _Outcome(finalise_fingerprints(findings), metrics.to_dict(), deps, notices, index)


def _bench_pass(
    tree: SourceTree,
    config: Config,
    rules: list[Rule],
    targets: dict[str, list[benches.Target]],
    cache: ResultCache,
    blobs: incremental.BlobIds,
) -> list[Finding]:
    """The hot-path rules again over the files whose functions benches call, with those
    functions hot; cached by the file's blob and the calls into it."""
    aware = [r for r in rules if isinstance(r, FileRule) and r.infers_hot_from_benches()]
    targets = {p: t for p, t in targets.items() if tree.exists(p)}
    if not aware or not targets:
        return []
    keys = (
        {
            p: "bench:" + incremental.digest(ruleset_version(), config.digest(), p, blobs[p], repr(t))
            for p, t in targets.items()
        }
        if cache.enabled
        else {}
    )
    rows = cache.get_many(keys.values())
    findings: list[Finding] = []
    fresh = {}
    for path, data in tree.read_many([p for p in targets if keys.get(p) not in rows]):
        ctx = FileContext(path, data, config, wanted_kinds_for(config), tuple(targets[path]))
        allows = suppressions(data)
        found = [f for rule in aware for f in rule.run(ctx) if not suppressed_by(f, allows)]
        findings += found
        if path in keys:
            fresh[keys[path]] = {"findings": [f.to_row() for f in found]}
    findings += [Finding.from_row(f) for p, k in keys.items() if k in rows for f in rows[k]["findings"]]
    if fresh:
        cache.put_many(fresh)
    return finalise_fingerprints(findings)


def _run_workspace(
    workspace: Workspace, config: Config, rules: list[Rule], crates: list[Crate], blobs: incremental.BlobIds | None
) -> _Outcome:
    view, deps = _recording(workspace, blobs)
    ctx = WorkspaceContext(view, config, crates)
    findings: list[Finding] = []
    for rule in rules:
        if isinstance(rule, WorkspaceRule):
            findings.extend(_unsuppressed(rule.run(ctx), view, {}))
    return _Outcome(finalise_fingerprints(findings), {}, deps)


def _unsuppressed(found: Iterable[Finding], workspace: Workspace, results: dict[str, FileResult]) -> Iterable[Finding]:
    """Findings no ``ruvopt: allow`` comment silences: a checked file's comments were noted
    with its result; any other file (a manifest) is read."""
    texts: dict[str, list[str]] = {}
    for finding in found:
        result = results.get(finding.path)
        if result is not None:
            if not suppressed_by(finding, result.allows):
                yield finding
            continue
        if finding.path not in texts:
            texts[finding.path] = (
                workspace.tree.read_text(finding.path).split("\n") if workspace.tree.exists(finding.path) else []
            )
        if not suppressed(finding, texts[finding.path]):
            yield finding
