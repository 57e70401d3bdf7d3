"""Webhook → completed check run, with the App's real processes (goal: p50 ≤ 2 s).

The same parts as ``tests/test_e2e.py``: a real ``redis-server``, ``ruvopt serve`` and
``ruvopt worker`` subprocesses with production settings (writes spaced 1 s apart per
installation), the FakeGitHub on loopback and a real git repository served over smart
HTTP that demands the installation token.

The repository is the generated ML monorepo (``benchmarks/gen_workspace.py``: ~160 crates,
301 manifests, ~4,000 ``.rs`` files, ~1.7 M lines), or with ``--files N`` one crate of N
source files. A first review warms the mirror (and the caches with the base); then each
run pushes a new commit that changes 10 files (each gains a function with an
undocumented ``unsafe`` read, so every review has annotations, inline comments and a
summary to post), sends the signed
``pull_request.synchronize`` delivery and times until the FakeGitHub holds the new head's
``ruvopt`` check run ``completed``. The worker fetches only the new commit. Between runs
the bench waits for the job to finish and for the write spacing to lapse, so each run
measures one webhook on an idle installation.

    .venv/bin/python benchmarks/bench_e2e.py [--runs 15] [--files N | --scale 1.0] [--write-docs]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gen_workspace import generate  # noqa: E402
from tests.app_stack import AppStack, pull_request_event, wait_for  # noqa: E402
from tests.fakegithub import FakeGitHub, FakeGitHubServer  # noqa: E402
from tests.fakegithub.auth import AppKey  # noqa: E402
from tests.githttp import GitHttpServer  # noqa: E402
from tests.plugins.redis_server import RedisServer  # noqa: E402
from tests.review_support import PullWorld  # noqa: E402

DOCS = ROOT / "docs" / "performance.md"
SECTION = "## Webhook to check run"
CHANGED_FILES = 10


def module(i: int, extra: str = "") -> str:
    body = "".join(
        f"pub fn f{i}_{k}(x: u64) -> u64 {{\n    x.wrapping_mul({k + 3}).rotate_left({k % 7})\n}}\n\n"
        for k in range(20)
    )
    return f"//! Module {i}.\n\n{body}{extra}"


def base_files(count: int) -> dict[str, str]:
    lib = "//! Bench crate.\n\n" + "".join(f"pub mod m{i};\n" for i in range(count))
    files = {f"src/m{i}.rs": module(i) for i in range(count)}
    manifest = '[package]\nname = "bench"\nversion = "0.1.0"\nedition = "2021"\n'
    return {"Cargo.toml": manifest, "README.md": "# bench\n", "src/lib.rs": lib, **files}


def change(run: int, count: int) -> dict[str, str]:
    """10 files, each gaining one function with an undocumented unsafe read."""
    picked = [(run * CHANGED_FILES + k) % count for k in range(CHANGED_FILES)]
    return {f"src/m{i}.rs": module(i, EXTRA.format(run=run)) for i in picked}


EXTRA = "pub fn peek_{run}(p: *const u64) -> u64 {{\n    unsafe {{ *p.add({run}) }}\n}}\n"


@dataclass
class Workload:
    """The repository a run reviews: its base files and the 10-file change of each run."""

    base: dict[str, str]
    change: Callable[[int], dict[str, str]]
    label: str


def single_crate(files: int) -> Workload:
    return Workload(base_files(files), lambda run: change(run, files), f"One crate of {files} files")


def monorepo(scale: float) -> Workload:
    with tempfile.TemporaryDirectory(prefix="ruvopt-bench-e2e-gen-") as tmp:
        counts = generate(Path(tmp), scale)
        base = {p.relative_to(tmp).as_posix(): p.read_text() for p in sorted(Path(tmp).rglob("*")) if p.is_file()}
    sources = sorted(p for p in base if "/src/m" in p)

    def edit(run: int) -> dict[str, str]:
        step = len(sources) // CHANGED_FILES
        picked = [sources[(k * step + run * 7) % len(sources)] for k in range(CHANGED_FILES)]
        return {p: base[p] + EXTRA.format(run=run) for p in picked}

    label = (
        f"The generated monorepo ({counts['crates']} crates, {counts['manifests']} manifests, "
        f"{counts['rs_files']:,} `.rs` files, {counts['lines']:,} lines)"
    )
    return Workload(base, edit, label)


def completed(fake: FakeGitHub, world: PullWorld, sha: str) -> bool:
    return any(r.head_sha == sha and r.status == "completed" for r in fake.check_runs(world.repo))


def measure(runs: int, workload: Workload, spacing: float) -> tuple[list[float], dict[str, int]]:
    with tempfile.TemporaryDirectory(prefix="ruvopt-bench-e2e-") as tmp:
        work = Path(tmp)
        redis_server = RedisServer(work / "redis")
        redis_server.start()
        github = FakeGitHubServer(FakeGitHub(AppKey.generate())).start()
        fake = github.fake
        (work / "git").mkdir()
        git = GitHttpServer(work / "git", token_ok=fake.token_valid).start()
        stack = AppStack(fake, redis_server.url, work, RUVOPT_WRITE_SPACING_SECONDS=str(spacing))
        try:
            stack.start_receiver()
            stack.start_worker()
            world = PullWorld.create(fake, git, work, workload.base, workload.change(0))
            stack.post("pull_request", pull_request_event(world, "opened"))
            wait_for(lambda: stack.reviewed(world), 900, "the warm-up review")
            times = []
            base = workload.base
            for run in range(1, runs + 1):
                # Undo the previous run's change: the PR (base → head) always touches 10 files.
                undo = {path: base[path] for path in workload.change(run - 1)}
                sha = world.push({**undo, **workload.change(run)})
                time.sleep(spacing + 0.1)  # the last run's writes leave the spacing behind
                start = time.perf_counter()
                response = stack.post("pull_request", pull_request_event(world, "synchronize"))
                assert response.status_code == 202, response.text
                wait_for(lambda: completed(fake, world, sha), 120, f"the check run of {sha[:12]}")  # noqa: B023
                times.append(time.perf_counter() - start)
                wait_for(lambda: stack.reviewed(world, sha), 120, "the rest of the review")  # noqa: B023
                print(f"run {run}: {times[-1]:.3f} s", file=sys.stderr)
            violations = fake.unexpected_violations()
            assert not violations, f"GitHub contract violations: {violations}"
            (last,) = [r for r in fake.check_runs(world.repo) if r.head_sha == world.head]
            posted = {"annotations": len(last.annotations), "comments": len(fake.review_comments(world.repo, world.pr))}
            return times, posted
        finally:
            stack.stop()
            git.stop()
            github.stop()
            redis_server.stop()


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(times: list[float], posted: dict[str, int], command: str, workload: Workload) -> str:
    p50 = statistics.median(times)
    verdict = "meets" if p50 <= 2.0 else "misses"
    return "\n".join(
        [
            SECTION,
            "",
            f"Command: `{command}`",
            f"({platform.machine()}, {platform.python_version()}, {time.strftime('%Y-%m-%d')}).",
            "",
            "Real `redis-server`, `ruvopt serve` and `ruvopt worker` processes with production settings "
            "(writes ≥ 1 s apart per installation), the FakeGitHub on loopback and the repository over smart "
            f"HTTP with the installation token. {workload.label}; each run pushes a commit after which "
            "the pull request changes "
            f"{CHANGED_FILES} files (a new undocumented `unsafe` read in each), sends the signed "
            "`pull_request.synchronize` webhook and times until the head's `ruvopt` check run is `completed`, "
            "on a warm mirror (the worker fetches the one new commit).",
            "",
            "| runs | p50 | p90 | min | max | goal |",
            "|---|---|---|---|---|---|",
            f"| {len(times)} | {p50:.2f} s | {quantile(times, 0.9):.2f} s | {min(times):.2f} s | {max(times):.2f} s "
            f"| p50 ≤ 2 s ({verdict}) |",
            "",
            f"Each run's check run carried {posted['annotations']} annotations; the PR had {posted['comments']} inline "
            "comments after all runs (10 per review), and each review also resolved the previous run's 10 threads, "
            "whose findings the next push removes. The floor is the write spacing: the check run is created "
            "`in_progress` at once and completed by a second write, which GitHub asks to be ≥ 1 s later; the "
            "review, the sticky summary and the thread resolutions follow the completed check run.",
            "",
        ]
    )


def write_docs(section: str) -> None:
    """Replace this benchmark's section of docs/performance.md (or append it); others' stay."""
    text = DOCS.read_text() if DOCS.exists() else "# Performance\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[end:] if end >= 0 else "")  # keep the blank line before
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--files", type=int, help="one crate of this many files instead of the monorepo")
    parser.add_argument("--scale", type=float, default=1.0, help="files per crate of the generated monorepo")
    parser.add_argument(
        "--write-spacing",
        type=float,
        default=1.0,
        help="seconds between writes (production: 1.0; 0 shows ruvopt's own time)",
    )
    parser.add_argument("--write-docs", action="store_true", help=f"write the section into {DOCS.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.runs < 10:
        parser.error("p50 needs at least 10 runs")
    workload = single_crate(args.files) if args.files else monorepo(args.scale)
    command = " ".join(
        [
            "--runs",
            str(args.runs),
            *(["--files", str(args.files)] if args.files else []),
            *(["--write-spacing", f"{args.write_spacing:g}"] if args.write_spacing != 1.0 else []),
            *([] if args.write_spacing != 1.0 else ["--write-docs"]),
        ]
    )
    times, posted = measure(args.runs, workload, args.write_spacing)
    section = report(times, posted, f".venv/bin/python benchmarks/bench_e2e.py {command}", workload)
    print(section)
    if args.write_docs:
        write_docs(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
