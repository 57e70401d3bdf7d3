"""tree-sitter parsing, one parser per process, and the one query that collects nodes.

Rules never walk trees themselves: each declares the node kinds it needs, and a single
query run (in C, no Python recursion, so 10,000-deep nesting is harmless) collects every
kind any active rule asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import tree_sitter
import tree_sitter_rust


@cache
def language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_rust.language())


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(language())


def parse(data: bytes) -> tree_sitter.Tree:
    return parser().parse(data)


@cache
def kinds_query(kinds: frozenset[str]) -> tree_sitter.Query:
    patterns = " ".join(f"({kind}) @{kind}" for kind in sorted(kinds))
    return tree_sitter.Query(language(), patterns)


def collect(tree: tree_sitter.Tree, kinds: Iterable[str]) -> dict[str, list[tree_sitter.Node]]:
    wanted = frozenset(kinds)
    if not wanted:
        return {}
    captures = tree_sitter.QueryCursor(kinds_query(wanted)).captures(tree.root_node)
    found = {kind: sorted(captures.get(kind, []), key=lambda n: n.start_byte) for kind in wanted}
    return found
