"""Shared tree queries over tree-sitter-rust nodes, so rules do not each re-implement them.

Everything here is iterative (no Python recursion): a hostile file nested 10,000 deep
must not raise RecursionError.
"""

from __future__ import annotations

import itertools
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
            return child.text.decode("utf-8", "replace") if child.text else None
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
    return first.text.decode("utf-8", "replace") if first.text else ""


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
            current.append(child.text.decode("utf-8", "replace") if child.text else "")
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
    """Parent, grandparent, … up to the root.

    Each ``Node.parent`` costs O(depth) (tree-sitter searches down from the root), so a
    full walk is O(depth²): fine for a few nodes, a stall when run for many nodes of a
    deeply nested file. ``ancestor_chain(root, node)`` gets all of them in one descent.
    """
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


# --- paths, calls and macros (used by the hot-path and buffer rules) -------------------

PATH_LEAF_KINDS = frozenset({"identifier", "type_identifier", "self", "crate", "super", "metavariable"})


def text_of(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text else ""


def path_segments(node: tree_sitter.Node | None) -> tuple[str, ...] | None:
    """``std::time::Instant::now`` → ``("std", "time", "Instant", "now")``.

    Generic arguments are dropped (``Vec::<u8>::new`` → ``("Vec", "new")``, likewise
    ``mem::take::<T>``); anything that is not a plain path (``<T as X>::f``, a closure)
    gives None.
    """
    segments: list[str] = []
    current = node
    while current is not None:
        if current.type == "generic_function":
            current = current.child_by_field_name("function")
        elif current.type == "generic_type":
            current = current.child_by_field_name("type")
        elif current.type in ("scoped_identifier", "scoped_type_identifier"):
            segments.append(text_of(current.child_by_field_name("name")))
            current = current.child_by_field_name("path")  # None for a leading `::`
        elif current.type in PATH_LEAF_KINDS:
            segments.append(text_of(current))
            current = None
        else:
            return None
    return tuple(reversed(segments)) if segments else None


def call_path(call: tree_sitter.Node) -> tuple[str, ...] | None:
    """The called path of a ``call_expression`` (``Vec::new(…)``), None for method calls."""
    return path_segments(call.child_by_field_name("function"))


def method_field(call: tree_sitter.Node) -> tree_sitter.Node | None:
    """The ``receiver.name`` part of a method call (``x.collect::<T>()`` included)."""
    function = call.child_by_field_name("function")
    if function is not None and function.type == "generic_function":  # .collect::<Vec<_>>()
        function = function.child_by_field_name("function")
    return function if function is not None and function.type == "field_expression" else None


def method_name(call: tree_sitter.Node) -> str | None:
    """``x.iter().collect()`` → ``"collect"``; None when the call is not a method call."""
    field = method_field(call)
    return text_of(field.child_by_field_name("field")) if field is not None else None


def method_receiver(call: tree_sitter.Node) -> tree_sitter.Node | None:
    field = method_field(call)
    return field.child_by_field_name("value") if field is not None else None


def call_arguments(call: tree_sitter.Node) -> list[tree_sitter.Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [a for a in arguments.named_children if a.type not in ("line_comment", "block_comment")]


def macro_path(invocation: tree_sitter.Node) -> tuple[str, ...] | None:
    """``vec![…]`` → ``("vec",)``, ``std::format!(…)`` → ``("std", "format")``."""
    return path_segments(invocation.child_by_field_name("macro"))


def ends_with(path: tuple[str, ...] | None, suffix: tuple[str, ...]) -> bool:
    return path is not None and path[-len(suffix) :] == suffix


# --- places rooted at `self` ---------------------------------------------------------


def self_place(node: tree_sitter.Node | None) -> str | None:
    """``self.a.b`` / ``self.bufs[i]`` → ``"a.b"`` / ``"bufs[i]"`` (whitespace removed).

    None unless the expression is a field or index chain that starts at ``self``.
    """
    current = node
    while current is not None and current.type == "parenthesized_expression":
        current = current.named_children[0] if current.named_children else None
    if current is None or current.type not in ("field_expression", "index_expression"):
        return None
    probe: tree_sitter.Node | None = current
    while probe is not None and probe.type in ("field_expression", "index_expression"):
        probe = probe.child_by_field_name("value") if probe.type == "field_expression" else probe.named_children[0]
    if probe is None or probe.type != "self":
        return None
    text = "".join(text_of(current).split())
    return text[len("self.") :] if text.startswith("self.") else None


def mut_ref_self_place(node: tree_sitter.Node | None) -> str | None:
    """``&mut self.f`` → ``"f"``; None for anything else."""
    if node is None or node.type != "reference_expression":
        return None
    if not any(c.type == "mutable_specifier" for c in node.children):
        return None
    return self_place(node.child_by_field_name("value"))


def self_receiver_kind(function: tree_sitter.Node) -> str | None:
    """How a method takes ``self``: ``"&mut"``, ``"&"``, ``"value"``, or None (not a method)."""
    parameters = function.child_by_field_name("parameters")
    if parameters is None:
        return None
    for parameter in parameters.named_children:
        if parameter.type == "self_parameter":
            tokens = [c.type for c in parameter.children]
            if "&" in tokens:
                return "&mut" if "mutable_specifier" in tokens else "&"
            return "value"
        if parameter.type == "parameter" and text_of(parameter.child_by_field_name("pattern")) == "self":
            kind = parameter.child_by_field_name("type")  # `self: &mut Self`, `self: Box<Self>`
            if kind is not None and kind.type == "reference_type":
                return "&mut" if any(c.type == "mutable_specifier" for c in kind.children) else "&"
            return "value"
    return None


# --- items around a node ---------------------------------------------------------------

ITEM_ATTACHED = frozenset({"attribute_item", "line_comment", "block_comment"})


def leading_siblings(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """Attributes and comments written directly before ``node`` (nearest first)."""
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in ITEM_ATTACHED:
        yield sibling
        sibling = sibling.prev_named_sibling


def impl_type_name(impl: tree_sitter.Node) -> str:
    """``impl<T> Foo<T>`` and ``impl Trait for &mut Foo<T>`` → ``"Foo"``."""
    kind = impl.child_by_field_name("type")
    while kind is not None and kind.type in ("reference_type", "pointer_type"):
        kind = kind.child_by_field_name("type")
    path = path_segments(kind)
    return path[-1] if path else text_of(kind)


def cfg_mentions(attribute_item: tree_sitter.Node, word: str = "feature") -> bool:
    """Whether a ``#[cfg(…)]`` / ``#![cfg(…)]`` predicate names ``word`` anywhere
    (``feature = "x"``, ``all(feature = "x", unix)``, ``not(feature = "x")``)."""
    if attribute_name(attribute_item) != "cfg":
        return False
    arguments = attribute_arguments(attribute_item)
    stack = [arguments] if arguments is not None else []
    while stack:
        node = stack.pop()
        if node.type == "identifier" and text_of(node) == word:
            return True
        stack.extend(node.named_children)
    return False


# Nodes whose own attributes are children, not preceding siblings (`#[cfg] Pat => …`).
CHILD_ATTRIBUTE_HOLDERS = frozenset({"match_arm", "field_initializer"})


def _inner_cfg(container: tree_sitter.Node, word: str) -> bool:
    """``#![cfg(…)]`` at the top of a file or inline module."""
    for child in container.named_children:
        if child.type == "inner_attribute_item":
            if cfg_mentions(child, word):
                return True
        elif child.type not in ("line_comment", "block_comment"):
            return False
    return False


def _cfg_macro_in(condition: tree_sitter.Node, word: str) -> bool:
    """Whether an ``if`` condition uses ``cfg!(… word …)`` (also negated or in ``&&``)."""
    stack = [condition]
    while stack:
        node = stack.pop()
        if node.type == "macro_invocation" and macro_path(node) == ("cfg",):
            tokens = [n for n in node.named_children if n.type == "token_tree"]
            inner = list(tokens)
            while inner:
                token = inner.pop()
                if token.type == "identifier" and text_of(token) == word:
                    return True
                inner.extend(token.named_children)
        else:
            stack.extend(node.named_children)
    return False


def ancestor_chain(root: tree_sitter.Node, node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """``[root, …, parent, node]``, found by descending with a cursor.

    ``Node.parent`` costs O(depth) in tree-sitter (it searches down from the root), so
    walking up from a node 10,000 levels deep is quadratic; one descent is linear.
    """
    chain = [root]
    cursor = root.walk()
    while chain[-1] != node:
        if cursor.goto_first_child_for_byte(node.start_byte) is None:
            break
        while not (
            cursor.node is not None
            and cursor.node.start_byte <= node.start_byte
            and node.end_byte <= cursor.node.end_byte
        ):
            if not cursor.goto_next_sibling():
                return chain
        assert cursor.node is not None
        chain.append(cursor.node)
    return chain


def _preceding_attributes(parent: tree_sitter.Node, child: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """Attributes written directly before ``child`` among ``parent``'s children."""
    siblings = parent.named_children
    index = next((i for i, c in enumerate(siblings) if c == child), 0)
    for sibling in reversed(siblings[:index]):
        if sibling.type not in ITEM_ATTACHED:
            return
        if sibling.type == "attribute_item":
            yield sibling


def under_cfg(root: tree_sitter.Node, node: tree_sitter.Node, word: str = "feature") -> bool:
    """Whether ``node`` only exists for some setting of a ``cfg`` predicate naming ``word``:
    ``#[cfg(feature = …)]`` on an enclosing statement, expression, arm, field or item,
    ``#![cfg(feature = …)]`` on the enclosing file/module, or a branch of
    ``if cfg!(feature = …)``."""
    chain = ancestor_chain(root, node)
    for parent, current in itertools.pairwise(chain):
        if any(cfg_mentions(a, word) for a in _preceding_attributes(parent, current)):
            return True
        if parent.type == "if_expression":
            condition = parent.child_by_field_name("condition")
            if condition is not None and condition != current and _cfg_macro_in(condition, word):
                return True
    for current in chain:
        if current.type in CHILD_ATTRIBUTE_HOLDERS and any(
            c.type == "attribute_item" and cfg_mentions(c, word) for c in current.named_children
        ):
            return True
        if current.type in ("source_file", "declaration_list") and _inner_cfg(current, word):
            return True
    return False


def use_paths(declaration: tree_sitter.Node) -> list[tuple[tuple[str, ...], str]]:
    """Each leaf of a use tree as (full path, name it binds):
    ``use std::mem::{self, take as steal}`` → ``(("std", "mem"), "mem")``,
    ``(("std", "mem", "take"), "steal")``; a glob binds ``"*"``."""
    argument = declaration.child_by_field_name("argument")
    found: list[tuple[tuple[str, ...], str]] = []
    stack: list[tuple[tree_sitter.Node, tuple[str, ...]]] = [(argument, ())] if argument is not None else []
    while stack:
        node, prefix = stack.pop()
        if node.type == "scoped_use_list":
            inner = node.child_by_field_name("list")
            if inner is not None:
                stack.append((inner, prefix + (path_segments(node.child_by_field_name("path")) or ())))
        elif node.type == "use_list":
            stack.extend((child, prefix) for child in node.named_children)
        elif node.type == "use_as_clause":
            full = prefix + (path_segments(node.child_by_field_name("path")) or ())
            found.append((full, text_of(node.child_by_field_name("alias"))))
        elif node.type == "use_wildcard":
            base = next((c for c in node.named_children if c.type != "line_comment"), None)
            found.append((prefix + (path_segments(base) or ()), "*"))
        elif node.type in PATH_LEAF_KINDS or node.type == "scoped_identifier":
            full = prefix + (path_segments(node) or ())
            if full and full[-1] == "self":
                full = full[:-1]
            if full:
                found.append((full, full[-1]))
    return found


def first_past_limit(counted: list[tuple[tree_sitter.Node, int]], limit: int) -> tree_sitter.Node:
    """The item at which a running count first exceeds ``limit`` (callers know it does)."""
    running = 0
    for node, count in counted:
        running += count
        if running > limit:
            return node
    return counted[-1][0]
