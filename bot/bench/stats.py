"""From N base and N head samples of one metric to a verdict.

A change is a **regression** only when all three hold (docs/bench.md, "The verdict",
which also says how rustc-perf, criterion, Bencher and CodSpeed decide and why this rule):

1. the relative change of the medians, ``median(head) / median(base) − 1`` in the
   worse direction, exceeds ``max-regression``;
2. it also exceeds the **noise floor**: the largest relative difference between any two
   base runs — a base-vs-base (A/A) comparison measured in the same job, on the same
   machine, interleaved with the head runs. A machine that is noisy today raises the
   bar today;
3. the two samples **separate**: a one-sided exact Mann–Whitney U test, p ≤ 0.05.

Why Mann–Whitney and not a t-test or a bootstrap interval: with 3 to 10 runs per side,
benchmark times are skewed (a run that met a busy neighbour is slow, never fast), which
breaks a t-test's normality, and a bootstrap interval of a median from 5 values can only
take 5 distinct values. The exact U distribution needs no distributional assumption and
is exact at these sizes; its smallest one-sided p for n vs n is 1 / C(2n, n): 0.05 at 3
runs (only a complete separation counts), 0.008 at 5 — so at 2 runs or fewer no
wall-time change can be called significant, and the report says so (❔).

Deterministic metrics (artifact sizes, instruction counts, custom measures that do not
vary): when every base run agrees and every head run agrees there is no noise to test
against, so any change larger than ``max-regression`` counts. With a single run per
side that agreement cannot be observed; then only sizes and instruction counts are
taken as exact.

Improvements are decided symmetrically. Budgets (``[bench.budgets]``) are absolute
limits on head's median, whatever base was: breaking one is 💸 and fails the check.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

ALPHA = 0.05
MIN_BUILD_DELTA_S = 1.0  # build times moving less than this are never a verdict (rustc-perf: < 1 s is noise)

Kind = Literal["build", "size", "bench", "instructions", "custom"]
Outcome = Literal["regression", "improvement", "same", "noise", "unknown", "over-budget"]
WORDS: dict[str, tuple[str, str]] = {  # kind → (better, worse)
    "build": ("faster", "slower"),
    "bench": ("faster", "slower"),
    "size": ("smaller", "bigger"),
    "instructions": ("fewer", "more"),
    "custom": ("better", "worse"),
}


@dataclass(frozen=True)
class Metric:
    id: str  # stable, e.g. "build/release/clean", "size/release/libtiny.rlib", "bench/work"
    kind: Kind
    label: str  # the table row
    unit: str  # s | B | ns | Ir | "" (custom)
    lower_is_better: bool = True


@dataclass(frozen=True)
class Budget:
    limit: float  # in the metric's unit
    higher_is_better: bool  # ">= 0.70": head must stay at or above
    text: str  # as written in the config

    def broken_by(self, value: float) -> bool:
        return value < self.limit if self.higher_is_better else value > self.limit


@dataclass(frozen=True)
class Decision:
    metric: Metric
    base: tuple[float, ...]
    head: tuple[float, ...]
    change: float | None  # head median / base median − 1 (None: base median is 0)
    floor: float | None  # noise floor (None: fewer than 2 base runs)
    p_value: float | None  # one-sided, in the direction of the change (None: deterministic)
    threshold: float
    budget: Budget | None
    outcome: Outcome
    reason: str
    label: str | None = None  # a verdict word other than the outcome's own

    @property
    def base_median(self) -> float | None:
        return statistics.median(self.base) if self.base else None

    @property
    def head_median(self) -> float | None:
        return statistics.median(self.head) if self.head else None

    @property
    def fails(self) -> bool:
        return self.outcome in ("regression", "over-budget")

    @property
    def symbol(self) -> str:
        return {
            "regression": "❌",
            "improvement": "✅",
            "same": "≈",
            "noise": "≈",
            "unknown": "❔",
            "over-budget": "💸",
        }[self.outcome]

    @property
    def verdict(self) -> str:
        better, worse = WORDS[self.metric.kind]
        if self.label is not None:
            return f"{self.symbol} {self.label}"
        text = {
            "regression": worse,
            "improvement": better,
            "same": "within threshold",
            "noise": "within noise",
            "unknown": "unknown",
            "over-budget": "over budget",
        }[self.outcome]
        return f"{self.symbol} {text}"


def relative(a: float, b: float) -> float:
    """a / b − 1, with 0/0 = 0 and x/0 = ±inf."""
    if b == 0:
        return 0.0 if a == 0 else math.copysign(math.inf, a)
    return a / b - 1.0


def noise_floor(base: Sequence[float]) -> float | None:
    """Largest |a_i / a_j − 1| over the base runs (None with fewer than two)."""
    if len(base) < 2:
        return None
    return max(abs(relative(a, b)) for i, a in enumerate(base) for j, b in enumerate(base) if i != j)


@lru_cache(maxsize=256)
def _u_counts(n: int, m: int) -> tuple[int, ...]:
    """Number of orderings of n vs m distinct values giving each U = 0 … n·m: the
    coefficients of the Gaussian binomial [n+m choose n]_q."""
    coefficients = [1]
    for i in range(1, m + 1):  # multiply by (1 − q^(n+i)), then divide by (1 − q^i)
        grown = coefficients + [0] * (n + i)
        for k in range(len(grown) - 1, n + i - 1, -1):
            grown[k] -= grown[k - n - i]
        for k in range(i, len(grown)):
            grown[k] += grown[k - i]
        coefficients = grown[: n * i + 1]
    return tuple(coefficients)


def mann_whitney_greater(x: Sequence[float], y: Sequence[float]) -> float:
    """One-sided exact p-value that ``x`` tends to be larger than ``y``. Ties count ½ and
    the p-value is rounded toward the conservative side."""
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
    counts = _u_counts(len(x), len(y))
    at_least = math.floor(u)
    return sum(counts[at_least:]) / sum(counts)


def _deterministic(metric: Metric, base: Sequence[float], head: Sequence[float]) -> bool:
    """Every run of each side agrees: with two runs or more that is observed; with one,
    only sizes and instruction counts are taken as exact (they do not vary run to run)."""
    constant = len(set(base)) == 1 and len(set(head)) == 1
    if min(len(base), len(head)) >= 2:
        return constant
    return constant and metric.kind in ("size", "instructions")


def smallest_p(n: int, m: int) -> float:
    """The smallest one-sided p-value n vs m runs can give (a complete separation)."""
    return 1 / math.comb(n + m, n)


def decide(
    metric: Metric, base: Sequence[float], head: Sequence[float], threshold: float, budget: Budget | None = None
) -> Decision:
    base_t, head_t = tuple(base), tuple(head)
    base_median, head_median = statistics.median(base_t), statistics.median(head_t)
    change = relative(head_median, base_median) if base_median != 0 else None
    floor = noise_floor(base_t)
    exact = _deterministic(metric, base_t, head_t)
    worse = None if change is None else (change if metric.lower_is_better else -change)
    p = None
    if not exact and change is not None and change != 0:
        larger, smaller = (head_t, base_t) if change > 0 else (base_t, head_t)
        p = mann_whitney_greater(larger, smaller)

    def result(outcome: Outcome, reason: str, label: str | None = None) -> Decision:
        return Decision(metric, base_t, head_t, change, floor, p, threshold, budget, outcome, reason, label)

    if budget is not None and budget.broken_by(head_median):
        return result("over-budget", f"head's median breaks the budget `{budget.text}`")
    if worse is None:
        return result("unknown", "base's median is 0: no relative change")
    size = abs(worse)
    if size <= threshold:
        return result("same", f"|Δ| {size:.1%} ≤ max-regression {threshold:.1%}")
    if metric.kind == "build" and abs(head_median - base_median) < MIN_BUILD_DELTA_S:
        return result(
            "same",
            f"build times under {MIN_BUILD_DELTA_S:g} s apart are never a verdict",
            f"under {MIN_BUILD_DELTA_S:g} s apart",
        )
    if not exact:
        if floor is None:
            return result("unknown", "one run: no noise floor to compare with", "no noise floor (1 run)")
        if size <= floor:
            return result("noise", f"|Δ| {size:.1%} ≤ noise floor {floor:.1%} (base vs base)")
        if p is None or p > ALPHA:
            if smallest_p(len(head_t), len(base_t)) > ALPHA:
                return result(
                    "unknown", f"{len(base_t)} vs {len(head_t)} runs cannot show significance", "too few runs"
                )
            return result("noise", f"runs do not separate (Mann–Whitney p = {p or 1:.3f} > {ALPHA})")
    return result(
        "regression" if worse > 0 else "improvement",
        "deterministic change" if exact else f"p = {p:.3f}, floor {floor:.1%}",
    )
