"""Per-file work: the file rules, metrics and crate-rule facts of each ``.rs`` file, in a
process pool when there are enough files, cached by git blob id + ruleset + config."""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.context
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ruvopt.checks import metrics as metrics_mod
from ruvopt.checks.base import CrateRule, FileRule, Rule
from ruvopt.checks.cache import ResultCache
from ruvopt.checks.config import Config
from ruvopt.checks.context import FileContext
from ruvopt.checks.hot import benches
from ruvopt.checks.incremental import BlobIds
from ruvopt.checks.model import Finding
from ruvopt.checks.registry import all_rules, ruleset_version, wanted_kinds_for
from ruvopt.checks.source import SourceTree

Progress = Callable[[int, int], None]
PARALLEL_THRESHOLD = 48  # below this many uncached files, a process pool costs more than it saves
BATCH_BYTES = 2 * 1024 * 1024
SUPPRESSION = re.compile(r"ruvopt:\s*allow\(([^)]*)\)")
# The same, found in a whole text: never across a line break, as the per-line search.
LINE_SUPPRESSION = re.compile(r"ruvopt:[^\S\n]*allow\(([^)\n]*)\)")


@dataclass(slots=True)
class FileResult:
    path: str
    lines: int
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, int] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # rule code -> JSON-able facts
    skipped: str | None = None
    allows: dict[int, str] = field(default_factory=dict)  # the file's suppression comments, by line
    # For hot functions inferred from benches (``ruvopt.checks.hot.benches``): names the file
    # defines, and for a bench file the calls it measures.
    fns: list[str] = field(default_factory=list)
    bench: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "findings": [f.to_row() for f in self.findings],
            "metrics": self.metrics,
            "facts": self.facts,
            "skipped": self.skipped,
            "allows": [[line, codes] for line, codes in self.allows.items()],
            "fns": self.fns,
            "bench": self.bench,
        }

    @classmethod
    def from_dict(cls, path: str, data: dict[str, Any]) -> FileResult:
        return cls(
            path,
            data["lines"],
            [Finding.from_row(f) for f in data["findings"]],
            data["metrics"],
            data["facts"],
            data["skipped"],
            {line: codes for line, codes in data["allows"]},
            data["fns"],
            data["bench"],
        )


def active_rules(config: Config) -> list[Rule]:
    return [cls(config) for cls in all_rules() if config.enabled(cls.code)]


def suppressed(finding: Finding, lines: list[str]) -> bool:
    """``// ruvopt: allow(CODE) reason`` on the finding's line or the line above silences it."""
    for number in (finding.start_line, finding.start_line - 1):
        if 0 < number <= len(lines):
            match = SUPPRESSION.search(lines[number - 1])
            if match and _allows(match.group(1), finding.code):
                return True
    return False


def _allows(codes: str, code: str) -> bool:
    return any(code.startswith(c.strip()) for c in codes.split(",") if c.strip())


def suppressions(data: bytes) -> dict[int, str]:
    """Line number -> the codes of its ``ruvopt: allow(…)`` comment, for every such line."""
    if b"ruvopt:" not in data:  # most files have none: no decoding, no search
        return {}
    text = data.decode("utf-8", errors="replace")
    found: dict[int, str] = {}
    for match in LINE_SUPPRESSION.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.setdefault(line, match.group(1))
    return found


def suppressed_by(finding: Finding, allows: dict[int, str]) -> bool:
    """:func:`suppressed` from a file's :func:`suppressions` instead of its text."""
    return any(
        number in allows and _allows(allows[number], finding.code)
        for number in (finding.start_line, finding.start_line - 1)
    )


def analyse_file(path: str, data: bytes, config: Config) -> FileResult:
    """All per-file work for one ``.rs`` file: file rules, metrics and crate-rule facts."""
    ctx = FileContext(path, data, config, wanted_kinds_for(config))
    if len(data) > config.max_file_bytes:
        return FileResult(path, ctx.line_count, skipped=f"larger than {config.max_file_bytes} bytes; not checked")
    result = FileResult(path, ctx.line_count, metrics=metrics_mod.file_metrics(ctx), allows=suppressions(data))
    rules = active_rules(config)
    if any(isinstance(r, FileRule) and r.infers_hot_from_benches() for r in rules):
        result.fns = benches.defined_names(data)
        result.bench = benches.bench_calls(ctx) if benches.is_bench_file(path, data) else None
    for rule in rules:
        if isinstance(rule, FileRule):
            result.findings.extend(f for f in rule.run(ctx) if not suppressed_by(f, result.allows))
        elif isinstance(rule, CrateRule):
            facts = rule.file_facts(ctx)
            if facts is not None:
                result.facts[rule.code] = facts
    return result


def _analyse_batch(config: Config, items: list[tuple[str, bytes]]) -> list[FileResult]:
    return [analyse_file(path, data, config) for path, data in items]


def _batches(tree: SourceTree, paths: list[str]) -> Iterable[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    size = 0
    for path, data in tree.read_many(paths):
        batch.append((path, data))
        size += len(data)
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork is fastest, but forking a process that runs other threads (the App's worker runs
    checks in a thread beside its event loop) can copy a lock some thread holds; then a
    forkserver, whose children start from a clean single-threaded process, is safe."""
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")


def _analyse_in_pool(tree: SourceTree, todo: list[str], config: Config, workers: int) -> Iterator[list[FileResult]]:
    # concurrent.futures rather than multiprocessing.Pool: a worker that dies (OOM killer)
    # raises BrokenProcessPool here instead of being respawned while the check waits forever.
    pool = ProcessPoolExecutor(workers, mp_context=_pool_context())
    try:
        futures = [pool.submit(_analyse_batch, config, batch) for batch in _batches(tree, todo)]
        for future in futures:
            yield future.result()
    except BaseException:
        # An interrupted or failed check must not wait for the batches still running.
        kill_workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL the pool's worker processes. Python 3.14 has ``terminate_workers()``; before
    it, the only handle on the workers is the private ``_processes`` (pid → Process), which
    CPython 3.11–3.13 keep — tests/test_engine_pool.py checks that assumption."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list(pool._processes.values()):  # private before 3.14: see the docstring
        process.kill()


def _cache_key(path: str, blob: str, config: Config) -> str:
    raw = f"{ruleset_version()}\0{config.digest()}\0{path}\0{blob}"
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def analyse_files(
    tree: SourceTree,
    paths: list[str],
    config: Config,
    *,
    cache: ResultCache,
    blobs: BlobIds,
    jobs: int | None,
    progress: Progress | None = None,
) -> dict[str, FileResult]:
    """Every file's result: from ``cache`` by blob (``blobs``: path -> blob id), else analysed."""
    # Without a cache no key is needed, nor the blob ids (a directory tree hashes each file).
    keys = {p: _cache_key(p, blobs[p], config) for p in paths} if cache.enabled else {}
    cached = cache.get_many(keys.values())
    results = {p: FileResult.from_dict(p, cached[k]) for p, k in keys.items() if k in cached}
    todo = [p for p in paths if p not in results]
    done = len(results)
    if progress:
        progress(done, len(paths))
    workers = jobs or os.cpu_count() or 1
    fresh: list[FileResult] = []
    if workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
        for batch_results in _analyse_in_pool(tree, todo, config, workers):
            fresh.extend(batch_results)
            done += len(batch_results)
            if progress:
                progress(done, len(paths))
    else:
        for path, data in tree.read_many(todo):
            fresh.append(analyse_file(path, data, config))
            done += 1
            if progress and done % 50 == 0:
                progress(done, len(paths))
    if cache.enabled:  # serialising ~every finding costs real time; skip it when uncached
        cache.put_many({keys[r.path]: r.to_dict() for r in fresh})
    results.update((r.path, r) for r in fresh)
    return results
