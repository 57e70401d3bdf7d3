"""``unsafe`` written inside token trees: ``macro_rules!`` bodies and macro arguments.

tree-sitter does not parse token trees, so ``unsafe { … }`` there is the keyword token
followed by a ``{ … }`` token tree, and ``unsafe impl`` the keyword followed by ``impl``.
Clippy treats the two places differently:

- In a ``macro_rules!`` transcriber the tokens carry the macro's expansion context, so
  clippy only reads the lines between the ``macro_rules!`` line and the block (its
  statement rule looks at the expanded statement, which is macro code as well).
- Arguments that are items (``cfg_if! { if #[cfg(unix)] { fn f() { … } } }``, and any
  macro whose ``{ … }`` argument parses as Rust items) are parsed again on their own,
  at their own positions: their blocks, functions and impls are then ordinary code.
- In any other macro *argument* the tokens keep the caller's context: the block is checked like
  ordinary code of the enclosing function. Its statement, though, is part of the
  expansion; ruvopt follows it only through macros known to expand to a plain expression
  around their arguments (``vec!``, ``addr_of!``…), and never through others: ``assert!``
  and ``format!``-style macros expand to ``if``/``match``, where clippy finds no statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import tree_sitter

from ruvopt.checks.context import FileContext
from ruvopt.checks.syntax import parse

MAX_NESTING = 4
# Macros whose expansion keeps each argument inside plain expressions up to the call.
PLAIN_EXPRESSION_MACROS = frozenset({"vec", "addr_of", "addr_of_mut"})
NESTED_TOKENS = frozenset({"token_tree", "token_repetition"})


@dataclass(frozen=True, slots=True)
class TokenBlock:
    keyword: tree_sitter.Node  # the `unsafe` token
    body: tree_sitter.Node  # the `{ … }` token tree after it
    container: tree_sitter.Node  # the macro_definition or macro_invocation


def _token_trees(container: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """The token trees of a macro whose tokens are code: transcribers, or the arguments."""
    if container.type == "macro_definition":
        for rule in container.named_children:
            if rule.type == "macro_rule":
                right = rule.child_by_field_name("right")
                if right is not None:
                    yield right
    else:
        yield from (child for child in container.children if child.type == "token_tree")


def _unsafe_tokens(container: tree_sitter.Node) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node | None]]:
    """(``unsafe`` token, the token after it) for every ``unsafe`` in the code token trees."""
    for tree in _token_trees(container):
        if tree.text is None or b"unsafe" not in tree.text:
            continue
        stack = [tree]
        while stack:
            node = stack.pop()
            for child in node.children:
                if child.type in NESTED_TOKENS:
                    stack.append(child)
                elif child.type == "unsafe":
                    yield child, child.next_sibling


def token_tree_blocks(containers: list[tree_sitter.Node]) -> list[TokenBlock]:
    found = []
    for container in containers:
        for keyword, following in _unsafe_tokens(container):
            if (
                following is not None
                and following.type == "token_tree"
                and following.text is not None
                and following.text.startswith(b"{")
            ):
                found.append(TokenBlock(keyword, following, container))
    return found


def token_tree_impls(definitions: list[tree_sitter.Node]) -> list[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(``unsafe`` token, macro_definition) for each ``unsafe impl`` in a transcriber."""
    found = []
    for definition in definitions:
        for keyword, following in _unsafe_tokens(definition):
            if following is not None and following.type == "impl":
                found.append((keyword, definition))
    return found


def macro_name(invocation: tree_sitter.Node) -> str:
    name = invocation.child_by_field_name("macro")
    if name is None or name.text is None:
        return ""
    return name.text.decode(errors="replace").rsplit("::", 1)[-1]


def passes_through(token: TokenBlock) -> bool:
    """Whether clippy's statement walk leaves this argument's expansion at the call itself."""
    if token.container.type != "macro_invocation" or macro_name(token.container) not in PLAIN_EXPRESSION_MACROS:
        return False
    # Inside a nested `{ … }` the argument sits in a block or struct literal: the walk ends there.
    tree = token.keyword.parent
    while tree is not None and tree.parent is not None and tree.parent.type in NESTED_TOKENS:
        if tree.text is not None and tree.text.startswith(b"{"):
            return False
        tree = tree.parent
    return tree is None or tree.text is None or not tree.text.startswith(b"{")


@dataclass(frozen=True, slots=True)
class Region:
    """A macro argument parsed again as items, at its original byte offsets."""

    tree: tree_sitter.Tree
    invocation: tree_sitter.Node
    start_byte: int
    end_byte: int

    def contains(self, node: tree_sitter.Node) -> bool:
        return self.start_byte <= node.start_byte < self.end_byte


ITEM_WORDS = (b"fn ", b"impl", b"static ", b"const ", b"macro_rules!", b"mod ")


@cache
def _range_parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(parse.language())


def _parse_as_items(data: bytes, tree: tree_sitter.Node) -> tree_sitter.Tree | None:
    """The inside of a ``{ … }`` / ``( … )`` token tree parsed as a file of items, in place
    (tree-sitter's included ranges keep every byte offset and line number)."""
    start, end = tree.start_byte + 1, tree.end_byte - 1
    inside = data[start:end]
    if end <= start or not any(word in inside for word in ITEM_WORDS):
        return None
    (first_row, first_column), (last_row, last_column) = tree.start_point, tree.end_point
    parser = _range_parser()
    parser.included_ranges = [tree_sitter.Range((first_row, first_column + 1), (last_row, last_column - 1), start, end)]
    parsed = parser.parse(data)
    root = parsed.root_node
    if root.has_error or not any(child.type.endswith("_item") for child in root.named_children):
        return None
    return parsed


def item_regions(ctx: FileContext) -> list[Region]:
    """Macro arguments holding ``unsafe`` that parse as items (nested macros included)."""
    regions: list[Region] = []
    pending = [(invocation, 0) for invocation in ctx.nodes("macro_invocation")]
    while pending:
        invocation, depth = pending.pop()
        tree = next((c for c in invocation.children if c.type == "token_tree"), None)
        if tree is None or tree.text is None or b"unsafe" not in tree.text or depth > MAX_NESTING:
            continue
        candidates = [tree, *(c for c in tree.children if c.type == "token_tree" and c.text and c.text[:1] == b"{")]
        for candidate in candidates:
            parsed = _parse_as_items(ctx.data, candidate)
            if parsed is None:
                continue
            regions.append(Region(parsed, invocation, candidate.start_byte, candidate.end_byte))
            nested = parse.collect(parsed, ("macro_invocation",)).get("macro_invocation", [])
            pending.extend((inner, depth + 1) for inner in nested)
            if candidate is tree:
                break  # the whole argument parsed: its parts need no second try
    return regions
