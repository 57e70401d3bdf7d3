"""How a comparison reads: values in the unit a person reads, the Before/After table, the
Mermaid chart, Bencher Metric Format; the bench's section of the sticky summary comment;
and the ``[bench]`` configuration's budgets."""

from __future__ import annotations

import pytest

from ruvopt.bot.bench import report
from ruvopt.bot.bench.measure import Plan
from ruvopt.bot.bench.runner import Comparison
from ruvopt.bot.bench.stats import Metric, decide
from ruvopt.bot.report import bench_section
from ruvopt.checks.config import ConfigError, parse_budget
from ruvopt.checks.registry import parse_config

BASE, HEAD = "a" * 40, "b" * 40


def comparison(*decisions) -> Comparison:  # type: ignore[no-untyped-def]
    result = Comparison(BASE, HEAD, Plan(runs=3), 0.02, list(decisions), {"CPU": "test", "runs": "3"})
    return result


def bench(name: str, base: list[float], head: list[float]):  # type: ignore[no-untyped-def]
    return decide(Metric(f"bench/{name}", "bench", name, "ns"), base, head, 0.02)


@pytest.mark.parametrize(
    ("number", "unit", "text"),
    [
        (950.0, "ns", "950 ns"),
        (12_345.0, "ns", "12.3 µs"),
        (2.5e6, "ns", "2.5 ms"),
        (3.2e9, "ns", "3.2 s"),
        (1.234, "s", "1.23 s"),
        (512.0, "B", "512 B"),
        (4096.0, "B", "4.00 KiB"),
        (45 * 2**20, "B", "45.00 MiB"),
        (1685.0, "Ir", "1 685 Ir"),
        (0.73, "", "0.73"),
        (None, "ns", "—"),
    ],
)
def test_values_are_shown_in_the_unit_a_person_reads(number, unit, text):
    assert report.value(number, unit) == text


def test_the_table_has_one_row_per_metric_with_medians_ranges_change_floor_and_verdict():
    slow = bench("mix", [100, 101, 99], [130, 131, 129])
    [header, _, row] = report.table([slow])
    assert header == "| | Before | After | Before min–max | After min–max | Δ | Noise | Verdict |"
    assert row == "| `mix` | 100 ns | 130 ns | 99 ns – 101 ns | 129 ns – 131 ns | +30.0% | ±2.0% | ❌ slower |"


def test_the_chart_draws_base_as_bars_and_head_as_a_line_in_a_shared_unit():
    chart = report.chart([bench("a", [1000] * 3, [1500] * 3), bench("b", [2000] * 3, [1000] * 3)])
    assert chart[:2] == ["```mermaid", "xychart-beta"]
    assert '    x-axis ["a", "b"]' in chart
    assert '    y-axis "µs" 0 --> 2.3' in chart
    assert "    bar [1, 2]" in chart
    assert "    line [1.5, 1]" in chart


def test_benchmarks_of_very_different_scales_are_charted_as_percent_of_base():
    chart = report.chart([bench("tiny", [10] * 3, [20] * 3), bench("huge", [1e6] * 3, [0.5e6] * 3)])
    assert '    y-axis "% of base" 0 --> 230' in chart
    assert "    bar [100, 100]" in chart
    assert "    line [200, 50]" in chart


def test_the_headline_counts_regressions_and_budgets_and_names_the_worst():
    text = report.headline(comparison(bench("mix", [100, 101, 99], [130, 131, 129])))
    assert text == "❌ **1 regression(s)**, worst +30.0% (`mix`) (3 runs per side)"
    failed = comparison()
    failed.error = "On head (`bbbb`), `cargo build` timed out after 60 s (limit 60 s) and was killed."
    assert report.headline(failed).startswith("⚠️ **Not measured**: On head")
    assert failed.conclusion == "neutral"


def test_head_medians_export_as_bencher_metric_format():
    size = decide(Metric("size/release/x.rlib", "size", "x rlib (release)", "B"), [100, 100], [120, 120], 0.02)
    exported = report.to_bmf(comparison(bench("mix", [100] * 3, [110, 120, 130]), size))
    assert exported == {
        "mix": {"latency": {"value": 120, "lower_value": 110, "upper_value": 130}},
        "x rlib (release)": {"file-size": {"value": 120, "lower_value": 120, "upper_value": 120}},
    }


# --- the summary comment's bench section ---------------------------------------------------------


SECTION = f"{bench_section.START}\n### Bench: `a` → `b`\n\n✅ **No regression**\n\n| table |\n{bench_section.END}"


def test_the_bench_section_is_replaced_in_place_or_appended():
    body = "<!-- ruvopt:summary -->\n## ruvopt\n\nreview text\n"
    first = bench_section.with_section(body, SECTION)
    assert first.startswith(body.rstrip())
    assert first.count(bench_section.START) == 1
    second = bench_section.with_section(first, SECTION.replace("No regression", "Still fine"))
    assert second.count(bench_section.START) == 1
    assert "Still fine" in second
    assert "No regression" not in second


def test_a_new_review_body_keeps_the_section_and_drops_it_to_its_headline_when_space_runs_out():
    big = SECTION.replace("| table |", "\n".join(f"| row {i} |" for i in range(500)))
    old = bench_section.with_section("old review", big)
    assert bench_section.extract(bench_section.carry_over(old, "new review", 65_536)) == big
    tight = bench_section.carry_over(old, "x" * (65_536 - 1000), 65_536)
    assert len(tight) <= 65_536
    kept = bench_section.extract(tight)
    assert kept is not None
    assert "| row" not in kept
    assert "### Bench: `a` → `b`" in kept
    assert bench_section.carry_over("no section", "new review", 65_536) == "new review"


# --- [bench] budgets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "dimension", "higher"),
    [
        ("10us", 10_000.0, "time", False),
        ("<= 1.5ms", 1.5e6, "time", False),
        ("2s", 2e9, "time", False),
        (">= 0.70", 0.7, "number", True),
        ("<= 2MiB", 2 * 2**20, "size", False),
        ("300KB", 3e5, "size", False),
        ("5e6", 5e6, "number", False),
    ],
)
def test_budgets_are_parsed_into_base_units_with_their_direction(text, limit, dimension, higher):
    budget = parse_budget(text)
    assert (budget.limit, budget.dimension, budget.higher_is_better) == (pytest.approx(limit), dimension, higher)


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('[bench.budgets]\n"moe/select" = "10 parsecs"\n', "unknown unit `parsecs`"),
        ('[bench.budgets]\n"moe/select" = "fast"\n', 'is not a limit; write e.g. "10us"'),
        ('[bench]\nmetric = "cycles"\n', "use one of time, instructions"),
        ('[bench]\nbmf-file = "../escape.json"\n', "relative path inside the package"),
        ("[bench]\nwarm-up-time = 0\n", "`bench.warm-up-time` must be an integer from 1 to 600"),
        ('[bench]\nmax-regression = "two"\n', 'must be a string with a percentage, e.g. "2%"'),
    ],
)
def test_bench_configuration_mistakes_say_how_to_fix_them(toml, fragment):
    with pytest.raises(ConfigError) as raised:
        parse_config(toml, "ruvopt.toml")
    assert fragment in str(raised.value)
