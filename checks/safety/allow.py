"""Lint-level attributes written around a node, as rustc resolves them for clippy's lints.

``#[allow(clippy::undocumented_unsafe_blocks)]`` on an enclosing item, statement or
match arm (or ``#![allow(...)]`` inside a ``fn`` body, ``mod``, ``impl`` or at the top of
a file) silences clippy there; so does its group (``clippy::restriction``). The innermost
``allow``/``expect``/``warn``/``deny``/``forbid`` naming the lint or its group decides.
Not seen: ``cfg_attr(…)`` (it depends on the build) and attributes on a ``mod x;``
declaration in another file.
"""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter

from ruvopt.checks.syntax import rust

SILENCING = frozenset({"allow", "expect"})
LEVELS = SILENCING | {"warn", "deny", "forbid"}
CONTAINERS = frozenset({"block", "declaration_list", "source_file"})


def _level(attribute_item: tree_sitter.Node, names: frozenset[str]) -> str | None:
    level = rust.attribute_name(attribute_item)
    if level not in LEVELS:
        return None
    arguments = rust.attribute_arguments(attribute_item)
    if arguments is None:
        return None
    entries = {"".join(entry.split()) for entry in rust.token_tree_entries(arguments)}
    return level if entries & names else None


def _inner_attributes(container: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    # Inner attributes come first in their container; rustc applies the last of conflicting
    # ones, so they are looked at last-first.
    found = []
    for index in range(container.named_child_count):
        child = container.named_child(index)
        if child is None or child.type not in ("inner_attribute_item", "line_comment", "block_comment"):
            break
        if child.type == "inner_attribute_item":
            found.append(child)
    yield from reversed(found)


def mentioned(data: bytes, names: frozenset[str]) -> bool:
    """Whether the file names one of the lints at all (most files do not: no walk needed)."""
    return any(name.encode() in data for name in names)


def _attributes_before(parent: tree_sitter.Node | None, child: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Outer attributes written directly before ``child``, nearest first (found through the
    parent: ``prev_named_sibling`` would look the parent up again, at the cost of its depth)."""
    if parent is None:
        return []
    siblings = parent.named_children
    index = next((i for i, c in enumerate(siblings) if c == child), 0)
    found = []
    for sibling in reversed(siblings[:index]):
        if sibling.type not in ("attribute_item", "line_comment", "block_comment"):
            break
        if sibling.type == "attribute_item":
            found.append(sibling)
    return found


def lint_allowed(node: tree_sitter.Node, names: frozenset[str], chain: list[tree_sitter.Node] | None = None) -> bool:
    """Whether the nearest lint attribute naming one of ``names`` silences the lint at ``node``;
    ``chain`` is the node's ancestors, parent first (walked up with ``Node.parent`` if absent)."""
    ancestors = chain if chain is not None else list(rust.ancestors(node))
    path = [node, *ancestors]
    for position, current in enumerate(path):
        attributes = list(_inner_attributes(current)) if current.type in CONTAINERS else []
        parent = path[position + 1] if position + 1 < len(path) else None
        attributes += _attributes_before(parent, current)
        for attribute in attributes:
            level = _level(attribute, names)
            if level is not None:
                return level in SILENCING
    return False
