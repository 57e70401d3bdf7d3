"""The bench verdict: Mann–Whitney's exact distribution (checked against brute-force
enumeration), the noise floor, and each rule of :func:`ruvopt.bot.bench.stats.decide`."""

from __future__ import annotations

import itertools
from math import comb

import pytest

from ruvopt.bot.bench.stats import Budget, Metric, decide, mann_whitney_greater, noise_floor, relative, smallest_p

BENCH = Metric("bench/mix", "bench", "mix", "ns")
SIZE = Metric("size/release/x.rlib", "size", "x rlib (release)", "B")
BUILD = Metric("build/release/clean", "build", "clean build (release)", "s")
HIT_RATE = Metric("custom/moe/cache_hit_rate", "custom", "moe/cache_hit_rate", "", lower_is_better=False)


def brute_force_p(x: list[float], y: list[float]) -> float:
    """P(U ≥ u) over every equally likely assignment of the pooled ranks (distinct values)."""
    pooled = sorted(x + y)
    observed = sum(a > b for a in x for b in y)
    hits = 0
    for picked in itertools.combinations(range(len(pooled)), len(x)):
        xs = [pooled[i] for i in picked]
        ys = [pooled[i] for i in range(len(pooled)) if i not in picked]
        hits += sum(a > b for a in xs for b in ys) >= observed
    return hits / comb(len(pooled), len(x))


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([4, 5, 6], [1, 2, 3]),
        ([1, 5, 6], [2, 3, 4]),
        ([10, 11, 12, 13, 14], [1, 2, 3, 4, 15]),
        ([7, 1, 9, 3], [2, 8, 4, 6, 5]),
        ([1, 2], [3, 4]),
        ([5], [1, 2, 3, 4, 6, 7]),
    ],
)
def test_the_exact_mann_whitney_p_value_is_the_brute_force_one(x, y):
    assert mann_whitney_greater(x, y) == pytest.approx(brute_force_p(x, y))


def test_the_smallest_p_value_is_one_over_the_number_of_orderings():
    assert smallest_p(3, 3) == 1 / 20
    assert smallest_p(5, 5) == 1 / 252
    assert smallest_p(2, 2) == 1 / 6


def test_the_noise_floor_is_the_largest_difference_between_two_base_runs():
    assert noise_floor([100, 110, 105]) == pytest.approx(0.10)  # 110 / 100 − 1
    assert noise_floor([100]) is None
    assert relative(0, 0) == 0.0


def test_a_large_separated_change_beyond_the_floor_is_a_regression():
    decision = decide(BENCH, [100, 101, 99], [130, 131, 129], threshold=0.02)
    assert decision.outcome == "regression"
    assert decision.change == pytest.approx(0.30)
    assert decision.p_value == pytest.approx(1 / 20)
    assert decision.verdict == "❌ slower"


def test_a_change_within_the_base_runs_own_spread_is_noise():
    # +10 % median change, runs separate, but base alone moved by 30 %.
    decision = decide(BENCH, [100, 130, 101], [111, 140, 112], threshold=0.02)
    assert decision.outcome == "noise"
    assert decision.floor == pytest.approx(0.30)


def test_a_change_beyond_the_floor_whose_runs_overlap_is_noise():
    decision = decide(BENCH, [100, 101, 102, 103, 100], [104, 99, 108, 108, 110], threshold=0.02)
    assert decision.change == pytest.approx(108 / 101 - 1)
    assert decision.change > decision.floor
    assert decision.p_value is not None
    assert decision.p_value > 0.05
    assert decision.outcome == "noise"


def test_a_change_under_max_regression_is_never_a_regression():
    assert decide(BENCH, [100, 100.5, 100.2], [101.5, 101.6, 101.7], threshold=0.02).outcome == "same"


def test_two_runs_per_side_cannot_call_a_wall_time_change_significant():
    decision = decide(BENCH, [100, 101], [150, 151], threshold=0.02)
    assert decision.outcome == "unknown"
    assert decision.verdict == "❔ too few runs"


def test_one_run_gives_no_noise_floor_for_times_but_sizes_are_exact():
    assert decide(BENCH, [100], [150], threshold=0.02).verdict == "❔ no noise floor (1 run)"
    size = decide(SIZE, [1000], [1100], threshold=0.02)
    assert size.outcome == "regression"
    assert size.reason == "deterministic change"


def test_improvements_are_decided_like_regressions():
    assert decide(BENCH, [130, 131, 129], [100, 101, 99], threshold=0.02).verdict == "✅ faster"
    assert decide(SIZE, [1000, 1000], [900, 900], threshold=0.02).verdict == "✅ smaller"


def test_a_higher_is_better_measure_that_drops_is_a_regression():
    decision = decide(HIT_RATE, [0.8, 0.8], [0.6, 0.6], threshold=0.02)
    assert decision.outcome == "regression"
    assert decision.verdict == "❌ worse"
    assert decision.change < 0


def test_a_broken_budget_fails_whatever_base_was():
    budget = Budget(limit=10_000.0, higher_is_better=False, text="10us")
    decision = decide(BENCH, [12_000, 12_100, 12_050], [12_000, 12_100, 12_050], threshold=0.02, budget=budget)
    assert decision.outcome == "over-budget"
    assert decision.fails
    assert decision.symbol == "💸"
    floor = Budget(limit=0.7, higher_is_better=True, text=">= 0.70")
    assert decide(HIT_RATE, [0.73, 0.73], [0.71, 0.71], threshold=0.05, budget=floor).outcome == "same"


def test_build_times_less_than_a_second_apart_are_never_a_verdict():
    decision = decide(BUILD, [0.30, 0.31, 0.30], [0.60, 0.61, 0.60], threshold=0.02)
    assert decision.outcome == "same"
    assert decision.verdict == "≈ under 1 s apart"
    assert decide(BUILD, [10.0, 10.1, 10.0], [20.0, 20.1, 20.0], threshold=0.02).outcome == "regression"
