"""A whole comparison: configuration from base, both sides prepared, runs interleaved,
every metric decided.

Base and head run on the same machine, in one job, interleaved: run 1 is A B, run 2
B A, run 3 A B… (ABBA), so a machine that slows down over the job slows both sides
alike. Configuration comes from the **base** commit only (a pull request cannot loosen
its own gate); the command's ``profile=``/``bench=``/``runs=`` narrow it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ruvopt.bot.bench import stats
from ruvopt.bot.bench.depcache import DependencyCache
from ruvopt.bot.bench.measure import Plan, Side, SideFailed
from ruvopt.bot.bench.sandbox import Limits, Mounts, Sandbox, SandboxError
from ruvopt.bot.bench.sandbox import preflight as sandbox_preflight
from ruvopt.bot.bench.stats import Budget, Decision, Metric
from ruvopt.bot.bench.toolchain import CargoHome, Toolchain, ToolchainError, find_toolchain
from ruvopt.bot.bench.workdir import SideDirs, WorkdirError
from ruvopt.checks.config import BenchBudget, BenchConfig, ConfigError
from ruvopt.checks.registry import load_config
from ruvopt.checks.source import GitError, GitTree

Progress = Callable[[str, int, int], None]  # (what is happening, steps done, steps in all)


@dataclass(frozen=True)
class Request:
    """What to compare; the command's narrowing of the base configuration."""

    git_dir: Path
    base_sha: str
    head_sha: str
    profiles: tuple[str, ...] = ()
    benches: tuple[str, ...] = ()
    runs: int | None = None


@dataclass(frozen=True)
class Machine:
    """Where the work happens and within which limits."""

    work_root: Path
    cargo_home: Path
    limits: Limits = field(default_factory=Limits)
    environ: Mapping[str, str] = field(default_factory=dict)  # for cargo fetch (proxies, registry tokens)
    jobs: int | None = None
    keep: bool = False  # leave the work tree behind (debugging)
    deps_cache: DependencyCache | None = None
    cache_scope: str = ""  # the repository the cache entries belong to


@dataclass
class Comparison:
    base_sha: str
    head_sha: str
    plan: Plan
    threshold: float
    decisions: list[Decision] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # a side could not be built or measured: no verdict
    seconds: float = 0.0
    command_seconds: float = 0.0  # wall time of the child processes: git archive, cargo fetch, sandboxed runs
    sandboxed_commands: int = 0
    commands: list[tuple[str, float, bool]] = field(default_factory=list)  # (what, seconds, sandboxed), both sides
    housekeeping: dict[str, float] = field(default_factory=dict)  # seconds spent copying and removing trees

    @property
    def conclusion(self) -> str:
        if self.error is not None:
            return "neutral"
        return "failure" if any(d.fails for d in self.decisions) else "success"

    @property
    def regressions(self) -> list[Decision]:
        return [d for d in self.decisions if d.fails]


def plan_for(config: BenchConfig, request: Request, jobs: int | None) -> Plan:
    args: list[str] = []
    for flag, value in (
        ("--warm-up-time", config.warm_up_time),
        ("--measurement-time", config.measurement_time),
        ("--sample-size", config.sample_size),
    ):
        if value is not None:
            args += [flag, str(value)]
    metric: Literal["time", "instructions"] = "instructions" if config.metric == "instructions" else "time"
    return Plan(
        profiles=request.profiles or config.profiles,
        benches=request.benches or config.benches,
        runs=request.runs or config.runs,
        metric=metric,
        bmf_file=config.bmf_file,
        criterion_args=tuple(args),
        jobs=jobs,
    )


def read_config(git_dir: Path, base_sha: str) -> BenchConfig:
    tree = GitTree(git_dir, base_sha)
    try:
        return load_config(tree).bench
    finally:
        tree.close()


async def compare(request: Request, machine: Machine, progress: Progress | None = None) -> Comparison:
    """Measure base and head; failures of either side become ``Comparison.error``."""
    started = time.monotonic()
    try:
        config = await asyncio.to_thread(read_config, request.git_dir, request.base_sha)
    except ConfigError as exc:
        comparison = Comparison(request.base_sha, request.head_sha, Plan(), 0.0)
        comparison.error = f"The base branch's ruvopt configuration is invalid: {exc}"
        return comparison
    plan = plan_for(config, request, machine.jobs)
    comparison = Comparison(request.base_sha, request.head_sha, plan, config.max_regression_ratio)
    sides: list[Side] = []
    try:
        toolchain = await find_toolchain()
        comparison.environment = describe_machine(toolchain, plan)
        sides = [
            _side("base", request.base_sha, toolchain, machine, plan, progress),
            _side("head", request.head_sha, toolchain, machine, plan, progress),
        ]
        samples = await _measure(request, machine, sides, progress)
        aslr = "off (setarch -R)" if all(s.aslr_off for s in sides) else "on (setarch -R refused here)"
        comparison.environment["ASLR in benches"] = aslr
        comparison.decisions = decide_all(samples, plan, config)
        comparison.notes += _notes(sides, comparison.decisions, config.budget_limits())
    except (SideFailed, ToolchainError, WorkdirError, GitError, SandboxError) as exc:
        comparison.error = str(exc)
    finally:
        comparison.commands = [command for side in sides for command in side.commands]
        comparison.housekeeping["copy target directories"] = sum(side.copy_seconds for side in sides)
        cleanup = time.monotonic()
        comparison.command_seconds = sum(seconds for _, seconds, _ in comparison.commands)
        comparison.sandboxed_commands = sum(sandboxed for _, _, sandboxed in comparison.commands)
        base_side = next((s for s in sides if s.name == "base"), None)
        if machine.deps_cache is not None and base_side is not None and base_side.built:
            await asyncio.to_thread(
                machine.deps_cache.put, base_side.cache_key, base_side.dirs.target, copy=machine.keep
            )
        if not machine.keep:
            for name in ("base", "head"):
                await asyncio.to_thread(shutil.rmtree, machine.work_root / name, True)
        comparison.housekeeping["remove work trees"] = time.monotonic() - cleanup
    comparison.seconds = time.monotonic() - started
    return comparison


def _take(cache: DependencyCache, key: str, target: Path) -> bool:
    target.rmdir()  # empty: made by SideDirs.create
    if cache.take(key, target):
        return True
    target.mkdir()
    return False


def _side(
    name: Literal["base", "head"],
    sha: str,
    toolchain: Toolchain,
    machine: Machine,
    plan: Plan,
    progress: Progress | None,
) -> Side:
    def log(text: str) -> None:
        if progress is not None:
            progress(text, -1, -1)

    return Side(
        name,
        sha,
        SideDirs(machine.work_root / name),
        toolchain,
        CargoHome(machine.cargo_home),
        machine.limits,
        plan,
        log,
    )


async def _measure(
    request: Request, machine: Machine, sides: list[Side], progress: Progress | None
) -> dict[str, dict[Metric, list[float]]]:
    total = 2 + 2 * sides[0].plan.runs
    done = 0

    def step(text: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(text, done, total)

    base, head = sides
    for side in sides:
        await side.checkout(request.git_dir, machine.environ)
    cache = machine.deps_cache
    if cache is not None:
        base.cache_key = cache.key(
            machine.cache_scope or str(request.git_dir), base.lockfile, base.toolchain, base.plan.profiles
        )
        await base.build(seeded=await asyncio.to_thread(_take, cache, base.cache_key, base.dirs.target))
    else:
        await base.build()
    step("base prepared")
    await head.build(base.dirs.target if head.lockfile == base.lockfile else None)
    step("head prepared")
    samples: dict[str, dict[Metric, list[float]]] = {"base": {}, "head": {}}
    for run in range(sides[0].plan.runs):
        order = sides if run % 2 == 0 else sides[::-1]  # A B, B A, A B … (ABBA)
        for side in order:
            for metric, value in (await side.measure(run)).items():
                samples[side.name].setdefault(metric, []).append(value)
            step(f"run {run + 1}: {side.name} measured")
    return samples


def decide_all(samples: dict[str, dict[Metric, list[float]]], plan: Plan, config: BenchConfig) -> list[Decision]:
    budgets = config.budget_limits()
    decisions = []
    for metric, base in samples["base"].items():
        head = samples["head"].get(metric)
        if not head:
            continue
        budget = _budget(metric, budgets)
        decisions.append(stats.decide(_directed(metric, budget), base, head, config.max_regression_ratio, budget))
    # Metrics only one side has (a benchmark added or removed) are listed with one side.
    decisions += [_one_sided(m, [], v, config) for m, v in samples["head"].items() if m not in samples["base"]]
    decisions += [_one_sided(m, v, [], config) for m, v in samples["base"].items() if m not in samples["head"]]
    order = {"bench": 0, "instructions": 0, "custom": 1, "build": 2, "size": 3}
    return sorted(decisions, key=lambda d: (not d.fails, order[d.metric.kind], d.metric.id))


HIGHER_IS_BETTER_MEASURES = ("throughput",)  # Bencher Metric Format's own measure names


def _directed(metric: Metric, budget: Budget | None) -> Metric:
    """A custom measure is higher-is-better when its budget is a ``>=`` limit or it is a
    throughput; every other metric (times, sizes, instructions) is lower-is-better."""
    higher = (budget is not None and budget.higher_is_better) or metric.id.endswith(HIGHER_IS_BETTER_MEASURES)
    return dataclasses.replace(metric, lower_is_better=False) if metric.kind == "custom" and higher else metric


def _one_sided(metric: Metric, base: Sequence[float], head: Sequence[float], config: BenchConfig) -> Decision:
    budget = _budget(metric, config.budget_limits()) if head else None
    broken = budget is not None and budget.broken_by(statistics.median(head))
    reason = "only on head (new)" if head else "only on base (removed)"
    return Decision(
        metric,
        tuple(base),
        tuple(head),
        None,
        None,
        None,
        config.max_regression_ratio,
        budget,
        "over-budget" if broken else "unknown",
        reason,
    )


def _budget(metric: Metric, budgets: dict[str, BenchBudget]) -> Budget | None:
    names = (metric.id, metric.id.split("/", 1)[1])  # "bench/moe/select" or "moe/select"
    for name in names:
        budget = budgets.get(name)
        if budget is None or not _fits(budget, metric):
            continue
        limit = budget.limit / 1e9 if metric.unit == "s" else budget.limit  # budgets hold ns; builds are in s
        return Budget(limit, budget.higher_is_better, budget.text)
    return None


def _fits(budget: BenchBudget, metric: Metric) -> bool:
    if budget.dimension == "time":
        return metric.unit in ("ns", "s")
    if budget.dimension == "size":
        return metric.unit == "B"
    return metric.unit in ("", "Ir")


def _notes(sides: list[Side], decisions: list[Decision], budgets: dict[str, BenchBudget]) -> list[str]:
    notes = [
        f"{s.name} has no Cargo.lock: it was generated for this run, so dependency versions may differ "
        "from what a build elsewhere resolves."
        for s in sides
        if s.lockfile_generated
    ]
    if not any(s.benches for s in sides):
        notes.append("No bench targets were built, so only build times and sizes were compared.")
    used = {d.budget.text for d in decisions if d.budget is not None}
    for key, budget in budgets.items():
        matched = [d for d in decisions if key in (d.metric.id, d.metric.id.split("/", 1)[1])]
        if not matched:
            notes.append(f"Budget `{key}` = `{budget.text}` matches no measured metric.")
        elif budget.text not in used and not any(_fits(budget, d.metric) for d in matched):
            notes.append(f"Budget `{key}` = `{budget.text}` does not fit the unit of `{matched[0].metric.id}`.")
    return notes


async def preflight(cargo_home: Path) -> str:
    """Raise unless this machine can bench: a toolchain, a working sandbox, and cargo
    running inside it. Returns the toolchain's description."""
    toolchain = await find_toolchain()
    await sandbox_preflight(extra_readonly=toolchain.readonly_paths())
    probe = Sandbox(Mounts(writable=(), readonly=toolchain.readonly_paths()), Limits(wall_seconds=60))
    env = {"PATH": f"{toolchain.bin_dir}:/usr/bin:/bin", "CARGO_HOME": str(cargo_home), "HOME": "/"}
    result = await probe.run([str(toolchain.cargo), "--version"], cwd=Path("/"), env=env)
    if not result.ok:
        raise SandboxError(f"`cargo --version` fails inside the sandbox: {result.tail(5)}")
    return f"{toolchain.description}, {result.stdout.decode().strip()}"


def describe_machine(toolchain: Toolchain, plan: Plan) -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    env = {
        "CPU": f"{cpu} ({os.cpu_count()} cores)",
        "rustc": toolchain.description,
        "runs": str(plan.runs),
        "metric": "callgrind instructions" if plan.metric == "instructions" else "wall time",
    }
    governor = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    if governor.exists():
        env["governor"] = governor.read_text().strip()
    return env
