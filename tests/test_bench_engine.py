"""The bench engine on real workspaces with real cargo, criterion 0.3 (Debian's sources),
bwrap and valgrind: a head that is slower and bigger is a regression of the right sign
and size; an identical head is within noise; instruction counts see the same change.

One repository holds every commit, so the dependency cache built by the first
comparison's base (criterion and its dependencies, about a minute on two cores) serves
the others, as it would for one repository's successive benches in the App.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ruvopt.bot.bench import report
from ruvopt.bot.bench.depcache import DependencyCache
from ruvopt.bot.bench.runner import Comparison, Machine, Request, compare
from ruvopt.bot.bench.sandbox import Limits
from tests.bench_support import cargo_home, criterion_crate, generate_lockfile
from tests.plugins.workspaces import make_git_repo

BASE_WORK, SLOW_WORK, PADDING = 1000, 4000, 300
INSTRUCTIONS = 'metric = "instructions"\n'


@dataclass
class Repo:
    path: Path
    shas: dict[str, str]
    machine: Machine

    def compare(self, base: str, head: str, runs: int | None = None, keep: bool = False) -> Comparison:
        machine = Machine(
            self.machine.work_root,
            self.machine.cargo_home,
            self.machine.limits,
            self.machine.environ,
            keep=keep,
            deps_cache=self.machine.deps_cache,
            cache_scope="tests/engine",
        )
        request = Request(self.path, self.shas[base], self.shas[head], runs=runs)
        return asyncio.run(compare(request, machine))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    tmp = tmp_path_factory.mktemp("engine")
    home = cargo_home(tmp)
    base, slow = criterion_crate(BASE_WORK), criterion_crate(SLOW_WORK, padding=PADDING)
    lock = generate_lockfile(base, home, tmp)
    base_instr = {**base, "ruvopt.toml": base["ruvopt.toml"] + INSTRUCTIONS}
    slow_instr = {**slow, "ruvopt.toml": slow["ruvopt.toml"] + INSTRUCTIONS}
    commits = {
        "base": {**base, "Cargo.lock": lock},
        "slow": slow,
        "same": {**base, "README.md": "# engine\n"},
        "base-instr": base_instr,
        "slow-instr": slow_instr,
    }
    path, shas = make_git_repo(tmp, list(commits.values()), name="engine")
    work = tmp / "work"
    work.mkdir()
    machine = Machine(work, home, Limits(900, 4096 << 20), dict(os.environ), deps_cache=DependencyCache(tmp / "deps"))
    return Repo(path, dict(zip(commits, shas, strict=True)), machine)


def by_id(comparison: Comparison, metric_id: str):  # type: ignore[no-untyped-def]
    [decision] = [d for d in comparison.decisions if d.metric.id == metric_id]
    return decision


def test_a_slower_and_bigger_head_is_a_regression_of_the_right_sign_and_size(repo):
    comparison = repo.compare("base", "slow", keep=True)
    assert comparison.error is None, comparison.error
    assert comparison.conclusion == "failure"
    mix = by_id(comparison, "bench/mix")
    assert len(mix.base) == len(mix.head) == 3
    # Four times the loop iterations: about +300 %, never an improvement.
    assert mix.outcome == "regression", mix
    assert 1.5 < (mix.change or 0) < 6.0, mix
    rlib = by_id(comparison, "size/release/engine.rlib")
    sizes = {
        side: (repo.machine.work_root / side / "target" / "release" / "libengine.rlib").stat().st_size
        for side in ("base", "head")
    }
    assert (rlib.base_median, rlib.head_median) == (sizes["base"], sizes["head"])
    assert rlib.outcome == "regression"
    assert rlib.change == pytest.approx(sizes["head"] / sizes["base"] - 1)
    assert comparison.regressions[0].metric.kind == "bench"  # regressions come first
    text = report.markdown(comparison)
    assert "❌ **2 regression(s)**" in text
    row = next(line for line in text.splitlines() if line.startswith("| `mix` |"))
    assert row.endswith("| ❌ slower |")
    assert f"| {report.percent(mix.change)} |" in row
    assert "xychart-beta" in text
    assert 'x-axis ["mix"]' in text


def test_an_identical_head_is_within_noise_and_passes(repo):
    # 5 runs, the default: docs/performance.md measures this setting's false-regression rate.
    comparison = repo.compare("base", "same", runs=5)
    assert comparison.error is None, comparison.error
    assert comparison.conclusion == "success", report.text(comparison)
    assert by_id(comparison, "bench/mix").outcome in ("noise", "same")
    rlib = by_id(comparison, "size/release/engine.rlib")
    assert rlib.change == 0
    assert rlib.outcome == "same"
    assert {d.outcome for d in comparison.decisions} <= {"noise", "same"}
    assert report.headline(comparison).startswith("✅ **No regression**")


def test_instruction_counts_under_callgrind_see_the_slower_head(repo):
    comparison = repo.compare("base-instr", "slow-instr", runs=1)
    assert comparison.error is None, comparison.error
    mix = by_id(comparison, "instructions/mix")
    assert mix.metric.unit == "Ir"
    assert (mix.base_median or 0) > 1000
    # Deterministic: one run each is enough for a verdict, and the ratio follows the work.
    assert mix.outcome == "regression", mix
    assert 2.0 < (mix.change or 0) < 5.0, mix
    assert not [d for d in comparison.decisions if d.metric.id == "bench/mix"]  # no wall-time run
    assert comparison.environment["metric"] == "callgrind instructions"
