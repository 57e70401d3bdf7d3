"""Every benchmark whose figures docs/performance.md (and docs/reliability.md) publish, one
after the other, with the arguments those pages name (``make bench``).

    .venv/bin/python benchmarks/run_all.py [--only check,e2e] [--write-docs] [--list]

Each script runs in its own process, so one benchmark's caches, threads and child
processes cannot colour the next one's figures. The run stops at the first benchmark that
fails. ``--write-docs`` is passed to the scripts that can write their own section; the
others print theirs. Run it on a quiet machine: the figures are medians and ratios
measured within each script, but a busy machine still widens them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (script, arguments, can write its own docs section)
BENCHMARKS: dict[str, tuple[str, list[str], bool]] = {
    "check": ("bench_check.py", ["--runs", "3", "--breakdown", "400"], False),
    "ci-clone": ("bench_ci_clone.py", ["--runs", "5"], False),
    "e2e": ("bench_e2e.py", ["--runs", "15"], True),
    "safety-vs-clippy": ("bench_safety_vs_clippy.py", ["--runs", "5"], True),
    "ingest": ("bench_ingest.py", [], True),
    "observability": ("bench_observability.py", [], False),
    "bench-overhead": ("bench_bench_overhead.py", ["--comparisons", "5"], True),
    "bench-e2e": ("bench_bench_e2e.py", ["--warm", "5"], True),
    "false-regressions": ("bench_false_regressions.py", ["--comparisons", "50", "--runs", "5"], True),
}
# Long runs (tens of minutes): only when named with --only.
ON_REQUEST: dict[str, tuple[str, list[str], bool]] = {
    "storm": ("bench_storm.py", [], False),
    "soak-chaos": ("soak_chaos.py", [], False),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names (see --list)")
    parser.add_argument("--write-docs", action="store_true", help="let each script that can update its section")
    parser.add_argument("--list", action="store_true", help="print the benchmarks and exit")
    args = parser.parse_args()
    known = {**BENCHMARKS, **ON_REQUEST}
    if args.list:
        for name, (script, argv, _) in known.items():
            extra = "" if name in BENCHMARKS else "  (only with --only)"
            print(f"{name:18} benchmarks/{script} {' '.join(argv)}{extra}")
        return 0
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(known)}")
    for name in names:
        script, argv, writes_docs = known[name]
        command = [
            sys.executable,
            str(HERE / script),
            *argv,
            *(["--write-docs"] if args.write_docs and writes_docs else []),
        ]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        if subprocess.run(command, cwd=HERE.parent, check=False).returncode != 0:
            print(f"== {name} failed after {time.monotonic() - started:.0f} s", file=sys.stderr)
            return 1
        print(f"== {name} done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
