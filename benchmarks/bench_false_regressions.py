"""False regressions of ``/ruvopt bench``: base vs an identical head, N times (goal ≤ 1 %).

The small criterion crate of the tests (one criterion benchmark, one library), its
head differing from base only in README.md, compared ``--comparisons`` times by the real
engine (sandbox, cargo, criterion, interleaved runs; 5 runs per side, criterion 1 s
warm-up + 1 s measurement, 10 samples, as its ``[bench]`` says). Every regression
reported is a false one. Raw samples of every comparison go to
``benchmarks/out/false_regressions.json``, from which the same data is also judged by a
naive rule (median Δ beyond 2 %, no noise floor, no test) for comparison.

    .venv/bin/python benchmarks/bench_false_regressions.py [--comparisons 50] [--runs 5] [--write-docs]
    .venv/bin/python benchmarks/bench_false_regressions.py --metric instructions [--comparisons 10] …

With ``--metric instructions`` the crate says ``metric = "instructions"``: the benchmark
is judged by its callgrind instruction count instead of criterion's wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_helpers import ROOT, environment, identical_pair, machine, write_section
from ruvopt.bot.bench import report
from ruvopt.bot.bench.runner import Request, compare

TITLES = {
    "time": "## /ruvopt bench: false regressions (base vs identical head)",
    "instructions": "## /ruvopt bench: false regressions with instruction counts",
}


def out_file(metric: str) -> Path:
    return ROOT / "benchmarks" / "out" / f"false_regressions{'' if metric == 'time' else '-' + metric}.json"


NAIVE_THRESHOLD = 0.02


def naive_regressions(metrics: list[dict[str, object]]) -> list[str]:
    """What "median Δ > 2 %" alone would flag (the rule many CI scripts use)."""
    flagged = []
    for m in metrics:
        change = m["change"]
        if isinstance(change, float) and m["base"] and m["head"]:
            worse = change if m["lower_is_better"] else -change
            if worse > NAIVE_THRESHOLD:
                flagged.append(str(m["id"]))
    return flagged


def run(comparisons: int, runs: int, metric: str) -> list[dict[str, object]]:
    results = []
    out = out_file(metric)
    out.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ruvopt-aa-") as tmp:
        work = Path(tmp)
        config = 'metric = "instructions"\n' if metric == "instructions" else ""
        repo, base, head, home = identical_pair(work, runs=runs, config=config)
        for i in range(comparisons):
            started = time.monotonic()
            comparison = asyncio.run(compare(Request(repo, base, head), machine(work, home)))
            if comparison.error is not None:
                raise SystemExit(f"comparison {i + 1} failed: {comparison.error}")
            results.append(report.to_json(comparison))
            out.write_text(json.dumps(results, indent=1))
            flagged = [d.metric.id for d in comparison.regressions]
            print(f"{i + 1}/{comparisons}: {time.monotonic() - started:.0f} s, regressions {flagged}", file=sys.stderr)
    return results


def section(results: list[dict[str, object]], runs: int, metric: str) -> str:
    n = len(results)
    false = [r for r in results if r["conclusion"] == "failure"]
    naive = [r for r in results if naive_regressions(r["metrics"])]  # type: ignore[arg-type]
    floors: dict[str, list[float]] = {}
    for r in results:
        for m in r["metrics"]:  # type: ignore[attr-defined]
            if m["noise_floor"] is not None:
                floors.setdefault(m["id"], []).append(m["noise_floor"])
    rate = len(false) / n
    verdict = "meets" if rate <= 0.01 else "misses"
    rows = [
        f"| `{metric}` | {statistics.median(v):.1%} | {max(v):.1%} |"
        for metric, v in sorted(floors.items())
        if not metric.startswith("size/")
    ]
    flag = "" if metric == "time" else f"--metric {metric} "
    judged = (
        "the criterion benchmark (wall time: 1 s warm-up, 1 s measurement, 10 samples)"
        if metric == "time"
        else "the criterion benchmark's instruction count under callgrind"
    )
    return "\n".join(
        [
            TITLES[metric],
            "",
            f"Command: `.venv/bin/python benchmarks/bench_false_regressions.py {flag}--comparisons {n} --runs {runs} "
            f"--write-docs` ({environment()}; a machine shared with other work, as CI runners are).",
            "",
            "The tests' small criterion crate against a head that changes only README.md, compared by the real "
            f"engine {n} times, {runs} runs per side. Each comparison judges the clean build time, the incremental "
            f"rebuild time, the rlib size and {judged}; any regression it reports is false.",
            "",
            "| comparisons | with a false regression | rate | goal | naive rule (median Δ > 2 %) |",
            "|---|---|---|---|---|",
            f"| {n} | {len(false)} | {rate:.1%} | ≤ 1 % ({verdict}) | {len(naive)} ({len(naive) / n:.0%}) |",
            "",
            f"Noise floors the comparisons measured (largest base-vs-base difference among the {runs} base runs):",
            "",
            "| metric | median floor | largest floor |",
            "|---|---|---|",
            *rows,
            "",
            "A change no larger than the floor is never called, so the floor is also the smallest regression a "
            "comparison on this machine could show for that metric: the price of not crying wolf on a busy machine. "
            'Instruction counts (`metric = "instructions"`) do not pay it.',
            "",
            "The naive column judges the same samples by the rule many CI scripts use — median Δ beyond 2 %, no "
            "noise floor, no test — to show what the floor and the Mann–Whitney test remove. Raw samples: "
            f"`{out_file(metric).relative_to(ROOT)}` (not committed).",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comparisons", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--metric", choices=tuple(TITLES), default="time")
    parser.add_argument("--report-only", action="store_true", help="re-read the raw samples of the last run")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.report_only:
        results = json.loads(out_file(args.metric).read_text())
    else:
        results = run(args.comparisons, args.runs, args.metric)
    text = section(results, args.runs, args.metric)
    print(text)
    if args.write_docs:
        write_section(TITLES[args.metric], text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
