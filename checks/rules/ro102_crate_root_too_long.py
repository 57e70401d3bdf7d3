from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext
from ruvopt.checks.model import Finding, Severity


class CrateRootTooLong(CrateRule):
    """## What it does
    Flags a crate root — the library root (`src/lib.rs` or `[lib] path`) and every
    binary root (`src/main.rs`, `[[bin]] path`) — with more lines than `max-lines`
    (default 300), counting exactly as `wc -l src/lib.rs` does: newline bytes. The
    finding sits on the first line past the limit.

    ## Why is this bad?
    Every change to the crate root invalidates more of the incremental cache, and a
    root that holds code instead of module declarations and a curated API is hard to
    navigate. The checklist's item 2 takes `ruvllm/src/lib.rs` from ~994 lines to
    200–300 by moving re-exports and code into modules.

    ## Example
    ```text
    src/lib.rs   994 lines (mod declarations, 362 re-exports, helper functions)
    ```

    Use instead:
    ```text
    src/lib.rs        250 lines (mod declarations and the top-level API)
    src/prelude.rs    the long tail of re-exports
    ```

    ## Options
    - `max-lines` (integer, default 300): the largest number of lines a crate root may have.
    """

    code = "RO102"
    name = "crate-root-too-long"
    severity = Severity.WARNING
    checklist_item = "2"
    options: ClassVar[dict[str, Any]] = {"max-lines": 300}

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        limit = self.option("max-lines")
        for file in ctx.checkable_roots():
            root = file.path
            # At the limit is fine: `wc -l` ≤ max-lines passes, as in the checklist.
            if file.line_count <= limit:
                continue
            yield file.report_line(
                self,
                limit + 1,
                f"Move code out of crate root `{root}`: it has {file.line_count} lines, more than the limit of {limit}",
                key="crate-root-too-long",
                fix_title="Keep the crate root to `mod` declarations and the top-level API; move items into modules",
            )
