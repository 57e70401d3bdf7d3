"""ruvopt's SAFETY verdicts (RO201–RO203) against `cargo clippy` on the same crates, timed.

For each crate (copied from Debian's registry to a temporary directory, built offline),
interleaved, N runs each, medians reported:

- clippy, clean build: ``cargo clippy --lib`` with clippy's SAFETY lints into an empty
  target directory (the crate and its dependencies, check mode, both cores);
- clippy, re-lint: the same after ``cargo clean -p <crate>``, dependencies already built
  (the least clippy can do: lint the crate itself);
- ruvopt: the engine's ``check`` with RO201–RO203 selected on the crate directory, no
  cache, one process: workspace discovery, reading, tree-sitter parsing, verdicts, findings.

Goal: ruvopt ≥ 100× faster than clippy's clean build.

    .venv/bin/python benchmarks/bench_safety_vs_clippy.py [--runs 5] [--write-docs]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomlkit
import tree_sitter
import tree_sitter_rust

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ruvopt.checks.config import Config  # noqa: E402
from ruvopt.checks.engine import check  # noqa: E402
from ruvopt.checks.source import DirectoryTree  # noqa: E402
from tests import clippy_support as cs  # noqa: E402

CRATES = ("bytemuck", "crossbeam-utils", "lock_api", "hashbrown", "parking_lot", "rayon")  # newest installed
DOCS = ROOT / "docs" / "performance.md"
SECTION = "## SAFETY verdicts vs clippy"
GOAL = 100.0


def clippy_seconds(crate: Path, target: Path, *, clean_crate_only: bool) -> float:
    """Wall time of one ``cargo clippy`` (the cleaning before it is not timed)."""
    env = cs.cargo_env("unused")
    env["CARGO_TARGET_DIR"] = str(target)
    package = str(tomlkit.parse((crate / "Cargo.toml").read_text())["package"]["name"])  # type: ignore[index]
    if clean_crate_only:
        subprocess.run(
            ["cargo", "clean", "--offline", "-p", package], cwd=crate, env=env, capture_output=True, check=False
        )
    command = ["cargo", "clippy", "--offline", "--lib", "--", *cs.CLIPPY_ARGS]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=crate, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cargo clippy failed for {crate.name}:\n{done.stderr[-3000:]}")
    return seconds


def parse_seconds(sources: list[Path]) -> float:
    """A bare tree-sitter parse of the same files: the floor under any tree-based check."""
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language()))
    blobs = [path.read_bytes() for path in sources]
    started = time.perf_counter()
    for blob in blobs:
        parser.parse(blob)
    return time.perf_counter() - started


def ruvopt_seconds(crate: Path) -> float:
    config = Config(select=("RO201", "RO202", "RO203"))
    started = time.perf_counter()
    check(DirectoryTree(crate), config, cache_dir=None, jobs=1)
    return time.perf_counter() - started


def measure(name: str, runs: int, work: Path) -> dict[str, object]:
    name = cs.registry_crate(name)
    crate = cs.copy_registry_crate(name, work)
    sources = [p for p in crate.rglob("*.rs") if "target" not in p.parts]
    verdicts = cs.ruvopt_run(crate, {})
    clean, relint, ours, bare = [], [], [], []
    warm_target = work / f"{name}-target"
    for run in range(runs):  # interleaved, so drift hits every column alike
        clean.append(clippy_seconds(crate, work / f"{name}-clean-{run}", clean_crate_only=False))
        relint.append(clippy_seconds(crate, warm_target, clean_crate_only=run > 0 or warm_target.exists()))
        ours.append(ruvopt_seconds(crate))
        bare.append(parse_seconds(sources))
    if runs > 0 and not warm_target.exists():
        raise RuntimeError("the re-lint target directory was not created")
    # The first re-lint built the dependencies too: drop it when there are enough runs.
    relint_runs = relint[1:] if runs > 2 else relint
    return {
        "crate": name,
        "files": len(sources),
        "lines": sum(p.read_bytes().count(b"\n") for p in sources),
        "unsafe": len(verdicts.blocks) + len(verdicts.impls),
        "clean": statistics.median(clean),
        "relint": statistics.median(relint_runs),
        "ruvopt": statistics.median(ours),
        "parse": statistics.median(bare),
    }


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| crate | `.rs` files | lines | unsafe blocks + impls | clippy, clean build | clippy, re-lint only "
        "| ruvopt RO201–RO203 | bare parse | × vs clean build | × vs re-lint |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        clean, relint, ours = float(row["clean"]), float(row["relint"]), float(row["ruvopt"])  # type: ignore[arg-type]
        lines.append(
            f"| {row['crate']} | {row['files']} | {row['lines']:,} | {row['unsafe']} | {clean:.2f} s | {relint:.2f} s "
            f"| {ours * 1000:.0f} ms | {float(row['parse']) * 1000:.0f} ms "  # type: ignore[arg-type]
            f"| {clean / ours:.0f}× | {relint / ours:.0f}× |"
        )
    return "\n".join(lines)


def section(rows: list[dict[str, object]], runs: int, command: str) -> str:
    ratios = [float(r["clean"]) / float(r["ruvopt"]) for r in rows]  # type: ignore[arg-type]
    verdict = "meets" if min(ratios) >= GOAL else "misses"
    return "\n".join(
        [
            SECTION,
            "",
            f"Command: `{command}` ({platform.machine()}, Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d')}; median of {runs} interleaved runs per column).",
            "",
            "Each crate is a copy of Debian's `/usr/share/cargo/registry/<crate>`, built offline. "
            "*clippy, clean build*: "
            "`cargo clippy --lib -- -A clippy::all -W clippy::undocumented_unsafe_blocks "
            "-W clippy::missing_safety_doc` into an empty target directory (dependencies included, check mode, "
            "both cores). *clippy, re-lint only*: "
            "the same after `cargo clean -p <crate>` with the dependencies already built. *ruvopt*: `check()` with "
            "RO201–RO203 selected on the same directory, no cache, one process — discovery, reading, tree-sitter "
            "parsing and all three rules, over every `.rs` file of the crate (clippy `--lib` sees fewer). *bare "
            "parse*: tree-sitter alone over the same files, the floor under any tree-based check. The verdicts "
            "agree with clippy's on every compiled block (`tests/test_clippy_agreement.py`).",
            "",
            table(rows),
            "",
            f"Goal: ≥ {GOAL:.0f}× faster than clippy's clean build — {verdict} (ratios {min(ratios):.0f}× to "
            f"{max(ratios):.0f}×). The ratio grows with what clippy must compile besides the crate: "
            "`cargo clippy` in check mode is fast on a small crate without dependencies, and ruvopt cannot go "
            "below parsing every file (the *bare parse* column); the rest of its time is the engine's "
            "per-file work and the three rules — on a crate with hundreds of findings (bytemuck) mostly the "
            "engine turning findings into cache rows, which it does even when no cache is used.",
            "",
        ]
    )


def write_docs(text: str) -> None:
    """Replace this benchmark's section of docs/performance.md (or append it); others' stay."""
    current = DOCS.read_text() if DOCS.exists() else "# Performance\n"
    start = current.find(SECTION)
    if start >= 0:
        end = current.find("\n## ", start + len(SECTION))
        current = current[:start] + text + (current[end + 1 :] if end >= 0 else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    DOCS.write_text(current.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--crates", nargs="*", default=list(CRATES))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    command = f".venv/bin/python benchmarks/bench_safety_vs_clippy.py --runs {args.runs}"
    with tempfile.TemporaryDirectory(prefix="ruvopt-bench-safety-") as tmp:
        rows = [measure(name, args.runs, Path(tmp)) for name in args.crates]
    print(table(rows))
    print(f"\n{command}")
    if args.write_docs:
        write_docs(section(rows, args.runs, command + " --write-docs"))
        print(f"wrote the section to {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
