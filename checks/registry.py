"""Discovers rule files: every ``checks/rules/roNNN_*.py`` defines exactly one rule."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from ruvopt.checks import rules as rules_pkg
from ruvopt.checks.base import CrateRule, FileRule, Rule, WorkspaceRule


@cache
def all_rules() -> tuple[type[Rule], ...]:
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
    return tuple(sorted(found, key=lambda r: r.code))


def rule_by_code(code: str) -> type[Rule]:
    for rule in all_rules():
        if rule.code == code:
            return rule
    raise KeyError(code)


@cache
def ruleset_version() -> str:
    """Changes whenever any rule file changes: part of every cache key."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha1(usedforsecurity=False)
    package_dir = Path(__file__).parent
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
