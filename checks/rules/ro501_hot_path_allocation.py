from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import tree_sitter

from ruvopt.checks.base import FileRule
from ruvopt.checks.context import FileContext
from ruvopt.checks.hot import benches
from ruvopt.checks.hot import paths as hotpath
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.syntax import rust

DEFINITE = "it allocates on every call"
# label -> (why, fix title)
METHODS = {
    "collect": (DEFINITE, "Extend a buffer kept on the struct (`buf.clear(); buf.extend(iter)`) instead"),
    "to_vec": (DEFINITE, "Borrow the slice, or copy into a reused buffer with `extend_from_slice`"),
    "to_owned": (DEFINITE, "Borrow the value, or copy into a reused buffer"),
    "clone": (
        "it allocates on every call unless the value is `Copy` or an `Rc`/`Arc`",
        "Borrow instead; for a reference count write `Arc::clone(&x)` / `Rc::clone(&x)`",
    ),
}
GROWS = "the new buffer allocates again on every call as soon as it grows"
REUSE_VEC = "Keep a pre-allocated `Vec` on the struct and `clear()` it on each call"
REUSE_STRING = "Write into a `String` kept on the struct (`clear()` it, then `write!`)"
PATHS = {
    ("Vec", "new"): (GROWS, REUSE_VEC),
    ("Vec", "with_capacity"): (DEFINITE, REUSE_VEC),
    ("String", "new"): (GROWS, REUSE_STRING),
    ("String", "with_capacity"): (DEFINITE, REUSE_STRING),
    ("Box", "new"): (DEFINITE, "Store the value inline, or keep the allocation on the struct and reuse it"),
}
MACROS = {
    "vec": (DEFINITE, REUSE_VEC),
    "format": (DEFINITE, REUSE_STRING),
}
# Calls whose arguments only run on the error path: an allocation there is not per call.
COLD_CALLS = frozenset({"Err"})
COLD_METHODS = frozenset({"map_err", "ok_or_else"})


class HotPathAllocation(FileRule):
    """## What it does
    In the functions configured as hot (option `functions`, or marked with a
    `// ruvopt: hot` comment line directly above the `fn`), flags the calls that
    allocate on the heap: `.collect()`, `.to_vec()`, `.to_owned()`, `.clone()`,
    `vec![…]`, `Vec::new()` / `Vec::with_capacity()`, `String::new()` /
    `String::with_capacity()`, `format!(…)` and `Box::new()` — the checklist's list;
    other allocating calls (`.to_string()`, `String::from`, `Rc::new`, `HashMap::new`)
    are not flagged.

    A function is hot when the option `functions` names it, when a `// ruvopt: hot`
    comment line sits directly above its `fn`, or — with no configuration at all — when
    a bench of the workspace calls it: a call written inside a criterion `b.iter(…)`
    closure (the routine of `iter_batched`, `iter_batched_ref`, `iter_with_setup`,
    `iter_with_large_drop`, `iter_custom` too) or in a libtest `#[bench]` function, in a
    file under `benches/` or using `criterion_group!` / `#[bench]`. The callee is found
    by name, best effort, in the bench's own crate and the workspace crates the bench
    file names (`use ruv_router::…`): `router.select_top_k(…)` is any method named
    `select_top_k`, `Router::new(…)` a method of `impl Router`, `dot(…)` a free
    function. The finding names the bench that made the function hot.

    Closures written inside a hot function are part of it; a nested `fn` is not (it is
    hot only if a pattern or marker names it). Arguments of `Err(…)`, `.map_err(…)` and
    `.ok_or_else(…)` are skipped: they run on the error path only. Without type
    information ruvopt cannot tell a `.clone()` of an `Arc` (a reference-count bump)
    from a `.clone()` of a `Vec`, so every `.clone()` is flagged; write
    `Arc::clone(&x)` to make a cheap clone explicit (as clippy's `clone_on_ref_ptr`
    asks) — that form is not flagged. Calls written inside the arguments of other
    macros (`debug_assert!(x.clone() …)`) are not seen, since tree-sitter leaves macro
    arguments unparsed.

    ## Why is this bad?
    A hot function runs millions of times; an allocation and its free cost 20–100 ns
    each, which dominates a routing step that should take a few hundred. The
    checklist's seed commit (P0) removed a `collect()` from `select_top_k_buffered()`
    to save 1–2 µs per MoE routing call.

    ## Example
    ```rust
    // ruvopt: hot
    fn select_top_k(&mut self, k: usize) -> Vec<usize> {
        self.index_buffer.iter().take(k).map(|(id, _)| *id).collect()
    }
    ```

    Use instead:
    ```rust
    // ruvopt: hot
    fn select_top_k(&mut self, k: usize) -> &[usize] {
        self.result_buffer.clear();
        self.result_buffer.extend(self.index_buffer.iter().take(k).map(|(id, _)| *id));
        &self.result_buffer
    }
    ```

    ## Options
    - `functions` (list of strings, default `[]`): hot function patterns,
      `[PATH_GLOB::]TYPE_GLOB::FN_GLOB`, e.g.
      `"crates/ruvllm/src/moe/router.rs::MemoryAwareRouter::select_top_k*"`; a bare
      `"select_top_k*"` matches that function name anywhere.
    - `hot-from-benches` (boolean, default true): treat the functions benches call as
      hot. With it off, no patterns and no `// ruvopt: hot` markers the rule reports
      nothing.
    """

    code = "RO501"
    name = "hot-path-allocation"
    severity = Severity.WARNING
    checklist_item = "seed P0"
    options: ClassVar[dict[str, Any]] = {"functions": [], "hot-from-benches": True}
    node_kinds = ("call_expression", "macro_invocation", *hotpath.NODE_KINDS, *benches.NODE_KINDS)

    def infers_hot_from_benches(self) -> bool:
        return bool(self.option("hot-from-benches"))

    def run(self, ctx: FileContext) -> Iterator[Finding]:
        for function in hotpath.hot_functions(ctx, self.option("functions")):
            nodes = hotpath.body_nodes(ctx, function.node, ("call_expression", "macro_invocation"))
            cold = [r for n in nodes for r in cold_ranges(n)]
            for node in nodes:
                found = allocation(node)
                # Not an allocating call (most calls): nothing to say.
                if found is None:
                    continue
                # Built only to report an error (`Err(format!(…))`): not paid per call.
                if hotpath.inside_any(node, cold):
                    continue
                label, place, (why, fix) = found
                yield ctx.report(
                    self,
                    place,
                    f"Avoid `{label}` in hot function `{function.display}`{function.because}: {why}",
                    fix_title=fix,
                    anchor_node=node,
                )


def allocation(node: tree_sitter.Node) -> tuple[str, tree_sitter.Node, tuple[str, str]] | None:
    """(label, node to report on, (why, fix)) when ``node`` allocates, else None."""
    if node.type == "macro_invocation":
        path = rust.macro_path(node)
        # `vec!`/`format!`, also written `std::vec!`; a crate's own `my::vec!` is not std's.
        if path is None or path[-1] not in MACROS or (len(path) > 1 and path[0] not in ("std", "alloc")):
            return None
        return f"{path[-1]}![…]" if path[-1] == "vec" else f"{path[-1]}!(…)", node, MACROS[path[-1]]
    method = rust.method_name(node)
    if method is not None:
        # `.clone()` with arguments is some other method; the std ones take none.
        if method not in METHODS or rust.call_arguments(node):
            return None
        field = rust.method_field(node)
        place = field.child_by_field_name("field") if field is not None else None
        return f".{method}()", place or node, METHODS[method]
    path = rust.call_path(node)
    if path is None or len(path) < 2 or path[-2:] not in PATHS:
        return None
    return f"{path[-2]}::{path[-1]}()", node, PATHS[(path[-2], path[-1])]


def cold_ranges(call: tree_sitter.Node) -> list[tuple[int, int]]:
    """Byte ranges of arguments that only run on the error path."""
    if call.type != "call_expression":
        return []
    path = rust.call_path(call)
    if not (path is not None and path[-1] in COLD_CALLS) and rust.method_name(call) not in COLD_METHODS:
        return []
    arguments = call.child_by_field_name("arguments")
    return [(arguments.start_byte, arguments.end_byte)] if arguments is not None else []
