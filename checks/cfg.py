"""``#[cfg(...)]`` gates around a node, and the crate names a file's paths start from.

A cfg predicate is reduced to *clauses*: sets of features of which at least one must be
on for the code to compile. ``feature = "a"`` gives ``[{a}]``; ``all(p, q)`` joins the
clauses of both; ``any(p, q)`` gives a clause only when every branch gives one (their
union); ``not(..)``, ``unix``, ``target_os = ..`` give nothing (they do not require a
feature). ``test`` gives the pseudo-feature ``cfg:test``: test-only code is not what a
library's users compile.

Everything is iterative over tree-sitter nodes (no recursion on the syntax tree).
"""

from __future__ import annotations

import itertools
from typing import Any

import tree_sitter

from checks import rust

TEST = "cfg:test"
MAX_CLAUSES = 32  # `any(all(..), all(..), ..)` multiplies out; real gates are far smaller
CHILD_ATTRIBUTE_HOLDERS = frozenset({"match_arm", "field_initializer"})
GATE_CONTAINERS = frozenset({"source_file", "declaration_list", "block"})
NOT_CRATES = frozenset({"crate", "self", "super", "Self", "std", "core", "alloc"})

Clause = frozenset[str]


def _text(node: tree_sitter.Node) -> str:
    return node.text.decode("utf-8", errors="replace") if node.text else ""


def predicate_list(token_tree: tree_sitter.Node) -> list[Any]:
    """``(feature = "a", any(..), unix)`` → parsed predicates (JSON-able lists)."""
    preds: list[Any] = []
    children = [c for c in token_tree.children[1:-1]]
    i = 0
    while i < len(children):
        child = children[i]
        if child.type != "identifier":
            i += 1
            continue
        name = _text(child)
        following = children[i + 1] if i + 1 < len(children) else None
        if following is not None and following.type == "=" and i + 2 < len(children):
            value = children[i + 2]
            literal = _text(value).strip('"') if value.type == "string_literal" else _text(value)
            preds.append(["feature", literal] if name == "feature" else ["other", f"{name}={literal}"])
            i += 3
        elif following is not None and following.type == "token_tree":
            preds.append([name, predicate_list(following)])
            i += 2
        else:
            preds.append(["test"] if name == "test" else ["other", name])
            i += 1
    return preds


def clauses(pred: Any) -> list[Clause]:
    """The feature clauses a predicate implies (see the module docstring)."""
    kind = pred[0]
    if kind == "feature":
        return [frozenset({pred[1]})]
    if kind == "test":
        return [frozenset({TEST})]
    if kind == "all":
        return [c for sub in pred[1] for c in clauses(sub)][:MAX_CLAUSES]
    if kind == "any" and pred[1]:
        branches = [clauses(sub) for sub in pred[1]]
        if not all(branches):
            return []
        combos = itertools.islice(itertools.product(*branches), MAX_CLAUSES)
        return [frozenset().union(*combo) for combo in combos]
    return []


def attribute_clauses(attribute_item: tree_sitter.Node) -> list[Clause]:
    """Clauses of a ``#[cfg(..)]`` / ``#![cfg(..)]`` attribute; [] for anything else."""
    if rust.attribute_name(attribute_item) != "cfg":
        return []
    arguments = rust.attribute_arguments(attribute_item)
    if arguments is None:
        return []
    return clauses(["all", predicate_list(arguments)])


def _cfg_attr_clauses(token_tree: tree_sitter.Node) -> list[Clause]:
    """``#[cfg_attr(feature = "serde", derive(serde::Serialize))]`` gates what it adds."""
    attribute = rust.enclosing(token_tree, {"attribute_item", "inner_attribute_item"})
    if attribute is None or rust.attribute_name(attribute) != "cfg_attr":
        return []
    arguments = rust.attribute_arguments(attribute)
    preds = predicate_list(arguments) if arguments is not None else []
    return clauses(preds[0]) if preds else []


def gate_attributes(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Attributes that decide whether ``node`` is compiled, nearest first."""
    found: list[tree_sitter.Node] = []
    current: tree_sitter.Node | None = node
    while current is not None:
        if current.type == "attribute_item":  # a path inside an attribute: its item's gates
            current = _attributed_item(current)
            continue
        found.extend(rust.preceding_attributes(current))
        if current.type in CHILD_ATTRIBUTE_HOLDERS:  # `#[cfg] Pat => …`: the arm's own children
            found.extend(c for c in current.named_children if c.type == "attribute_item")
        if current.type in GATE_CONTAINERS:
            found.extend(c for c in current.named_children if c.type == "inner_attribute_item")
        current = current.parent
    return found


def _attributed_item(attribute_item: tree_sitter.Node) -> tree_sitter.Node | None:
    sibling = attribute_item.next_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        sibling = sibling.next_named_sibling
    return sibling or attribute_item.parent


def gate_clauses(node: tree_sitter.Node) -> list[Clause]:
    gates = [c for attr in gate_attributes(node) for c in attribute_clauses(attr)]
    if node.type == "token_tree" or (node.parent is not None and node.parent.type == "token_tree"):
        tree = node if node.type == "token_tree" else node.parent
        if tree is not None:
            gates.extend(_cfg_attr_clauses(tree))
    return gates


def path_root(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The first segment of a path written as ``a::b``/``::a::b``, if it is a plain name."""
    path = node.child_by_field_name("path")
    if path is None:
        name = node.child_by_field_name("name")  # `::tokenizers`: always an extern crate
        return name if name is not None and name.type == "identifier" else None
    return path if path.type == "identifier" else None


def use_roots(declaration: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Roots that ``use x;``, ``use x as y;``, ``use x::*;`` and ``use x::{..}`` name directly."""
    argument = declaration.child_by_field_name("argument")
    if argument is None:
        return []
    if argument.type == "identifier":
        return [argument]
    first = argument.child_by_field_name("path") if argument.type != "use_wildcard" else None
    if argument.type == "use_wildcard":
        first = argument.named_children[0] if argument.named_children else None
    return [first] if first is not None and first.type == "identifier" else []


def token_tree_roots(token_tree: tree_sitter.Node) -> list[tree_sitter.Node]:
    """``name ::`` sequences inside macro arguments and attributes (``serde::Serialize``)."""
    roots = []
    children = token_tree.children
    for i, child in enumerate(children):
        if child.type != "identifier" or i + 1 >= len(children) or children[i + 1].type != "::":
            continue
        if i > 0 and children[i - 1].type in ("::", "$", "."):
            continue
        roots.append(child)
    return roots


def crate_like(name: str) -> bool:
    """Extern crate names are lower snake case; `Vec::new` and `Self::X` are not crates."""
    return name not in NOT_CRATES and (name[:1].islower() or name[:1] == "_")
