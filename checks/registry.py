"""The rule catalogue: every ``checks/rules/roNNN_*.py`` defines exactly one rule.

Everything that needs to know which rules exist asks here — the engine, config
validation, the gate, the renderers, the docs — so one catalogue serves them all and an
option's default lives in one place (the rule class). Tests that need extra rules
install them with :func:`extended` instead of patching each consumer.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from ruvopt.checks import config as config_mod
from ruvopt.checks import rules as rules_pkg
from ruvopt.checks.base import CrateRule, FileRule, Rule, WorkspaceRule
from ruvopt.checks.config import Config
from ruvopt.checks.metrics import METRIC_NODE_KINDS
from ruvopt.checks.source import SourceTree

_extra: tuple[type[Rule], ...] = ()  # rules installed by `extended` (tests, plugins)


@cache
def _discovered() -> tuple[type[Rule], ...]:
    found: list[type[Rule]] = []
    for info in sorted(pkgutil.iter_modules(rules_pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("ro"):
            continue
        module = importlib.import_module(f"{rules_pkg.__name__}.{info.name}")
        classes = [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Rule)
            and obj not in (Rule, FileRule, CrateRule, WorkspaceRule)
            and obj.__module__ == module.__name__
        ]
        if len(classes) != 1:
            raise RuntimeError(f"{info.name} must define exactly one rule, found {len(classes)}")
        found.append(classes[0])
    return tuple(found)


@cache
def _catalogue(extra: tuple[type[Rule], ...]) -> tuple[type[Rule], ...]:
    return tuple(sorted((*_discovered(), *extra), key=lambda r: r.code))


def all_rules() -> tuple[type[Rule], ...]:
    """Every rule of this build (plus any installed by :func:`extended`), by code."""
    return _catalogue(_extra)


@contextmanager
def extended(*rules: type[Rule]) -> Iterator[None]:
    """Run with ``rules`` added to the catalogue (forked engine workers inherit it)."""
    global _extra
    saved, _extra = _extra, (*_extra, *rules)
    try:
        yield
    finally:
        _extra = saved


def rule_by_code(code: str) -> type[Rule]:
    for rule in all_rules():
        if rule.code == code:
            return rule
    raise KeyError(code)


def option_defaults() -> dict[str, Mapping[str, Any]]:
    """code -> the rule's options with their defaults: what config validation checks against."""
    return {rule.code: rule.options for rule in all_rules()}


def option_value(config: Config, code: str, name: str) -> Any:
    """The configured value of a rule option, else the rule class's default."""
    return config.rule_option(code, name, rule_by_code(code).options[name])


def load_config(tree: SourceTree) -> Config:
    """The tree's configuration, validated against this build's rules (raises ConfigError)."""
    return config_mod.load_config(tree, option_defaults())


def parse_config(text: str, source: str) -> Config:
    return config_mod.parse_config(text, source, option_defaults())


def wanted_kinds_for(config: Config) -> frozenset[str]:
    """Node kinds the metrics and the rules enabled by ``config`` read: one query collects them."""
    return _wanted_kinds(config.select, config.ignore, _extra)


@cache
def _wanted_kinds(select: tuple[str, ...], ignore: tuple[str, ...], extra: tuple[type[Rule], ...]) -> frozenset[str]:
    selection = Config(select=select, ignore=ignore)
    kinds = set(METRIC_NODE_KINDS)
    for rule_cls in _catalogue(extra):
        if selection.enabled(rule_cls.code):
            kinds.update(rule_cls.node_kinds)
    return frozenset(kinds)


@cache
def ruleset_version() -> str:
    """Changes whenever any rule file changes: part of every cache key."""
    digest = hashlib.sha1(usedforsecurity=False)
    package_dir = Path(__file__).parent
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
