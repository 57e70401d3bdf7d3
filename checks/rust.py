"""Shared tree queries over tree-sitter-rust nodes, so rules do not each re-implement them.

Everything here is iterative (no Python recursion): a hostile file nested 10,000 deep
must not raise RecursionError.
"""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter

USE_LEAF_KINDS = frozenset(
    {"identifier", "scoped_identifier", "use_as_clause", "use_wildcard", "self", "crate", "super", "metavariable"}
)


def top_level(root: tree_sitter.Node, kind: str) -> Iterator[tree_sitter.Node]:
    """Direct children of the file of one kind (items of the crate root itself)."""
    for child in root.named_children:
        if child.type == kind:
            yield child


def visibility(item: tree_sitter.Node) -> str | None:
    for child in item.named_children:
        if child.type == "visibility_modifier":
            return child.text.decode() if child.text else None
    return None


def pub_use_declarations(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """``use`` items with visibility exactly ``pub`` directly in the file."""
    return [u for u in top_level(root, "use_declaration") if visibility(u) == "pub"]


def use_tree_leaves(declaration: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The names a use tree brings in: a path, ``x as y``, ``self`` and ``*`` each count 1."""
    argument = declaration.child_by_field_name("argument")
    if argument is None:
        return []
    leaves: list[tree_sitter.Node] = []
    stack = [argument]
    while stack:
        node = stack.pop()
        if node.type == "scoped_use_list":
            inner = node.child_by_field_name("list")
            if inner is not None:
                stack.append(inner)
        elif node.type == "use_list":
            stack.extend(reversed(node.named_children))
        elif node.type in USE_LEAF_KINDS:
            leaves.append(node)
    return leaves


def attribute_name(attribute_item: tree_sitter.Node) -> str:
    attribute = next((c for c in attribute_item.named_children if c.type == "attribute"), None)
    if attribute is None or not attribute.named_children:
        return ""
    first = attribute.named_children[0]
    return first.text.decode() if first.text else ""


def attribute_arguments(attribute_item: tree_sitter.Node) -> tree_sitter.Node | None:
    attribute = next((c for c in attribute_item.named_children if c.type == "attribute"), None)
    if attribute is None:
        return None
    return attribute.child_by_field_name("arguments")


def token_tree_entries(token_tree: tree_sitter.Node) -> list[str]:
    """Comma-separated entries inside ``( … )``: ``(a, clippy::b,)`` → ``["a", "clippy::b"]``."""
    entries: list[str] = []
    current: list[str] = []
    for child in token_tree.children[1:-1]:  # drop the brackets
        if child.type == ",":
            entries.append("".join(current))
            current = []
        else:
            current.append(child.text.decode() if child.text else "")
    entries.append("".join(current))
    return [e for e in entries if e.strip()]


def crate_allow_attributes(root: tree_sitter.Node) -> list[tuple[tree_sitter.Node, list[str]]]:
    """``#![allow(...)]`` attributes of the file with their lint entries."""
    found = []
    for item in top_level(root, "inner_attribute_item"):
        if attribute_name(item) != "allow":
            continue
        arguments = attribute_arguments(item)
        found.append((item, token_tree_entries(arguments) if arguments is not None else []))
    return found


def ancestors(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def enclosing(node: tree_sitter.Node, kinds: frozenset[str] | set[str]) -> tree_sitter.Node | None:
    return next((a for a in ancestors(node) if a.type in kinds), None)


def preceding_attributes(item: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Outer attributes (``#[...]``) written directly before an item, nearest first."""
    found = []
    sibling = item.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item":
            found.append(sibling)
        sibling = sibling.prev_named_sibling
    return found


def has_modifier(item: tree_sitter.Node, keyword: str) -> bool:
    """Whether an item carries a keyword such as ``unsafe`` before its name."""
    for child in item.children:
        if child.type == "function_modifiers":
            if any(c.type == keyword for c in child.children):
                return True
        elif child.type == keyword:
            return True
        elif child.type in ("identifier", "type_identifier", "block", "declaration_list", "{"):
            break
    return False
