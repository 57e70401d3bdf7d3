from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext, FileContext, anchor
from ruvopt.checks.model import Edit, Finding, Severity
from ruvopt.checks.safety import exports as safety_exports
from ruvopt.checks.safety import macro_fns
from ruvopt.checks.safety.allow import mentioned
from ruvopt.checks.safety.macros import macro_name

STUBS = {"fn": "what the caller must guarantee", "trait": "what an implementation must guarantee"}
WORDS = {"fn": "`unsafe fn`", "trait": "`unsafe trait`"}


class MissingSafetyDoc(CrateRule):
    """## What it does
    Flags a public `unsafe fn` or an `unsafe trait` whose documentation has no `# Safety`
    section, with the semantics of clippy 0.1.95's `missing_safety_doc`. An `unsafe fn`
    is checked when it is exported (`pub` all the way from a crate root through `pub mod`,
    or re-exported with `pub use` — from the library root, and from each binary's root
    too, as clippy lints binaries the same way) and neither it nor an enclosing
    module, impl or trait is `#[doc(hidden)]`: free functions, `pub` methods of inherent
    impls, and methods declared in exported traits (with or without a default body);
    methods of trait impls never (the trait documents them). Every `unsafe trait` is
    checked, public or not, unless it is `#[doc(hidden)]` itself — as clippy does.
    The section is a Markdown heading of any level whose text is exactly `Safety` or
    `SAFETY` (also `Implementation safety`); `# safety`, `# Safety:` or a heading inside a
    code block do not count. `#[allow(clippy::missing_safety_doc)]` silences it. How
    "exported" is approximated without compiling: `checks/safety/exports.py`.

    An `unsafe fn` written in one of the crate's own `macro_rules!` bodies is reported at
    its definition inside the macro, once, when the crate invokes the macro where the
    function ends up exported (at the root, in a `pub mod`), as clippy does; docs the
    caller passes in (`$(#[$meta])*`) are not read, so such functions are not reported.

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
        "function_item",
        "function_signature_item",
        "trait_item",
        "mod_item",
        "use_declaration",
        "struct_item",
        "enum_item",
        "union_item",
        "impl_item",
        "foreign_mod_item",
        "macro_definition",
        "macro_invocation",
    )

    def file_facts(self, ctx: FileContext) -> Any:
        # A local macro may expand to an `unsafe fn` where it is invoked: files that only
        # invoke macros (not std's) are facts too.
        calls = any(macro_name(i) not in macro_fns.STD_MACROS for i in ctx.nodes("macro_invocation"))
        if not calls and b"unsafe" not in ctx.data and b"mod " not in ctx.data and b"pub use" not in ctx.data:
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
            "macro_fns": macro_fns.macro_fns(ctx) if b"macro_rules!" in ctx.data else [],
            "macro_calls": macro_fns.macro_calls(ctx, nest.scope) if calls else [],
        }

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        facts: dict[str, Any] = ctx.facts.get(self.code, {})
        roots = [r for r in (ctx.crate.lib_root, *ctx.crate.bin_roots) if r is not None and r in facts]
        # `#![allow(clippy::missing_safety_doc)]` in a crate root covers the whole crate.
        if any(facts[root]["allowed"] for root in roots):
            return
        files = set(ctx.crate.rs_files)
        compiled = safety_exports.routes(roots, facts, files)
        # Each root (the library, every binary) is a crate of its own for rustc, and clippy
        # lints what a binary exports the same way: `pub` from its `main.rs` down.
        exports = [_exports(facts, safety_exports.routes([root], facts, files)) for root in roots]
        for path in sorted(compiled):
            for item in facts.get(path, {}).get("items", []):
                # Documented, silenced, or hidden itself: clippy is quiet for fns and traits.
                if item["documented"] or item["allowed"] or item["self_hidden"]:
                    continue
                # Under a `#[doc(hidden)]` module, impl or trait: clippy skips functions there.
                if item["kind"] == "fn" and (item["ancestor_hidden"] or compiled[path].hidden):
                    continue
                # Not nameable from outside the crate: private, or in a private module.
                if item["kind"] == "fn" and not any(
                    path in public and safety_exports.exported(item, public[path], names, whole)
                    for public, names, whole in exports
                ):
                    continue
                yield _finding(self, path, item)
        yield from _macro_findings(self, facts, compiled, exports)


Exports = tuple[dict[str, safety_exports.FileRoute], set[safety_exports.Module], set[safety_exports.Module]]


def _exports(facts: dict[str, Any], public: dict[str, safety_exports.FileRoute]) -> Exports:
    names, whole = safety_exports.exported_names(facts, {p: r.module for p, r in public.items()})
    return public, names, whole


def _macro_findings(
    rule: MissingSafetyDoc,
    facts: dict[str, Any],
    compiled: dict[str, safety_exports.FileRoute],
    exports: list[Exports],
) -> Iterator[Finding]:
    """`unsafe fn`s of local macros, at their definition, when an invocation exports them."""
    exporting: set[str] = set()  # macros invoked where what they define is exported
    for public, _, _ in exports:
        for path, route in public.items():
            for name, _inline, scope_public, hidden in facts.get(path, {}).get("macro_calls", []):
                if route.public and scope_public and not (hidden or route.hidden):
                    exporting.add(name)
    for path in sorted(compiled):
        seen = set()
        for item in facts.get(path, {}).get("macro_fns", []):
            # Never expanded where it is exported, or not `pub` itself: clippy has nothing to say.
            if item["macro"] not in exporting or not item["own_pub"]:
                continue
            # Documented, silenced, hidden, or documented by the caller (unknown here).
            if item["documented"] or item["allowed"] or item["hidden"] or item["from_caller"]:
                continue
            # One finding per definition, however many times it expands.
            if (item["line"], item["col"]) in seen:
                continue
            seen.add((item["line"], item["col"]))
            yield _finding(rule, path, {**item, "kind": "fn"})


def _finding(rule: MissingSafetyDoc, path: str, item: dict[str, Any]) -> Finding:
    kind = item["kind"]
    source = item["source"]
    indent = source[: len(source) - len(source.lstrip())]
    stub = f"{indent}/// # Safety\n{indent}///\n{indent}/// <{STUBS[kind]}>\n{source}"
    return Finding(
        code=rule.code,
        rule=rule.name,
        severity=rule.severity,
        path=path,
        start_line=item["line"],
        start_col=item["col"],
        end_line=item["line"],
        end_col=len(source) + 1,
        message=f"Add a `# Safety` section to the docs of this {WORDS[kind]} that says what "
        f"{'callers' if kind == 'fn' else 'implementations'} must uphold",
        fix_title="Document the obligations under a `# Safety` heading",
        suggestion=Edit(path, item["line"], item["line"], stub),
        fingerprint=anchor(f"unsafe_{kind}", item["anchor"]),
    )
