from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.syntax import rust


class CrateAllowBloat(CrateRule):
    """## What it does
    Flags a crate root whose crate-level `#![allow(...)]` attributes list more than
    `max-lints` (default 12) lint names in total, counted as the `crate_allow_lints`
    metric counts them: comma-separated entries, across attributes and lines
    (`#![allow(a,\\n b)]` is 2). `#[allow]` on items and `#![allow]` in other files are
    not counted. The finding sits on the attribute where the count first passes the
    limit.

    ## Why is this bad?
    A crate-wide allow silences a lint for every line of the crate, including code
    written later, so real problems (dead code, needless clones, unsafe misuse) go
    unnoticed. The checklist's item 8 finds 59 crate-level allows in
    `ruvllm/src/lib.rs` and moves the few that are needed onto the items that need
    them.

    ## Example
    ```rust
    #![allow(dead_code, unused_variables, clippy::too_many_arguments, /* 56 more */)]
    ```

    Use instead:
    ```rust
    #![allow(clippy::module_name_repetitions)]

    #[allow(clippy::too_many_arguments)] // mirrors the C API
    pub fn gemm(/* … */) {}
    ```

    ## Options
    - `max-lints` (integer, default 12): the most lint names crate-level `#![allow]` may list.
    """

    code = "RO104"
    name = "crate-allow-bloat"
    severity = Severity.WARNING
    checklist_item = "8"
    options: ClassVar[dict[str, Any]] = {"max-lints": 12}

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        limit = self.option("max-lints")
        for file in ctx.checkable_roots():
            root = file.path
            attributes = rust.crate_allow_attributes(file.tree.root_node)
            total = sum(len(lints) for _, lints in attributes)
            # At the limit is fine: a handful of deliberate crate-wide allows is normal.
            if total <= limit:
                continue
            crossing = rust.first_past_limit([(node, len(lints)) for node, lints in attributes], limit)
            yield file.report_line(
                self,
                crossing.start_point[0] + 1,
                f"Remove lint names from the crate-level `#![allow(...)]` of `{root}`: it allows {total} lints, "
                f"more than the limit of {limit}",
                key="crate-allow-bloat",
                fix_title="Fix the lints, or move each `#[allow]` onto the item that needs it, with a reason",
            )
