from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ruvopt.checks.base import FileRule
from ruvopt.checks.context import FileContext
from ruvopt.checks.hot import benches
from ruvopt.checks.hot import paths as hotpath
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.syntax import rust

CLOCKS = (("Instant", "now"), ("SystemTime", "now"))


class UngatedTimingInHotPath(FileRule):
    """## What it does
    In hot functions (option `functions`, a `// ruvopt: hot` comment line above the
    `fn`, or a function a bench calls — see RO501), flags `Instant::now()` and
    `SystemTime::now()` (under any path, e.g.
    `std::time::Instant::now()`) that are compiled in unconditionally.

    A call is gated, and not flagged, when it only exists for some setting of a Cargo
    feature: `#[cfg(feature = …)]` (also inside `all`/`any`/`not`) on the statement,
    on an enclosing block, match arm, struct-literal field, function, impl or inline
    module; `#![cfg(feature = …)]` at the top of the file or module; or inside either
    branch of `if cfg!(feature = …)`. A runtime flag (`if self.metrics_enabled`) is not
    a gate: the branch and the code stay in every build. A `#[cfg(feature)]` on the
    `mod` declaration in the parent file is not seen (the rule looks at one file).

    ## Why is this bad?
    Reading the clock is a vDSO call (a syscall on some platforms and VMs) on every
    call of a function whose whole budget is a few microseconds. The checklist's seed
    commit (P1) put the router's `Instant::now()` and metrics behind a
    `routing-metrics` feature so production builds skip them.

    ## Example
    ```rust
    pub fn route(&mut self, logits: &[f32]) -> &[usize] {
        let start = Instant::now();
        let selected = self.select_top_k(logits);
        self.metrics.record_routing(start.elapsed());
        selected
    }
    ```

    Use instead:
    ```rust
    pub fn route(&mut self, logits: &[f32]) -> &[usize] {
        #[cfg(feature = "routing-metrics")]
        let start = Instant::now();
        let selected = self.select_top_k(logits);
        #[cfg(feature = "routing-metrics")]
        self.metrics.record_routing(start.elapsed());
        selected
    }
    ```

    ## Options
    - `functions` (list of strings): hot function patterns, same syntax as RO501's.
      When `[rules.RO502]` does not set it, RO502 uses `[rules.RO501] functions`, so
      one list usually serves both rules.
    - `hot-from-benches` (boolean, default true): treat the functions benches call as
      hot; unset, RO501's setting applies.
    """

    code = "RO502"
    name = "ungated-timing-in-hot-path"
    severity = Severity.WARNING
    checklist_item = "seed P1"
    options: ClassVar[dict[str, Any]] = {"functions": [], "hot-from-benches": True}
    node_kinds = ("call_expression", *hotpath.NODE_KINDS, *benches.NODE_KINDS)

    def patterns(self) -> Any:
        return self._own_or_ro501("functions", [])

    def infers_hot_from_benches(self) -> bool:
        return bool(self._own_or_ro501("hot-from-benches", True))

    def _own_or_ro501(self, name: str, default: Any) -> Any:
        own = self.config.rules.get(self.code, {}).get(name)
        return own if own is not None else self.config.rule_option("RO501", name, default)

    def run(self, ctx: FileContext) -> Iterator[Finding]:
        for function in hotpath.hot_functions(ctx, self.patterns()):
            for call in hotpath.body_nodes(ctx, function.node, ("call_expression",)):
                path = rust.call_path(call)
                clock = next((c for c in CLOCKS if rust.ends_with(path, c)), None)
                # Any other call, including a method named `now` on some value.
                if clock is None:
                    continue
                # Compiled only with (or without) a feature: production builds choose.
                if rust.under_cfg(ctx.tree.root_node, call, "feature"):
                    continue
                yield ctx.report(
                    self,
                    call,
                    f"Put `{clock[0]}::now()` in hot function `{function.display}`{function.because} behind a "
                    "Cargo feature: "
                    "it reads the clock on every call",
                    fix_title='Gate the timing and what uses it with `#[cfg(feature = "…-metrics")]`',
                )
