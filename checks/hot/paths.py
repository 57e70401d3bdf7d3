"""Which functions are hot: configured patterns and ``// ruvopt: hot`` markers.

A pattern is ``[PATH_GLOB::]NAME_GLOB::…::NAME_GLOB``:

- ``crates/ruvllm/src/moe/router.rs::MemoryAwareRouter::select_top_k*`` — in that file,
  the ``select_top_k*`` methods of ``impl MemoryAwareRouter`` (or ``impl Trait for
  MemoryAwareRouter``);
- ``select_top_k*`` — every function of that name anywhere;
- ``crates/*/src/moe/**/*.rs`` (a path only) — every function in the matching files.

The first segment is a path glob when it contains ``/`` or ends in ``.rs`` (Cargo-style:
``*`` stays inside one path segment, ``**`` spans any). The name globs match the *end*
of the function's qualified name inside its file: inline ``mod`` names, the impl's type
name (the trait's name for a trait's default methods), enclosing function names, then
the function's own name. So
``MemoryAwareRouter::*`` is every method of that type, wherever it is nested.

A function can also be marked in code with a line comment directly above it (doc
comments and attributes may sit between): ``// ruvopt: hot``.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import tree_sitter

from ruvopt.checks.context import FileContext
from ruvopt.checks.hot import benches
from ruvopt.checks.manifest.workspace import glob_match
from ruvopt.checks.syntax import rust

MARKER = re.compile(r"^//\s*ruvopt:\s*hot\b")
MARKER_BYTES = re.compile(rb"ruvopt:\s*hot\b")
# Items inside a function body that are not part of its run time: a nested `fn` is its
# own function (hot only if it matches itself); consts and statics are evaluated at
# compile time.
NOT_BODY = ("function_item", "const_item", "static_item")
NODE_KINDS: tuple[str, ...] = ("function_item", "const_item", "static_item")


@dataclass(frozen=True, slots=True)
class HotPattern:
    path: str | None
    names: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> HotPattern:
        segments = [s.strip() for s in text.strip().split("::")]
        path = None
        if segments and ("/" in segments[0] or segments[0].endswith(".rs")):
            path = segments.pop(0)
        return cls(path, tuple(s for s in segments if s))

    def matches_path(self, path: str) -> bool:
        return self.path is None or glob_match(path, self.path)

    def matches(self, path: str, qualname: Sequence[str]) -> bool:
        if not self.matches_path(path) or len(self.names) > len(qualname):
            return False
        tail = qualname[len(qualname) - len(self.names) :]
        return all(fnmatch.fnmatchcase(name, glob) for name, glob in zip(tail, self.names, strict=True))


@dataclass(frozen=True, slots=True)
class HotFunction:
    node: tree_sitter.Node
    qualname: tuple[str, ...]
    reason: str = ""  # why a bench makes it hot; "" when a pattern or marker does

    @property
    def display(self) -> str:
        return "::".join(self.qualname)

    @property
    def because(self) -> str:
        """`` (benchmarked by `…` in `…`)`` for a message, or ""."""
        return f" ({self.reason})" if self.reason else ""


def qualified_name(root: tree_sitter.Node, function: tree_sitter.Node) -> tuple[str, ...]:
    """Names from the file down to ``function``: mods, impl type / trait, enclosing fns."""
    names = []
    for ancestor in rust.ancestor_chain(root, function):
        if ancestor.type == "impl_item":
            names.append(rust.impl_type_name(ancestor))
        elif ancestor.type in ("mod_item", "trait_item", "function_item"):
            names.append(rust.text_of(ancestor.child_by_field_name("name")))
    return tuple(names)


def has_hot_marker(function: tree_sitter.Node, lines: list[str]) -> bool:
    """``// ruvopt: hot`` on its own line among the comments/attributes just above."""
    for sibling in rust.leading_siblings(function):
        if sibling.type != "line_comment":
            continue
        row, col = sibling.start_point
        own_line = 0 <= row < len(lines) and not lines[row][:col].strip()
        if own_line and MARKER.match(rust.text_of(sibling)):
            return True
    return False


def hot_functions(ctx: FileContext, patterns: Iterable[str]) -> list[HotFunction]:
    """Functions of this file that a pattern or a marker makes hot, in file order.

    On a context that carries bench targets (``ctx.bench_hot``, the engine's second pass
    over files whose functions benches call) only the functions a bench makes hot are
    returned, and not those a pattern or marker already made hot: the first pass reported
    those.
    """
    parsed = [HotPattern.parse(p) for p in patterns]
    # An empty pattern ("" or "::") would make every function hot: ignore it.
    parsed = [p for p in parsed if (p.path or p.names) and p.matches_path(ctx.path)]
    marked = MARKER_BYTES.search(ctx.data) is not None
    # Most files match no pattern, carry no marker and no bench calls into them: skip
    # them before any tree work.
    if not parsed and not marked and not ctx.bench_hot:
        return []
    found = []
    root = ctx.tree.root_node
    for function in ctx.nodes("function_item"):
        name = rust.text_of(function.child_by_field_name("name"))
        # Bodiless `fn` in a trait or extern block: nothing runs there.
        if function.child_by_field_name("body") is None:
            continue
        # Cheap first test on the last segment before computing the qualified name.
        candidates = [p for p in parsed if not p.names or fnmatch.fnmatchcase(name, p.names[-1])]
        by_pattern = bool(candidates) and any(p.matches(ctx.path, qualified_name(root, function)) for p in candidates)
        configured = by_pattern or (marked and has_hot_marker(function, ctx.lines))
        if not ctx.bench_hot:
            if configured:
                found.append(HotFunction(function, qualified_name(root, function)))
            continue
        reason = None if configured else benches.bench_reason(function, ctx.bench_hot)
        if reason is not None:
            found.append(HotFunction(function, qualified_name(root, function), reason))
    return found


def body_nodes(ctx: FileContext, function: tree_sitter.Node, kinds: Iterable[str]) -> list[tree_sitter.Node]:
    """Nodes of ``kinds`` inside the function's body (closures included), excluding nested
    functions, consts and statics; in source order. Range lookups, no tree walk."""
    body = function.child_by_field_name("body")
    if body is None:
        return []
    start, end = body.start_byte, body.end_byte
    excluded = [(n.start_byte, n.end_byte) for kind in NOT_BODY for n in _within(ctx.nodes(kind), start, end)]
    found = [n for kind in kinds for n in _within(ctx.nodes(kind), start, end)]
    found = [n for n in found if not any(s <= n.start_byte and n.end_byte <= e for s, e in excluded)]
    return sorted(found, key=lambda n: (n.start_byte, -n.end_byte))


def _within(nodes: list[tree_sitter.Node], start: int, end: int) -> list[tree_sitter.Node]:
    """The nodes (sorted by start byte) that lie inside ``[start, end)``."""
    first = bisect.bisect_left(nodes, start, key=lambda n: n.start_byte)
    result = []
    for node in nodes[first:]:
        if node.start_byte >= end:
            break
        if node.end_byte <= end:
            result.append(node)
    return result


def inside_any(node: tree_sitter.Node, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(s <= node.start_byte and node.end_byte <= e for s, e in ranges)
