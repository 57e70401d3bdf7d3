from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

import tree_sitter

from ruvopt.checks.base import CrateRule
from ruvopt.checks.context import CrateContext, FileContext
from ruvopt.checks.manifest import cargo
from ruvopt.checks.model import Finding, Severity
from ruvopt.checks.syntax import cfg, rust
from ruvopt.checks.syntax.modtree import Gate, reachable

SKIPPED_KINDS = ("use_list", "macro_definition")


class OptionalDependencyAlwaysUsed(CrateRule):
    """## What it does
    Flags an optional dependency that the crate's code uses outside any
    `#[cfg(feature = "…")]` whose feature turns that dependency on.

    A use is gated when an enclosing `#[cfg]` — on the item, statement, match arm or
    field, on an inline module, on the `mod x;` declaration that loads the file (through
    every level of the module tree), or a `#![cfg]` at the top of the file — requires a
    feature that enables the dependency, directly (`dep:x`, `x/feat`, the implicit
    feature `x`) or through other features. `any(feature = "a", feature = "b")` gates
    only when both `a` and `b` enable it. `#[cfg_attr(feature = "serde",
    derive(serde::Serialize))]` gates the derive it adds; a `cfg_if!` branch is gated
    by its own `#[cfg]`. A `[[bin]]`'s `required-features` gate its whole binary.

    Uses are `use x::…`, paths `x::Item` (including `#[x::main]` and macro arguments),
    and `extern crate x`; a dependency is named as Rust sees it (`hf-hub` → `hf_hub`,
    `tk = { package = "tokenizers" }` → `tk`).

    Not counted: `#[cfg(test)]` code; code under a custom cfg (`#[cfg(memchr_libc)]`,
    set from the features by a build script, or by RUSTFLAGS); files no crate root
    reaches (`tests/`, `examples/`, `benches/`, `build.rs`, orphans); `macro_rules!`
    bodies (they compile only where they are invoked, and ruvopt does not expand
    macros); names a file binds itself (`mod x;`, `use crate::x;`); a dependency that
    another target table requires.
    A feature the manifest does not define gates too: that code never compiles.

    ## Why is this bad?
    The dependency is not really optional: building without the feature fails (so in
    practice every build turns it on), and the feature only pretends to save compile
    time. The checklist's item 7 found `tokenizers` and `hf-hub` listed as optional but
    imported unconditionally, and made them required.

    ## Example
    ```toml
    [dependencies]
    tokenizers = { version = "0.20", optional = true }
    ```
    ```rust
    // src/tokenizer.rs, loaded by `pub mod tokenizer;` in lib.rs
    use tokenizers::Tokenizer;
    ```

    Use instead:
    ```toml
    [dependencies]
    tokenizers = { version = "0.20" }
    ```
    or keep it optional and gate the module: `#[cfg(feature = "tokenizers")] pub mod tokenizer;`
    """

    code = "RO303"
    name = "optional-dependency-always-used"
    severity = Severity.WARNING
    checklist_item = "7"
    node_kinds = (
        "scoped_identifier",
        "scoped_type_identifier",
        "use_declaration",
        "extern_crate_declaration",
        "mod_item",
        "token_tree",
        "attribute_item",
        "inner_attribute_item",
        "macro_invocation",
        *SKIPPED_KINDS,
    )

    def file_facts(self, ctx: FileContext) -> Any:
        local = _local_names(ctx)
        # Paths inside `use a::{b::c}` are relative to `a`; a macro_rules! body is
        # checked where it expands, not where it is written.
        skipped = [cfg.Interval(n.start_byte, n.end_byte, True) for k in SKIPPED_KINDS for n in ctx.nodes(k)]
        roots = [(n, ctx.node_text(n)) for n in _root_identifiers(ctx)]
        roots = [(n, name) for n, name in roots if cfg.crate_like(name) and name not in local]
        gates = cfg.gate_intervals([*ctx.nodes("attribute_item"), *ctx.nodes("inner_attribute_item")])
        gates += cfg.cfg_if_intervals(ctx.nodes("macro_invocation"))
        points = [n.start_byte for n, _ in roots]
        refs: dict[tuple[str, tuple[tuple[str, ...], ...]], int] = {}
        found = zip(roots, cfg.containing(points, skipped), cfg.containing(points, gates), strict=True)
        for (node, name), inside, held in found:
            if inside:
                continue
            clauses = tuple(sorted({tuple(sorted(c)) for group in held for c in group}))
            line = node.start_point[0] + 1
            refs[(name, clauses)] = min(line, refs.get((name, clauses), line))
        return {
            "refs": [[name, line, [list(c) for c in clauses]] for (name, clauses), line in sorted(refs.items())],
            "mods": _mod_facts(ctx, gates),
        }

    def run(self, ctx: CrateContext) -> Iterator[Finding]:
        # A broken manifest is RO001's finding; nothing here can be trusted.
        if ctx.manifest.doc is None:
            return
        ws_deps = cargo.workspace_dependencies(cargo.workspace_root(ctx.workspace, ctx.manifest))
        deps = cargo.dependencies(ctx.manifest, ws_deps)
        # Only normal dependencies: build.rs and dev-only code are not what users compile.
        normal = [d for d in deps if d.kind == "normal"]
        # Required under another target table (`[target.'cfg(unix)'.dependencies]`): not optional there.
        required = {d.ident for d in normal if not d.optional}
        optional = {d.ident: d for d in reversed(normal) if d.optional and d.ident not in required}
        if not optional:
            return
        graph = cargo.FeatureGraph(ctx.manifest, deps)
        facts: dict[str, Any] = ctx.facts.get(self.code, {})
        mods = {path: f["mods"] for path, f in facts.items()}
        routes = reachable(_roots(ctx), mods, ctx.crate.rs_files)
        for ident, dep in sorted(optional.items()):
            misuses = [
                (path, line)
                for path in sorted(routes)
                for name, line, clauses in facts.get(path, {}).get("refs", [])
                if name == ident and not _gated(routes[path], clauses, dep.name, graph)
            ]
            # Every use sits behind a feature that enables the dependency: truly optional.
            if not misuses:
                continue
            yield self._report(ctx, dep, graph, sorted(misuses))

    def _report(
        self, ctx: CrateContext, dep: cargo.Dependency, graph: cargo.FeatureGraph, misuses: list[tuple[str, int]]
    ) -> Finding:
        path, line = misuses[0]
        files = len({p for p, _ in misuses}) - 1
        more = f" (and {files} more file{'s' if files > 1 else ''})" if files else ""
        # The most specific feature that turns it on: the one that turns on the least.
        gate = min(graph.features_enabling(dep.name), key=lambda f: len(graph.closure(f)), default=dep.name)
        return ctx.report_manifest(
            self,
            cargo.index(ctx.manifest).line(*dep.key),
            f"Make `{dep.name}` a required dependency: `{path}:{line}`{more} uses it in code that "
            "no feature enabling it gates",
            key=".".join(dep.key),
            fix_title=f'Remove `optional = true`, or put that code behind `#[cfg(feature = "{gate}")]`',
        )


def _gated(routes: list[Gate], ref_clauses: list[list[str]], dep: str, graph: cargo.FeatureGraph) -> bool:
    """Gated on every route to the file: some clause's features all turn ``dep`` on."""

    def enables(feature: str) -> bool:
        # Test-only code, custom cfgs and undefined features: never in a default user build.
        return feature in cfg.EXEMPT or feature not in graph.all or graph.enables_dep(feature, dep)

    own = [frozenset(c) for c in ref_clauses]
    return all(any(all(enables(f) for f in clause) for clause in [*route, *own]) for route in routes)


def _roots(ctx: CrateContext) -> dict[str, Gate]:
    """Crate roots with the gate of their target: a `[[bin]]`'s `required-features`."""
    required = _bin_required_features(ctx)
    return {root: frozenset(frozenset({f}) for f in required.get(root, ())) for root in ctx.crate.roots}


def _bin_required_features(ctx: CrateContext) -> dict[str, list[str]]:
    doc = ctx.manifest.doc
    bins = doc.get("bin", []) if doc is not None else []
    package_name = str(ctx.manifest.table("package").get("name", ""))
    found: dict[str, list[str]] = {}
    for entry in bins if isinstance(bins, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("required-features"), list):
            continue
        name = str(entry.get("name", ""))
        if isinstance(entry.get("path"), str):
            paths = [str(entry["path"])]
        elif name == package_name:
            paths = ["src/main.rs"]
        else:
            paths = [f"src/bin/{name}.rs", f"src/bin/{name}/main.rs"]
        for path in paths:
            found[ctx.crate.rel(posixpath.normpath(path))] = [str(f) for f in entry["required-features"]]
    return found


def _root_identifiers(ctx: FileContext) -> Iterator[tree_sitter.Node]:
    for kind in ("scoped_identifier", "scoped_type_identifier"):
        for node in ctx.nodes(kind):
            root = cfg.path_root(node)
            if root is not None:
                yield root
    for declaration in ctx.nodes("use_declaration"):
        yield from cfg.use_roots(declaration)
    for extern in ctx.nodes("extern_crate_declaration"):
        name = extern.child_by_field_name("name")
        if name is not None:
            yield name
    for tree in ctx.nodes("token_tree"):
        # No `::` anywhere inside (most macro arguments): no path root either.
        if ctx.data.find(b"::", tree.start_byte, tree.end_byte) >= 0:
            yield from cfg.token_tree_roots(tree)


def _local_names(ctx: FileContext) -> set[str]:
    """Names this file binds itself, which shadow an extern crate of the same name."""
    names = set()
    for module in ctx.nodes("mod_item"):
        name = module.child_by_field_name("name")
        if name is not None:
            names.add(ctx.node_text(name))
    for declaration in ctx.nodes("use_declaration"):
        argument = declaration.child_by_field_name("argument")
        for leaf in rust.use_tree_leaves(declaration):
            if leaf == argument and leaf.type == "identifier":
                continue  # `use tokenizers;` names the crate itself
            bound = leaf.child_by_field_name("alias") or leaf.child_by_field_name("name") or leaf
            if bound.type == "identifier":
                names.add(ctx.node_text(bound))
    return names


def _mod_facts(ctx: FileContext, gates: list[cfg.Interval[list[cfg.Clause]]]) -> list[dict[str, Any]]:
    """Each `mod x;` with the inline modules around it, its `#[path]` and its gates."""
    modules = ctx.nodes("mod_item")
    inline = []
    for module in modules:
        body, name = module.child_by_field_name("body"), module.child_by_field_name("name")
        if body is not None and name is not None:
            inline.append(cfg.Interval(body.start_byte, body.end_byte, ctx.node_text(name)))
    declared = [m for m in modules if m.child_by_field_name("body") is None and m.child_by_field_name("name")]
    points = [m.start_byte for m in declared]
    facts = []
    found = zip(declared, cfg.containing(points, inline), cfg.containing(points, gates), strict=True)
    for module, around, held in found:
        name = module.child_by_field_name("name")
        facts.append(
            {
                "name": ctx.node_text(name) if name is not None else "",
                "line": module.start_point[0] + 1,
                "inline": around,
                "path": next(filter(None, map(_path_attribute, rust.preceding_attributes(module))), None),
                "clauses": sorted({tuple(sorted(c)) for group in held for c in group}),
            }
        )
    return facts


def _path_attribute(attribute_item: tree_sitter.Node) -> str | None:
    if rust.attribute_name(attribute_item) != "path":
        return None
    attribute = next((c for c in attribute_item.named_children if c.type == "attribute"), None)
    value = attribute.child_by_field_name("value") if attribute is not None else None
    if value is None or value.type != "string_literal":
        return None
    return value.text.decode("utf-8", errors="replace").strip('"') if value.text else None
