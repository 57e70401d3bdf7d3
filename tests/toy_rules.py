"""Two small rules the diff-mode, renderer and CLI tests run instead of the real catalogue.

The real rules change while they are written; these keep the tests about diff mode and
output (what is new, what is kept, what exits 1) rather than about one rule's verdicts.
They plug into the real registry (``use_toy_rules``), so the engine, config validation
and renderers see them exactly as they see real rules.

- RO991 ``perf-todo`` (error): every ``perf_todo!(…)`` macro call, anchored on its text.
- RO992 ``heavy-default`` (warning): ``[features] default`` when a default feature
  enables an optional dependency whose name starts with ``candle``; reported on the
  ``default =`` line of the manifest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ruvopt.checks import registry
from ruvopt.checks.base import CrateRule, FileRule
from ruvopt.checks.context import CrateContext, FileContext
from ruvopt.checks.model import Finding, Severity


class PerfTodo(FileRule):
    """## What it does
    Flags every `perf_todo!(...)` call.

    ## Why is this bad?
    It marks unfinished performance work.

    ## Example
    ```rust
    perf_todo!("vectorise");
    ```

    Use instead:
    ```rust
    // done
    ```
    """

    code = "RO991"
    name = "perf-todo"
    severity = Severity.ERROR
    checklist_item = "seed P0"
    node_kinds = ("macro_invocation",)

    def run(self, ctx: FileContext) -> Iterator[Finding]:
        for node in ctx.nodes("macro_invocation"):
            name = node.child_by_field_name("macro")
            if name is None or ctx.node_text(name) != "perf_todo":
                continue
            yield ctx.report(self, node, "Finish this `perf_todo!`", fix_title="Do the work")


class HeavyDefault(CrateRule):
    """## What it does
    Flags `[features] default` when it enables a `candle*` optional dependency.

    ## Why is this bad?
    Every user compiles it.

    ## Example
    ```toml
    default = ["gpu"]
    gpu = ["dep:candle-core"]
    ```

    Use instead:
    ```toml
    default = []
    ```
    """

    code = "RO992"
    name = "heavy-default"
    severity = Severity.WARNING
    checklist_item = "1"

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        features = ctx.manifest.table("features")
        default = features.get("default", [])
        enabled = [str(e) for f in default for e in features.get(str(f), [])]
        if not any(e.startswith("dep:candle") for e in enabled):
            return
        line = ctx.manifest.line_of("default", after="[features]")
        yield ctx.report_manifest(self, line, "Make `default` light", key="features.default")


TOY_RULES = (PerfTodo, HeavyDefault)
TOY_CONFIG = 'select = ["RO99"]\n'  # a ruvopt.toml that runs only the toy rules


@pytest.fixture
def use_toy_rules() -> Iterator[None]:
    """The catalogue holds the real rules plus the toy rules for this test."""
    with registry.extended(*TOY_RULES):
        yield
