"""SAFETY-comment verdicts, shared by RO201/RO202/RO203 and the unsafe metrics.

A verdict is what clippy 0.1.95 would decide, without compiling: ``True`` when clippy's
``undocumented_unsafe_blocks`` accepts the comments around an ``unsafe`` block or
``unsafe impl``. The text tests live in ``ruvopt.checks.safety.text``; this module supplies the
structure clippy takes from HIR: the *window* (the first line of the enclosing body,
never scanned: a comment above the ``fn`` does not count), the line of the enclosing
statement, and the ``macro_rules!`` bodies and macro arguments that tree-sitter leaves
as token trees (``ruvopt.checks.safety.macros``). A block is accepted when any of these holds:

- the lines above the line holding ``unsafe`` carry a SAFETY comment;
- the block's first token is a ``// SAFETY:`` or ``/* SAFETY: */`` comment;
- ``accept-comment-above-statement`` (default on): the lines above the enclosing
  statement do. Going up through expressions (calls, method calls, operators, ``return``,
  ``break``, ``?``, closures whose body is the block, tuples, arrays, casts, ``if``/``match``
  conditions) the walk stops at a ``let`` (its first line), an assignment ``=`` (the line
  of the ``=``), a ``const``/``static`` item, or else at the outermost expression it
  reached — no statement at all when that expression is an ``if``, ``match``, loop, ``?``
  or ``.await`` (clippy sees their desugared ``match``/``loop``). A ``{ }`` block, a match
  arm, a struct-literal field and a ``..`` range end the walk at the expression below them.

Windows (clippy's ``get_body_search_span``): the nearest enclosing ``fn``; for a ``const``
or ``static`` outside any ``fn``, the enclosing ``impl``/``trait``/type item, else the end
of the previous item of the module, else the line of ``mod``; in the crate root, line 1.
A ``const``/``static`` (or ``unsafe impl``) that is the first item of a module *file*
gets no verdict from clippy at all (its window would start in the parent file), which
is counted as accepted. A module file is any ``.rs`` file that is not a crate root by
Cargo's conventions (``lib.rs``, ``main.rs``, ``build.rs``, ``src/bin``, ``examples``,
``tests``, ``benches``).

Metrics: ``unsafe_blocks`` counts every ``unsafe { }`` block, including those written in
``macro_rules!`` bodies and macro arguments (``unsafe_blocks_documented``: clippy accepts
it); ``unsafe_impls`` every ``unsafe impl`` (also in ``macro_rules!`` bodies);
``unsafe_fns`` every ``fn`` item or declaration with the ``unsafe`` keyword — free
functions, inherent methods, trait method declarations and defaults, ``unsafe fn`` in
``extern`` blocks — except methods of trait impls, and ``unsafe_fns_with_safety_doc``
those whose docs have a heading clippy accepts as a ``# Safety`` section. All regardless
of ``#[cfg]`` and ``#[allow]``: these are coverage numbers, not findings.

Not modelled: a ``macro_rules!`` block whose statement clippy finds at the call site (a
macro that expands to ``unsafe { … }`` used as ``let x = m!();``: clippy also accepts a
comment above that ``let``); allow attributes in another file (``#![allow(…)]`` in the
crate root for a block in a module file, ``#[allow(…)] mod m;``).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import tree_sitter

from ruvopt.checks.context import FileContext
from ruvopt.checks.safety import doc as safety_doc
from ruvopt.checks.safety import macros as safety_macros
from ruvopt.checks.safety.macros import Region, TokenBlock
from ruvopt.checks.safety.text import comment_above, comment_inside
from ruvopt.checks.syntax import parse, rust

NODE_KINDS: tuple[str, ...] = (
    "unsafe_block",
    "impl_item",
    "function_item",
    "function_signature_item",
    "trait_item",
    "macro_definition",
    "macro_invocation",
)
STATEMENT_OPTION = "accept-comment-above-statement"
ATTRIBUTES_OPTION = "accept-comment-above-attributes"
OPTIONS_RULE = "RO201"  # clippy has one lint with both options; RO202 follows RO201's
PRETEND = -2  # window marker: clippy cannot find the text and accepts the block

# Expressions clippy's HIR walk passes through on the way to the statement.
PASS_THROUGH = frozenset(
    {
        "call_expression",
        "arguments",
        "binary_expression",
        "unary_expression",
        "reference_expression",
        "field_expression",
        "index_expression",
        "type_cast_expression",
        "try_expression",
        "tuple_expression",
        "parenthesized_expression",
        "return_expression",
        "break_expression",
        "yield_expression",
        "compound_assignment_expr",
        "if_expression",
        "else_clause",
        "match_expression",
        "while_expression",
        "for_expression",
        "let_condition",
        "let_chain",
        "await_expression",
        "closure_expression",
        "base_field_initializer",
        "field_initializer_list",
        "struct_expression",
    }
)
# The outermost expression being one of these means a desugared match or loop in HIR.
BRANCHY = frozenset(
    {
        "if_expression",
        "match_expression",
        "loop_expression",
        "while_expression",
        "for_expression",
        "try_expression",
        "await_expression",
    }
)
WINDOW_ITEMS = frozenset(
    {
        "function_item",
        "impl_item",
        "trait_item",
        "enum_item",
        "struct_item",
        "union_item",
        "type_item",
    }
)
NOT_ITEMS = frozenset({"attribute_item", "inner_attribute_item", "line_comment", "block_comment", "empty_statement"})
ROOT_DIRS = frozenset({"bin", "examples", "tests", "benches"})


@dataclass(eq=False)
class FileScan:
    """The file's own nodes plus those of macro arguments parsed again as items."""

    ctx: FileContext
    regions: list[Region] = field(default_factory=list)
    _extra: dict[str, list[tree_sitter.Node]] = field(default_factory=dict)
    # Verdicts by (kind, options): the metrics and the rules ask for the same ones.
    verdicts: dict[tuple[str, bool, bool], list[tuple[tree_sitter.Node, bool]]] = field(default_factory=dict)

    def nodes(self, kind: str) -> list[tree_sitter.Node]:
        if kind not in self._extra:
            self._extra[kind] = [
                node for region in self.regions for node in parse.collect(region.tree, (kind,)).get(kind, [])
            ]
        return self.ctx.nodes(kind) + self._extra[kind]

    def region_of_root(self, node: tree_sitter.Node) -> Region | None:
        return next((r for r in self.regions if r.tree.root_node == node), None)

    def token_blocks(self) -> list[TokenBlock]:
        """Blocks left as tokens, except those a parsed-again region already holds."""
        found = []
        for token in safety_macros.token_tree_blocks(self.nodes("macro_definition") + self.nodes("macro_invocation")):
            if not any(r.contains(token.keyword) and same_span(r.invocation, token.container) for r in self.regions):
                found.append(token)
        return found


SCAN_ATTRIBUTE = "_safety_scan"


def scan_of(ctx: FileContext) -> FileScan:
    """The file's scan, kept on the context itself so that it lives and dies with it."""
    scan = vars(ctx).get(SCAN_ATTRIBUTE)
    if not isinstance(scan, FileScan):
        scan = FileScan(ctx, safety_macros.item_regions(ctx))
        vars(ctx)[SCAN_ATTRIBUTE] = scan
    return scan


def same_span(a: tree_sitter.Node, b: tree_sitter.Node) -> bool:
    return (a.start_byte, a.end_byte) == (b.start_byte, b.end_byte)


def ancestors_of(scan: FileScan, node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Parent, grandparent, … up to the root of ``node``'s tree (the file's, or that of a
    macro argument parsed again), from one cursor descent: ``Node.parent`` costs the node's
    depth, and walking up through a 10,000-deep nest that way takes seconds."""
    roots = [r.tree.root_node for r in scan.regions if r.contains(node)] + [scan.ctx.tree.root_node]
    for root in roots:
        chain = rust.ancestor_chain(root, node)
        if chain[-1] == node:
            return chain[-2::-1]
    return list(rust.ancestors(node))


def options(ctx: FileContext) -> tuple[bool, bool]:
    """(accept-comment-above-statement, accept-comment-above-attributes) from RO201's options."""
    config = ctx.config
    return (
        bool(config.rule_option(OPTIONS_RULE, STATEMENT_OPTION, True)),
        bool(config.rule_option(OPTIONS_RULE, ATTRIBUTES_OPTION, True)),
    )


def is_module_file(path: str) -> bool:
    """Not a crate root by Cargo's layout conventions (see the module docstring)."""
    directory, name = posixpath.split(path)
    if name in ("lib.rs", "main.rs", "build.rs"):
        return False
    return posixpath.basename(directory) not in ROOT_DIRS


def line_of(node: tree_sitter.Node) -> int:
    return node.start_point[0]


def previous_item(item: tree_sitter.Node) -> tree_sitter.Node | None:
    sibling = item.prev_named_sibling
    while sibling is not None and sibling.type in NOT_ITEMS:
        sibling = sibling.prev_named_sibling
    return sibling


def item_window(scan: FileScan, item: tree_sitter.Node) -> int:
    """Window of a module-level item (``unsafe impl`` or ``const``): after the item before it."""
    parent = item.parent
    if parent is not None and parent.type == "block":
        return line_of(parent)  # an item among statements: clippy starts at the block
    before = previous_item(item)
    if before is not None:
        return before.end_point[0]
    if parent is not None and parent.type == "declaration_list" and parent.parent is not None:
        return line_of(parent.parent)  # first item of an inline `mod`
    region = scan.region_of_root(parent) if parent is not None else None
    if region is not None:
        return item_window(scan, region.invocation)  # first item of a macro argument
    # First item of a file: the crate root's window includes line 1 (the injected prelude
    # comes first); a module file's would start in the parent file, so clippy accepts.
    return PRETEND if is_module_file(scan.ctx.path) else -1


def body_window(scan: FileScan, node: tree_sitter.Node, chain: list[tree_sitter.Node] | None = None) -> int:
    """First line of the body clippy searches (exclusive), or PRETEND."""
    module_item: tree_sitter.Node | None = None
    chain = ancestors_of(scan, node) if chain is None else chain
    index = 0
    while index < len(chain):
        current = chain[index]
        kind = current.type
        index += 1
        if kind in WINDOW_ITEMS:
            return line_of(current)
        if kind in ("const_item", "static_item"):
            module_item = current
        elif kind == "source_file" and (region := scan.region_of_root(current)) is not None:
            if module_item is not None:
                return item_window(scan, module_item)
            chain, index = ancestors_of(scan, region.invocation), 0  # go on around the invocation
        elif kind == "source_file":
            if not is_module_file(scan.ctx.path):
                return 0  # the crate root: clippy searches the whole file but its first line
            return item_window(scan, module_item) if module_item is not None else PRETEND
        elif kind == "mod_item":
            return item_window(scan, module_item) if module_item is not None else line_of(current)
        elif kind != "declaration_list":
            module_item = None
    return 0


def statement_line(start: tree_sitter.Node, chain: list[tree_sitter.Node]) -> int | None:
    """Line of the statement clippy checks above, walking up from ``start`` through its
    ancestors ``chain`` (parent first; see the module docstring)."""
    node = start
    for parent in chain:
        kind = parent.type
        if kind == "let_declaration" and parent.child_by_field_name("value") == node:
            return line_of(parent)
        if kind == "assignment_expression":
            return next((line_of(c) for c in parent.children if c.type == "="), line_of(parent))
        if kind in ("const_item", "static_item"):
            return line_of(parent)
        if kind == "array_expression" and parent.child_by_field_name("length") == node:
            break  # a repeat count is an anonymous const
        if kind == "range_expression":
            if not any(c.type == "..=" for c in parent.children):
                break  # `a..b` is a struct literal `Range { start, end }` in HIR; `a..=b` a call
        elif kind not in PASS_THROUGH and kind != "array_expression":
            break
        if kind == "closure_expression" and parent.child_by_field_name("body") != node:
            break
        node = parent
    return None if node.type in BRANCHY else line_of(node)


def block_verdict(scan: FileScan, node: tree_sitter.Node, statement: bool, attributes: bool) -> bool:
    """clippy's verdict for one parsed ``unsafe { }`` block."""
    ctx = scan.ctx
    chain = ancestors_of(scan, node)
    window = body_window(scan, node, chain)
    if window == PRETEND:
        return True
    lines = ctx.lines
    if comment_above(lines, line_of(node), window, attributes=attributes):
        return True
    block = node.named_children[-1] if node.named_children else None
    if block is not None and comment_inside(ctx.data[block.start_byte + 1 : block.end_byte].decode(errors="replace")):
        return True
    if not statement:
        return False
    target = statement_line(node, chain)
    return target is not None and comment_above(lines, target, window, attributes=attributes)


def unsafe_block_verdicts(ctx: FileContext) -> list[tuple[tree_sitter.Node, bool]]:
    """Every ``unsafe { }`` block of the file with whether clippy would accept its comment.

    Blocks written in ``macro_rules!`` bodies and in macro arguments are included; their
    node is the ``unsafe`` keyword token.
    """
    if b"unsafe" not in ctx.data:
        return []
    statement, attributes = options(ctx)
    scan = scan_of(ctx)
    key = ("blocks", statement, attributes)
    if key not in scan.verdicts:
        found = [(node, block_verdict(scan, node, statement, attributes)) for node in scan.nodes("unsafe_block")]
        for token in scan.token_blocks():
            found.append((token.keyword, token_block_verdict(scan, token, statement, attributes)))
        scan.verdicts[key] = sorted(found, key=lambda pair: pair[0].start_byte)
    return scan.verdicts[key]


def token_block_verdict(scan: FileScan, token: TokenBlock, statement: bool, attributes: bool) -> bool:
    """A block tree-sitter left as tokens: in a ``macro_rules!`` body or a macro argument."""
    ctx = scan.ctx
    lines = ctx.lines
    after_brace = ctx.data[token.body.start_byte + 1 : token.body.end_byte].decode(errors="replace")
    if comment_inside(after_brace):
        return True
    if token.container.type == "macro_definition":
        # clippy's window for expanded code starts after the `macro_rules!` line.
        return comment_above(lines, line_of(token.keyword), line_of(token.container), attributes=attributes)
    chain = ancestors_of(scan, token.container)
    window = body_window(scan, token.container, chain)
    if window == PRETEND:
        return True
    if comment_above(lines, line_of(token.keyword), window, attributes=attributes):
        return True
    if not (statement and safety_macros.passes_through(token)):
        return False
    target = statement_line(token.container, chain)
    return target is not None and comment_above(lines, target, window, attributes=attributes)


def unsafe_impl_verdicts(ctx: FileContext) -> list[tuple[tree_sitter.Node, bool]]:
    """Every ``unsafe impl`` with whether clippy would accept its comment.

    The comment must sit between the previous item (or the opening of the enclosing
    ``mod`` or block) and the impl; one-line attributes and doc comments may be between
    (attributes only with ``accept-comment-above-attributes``). Nothing inside the impl
    counts, and there is no statement rule.
    """
    if b"unsafe" not in ctx.data:
        return []
    _, attributes = options(ctx)
    scan = scan_of(ctx)
    key = ("impls", False, attributes)
    if key not in scan.verdicts:
        scan.verdicts[key] = _impl_verdicts(scan, attributes)
    return scan.verdicts[key]


def _impl_verdicts(scan: FileScan, attributes: bool) -> list[tuple[tree_sitter.Node, bool]]:
    ctx = scan.ctx
    found = []
    for item in scan.nodes("impl_item"):
        if not any(child.type == "unsafe" for child in item.children):
            continue
        window = item_window(scan, item)
        accepted = window == PRETEND or comment_above(ctx.lines, line_of(item), window, attributes=attributes)
        found.append((item, accepted))
    for keyword, definition in safety_macros.token_tree_impls(scan.nodes("macro_definition")):
        accepted = comment_above(ctx.lines, line_of(keyword), line_of(definition), attributes=attributes)
        found.append((keyword, accepted))
    return sorted(found, key=lambda pair: pair[0].start_byte)


def window_of(ctx: FileContext, node: tree_sitter.Node) -> int:
    """The window line for a block, ``unsafe`` token or ``unsafe impl`` (see the docstring)."""
    scan = scan_of(ctx)
    if node.type == "impl_item":
        return item_window(scan, node)
    if node.type == "unsafe":  # a token: in a macro body, a macro argument or an impl
        container = node.parent
        while container is not None and container.type not in ("macro_definition", "macro_invocation"):
            container = container.parent
        if container is None:
            return body_window(scan, node)
        return line_of(container) if container.type == "macro_definition" else body_window(scan, container)
    return body_window(scan, node)


def comment_line_fits(ctx: FileContext, node: tree_sitter.Node) -> bool:
    """Whether a ``// SAFETY:`` line inserted above ``node``'s line would be inside the window."""
    window = window_of(ctx, node)
    return window == PRETEND or window < line_of(node)


def unsafe_fn_verdicts(ctx: FileContext) -> list[tuple[tree_sitter.Node, bool]]:
    """Every ``unsafe fn`` item with whether its docs have a ``# Safety`` section.

    Counted: free functions, inherent methods, trait method declarations and defaults,
    with the ``unsafe`` keyword (also ``const``/``async``/``extern`` ones and ``unsafe fn``
    declarations in ``extern`` blocks). Not counted: methods of trait impls (their contract
    is the trait's, as in clippy's ``missing_safety_doc``) and functions in macro bodies.
    "Documented" uses clippy's heading test (``ruvopt.checks.safety.doc.has_safety_section``).
    """
    if b"unsafe" not in ctx.data:
        return []
    scan = scan_of(ctx)
    key = ("fns", False, False)
    if key not in scan.verdicts:
        found = []
        for kind in ("function_item", "function_signature_item"):
            for item in scan.nodes(kind):
                if safety_doc.is_unsafe_fn(item, ctx.data) and not safety_doc.in_trait_impl(item):
                    found.append((item, safety_doc.has_safety_section(item)))
        scan.verdicts[key] = sorted(found, key=lambda pair: pair[0].start_byte)
    return scan.verdicts[key]
