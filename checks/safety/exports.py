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
re-exports one of its enclosing modules whole or with ``*``. Each binary root is a crate
of its own and exports the same way (clippy lints a ``main.rs``'s ``pub`` items too).
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from typing import Any

import tree_sitter

from ruvopt.checks.context import FileContext
from ruvopt.checks.safety import doc as safety_doc
from ruvopt.checks.safety.allow import lint_allowed, mentioned
from ruvopt.checks.syntax import rust
from ruvopt.checks.syntax.modtree import child_file

LINT_NAMES = frozenset({"clippy::missing_safety_doc", "clippy::style", "clippy::all"})


def is_pub(node: tree_sitter.Node) -> bool:
    return rust.visibility(node) == "pub"


NEST_KINDS = ("mod_item", "function_item", "impl_item", "trait_item", "foreign_mod_item")


@dataclass
class Nest:
    """Which of the file's modules, functions, impls and traits contain a node, from byte
    ranges alone: tree-sitter's ``Node.parent`` costs the node's depth, and a file nested
    10,000 modules deep must not turn into 10^8 steps."""

    nodes: list[tree_sitter.Node]  # by start, outer before inner
    parents: list[int]  # index of the innermost node containing each, -1 for none
    starts: list[int]
    hidden_possible: bool

    @classmethod
    def of(cls, ctx: FileContext) -> Nest:
        ordered = sorted((n for kind in NEST_KINDS for n in ctx.nodes(kind)), key=lambda n: (n.start_byte, -n.end_byte))
        parents: list[int] = []
        stack: list[int] = []
        for index, node in enumerate(ordered):
            while stack and ordered[stack[-1]].end_byte <= node.start_byte:
                stack.pop()
            parents.append(stack[-1] if stack else -1)
            stack.append(index)
        return cls(ordered, parents, [n.start_byte for n in ordered], b"hidden" in ctx.data)

    def chain(self, node: tree_sitter.Node) -> list[tree_sitter.Node]:
        """The nodes containing ``node`` (itself excluded), innermost first."""
        index = bisect.bisect_right(self.starts, node.start_byte) - 1
        while index >= 0:
            candidate = self.nodes[index]
            if candidate.end_byte >= node.end_byte and (candidate.start_byte, candidate.end_byte) != (
                node.start_byte,
                node.end_byte,
            ):
                break
            index = self.parents[index]
        found = []
        while index >= 0:
            found.append(self.nodes[index])
            index = self.parents[index]
        return found

    def scope(self, node: tree_sitter.Node) -> tuple[list[str], bool, bool]:
        """(inline module names outermost first, all of them public and no function body
        around, a containing module/impl/trait doc-hidden)."""
        names: list[str] = []
        public, hidden = True, False
        for container in self.chain(node):
            if container.type == "mod_item":
                name = container.child_by_field_name("name")
                names.append(name.text.decode("utf-8", "replace") if name is not None and name.text else "")
                public = public and is_pub(container)
            elif container.type == "function_item":
                public = False  # an item inside a function body cannot be named from outside
            if self.hidden_possible and container.type in ("mod_item", "impl_item", "trait_item"):
                hidden = hidden or safety_doc.is_doc_hidden(container)
        return names[::-1], public, hidden

    def module_tree(self) -> list[list[Any]]:
        """Every ``mod`` of the file as [index of the enclosing ``mod`` in this list or -1,
        name], outer before inner — linear in the number of modules, whatever their depth."""
        position: dict[int, int] = {}  # index in self.nodes -> index in the result
        nearest: list[int] = []  # index in self.nodes of the innermost enclosing mod, or -1
        tree: list[list[Any]] = []
        for index, node in enumerate(self.nodes):
            parent = self.parents[index]
            nearest.append(-1 if parent < 0 else (parent if self.nodes[parent].type == "mod_item" else nearest[parent]))
            if node.type == "mod_item":
                name = node.child_by_field_name("name")
                position[index] = len(tree)
                text = name.text.decode("utf-8", "replace") if name is not None and name.text else ""
                tree.append([position.get(nearest[index], -1), text])
        return tree

    def owner(self, node: tree_sitter.Node) -> tree_sitter.Node | None:
        """The impl, trait or extern block ``node`` is an associated item of, if any."""
        chain = self.chain(node)
        if chain and chain[0].type in ("impl_item", "trait_item", "foreign_mod_item"):
            return chain[0]
        return None


def _owner(ctx: FileContext, owner: tree_sitter.Node | None) -> tuple[str, bool]:
    """(trait or self-type name, whether that owner is public here) for associated fns."""
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


def item_fact(ctx: FileContext, nest: Nest, item: tree_sitter.Node, may_be_allowed: bool) -> dict[str, Any]:
    kind = "trait" if item.type == "trait_item" else "fn"
    inline, scope_public, ancestor_hidden = nest.scope(item)
    container = nest.owner(item) if kind == "fn" else None
    owner, owner_public = _owner(ctx, container)
    in_trait = container is not None and container.type == "trait_item"
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
        "self_hidden": b"hidden" in ctx.data and safety_doc.is_doc_hidden(item),
        "ancestor_hidden": ancestor_hidden,
        "documented": safety_doc.has_safety_section(item),
        "allowed": may_be_allowed
        and lint_allowed(item, LINT_NAMES, rust.ancestor_chain(ctx.tree.root_node, item)[-2::-1]),
        "line": item.start_point[0] + 1,
        "col": item.start_point[1] + 1,
        "source": first_line,
        "anchor": ctx.data[item.start_byte : body.start_byte if body is not None else item.end_byte].decode(
            errors="replace"
        ),
    }


def unsafe_items(ctx: FileContext, nest: Nest) -> list[tree_sitter.Node]:
    found = []
    for kind in ("function_item", "function_signature_item"):
        for node in ctx.nodes(kind):
            if not safety_doc.is_unsafe_fn(node, ctx.data):
                continue
            owner = nest.owner(node)
            # Foreign functions are not checked by clippy's lint; trait impls inherit the docs.
            if owner is not None and (
                owner.type == "foreign_mod_item"
                or (owner.type == "impl_item" and owner.child_by_field_name("trait") is not None)
            ):
                continue
            found.append(node)
    found += [node for node in ctx.nodes("trait_item") if any(c.type == "unsafe" for c in node.children)]
    return found


def mod_fact(ctx: FileContext, nest: Nest, module: tree_sitter.Node) -> dict[str, Any]:
    inline, public, hidden = nest.scope(module)
    name = module.child_by_field_name("name")
    return {
        "name": ctx.node_text(name) if name is not None else "",
        "inline": inline,
        "file": module.child_by_field_name("body") is None,
        "public": public and is_pub(module),
        "hidden": hidden or (nest.hidden_possible and safety_doc.is_doc_hidden(module)),
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


def reexports(ctx: FileContext, nest: Nest) -> list[dict[str, Any]]:
    """Every ``pub use`` leaf: the module it is written in (inline part), its path, glob or not."""
    found = []
    for declaration in ctx.nodes("use_declaration"):
        if not is_pub(declaration):
            continue
        inline, _, _ = nest.scope(declaration)
        for leaf in rust.use_tree_leaves(declaration):
            path, glob = _leaf_path(leaf)
            if path:
                found.append({"inline": inline, "path": path, "glob": glob})
    return found


Module = tuple[str, ...]


class ModuleTrie:
    """Every module path of the crate (file modules and inline ``mod``s) for membership tests."""

    def __init__(self) -> None:
        self.children: list[dict[str, int]] = [{}]

    def add(self, parent: int, name: str) -> int:
        child = self.children[parent].get(name)
        if child is None:
            child = len(self.children)
            self.children.append({})
            self.children[parent][name] = child
        return child

    def add_path(self, path: Module) -> int:
        node = 0
        for name in path:
            node = self.add(node, name)
        return node

    def __contains__(self, path: Module) -> bool:
        node: int | None = 0
        for name in path:
            node = self.children[node].get(name) if node is not None else None
        return node is not None


def resolve(module: Module, path: list[str], modules: ModuleTrie) -> Module | None:
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
    known = ModuleTrie()
    for path, module in modules.items():
        top = known.add_path(module)
        inline_nodes: list[int] = []
        for parent, name in facts.get(path, {}).get("inline_mods", []):
            inline_nodes.append(known.add(top if parent < 0 else inline_nodes[parent], name))
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
                parent.public and bool(decl["public"]),
                parent.hidden or bool(decl["hidden"]),
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
