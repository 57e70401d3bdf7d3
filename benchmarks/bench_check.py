"""Engine speed on a workspace shaped like an ML monorepo, measured in one run (medians):

1. cold ``ruvopt check`` (no cache, both cores) ÷ a bare single-process tree-sitter parse
   of the same files (goal ≤ 1.0), on the generated monorepo and on Debian's crate corpus;
2. warm re-checks with the caches filled by the base commit (what the previous review of
   a PR left), each goal ≤ 1 s: ``check`` of a head that changes 10 ``.rs`` files; the
   App's ``check_diff(base, head)`` of the same; ``check`` of a head that changes only
   one member's ``Cargo.toml``.

    .venv/bin/python benchmarks/bench_check.py [--runs 5] [--scale 1.0] [--corpus /usr/share/cargo/registry]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import tree_sitter
import tree_sitter_rust

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gen_workspace import GIT_ENV, generate, git_commit_all
from ruvopt.checks import metrics
from ruvopt.checks.base import CrateRule, FileRule
from ruvopt.checks.config import Config
from ruvopt.checks.context import FileContext
from ruvopt.checks.diff.mode import check_diff
from ruvopt.checks.engine import check
from ruvopt.checks.filepass import active_rules
from ruvopt.checks.manifest.workspace import load_workspace
from ruvopt.checks.registry import wanted_kinds_for
from ruvopt.checks.source import DirectoryTree, GitTree
from ruvopt.checks.syntax import parse

CHANGED_FILES = 10


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (git): what load cannot inflate."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``fn()``."""
    cpu = cpu_seconds()
    wall = timed(fn)
    return wall, cpu_seconds() - cpu


def checked_files(root: Path) -> list[Path]:
    """The ``.rs`` files ``check`` analyses: those of the workspace's crates."""
    workspace = load_workspace(DirectoryTree(root))
    return [root / p for c in workspace.crates for p in c.rs_files]


def bare_parse(files: list[Path]) -> None:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language()))
    for path in files:
        parser.parse(path.read_bytes())


def _parse_and_collect(paths: list[str]) -> int:
    """What every checked file costs before any rule runs: the parse and the one query
    that collects the node kinds the rules read."""
    kinds = wanted_kinds_for(Config())
    return sum(len(v) for p in paths for v in parse.collect(parse.parse(Path(p).read_bytes()), kinds).values())


def pool_floor(files: list[Path]) -> None:
    """:func:`_parse_and_collect` over the files in a pool of one process per core, in
    batches as the engine sends them: the least a tree-based check can cost here."""
    paths = [str(p) for p in files]
    batches = [paths[i : i + 40] for i in range(0, len(paths), 40)]
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_parse_and_collect, batches))


def cold(root: Path, runs: int) -> dict[str, float]:
    files = checked_files(root)
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    bare, ours, floor = [], [], []
    for _ in range(runs):  # interleaved, so drift hits all three equally
        bare.append(timed(lambda: bare_parse(files)))
        ours.append(timed(lambda: check(DirectoryTree(root), cache_dir=None)))
        floor.append(timed(lambda: pool_floor(files)))
    ratio = statistics.median(o / b for o, b in zip(ours, bare, strict=True))
    floor_ratio = statistics.median(f / b for f, b in zip(floor, bare, strict=True))
    return {
        "files": len(files),
        "lines": lines,
        "bare": statistics.median(bare),
        "ruvopt": statistics.median(ours),
        "ratio": ratio,
        "floor": statistics.median(floor),
        "floor_ratio": floor_ratio,
    }


def edit_sources(repo: Path, run: int) -> None:
    sources = sorted((repo / "crates").rglob("src/m*.rs"))
    step = len(sources) // CHANGED_FILES
    for i in range(CHANGED_FILES):
        path = sources[(i * step + run * 7) % len(sources)]
        path.write_text(path.read_text() + f"\npub fn edited_{run}_{i}(p: *const u8) -> u8 {{ unsafe {{ *p }} }}\n")


def edit_manifest(repo: Path, run: int) -> None:
    manifests = sorted((repo / "crates").glob("*/Cargo.toml"))
    path = manifests[(run * 13) % len(manifests)]
    path.write_text(path.read_text() + f"extra-{run} = []\n")


def warm(repo: Path, base: str, runs: int, tmp: Path) -> dict[str, list[tuple[float, float]]]:
    filled = tmp / "filled"
    check(GitTree(repo, base), cache_dir=filled)  # what the previous review of the PR left
    names = ("check_head", "check_diff", "check_manifest", "diff_manifest")
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    reset = ["git", "-C", str(repo), "reset", "-q", "--hard", base]
    for run in range(runs):
        for edit, names in (
            (edit_sources, ("check_head", "check_diff")),
            (edit_manifest, ("check_manifest", "diff_manifest")),
        ):
            edit(repo, run)
            head = git_commit_all(repo, f"edit {run}")
            for name in names:
                # A copy of the base-filled cache per measurement: none benefits from another's work.
                cache = tmp / f"{name}{run}"
                shutil.copytree(filled, cache)
                if name.startswith("check"):
                    times[name].append(timed_cpu(lambda h=head, c=cache: check(GitTree(repo, h), cache_dir=c)))
                else:
                    times[name].append(timed_cpu(lambda h=head, c=cache: check_diff(repo, base, h, cache_dir=c)))
                shutil.rmtree(cache)
            subprocess.run(reset, check=True, env={**os.environ, **GIT_ENV})
    return times


def breakdown(root: Path, count: int) -> dict[str, float]:
    """Single-process seconds of each part of the per-file pass over ``count`` files, by
    part: the parse, the node query, the metrics, each rule (run or per-file facts)."""
    files = checked_files(root)[:count]
    config = Config()
    kinds, rules = wanted_kinds_for(config), active_rules(config)
    cost: dict[str, float] = {}

    def spend(part: str, fn: Callable[[], object]) -> None:
        cost[part] = cost.get(part, 0.0) + timed(fn)

    for path in files:
        ctx = FileContext(path.relative_to(root).as_posix(), path.read_bytes(), config, kinds)
        spend("parse", lambda c=ctx: c.tree)
        spend("node query", lambda c=ctx: c.nodes("function_item"))
        spend("metrics", lambda c=ctx: metrics.file_metrics(c))
        for rule in rules:
            if isinstance(rule, FileRule):
                spend(rule.code, lambda r=rule, c=ctx: list(r.run(c)))
            elif isinstance(rule, CrateRule):
                spend(rule.code, lambda r=rule, c=ctx: r.file_facts(c))
    return cost


def cold_figures(repo: Path, args: argparse.Namespace) -> None:
    c = cold(repo, args.runs)
    print(
        f"cold, monorepo: {c['files']:,} files, {c['lines']:,} lines; bare parse {c['bare']:.2f} s, "
        f"ruvopt check {c['ruvopt']:.2f} s, ratio {c['ratio']:.2f} (goal <= 1.0); parse + node query "
        f"in a {os.cpu_count()}-process pool {c['floor']:.2f} s, ratio {c['floor_ratio']:.2f}"
    )
    if args.corpus.is_dir():
        k = cold(args.corpus, args.runs)
        print(
            f"cold, Debian corpus: {k['files']:,} files, {k['lines']:,} lines; bare parse {k['bare']:.2f} s, "
            f"ruvopt check {k['ruvopt']:.2f} s, ratio {k['ratio']:.2f}; parse + node query in the pool "
            f"{k['floor']:.2f} s, ratio {k['floor_ratio']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="files per crate of the generated monorepo")
    parser.add_argument("--corpus", type=Path, default=Path("/usr/share/cargo/registry"))
    parser.add_argument("--warm-only", action="store_true", help="skip the cold measurements")
    parser.add_argument("--breakdown", type=int, default=800, help="files timed part by part (0: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ruvopt-bench-check-") as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "monorepo"
        counts = generate(repo, args.scale)
        base = git_commit_all(repo, "base")
        print(
            f"generated monorepo: {', '.join(f'{k} {v:,}' for k, v in counts.items())}; {os.cpu_count()} cores, "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        if not args.warm_only:
            cold_figures(repo, args)
        if args.breakdown:
            cost = breakdown(repo, args.breakdown)
            parts = ", ".join(
                f"{k} {v / cost['parse']:.2f}"
                for k, v in sorted(cost.items(), key=lambda kv: -kv[1])
                if v / cost["parse"] >= 0.01
            )
            print(
                f"per-file pass, one process, {args.breakdown} files, x parse: {parts}; "
                f"total {sum(cost.values()) / cost['parse']:.2f}"
            )
        w = warm(repo, base, args.runs, tmp)
        for name, label in (
            ("check_head", f"check(head), {CHANGED_FILES} .rs files changed"),
            ("check_diff", f"check_diff(base, head), {CHANGED_FILES} .rs files changed"),
            ("check_manifest", "check(head), one member Cargo.toml changed"),
            ("diff_manifest", "check_diff(base, head), one member Cargo.toml changed"),
        ):
            wall, cpu = [v[0] for v in w[name]], [v[1] for v in w[name]]
            print(
                f"warm {label}: median {statistics.median(wall):.2f} s, max {max(wall):.2f} s (goal <= 1 s); "
                f"CPU median {statistics.median(cpu):.2f} s"
            )
        print(f"load average when done: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
