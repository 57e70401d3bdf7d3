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

from checks import rust

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
    return any(name.split("::")[-1].encode() in data for name in names)


def lint_allowed(node: tree_sitter.Node, names: frozenset[str]) -> bool:
    """Whether the nearest lint attribute naming one of ``names`` silences the lint at ``node``."""
    current: tree_sitter.Node | None = node
    while current is not None:
        attributes = list(_inner_attributes(current)) if current.type in CONTAINERS else []
        attributes += rust.preceding_attributes(current)
        for attribute in attributes:
            level = _level(attribute, names)
            if level is not None:
                return level in SILENCING
        current = current.parent
    return False
