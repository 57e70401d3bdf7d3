from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext, FileContext, anchor
from ruvopt.checks.model import Edit, Finding, Severity
from ruvopt.checks.safety import exports as safety_exports
from ruvopt.checks.safety.allow import mentioned

STUBS = {"fn": "what the caller must guarantee", "trait": "what an implementation must guarantee"}
WORDS = {"fn": "`unsafe fn`", "trait": "`unsafe trait`"}


class MissingSafetyDoc(CrateRule):
    """## What it does
    Flags a public `unsafe fn` or an `unsafe trait` whose documentation has no `# Safety`
    section, with the semantics of clippy 0.1.95's `missing_safety_doc`. An `unsafe fn`
    is checked when it is exported (library crates only: `pub` all the way from the crate
    root through `pub mod`, or re-exported with `pub use`) and neither it nor an enclosing
    module, impl or trait is `#[doc(hidden)]`: free functions, `pub` methods of inherent
    impls, and methods declared in exported traits (with or without a default body);
    methods of trait impls never (the trait documents them). Every `unsafe trait` is
    checked, public or not, unless it is `#[doc(hidden)]` itself — as clippy does.
    The section is a Markdown heading of any level whose text is exactly `Safety` or
    `SAFETY` (also `Implementation safety`); `# safety`, `# Safety:` or a heading inside a
    code block do not count. `#[allow(clippy::missing_safety_doc)]` silences it. How
    "exported" is approximated without compiling: `checks/safety/exports.py`.

    ## Why is this bad?
    Callers of an `unsafe fn` must uphold its preconditions, and implementors of an
    `unsafe trait` its contract; the `# Safety` section is where those obligations are
    written down (checklist item 4). Without it every caller guesses.

    ## Example
    ```rust
    /// Reads the value.
    pub unsafe fn read(pointer: *const u64) -> u64 { *pointer }
    ```

    Use instead:
    ```rust
    /// Reads the value.
    ///
    /// # Safety
    ///
    /// `pointer` must be non-null, aligned and valid for reads of a `u64`.
    pub unsafe fn read(pointer: *const u64) -> u64 { *pointer }
    ```
    """

    code = "RO203"
    name = "missing-safety-doc"
    severity = Severity.WARNING
    checklist_item = "4"
    node_kinds = (
        "function_item", "function_signature_item", "trait_item", "mod_item", "use_declaration",
        "struct_item", "enum_item", "union_item", "impl_item", "foreign_mod_item",
    )

    def file_facts(self, ctx: FileContext) -> Any:
        if b"unsafe" not in ctx.data and b"mod " not in ctx.data and b"pub use" not in ctx.data:
            return None
        may_be_allowed = mentioned(ctx.data, safety_exports.LINT_NAMES)
        nest = safety_exports.Nest.of(ctx)
        return {
            "items": [
                safety_exports.item_fact(ctx, nest, node, may_be_allowed)
                for node in safety_exports.unsafe_items(ctx, nest)
            ],
            "mods": [
                safety_exports.mod_fact(ctx, nest, module)
                for module in ctx.nodes("mod_item")
                if module.child_by_field_name("body") is None
            ],
            "inline_mods": nest.module_tree(),
            "reexports": safety_exports.reexports(ctx, nest),
            "allowed": safety_exports.file_allowed(ctx),
        }

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        facts: dict[str, Any] = ctx.facts.get(self.code, {})
        roots = [r for r in (ctx.crate.lib_root, *ctx.crate.bin_roots) if r is not None and r in facts]
        # `#![allow(clippy::missing_safety_doc)]` in a crate root covers the whole crate.
        if any(facts[root]["allowed"] for root in roots):
            return
        compiled = safety_exports.routes(roots, facts, set(ctx.crate.rs_files))
        library = ctx.crate.lib_root
        public = safety_exports.routes([library], facts, set(ctx.crate.rs_files)) if library in facts else {}
        names, whole = safety_exports.exported_names(facts, {p: r.module for p, r in public.items()})
        for path in sorted(compiled):
            for item in facts.get(path, {}).get("items", []):
                # Documented, silenced, or hidden itself: clippy is quiet for fns and traits.
                if item["documented"] or item["allowed"] or item["self_hidden"]:
                    continue
                # Under a `#[doc(hidden)]` module, impl or trait: clippy skips functions there.
                if item["kind"] == "fn" and (item["ancestor_hidden"] or compiled[path].hidden):
                    continue
                # Not nameable from outside the crate: private, in a private module, a binary.
                if item["kind"] == "fn" and not (
                    path in public and safety_exports.exported(item, public[path], names, whole)
                ):
                    continue
                yield _finding(self, path, item)


def _finding(rule: MissingSafetyDoc, path: str, item: dict[str, Any]) -> Finding:
    kind = item["kind"]
    source = item["source"]
    indent = source[: len(source) - len(source.lstrip())]
    stub = f"{indent}/// # Safety\n{indent}///\n{indent}/// <{STUBS[kind]}>\n{source}"
    return Finding(
        code=rule.code, rule=rule.name, severity=rule.severity, path=path,
        start_line=item["line"], start_col=item["col"], end_line=item["line"], end_col=len(source) + 1,
        message=f"Add a `# Safety` section to the docs of this {WORDS[kind]} that says what "
                f"{'callers' if kind == 'fn' else 'implementations'} must uphold",
        fix_title="Document the obligations under a `# Safety` heading",
        suggestion=Edit(path, item["line"], item["line"], stub),
        fingerprint=anchor(f"unsafe_{kind}", item["anchor"]),
    )
