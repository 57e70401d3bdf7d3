"""``#[cfg(...)]`` gates around a node, and the crate names a file's paths start from.

A cfg predicate is reduced to *clauses*: sets of features of which at least one must be
on for the code to compile. ``feature = "a"`` gives ``[{a}]``; ``all(p, q)`` joins the
clauses of both; ``any(p, q)`` gives a clause only when every branch gives one (their
union); ``not(..)``, ``unix``, ``target_os = ..`` give nothing (they do not require a
feature). Two pseudo-features mark code that a default build of a library's users never
compiles: ``cfg:test`` for ``test``, and ``cfg:custom`` for a cfg Rust does not define
(``memchr_libc``, ``tokio_unstable``): a build script or RUSTFLAGS sets it, often from
the crate's features, and ruvopt cannot see how.

Everything is iterative (no recursion on the syntax tree), and nothing climbs from each
path to the root: see ``gate_intervals``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import tree_sitter

from ruvopt.checks.syntax import rust

TEST = "cfg:test"
CUSTOM = "cfg:custom"
EXEMPT = frozenset({TEST, CUSTOM})
# The cfg names rustc and Cargo set themselves; any other name is a custom cfg.
STANDARD_CFGS = frozenset(
    {
        "feature",
        "test",
        "doc",
        "doctest",
        "debug_assertions",
        "unix",
        "windows",
        "miri",
        "proc_macro",
        "overflow_checks",
        "panic",
        "relocation_model",
        "sanitize",
        "sanitizer_cfi_generalize_pointers",
        "sanitizer_cfi_normalize_integers",
        "target_abi",
        "target_arch",
        "target_endian",
        "target_env",
        "target_family",
        "target_feature",
        "target_has_atomic",
        "target_os",
        "target_pointer_width",
        "target_thread_local",
        "target_vendor",
        "ub_checks",
        "fmt_debug",
        "contract_checks",
        "true",
        "false",
    }
)
MAX_CLAUSES = 32  # `any(all(..), all(..), ..)` multiplies out; real gates are far smaller
CHILD_ATTRIBUTE_HOLDERS = frozenset({"match_arm", "field_initializer"})
NOT_CRATES = frozenset({"crate", "self", "super", "Self", "std", "core", "alloc"})

Clause = frozenset[str]
ATTACHED = frozenset({"attribute_item", "line_comment", "block_comment"})
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Interval(Generic[T]):
    start: int  # byte offsets, end exclusive
    end: int
    payload: T


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
            preds.append(["feature", literal] if name == "feature" else _atom(name, f"{name}={literal}"))
            i += 3
        elif following is not None and following.type == "token_tree":
            preds.append([name, predicate_list(following)])
            i += 2
        else:
            preds.append(["test"] if name == "test" else _atom(name, name))
            i += 1
    return preds


def _atom(name: str, text: str) -> list[str]:
    return ["other", text] if name in STANDARD_CFGS else ["custom", text]


def clauses(pred: Any) -> list[Clause]:
    """The feature clauses a predicate implies (see the module docstring)."""
    kind = pred[0]
    if kind == "feature":
        return [frozenset({pred[1]})]
    if kind == "test":
        return [frozenset({TEST})]
    if kind == "custom":
        return [frozenset({CUSTOM})]
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


def _cfg_attr_clauses(attribute_item: tree_sitter.Node) -> list[Clause]:
    """``#[cfg_attr(feature = "serde", derive(serde::Serialize))]`` gates what it adds."""
    if rust.attribute_name(attribute_item) != "cfg_attr":
        return []
    arguments = rust.attribute_arguments(attribute_item)
    preds = predicate_list(arguments) if arguments is not None else []
    return clauses(preds[0]) if preds else []


def gate_intervals(attributes: Iterable[tree_sitter.Node]) -> list[Interval[list[Clause]]]:
    """Byte ranges each ``cfg``/``cfg_attr`` attribute decides, with its clauses.

    ``#[cfg]`` decides its item together with the item's other attributes (a path in a
    `#[derive(..)]` next to it is gated too); an arm's or field initializer's
    attribute decides that arm; ``#![cfg]`` decides its file, module or block;
    ``#[cfg_attr(p, ..)]`` gates what is written inside it. Only these few attribute
    nodes are climbed from: a climb costs the node's depth in tree-sitter, so climbing
    from every path would be quadratic on deeply nested files.
    """
    found: list[Interval[list[Clause]]] = []
    for attribute in attributes:
        # Most attributes (`derive`, `inline`, docs) are no `cfg`: a byte test skips them.
        if attribute.text is None or b"cfg" not in attribute.text:
            continue
        attr_attr = _cfg_attr_clauses(attribute)
        if attr_attr:
            found.append(Interval(attribute.start_byte, attribute.end_byte, attr_attr))
        gates = attribute_clauses(attribute)
        if not gates:
            continue
        scope = _decided_range(attribute)
        if scope is not None:
            found.append(Interval(scope[0], scope[1], gates))
    return found


def cfg_if_intervals(invocations: Iterable[tree_sitter.Node]) -> list[Interval[list[Clause]]]:
    """``cfg_if! { if #[cfg(p)] { .. } else if #[cfg(q)] { .. } else { .. } }``: each
    branch's braces with the clauses of its own predicate (an `else` branch requires no
    feature, so it gets none)."""
    found: list[Interval[list[Clause]]] = []
    for invocation in invocations:
        path = rust.macro_path(invocation)
        if not path or path[-1] != "cfg_if":
            continue
        pending: list[Clause] | None = None
        for tree in (c for c in invocation.named_children if c.type == "token_tree"):
            for child in tree.named_children:
                opener = child.children[0].type if child.type == "token_tree" and child.children else ""
                if opener == "[":
                    pending = _bracketed_cfg(child)
                elif opener == "{":
                    if pending:
                        found.append(Interval(child.start_byte, child.end_byte, pending))
                    pending = None
    return found


def _bracketed_cfg(tree: tree_sitter.Node) -> list[Clause]:
    """``[cfg(feature = "x")]`` written as tokens (inside a macro) → its clauses."""
    parts = tree.named_children
    if len(parts) >= 2 and parts[0].type == "identifier" and _text(parts[0]) == "cfg" and parts[1].type == "token_tree":
        return clauses(["all", predicate_list(parts[1])])
    return []


def _decided_range(attribute: tree_sitter.Node) -> tuple[int, int] | None:
    parent = attribute.parent
    if attribute.type == "inner_attribute_item" or (parent is not None and parent.type in CHILD_ATTRIBUTE_HOLDERS):
        return (parent.start_byte, parent.end_byte) if parent is not None else None
    first = attribute
    while first.prev_named_sibling is not None and first.prev_named_sibling.type in ATTACHED:
        first = first.prev_named_sibling
    item = attribute.next_named_sibling
    while item is not None and item.type in ATTACHED:
        item = item.next_named_sibling
    return (first.start_byte, item.end_byte) if item is not None else None


def containing(points: list[int], intervals: list[Interval[T]]) -> list[list[T]]:
    """For each byte offset, the payloads of the intervals holding it, outermost first.

    Intervals from one syntax tree nest or are disjoint, so one sweep with a stack of
    open intervals answers every point: O((points + intervals) log).
    """
    order = sorted(intervals, key=lambda i: (i.start, -i.end))
    answers: list[list[T]] = [[] for _ in points]
    stack: list[Interval[T]] = []
    next_interval = 0
    for index in sorted(range(len(points)), key=points.__getitem__):
        point = points[index]
        while next_interval < len(order) and order[next_interval].start <= point:
            while stack and stack[-1].end <= order[next_interval].start:
                stack.pop()
            stack.append(order[next_interval])
            next_interval += 1
        while stack and stack[-1].end <= point:
            stack.pop()
        answers[index] = [i.payload for i in stack if i.start <= point < i.end]
    return answers


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
