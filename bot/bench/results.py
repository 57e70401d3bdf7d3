"""What benches leave behind: criterion's estimates, Bencher Metric Format files, callgrind
output. Files written inside the sandbox are untrusted input: every reader here checks
types and answers ``None``/skips an entry rather than crash on a hostile file.

criterion (``$CRITERION_HOME/<id…>/new/``):

- ``estimates.json``: from 0.3.3 on ``{"mean": {"point_estimate", "confidence_interval",
  …}, "median", "median_abs_dev", "slope" | null, "std_dev"}``; 0.3.0–0.3.2 used
  ``Mean``, ``Median``, ``MedianAbsDev``, ``Slope``, ``StdDev``. Nanoseconds per iteration.
  The value used is the one criterion prints: the slope, else the mean.
- ``sample.json``: ``{"iters": [...], "times": [...]}`` (0.3.3+) or ``[iters, times]``.
- ``benchmark.json``: ``full_id`` is the benchmark's id (else the directory path).

Bencher Metric Format: ``{"<benchmark>": {"<measure>": {"value": x, "lower_value"?,
"upper_value"?}}}``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 16 << 20  # a results file larger than this is not read
_LEGACY_KEYS = {
    "Mean": "mean",
    "Median": "median",
    "MedianAbsDev": "median_abs_dev",
    "Slope": "slope",
    "StdDev": "std_dev",
}
_CALLGRIND_TOTAL = re.compile(rb"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class CriterionEstimate:
    id: str
    nanoseconds: float  # per iteration: slope if criterion fitted one, else mean
    statistic: str  # "slope" | "mean"
    samples: tuple[float, ...] = ()  # per-iteration times of the raw samples (ns)


@dataclass(frozen=True)
class CustomMeasure:
    benchmark: str
    measure: str
    value: float

    @property
    def id(self) -> str:
        return f"{self.benchmark}/{self.measure}"


def _load_json(path: Path) -> Any:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _point(estimates: dict[str, Any], name: str) -> float | None:
    entry = estimates.get(name)
    return _number(entry.get("point_estimate")) if isinstance(entry, dict) else None


def read_estimates(path: Path) -> tuple[float, str] | None:
    """(value in ns, statistic) from one ``estimates.json`` of either layout."""
    data = _load_json(path)
    if not isinstance(data, dict):
        return None
    estimates = {_LEGACY_KEYS.get(str(k), str(k)): v for k, v in data.items()}
    for statistic in ("slope", "mean"):
        value = _point(estimates, statistic)
        if value is not None and value >= 0:
            return value, statistic
    return None


def read_samples(path: Path) -> tuple[float, ...]:
    """Per-iteration times (ns) of ``sample.json``, either layout; empty if unreadable."""
    data = _load_json(path)
    if isinstance(data, dict):
        iters, times = data.get("iters"), data.get("times")
    elif isinstance(data, list) and len(data) == 2:
        iters, times = data
    else:
        return ()
    if not isinstance(iters, list) or not isinstance(times, list) or len(iters) != len(times):
        return ()
    samples = []
    for n, t in zip(iters, times, strict=True):
        count, total = _number(n), _number(t)
        if count and count > 0 and total is not None:
            samples.append(total / count)
    return tuple(samples)


def benchmark_id(new_dir: Path, home: Path) -> str:
    info = _load_json(new_dir / "benchmark.json")
    if isinstance(info, dict) and isinstance(info.get("full_id"), str) and info["full_id"]:
        return str(info["full_id"])
    return new_dir.parent.relative_to(home).as_posix()


def read_criterion(home: Path) -> list[CriterionEstimate]:
    """Every benchmark criterion measured under ``home`` (a fresh ``CRITERION_HOME``)."""
    found: dict[str, CriterionEstimate] = {}
    if not home.is_dir():
        return []
    for estimates in sorted(home.glob("**/new/estimates.json")):
        new_dir = estimates.parent
        if "report" in new_dir.relative_to(home).parts[:1]:
            continue
        value = read_estimates(estimates)
        if value is None:
            continue
        bench_id = benchmark_id(new_dir, home)
        found[bench_id] = CriterionEstimate(bench_id, value[0], value[1], read_samples(new_dir / "sample.json"))
    return list(found.values())


def read_bmf(path: Path) -> list[CustomMeasure]:
    """The measures of a Bencher Metric Format file; entries of the wrong shape are skipped."""
    data = _load_json(path)
    if not isinstance(data, dict):
        return []
    measures = []
    for benchmark, by_measure in data.items():
        if not isinstance(by_measure, dict):
            continue
        for measure, entry in by_measure.items():
            value = _number(entry.get("value")) if isinstance(entry, dict) else None
            if value is not None:
                measures.append(CustomMeasure(str(benchmark), str(measure), value))
    return measures


def read_callgrind_total(path: Path) -> int | None:
    """Total instructions (``Ir``) of a callgrind output file."""
    try:
        data = path.read_bytes()[-MAX_FILE_BYTES:]
    except OSError:
        return None
    match = _CALLGRIND_TOTAL.findall(data)
    return int(match[-1]) if match else None


def criterion_regex(bench_id: str) -> str:
    """An anchored criterion filter matching exactly ``bench_id``. criterion's filter is a
    Rust ``regex``, which rejects escapes of characters that are not special (``\\/``)."""
    special = set("\\.+*?()|[]{}^$#&-~")
    return "^" + "".join(f"\\{c}" if c in special else c for c in bench_id) + "$"
