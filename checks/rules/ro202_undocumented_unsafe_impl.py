from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import tree_sitter

from ruvopt.checks.base import FileRule
from ruvopt.checks.context import FileContext, anchor
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.rules.ro201_undocumented_unsafe_block import LINT_NAMES, first_line_finding, stub_edit
from ruvopt.checks.safety import verdicts as safety
from ruvopt.checks.safety.allow import lint_allowed, mentioned

STUB = "// SAFETY: <explain why this type upholds the trait's safety contract>"


def impl_header(ctx: FileContext, node: tree_sitter.Node) -> str:
    """``unsafe impl<T> Send for X<T>``: the impl up to its body, the fingerprint anchor."""
    body = node.child_by_field_name("body") if node.type == "impl_item" else None
    end = body.start_byte if body is not None else ctx.data.find(b"{", node.start_byte)
    return ctx.data[node.start_byte : end if end > node.start_byte else node.end_byte].decode(errors="replace")


class UndocumentedUnsafeImpl(FileRule):
    """## What it does
    Flags an `unsafe impl` without a `// SAFETY:` comment, as clippy 0.1.95's
    `undocumented_unsafe_blocks` does for impls. The comment must sit between the previous
    item (or the opening of the enclosing `mod` or block) and the `unsafe impl` line: doc
    comments may be in between, and one-line attributes when RO201's
    `accept-comment-above-attributes` option is on (clippy has one lint with one set of
    options; RO202 reads RO201's). A comment inside the impl, or a trailing comment on the
    previous item's last line, does not count. An `unsafe impl` written in a `macro_rules!`
    body is checked where it is written. `#[allow(clippy::undocumented_unsafe_blocks)]`
    silences it.

    ## Why is this bad?
    `unsafe impl Send for T` (or any unsafe trait) is a promise the compiler cannot check:
    that `T` really upholds the trait's contract. The reason belongs next to the promise,
    where the next change to `T`'s fields will be reviewed against it (checklist item 4).

    ## Example
    ```rust
    unsafe impl Send for RawBuffer {}
    ```

    Use instead:
    ```rust
    // SAFETY: `RawBuffer` owns its allocation and has no thread-affine state.
    unsafe impl Send for RawBuffer {}
    ```
    """

    code = "RO202"
    name = "undocumented-unsafe-impl"
    severity = Severity.WARNING
    checklist_item = "4"
    node_kinds = safety.NODE_KINDS

    def run(self, ctx: FileContext) -> Iterator[Finding]:
        may_be_allowed = mentioned(ctx.data, LINT_NAMES)
        for node, accepted in safety.unsafe_impl_verdicts(ctx):
            # A SAFETY comment clippy accepts: nothing to report.
            if accepted:
                continue
            # `#[allow(clippy::undocumented_unsafe_blocks)]` on the impl or around it.
            if may_be_allowed and lint_allowed(node, LINT_NAMES, safety.ancestors_of(safety.scan_of(ctx), node)):
                continue
            finding = ctx.report(
                self,
                node,
                "Add a `// SAFETY:` comment that says why this type upholds the trait's safety contract",
                fix_title="Write why the contract holds in a `// SAFETY:` comment above the `unsafe impl` line",
                suggestion=stub_edit(ctx, node, STUB),
            )
            finding = replace(finding, fingerprint=anchor("unsafe_impl", impl_header(ctx, node)))
            yield first_line_finding(ctx, finding, node)
