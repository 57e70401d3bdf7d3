from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.syntax import rust


class ReexportBloat(CrateRule):
    """## What it does
    Flags a crate root that re-exports more than `max-names` (default 50) names with
    `pub use`. Names are counted as the `pub_use_names` metric counts them: the
    leaves of every `use` declaration with visibility exactly `pub` written directly
    in the root file (`pub use a::{b, c as d, e::{self, f::*}};` is 4: `b`, `d`,
    `self`, `*`). `pub(crate) use` and `use` inside inline modules are not counted.
    The finding sits on the `pub use` where the count first passes the limit.

    ## Why is this bad?
    Each re-export is part of the public API the compiler must resolve and document,
    and glob re-exports pull whole modules into the root namespace. The checklist's
    item 2 found 362 re-exports in `ruvllm/src/lib.rs` and keeps the ~50 most used,
    letting users import the rest from their modules.

    ## Example
    ```rust
    pub use backends::{CandleBackend, LlmBackend, GenerateParams, /* … */};
    pub use kernels::*;
    pub use serving::{/* 40 more names */};
    ```

    Use instead:
    ```rust
    pub use backends::{GenerateParams, LlmBackend};
    pub use error::{Result, RuvLLMError};
    pub use serving::{ServingEngine, ServingEngineConfig};
    // everything else: `use ruvllm::backends::CandleBackend;`
    ```

    ## Options
    - `max-names` (integer, default 50): the most names the crate root may re-export.
    """

    code = "RO103"
    name = "reexport-bloat"
    severity = Severity.WARNING
    checklist_item = "2"
    options: ClassVar[dict[str, Any]] = {"max-names": 50}

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        limit = self.option("max-names")
        for file in ctx.checkable_roots():
            root = file.path
            declarations = rust.pub_use_declarations(file.tree.root_node)
            counts = [len(rust.use_tree_leaves(d)) for d in declarations]
            total = sum(counts)
            # At the limit is fine: the checklist keeps ~50 names.
            if total <= limit:
                continue
            crossing = rust.first_past_limit(list(zip(declarations, counts, strict=True)), limit)
            yield file.report_line(
                self,
                crossing.start_point[0] + 1,
                f"Trim the re-exports of `{root}`: it re-exports {total} names with `pub use`, "
                f"more than the limit of {limit}",
                key="reexport-bloat",
                fix_title="Keep the most used names at the root; let users import the rest from their modules",
            )
