from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar

import tree_sitter

from ruvopt.checks.base import FileRule
from ruvopt.checks.context import FileContext
from ruvopt.checks.model import Edit, Finding, Severity
from ruvopt.checks.safety import verdicts as safety
from ruvopt.checks.safety.allow import lint_allowed, mentioned

LINT_NAMES = frozenset({"clippy::undocumented_unsafe_blocks", "clippy::restriction"})
STUB = "// SAFETY: <explain why the unsafe operations here are sound>"


def stub_edit(ctx: FileContext, node: tree_sitter.Node, stub: str) -> Edit | None:
    """Insert ``stub`` above the line holding ``node``, indented like that line."""
    if not safety.comment_line_fits(ctx, node):
        return None  # e.g. `fn f() { unsafe { … } }` on one line: no line above counts
    number = node.start_point[0] + 1
    original = ctx.line(number)
    indent = original[: len(original) - len(original.lstrip())]
    return Edit(ctx.path, number, number, f"{indent}{stub}\n{original}")


def first_line_finding(ctx: FileContext, finding: Finding, node: tree_sitter.Node) -> Finding:
    """Clippy's span: the node up to the end of its first line."""
    if node.end_point[0] == node.start_point[0]:
        return finding
    return replace(finding, end_line=finding.start_line, end_col=len(ctx.line(finding.start_line)) + 1)


class UndocumentedUnsafeBlock(FileRule):
    """## What it does
    Flags an `unsafe { }` block without a `// SAFETY:` comment, deciding exactly as
    clippy 0.1.95's `undocumented_unsafe_blocks` does, without compiling. Accepted:
    a comment on the lines above the line holding `unsafe` (`//` lines containing
    `SAFETY:` in any case; a `/* SAFETY: */` block comment followed only by blank lines;
    a trailing `// SAFETY:` on the line above; blank lines and one-line attributes may sit
    between), a comment that opens the block (`unsafe { // SAFETY: …`), or a comment above
    the enclosing `let`, assignment, `const`/`static` or expression statement. Only lines
    inside the enclosing function count: a comment above the `fn` line does not. Blocks in
    `macro_rules!` bodies are checked where they are written. The exact rules, measured
    against clippy, are in `checks/safety/verdicts.py` and `checks/safety/text.py`.
    `#[allow(clippy::undocumented_unsafe_blocks)]` on an enclosing item silences it.

    ## Why is this bad?
    An `unsafe` block is a proof obligation the compiler hands to the author. Without a
    note saying which invariant makes the operations sound, a reviewer cannot check it
    and a later change can silently break it. The checklist's item 4 asks for SAFETY
    coverage of every unsafe block, enforced in CI with clippy's lint.

    ## Example
    ```rust
    let value = unsafe { *pointer };
    ```

    Use instead:
    ```rust
    // SAFETY: `pointer` comes from `Box::into_raw` above and is not freed yet.
    let value = unsafe { *pointer };
    ```

    ## Options
    - `accept-comment-above-statement` (boolean, default true): also accept the comment
      above the statement that contains the block (clippy's option of the same name).
    - `accept-comment-above-attributes` (boolean, default true): skip one-line attributes
      between the comment and the code (clippy's option of the same name; RO202 follows it).
    """

    code = "RO201"
    name = "undocumented-unsafe-block"
    severity = Severity.WARNING
    checklist_item = "4"
    options: ClassVar[dict[str, Any]] = {
        "accept-comment-above-statement": True,
        "accept-comment-above-attributes": True,
    }
    node_kinds = safety.NODE_KINDS

    def run(self, ctx: FileContext) -> Iterator[Finding]:
        may_be_allowed = mentioned(ctx.data, LINT_NAMES)
        for node, accepted in safety.unsafe_block_verdicts(ctx):
            # A SAFETY comment clippy accepts: nothing to report.
            if accepted:
                continue
            # `#[allow(clippy::undocumented_unsafe_blocks)]` around it: clippy is silent too.
            if may_be_allowed and lint_allowed(node, LINT_NAMES, safety.ancestors_of(safety.scan_of(ctx), node)):
                continue
            # A block left as tokens (in a macro) is the `unsafe` token plus its `{ … }` tree;
            # the fingerprint anchors on the block either way.
            block = node.next_sibling if node.type == "unsafe" and node.next_sibling is not None else node
            finding = ctx.report(
                self,
                block,
                "Add a `// SAFETY:` comment that says why this `unsafe` block is sound",
                fix_title="Write the invariant that makes it sound in a `// SAFETY:` comment above the `unsafe` line",
                suggestion=stub_edit(ctx, node, STUB),
            )
            finding = replace(finding, start_line=node.start_point[0] + 1, start_col=node.start_point[1] + 1)
            yield first_line_finding(ctx, finding, block)
