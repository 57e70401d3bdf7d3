"""Engine speed, measured in one run (medians; the machines are noisy):

1. cold ``ruvopt check`` over the Debian crate corpus ÷ a bare single-process tree-sitter
   parse of the same files (goal ≤ 2.0);
2. warm re-check of a generated 4,000-file workspace after 10 files change, with the
   per-blob cache filled by the base commit (goal ≤ 1 s), as ``check`` on the head tree and
   as the App's diff mode (``check_diff`` base → head).

    .venv/bin/python benchmarks/bench_check.py [--runs 5] [--corpus /usr/share/cargo/registry]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tree_sitter
import tree_sitter_rust

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gen_workspace import GIT_ENV, generate, git_commit_all
from ruvopt.checks.engine import check
from ruvopt.checks.manifest.workspace import load_workspace
from ruvopt.checks.source import DirectoryTree, GitTree


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def corpus_files(corpus: Path) -> list[Path]:
    workspace = load_workspace(DirectoryTree(corpus))
    return [corpus / p for c in workspace.crates for p in c.rs_files]


def bare_parse(files: list[Path]) -> None:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language()))
    for path in files:
        parser.parse(path.read_bytes())


def cold(corpus: Path, runs: int) -> dict[str, float]:
    files = corpus_files(corpus)
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    bare, ours = [], []
    for _ in range(runs):  # interleaved, so drift hits both equally
        bare.append(timed(lambda: bare_parse(files)))
        ours.append(timed(lambda: check(DirectoryTree(corpus), cache_dir=None)))
    ratio = statistics.median(o / b for o, b in zip(ours, bare, strict=True))
    return {"files": len(files), "lines": lines, "bare": statistics.median(bare),
            "ruvopt": statistics.median(ours), "ratio": ratio}


def touch_files(repo: Path, run: int, count: int = 10) -> None:
    sources = sorted((repo / "crates").rglob("m*.rs"))
    step = len(sources) // count
    for i in range(count):
        path = sources[(i * step + run * 7) % len(sources)]
        path.write_text(path.read_text() + f"\npub fn edited_{run}_{i}() -> usize {{ {run} }}\n")


def warm(runs: int) -> dict[str, float]:
    from ruvopt.checks.diff.mode import check_diff

    head_times, diff_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "ws"
        generate(repo, crates=40, files=100, lines_per_file=425)
        base = git_commit_all(repo, "base")
        for run in range(runs):
            # Two caches, each filled by the base commit only (what the previous review of
            # the PR left), so neither timing benefits from the other's work on the head.
            head_cache, diff_cache = Path(tmp) / f"head{run}", Path(tmp) / f"diff{run}"
            check(GitTree(repo, base), cache_dir=head_cache)
            check(GitTree(repo, base), cache_dir=diff_cache)
            touch_files(repo, run)
            head = git_commit_all(repo, f"edit {run}")
            head_times.append(timed(lambda h=head, c=head_cache: check(GitTree(repo, h), cache_dir=c)))
            diff_times.append(timed(lambda h=head, c=diff_cache: check_diff(repo, base, h, cache_dir=c)))
            reset = ["git", "-C", str(repo), "reset", "-q", "--hard", base]
            subprocess.run(reset, check=True, env={**os.environ, **GIT_ENV})
    return {"check_head": statistics.median(head_times), "check_diff": statistics.median(diff_times),
            "check_head_max": max(head_times), "check_diff_max": max(diff_times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=Path("/usr/share/cargo/registry"))
    args = parser.parse_args()
    c = cold(args.corpus, args.runs)
    print(f"cold: {c['files']} files, {c['lines']} lines; bare parse {c['bare']:.2f} s, "
          f"ruvopt check {c['ruvopt']:.2f} s, ratio {c['ratio']:.2f} (goal <= 2.0), {os.cpu_count()} cores")
    w = warm(args.runs)
    print(f"warm (4,000 files, 10 changed): check head {w['check_head']:.2f} s (max {w['check_head_max']:.2f}), "
          f"check_diff base->head {w['check_diff']:.2f} s (max {w['check_diff_max']:.2f}) (goal <= 1 s)")


if __name__ == "__main__":
    main()
