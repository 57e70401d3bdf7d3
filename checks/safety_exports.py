"""Which ``unsafe fn`` / ``unsafe trait`` items clippy's ``missing_safety_doc`` checks.

clippy 0.1.95 checks:

- every ``unsafe trait`` of the crate, public or not, unless it is ``#[doc(hidden)]``;
- an ``unsafe fn`` only when it is *exported* (rustc's effective visibility: nameable
  from outside the crate) and neither it nor an enclosing module, impl or trait is
  ``#[doc(hidden)]``: free functions, ``pub`` methods of inherent impls, and methods of
  exported traits. Methods of trait impls and foreign functions are never checked.

Exported is approximated per file, then joined per crate: an item is exported when the
library root reaches its file through ``pub mod`` declarations and every inline module
on the way and the item (or its trait / inherent type) is ``pub`` — or when a ``pub use``
anywhere in the crate names it (or its trait / type when it is a method) by its module
path (``crate::``, ``self::``, ``super::`` and module-relative paths are resolved), or
re-exports one of its enclosing modules whole or with ``*``. Binaries export nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import tree_sitter

from checks import rust, safety_doc
from checks.context import FileContext
from checks.modtree import child_file
from checks.safety_allow import lint_allowed, mentioned

LINT_NAMES = frozenset({"clippy::missing_safety_doc", "clippy::style", "clippy::all"})


def is_pub(node: tree_sitter.Node) -> bool:
    return rust.visibility(node) == "pub"


def _scope(item: tree_sitter.Node) -> tuple[list[str], bool, bool]:
    """(inline module names outermost first, all of them public, an ancestor doc-hidden)."""
    names: list[str] = []
    public, hidden = True, False
    for ancestor in rust.ancestors(item):
        if ancestor.type == "mod_item":
            name = ancestor.child_by_field_name("name")
            names.append(name.text.decode() if name is not None and name.text else "")
            public = public and is_pub(ancestor)
        elif ancestor.type in ("function_item", "block"):
            public = False  # an item inside a function body cannot be named from outside
        if ancestor.type in ("mod_item", "impl_item", "trait_item"):
            hidden = hidden or safety_doc.is_doc_hidden(ancestor)
    return names[::-1], public, hidden


def _owner(ctx: FileContext, item: tree_sitter.Node) -> tuple[str, bool]:
    """(trait or self-type name, whether that owner is public here) for associated fns."""
    owner = item.parent.parent if item.parent is not None and item.parent.type == "declaration_list" else None
    if owner is None or owner.type not in ("trait_item", "impl_item"):
        return "", True
    if owner.type == "trait_item":
        name = owner.child_by_field_name("name")
        return (ctx.node_text(name) if name is not None else ""), is_pub(owner)
    type_node = owner.child_by_field_name("type")
    type_name = ctx.node_text(type_node).split("<")[0].strip().rsplit("::", 1)[-1] if type_node is not None else ""
    for kind in ("struct_item", "enum_item", "union_item"):
        for definition in ctx.nodes(kind):
            name = definition.child_by_field_name("name")
            if name is not None and ctx.node_text(name) == type_name:
                return type_name, is_pub(definition)
    return type_name, True  # defined in another file: assume its module decides


def item_fact(ctx: FileContext, item: tree_sitter.Node, may_be_allowed: bool) -> dict[str, Any]:
    kind = "trait" if item.type == "trait_item" else "fn"
    inline, scope_public, ancestor_hidden = _scope(item)
    owner, owner_public = _owner(ctx, item)
    in_trait = item.parent is not None and item.parent.parent is not None and item.parent.parent.type == "trait_item"
    name = item.child_by_field_name("name")
    body = item.child_by_field_name("body")
    first_line = ctx.line(item.start_point[0] + 1)
    return {
        "kind": kind,
        "name": ctx.node_text(name) if name is not None else "",
        "owner": owner,
        "own_pub": in_trait or is_pub(item),
        "public": scope_public and owner_public and (in_trait or is_pub(item)),
        "inline": inline,
        "self_hidden": safety_doc.is_doc_hidden(item),
        "ancestor_hidden": ancestor_hidden,
        "documented": safety_doc.has_safety_section(item),
        "allowed": may_be_allowed and lint_allowed(item, LINT_NAMES),
        "line": item.start_point[0] + 1,
        "col": item.start_point[1] + 1,
        "source": first_line,
        "anchor": ctx.data[item.start_byte : body.start_byte if body is not None else item.end_byte].decode(
            errors="replace"
        ),
    }


def unsafe_items(ctx: FileContext) -> list[tree_sitter.Node]:
    found = []
    for kind in ("function_item", "function_signature_item"):
        for node in ctx.nodes(kind):
            owner = node.parent.parent if node.parent is not None else None
            if owner is not None and owner.type == "foreign_mod_item":
                continue  # foreign functions are not checked by clippy's lint
            if safety_doc.is_unsafe_fn(node) and not safety_doc.in_trait_impl(node):
                found.append(node)
    found += [node for node in ctx.nodes("trait_item") if any(c.type == "unsafe" for c in node.children)]
    return found


def mod_fact(ctx: FileContext, module: tree_sitter.Node) -> dict[str, Any]:
    inline, public, hidden = _scope(module)
    name = module.child_by_field_name("name")
    return {
        "name": ctx.node_text(name) if name is not None else "",
        "inline": inline,
        "public": public and is_pub(module),
        "hidden": hidden or safety_doc.is_doc_hidden(module),
    }


def _segments(node: tree_sitter.Node | None) -> list[str]:
    text = node.text.decode(errors="replace") if node is not None and node.text else ""
    return [part.strip() for part in text.split("::") if part.strip()]


def _leaf_path(leaf: tree_sitter.Node) -> tuple[list[str], bool]:
    """Full path of one use-tree leaf (``a::{b::c}`` → a, b, c) and whether it is a glob."""
    glob = leaf.type == "use_wildcard"
    if leaf.type == "use_as_clause":
        segments = _segments(leaf.child_by_field_name("path"))
    elif glob:
        segments = _segments(leaf)[:-1] if _segments(leaf)[-1:] == ["*"] else _segments(leaf)
    elif leaf.type == "self":
        segments = []
    else:
        segments = _segments(leaf)
    node = leaf.parent
    while node is not None and node.type != "use_declaration":
        if node.type == "scoped_use_list":
            segments = _segments(node.child_by_field_name("path")) + segments
        node = node.parent
    return segments, glob


def reexports(ctx: FileContext) -> list[dict[str, Any]]:
    """Every ``pub use`` leaf: the module it is written in (inline part), its path, glob or not."""
    found = []
    for declaration in ctx.nodes("use_declaration"):
        if not is_pub(declaration):
            continue
        inline, _, _ = _scope(declaration)
        for leaf in rust.use_tree_leaves(declaration):
            path, glob = _leaf_path(leaf)
            if path:
                found.append({"inline": inline, "path": path, "glob": glob})
    return found


Module = tuple[str, ...]


def resolve(module: Module, path: list[str], modules: set[Module]) -> Module | None:
    """The crate-absolute path ``path`` names when written in ``module``; None if external."""
    head, rest = path[0], path[1:]
    if head in ("crate", "$crate"):
        return tuple(rest)
    if head in ("self", "super"):
        base = list(module)
        while path and path[0] in ("self", "super"):
            if path.pop(0) == "super" and base:
                base.pop()
        return (*base, *path)
    if (*module, head) in modules:
        return (*module, *path)
    if (head,) in modules:  # a 2015-edition path, from the crate root
        return tuple(path)
    return None


def exported_names(facts: dict[str, Any], modules: dict[str, Module]) -> tuple[set[Module], set[Module]]:
    """(module + name pairs re-exported by ``pub use``, modules re-exported whole or by ``*``)."""
    known = {(*module, *inline) for path, module in modules.items()
             for inline in facts.get(path, {}).get("inline_mods", [])} | set(modules.values())
    names: set[Module] = set()
    whole: set[Module] = set()
    for path, module in modules.items():
        for entry in facts.get(path, {}).get("reexports", []):
            target = resolve((*module, *entry["inline"]), list(entry["path"]), known)
            if target is None:
                continue
            (whole if entry["glob"] or target in known else names).add(target)
    return names, whole
def file_allowed(ctx: FileContext) -> bool:
    """``#![allow(clippy::missing_safety_doc)]`` (or a group) at the top of the file."""
    return mentioned(ctx.data, LINT_NAMES) and lint_allowed(ctx.tree.root_node, LINT_NAMES)


@dataclass
class FileRoute:
    module: Module  # the file's module path from the crate root
    public: bool  # every `mod` declaration on the way is `pub`
    hidden: bool  # a `#[doc(hidden)]` module on the way


def routes(roots: list[str], facts: dict[str, Any], existing: set[str]) -> dict[str, FileRoute]:
    """Every file the crate roots reach through ``mod`` declarations, with its route."""
    found = {root: FileRoute((), True, False) for root in roots}
    queue = deque(roots)
    while queue:
        path = queue.popleft()
        for decl in facts.get(path, {}).get("mods", []):
            child = child_file(path, decl, set(roots), existing)
            if child is None or child in found:
                continue
            parent = found[path]
            found[child] = FileRoute(
                (*parent.module, *decl["inline"], decl["name"]),
                parent.public and bool(decl["public"]), parent.hidden or bool(decl["hidden"]),
            )
            queue.append(child)
    return found


def exported(item: dict[str, Any], route: FileRoute, names: set[Module], whole: set[Module]) -> bool:
    """rustc's "exported", approximated (see the module docstring)."""
    module = (*route.module, *item["inline"])
    if route.public and item["public"]:
        return True
    if not item["own_pub"]:
        return False
    if any(module[: len(prefix)] == prefix for prefix in whole):
        return True
    return (*module, item["owner"] or item["name"]) in names
