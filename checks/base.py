"""The rule contract. A rule is a class in ``checks/rules/roNNN_slug.py``.

``FileRule.run`` sees one ``.rs`` file at a time (its results are cached per blob);
``CrateRule.run`` sees one crate (manifest, roots, and per-file facts it collected with
``file_facts``, which are cached per blob as well).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from ruvopt.checks.model import Finding, Severity

if TYPE_CHECKING:
    from ruvopt.checks.config import Config
    from ruvopt.checks.context import CrateContext, FileContext, WorkspaceContext


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    checklist_item: ClassVar[str] = ""
    # Option name (kebab-case, as in ruvopt.toml) -> default value; the type of the
    # default is the type the config accepts.
    options: ClassVar[dict[str, Any]] = {}
    # tree-sitter node kinds the rule reads through ``ctx.nodes(kind)``.
    node_kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Config) -> None:
        self.config = config

    def option(self, name: str) -> Any:
        return self.config.rule_option(self.code, name, self.options[name])


class FileRule(Rule):
    scope: ClassVar[str] = "file"

    def run(self, ctx: FileContext) -> Iterator[Finding]:
        raise NotImplementedError

    def infers_hot_from_benches(self) -> bool:
        """Whether the rule also runs, in a second pass, on the functions benches call
        (``FileContext.bench_hot``); only hot-path rules do."""
        return False


class CrateRule(Rule):
    scope: ClassVar[str] = "crate"

    def file_facts(self, ctx: FileContext) -> Any:
        """Per-file facts this rule needs at crate level (JSON-able); None = nothing."""
        return None

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        raise NotImplementedError


class WorkspaceRule(Rule):
    """Sees the whole workspace once (root-manifest settings such as profiles)."""

    scope: ClassVar[str] = "workspace"

    def run(self, ctx: WorkspaceContext) -> Iterator[Finding]:
        raise NotImplementedError
