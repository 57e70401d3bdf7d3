"""A :class:`~ruvopt.bot.bench.runner.Comparison` as Markdown (check run, summary comment), a
Mermaid chart, plain text (the CLI), JSON and Bencher Metric Format.

The table follows the checklist's "Quick Reference: Before/After" (one section per
kind: Benchmarks, Build Times, Binary Size), with the columns the verdict rests on:
base and head medians, each side's min–max, Δ %, the noise floor, the verdict.
Regressions come first. The table is authoritative; the chart is for the eye.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ruvopt.bot.bench.runner import Comparison
from ruvopt.bot.bench.stats import Decision, Metric

SECTIONS = (
    ("Benchmarks", ("bench", "instructions", "custom")),
    ("Build times", ("build",)),
    ("Binary size", ("size",)),
)
MAX_CHART_BARS = 20
TITLE = "ruvopt bench"


def value(number: float | None, unit: str) -> str:
    """A value in the unit a person reads it in."""
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        return "—"
    if unit == "ns":
        for scale, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
            if abs(number) >= scale:
                return f"{number / scale:.3g} {name}"
        return f"{number:.3g} ns"
    if unit == "s":
        return f"{number:.2f} s"
    if unit == "B":
        for scale, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if abs(number) >= scale:
                return f"{number / scale:.2f} {name}"
        return f"{number:.0f} B"
    if unit == "Ir":
        return f"{number:,.0f} Ir".replace(",", " ")
    return f"{number:.4g}"


def spread(values: Sequence[float], unit: str) -> str:
    if not values:
        return "—"
    low, high = min(values), max(values)
    return value(low, unit) if low == high else f"{value(low, unit)} – {value(high, unit)}"


def percent(ratio: float | None) -> str:
    if ratio is None or not math.isfinite(ratio):
        return "—"
    return f"{ratio:+.1%}"


def headline(comparison: Comparison) -> str:
    if comparison.error is not None:
        return "⚠️ **Not measured**: " + comparison.error.split("\n", 1)[0]
    bad = comparison.regressions
    runs = f"{comparison.plan.runs} run{'s' if comparison.plan.runs != 1 else ''} per side"
    if not bad:
        return f"✅ **No regression** (max-regression {comparison.threshold:.1%}, {runs})"
    over = [d for d in bad if d.outcome == "over-budget"]
    worst = max((d for d in bad if d.change is not None), key=lambda d: _worse(d), default=None)
    parts = [f"❌ **{len(bad) - len(over)} regression(s)**"] if len(bad) > len(over) else []
    if over:
        parts.append(f"💸 **{len(over)} over budget**")
    if worst is not None and worst.change is not None:
        parts.append(f"worst {percent(worst.change)} (`{worst.metric.label}`)")
    return ", ".join(parts) + f" ({runs})"


def _worse(decision: Decision) -> float:
    change = decision.change or 0.0
    return change if decision.metric.lower_is_better else -change


def table(decisions: Sequence[Decision]) -> list[str]:
    lines = [
        "| | Before | After | Before min–max | After min–max | Δ | Noise | Verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for d in decisions:
        unit = d.metric.unit
        label = d.metric.label.replace("|", "\\|")
        lines.append(
            f"| `{label}` | {value(d.base_median, unit)} | {value(d.head_median, unit)} | {spread(d.base, unit)} "
            f"| {spread(d.head, unit)} | {percent(d.change)} | {_floor(d)} | {d.verdict} |"
        )
    return lines


def _floor(decision: Decision) -> str:
    return "—" if decision.floor is None else f"±{decision.floor:.1%}"


def chart(decisions: Sequence[Decision]) -> list[str]:
    """Mermaid ``xychart-beta``: base as bars, head as a line (two bar series overlap)."""
    rows = [
        d for d in decisions if d.metric.kind in ("bench", "instructions", "custom") and d.base_median and d.head_median
    ][:MAX_CHART_BARS]
    if not rows:
        return []
    units = {d.metric.unit for d in rows}
    bases = [d.base_median or 0.0 for d in rows]
    # Absolute values only when the benches share a unit and a scale; else head as % of base.
    absolute = len(units) == 1 and max(bases) / max(min(bases), 1e-300) <= 20
    if absolute:
        unit = units.pop()
        scale, axis = _chart_scale(max(bases), unit)
        base_points = [b / scale for b in bases]
        head_points = [(d.head_median or 0.0) / scale for d in rows]
    else:
        axis = "% of base"
        base_points = [100.0] * len(rows)
        head_points = [100.0 * (d.head_median or 0.0) / (d.base_median or 1.0) for d in rows]
    names = ", ".join('"' + d.metric.label.replace('"', "'")[:40] + '"' for d in rows)
    top = max([*base_points, *head_points]) * 1.15
    return [
        "```mermaid",
        "xychart-beta",
        '    title "Before (bars) vs after (line)"',
        f"    x-axis [{names}]",
        f'    y-axis "{axis}" 0 --> {top:.4g}',
        f"    bar [{', '.join(f'{p:.4g}' for p in base_points)}]",
        f"    line [{', '.join(f'{p:.4g}' for p in head_points)}]",
        "```",
    ]


def _chart_scale(largest: float, unit: str) -> tuple[float, str]:
    if unit == "ns":
        for scale, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
            if largest >= scale:
                return scale, name
        return 1.0, "ns"
    return 1.0, unit or "value"


def markdown(comparison: Comparison, *, with_chart: bool = True, heading: str = f"## {TITLE}", level: int = 3) -> str:
    lines = [heading, "", headline(comparison), ""] if heading else [headline(comparison), ""]
    if comparison.error is not None:
        lines += [comparison.error, ""]
    for title, kinds in SECTIONS:
        rows = [d for d in comparison.decisions if d.metric.kind in kinds]
        if rows:
            lines += [f"{'#' * level} {title}", "", *table(rows), ""]
    if with_chart:
        drawn = chart(comparison.decisions)
        if drawn:
            lines += [*drawn, ""]
    lines += [f"- {note}" for note in comparison.notes]
    lines += ["", environment(comparison), ""]
    return "\n".join(lines)


def environment(comparison: Comparison) -> str:
    env = " · ".join(f"{k}: {v}" for k, v in comparison.environment.items())
    shas = f"base `{comparison.base_sha[:12]}` → head `{comparison.head_sha[:12]}`"
    decided = (
        f"Regression = Δ beyond max-regression {comparison.threshold:.1%} *and* the noise floor "
        "(largest base-vs-base difference) *and* Mann–Whitney p ≤ 0.05."
    )
    return f"<sub>{shas} · {env}<br>{decided}</sub>" if env else f"<sub>{shas}<br>{decided}</sub>"


def reasons(comparison: Comparison) -> list[str]:
    """How each verdict was reached, one line per metric (the check run's details)."""
    return [f"- `{d.metric.id}`: {d.verdict} — {d.reason}" for d in comparison.decisions]


def text(comparison: Comparison) -> str:
    """Plain text for a terminal (``ruvopt bench --format text``)."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    out = StringIO()
    console = Console(file=out, width=160, no_color=True, emoji=True)
    console.print(headline(comparison).replace("**", ""))
    if comparison.error is not None:
        console.print(comparison.error)
    for title, kinds in SECTIONS:
        rows = [d for d in comparison.decisions if d.metric.kind in kinds]
        if not rows:
            continue
        grid = Table(title=title, title_justify="left")
        for column in ("", "Before", "After", "Before min–max", "After min–max", "Δ", "Noise", "Verdict"):
            grid.add_column(column, justify="left" if column in ("", "Verdict") else "right")
        for d in rows:
            unit = d.metric.unit
            grid.add_row(
                d.metric.label,
                value(d.base_median, unit),
                value(d.head_median, unit),
                spread(d.base, unit),
                spread(d.head, unit),
                percent(d.change),
                _floor(d),
                d.verdict,
            )
        console.print(grid)
    for note in comparison.notes:
        console.print(f"- {note}")
    env = ", ".join(f"{k}: {v}" for k, v in comparison.environment.items())
    console.print(f"base {comparison.base_sha[:12]} → head {comparison.head_sha[:12]}; {env}")
    return out.getvalue()


def to_json(comparison: Comparison) -> dict[str, Any]:
    def metric(d: Decision) -> dict[str, Any]:
        m: Metric = d.metric
        return {
            "id": m.id,
            "kind": m.kind,
            "label": m.label,
            "unit": m.unit,
            "lower_is_better": m.lower_is_better,
            "base": list(d.base),
            "head": list(d.head),
            "base_median": d.base_median,
            "head_median": d.head_median,
            "change": _finite(d.change),
            "noise_floor": _finite(d.floor),
            "p_value": d.p_value,
            "budget": d.budget.text if d.budget else None,
            "outcome": d.outcome,
            "verdict": d.verdict,
            "reason": d.reason,
        }

    return {
        "base_sha": comparison.base_sha,
        "head_sha": comparison.head_sha,
        "conclusion": comparison.conclusion,
        "error": comparison.error,
        "max_regression": comparison.threshold,
        "runs": comparison.plan.runs,
        "profiles": list(comparison.plan.profiles),
        "environment": comparison.environment,
        "notes": comparison.notes,
        "metrics": [metric(d) for d in comparison.decisions],
        "seconds": round(comparison.seconds, 3),
        "command_seconds": round(comparison.command_seconds, 3),
    }


def _finite(number: float | None) -> float | None:
    return number if number is not None and math.isfinite(number) else None


BMF_MEASURES = {"bench": "latency", "build": "build-time", "size": "file-size", "instructions": "instructions"}


def to_bmf(comparison: Comparison) -> dict[str, Any]:
    """Head's medians in Bencher Metric Format (``bencher run --adapter json``)."""
    out: dict[str, Any] = {}
    for d in comparison.decisions:
        if not d.head:
            continue
        name, _, measure = (
            d.metric.label.rpartition("/")
            if d.metric.kind == "custom"
            else (d.metric.label, "", BMF_MEASURES[d.metric.kind])
        )
        out.setdefault(name, {})[measure] = {
            "value": d.head_median,
            "lower_value": min(d.head),
            "upper_value": max(d.head),
        }
    return out
