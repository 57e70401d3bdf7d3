"""What passes: metric limits, the checklist status of each crate, and the fail-on verdict.

Limits come from the rules that enforce them (the named option of the rule, as configured
in ``ruvopt.toml``, else the rule class's default), so the table, the summary and the gate
can never disagree with the rule. ``fail-on`` (docs/configuration.md: a failure only for new error-level findings or
metrics that got worse past their limit):

- ``new``: fail when a reported finding of error severity is new (without a base every
  finding counts as new), or — in diff mode — when a metric got worse than at base and is
  past its limit;
- ``any``: fail when any finding is reported;
- ``never``: never fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruvopt.checks.config import Config
from ruvopt.checks.model import METRIC_NAMES, CrateReport, Finding, Metrics, Severity
from ruvopt.checks.registry import all_rules, option_value, rule_by_code


@dataclass(frozen=True, slots=True)
class Limit:
    code: str  # the rule that enforces the limit (its checklist item is the metric's)
    option: str | None  # the rule's option that sets it; None: the limit is 0


# metric -> the largest value that passes.
MAX_LIMITS: dict[str, Limit] = {
    "root_lines": Limit("RO102", "max-lines"),
    "pub_use_names": Limit("RO103", "max-names"),
    "crate_allow_lints": Limit("RO104", "max-lints"),
    "max_file_lines": Limit("RO101", "max-lines"),
    "files_over_limit": Limit("RO101", None),  # files over RO101's max-lines
    # RO301's finding is one per crate, so a PR that adds a heavy default to a crate that
    # already had one changes no finding: this count is what makes it fail the gate.
    "heavy_default_dependencies": Limit("RO301", None),
}
# metric -> (the total it must equal, the rule that asks for it): every unsafe documented.
ALL_OF: dict[str, tuple[str, str]] = {
    "unsafe_blocks_documented": ("unsafe_blocks", "RO201"),
    "unsafe_impls_documented": ("unsafe_impls", "RO202"),
    "unsafe_fns_with_safety_doc": ("unsafe_fns", "RO203"),
}
CHECKLIST_TITLES: dict[str, str] = {
    "1": "default features",
    "2": "re-exports",
    "3": "fast profile",
    "4": "unsafe documented",
    "5": "file sizes",
    "6": "heavy features",
    "7": "optional deps",
    "8": "allow list",
    "9": "benchmarks",
    "10": "regressions",
    "11": "feature docs",
    "seed P0": "hot-path allocations",
    "seed P1": "hot-path timing",
}
FAIL_ON = ("new", "any", "never")


def item_key(item: str) -> tuple[int, str]:
    """Checklist items in reading order: 1 … 11, then the seed commit's P0, P1."""
    return (int(item), "") if item.isdigit() else (1000, item)


def active(code: str, config: Config) -> bool:
    """A rule this build has and this configuration enables: only such a rule sets a limit."""
    return config.enabled(code) and any(r.code == code for r in all_rules())


def limit_value(metric: str, config: Config) -> int | None:
    """The configured limit of ``metric`` (None when no active rule gives it one)."""
    limit = MAX_LIMITS.get(metric)
    if limit is None or not active(limit.code, config):
        return None
    if limit.option is None:
        return 0
    return int(option_value(config, limit.code, limit.option))


def metric_item(metric: str) -> str | None:
    """The checklist item of the rule behind a metric's limit."""
    code = MAX_LIMITS[metric].code if metric in MAX_LIMITS else ALL_OF[metric][1] if metric in ALL_OF else None
    return rule_by_code(code).checklist_item if code is not None else None


def badness(metric: str, values: dict[str, Any], config: Config) -> int | None:
    """How far past passing ``metric`` is (0 = passes), or None when it has no limit."""
    if metric in ALL_OF:
        total, code = ALL_OF[metric]
        if not active(code, config) or total not in values:
            return None
        return max(0, int(values[total]) - int(values[metric]))
    limit = limit_value(metric, config)
    if limit is None or metric not in values:
        return None
    return max(0, int(values[metric]) - limit)


@dataclass(frozen=True, slots=True)
class MetricRow:
    name: str
    value: Any
    before: Any  # None outside diff mode or for a crate the head adds
    limit: str  # "≤ 300", "= 4 (all)", or "" when the metric has no limit
    ok: bool | None  # None when the metric has no limit
    worse: bool  # past its limit and further past it than at base
    excess: int | None = None  # how far past its limit (0 = passes; None = no limit)
    base_excess: int | None = None

    def worse_text(self) -> str:
        """Why this row counts as worse, in words."""
        if self.name in ALL_OF:
            was = "a new crate" if self.base_excess is None else f"was {self.base_excess}"
            return f"{self.excess} without documentation; {was}"
        before = "new crate" if self.base_excess is None else self.before
        return f"{before} → {self.value}, limit {self.limit}"


def _limit_text(metric: str, values: dict[str, Any], config: Config) -> str:
    if metric in ALL_OF:
        total = ALL_OF[metric][0]
        return f"= {values.get(total, 0)} (all)" if badness(metric, values, config) is not None else ""
    limit = limit_value(metric, config)
    return "" if limit is None else f"≤ {limit}"


def metric_rows(crate: CrateReport, config: Config) -> list[MetricRow]:
    head = crate.metrics.to_dict()
    base = crate.base_metrics.to_dict() if crate.base_metrics is not None else None
    rows = []
    for name in METRIC_NAMES:
        if name not in head:
            continue
        after = badness(name, head, config)
        before = badness(name, base, config) if base is not None else None
        worse = after is not None and after > 0 and (before is None or after > before)
        rows.append(
            MetricRow(
                name,
                head[name],
                base.get(name) if base is not None else None,
                _limit_text(name, head, config),
                None if after is None else after == 0,
                worse,
                after,
                before,
            )
        )
    return rows


def owner(crates: Sequence[CrateReport], path: str) -> CrateReport | None:
    """The crate whose directory holds ``path`` most closely."""
    best: CrateReport | None = None
    for crate in crates:
        inside = crate.path == "." or path == crate.path or path.startswith(crate.path + "/")
        if inside and (best is None or best.path == "." or len(crate.path) > len(best.path)):
            best = crate
    return best


@dataclass(slots=True)
class ChecklistRow:
    name: str
    status: dict[str, bool | None] = field(default_factory=dict)  # item -> passes (None: n/a)


def checklist(
    crates: Sequence[CrateReport], findings: Iterable[Finding], config: Config
) -> tuple[list[str], list[ChecklistRow]]:
    """Checklist items checked by this configuration and, per crate, whether each passes.

    A crate fails an item when a finding of a rule for that item lies in the crate, or a
    metric of that item is past its limit. Findings outside every crate (a virtual
    workspace's root manifest) make a ``workspace`` row.
    """
    rules = [r for r in all_rules() if config.enabled(r.code) and r.checklist_item]
    workspace_items = {r.checklist_item for r in rules if getattr(r, "scope", "file") == "workspace"}
    crate_items = {r.checklist_item for r in rules if getattr(r, "scope", "file") != "workspace"}
    crate_items |= {metric_item(m) or "" for m in MAX_LIMITS if limit_value(m, config) is not None}
    crate_items |= {metric_item(m) or "" for m in ALL_OF if active(ALL_OF[m][1], config)}
    crate_items.discard("")
    items = sorted(crate_items | workspace_items, key=item_key)
    item_of = {r.code: r.checklist_item for r in all_rules()}
    rows = {c.name: ChecklistRow(c.name, {i: (True if i in crate_items else None) for i in items}) for c in crates}
    loose = ChecklistRow("workspace", {i: (True if i in workspace_items else None) for i in items})
    for finding in findings:
        item = item_of.get(finding.code)
        if not item:
            continue
        crate = owner(crates, finding.path)
        (rows[crate.name] if crate else loose).status[item] = False
    for crate in crates:
        for row in metric_rows(crate, config):
            item = metric_item(row.name)
            if item and row.ok is False:
                rows[crate.name].status[item] = False
    result = list(rows.values())
    if not any(c.path == "." for c in crates) and any(v is not None for v in loose.status.values()):
        result.append(loose)
    return items, result


@dataclass(frozen=True, slots=True)
class Verdict:
    fail_on: str
    failed: bool
    reasons: tuple[str, ...] = ()


def verdict(
    findings: Sequence[Finding], crates: Sequence[CrateReport], config: Config, fail_on: str, *, diff_mode: bool
) -> Verdict:
    """Apply ``fail_on`` (see the module docstring) to the reported findings and metrics."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"unknown fail-on {fail_on!r}; use one of {', '.join(FAIL_ON)}")
    reasons: list[str] = []
    if fail_on == "any" and findings:
        reasons.append(f"{len(findings)} finding(s) reported")
    elif fail_on == "new":
        errors = [f for f in findings if f.new is not False and f.severity >= Severity.ERROR]
        if errors:
            reasons.append(f"{len(errors)} new error-level finding(s)")
        if diff_mode:
            reasons += [
                f"`{c.name}`: `{row.name}` got worse past its limit ({row.worse_text()})"
                for c in crates
                for row in metric_rows(c, config)
                if row.worse
            ]
    return Verdict(fail_on, bool(reasons), tuple(reasons))


def metrics_dict(metrics: Metrics | None) -> dict[str, Any] | None:
    return None if metrics is None else metrics.to_dict()
