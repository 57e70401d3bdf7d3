"""Per-repository configuration: ``ruvopt.toml`` or ``[workspace|package.metadata.ruvopt]``.

Parsed strictly, after triagebot's ``src/config.rs``: an unknown key or a value of the
wrong type is an error naming the file, the key and what would be valid ("did you mean"),
so the person reading a failed check knows exactly what to change.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import tomlkit
import tomlkit.exceptions

from ruvopt.checks.manifest.limits import over_limits
from ruvopt.checks.manifest.toml_lines import TomlLines
from ruvopt.checks.source import DEFAULT_MAX_FILE_BYTES, SourceTree

FAIL_ON_VALUES = ("new", "any", "never")
CONFIG_FILE = "ruvopt.toml"
# code -> option name -> default: the rules a configuration is validated against
# (:func:`ruvopt.checks.registry.option_defaults`; the config layer knows no rule itself).
RuleOptions = Mapping[str, Mapping[str, Any]]


class ConfigError(ValueError):
    """A configuration mistake, worded as a fix-it for the person who wrote the file."""

    def __init__(self, source: str, message: str, key: tuple[str, ...] = (), line: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
        self.key = key  # the offending key path inside the ruvopt table, for pointing at it
        self.line = line  # known directly when the file is not valid TOML

    def __str__(self) -> str:
        where = f"{self.source}, line {self.line}" if self.line else self.source
        return f"{where}: {self.message}"

    def at_line(self, line: int | None) -> ConfigError:
        """The same error, pointing at ``line`` of its file (when it had no line)."""
        if self.line or not line:
            return self
        return ConfigError(self.source, self.message, self.key, line)


@dataclass(frozen=True, slots=True)
class BenchBudget:
    """An absolute limit on head: ``"10us"``, ``"<= 2MiB"``, ``">= 0.70"``."""

    limit: float  # nanoseconds for a time, bytes for a size, the number itself otherwise
    dimension: str  # time | size | number
    higher_is_better: bool
    text: str


@dataclass(frozen=True, slots=True)
class BenchConfig:
    profiles: tuple[str, ...] = ("release",)
    benches: tuple[str, ...] = ()
    runs: int = 5
    max_regression: str = "2%"
    budgets: dict[str, str] = field(default_factory=dict)
    metric: str = "time"
    bmf_file: str | None = None
    warm_up_time: int | None = None
    measurement_time: int | None = None
    sample_size: int | None = None

    @property
    def max_regression_ratio(self) -> float:
        return parse_percent(self.max_regression)

    def budget_limits(self) -> dict[str, BenchBudget]:
        return {key: parse_budget(text) for key, text in self.budgets.items()}


@dataclass(frozen=True, slots=True)
class Config:
    select: tuple[str, ...] = ("RO",)
    ignore: tuple[str, ...] = ()
    fail_on: str = "new"
    crates: tuple[str, ...] = ()  # empty: every workspace member
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    bench: BenchConfig = field(default_factory=BenchConfig)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    source: str = "defaults"

    def enabled(self, code: str) -> bool:
        selected = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        ignored = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return selected > ignored  # the more specific prefix wins, as in ruff

    def rule_option(self, code: str, name: str, default: Any) -> Any:
        return self.rules.get(code, {}).get(name, default)

    def digest(self) -> str:
        """Identifies everything that can change a file rule's verdict (cache key part)."""
        payload = json.dumps(
            {"select": self.select, "ignore": self.ignore, "rules": self.rules, "max": self.max_file_bytes},
            sort_keys=True,
        )
        return hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()[:16]


TOP_LEVEL_KEYS = ("select", "ignore", "fail-on", "crates", "rules", "bench", "max-file-bytes")
BENCH_KEYS = (
    "profiles",
    "benches",
    "runs",
    "max-regression",
    "budgets",
    "metric",
    "bmf-file",
    "warm-up-time",
    "measurement-time",
    "sample-size",
)
BENCH_METRICS = ("time", "instructions")


def load_config(tree: SourceTree, rules: RuleOptions) -> Config:
    """Config of this tree (for the App: the base commit's tree). Raises ConfigError."""
    if tree.exists(CONFIG_FILE):
        return parse_config(tree.read_text(CONFIG_FILE), CONFIG_FILE, rules)
    if tree.exists("Cargo.toml"):
        text = tree.read_text("Cargo.toml")
        if over_limits(text) is not None:
            return Config()  # too large to parse: reported by RO001, not here
        try:
            doc = tomlkit.parse(text).unwrap()
        except tomlkit.exceptions.ParseError:
            return Config()  # the broken manifest is reported by RO001, not here
        for section in ("workspace", "package"):
            # `workspace = 1` or `metadata = "x"` is Cargo's error to report, not a crash here.
            outer = doc.get(section)
            metadata = outer.get("metadata") if isinstance(outer, dict) else None
            table = metadata.get("ruvopt") if isinstance(metadata, dict) else None
            if table is not None:
                try:
                    return config_from_table(table, f"Cargo.toml [{section}.metadata.ruvopt]", rules)
                except ConfigError as error:
                    line = TomlLines(text).line(section, "metadata", "ruvopt", *error.key)
                    raise error.at_line(line) from None
    return Config()


def parse_config(text: str, source: str, rules: RuleOptions) -> Config:
    too_big = over_limits(text)
    if too_big is not None:
        raise ConfigError(source, f"not read: {too_big}")
    try:
        table = tomlkit.parse(text).unwrap()
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(source, f"not valid TOML: {exc}", line=exc.line) from None
    try:
        return config_from_table(table, source, rules)
    except ConfigError as error:
        raise error.at_line(TomlLines(text).line(*error.key)) from None


def config_from_table(table: Any, source: str, rules: RuleOptions) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(source, "the ruvopt configuration must be a table")
    _reject_unknown(table, TOP_LEVEL_KEYS, source, "")
    codes = sorted(rules)
    select = tuple(_str_list(table, "select", source, ["RO"]))
    ignore = tuple(_str_list(table, "ignore", source, []))
    for key, prefixes in (("select", select), ("ignore", ignore)):
        for prefix in prefixes:
            if not any(code.startswith(prefix) for code in codes):
                raise ConfigError(
                    source, f"`{key}` entry {prefix!r} matches no rule; rules are {', '.join(codes)}", (key,)
                )
    fail_on = table.get("fail-on", "new")
    if fail_on not in FAIL_ON_VALUES:
        raise ConfigError(
            source, f"`fail-on = {fail_on!r}` is not valid; use one of {', '.join(FAIL_ON_VALUES)}", ("fail-on",)
        )
    max_bytes = table.get("max-file-bytes", DEFAULT_MAX_FILE_BYTES)
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0:
        raise ConfigError(source, "`max-file-bytes` must be a positive integer (bytes)", ("max-file-bytes",))
    return Config(
        select=select,
        ignore=ignore,
        fail_on=fail_on,
        crates=tuple(_str_list(table, "crates", source, [])),
        rules=_rule_options(table.get("rules", {}), source, rules),
        bench=_bench(table.get("bench", {}), source),
        max_file_bytes=max_bytes,
        source=source,
    )


def _reject_unknown(table: dict[str, Any], valid: tuple[str, ...] | list[str], source: str, where: str) -> None:
    for key in table:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                source,
                f"unknown key `{where}{key}`.{hint} Valid keys here: {', '.join(valid) or '(none)'}",
                (*where.split(".")[:-1], key),
            )


def _str_list(table: dict[str, Any], key: str, source: str, default: list[str], where: str = "") -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        example = json.dumps(default or ["RO2"])
        raise ConfigError(
            source, f"`{where}{key}` must be a list of strings, e.g. {key} = {example}", (*where.split(".")[:-1], key)
        )
    return list(value)


def _rule_options(table: Any, source: str, known: RuleOptions) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict):
        raise ConfigError(source, "`rules` must be a table of [rules.<CODE>] tables", ("rules",))
    result: dict[str, dict[str, Any]] = {}
    for code, options in table.items():
        if code not in known:
            _reject_unknown({code: None}, sorted(known), source, "rules.")
        defaults = known[code]
        if not isinstance(options, dict):
            raise ConfigError(source, f"`rules.{code}` must be a table", ("rules", code))
        _reject_unknown(options, list(defaults), source, f"rules.{code}.")
        for name, value in options.items():
            _check_type(value, defaults[name], source, f"rules.{code}.{name}")
        result[code] = dict(options)
    return result


_TYPE_NAMES: dict[type, str] = {
    int: "an integer ≥ 0",
    float: "a number",
    bool: "true or false",
    str: "a string",
    list: "a list of strings",
}


def _check_type(value: Any, default: Any, source: str, key: str) -> None:
    expected = type(default)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True  # `ratio = 1` for a float option is what the user meant
    if ok and expected is list:
        ok = all(isinstance(v, str) for v in value)
    if ok and expected is int and value < 0:
        ok = False  # every int option is a count or a limit: -1 would crash the rule, not relax it
    if not ok:
        raise ConfigError(
            source, f"`{key}` must be {_TYPE_NAMES[expected]} (default: {json.dumps(default)})", tuple(key.split("."))
        )


def _bench(bench: Any, source: str) -> BenchConfig:
    if not isinstance(bench, dict):
        raise ConfigError(source, "`bench` must be a table", ("bench",))
    _reject_unknown(bench, BENCH_KEYS, source, "bench.")
    budgets = bench.get("budgets", {})
    if not isinstance(budgets, dict) or not all(isinstance(v, str) for v in budgets.values()):
        raise ConfigError(
            source, '`bench.budgets` maps benchmark ids to limits, e.g. "moe/select" = "10us"', ("bench", "budgets")
        )
    for key, text in budgets.items():
        try:
            parse_budget(text)
        except ValueError as exc:
            raise ConfigError(source, f"`bench.budgets.{key}`: {exc}", ("bench", "budgets", key)) from None
    max_regression = bench.get("max-regression", "2%")
    try:
        parse_percent(max_regression)
    except ValueError:
        raise ConfigError(
            source, '`bench.max-regression` must be a string with a percentage, e.g. "2%"', ("bench", "max-regression")
        ) from None
    runs = bench.get("runs", 5)
    if not isinstance(runs, int) or isinstance(runs, bool) or not 1 <= runs <= 50:
        raise ConfigError(source, "`bench.runs` must be an integer from 1 to 50", ("bench", "runs"))
    metric = bench.get("metric", "time")
    if metric not in BENCH_METRICS:
        raise ConfigError(
            source,
            f"`bench.metric = {metric!r}` is not valid; use one of {', '.join(BENCH_METRICS)}",
            ("bench", "metric"),
        )
    bmf_file = bench.get("bmf-file")
    if bmf_file is not None and (not isinstance(bmf_file, str) or not _relative_path(bmf_file)):
        raise ConfigError(
            source,
            '`bench.bmf-file` must be a relative path inside the package, e.g. "bmf.json"',
            ("bench", "bmf-file"),
        )
    return BenchConfig(
        profiles=tuple(_str_list(bench, "profiles", source, ["release"], "bench.")),
        benches=tuple(_str_list(bench, "benches", source, [], "bench.")),
        runs=runs,
        max_regression=max_regression,
        budgets=dict(budgets),
        metric=metric,
        bmf_file=bmf_file,
        warm_up_time=_int_in_range(bench, "warm-up-time", source, 1, 600),
        measurement_time=_int_in_range(bench, "measurement-time", source, 1, 600),
        sample_size=_int_in_range(bench, "sample-size", source, 10, 100_000),
    )


def _int_in_range(table: dict[str, Any], key: str, source: str, low: int, high: int) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(source, f"`bench.{key}` must be an integer from {low} to {high}", ("bench", key))
    return value


def _relative_path(text: str) -> bool:
    parts = text.replace("\\", "/").split("/")
    return bool(text) and not text.startswith("/") and ".." not in parts


_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_BUDGET = re.compile(r"^\s*(<=|>=|<|>)?\s*([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*([A-Za-zµ]*)\s*$")
_TIME_UNITS = {"ns": 1.0, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}
_SIZE_UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def parse_percent(text: Any) -> float:
    """``"2%"`` → 0.02 (ValueError otherwise)."""
    match = _PERCENT.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a percentage: {text!r}")
    return float(match.group(1)) / 100


def parse_budget(text: str) -> BenchBudget:
    """``"10us"``, ``"<= 1.5 MiB"``, ``">= 0.70"`` → :class:`BenchBudget` (ValueError with a fix-it)."""
    match = _BUDGET.match(text)
    if match is None:
        raise ValueError(f'{text!r} is not a limit; write e.g. "10us", "<= 2MiB" or ">= 0.70"')
    op, number, unit = match.group(1) or "<=", float(match.group(2)), match.group(3)
    if unit in _TIME_UNITS:
        limit, dimension = number * _TIME_UNITS[unit], "time"
    elif unit in _SIZE_UNITS:
        limit, dimension = number * _SIZE_UNITS[unit], "size"
    elif unit == "":
        limit, dimension = number, "number"
    else:
        units = ", ".join([*_TIME_UNITS, *_SIZE_UNITS])
        raise ValueError(f"unknown unit `{unit}` in {text!r}; use one of {units}, or none for a plain number")
    return BenchBudget(limit, dimension, op.startswith(">"), text.strip())
