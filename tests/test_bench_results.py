"""Reading what benches leave behind — criterion's two ``estimates.json`` layouts, its
samples, Bencher Metric Format, callgrind totals — and refusing hostile files quietly
(they are written inside the sandbox by the pull request's code)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ruvopt.bot.bench import results

ESTIMATE = {
    "confidence_interval": {"confidence_level": 0.95, "lower_bound": 1.0, "upper_bound": 2.0},
    "standard_error": 0.1,
}


def estimates(mean: float, slope: float | None, *, legacy: bool = False) -> dict[str, object]:
    """``estimates.json`` as criterion ≥ 0.3.3 writes it, or with 0.3.0–0.3.2's keys."""
    names = (
        ("Mean", "Median", "MedianAbsDev", "Slope", "StdDev")
        if legacy
        else ("mean", "median", "median_abs_dev", "slope", "std_dev")
    )
    values = (mean, mean * 0.9, 1.0, slope, 2.0)
    return {
        name: None if v is None else {**ESTIMATE, "point_estimate": v} for name, v in zip(names, values, strict=True)
    }


def write(home: Path, rel: str, data: object) -> Path:
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_the_slope_is_read_when_criterion_fitted_one_else_the_mean(tmp_path):
    write(tmp_path, "linear/new/estimates.json", estimates(120.0, 100.0))
    write(tmp_path, "flat/new/estimates.json", estimates(120.0, None))
    found = {e.id: (e.nanoseconds, e.statistic) for e in results.read_criterion(tmp_path)}
    assert found == {"linear": (100.0, "slope"), "flat": (120.0, "mean")}


def test_the_layout_of_criterion_0_3_0_to_0_3_2_is_read_too(tmp_path):
    write(tmp_path, "old/new/estimates.json", estimates(50.0, 45.0, legacy=True))
    write(tmp_path, "old/new/sample.json", [[1, 2, 4], [10, 22, 40]])  # [iters, times]
    [estimate] = results.read_criterion(tmp_path)
    assert (estimate.nanoseconds, estimate.statistic, estimate.samples) == (45.0, "slope", (10.0, 11.0, 10.0))


def test_the_benchmark_id_comes_from_benchmark_json_and_only_new_results_count(tmp_path):
    write(tmp_path, "group/fn_1_/new/estimates.json", estimates(10.0, None))
    write(tmp_path, "group/fn_1_/new/benchmark.json", {"full_id": "group/fn?1", "directory_name": "group/fn_1_"})
    write(tmp_path, "group/fn_1_/base/estimates.json", estimates(99.0, None))  # a saved baseline, not this run
    write(tmp_path, "report/new/estimates.json", estimates(1.0, None))  # criterion's HTML report folder
    write(tmp_path, "group/fn_1_/new/sample.json", {"sampling_mode": "Linear", "iters": [2, 4], "times": [30, 50]})
    [estimate] = results.read_criterion(tmp_path)
    assert (estimate.id, estimate.nanoseconds, estimate.samples) == ("group/fn?1", 10.0, (15.0, 12.5))


@pytest.mark.parametrize(
    "content",
    [
        '"text"',
        "[1, 2]",
        '{"mean": {"point_estimate": "fast"}}',
        '{"mean": {"point_estimate": NaN}}',
        '{"mean": {"point_estimate": -5}}',
        '{"slope": null, "mean": null}',
        "{not json",
    ],
)
def test_a_malformed_estimates_file_is_skipped(tmp_path, content):
    (tmp_path / "x" / "new").mkdir(parents=True)
    (tmp_path / "x" / "new" / "estimates.json").write_text(content)
    assert results.read_criterion(tmp_path) == []


def test_a_symlinked_or_oversized_results_file_is_not_read(tmp_path):
    secret = tmp_path / "outside.json"
    secret.write_text(json.dumps(estimates(1.0, None)))
    (tmp_path / "home" / "a" / "new").mkdir(parents=True)
    os.symlink(secret, tmp_path / "home" / "a" / "new" / "estimates.json")
    big = write(tmp_path / "home", "b/new/estimates.json", estimates(1.0, None))
    big.write_text(big.read_text() + " " * results.MAX_FILE_BYTES)
    assert results.read_criterion(tmp_path / "home") == []


def test_bencher_metric_format_gives_one_measure_per_benchmark_and_measure(tmp_path):
    path = write(
        tmp_path,
        "bmf.json",
        {
            "moe": {"cache_hit_rate": {"value": 0.73, "lower_value": 0.7}, "latency": {"value": 9500}},
            "broken": {"measure": {"value": "high"}, "other": 5},
            "not-a-table": 3,
        },
    )
    found = {m.id: m.value for m in results.read_bmf(path)}
    assert found == {"moe/cache_hit_rate": 0.73, "moe/latency": 9500.0}
    assert results.read_bmf(tmp_path / "missing.json") == []


def test_the_callgrind_total_is_read_from_its_output_file(tmp_path):
    out = tmp_path / "callgrind.out"
    out.write_text("version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfl=x\n0 12\nsummary: 1685\ntotals: 1685\n")
    assert results.read_callgrind_total(out) == 1685
    out.write_text("events: Ir\n")
    assert results.read_callgrind_total(out) is None


def test_a_criterion_filter_matches_exactly_one_id_and_escapes_only_what_rust_regex_allows():
    assert results.criterion_regex("moe_router/select_top_k") == "^moe_router/select_top_k$"
    assert results.criterion_regex("parse/1.5x (fast)") == r"^parse/1\.5x \(fast\)$"
